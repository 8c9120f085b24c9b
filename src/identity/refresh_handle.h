// RefreshHandles: the "refresh token" keybridge gives a standard OAuth client (rclone mounting a
// user's Dropbox or Google Drive in a session) together with a provider access token. The client
// presents it to POST /api/data/oauth2/connections/{id}/token_endpoint (RFC 6749 §6) whenever its
// access token expires and gets a fresh provider access token back; the provider's own refresh
// token never leaves keybridge.
//
// A handle is "kbr_" + a value sealed with the KeyRing (AES-256-GCM, bound to its purpose by the
// associated data): the user, the connection, the session token it was issued to (by hash) and an
// expiry. Nothing is stored: a handle ends when it expires, when its session token is revoked or
// expires, when the connection is deleted or reconnected (a new connection id), or when its key is
// retired.
#pragma once

#include <string_view>

#include "core/caller.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "core/secret.h"
#include "crypto/key_ring.h"
#include "identity/api_token_authenticator.h"

namespace keybridge::identity {

inline constexpr std::string_view kRefreshHandlePrefix = "kbr_";

struct RefreshHandle {
  core::Secret value;  // "kbr_..." — a credential: hand it to the client, never log it
  core::TimePoint expires_at{};
};

// Who a presented handle acts for, and until when.
struct RefreshHandleHolder {
  core::Caller caller;  // the user, with the session's scope when the handle is a session's
  core::TimePoint expires_at{};
};

class RefreshHandles {
 public:
  // How long a handle issued to a user (not a session) lasts, as Renku's refresh JWTs. A session's
  // handle lasts as long as its session token.
  static constexpr core::Seconds kUserHandleLifetime{24 * 3600};

  // Everything must outlive the object. Thread-safe.
  RefreshHandles(crypto::KeyRing& keys, SessionTokenAuthenticator& sessions,
                 const core::Clock& clock);

  // A handle for `connection` acting for `caller` (a signed-in user or a session token; the
  // caller must already be allowed to read the connection's token). kUnauthenticated for an
  // anonymous caller; kInternal if sealing fails.
  core::Result<RefreshHandle> Issue(const core::Caller& caller,
                                    const core::ConnectionId& connection);

  // The holder of `handle` presented for `connection`. kUnauthenticated with a reason a client
  // may be shown ("refresh token is malformed", "... was issued for another connection",
  // "... has expired", "the session it was issued to has ended") — never the handle itself;
  // repository failures of the session check are returned unchanged. A handle naming a key this
  // process does not know costs at most the key ring's rate-limited file check, so anonymous
  // callers cannot make it re-read the key file at will.
  core::Result<RefreshHandleHolder> Authenticate(std::string_view handle,
                                                 const core::ConnectionId& connection);

 private:
  crypto::KeyRing& keys_;
  SessionTokenAuthenticator& sessions_;
  const core::Clock& clock_;
};

}  // namespace keybridge::identity
