#include "identity/refresh_handle.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace keybridge::identity {
namespace {

using nlohmann::json;

// Binds the sealed value to this use: a value sealed for a database column never opens as a
// handle, nor the other way round.
constexpr std::string_view kAssociatedData = "keybridge/refresh-handle/v1";
// Sealed handles are about 250 characters; anything much longer is not ours.
constexpr std::size_t kMaxHandleSize = 2048;

core::Error Reject(std::string reason) {
  return core::MakeError(core::ErrorCode::kUnauthenticated, std::move(reason));
}

}  // namespace

RefreshHandles::RefreshHandles(crypto::KeyRing& keys, SessionTokenAuthenticator& sessions,
                               const core::Clock& clock)
    : keys_(keys), sessions_(sessions), clock_(clock) {}

core::Result<RefreshHandle> RefreshHandles::Issue(const core::Caller& caller,
                                                  const core::ConnectionId& connection) {
  if (!caller.IsAuthenticated()) {
    return Reject("sign in to obtain a refresh token");
  }
  const core::TimePoint now = std::chrono::floor<core::Seconds>(clock_.Now());
  json payload = {{"u", caller.user_id.value()}, {"c", connection.value()}};
  core::TimePoint expires_at = now + kUserHandleLifetime;
  if (caller.session_scope) {
    payload["s"] = caller.session_scope->token_hash;
    expires_at = std::chrono::floor<core::Seconds>(caller.session_scope->expires_at);
  }
  payload["e"] = core::ToUnixSeconds(expires_at);
  KEYBRIDGE_ASSIGN_OR_RETURN(const std::string sealed, keys_.Seal(payload.dump(), kAssociatedData));
  return RefreshHandle{core::Secret(std::string(kRefreshHandlePrefix) + sealed), expires_at};
}

core::Result<RefreshHandleHolder> RefreshHandles::Authenticate(
    std::string_view handle, const core::ConnectionId& connection) {
  if (handle.size() > kMaxHandleSize || !handle.starts_with(kRefreshHandlePrefix)) {
    return Reject("refresh token is malformed");
  }
  const std::string_view sealed = handle.substr(kRefreshHandlePrefix.size());
  // KeyRing::Open re-reads the key file for an unknown key id; ActiveKeyId() looks at it at most
  // once a second, which is enough to learn a key another replica rotated in.
  const std::string key_id = crypto::KeyRing::KeyIdOf(sealed);
  auto known = [this, &key_id] {
    const std::vector<std::string> ids = keys_.KeyIds();
    return std::find(ids.begin(), ids.end(), key_id) != ids.end();
  };
  bool key_known = !key_id.empty() && known();
  if (!key_id.empty() && !key_known) {
    keys_.ActiveKeyId();  // the rate-limited look at the key file
    key_known = known();
  }
  if (!key_known) {
    return Reject("refresh token is malformed or was sealed with a retired key");
  }
  auto opened = keys_.Open(sealed, kAssociatedData);
  if (!opened.ok()) {
    return Reject("refresh token is malformed");
  }
  const json payload = json::parse(*opened, nullptr, false);
  if (!payload.is_object() || !payload.contains("u") || !payload["u"].is_string()
      || !payload.contains("c") || !payload["c"].is_string() || !payload.contains("e")
      || !payload["e"].is_number_integer()) {
    return Reject("refresh token is malformed");
  }
  if (payload["c"].get<std::string>() != connection.value()) {
    return Reject("refresh token was issued for another connection");
  }
  const core::TimePoint expires_at = core::FromUnixSeconds(payload["e"].get<std::int64_t>());
  if (clock_.Now() >= expires_at) {
    return Reject("refresh token has expired; obtain a new one from keybridge");
  }
  const core::UserId user(payload["u"].get<std::string>());
  if (auto session = payload.find("s"); session != payload.end() && session->is_string()) {
    auto caller = sessions_.AuthenticateHash(session->get<std::string>());
    if (!caller.ok()) {
      if (caller.error().code != core::ErrorCode::kUnauthenticated) {
        return std::move(caller).TakeError();
      }
      return Reject("refresh token's session has ended (" + caller.error().message + ")");
    }
    if (caller->user_id != user) {
      return Reject("refresh token is malformed");
    }
    return RefreshHandleHolder{std::move(*caller), expires_at};
  }
  return RefreshHandleHolder{core::Caller::User(user), expires_at};
}

}  // namespace keybridge::identity
