#include "service/integration_trial_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <variant>

#include "core/repository_match.h"
#include "core/text.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "oauth/authorization_request.h"
#include "oauth/pkce.h"
#include "oauth/repository.h"
#include "service/provider_service.h"
#include "service/ulid.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

constexpr std::string_view kPass = "pass";
constexpr std::string_view kFail = "fail";
constexpr std::string_view kSkip = "skip";

core::TrialStage Stage(std::string_view id, std::string_view status, std::string detail,
                       std::string fix = {}) {
  return core::TrialStage{std::string(id), std::string(status), std::move(detail), std::move(fix)};
}

std::string TitleOf(std::string_view id) {
  static constexpr std::pair<std::string_view, std::string_view> kTitles[] = {
      {kTrialReachedProvider, "The browser reached the provider"},
      {kTrialCameBack, "The provider sent the browser back"},
      {kTrialCodeExchange, "Code exchange"},
      {kTrialAccount, "Account"},
      {kTrialRepository, "Repository"},
      {kTrialKept, "Connection kept"}};
  for (const auto& [known, title] : kTitles) {
    if (known == id) {
      return std::string(title);
    }
  }
  return std::string(id);
}

oauth::CheckStatus StatusOf(std::string_view text) {
  for (const auto status :
       {oauth::CheckStatus::kPass, oauth::CheckStatus::kFail, oauth::CheckStatus::kWarn}) {
    if (oauth::ToString(status) == text) {
      return status;
    }
  }
  return oauth::CheckStatus::kSkip;
}

oauth::CheckResult Check(std::string_view id, oauth::CheckStatus status, std::string detail,
                         std::string fix = {}) {
  return oauth::CheckResult{std::string(id), TitleOf(id), status, std::move(detail),
                            std::move(fix)};
}

std::string ProviderName(const core::Provider& provider) {
  if (!provider.display_name.empty()) {
    return provider.display_name;
  }
  return provider.kind == core::ProviderKind::kGitLab ? "GitLab" : provider.id.value();
}

// OAuth error values are ASCII tokens (RFC 6749 4.1.2.1); anything else is not echoed.
std::string SanitizeErrorCode(const std::string& error) {
  std::string out;
  for (char c : error.substr(0, 64)) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.') {
      out += c;
    }
  }
  return out.empty() ? "server_error" : out;
}

// What to change for an error the provider sent back instead of a code (RFC 6749 4.1.2.1).
std::string FixForAuthorizationError(std::string_view error, const core::Provider& provider) {
  if (error == "invalid_scope") {
    return "The integration's scope (\"" + provider.scope
           + "\") names a scope the provider does not know or the application does not allow: "
             "remove the scopes the \"scopes\" check of \"Test this integration\" flags, or "
             "enable them in the provider's application.";
  }
  if (error == "access_denied") {
    return "You (the administrator) declined at the provider's consent screen. Try again and "
           "choose Authorize.";
  }
  if (error == "unauthorized_client") {
    return "The provider's application may not use the authorization code grant: enable it in "
           "the application.";
  }
  return "Read the provider's description above; then run \"Test this integration\".";
}

// The error pages GitLab (Doorkeeper, handle_auth_errors :render) shows instead of sending the
// browser back: tests/fakes/fake_gitlab_wire.h lists their exact texts.
std::string WaitingFix(const core::Provider& provider, const std::string& callback) {
  if (provider.kind == core::ProviderKind::kGitLab) {
    return "If GitLab showed \"The redirect URI included is not valid.\": in the GitLab "
           "application (Admin area → Applications, or User settings → Applications) set the "
           "callback URL to exactly "
           + callback
           + " . If it showed \"The requested scope is invalid, unknown, or malformed.\": remove "
             "the scopes the \"scopes\" check of \"Test this integration\" flags from the "
             "integration's scope, or enable them in the GitLab application. If it showed "
             "\"Client authentication failed due to unknown client, no client authentication "
             "included, or unsupported authentication method.\": set client_id to the "
             "application's Application ID.";
  }
  return "If the provider showed an error page: register exactly " + callback
         + " as the application's redirect (callback) URL, make sure the integration's scope "
           "lists only scopes the provider knows, and check that client_id names the "
           "application.";
}

}  // namespace

