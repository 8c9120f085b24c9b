// FakeGitHub's OAuth endpoints: /login/oauth/authorize, /login/oauth/access_token (code and
// refresh grants) and the App's token revocation (DELETE /applications/{client_id}/token).
#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "crypto/hash.h"
#include "fakes/fake_github.h"
#include "fakes/fake_github_wire.h"

namespace keybridge::fakes {

using namespace github_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

std::string FakeGitHub::AuthorizeErrorRedirect(const std::string& callback, std::string_view error,
                                               std::string_view description,
                                               std::string_view anchor,
                                               const std::optional<std::string>& state) const {
  FormFields fields = {{"error", std::string(error)},
                       {"error_description", std::string(description)},
                       {"error_uri", std::string(kAuthorizeErrorDocs) + "#" + std::string(anchor)}};
  if (state) {
    fields.emplace_back("state", *state);
  }
  return AppendQuery(callback, fields);
}

http::Response FakeGitHub::Authorize(const FormFields& params, std::string_view decision) {
  const auto param = [&](std::string_view name) {
    return FindField(params, name);
  };
  const std::lock_guard lock(mutex_);
  if (options_.client_id.empty() || param("client_id").value_or("") != options_.client_id) {
    return HtmlPage(404, "Page not found", "This is not the web page you are looking for.");
  }
  const auto state = param("state");
  const auto redirect_uri = param("redirect_uri");
  if (options_.redirect_uris.empty()) {
    return HtmlPage(400, "Be careful!",
                    "The redirect_uri is not associated with this application.");
  }
  // Without redirect_uri GitHub uses the first registered callback URL.
  const std::string& first_callback = options_.redirect_uris.front();
  if (redirect_uri
      && std::find(options_.redirect_uris.begin(), options_.redirect_uris.end(), *redirect_uri)
             == options_.redirect_uris.end()) {
    if (mismatch_page_) {
      return HtmlPage(400, "Be careful!",
                      "The redirect_uri is not associated with this application. The application "
                      "might be misconfigured or could be trying to redirect you to a website "
                      "you weren't expecting.");
    }
    // Sent to the registered callback, never to the unregistered URI.
    return http::Response::Redirect(AuthorizeErrorRedirect(
        first_callback, "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
        "redirect-uri-mismatch", state));
  }
  const std::string callback = redirect_uri.value_or(first_callback);
  if (suspended_) {
    return http::Response::Redirect(
        AuthorizeErrorRedirect(callback, "application_suspended",
                               "Your application has been suspended. Contact support@github.com.",
                               "application-suspended", state));
  }
  std::string challenge;
  std::string method;
  if (pkce_supported_ && param("code_challenge")) {
    challenge = *param("code_challenge");
    // RFC 7636 §4.3 defaults the method to "plain", which GitHub does not support.
    method = param("code_challenge_method").value_or("plain");
    if (method != "S256") {
      return http::Response::Redirect(AuthorizeErrorRedirect(callback, "invalid_request",
                                                             "code_challenge_method must be S256.",
                                                             "invalid-request", state));
    }
  }
  if (decision == "deny" || (decision.empty() && deny_consent_)) {
    return http::Response::Redirect(AuthorizeErrorRedirect(
        callback, "access_denied", "The user has denied your application access.", "access-denied",
        state));
  }
  if (decision.empty() && !options_.auto_approve) {
    std::string hidden;
    for (const auto& [name, value] : params) {
      hidden += R"(<input type="hidden" name=")" + HtmlEscape(name) + "\" value=\""
                + HtmlEscape(value) + "\">";
    }
    const std::string action = HtmlEscape(BaseUrl() + "/login/oauth/authorize");
    http::Response page =
        HtmlPage(200, "Authorize application", "An application would like to access your account.");
    page.body += R"(<form method="post" action=")" + action + "\">" + hidden
                 + "<button type=\"submit\" name=\"authorize\" value=\"1\">Authorize</button>"
                   "<button type=\"submit\" name=\"authorize\" value=\"0\">Cancel</button>"
                   "</form>\n";
    return page;
  }
  CodeRecord record;
  record.client_id = options_.client_id;
  record.redirect_uri = callback;
  record.code_challenge = challenge;
  record.code_challenge_method = method;
  record.user = current_user_;
  FormFields back = {{"code", IssueCodeLocked(std::move(record))}};
  if (state) {
    back.emplace_back("state", *state);
  }
  return http::Response::Redirect(AppendQuery(callback, back));
}

