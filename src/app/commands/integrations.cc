// `keybridge integrations apply|list|check`: integrations as code (service/integration_file.h)
// and "Test this integration" (service::ProviderCheckService) from a shell.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/commands/commands.h"
#include "app/commands/store.h"
#include "app/integrations_file.h"
#include "core/clock.h"
#include "core/public_urls.h"
#include "net/curl_http_client.h"
#include "service/connection_service.h"
#include "service/integration_file.h"
#include "service/provider_check_service.h"
#include "service/provider_gateway.h"
#include "service/provider_matcher.h"
#include "service/provider_service.h"
#include "service/session_scope.h"
#include "service/token_service.h"

namespace keybridge::app {
namespace {

struct IntegrationsState {
  StoreOptions store;
  std::string file;
  bool prune = false;
  bool dry_run = false;
  std::string format = "table";
  std::string id;
  bool json = false;
  std::string public_url = "http://127.0.0.1:8080";
  std::string ca_file;
};

// The services an integration change goes through, wired as `keybridge serve` wires them, so a
// delete or a retarget revokes users' grants at the provider as the API's do.
struct Services {
  explicit Services(const IntegrationsState& state)
      : opened(OpenStoreOrThrow(state.store)),
        http(net::CurlHttpClient::Options{.ca_file = state.ca_file}),
        providers(*opened->store->providers, clock),
        gateway(http, clock),
        matcher(*opened->store->providers),
        scope(*opened->store->connections, matcher),
        tokens(*opened->store->connections, *opened->store->providers, gateway, clock, scope,
               service::TokenServiceOptions{.public_urls = core::PublicUrls(state.public_url)}),
        connections(*opened->store->connections, *opened->store->providers, *opened->store->flows,
                    gateway, tokens, opened->random, clock,
                    service::ConnectionServiceOptions{core::PublicUrls(state.public_url), {}}),
        checks(*opened->store->providers, http, clock,
               service::ProviderCheckServiceOptions{core::PublicUrls(state.public_url)}) {}

