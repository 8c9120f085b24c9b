#include "fakes/fake_dropbox.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace keybridge::fakes {
namespace {

using Json = nlohmann::ordered_json;

// Dropbox's token endpoint errors: 400 with a JSON body (RFC 6749 §5.2 shape).
http::Response TokenError(std::string_view error, std::string_view description) {
  http::Response response;
  response.status = 400;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = Json{{"error", error}, {"error_description", description}}.dump();
  return response;
}

http::Response PlainText(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  response.body = std::move(body);
  return response;
}

// The API's 401: {"error_summary": "<tag>/..", "error": {".tag": "<tag>"}}.
http::Response AuthError(std::string_view tag) {
  http::Response response;
  response.status = 401;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body =
      Json{{"error_summary", std::string(tag) + "/.."}, {"error", Json{{".tag", tag}}}}.dump();
  return response;
}

std::pair<std::string, std::string> SplitName(const std::string& name) {
  const std::size_t space = name.find(' ');
  if (space == std::string::npos) {
    return {name, ""};
  }
  return {name.substr(0, space), name.substr(space + 1)};
}

std::string Initials(const std::string& name) {
  std::string initials;
  bool at_word_start = true;
  for (const char c : name) {
    if (c == ' ') {
      at_word_start = true;
    } else if (at_word_start) {
      initials.push_back(c);
      at_word_start = false;
    }
  }
  return initials;
}

// A stable account id per user, shaped like Dropbox's "dbid:" plus 40 characters.
std::string AccountId(std::int64_t user_id) {
  std::string digits = std::to_string(user_id);
  return "dbid:AAD" + std::string(37 - std::min<std::size_t>(digits.size(), 37), '0') + digits;
}

}  // namespace

FakeDropbox::Options::Options() {
  client_id = "fake-dropbox-app-key";
  client_secret = "fake-dropbox-app-secret-test-only";  // never a real secret
  redirect_uris = {"http://127.0.0.1/oauth2/callback"};
  access_token_lifetime = core::Seconds(14400);
  refresh_token_lifetime = core::Seconds(0);
}

FakeDropbox::FakeDropbox(const core::Clock& clock, Options options)
    : FakeOAuthProvider(clock, options), default_scope_(std::move(options.default_scope)) {
  router_.Add("GET", "/oauth2/authorize",
              [this](http::Request& request) { return Authorize(request); });
  router_.Add("POST", "/oauth2/token", [this](http::Request& request) { return Token(request); });
  router_.Add("POST", "/2/auth/token/revoke",
              [this](http::Request& request) { return Revoke(request); });
  router_.Add("POST", "/2/users/get_current_account",
              [this](http::Request& request) { return CurrentAccount(request); });
  port_ = AddServer([this](http::Request& request) {
    Record(request);
    return router_.Dispatch(request);
  });
  StartServers();
}

FakeDropbox::~FakeDropbox() {
  StopServers();
}

std::string FakeDropbox::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}
std::string FakeDropbox::AuthorizationEndpoint() const {
  return BaseUrl() + "/oauth2/authorize";
}
std::string FakeDropbox::TokenEndpoint() const {
  return BaseUrl() + "/oauth2/token";
}
std::string FakeDropbox::RevocationEndpoint() const {
  return BaseUrl() + "/2/auth/token/revoke";
}
std::string FakeDropbox::AccountEndpoint() const {
  return BaseUrl() + "/2/users/get_current_account";
}