IntegrationTrialService::IntegrationTrialService(core::IntegrationTrialRepository& trials,
                                                 core::ProviderRepository& providers,
                                                 core::ConnectionRepository& connections,
                                                 ProviderGateway& gateway,
                                                 core::HttpClient& provider_http,
                                                 core::Random& random, const core::Clock& clock,
                                                 IntegrationTrialOptions options)
    : trials_(trials),
      providers_(providers),
      connections_(connections),
      gateway_(gateway),
      provider_http_(provider_http),
      random_(random),
      clock_(clock),
      options_(std::move(options)) {}

core::Result<CreatedTrial> IntegrationTrialService::Create(const core::Caller& caller,
                                                           const core::ProviderId& provider_id,
                                                           const std::string& repository_url,
                                                           bool keep) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireAdmin(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::Provider provider, providers_.Find(provider_id));
  if (!repository_url.empty()) {
    const auto parsed = core::ParseRepositoryUrl(repository_url);
    const auto* repository = std::get_if<core::RepositoryUrl>(&parsed);
    if (repository == nullptr || !core::ServesRepositories(provider)
        || !core::MatchProvider({provider}, repository->url)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "repository_url must be the URL of a repository on this integration ("
                           + provider.url + ")");
    }
  }
  const core::TimePoint now = clock_.Now();
  if (auto purged = trials_.DeleteCreatedBefore(now - options_.retention); !purged.ok()) {
    spdlog::warn("could not delete old integration trials: {}", purged.error().message);
  }
  core::IntegrationTrial trial;
  trial.id = NewUlid(clock_, random_);
  trial.provider_id = provider.id;
  trial.user_id = caller.user_id;
  trial.repository_url = repository_url;
  trial.keep = keep;
  trial.created_at = now;
  trial.expires_at = now + options_.lifetime;
  KEYBRIDGE_RETURN_IF_ERROR(trials_.Insert(trial));
  spdlog::info("administrator {} created trial {} of integration {} (keep: {})",
               caller.user_id.value(), trial.id, provider.id.value(), keep);
  return CreatedTrial{trial.id, options_.public_urls.Authorize(provider.id) + "?trial=" + trial.id};
}

core::Result<core::IntegrationTrial> IntegrationTrialService::OwnTrial(
    const core::Caller& caller, const core::ProviderId& provider_id, const std::string& trial_id) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireAdmin(caller));
  auto trial = trials_.Find(trial_id);
  if (!trial.ok()) {
    return std::move(trial).TakeError();
  }
  if (trial->provider_id != provider_id) {
    return MakeError(ErrorCode::kNotFound, "This trial does not exist.");
  }
  if (trial->user_id != caller.user_id) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "This trial belongs to another administrator; start your own.");
  }
  return trial;
}