http::Response FakeGitHub::Token(http::Request& request) {
  const FormFields params = RequestParams(request);
  const std::string grant_type = FindField(params, "grant_type").value_or("");
  if (auto failure =
          EnterTokenEndpoint(grant_type.empty() ? std::string("authorization_code") : grant_type)) {
    return std::move(*failure);
  }
  const bool as_json = ContainsIgnoreCase(request.Header("accept"), "application/json");
  // Only body (or query) credentials count here; HTTP Basic is not read by this endpoint.
  std::string client_id = FindField(params, "client_id").value_or("");
  const std::string client_secret = FindField(params, "client_secret").value_or("");
  http::Response response;
  bool authenticated = false;
  {
    const std::lock_guard lock(mutex_);
    authenticated = !client_id.empty() && client_id == options_.client_id
                    && crypto::ConstantTimeEquals(client_secret, options_.client_secret);
  }
  if (!authenticated) {
    response = TokenError("incorrect_client_credentials",
                          "The client_id and/or client_secret passed are incorrect.",
                          "incorrect-client-credentials", as_json);
  } else if (grant_type.empty() || grant_type == "authorization_code") {
    response = TokenFromCode(params, client_id);
  } else if (grant_type == "refresh_token") {
    response = TokenFromRefresh(params, client_id);
  } else {
    response = TokenError("unsupported_grant_type", "The grant type is not supported.",
                          "unsupported-grant-type", as_json);
  }
  if (!as_json && response.body.starts_with("{")) {
    // TokenFrom* build JSON; re-encode for clients that did not ask for it.
    FormFields fields;
    const Json json = Json::parse(response.body);
    for (const auto& [key, value] : json.items()) {
      fields.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    response = TokenEndpointResponse(fields, json, false);
  }
  LeaveTokenEndpoint();
  return response;
}

http::Response FakeGitHub::TokenFromCode(const FormFields& params, const std::string& client_id) {
  const std::string code = FindField(params, "code").value_or("");
  const auto redirect_uri = FindField(params, "redirect_uri");
  const auto verifier = FindField(params, "code_verifier");
  const std::lock_guard lock(mutex_);
  // A redirect_uri that is none of the App's callback URLs is rejected before the code is looked
  // at, so even an invalid code reveals a wrong callback (troubleshooting-oauth-app-access-token-
  // request-errors: "Incorrect or expired redirect URI").
  if (redirect_uri
      && std::find(options_.redirect_uris.begin(), options_.redirect_uris.end(), *redirect_uri)
             == options_.redirect_uris.end()) {
    return TokenError("redirect_uri_mismatch",
                      "The redirect_uri MUST match the registered callback URL for this "
                      "application.",
                      "redirect-uri-mismatch2", true);
  }
  CodeRecord* grant = FindCodeLocked(code);
  if (grant == nullptr || grant->used || grant->client_id != client_id
      || Now() >= grant->expires_at) {
    return BadVerificationCode(true);
  }
  if (redirect_uri && *redirect_uri != grant->redirect_uri) {
    return TokenError("redirect_uri_mismatch",
                      "The redirect_uri MUST match the registered callback URL for this "
                      "application.",
                      "redirect-uri-mismatch2", true);
  }
  // Which error a wrong or missing verifier gives is undocumented; bad_verification_code is the
  // closest documented one (GitHub docs: "Troubleshooting OAuth App access token request errors").
  if (!grant->code_challenge.empty()
      && (!verifier
          || !VerifyPkce(grant->code_challenge_method, grant->code_challenge, *verifier))) {
    return BadVerificationCode(true);
  }
  grant->used = true;
  TokenRecord& issued = IssueTokensLocked(client_id, grant->user, "", expiring_tokens_);
  Json body;
  body["access_token"] = issued.access_token;
  if (expiring_tokens_) {
    body["expires_in"] = options_.access_token_lifetime.count();
    body["refresh_token"] = issued.refresh_token;
    body["refresh_token_expires_in"] = options_.refresh_token_lifetime.count();
  } else {
    issued.access_expires_at.reset();
  }
  body["scope"] = "";
  body["token_type"] = "bearer";
  const FakeUser user = issued.user;
  if (max_tokens_per_user_ > 0) {
    EnforceTokenLimitLocked(client_id, user.id, max_tokens_per_user_);
  }
  return JsonResponse(200, body);
}

http::Response FakeGitHub::TokenFromRefresh(const FormFields& params,
                                            const std::string& client_id) {
  const std::string refresh_token = FindField(params, "refresh_token").value_or("");
  const std::lock_guard lock(mutex_);
  // Strict single use, no grace window: the old refresh and access token die at once.
  const RefreshResult result = RotateLocked(client_id, refresh_token, std::nullopt, false);
  if (result.outcome != RefreshOutcome::kIssued) {
    return BadRefreshToken(true);
  }
  Json body;
  body["access_token"] = result.issued.access_token;
  body["expires_in"] = options_.access_token_lifetime.count();
  body["refresh_token"] = result.issued.refresh_token;
  body["refresh_token_expires_in"] = options_.refresh_token_lifetime.count();
  body["scope"] = "";
  body["token_type"] = "bearer";
  return JsonResponse(200, body);
}

http::Response FakeGitHub::ApplicationToken(http::Request& request) {
  const bool is_delete = request.method == "DELETE";
  const bool whole_grant = request.route_pattern.ends_with("/grant");
  if (is_delete) {
    CountRevocation();
  }
  const auto basic = ParseBasicAuth(request);
  if (!basic) {
    return RestError(401, "Requires authentication");
  }
  const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  const std::lock_guard lock(mutex_);
  // A wrong secret, or another app's client id, looks like a missing resource.
  if (request.PathParam("client_id") != options_.client_id || basic->first != options_.client_id
      || !crypto::ConstantTimeEquals(basic->second, options_.client_secret)) {
    return RestError(404, "Not Found");
  }
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string()) {
    return RestError(422, "Invalid request.\n\n\"access_token\" wasn't supplied.");
  }
  const std::string access_token = body["access_token"].get<std::string>();
  TokenRecord* record = FindByAccessTokenLocked(access_token);
  if (record == nullptr || record->client_id != options_.client_id
      || AccessStateLocked(*record) != TokenState::kValid) {
    return RestError(404, "Not Found");
  }
  if (is_delete) {
    if (whole_grant) {
      // De-authorizes the App for this user: every token of theirs dies.
      const std::int64_t user_id = record->user.id;
      for (auto& other : TokensLocked()) {
        if (other.client_id == options_.client_id && other.user.id == user_id) {
          other.revoked = true;
        }
      }
    } else {
      record->revoked = true;  // its refresh token goes with it [inf]
    }
    return http::Response::NoContent();
  }
  const std::string last_eight =
      access_token.size() >= 8 ? access_token.substr(access_token.size() - 8) : access_token;
  Json check;
  check["id"] = 1;
  check["url"] = ApiBaseUrl() + "/authorizations/1";
  check["app"] = Json{{"name", app_slug_},
                      {"url", BaseUrl() + "/apps/" + app_slug_},
                      {"client_id", options_.client_id}};
  check["token"] = access_token;
  check["hashed_token"] = crypto::Sha256Hex(access_token);
  check["token_last_eight"] = last_eight;
  check["note"] = nullptr;
  check["note_url"] = nullptr;
  check["created_at"] = IsoTime(record->created_at);
  check["updated_at"] = IsoTime(record->created_at);
  check["expires_at"] =
      record->access_expires_at ? Json(IsoTime(*record->access_expires_at)) : Json(nullptr);
  check["scopes"] = Json::array();
  check["fingerprint"] = nullptr;
  check["user"] = Json{{"login", record->user.username}, {"id", record->user.id}, {"type", "User"}};
  return JsonResponse(200, check);
}

}  // namespace keybridge::fakes
