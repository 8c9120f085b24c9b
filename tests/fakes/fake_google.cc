#include "fakes/fake_google.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "crypto/base64.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::ordered_json;

http::Response GoogleError(int status, std::string_view error, std::string_view description) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.body = Json{{"error", error}, {"error_description", description}}.dump(2);
  return response;
}

}  // namespace

FakeGoogle::Options::Options() {
  client_id = "123456789012-fakegoogletestonly.apps.googleusercontent.com";
  client_secret = "GOCSPX-fake-google-test-only-secret";  // never a real secret
  redirect_uris = {"http://127.0.0.1/oauth2/callback"};
  access_token_lifetime = core::Seconds(3599);
  refresh_token_lifetime = core::Seconds(0);
}

FakeGoogle::FakeGoogle(const core::Clock& clock, Options options)
    : FakeOAuthProvider(clock, std::move(options)) {
  router_.Add("GET", "/o/oauth2/v2/auth",
              [this](http::Request& request) { return Authorize(request); });
  router_.Add("POST", "/token", [this](http::Request& request) { return Token(request); });
  router_.Add("POST", "/revoke", [this](http::Request& request) { return Revoke(request); });
  router_.Add("GET", "/v1/userinfo", [this](http::Request& request) { return Userinfo(request); });
  router_.Add("POST", "/v1/userinfo", [this](http::Request& request) { return Userinfo(request); });
  port_ = AddServer([this](http::Request& request) {
    Record(request);
    return router_.Dispatch(request);
  });
  StartServers();
}

FakeGoogle::~FakeGoogle() {
  StopServers();
}

std::string FakeGoogle::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}
std::string FakeGoogle::AuthorizationEndpoint() const {
  return BaseUrl() + "/o/oauth2/v2/auth";
}
std::string FakeGoogle::TokenEndpoint() const {
  return BaseUrl() + "/token";
}
std::string FakeGoogle::RevocationEndpoint() const {
  return BaseUrl() + "/revoke";
}
std::string FakeGoogle::UserinfoEndpoint() const {
  return BaseUrl() + "/v1/userinfo";
}

std::string FakeGoogle::Subject(const FakeUser& user) {
  const std::string digits = std::to_string(user.id);
  return "1" + std::string(20 - std::min<std::size_t>(digits.size(), 20), '0') + digits;
}

void FakeGoogle::ForgetConsents() {
  const std::lock_guard lock(mutex_);
  consented_.clear();
}

http::Response FakeGoogle::Authorize(const http::Request& request) {
  const FormFields params = request.QueryParams();
  const std::lock_guard lock(mutex_);
  // Google shows "Error 401: invalid_client" / "Error 400: redirect_uri_mismatch" pages.
  if (auto page =
          CheckClientAndRedirectLocked(params, 401, "Access blocked: Authorization Error")) {
    return std::move(*page);
  }
  const auto state = FindField(params, "state");
  const std::string redirect_uri = FindField(params, "redirect_uri").value_or("");
  const std::string scope = FindField(params, "scope").value_or("");
  if (scope.empty()) {
    return ErrorRedirect(redirect_uri, "invalid_request", "Missing required parameter: scope",
                         state);
  }
  const std::string access_type = FindField(params, "access_type").value_or("online");
  if (access_type != "online" && access_type != "offline") {
    return ErrorRedirect(redirect_uri, "invalid_request", "Invalid access_type: " + access_type,
                         state);
  }
  const std::string prompt = FindField(params, "prompt").value_or("");
  const bool offline = access_type == "offline";
  // Offline access yields a refresh token when the user consents: always with prompt=consent,
  // otherwise only the first time (later authorizations are approved silently without one).
  const bool issue_refresh =
      offline && (ScopeIncludes(prompt, "consent") || !consented_.contains(current_user_.id));
  CodeRecord record;
  record.scope = scope;
  record.offline = issue_refresh;
  record.user = current_user_;
  http::Response response = FinishAuthorizeLocked(params, std::move(record), /*pkce=*/true);
  std::string location;
  for (const auto& header : response.headers) {
    location = header.name == "Location" ? header.value : location;
  }
  const std::size_t query = location.find('?');
  if (offline && query != std::string::npos
      && FindField(ParseFormFields(location.substr(query + 1)), "code")) {
    consented_.insert(current_user_.id);  // approved, so consent was given
  }
  return response;
}

http::Response FakeGoogle::Token(const http::Request& request) {
  const FormFields params = ParseFormFields(request.body);
  const std::string grant_type = FindField(params, "grant_type").value_or("");
  if (auto failure = EnterTokenEndpoint(grant_type)) {
    return std::move(*failure);
  }
  const ClientCredentials client = ReadClientCredentials(request, params, /*accept_basic=*/true);
  http::Response response;
  if (grant_type == "authorization_code") {
    response = TokenFromCode(params, client);
  } else if (grant_type == "refresh_token") {
    response = TokenFromRefresh(params, client);
  } else {
    response = GoogleError(400, "unsupported_grant_type", "Invalid grant_type: " + grant_type);
  }
  LeaveTokenEndpoint();
  return response;
}

std::optional<http::Response> FakeGoogle::CheckClientLocked(const ClientCredentials& client) const {
  if (client.id.empty() || client.id != options_.client_id) {
    return GoogleError(401, "invalid_client", "The OAuth client was not found.");
  }
  if (!ClientMatchesLocked(client)) {
    return GoogleError(401, "invalid_client", "Unauthorized");
  }
  return std::nullopt;
}

