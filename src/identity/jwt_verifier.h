// JwtVerifier: checks bearer JWTs issued by the configured OpenID issuer (Keycloak in Renku) and
// turns them into a core::Caller. Keys come from the issuer's discovery document and JWKS, fetched
// through core::HttpClient and cached by key id.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/http_client.h"
#include "core/result.h"
#include "crypto/jws.h"

namespace keybridge::identity {

// What a token is presented as. An ID token says who signed in to a client; it is accepted only
// by the sign-in that client completed, never as a bearer credential.
enum class TokenUse { kBearer, kSignInIdToken };

class JwtVerifier {
 public:
  struct Options {
    std::string issuer;  // compared exactly with discovery "issuer" and "iss"
    // "aud" must name one of them, and "azp", when present, must be one of them. Empty accepts
    // no token (app/ refuses to start without one).
    std::vector<std::string> audiences;
    // The browser sign-in's client id: the only audience (and authorized party) of an ID token
    // presented at sign-in (TokenUse::kSignInIdToken). Empty: no ID token is accepted.
    std::string sign_in_client_id;
    // Origins ("https://host[:port]") besides the issuer's own that the discovery document's
    // jwks_uri may point to.
    std::vector<std::string> extra_jwks_origins;
    std::string admin_role = "renku-admin";  // in realm_access.roles (Keycloak layout)
    std::chrono::seconds leeway{60};         // clock skew allowed for exp and nbf
    // An unknown kid triggers a JWKS refetch at most this often (issuer key rotation).
    std::chrono::seconds jwks_refetch_min_interval{30};
    std::chrono::seconds jwks_max_age{3600};  // cached keys are refreshed after this
  };

  // `http` and `clock` must outlive the verifier. No I/O happens until the first Verify().
  JwtVerifier(Options options, core::HttpClient& http, const core::Clock& clock);

  // Accepts only RS256 / ES256 tokens signed by a key in the issuer's JWKS whose type matches the
  // alg. Errors: kUnauthenticated with a short reason ("token expired", "unknown signing key",
  // "audience not accepted", "signature invalid", "malformed token", ...); kUnavailable when the
  // issuer cannot be reached or answers non-200; kUpstreamFailed when its documents are unusable
  // (e.g. the discovery "issuer" differs from the configured one). Thread-safe: concurrent calls
  // share the key cache; fetches are serialised.
  core::Result<core::Caller> Verify(std::string_view jwt, TokenUse use = TokenUse::kBearer);

 private:
  struct CachedKey {
    crypto::PublicKey key;
    std::string alg;  // the JWK's "alg" member, if it has one
  };

  core::Result<CachedKey> KeyFor(const std::string& kid);
  // Fetches discovery and JWKS; on success replaces the cache. Caller holds fetch_mu_.
  core::Status FetchKeys();
  // https (http only on loopback), no user name or fragment, the issuer's origin or an extra one.
  core::Status CheckJwksUri(const std::string& jwks_uri) const;
  core::Result<core::Caller> CheckClaims(const std::string& payload_json, TokenUse use) const;

  const Options options_;
  core::HttpClient& http_;
  const core::Clock& clock_;

  // Serialises FetchKeys(); once keys are known only try-locked (a caller never waits for
  // another's fetch); taken before mu_, never while holding it.
  std::mutex fetch_mu_;
  mutable std::mutex mu_;  // guards the members below
  std::map<std::string, CachedKey, std::less<>> keys_;
  std::optional<core::TimePoint> keys_fetched_at_;  // last successful JWKS fetch
  std::optional<core::TimePoint> last_attempt_at_;  // last fetch attempt, successful or not
  std::optional<core::Error> last_error_;           // of that attempt, if it failed
  // SHA-256 of tokens whose signature checked out, and when: a session presents the same token
  // on every request, and the RSA/ECDSA check is most of the cost of authenticating it
  // (docs/benchmarks.md). Claims (exp, nbf, aud, roles) are still checked on every request.
  struct VerifiedSignature {
    core::TimePoint at;
    std::string kid;  // a hit counts only while the issuer still publishes this key
  };
  std::map<std::string, VerifiedSignature, std::less<>> verified_;
};

}  // namespace keybridge::identity