core::Result<StartedAuthorization> IntegrationTrialService::StartAuthorization(
    const core::Caller& caller, const core::ProviderId& provider_id, const std::string& trial_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::IntegrationTrial trial,
                             OwnTrial(caller, provider_id, trial_id));
  if (trial.started_at) {
    return MakeError(ErrorCode::kBadRequest,
                     "This trial's link was already used. Start a new trial with \"Try "
                     "connecting\".");
  }
  if (trial.expires_at <= clock_.Now()) {
    return MakeError(ErrorCode::kBadRequest,
                     "This trial expired (its link is valid for "
                         + std::to_string(options_.lifetime.count() / 60)
                         + " minutes). Start a new trial with \"Try connecting\".");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::Provider provider, providers_.Find(provider_id));
  KEYBRIDGE_ASSIGN_OR_RETURN(const auto endpoints, gateway_.Endpoints(provider));
  const core::Secret state = oauth::MakeState(random_);
  StartedAuthorization started;
  started.browser_binding = core::Secret(crypto::Base64UrlEncode(random_.Bytes(32)));
  started.cookie_name = ConnectionService::FlowCookieName(state.Reveal());
  core::TrialFlow flow;
  flow.state_hash = crypto::Sha256Hex(state.Reveal());
  flow.browser_binding_hash = crypto::Sha256Hex(started.browser_binding.Reveal());
  std::optional<oauth::Pkce> pkce;
  if (provider.use_pkce) {
    pkce = oauth::MakePkce(random_);
    flow.code_verifier = pkce->verifier;
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const bool first, trials_.Start(trial.id, flow, clock_.Now()));
  if (!first) {
    return MakeError(ErrorCode::kBadRequest,
                     "This trial's link was already used. Start a new trial with \"Try "
                     "connecting\".");
  }
  started.redirect_url =
      oauth::BuildAuthorizationUrl(provider, endpoints, options_.public_urls.OAuthCallback(),
                                   state.Reveal(), pkce ? &pkce->challenge : nullptr);
  spdlog::info("trial {} of integration {} sent the browser to the provider", trial.id,
               provider.id.value());
  return started;
}

std::optional<core::Result<CompletedAuthorization>> IntegrationTrialService::CompleteAuthorization(
    const CallbackParameters& params) {
  if (!params.state || params.state->empty()) {
    return std::nullopt;
  }
  auto taken = trials_.TakeFlow(crypto::Sha256Hex(*params.state));
  if (!taken.ok()) {
    if (taken.error().code == ErrorCode::kNotFound) {
      return std::nullopt;  // a connect's state (or an unknown one: the connect flow answers)
    }
    return core::Result<CompletedAuthorization>(std::move(taken).TakeError());
  }
  // Named copies, not a structured binding: lambdas below capture them (clang 14).
  const core::IntegrationTrial trial = std::move(taken->first);
  const core::TrialFlow flow = std::move(taken->second);
  const CompletedAuthorization back{options_.public_urls.base() + "/#/admin?trial=" + trial.id};
  std::vector<core::TrialStage> stages;
  const auto finish = [&]() -> core::Result<CompletedAuthorization> {
    KEYBRIDGE_RETURN_IF_ERROR(trials_.Finish(trial.id, stages, clock_.Now()));
    return back;
  };
  const auto refused = [&](std::string detail, std::string fix) {
    stages.push_back(Stage(kTrialCameBack, kFail, std::move(detail), std::move(fix)));
    return finish();
  };
  if (!trial.started_at || *trial.started_at + options_.lifetime <= clock_.Now()) {
    return refused("The browser came back after more than "
                       + std::to_string(options_.lifetime.count() / 60) + " minutes.",
                   "Start a new trial and complete it without a long pause.");
  }
  // RFC 6749 10.12: only the browser that opened the link may complete the trial.
  if (!params.browser_binding
      || !crypto::ConstantTimeEquals(crypto::Sha256Hex(params.browser_binding->Reveal()),
                                     flow.browser_binding_hash)) {
    spdlog::warn("callback of trial {} came from another browser; refused", trial.id);
    return refused(
        "The browser that came back is not the one that opened the link (or it "
        "blocks cookies).",
        "Open the link and complete the sign-in in the same browser.");
  }
  if (params.caller.IsAuthenticated() && params.caller.user_id != trial.user_id) {
    return refused("Another user completed this trial.",
                   "Complete it as the administrator "
                   "who started it.");
  }
  auto provider = providers_.Find(trial.provider_id);
  if (!provider.ok()) {
    return core::Result<CompletedAuthorization>(std::move(provider).TakeError());
  }
  if (params.error) {
    const std::string error = SanitizeErrorCode(*params.error);
    const std::string description = core::TruncateUtf8(params.error_description.value_or(""), 300);
    spdlog::info("trial {}: provider {} sent an authorization error: {}", trial.id,
                 provider->id.value(), error);
    return refused(ProviderName(*provider) + " sent the browser back with the error " + error
                       + (description.empty() ? "" : ": " + description),
                   FixForAuthorizationError(error, *provider));
  }
  if (!params.code || params.code->empty()) {
    return refused(ProviderName(*provider) + " sent the browser back with neither a code nor an "
                                             "error.",
                   "Run \"Test this integration\" and check the provider's application.");
  }
  auto endpoints = gateway_.Endpoints(*provider);
  if (!endpoints.ok()) {
    return refused(endpoints.error().message, "Run \"Test this integration\".");
  }
  // RFC 9207 (mix-up defence, RFC 9700 4.4): the code goes only to the flow's provider.
  if (core::Status issuer = oauth::CheckAuthorizationResponseIssuer(*endpoints, params.iss);
      !issuer.ok()) {
    return refused(issuer.error().message, "Check the integration's OIDC issuer URL.");
  }
  stages.push_back(Stage(kTrialCameBack, kPass,
                         ProviderName(*provider) + " sent the browser back to "
                             + options_.public_urls.OAuthCallback() + " with a code."));
  auto token = gateway_.ExchangeCode(*provider, options_.public_urls.OAuthCallback(), *params.code,
                                     flow.code_verifier ? &*flow.code_verifier : nullptr);
  if (!token.ok()) {
    spdlog::warn("trial {}: code exchange with provider {} failed: {}", trial.id,
                 provider->id.value(), token.error().message);
    stages.push_back(Stage(
        kTrialCodeExchange, kFail,
        ProviderName(*provider) + " refused the code: " + token.error().message,
        token.error().code == ErrorCode::kUnavailable
            ? "The provider did not answer; try again later."
            : "Check client_id and client_secret (\"Test this integration\" checks them) and that "
              "the application's redirect URI is exactly "
                  + options_.public_urls.OAuthCallback() + "."));
    return finish();
  }
  RunAfterCallback(trial, *provider, *token, stages);
  return finish();
}

