#include "fakes/fake_zenodo.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <utility>

namespace keybridge::fakes {
namespace {

using Json = nlohmann::ordered_json;

// flask-oauthlib's token errors: a bare {"error": ...} body.
http::Response OAuthError(int status, std::string_view error) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = Json{{"error", error}}.dump();
  return response;
}

// Invenio REST errors: {"message": ..., "status": ...}.
http::Response RestError(int status, std::string_view message) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = Json{{"message", message}, {"status", status}}.dump();
  return response;
}

constexpr std::string_view kUnauthorized =
    "The server could not verify that you are authorized to access the URL requested. You "
    "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
    "understand how to supply the credentials required.";
constexpr std::string_view kForbidden =
    "You don't have the permission to access the requested resource. It is either "
    "read-protected or not readable by the server.";

}  // namespace

FakeZenodo::Options::Options() {
  client_id = "fakeZenodoClientIdTestOnly0123456789abcd";
  client_secret = "fakeZenodoClientSecretTestOnly0123456789abcdefghijklmnop";  // not real
  redirect_uris = {"http://127.0.0.1/oauth2/callback"};
  access_token_lifetime = core::Seconds(3600);
  refresh_token_lifetime = core::Seconds(0);
}

FakeZenodo::FakeZenodo(const core::Clock& clock, Options options)
    : FakeOAuthProvider(clock, options), allowed_scopes_(std::move(options.allowed_scopes)) {
  router_.Add("GET", "/oauth/authorize",
              [this](http::Request& request) { return Authorize(request); });
  router_.Add("POST", "/oauth/token", [this](http::Request& request) { return Token(request); });
  router_.Add("GET", "/api/deposit/depositions",
              [this](http::Request& request) { return Depositions(request); });
  port_ = AddServer([this](http::Request& request) {
    Record(request);
    return router_.Dispatch(request);
  });
  StartServers();
}

FakeZenodo::~FakeZenodo() {
  StopServers();
}

std::string FakeZenodo::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}
std::string FakeZenodo::AuthorizationEndpoint() const {
  return BaseUrl() + "/oauth/authorize";
}
std::string FakeZenodo::TokenEndpoint() const {
  return BaseUrl() + "/oauth/token";
}
std::string FakeZenodo::DepositionsEndpoint() const {
  return BaseUrl() + "/api/deposit/depositions";
}

std::int64_t FakeZenodo::AddDeposition(ZenodoDeposition deposition) {
  const std::lock_guard lock(mutex_);
  if (deposition.id == 0) {
    deposition.id = next_deposition_id_++;
  }
  depositions_.insert(depositions_.begin(), std::move(deposition));
  return depositions_.front().id;
}

http::Response FakeZenodo::Authorize(const http::Request& request) {
  const FormFields params = request.QueryParams();
  const std::lock_guard lock(mutex_);
  if (auto page = CheckClientAndRedirectLocked(params, 400, "Authorization error")) {
    return std::move(*page);
  }
  const std::string scope = FindField(params, "scope").value_or("");
  std::string granted;
  std::size_t start = 0;
  while (start < scope.size()) {
    const std::size_t end = std::min(scope.find(' ', start), scope.size());
    const std::string one = scope.substr(start, end - start);
    if (!one.empty()) {
      if (std::find(allowed_scopes_.begin(), allowed_scopes_.end(), one) == allowed_scopes_.end()) {
        return ErrorRedirect(FindField(params, "redirect_uri").value_or(""), "invalid_scope",
                             "Invalid scope: " + one, FindField(params, "state"));
      }
      granted += granted.empty() ? one : " " + one;
    }
    start = end + 1;
  }
  CodeRecord record;
  record.scope = granted;
  record.user = current_user_;
  return FinishAuthorizeLocked(params, std::move(record), /*pkce=*/false);
}

http::Response FakeZenodo::Token(const http::Request& request) {
  const FormFields params = ParseFormFields(request.body);
  const std::string grant_type = FindField(params, "grant_type").value_or("");
  if (auto failure = EnterTokenEndpoint(grant_type)) {
    return std::move(*failure);
  }
  // Body credentials only: flask-oauthlib's client lookup here does not read HTTP Basic.
  const ClientCredentials client = ReadClientCredentials(request, params, /*accept_basic=*/false);
  http::Response response;
  bool known = false;
  {
    const std::lock_guard lock(mutex_);
    known = ClientMatchesLocked(client);
  }
  if (!known) {
    response = OAuthError(401, "invalid_client");
  } else if (grant_type == "authorization_code") {
    response = TokenFromCode(params, client);
  } else if (grant_type == "refresh_token") {
    response = TokenFromRefresh(params, client);
  } else {
    response = OAuthError(400, "unsupported_grant_type");
  }
  LeaveTokenEndpoint();
  return response;
}

