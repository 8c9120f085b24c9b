// FakeOAuthProvider, continued: what the fakes with a plain authorization-code flow (FakeDropbox,
// FakeGoogle, FakeZenodo) share: the two halves of the authorization endpoint, client
// authentication at the token endpoint, refresh without rotation and grant-wide revocation.
#include <utility>

#include "crypto/hash.h"
#include "fakes/fake_oauth_provider.h"

namespace keybridge::fakes {

FakeOAuthProvider::RefreshResult FakeOAuthProvider::RefreshKeepingTokenLocked(
    std::string_view client_id, std::string_view refresh_token) {
  TokenRecord* old = FindByRefreshTokenLocked(refresh_token);
  if (old == nullptr) {
    return RefreshResult{RefreshOutcome::kUnknown, {}};
  }
  if (old->client_id != client_id) {
    return RefreshResult{RefreshOutcome::kOtherClient, {}};
  }
  if (old->revoked) {
    return RefreshResult{RefreshOutcome::kRevoked, {}};
  }
  if (old->refresh_expires_at && Now() >= *old->refresh_expires_at) {
    return RefreshResult{RefreshOutcome::kExpired, {}};
  }
  // Copies: the new record is appended to the same container.
  const FakeUser user = old->user;
  const std::string scope = old->scope;
  const std::uint64_t grant = old->grant;
  const std::string owner(client_id);
  const TokenRecord& issued = IssueTokensLocked(owner, user, scope, /*with_refresh=*/false, grant);
  return RefreshResult{RefreshOutcome::kIssued, issued};
}

void FakeOAuthProvider::RevokeGrantLocked(std::uint64_t grant) {
  for (auto& record : TokensLocked()) {
    if (record.grant == grant) {
      record.revoked = true;
    }
  }
}

std::optional<http::Response> FakeOAuthProvider::CheckClientAndRedirectLocked(
    const FormFields& params, int status, std::string_view title) const {
  if (options_.client_id.empty()
      || FindField(params, "client_id").value_or("") != options_.client_id) {
    return HtmlPage(status, title, "The OAuth client was not found: invalid client_id.");
  }
  const std::string redirect_uri = FindField(params, "redirect_uri").value_or("");
  bool registered = false;
  for (const auto& uri : options_.redirect_uris) {
    registered = registered || uri == redirect_uri;
  }
  if (!registered) {
    return HtmlPage(400, title, "redirect_uri mismatch: the redirect URI is not registered.");
  }
  return std::nullopt;
}

http::Response FakeOAuthProvider::FinishAuthorizeLocked(const FormFields& params, CodeRecord record,
                                                        bool pkce) {
  const std::string redirect_uri = FindField(params, "redirect_uri").value_or("");
  const auto state = FindField(params, "state");
  if (FindField(params, "response_type").value_or("") != "code") {
    return ErrorRedirect(redirect_uri, "unsupported_response_type", "response_type must be code",
                         state);
  }
  if (pkce) {
    record.code_challenge = FindField(params, "code_challenge").value_or("");
    // RFC 7636 §4.3: the method defaults to plain.
    record.code_challenge_method = FindField(params, "code_challenge_method").value_or("plain");
    if (!record.code_challenge.empty() && record.code_challenge_method != "S256"
        && record.code_challenge_method != "plain") {
      return ErrorRedirect(redirect_uri, "invalid_request",
                           "code_challenge_method must be S256 or plain", state);
    }
    if (record.code_challenge.empty()) {
      record.code_challenge_method.clear();
    }
  }
  if (deny_consent_) {
    return ErrorRedirect(redirect_uri, "access_denied", "The user denied access.", state);
  }
  record.client_id = options_.client_id;
  record.redirect_uri = redirect_uri;
  FormFields back = {{"code", IssueCodeLocked(std::move(record))}};
  if (state) {
    back.emplace_back("state", *state);
  }
  return http::Response::Redirect(AppendQuery(redirect_uri, back));
}

http::Response FakeOAuthProvider::ErrorRedirect(const std::string& redirect_uri,
                                                std::string_view error,
                                                std::string_view description,
                                                const std::optional<std::string>& state) {
  FormFields fields = {{"error", std::string(error)},
                       {"error_description", std::string(description)}};
  if (state) {
    fields.emplace_back("state", *state);
  }
  return http::Response::Redirect(AppendQuery(redirect_uri, fields));
}

FakeOAuthProvider::ClientCredentials FakeOAuthProvider::ReadClientCredentials(
    const http::Request& request, const FormFields& body, bool accept_basic) {
  if (accept_basic) {
    if (const auto basic = ParseBasicAuth(request)) {
      return ClientCredentials{basic->first, basic->second, true};
    }
  }
  return ClientCredentials{FindField(body, "client_id").value_or(""),
                           FindField(body, "client_secret").value_or(""), false};
}

bool FakeOAuthProvider::ClientMatchesLocked(const ClientCredentials& credentials) const {
  return !credentials.id.empty() && credentials.id == options_.client_id
         && crypto::ConstantTimeEquals(credentials.secret, options_.client_secret);
}

http::Response FakeOAuthProvider::JsonReply(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.headers.push_back({"Cache-Control", "no-store"});
  response.headers.push_back({"Pragma", "no-cache"});
  response.body = std::move(body);
  return response;
}

bool FakeOAuthProvider::ScopeIncludes(std::string_view scopes, std::string_view scope) {
  std::size_t start = 0;
  while (start <= scopes.size()) {
    const std::size_t end = std::min(scopes.find(' ', start), scopes.size());
    if (scopes.substr(start, end - start) == scope) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace keybridge::fakes