void IntegrationTrialService::RunAfterCallback(const core::IntegrationTrial& trial,
                                               const core::Provider& provider,
                                               const core::TokenSet& token,
                                               std::vector<core::TrialStage>& stages) {
  std::string issued = ProviderName(provider) + " issued an access token";
  issued += token.refresh_token ? " and a refresh token" : " without a refresh token";
  if (!token.scope.empty()) {
    issued += " (scope: " + token.scope + ")";
  }
  stages.push_back(Stage(kTrialCodeExchange, kPass, issued + "."));

  auto account = gateway_.Account(provider, token.access_token);
  if (account.ok()) {
    stages.push_back(Stage(kTrialAccount, kPass, "Signed in as " + account->username + "."));
  } else {
    stages.push_back(Stage(kTrialAccount, kFail,
                           "The token cannot read the account: " + account.error().message,
                           "Make sure the integration's scope lets the token read the user "
                           "(GitLab: read_user, read_api or api)."));
  }
  auto endpoints = gateway_.Endpoints(provider);
  if (trial.repository_url.empty()) {
    stages.push_back(Stage(kTrialRepository, kSkip, "No repository URL was given."));
  } else if (!endpoints.ok()) {
    stages.push_back(Stage(kTrialRepository, kFail, endpoints.error().message));
  } else {
    stages.push_back(ReadRepository(trial, provider, *endpoints, token.access_token));
  }

  if (trial.keep) {
    stages.push_back(Keep(trial, provider, token));
    return;
  }
  const core::Status revoked = gateway_.Revoke(provider, token);
  if (revoked.ok()) {
    stages.push_back(Stage(kTrialKept, kSkip,
                           "Not kept: the tokens were revoked at " + ProviderName(provider)
                               + " and nothing was stored."));
  } else {
    spdlog::warn("trial {}: could not revoke the trial's tokens at provider {}: {}", trial.id,
                 provider.id.value(), revoked.error().message);
    stages.push_back(Stage(kTrialKept, kSkip,
                           "Not kept: nothing was stored, but revoking the tokens at "
                               + ProviderName(provider) + " failed: " + revoked.error().message,
                           "Revoke keybridge's access in your account's applications page at "
                           "the provider."));
  }
}