  std::unique_ptr<OpenedStore> opened;
  core::SystemClock clock;
  net::CurlHttpClient http;
  service::ProviderService providers;
  service::ProviderGateway gateway;
  service::ProviderMatcher matcher;
  service::SessionScopePolicy scope;
  service::TokenService tokens;
  service::ConnectionService connections;
  service::ProviderCheckService checks;
};

int Apply(Services& services, const IntegrationsState& state) {
  auto plan = PlanIntegrationsFile(state.file, state.prune, services.providers);
  if (!plan.ok()) {
    std::cerr << "error: " << plan.error().message << "\n";
    return 1;
  }
  std::cout << service::DescribePlan(*plan);
  if (state.dry_run || plan->empty()) {
    if (state.dry_run && !plan->empty()) {
      std::cerr << "dry run: nothing was changed\n";
    }
    return 0;
  }
  const core::Status applied =
      service::ApplyPlan(*plan, services.providers, IntegrationsFileCaller(), services.connections);
  if (!applied.ok()) {
    std::cerr << "error: " << applied.error().message << "\n";
    return 1;
  }
  std::cerr << "applied " << plan->changes.size() << " change(s)\n";
  return 0;
}

std::string ReferenceOf(const core::Provider& p) {
  if (!p.secret_reference) {
    return "";
  }
  return (p.secret_reference->source == core::SecretReference::Source::kFile ? "file:" : "env:")
         + p.secret_reference->value;
}

int List(Services& services, const IntegrationsState& state) {
  auto providers = services.providers.List();
  if (!providers.ok()) {
    std::cerr << "error: " << providers.error().message << "\n";
    return 1;
  }
  if (state.format == "file") {
    std::vector<std::string> placeholders;
    std::cout << service::FormatIntegrationFile(*providers, placeholders);
    for (const std::string& id : placeholders) {
      std::cerr << "note: " << id << " was not applied from an integrations file; its secret is "
                << "shown as the placeholder client_secret_env "
                << service::SecretPlaceholder(core::ProviderId(id))
                << ": set that variable or write the secret to a file\n";
    }
    return 0;
  }
  if (state.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const core::Provider& p : *providers) {
      nlohmann::json item = {{"id", p.id.value()},
                             {"kind", std::string(core::ToString(p.kind))},
                             {"display_name", p.display_name},
                             {"url", p.url},
                             {"client_id", p.client_id},
                             {"client_secret", p.client_secret ? "redacted" : ""},
                             {"scope", p.scope},
                             {"app_slug", p.app_slug},
                             {"use_pkce", p.use_pkce},
                             {"managed_by_file", p.managed_by_file}};
      if (p.image_registry_url) {
        item["image_registry_url"] = *p.image_registry_url;
      }
      if (p.oidc_issuer_url) {
        item["oidc_issuer_url"] = *p.oidc_issuer_url;
      }
      if (p.secret_reference) {
        item["secret_reference"] = ReferenceOf(p);
      }
      out.push_back(std::move(item));
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "ID\tKIND\tURL\tCLIENT_ID\tSECRET\tMANAGED_BY_FILE\n";
  for (const core::Provider& p : *providers) {
    std::cout << p.id.value() << "\t" << core::ToString(p.kind) << "\t" << p.url << "\t"
              << p.client_id << "\t" << (p.client_secret ? "set" : "not set") << "\t"
              << (p.managed_by_file ? "yes" : "no") << "\n";
  }
  return 0;
}

int Check(Services& services, const IntegrationsState& state) {
  auto report = services.checks.Check(IntegrationsFileCaller(), core::ProviderId(state.id));
  if (!report.ok()) {
    std::cerr << "error: " << report.error().message << "\n";
    return 2;
  }
  if (state.json) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& check : report->checks) {
      nlohmann::json item = {{"id", check.id},
                             {"title", check.title},
                             {"status", std::string(oauth::ToString(check.status))},
                             {"detail", check.detail}};
      if (!check.fix.empty()) {
        item["fix"] = check.fix;
      }
      checks.push_back(std::move(item));
    }
    std::cout << nlohmann::json{{"provider_id", report->provider_id.value()},
                                {"ok", report->ok},
                                {"checks", std::move(checks)}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "CHECK\tSTATUS\tDETAIL\tFIX\n";
    for (const auto& check : report->checks) {
      std::cout << check.id << "\t" << oauth::ToString(check.status) << "\t" << check.detail << "\t"
                << check.fix << "\n";
    }
  }
  return report->ok ? 0 : 1;
}

}  // namespace

Command AddIntegrationsCommand(CLI::App& cli) {
  auto state = std::make_shared<IntegrationsState>();
  auto* integrations =
      cli.add_subcommand("integrations", "Integrations as code: apply a file, list, check");
  integrations->require_subcommand(1);
  auto* apply = integrations->add_subcommand(
      "apply", "Make the stored integrations match an integrations file (JSON)");
  apply->add_option("-f,--file", state->file, "The integrations file")->required();
  apply->add_flag("--prune", state->prune, "Also delete integrations the file does not list");
  apply->add_flag("--dry-run", state->dry_run, "Print the plan and change nothing");
  auto* list = integrations->add_subcommand("list", "List the integrations (never a secret)");
  list->add_option("--format", state->format, "table, json, or file (the apply format)")
      ->check(CLI::IsMember({"table", "json", "file"}))
      ->capture_default_str();
  auto* check = integrations->add_subcommand(
      "check", "Test an integration as the web UI does; exit status 1 if a check fails");
  check->add_option("id", state->id, "Integration id")->required();
  check->add_flag("--json", state->json, "Print the checklist as JSON");
  for (CLI::App* command : {apply, list, check}) {
    AddStoreOptions(*command, state->store);
    command
        ->add_option("--public-url", state->public_url,
                     "keybridge's public URL (the OAuth callback the checks expect)")
        ->envname("KEYBRIDGE_PUBLIC_URL")
        ->capture_default_str();
    command
        ->add_option("--ca-file", state->ca_file,
                     "Extra trusted CA certificates (PEM) for self-hosted providers")
        ->envname("KEYBRIDGE_CA_FILE");
  }
  return {integrations, [state, apply, list] {
            Services services(*state);
            if (apply->parsed()) {
              return Apply(services, *state);
            }
            if (list->parsed()) {
              return List(services, *state);
            }
            return Check(services, *state);
          }};
}

}  // namespace keybridge::app
