#include "service/browser_login_service.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "oauth/authorization_request.h"
#include "oauth/pkce.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

// Sign-ins started and not finished, kept at most (the oldest go first): anyone may start one, so
// storage must not grow with them. Ten thousand is far more than browsers signing in at once.
constexpr std::size_t kMaxPendingLoginFlows = 10000;

// RFC 7636 4.1: 43 characters of base64url from 256 bits; HMAC-SHA-256 keyed by the browser's
// secret binding cookie, so only the browser that started the sign-in can finish it and nothing
// secret is stored server-side.
core::Secret VerifierFor(std::string_view browser_binding) {
  return core::Secret(
      crypto::Base64UrlEncode(crypto::HmacSha256(browser_binding, "keybridge pkce v1")));
}

}  // namespace

BrowserLoginService::BrowserLoginService(core::BrowserSessionRepository& repository,
                                         ProviderGateway& gateway, identity::JwtVerifier& verifier,
                                         BrowserSessionService& sessions, core::Random& random,
                                         const core::Clock& clock, BrowserLoginOptions options)
    : repository_(repository),
      gateway_(gateway),
      verifier_(verifier),
      sessions_(sessions),
      random_(random),
      clock_(clock),
      options_(std::move(options)) {}

std::string BrowserLoginService::CookieName(std::string_view state) {
  return "kb_login_" + crypto::Sha256Hex(state).substr(0, 16);
}

core::Result<std::string> BrowserLoginService::CheckNextPath(const std::string& next) {
  if (next.empty()) {
    return std::string("/");
  }
  // A path on this origin only: "//host" and "/\host" are network-path references to another
  // host in browsers (open redirect, RFC 9700 4.11).
  if (next.front() != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))
      || next.size() > 2000
      || next.find_first_of(std::string_view("\r\n\t\0", 4)) != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "next must be a path on this site, such as /#/integrations");
  }
  return next;
}

std::string BrowserLoginService::CallbackUrl() const {
  return options_.public_urls.SignInCallback();
}

core::Provider BrowserLoginService::IssuerAsProvider() const {
  core::Provider provider;
  provider.id = core::ProviderId("keybridge-sign-in");
  provider.kind = core::ProviderKind::kGenericOidc;
  provider.client_id = options_.client_id;
  provider.client_secret = options_.client_secret;
  provider.display_name = "Sign-in";
  provider.scope = options_.scope;
  provider.url = options_.issuer;
  provider.use_pkce = true;
  provider.oidc_issuer_url = options_.issuer;
  return provider;
}

core::Result<StartedLogin> BrowserLoginService::Start(const std::string& next) {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::string next_path, CheckNextPath(next));
  const core::Provider issuer = IssuerAsProvider();
  KEYBRIDGE_ASSIGN_OR_RETURN(auto endpoints, gateway_.Endpoints(issuer));
  const core::Secret state = oauth::MakeState(random_);
  StartedLogin started;
  started.browser_binding = core::Secret(crypto::Base64UrlEncode(random_.Bytes(32)));
  started.cookie_name = CookieName(state.Reveal());
  core::BrowserLoginFlow flow;
  flow.state_hash = crypto::Sha256Hex(state.Reveal());
  flow.browser_binding_hash = crypto::Sha256Hex(started.browser_binding.Reveal());
  flow.next_path = std::move(next_path);
  flow.expires_at = clock_.Now() + options_.flow_lifetime;
  KEYBRIDGE_RETURN_IF_ERROR(repository_.InsertLoginFlow(flow, kMaxPendingLoginFlows));
  const std::string challenge =
      oauth::ChallengeFor(VerifierFor(started.browser_binding.Reveal()).Reveal());
  started.redirect_url =
      oauth::BuildAuthorizationUrl(issuer, endpoints, CallbackUrl(), state.Reveal(), &challenge);
  return started;
}

core::Result<CompletedLogin> BrowserLoginService::Complete(const LoginCallback& callback) {
  if (!callback.state || callback.state->empty()) {
    return MakeError(ErrorCode::kBadRequest, "The sign-in response has no state; start again.");
  }
  auto flow = repository_.TakeLoginFlow(crypto::Sha256Hex(*callback.state));
  if (!flow.ok()) {
    if (flow.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kBadRequest,
                       "This sign-in was already completed or is unknown; sign in again.");
    }
    return std::move(flow).TakeError();
  }
  if (clock_.Now() >= flow->expires_at) {
    return MakeError(ErrorCode::kBadRequest, "The sign-in took too long; sign in again.");
  }
  if (!callback.browser_binding
      || !crypto::ConstantTimeEquals(crypto::Sha256Hex(callback.browser_binding->Reveal()),
                                     flow->browser_binding_hash)) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "This sign-in was started in another browser; sign in again here.");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const oauth::ProviderEndpoints endpoints,
                             gateway_.Endpoints(IssuerAsProvider()));
  KEYBRIDGE_RETURN_IF_ERROR(oauth::CheckAuthorizationResponseIssuer(endpoints, callback.iss));
  if (callback.error) {
    return MakeError(
        ErrorCode::kBadRequest,
        "The identity provider refused the sign-in: " + callback.error->substr(0, 100)
            + (callback.error_description ? " (" + callback.error_description->substr(0, 300) + ")"
                                          : ""));
  }
  if (!callback.code) {
    return MakeError(ErrorCode::kBadRequest, "The sign-in response has no code; start again.");
  }
  const core::Secret verifier = VerifierFor(callback.browser_binding->Reveal());
  KEYBRIDGE_ASSIGN_OR_RETURN(
      core::TokenSet token,
      gateway_.ExchangeCode(IssuerAsProvider(), CallbackUrl(), *callback.code, &verifier));
  // The access token is what API clients present, so it is held to exactly the bearer rules; an
  // issuer whose access tokens are opaque or for another audience still signs in with its
  // id_token (audience = our client id), under the same signature, issuer and role rules.
  auto caller = verifier_.Verify(token.access_token.Reveal());
  if (!caller.ok() && token.id_token) {
    auto from_id_token =
        verifier_.Verify(token.id_token->Reveal(), identity::TokenUse::kSignInIdToken);
    if (from_id_token.ok()) {
      caller = std::move(from_id_token);
    }
  }
  if (!caller.ok()) {
    core::Error error = std::move(caller).TakeError();
    if (error.code == ErrorCode::kUnauthenticated) {
      error.message = "The identity provider's token was not accepted: " + error.message;
    }
    return error;
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(SignedIn session, sessions_.SignIn(*caller));
  spdlog::info("user {} signed in through the identity issuer", caller->user_id.value());
  return CompletedLogin{std::move(session), flow->next_path};
}

}  // namespace keybridge::service