core::TrialStage IntegrationTrialService::ReadRepository(const core::IntegrationTrial& trial,
                                                         const core::Provider& provider,
                                                         const oauth::ProviderEndpoints& endpoints,
                                                         const core::Secret& access_token) {
  const auto parsed = core::ParseRepositoryUrl(trial.repository_url);
  const auto* repository = std::get_if<core::RepositoryUrl>(&parsed);
  const auto match =
      repository != nullptr ? core::MatchProvider({provider}, repository->url) : std::nullopt;
  if (!match) {
    return Stage(kTrialRepository, kFail,
                 trial.repository_url + " is not a repository on this integration.");
  }
  auto request =
      oauth::BuildRepositoryRequest(provider, endpoints, match->repository_path, &access_token, "");
  if (!request.ok()) {
    return Stage(kTrialRepository, kFail, request.error().message);
  }
  auto response = provider_http_.Send(*request);
  if (!response.ok()) {
    return Stage(kTrialRepository, kFail,
                 ProviderName(provider) + " did not answer: " + response.error().message,
                 "Try again later.");
  }
  const oauth::RepositoryLookup lookup = oauth::ParseRepositoryResponse(provider.kind, *response);
  switch (lookup.outcome) {
    case oauth::RepositoryLookupOutcome::kFound:
    case oauth::RepositoryLookupOutcome::kNotModified: {
      std::string detail = "The token reads " + trial.repository_url + ": ";
      detail += lookup.metadata.pull_permission ? "pull" : "no pull";
      detail += lookup.metadata.push_permission.value_or(false) ? " and push." : ", no push.";
      return Stage(kTrialRepository, lookup.metadata.pull_permission ? kPass : kFail, detail,
                   lookup.metadata.pull_permission
                       ? ""
                       : "Give the account at least Reporter access to the project.");
    }
    case oauth::RepositoryLookupOutcome::kUnauthorized:
      return Stage(kTrialRepository, kFail,
                   ProviderName(provider) + " refused the token for the repository (401).",
                   "Add a scope that reads repositories (GitLab: read_api or api).");
    case oauth::RepositoryLookupOutcome::kNotFound:
      return Stage(kTrialRepository, kFail,
                   ProviderName(provider) + " says the repository does not exist or the account "
                                            "cannot see it (404).",
                   "Check the URL and that the account is a member of the project; GitLab: the "
                   "scope needs read_api or api.");
    case oauth::RepositoryLookupOutcome::kInvalidBody:
    case oauth::RepositoryLookupOutcome::kFailed:
      break;
  }
  return Stage(kTrialRepository, kFail,
               ProviderName(provider) + " answered HTTP " + std::to_string(lookup.http_status)
                   + " for the repository.");
}

core::TrialStage IntegrationTrialService::Keep(const core::IntegrationTrial& trial,
                                               const core::Provider& provider,
                                               const core::TokenSet& token) {
  // As a connect does: the administrator's own (user, integration) connection, pending or
  // connected, receives the token; no other user's connection can be named here.
  core::Connection candidate;
  candidate.id = core::ConnectionId(NewUlid(clock_, random_));
  candidate.user_id = trial.user_id;
  candidate.provider_id = provider.id;
  candidate.status = core::ConnectionStatus::kPending;
  candidate.created_at = clock_.Now();
  candidate.updated_at = candidate.created_at;
  auto connection = connections_.FindOrInsert(candidate);
  if (connection.ok()) {
    auto stored = connections_.StoreToken(connection->id, token, clock_.Now());
    if (stored.ok()) {
      spdlog::info("trial {} kept connection {} to provider {}", trial.id, connection->id.value(),
                   provider.id.value());
      return Stage(kTrialKept, kPass,
                   "Your connection to " + ProviderName(provider) + " is stored (connection "
                       + connection->id.value() + ").");
    }
    connection = core::Result<core::Connection>(std::move(stored).TakeError());
  }
  return Stage(kTrialKept, kFail,
               "The connection could not be stored: " + connection.error().message,
               "Connect from the Integrations page.");
}

