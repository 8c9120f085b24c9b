#include "routes/integration_trial_routes.h"

#include <nlohmann/json.hpp>

#include "routes/json_body.h"
#include "routes/provider_routes.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kTrials = "/api/data/oauth2/providers/{provider_id}/trial";
constexpr const char* kTrial = "/api/data/oauth2/providers/{provider_id}/trial/{trial_id}";

core::ProviderId PathProviderId(const http::Request& request) {
  return core::ProviderId(request.PathParam("provider_id"));
}

json ReportToJson(const service::TrialReport& report) {
  return {{"id", report.id},
          {"state", report.done ? "done" : "waiting"},
          {"started_at",
           report.started_at ? json(core::FormatIso8601(*report.started_at)) : json(nullptr)},
          {"checks", ChecklistToJson(report.checks)}};
}

}  // namespace

void AddIntegrationTrialRoutes(RouteTable& routes, service::IntegrationTrialService& trials) {
  routes.Add(
      "POST", kTrials, Access::kAdmin, Compartment::kDatabase,
      [&trials](http::Request& request) -> core::Result<http::Response> {
        json body = json::object();
        if (!request.body.empty()) {
          KEYBRIDGE_ASSIGN_OR_RETURN(body, ParseJsonObject(request));
        }
        KEYBRIDGE_RETURN_IF_ERROR(RejectUnknownFields(body, {"repository_url", "keep"}));
        KEYBRIDGE_ASSIGN_OR_RETURN(const auto repository_url,
                                   OptionalString(body, "repository_url"));
        KEYBRIDGE_ASSIGN_OR_RETURN(const auto keep, OptionalBool(body, "keep"));
        KEYBRIDGE_ASSIGN_OR_RETURN(
            const auto created, trials.Create(request.caller, PathProviderId(request),
                                              repository_url.value_or(""), keep.value_or(false)));
        return JsonResponse(201, {{"id", created.id}, {"authorize_url", created.authorize_url}});
      });

  routes.Add("GET", kTrial, Access::kAdmin, Compartment::kDatabase,
             [&trials](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const auto report,
                                          trials.Get(request.caller, PathProviderId(request),
                                                     request.PathParam("trial_id")));
               return std::move(
                   JsonResponse(200, ReportToJson(report)).WithHeader("Cache-Control", "no-store"));
             });
}

}  // namespace keybridge::routes
