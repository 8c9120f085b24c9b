#include "gitproxy/credentials.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "core/url.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "gitcredential/access_hint.h"

namespace keybridge::gitproxy {
namespace {

using core::ErrorCode;
using core::MakeError;
using nlohmann::json;

// The server may be refreshing at the provider (its own provider timeouts are 10 s per call).
constexpr std::chrono::milliseconds kRequestTimeout{30000};
constexpr int kMinValidSeconds = 300;

std::string StringField(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

core::HttpRequest Get(const std::string& url, const core::Secret& token) {
  core::HttpRequest request;
  request.url = url;
  request.headers.push_back({"Authorization", "Bearer " + token.Reveal()});
  request.headers.push_back({"Accept", "application/json"});
  request.timeout = kRequestTimeout;
  return request;
}

core::Error Refusal(const core::HttpResponse& response) {
  const json body = json::parse(response.body, nullptr, false);
  std::string message;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    message = StringField(body["error"], "message");
  }
  if (message.empty()) {
    message = "keybridge answered HTTP " + std::to_string(response.status);
  }
  switch (response.status) {
    case 401:
      return MakeError(ErrorCode::kUnauthenticated,
                       "keybridge did not accept KEYBRIDGE_TOKEN: " + message);
    case 403:
      return MakeError(ErrorCode::kPermissionDenied, message);
    case 404:
      return MakeError(ErrorCode::kNotFound, message);
    case 409:
    case 422:
      return MakeError(ErrorCode::kInvalidArgument, message);
    default:
      return MakeError(ErrorCode::kUnavailable, message);
  }
}

}  // namespace

KeybridgeCredentials::KeybridgeCredentials(core::HttpClient& http, const core::Clock& clock,
                                           std::string base_url, core::Secret token)
    : http_(http), clock_(clock), base_url_(std::move(base_url)), token_(std::move(token)) {}

core::Result<UpstreamCredential> KeybridgeCredentials::Fetch(const ProxyTarget& target,
                                                             const std::string& rejected_sha256) {
  std::string url =
      base_url_ + "/api/data/git/credentials?provider_id=" + core::PercentEncode(target.provider_id)
      + "&path=" + core::PercentEncode(target.repository_path)
      + "&min_valid_seconds=" + std::to_string(kMinValidSeconds);
  if (!rejected_sha256.empty()) {
    url += "&force_refresh=1&rejected_sha256=" + rejected_sha256;
  }
  auto response = http_.Send(Get(url, token_));
  if (!response.ok()) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot reach keybridge at " + base_url_ + ": " + response.error().message);
  }
  if (response->status != 200) {
    return Refusal(*response);
  }
  const json body = json::parse(response->body, nullptr, false);
  const std::string username = body.is_object() ? StringField(body, "username") : "";
  const std::string password = body.is_object() ? StringField(body, "password") : "";
  const std::string repository_url = body.is_object() ? StringField(body, "repository_url") : "";
  if (username.empty() || password.empty() || repository_url.empty()) {
    return MakeError(ErrorCode::kUnavailable,
                     "keybridge answered without a user name, token and repository URL");
  }
  UpstreamCredential credential;
  credential.repository_url = repository_url;
  // RFC 7617 Basic: GitLab takes "oauth2:<token>", GitHub "x-access-token:<token>".
  credential.authorization =
      core::Secret("Basic " + crypto::Base64Encode(username + ":" + password));
  credential.token_sha256 = crypto::Sha256Hex(password);
  if (const auto it = body.find("expires_at"); it != body.end() && it->is_number_integer()) {
    credential.expires_at = core::FromUnixSeconds(it->get<std::int64_t>());
  }
  credential.fetched_at = clock_.Now();
  return credential;
}

std::string KeybridgeCredentials::AccessHint(const std::string& repository_url) {
  return gitcredential::AccessHint(http_, base_url_, token_, repository_url);
}

CredentialCache::CredentialCache(CredentialSource& source, const core::Clock& clock,
                                 CredentialCacheOptions options)
    : source_(source), clock_(clock), options_(options) {}

core::Result<UpstreamCredential> CredentialCache::Get(const ProxyTarget& target) {
  {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(target.RepositoryKey());
    if (it != entries_.end()) {
      const UpstreamCredential& cached = it->second;
      const core::TimePoint now = clock_.Now();
      // Never older than max_age, whatever the token's expiry: keybridge is asked again, so a
      // revoked session token (or a disconnected connection) stops working within max_age.
      const bool fresh =
          now - cached.fetched_at < options_.max_age
          && (!cached.expires_at || *cached.expires_at - now > options_.refetch_margin);
      if (fresh) {
        return cached;
      }
    }
  }
  return Store(target, source_.Fetch(target, ""));
}

core::Result<UpstreamCredential> CredentialCache::Replace(const ProxyTarget& target,
                                                          const UpstreamCredential& rejected) {
  Forget(target);
  return Store(target, source_.Fetch(target, rejected.token_sha256));
}

void CredentialCache::Forget(const ProxyTarget& target) {
  const std::lock_guard lock(mutex_);
  entries_.erase(target.RepositoryKey());
}

std::size_t CredentialCache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

core::Result<UpstreamCredential> CredentialCache::Store(const ProxyTarget& target,
                                                        core::Result<UpstreamCredential> fetched) {
  if (!fetched.ok()) {
    return fetched;
  }
  const std::lock_guard lock(mutex_);
  if (entries_.size() >= options_.max_entries) {
    entries_.erase(entries_.begin());  // a session touching >1000 repositories: start over
  }
  entries_.insert_or_assign(target.RepositoryKey(), *fetched);
  return fetched;
}

}  // namespace keybridge::gitproxy