http::Response FakeDropbox::Authorize(const http::Request& request) {
  const FormFields params = request.QueryParams();
  const std::lock_guard lock(mutex_);
  if (auto page = CheckClientAndRedirectLocked(params, 400, "Error (4xx)")) {
    return std::move(*page);
  }
  const auto state = FindField(params, "state");
  const std::string redirect_uri = FindField(params, "redirect_uri").value_or("");
  // "online" (short-lived access token only), "offline" (plus a refresh token), "legacy".
  const std::string access_type = FindField(params, "token_access_type").value_or("");
  if (!access_type.empty() && access_type != "online" && access_type != "offline"
      && access_type != "legacy") {
    return ErrorRedirect(redirect_uri, "invalid_request",
                         "token_access_type must be online, offline or legacy", state);
  }
  CodeRecord record;
  const std::string scope = FindField(params, "scope").value_or("");
  record.scope = scope.empty() ? default_scope_ : scope;
  record.offline = access_type == "offline";
  record.user = current_user_;
  return FinishAuthorizeLocked(params, std::move(record), /*pkce=*/true);
}

http::Response FakeDropbox::Token(const http::Request& request) {
  // Dropbox also takes the parameters in the query string; keybridge sends a form body.
  FormFields params = ParseFormFields(request.body);
  for (auto& field : request.QueryParams()) {
    params.push_back(std::move(field));
  }
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
    response = TokenError("unsupported_grant_type",
                          R"("grant_type" must be "authorization_code" or "refresh_token")");
  }
  LeaveTokenEndpoint();
  return response;
}

http::Response FakeDropbox::TokenFromCode(const FormFields& params,
                                          const ClientCredentials& client) {
  const std::string code = FindField(params, "code").value_or("");
  const std::string verifier = FindField(params, "code_verifier").value_or("");
  const std::lock_guard lock(mutex_);
  CodeRecord* grant = FindCodeLocked(code);
  // With PKCE the app key alone identifies the client (Dropbox's flow for apps that cannot keep
  // a secret); a secret that is sent must still be right.
  const bool pkce_public = grant != nullptr && !grant->code_challenge.empty()
                           && client.secret.empty() && client.id == options_.client_id;
  if (!pkce_public && !ClientMatchesLocked(client)) {
    return TokenError("invalid_client", "Invalid client_id or client_secret");
  }
  if (grant == nullptr || grant->used || Now() >= grant->expires_at
      || grant->client_id != client.id) {
    return TokenError("invalid_grant", "code doesn't exist or has expired");
  }
  if (FindField(params, "redirect_uri").value_or("") != grant->redirect_uri) {
    return TokenError("invalid_grant", "redirect_uri mismatch");
  }
  if (!grant->code_challenge.empty()
      && !VerifyPkce(grant->code_challenge_method, grant->code_challenge, verifier)) {
    return TokenError("invalid_grant", "invalid code verifier");
  }
  grant->used = true;
  const TokenRecord& issued =
      IssueTokensLocked(client.id, grant->user, grant->scope, grant->offline);
  Json body;
  body["access_token"] = issued.access_token;
  body["token_type"] = "bearer";
  body["expires_in"] = options_.access_token_lifetime.count();
  if (!issued.refresh_token.empty()) {
    body["refresh_token"] = issued.refresh_token;
  }
  body["scope"] = issued.scope;
  body["uid"] = std::to_string(issued.user.id);
  body["account_id"] = AccountId(issued.user.id);
  return JsonReply(200, body.dump());
}

http::Response FakeDropbox::TokenFromRefresh(const FormFields& params,
                                             const ClientCredentials& client) {
  const std::string refresh_token = FindField(params, "refresh_token").value_or("");
  const std::lock_guard lock(mutex_);
  if (!ClientMatchesLocked(client)) {
    return TokenError("invalid_client", "Invalid client_id or client_secret");
  }
  const RefreshResult result = RefreshKeepingTokenLocked(client.id, refresh_token);
  if (result.outcome != RefreshOutcome::kIssued) {
    return TokenError("invalid_grant", "refresh token is invalid or revoked");
  }
  Json body;
  body["access_token"] = result.issued.access_token;
  body["token_type"] = "bearer";
  body["expires_in"] = options_.access_token_lifetime.count();
  return JsonReply(200, body.dump());
}