std::string FakeGoogle::TokenBody(const TokenRecord& issued, const std::string& refresh_token) {
  Json body;
  body["access_token"] = issued.access_token;
  body["expires_in"] = options_.access_token_lifetime.count();
  if (!refresh_token.empty()) {
    body["refresh_token"] = refresh_token;
  }
  body["scope"] = issued.scope;
  body["token_type"] = "Bearer";
  if (ScopeIncludes(issued.scope, "openid")) {
    const std::int64_t now = core::ToUnixSeconds(issued.created_at);
    Json claims{{"iss", "https://accounts.google.com"},
                {"azp", issued.client_id},
                {"aud", issued.client_id},
                {"sub", Subject(issued.user)}};
    if (ScopeIncludes(issued.scope, "email")) {
      claims["email"] = issued.user.email;
      claims["email_verified"] = true;
    }
    claims["iat"] = now;
    claims["exp"] = now + 3600;
    const Json header{{"alg", "RS256"}, {"kid", "fake-google-key"}, {"typ", "JWT"}};
    body["id_token"] = crypto::Base64UrlEncode(header.dump()) + "."
                       + crypto::Base64UrlEncode(claims.dump()) + "." + RandomAlnum(342);
  }
  return body.dump(2);
}

http::Response FakeGoogle::TokenFromCode(const FormFields& params,
                                         const ClientCredentials& client) {
  const std::string code = FindField(params, "code").value_or("");
  const auto verifier = FindField(params, "code_verifier");
  const std::lock_guard lock(mutex_);
  if (auto refused = CheckClientLocked(client)) {
    return std::move(*refused);
  }
  CodeRecord* grant = FindCodeLocked(code);
  if (grant == nullptr || grant->client_id != client.id) {
    return GoogleError(400, "invalid_grant", "Malformed auth code.");
  }
  if (grant->used || Now() >= grant->expires_at) {
    return GoogleError(400, "invalid_grant", "Bad Request");
  }
  if (FindField(params, "redirect_uri").value_or("") != grant->redirect_uri) {
    return GoogleError(400, "redirect_uri_mismatch", "Bad Request");
  }
  if (!grant->code_challenge.empty() && !verifier) {
    return GoogleError(400, "invalid_grant", "Missing code verifier.");
  }
  if (!grant->code_challenge.empty()
      && !VerifyPkce(grant->code_challenge_method, grant->code_challenge, *verifier)) {
    return GoogleError(400, "invalid_grant", "Invalid code verifier.");
  }
  grant->used = true;
  const TokenRecord& issued =
      IssueTokensLocked(client.id, grant->user, grant->scope, grant->offline);
  return JsonReply(200, TokenBody(issued, issued.refresh_token));
}

http::Response FakeGoogle::TokenFromRefresh(const FormFields& params,
                                            const ClientCredentials& client) {
  const std::string refresh_token = FindField(params, "refresh_token").value_or("");
  const std::lock_guard lock(mutex_);
  if (auto refused = CheckClientLocked(client)) {
    return std::move(*refused);
  }
  const RefreshResult result = RefreshKeepingTokenLocked(client.id, refresh_token);
  if (result.outcome == RefreshOutcome::kOtherClient) {
    return GoogleError(400, "unauthorized_client", "Unauthorized");
  }
  if (result.outcome != RefreshOutcome::kIssued) {
    return GoogleError(400, "invalid_grant", "Token has been expired or revoked.");
  }
  return JsonReply(200, TokenBody(result.issued, ""));
}

http::Response FakeGoogle::Revoke(const http::Request& request) {
  CountRevocation();
  // The token may come in the form body or, as Google's examples also show, the query string.
  std::string token = FindField(ParseFormFields(request.body), "token").value_or("");
  if (token.empty()) {
    token = request.Query("token").value_or("");
  }
  const std::lock_guard lock(mutex_);
  std::uint64_t grant = 0;
  if (TokenRecord* record = FindByAccessTokenLocked(token);
      record != nullptr && AccessStateLocked(*record) == TokenState::kValid) {
    grant = record->grant;
  } else if (TokenRecord* owner = FindByRefreshTokenLocked(token);
             owner != nullptr && !owner->revoked) {
    grant = owner->grant;
  }
  if (grant == 0) {
    return GoogleError(400, "invalid_token", "Token expired or revoked");
  }
  RevokeGrantLocked(grant);
  return JsonReply(200, "{}");
}

http::Response FakeGoogle::Userinfo(const http::Request& request) {
  const std::string token = BearerToken(request, /*accept_token_scheme=*/false);
  const std::lock_guard lock(mutex_);
  const AccessCheck check = AuthenticateLocked(token);
  if (check.state != TokenState::kValid) {
    return GoogleError(401, "invalid_request", "Invalid Credentials")
        .WithHeader("WWW-Authenticate",
                    R"(Bearer realm="https://accounts.google.com/", error="invalid_token")");
  }
  const TokenRecord& record = check.record;
  Json body;
  body["sub"] = Subject(record.user);
  if (ScopeIncludes(record.scope, "profile")
      || ScopeIncludes(record.scope, "https://www.googleapis.com/auth/userinfo.profile")) {
    body["name"] = record.user.name;
    body["picture"] = "https://lh3.googleusercontent.com/a/fake-" + std::to_string(record.user.id);
  }
  if (ScopeIncludes(record.scope, "email")
      || ScopeIncludes(record.scope, "https://www.googleapis.com/auth/userinfo.email")) {
    body["email"] = record.user.email;
    body["email_verified"] = true;
  }
  http::Response response;
  response.status = 200;
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.body = body.dump(2);
  return response;
}

std::string FakeGoogle::NewAccessToken() {
  return "ya29." + RandomAlnum(150);
}
std::string FakeGoogle::NewRefreshToken() {
  return "1//" + RandomAlnum(100);
}
std::string FakeGoogle::NewCode() {
  return "4/0" + RandomAlnum(70);
}

}  // namespace keybridge::fakes