namespace {

Json TokenJson(const std::string& access_token, const std::string& refresh_token,
               std::int64_t expires_in, const std::string& scope, std::int64_t user_id) {
  Json body;
  body["access_token"] = access_token;
  body["token_type"] = "Bearer";
  body["expires_in"] = expires_in;
  body["refresh_token"] = refresh_token;
  body["scope"] = scope;
  body["user"] = Json{{"id", std::to_string(user_id)}};
  return body;
}

}  // namespace

http::Response FakeZenodo::TokenFromCode(const FormFields& params,
                                         const ClientCredentials& client) {
  const std::string code = FindField(params, "code").value_or("");
  const std::lock_guard lock(mutex_);
  CodeRecord* grant = FindCodeLocked(code);
  if (grant == nullptr || grant->used || grant->client_id != client.id || Now() >= grant->expires_at
      || FindField(params, "redirect_uri").value_or("") != grant->redirect_uri) {
    return OAuthError(400, "invalid_grant");
  }
  grant->used = true;
  const TokenRecord& issued = IssueTokensLocked(client.id, grant->user, grant->scope, true);
  return JsonReply(200,
                   TokenJson(issued.access_token, issued.refresh_token,
                             options_.access_token_lifetime.count(), issued.scope, issued.user.id)
                       .dump());
}

http::Response FakeZenodo::TokenFromRefresh(const FormFields& params,
                                            const ClientCredentials& client) {
  const std::string refresh_token = FindField(params, "refresh_token").value_or("");
  const std::lock_guard lock(mutex_);
  const RefreshResult result =
      RotateLocked(client.id, refresh_token, std::nullopt, /*grace=*/false);
  if (result.outcome != RefreshOutcome::kIssued) {
    return OAuthError(400, "invalid_grant");
  }
  const TokenRecord& issued = result.issued;
  return JsonReply(200,
                   TokenJson(issued.access_token, issued.refresh_token,
                             options_.access_token_lifetime.count(), issued.scope, issued.user.id)
                       .dump());
}

http::Response FakeZenodo::Depositions(const http::Request& request) {
  std::string token = BearerToken(request, /*accept_token_scheme=*/false);
  if (token.empty()) {
    token = request.Query("access_token").value_or("");  // Zenodo also takes it in the query
  }
  std::size_t size = 10;
  if (const auto wanted = request.Query("size")) {
    size = std::clamp<std::size_t>(std::strtoul(wanted->c_str(), nullptr, 10), 1, 1000);
  }
  const std::lock_guard lock(mutex_);
  const AccessCheck check = AuthenticateLocked(token);
  if (check.state != TokenState::kValid) {
    return RestError(401, kUnauthorized);
  }
  if (!ScopeIncludes(check.record.scope, "deposit:write")
      && !ScopeIncludes(check.record.scope, "deposit:actions")) {
    return RestError(403, kForbidden);
  }
  Json list = Json::array();
  for (const auto& deposition : depositions_) {
    if (deposition.owner != check.record.user.id || list.size() >= size) {
      continue;
    }
    const std::string self =
        BaseUrl() + "/api/deposit/depositions/" + std::to_string(deposition.id);
    Json item;
    item["created"] = "2024-01-01T00:00:00.000000+00:00";
    item["modified"] = "2024-01-01T00:00:00.000000+00:00";
    item["id"] = deposition.id;
    item["conceptrecid"] = std::to_string(deposition.id - 1);
    item["metadata"] = Json{{"title", deposition.title}, {"upload_type", "dataset"}};
    item["title"] = deposition.title;
    item["links"] =
        Json{{"self", self}, {"html", BaseUrl() + "/deposit/" + std::to_string(deposition.id)}};
    item["record_id"] = deposition.id;
    item["owner"] = deposition.owner;
    item["files"] = Json::array();
    item["state"] = "unsubmitted";
    item["submitted"] = false;
    list.push_back(std::move(item));
  }
  http::Response response;
  response.status = 200;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = list.dump();
  return response;
}

std::string FakeZenodo::NewAccessToken() {
  return RandomAlnum(60);
}
std::string FakeZenodo::NewRefreshToken() {
  return RandomAlnum(60);
}
std::string FakeZenodo::NewCode() {
  return RandomAlnum(30);
}

}  // namespace keybridge::fakes
