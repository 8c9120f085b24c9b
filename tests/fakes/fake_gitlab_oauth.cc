// FakeGitLab's Doorkeeper endpoints: /oauth/authorize, /oauth/token (code and refresh grants),
// /oauth/revoke and /oauth/token/info.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "core/url.h"
#include "crypto/hash.h"
#include "fakes/fake_gitlab.h"
#include "fakes/fake_gitlab_wire.h"

namespace keybridge::fakes {

using namespace gitlab_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

http::Response FakeGitLab::Authorize(http::Request& /*request*/, const FormFields& params,
                                     std::string_view decision) {
  const auto param = [&](std::string_view name) {
    return FindField(params, name);
  };
  const std::lock_guard lock(mutex_);
  // Doorkeeper's pre-authorization checks, in its order. GitLab keeps `handle_auth_errors
  // :render`, so all of them render a page; only consent and denial redirect.
  if (param("client_id").value_or("") != options_.client_id || options_.client_id.empty()) {
    return HtmlPage(401, kErrorPageTitle, kInvalidClient);
  }
  const auto redirect_uri = param("redirect_uri");
  if (!redirect_uri || redirect_uri->empty()) {
    return HtmlPage(400, kErrorPageTitle, MissingParam("redirect_uri"));
  }
  if (!Contains(options_.redirect_uris, *redirect_uri)) {
    return HtmlPage(400, kErrorPageTitle, kInvalidRedirectUri);
  }
  if (param("response_type").value_or("") != "code") {
    return HtmlPage(400, kErrorPageTitle, kUnsupportedResponseType);
  }
  const std::string requested = param("scope").value_or("");
  std::vector<std::string> scopes = SplitScopes(requested.empty() ? default_scope_ : requested);
  if (scopes.empty() || !std::all_of(scopes.begin(), scopes.end(), [&](const std::string& s) {
        return Contains(allowed_scopes_, s);
      })) {
    return HtmlPage(400, kErrorPageTitle, kInvalidScope);
  }
  const std::string challenge = param("code_challenge").value_or("");
  const std::string method = param("code_challenge_method").value_or("");
  if (!challenge.empty() && method != "S256" && method != "plain") {
    return HtmlPage(400, kErrorPageTitle, kInvalidCodeChallengeMethod);
  }

  const auto state = param("state");
  FormFields back;
  if (decision == "deny" || (decision.empty() && deny_consent_)) {
    back = {{"error", "access_denied"}, {"error_description", std::string(kAccessDenied)}};
    if (state) {
      back.emplace_back("state", *state);
    }
    return http::Response::Redirect(AppendQuery(*redirect_uri, back));
  }
  if (decision.empty() && !options_.auto_approve) {
    // The consent screen: both buttons post the same hidden fields back to this endpoint.
    std::string hidden;
    for (const auto& [name, value] : params) {
      hidden += R"(<input type="hidden" name=")" + HtmlEscape(name) + "\" value=\""
                + HtmlEscape(value) + "\">";
    }
    const std::string action = HtmlEscape(BaseUrl() + "/oauth/authorize");
    http::Response page = HtmlPage(200, "Authorize application",
                                   "An application is requesting access to your GitLab account.");
    page.body += R"(<form method="post" action=")" + action + "\">" + hidden
                 + "<button type=\"submit\">Authorize</button></form><form method=\"post\" "
                   "action=\""
                 + action + R"("><input type="hidden" name="_method" value="delete">)" + hidden
                 + "<button type=\"submit\">Deny</button></form>\n";
    return page;
  }
  CodeRecord record;
  record.client_id = options_.client_id;
  record.redirect_uri = *redirect_uri;
  record.scope = JoinScopes(scopes);
  record.code_challenge = challenge;
  record.code_challenge_method = challenge.empty() ? "" : method;
  record.user = current_user_;
  back = {{"code", IssueCodeLocked(std::move(record))}};
  if (state) {
    back.emplace_back("state", *state);
  }
  return http::Response::Redirect(AppendQuery(*redirect_uri, back));
}

