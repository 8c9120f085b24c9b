// FakeGitHub's ghcr.io-like registry token service, GET /token?service=ghcr.io&scope=…: HTTP
// Basic with any user name and a token. ghcr.io takes classic tokens with read:packages (OAuth App
// tokens "gho_", personal access tokens) but refuses GitHub App user tokens ("ghu_"): GitHub Docs,
// "Working with the Container registry" (authenticating needs a personal access token (classic)
// with read:packages). Anonymous callers get a token for public packages only.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/text.h"
#include "fakes/fake_github.h"
#include "fakes/fake_github_wire.h"

namespace keybridge::fakes {

namespace {

using Json = nlohmann::ordered_json;

http::Response RegistryError(int status, std::string_view code, std::string_view message) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body =
      Json{{"errors", Json::array({Json{{"code", code}, {"message", message}}})}}.dump();
  return response;
}

bool HasScope(std::string_view scopes, std::string_view wanted) {
  // Classic scopes are listed with commas or spaces; write:packages implies read:packages.
  std::size_t start = 0;
  while (start < scopes.size()) {
    const std::size_t end = std::min(scopes.find_first_of(", ", start), scopes.size());
    const std::string_view scope = scopes.substr(start, end - start);
    if (scope == wanted || (wanted == "read:packages" && scope == "write:packages")) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string FakeGitHub::IssueOAuthAppToken(const FakeUser& user, const std::string& scope) {
  const std::lock_guard lock(mutex_);
  TokenRecord& record = IssueTokensLocked(options_.client_id, user, scope, /*with_refresh=*/false);
  record.access_token = "gho_" + RandomAlnum(36);
  record.access_expires_at.reset();
  return record.access_token;
}

std::string FakeGitHub::RegistryTokenUrl() const {
  return BaseUrl() + "/token";
}
std::string FakeGitHub::RegistryIssuer() const {
  return registry_issuer_->Issuer();
}
std::string FakeGitHub::RegistryCertificatePath() {
  return registry_issuer_->CertificatePemPath();
}

void FakeGitHub::SetPublicPackages(std::vector<std::string> packages) {
  const std::lock_guard lock(mutex_);
  public_packages_ = std::move(packages);
}

http::Response FakeGitHub::RegistryToken(const http::Request& request) {
  const FormFields params = request.QueryParams();
  const std::string service = FindField(params, "service").value_or("");
  std::vector<RegistryAccess> granted;
  std::string subject;
  {
    const std::lock_guard lock(mutex_);
    bool may_pull_private = false;
    if (const auto credentials = ParseBasicAuth(request)) {
      const AccessCheck check = AuthenticateLocked(credentials->second);
      if (check.state != TokenState::kValid) {
        return RegistryError(401, "UNAUTHORIZED", "authentication required");
      }
      if (check.record.access_token.starts_with("ghu_")
          || !HasScope(check.record.scope, "read:packages")) {
        return RegistryError(403, "DENIED", "requested access to the resource is denied");
      }
      may_pull_private = true;
      subject = check.record.user.username;
    }
    for (const auto& [name, value] : params) {
      if (name != "scope") {
        continue;
      }
      const auto scope = ParseRegistryScope(value);
      if (!scope || scope->type != "repository") {
        continue;
      }
      const bool is_public =
          std::find(public_packages_.begin(), public_packages_.end(), core::AsciiLower(scope->name))
          != public_packages_.end();
      RegistryAccess access;
      access.name = scope->name;
      for (const std::string& action : scope->actions) {
        if (action == "pull" && (is_public || may_pull_private)) {
          access.actions.push_back(action);
        }
      }
      if (!access.actions.empty()) {
        granted.push_back(std::move(access));
      }
    }
  }
  // A real registry checks nbf/exp against its own clock, not the test's provider clock.
  const std::int64_t now = core::ToUnixSeconds(std::chrono::system_clock::now());
  http::Response response;
  response.status = 200;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body =
      Json{{"token", registry_issuer_->Sign(subject, service, granted, now, 300, RandomHex(32))}}
          .dump();
  return response;
}

}  // namespace keybridge::fakes