std::optional<http::Response> FakeDropbox::CheckNoArgumentBody(const http::Request& request,
                                                               std::string_view function) {
  bool has_content_type = false;
  for (const auto& header : request.headers) {
    has_content_type = has_content_type || header.name == "content-type";
  }
  const std::string content_type = request.Header("content-type");
  if (!has_content_type) {
    if (request.body.empty()) {
      return std::nullopt;
    }
    return PlainText(400, "Error in call to API function \"" + std::string(function)
                              + "\": Bad HTTP \"Content-Type\" header: \"\".  Expecting one of "
                                "\"application/json\", \"application/json; charset=utf-8\", "
                                "\"text/plain; charset=dropbox-cors-hack\".");
  }
  if (content_type != "application/json" && content_type != "application/json; charset=utf-8"
      && content_type != "text/plain; charset=dropbox-cors-hack") {
    return PlainText(400, "Error in call to API function \"" + std::string(function)
                              + R"(": Bad HTTP "Content-Type" header: ")" + content_type
                              + "\".  Expecting one of \"application/json\", \"application/json; "
                                "charset=utf-8\", \"text/plain; charset=dropbox-cors-hack\".");
  }
  const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return PlainText(400, "Error in call to API function \"" + std::string(function)
                              + "\": request body: could not decode input as JSON");
  }
  if (!body.is_null()) {
    return PlainText(400, "Error in call to API function \"" + std::string(function)
                              + "\": request body: expected null, got value");
  }
  return std::nullopt;
}

std::optional<http::Response> FakeDropbox::AuthenticateLockedOr401(const http::Request& request,
                                                                   std::string_view function,
                                                                   AccessCheck& check) {
  const std::string token = BearerToken(request, /*accept_token_scheme=*/false);
  if (token.empty()) {
    return PlainText(400, "Error in call to API function \"" + std::string(function)
                              + "\": Must provide HTTP header \"Authorization\" or URL parameter "
                                "\"authorization\".");
  }
  check = AuthenticateLocked(token);
  switch (check.state) {
    case TokenState::kValid:
      return std::nullopt;
    case TokenState::kExpired:
      return AuthError("expired_access_token");
    case TokenState::kRevoked:
    case TokenState::kUnknown:
      break;
  }
  return AuthError("invalid_access_token");
}

http::Response FakeDropbox::Revoke(const http::Request& request) {
  CountRevocation();
  if (auto refused = CheckNoArgumentBody(request, "auth/token/revoke")) {
    return std::move(*refused);
  }
  const std::lock_guard lock(mutex_);
  AccessCheck check;
  if (auto refused = AuthenticateLockedOr401(request, "auth/token/revoke", check)) {
    return std::move(*refused);
  }
  RevokeGrantLocked(check.record.grant);
  http::Response response;
  response.status = 200;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = "null";
  return response;
}

http::Response FakeDropbox::CurrentAccount(const http::Request& request) {
  if (auto refused = CheckNoArgumentBody(request, "users/get_current_account")) {
    return std::move(*refused);
  }
  const std::lock_guard lock(mutex_);
  AccessCheck check;
  if (auto refused = AuthenticateLockedOr401(request, "users/get_current_account", check)) {
    return std::move(*refused);
  }
  const FakeUser& user = check.record.user;
  const auto [given, surname] = SplitName(user.name);
  Json body;
  body["account_id"] = AccountId(user.id);
  body["name"] = Json{{"given_name", given},
                      {"surname", surname},
                      {"familiar_name", given},
                      {"display_name", user.name},
                      {"abbreviated_name", Initials(user.name)}};
  body["email"] = user.email;
  body["email_verified"] = true;
  body["disabled"] = false;
  body["country"] = "CH";
  body["locale"] = "en";
  body["account_type"] = Json{{".tag", "basic"}};
  http::Response response;
  response.status = 200;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = body.dump();
  return response;
}

std::string FakeDropbox::NewAccessToken() {
  return "sl." + RandomAlnum(138);
}
std::string FakeDropbox::NewRefreshToken() {
  return RandomAlnum(64);
}
std::string FakeDropbox::NewCode() {
  return RandomAlnum(43);
}

}  // namespace keybridge::fakes