http::Response FakeGitLab::Token(http::Request& request) {
  const FormFields params = BodyParams(request);
  const std::string grant_type = FindField(params, "grant_type").value_or("");
  if (auto failure = EnterTokenEndpoint(grant_type)) {
    return std::move(*failure);
  }
  // Doorkeeper reads client credentials from HTTP Basic first, then from the body.
  std::string client_id;
  std::string client_secret;
  if (const auto basic = ParseBasicAuth(request)) {
    client_id = basic->first;
    client_secret = basic->second;
  } else {
    client_id = FindField(params, "client_id").value_or("");
    client_secret = FindField(params, "client_secret").value_or("");
  }
  {
    const std::lock_guard lock(mutex_);
    if (client_id != options_.client_id || client_id.empty()
        || !crypto::ConstantTimeEquals(client_secret, options_.client_secret)) {
      client_id.clear();  // unauthenticated; each grant decides when to report it
    }
  }
  http::Response response;
  if (grant_type.empty()) {
    response = DoorkeeperError(400, "invalid_request", MissingParam("grant_type"));
  } else if (grant_type == "authorization_code") {
    response = TokenFromCode(params, client_id);
  } else if (grant_type == "refresh_token") {
    response = TokenFromRefresh(params, client_id);
  } else {
    response = DoorkeeperError(400, "unsupported_grant_type", kUnsupportedGrantType);
  }
  LeaveTokenEndpoint();
  return response;
}

namespace {

http::Response TokenSuccess(const Json& body) {
  http::Response response;
  response.status = 200;
  response.headers.push_back({"Cache-Control", "no-store, no-cache"});
  response.headers.push_back({"Pragma", "no-cache"});
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.body = body.dump();
  return response;
}

}  // namespace

http::Response FakeGitLab::TokenFromCode(const FormFields& params, const std::string& client_id) {
  const std::string code = FindField(params, "code").value_or("");
  const auto redirect_uri = FindField(params, "redirect_uri");
  const auto verifier = FindField(params, "code_verifier");
  const std::lock_guard lock(mutex_);
  CodeRecord* grant = FindCodeLocked(code);
  // Doorkeeper's AuthorizationCodeRequest validations, in order: params, client, grant,
  // redirect_uri, code_verifier (RFC 6749 §4.1.3, RFC 7636 §4.6).
  if (code.empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("code"));
  }
  if (grant != nullptr && !grant->code_challenge.empty() && verifier.value_or("").empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("code_verifier"));
  }
  if (!redirect_uri || redirect_uri->empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("redirect_uri"));
  }
  if (client_id.empty()) {
    return DoorkeeperError(401, "invalid_client", kInvalidClient);
  }
  if (grant == nullptr || grant->used || grant->client_id != client_id
      || Now() >= grant->expires_at) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  if (*redirect_uri != grant->redirect_uri) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  if (!grant->code_challenge.empty()
      && !VerifyPkce(grant->code_challenge_method, grant->code_challenge, *verifier)) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  grant->used = true;
  const TokenRecord& issued = IssueTokensLocked(client_id, grant->user, grant->scope, true);
  Json body;
  body["access_token"] = issued.access_token;
  body["token_type"] = "Bearer";
  if (issued.access_expires_at) {
    body["expires_in"] = options_.access_token_lifetime.count();
  }
  body["refresh_token"] = issued.refresh_token;
  if (!issued.scope.empty()) {
    body["scope"] = issued.scope;
  }
  body["created_at"] = core::ToUnixSeconds(issued.created_at);
  return TokenSuccess(body);
}