core::Result<TrialReport> IntegrationTrialService::Get(const core::Caller& caller,
                                                       const core::ProviderId& provider_id,
                                                       const std::string& trial_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::IntegrationTrial trial,
                             OwnTrial(caller, provider_id, trial_id));
  auto provider = providers_.Find(provider_id);
  const core::Provider* known = provider.ok() ? &*provider : nullptr;
  const std::string name = known != nullptr ? ProviderName(*known) : provider_id.value();
  TrialReport report;
  report.id = trial.id;
  report.done = trial.finished_at.has_value();
  report.started_at = trial.started_at;
  if (trial.started_at) {
    report.checks.push_back(Check(kTrialReachedProvider, oauth::CheckStatus::kPass,
                                  "keybridge sent the browser to " + name + " at "
                                      + core::FormatIso8601(*trial.started_at) + "."));
  } else if (trial.expires_at <= clock_.Now()) {
    report.checks.push_back(Check(kTrialReachedProvider, oauth::CheckStatus::kFail,
                                  "The trial's link was not opened within "
                                      + std::to_string(options_.lifetime.count() / 60)
                                      + " minutes.",
                                  "Start a new trial with \"Try connecting\"."));
  } else {
    report.checks.push_back(Check(kTrialReachedProvider, oauth::CheckStatus::kSkip,
                                  "Waiting for the browser to open the trial's link."));
  }
  const std::string waiting = "Waiting for " + name + " to send the browser back.";
  for (const std::string_view id :
       {kTrialCameBack, kTrialCodeExchange, kTrialAccount, kTrialRepository, kTrialKept}) {
    const auto stored = std::find_if(trial.stages.begin(), trial.stages.end(),
                                     [&](const core::TrialStage& s) { return s.id == id; });
    if (stored != trial.stages.end()) {
      report.checks.push_back(Check(id, StatusOf(stored->status), stored->detail, stored->fix));
    } else if (!report.done && id == kTrialCameBack) {
      report.checks.push_back(Waiting(trial, known));
    } else if (!report.done) {
      report.checks.push_back(Check(id, oauth::CheckStatus::kSkip, waiting));
    } else {
      report.checks.push_back(
          Check(id, oauth::CheckStatus::kSkip, "Not reached: an earlier stage failed."));
    }
  }
  return report;
}

oauth::CheckResult IntegrationTrialService::Waiting(const core::IntegrationTrial& trial,
                                                    const core::Provider* provider) {
  const std::string name = provider != nullptr ? ProviderName(*provider) : "the provider";
  const std::string callback = options_.public_urls.OAuthCallback();
  core::Provider fallback;
  if (!trial.started_at || clock_.Now() - *trial.started_at < options_.waiting_advice_after) {
    // An administrator who came back by hand from the provider's error page needs the fix now,
    // not in three minutes: until then it is a warning, since the round trip may still finish.
    return Check(kTrialCameBack, oauth::CheckStatus::kWarn,
                 "Waiting for " + name
                     + " to send the browser back. If it showed an error page instead, its "
                       "application does not match the integration.",
                 WaitingFix(provider != nullptr ? *provider : fallback, callback));
  }
  return Check(kTrialCameBack, oauth::CheckStatus::kFail,
               "The browser has not come back from " + name + " for more than "
                   + std::to_string(options_.waiting_advice_after.count() / 60)
                   + " minutes. A provider shows an error page instead of sending the browser "
                     "back when its application does not match the integration.",
               WaitingFix(provider != nullptr ? *provider : fallback, callback));
}

}  // namespace keybridge::service
