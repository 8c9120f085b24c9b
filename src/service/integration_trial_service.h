// IntegrationTrialService: "Try connecting", the one-click round trip of "Test this integration".
// Server-side checks cannot see what only a signed-in browser sees: a GitLab application whose
// redirect URI is not exactly keybridge's callback, or a scope it does not know, answers with an
// error page at the provider, and the browser never comes back. An administrator creates a trial,
// opens its authorize link, and the real authorize -> provider -> callback round trip runs with
// the connect flow's machinery (256-bit single-use state, PKCE, a per-flow browser cookie: RFC 6749
// 4.1, RFC 7636, RFC 9700); the callback records each stage, exchanges the code, reads the account
// (and a repository), then revokes the tokens (RFC 7009) and stores nothing, unless the
// administrator asked to keep the connection. Trials live in the database (another replica may
// receive the callback). Tokens, codes and verifiers are never logged, stored in plaintext or
// returned.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/http_client.h"
#include "core/public_urls.h"
#include "core/random.h"
#include "core/repositories.h"
#include "core/result.h"
#include "oauth/provider_check.h"
#include "service/connection_service.h"
#include "service/provider_gateway.h"

namespace keybridge::service {

// Stage ids of a trial's report, in order. They are API: the UI keys its checklist on them.
inline constexpr std::string_view kTrialReachedProvider = "reached_provider";
inline constexpr std::string_view kTrialCameBack = "came_back";
inline constexpr std::string_view kTrialCodeExchange = "code_exchange";
inline constexpr std::string_view kTrialAccount = "account";
inline constexpr std::string_view kTrialRepository = "repository";
inline constexpr std::string_view kTrialKept = "kept";

struct IntegrationTrialOptions {
  core::PublicUrls public_urls;  // the callback, and the admin page the browser returns to
  // The authorize link must be opened within this, and the browser must come back within this
  // after it was sent to the provider (as a connect's flow).
  core::Seconds lifetime{600};
  // A started trial still waiting after this names the provider's error pages and their fixes.
  core::Seconds waiting_advice_after{180};
  core::Seconds retention{86400};  // trials older than this are deleted
};

struct CreatedTrial {
  std::string id;
  std::string authorize_url;  // <public-url>/api/data/oauth2/providers/{id}/authorize?trial=<id>
};

struct TrialReport {
  std::string id;
  bool done = false;                          // the callback recorded its outcome
  std::optional<core::TimePoint> started_at;  // when the browser was sent to the provider
  // reached_provider, came_back, code_exchange, account, repository, kept: always, in order.
  std::vector<oauth::CheckResult> checks;
};

class IntegrationTrialService {
 public:
  // Every reference must outlive the service. `provider_http` reads the repository with the
  // trial's token (administrator-configured provider URLs only). Thread-safe.
  IntegrationTrialService(core::IntegrationTrialRepository& trials,
                          core::ProviderRepository& providers,
                          core::ConnectionRepository& connections, ProviderGateway& gateway,
                          core::HttpClient& provider_http, core::Random& random,
                          const core::Clock& clock, IntegrationTrialOptions options);

  // Admins only. kNotFound (integration), kInvalidArgument (a repository URL this integration
  // does not serve, or one that is not a repository URL).
  core::Result<CreatedTrial> Create(const core::Caller& caller, const core::ProviderId& provider_id,
                                    const std::string& repository_url, bool keep);
  // authorize?trial=<id>: only the trial's administrator, once, within `lifetime` of creation.
  // kPermissionDenied (another administrator's trial), kNotFound, kBadRequest (expired, used).
  core::Result<StartedAuthorization> StartAuthorization(const core::Caller& caller,
                                                        const core::ProviderId& provider_id,
                                                        const std::string& trial_id);
  // The callback, when `params.state` is a trial's (nullopt otherwise: a connect's callback).
  // Records the stages and redirects to <public-url>/#/admin?trial=<id> whatever the outcome.
  std::optional<core::Result<CompletedAuthorization>> CompleteAuthorization(
      const CallbackParameters& params);
  // The trial's checks; kPermissionDenied for another administrator's trial, kNotFound.
  core::Result<TrialReport> Get(const core::Caller& caller, const core::ProviderId& provider_id,
                                const std::string& trial_id);

 private:
  core::Result<core::IntegrationTrial> OwnTrial(const core::Caller& caller,
                                                const core::ProviderId& provider_id,
                                                const std::string& trial_id);
  // The stages after came_back passed: code exchange, account, repository, revoke or keep.
  void RunAfterCallback(const core::IntegrationTrial& trial, const core::Provider& provider,
                        const core::TokenSet& token, std::vector<core::TrialStage>& stages);
  core::TrialStage ReadRepository(const core::IntegrationTrial& trial,
                                  const core::Provider& provider,
                                  const oauth::ProviderEndpoints& endpoints,
                                  const core::Secret& access_token);
  core::TrialStage Keep(const core::IntegrationTrial& trial, const core::Provider& provider,
                        const core::TokenSet& token);
  // What a trial still waiting for its callback shows as came_back.
  oauth::CheckResult Waiting(const core::IntegrationTrial& trial, const core::Provider* provider);

  core::IntegrationTrialRepository& trials_;
  core::ProviderRepository& providers_;
  core::ConnectionRepository& connections_;
  ProviderGateway& gateway_;
  core::HttpClient& provider_http_;
  core::Random& random_;
  const core::Clock& clock_;
  const IntegrationTrialOptions options_;
};

}  // namespace keybridge::service