http::Response FakeGitLab::TokenFromRefresh(const FormFields& params,
                                            const std::string& client_id) {
  const std::string refresh_token = FindField(params, "refresh_token").value_or("");
  const auto scope = FindField(params, "scope");
  const std::lock_guard lock(mutex_);
  // Doorkeeper's RefreshTokenRequest validations, in order: token presence, token, client,
  // client match, scope. A reused (revoked) token is InvalidGrantReuse: the same invalid_grant.
  if (refresh_token.empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("refresh_token"));
  }
  TokenRecord* old = FindByRefreshTokenLocked(refresh_token);
  if (old == nullptr || old->revoked) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  if (client_id.empty()) {
    return DoorkeeperError(401, "invalid_client", kInvalidClient);
  }
  if (old->client_id != client_id) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  std::optional<std::string> new_scope;
  if (scope && !scope->empty()) {
    // RFC 6749 §6: the new scope must not exceed the original grant.
    const std::vector<std::string> original = SplitScopes(old->scope);
    const std::vector<std::string> wanted = SplitScopes(*scope);
    if (!std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& s) { return Contains(original, s); })) {
      return DoorkeeperError(400, "invalid_scope", kInvalidScope);
    }
    new_scope = JoinScopes(wanted);
  }
  const RefreshResult result = RotateLocked(client_id, refresh_token, new_scope, grace_);
  if (result.outcome != RefreshOutcome::kIssued) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  const TokenRecord& issued = result.issued;
  Json body;
  body["access_token"] = issued.access_token;
  body["token_type"] = "Bearer";
  if (issued.access_expires_at) {
    body["expires_in"] = options_.access_token_lifetime.count();
  }
  body["refresh_token"] = issued.refresh_token;
  if (!issued.scope.empty()) {
    body["scope"] = issued.scope;
  }
  body["created_at"] = core::ToUnixSeconds(issued.created_at);
  return TokenSuccess(body);
}

http::Response FakeGitLab::Revoke(http::Request& request) {
  CountRevocation();
  const FormFields params = BodyParams(request);
  std::string client_id;
  std::string client_secret;
  if (const auto basic = ParseBasicAuth(request)) {
    client_id = basic->first;
    client_secret = basic->second;
  } else {
    client_id = FindField(params, "client_id").value_or("");
    client_secret = FindField(params, "client_secret").value_or("");
  }
  const std::string token = FindField(params, "token").value_or("");
  const std::lock_guard lock(mutex_);
  const Json refused{{"error", "unauthorized_client"}, {"error_description", kRevokeUnauthorized}};
  // RFC 7009 §2.1: the client authenticates first; §2.2: unknown tokens still get 200.
  if (client_id.empty() || client_id != options_.client_id
      || !crypto::ConstantTimeEquals(client_secret, options_.client_secret)) {
    return JsonResponse(403, refused);
  }
  TokenRecord* record = nullptr;
  if (FindField(params, "token_type_hint").value_or("") == "refresh_token") {
    record = FindByRefreshTokenLocked(token);
    record = record != nullptr ? record : FindByAccessTokenLocked(token);
  } else {
    record = FindByAccessTokenLocked(token);
    record = record != nullptr ? record : FindByRefreshTokenLocked(token);
  }
  if (record == nullptr) {
    return JsonResponse(200, Json::object());
  }
  if (record->client_id != client_id) {
    return JsonResponse(403, refused);
  }
  record->revoked = true;  // access and refresh token share the row
  return JsonResponse(200, Json::object());
}

http::Response FakeGitLab::TokenInfo(http::Request& request) {
  std::string token = BearerToken(request, false);
  if (token.empty()) {
    token = request.Query("access_token").value_or("");
  }
  const std::lock_guard lock(mutex_);
  const AccessCheck check = AuthenticateLocked(token);
  const auto invalid = [](std::string_view description) {
    return JsonResponse(401, Json{{"error", "invalid_token"}, {"error_description", description}})
        .WithHeader("WWW-Authenticate",
                    "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", "
                    "error_description=\""
                        + std::string(description) + "\"");
  };
  switch (check.state) {
    case TokenState::kUnknown:
      return invalid("The access token is invalid");
    case TokenState::kExpired:
      return invalid("The access token expired");
    case TokenState::kRevoked:
      return invalid("The access token was revoked");
    case TokenState::kValid:
      break;
  }
  const TokenRecord& record = check.record;
  Json scopes = Json::array();
  for (const auto& scope : SplitScopes(record.scope)) {
    scopes.push_back(scope);
  }
  Json expires_in = nullptr;
  if (record.access_expires_at) {
    expires_in =
        std::chrono::duration_cast<core::Seconds>(*record.access_expires_at - Now()).count();
  }
  Json body;
  body["resource_owner_id"] = record.user.id;
  body["scope"] = scopes;
  body["expires_in"] = expires_in;
  body["application"] = Json{{"uid", record.client_id}};
  body["created_at"] = core::ToUnixSeconds(record.created_at);
  body["scopes"] = scopes;
  body["expires_in_seconds"] = expires_in;
  return JsonResponse(200, body);
}

}  // namespace keybridge::fakes
