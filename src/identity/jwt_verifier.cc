#include "identity/jwt_verifier.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/memory_only.h"
#include "core/text.h"
#include "core/url.h"
#include "crypto/base64.h"
#include "crypto/hash.h"

namespace keybridge::identity {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxTokenSize = std::size_t{16} * 1024;

core::Error Reject(std::string reason) {
  return core::MakeError(core::ErrorCode::kUnauthenticated, std::move(reason));
}

core::Error IssuerUnavailable(std::string detail) {
  return core::MakeError(core::ErrorCode::kUnavailable, "identity issuer unavailable",
                         std::move(detail));
}

core::Error IssuerMisbehaves(std::string detail) {
  return core::MakeError(core::ErrorCode::kUpstreamFailed, "identity issuer answered badly",
                         std::move(detail));
}

// Parses without exceptions; anything but a JSON object is std::nullopt.
std::optional<Json> ParseObject(std::string_view text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return std::nullopt;
  }
  return json;
}

std::string StringMember(const Json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// RFC 7519 §2 NumericDate: seconds since the epoch, possibly fractional. Clamped so that adding
// the leeway can never overflow.
std::optional<std::int64_t> NumericDate(const Json& value) {
  constexpr std::int64_t kLimit = std::int64_t{1} << 52;
  if (value.is_number_unsigned()) {
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(value.get<std::uint64_t>(), static_cast<std::uint64_t>(kLimit)));
  }
  if (value.is_number_integer()) {
    return std::clamp<std::int64_t>(value.get<std::int64_t>(), -kLimit, kLimit);
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d)) {
      return std::nullopt;
    }
    const double clamped = std::clamp(d, -static_cast<double>(kLimit), static_cast<double>(kLimit));
    return static_cast<std::int64_t>(std::floor(clamped));
  }
  return std::nullopt;
}

std::string DiscoveryUrl(std::string issuer) {
  while (!issuer.empty() && issuer.back() == '/') {
    issuer.pop_back();
  }
  return issuer + "/.well-known/openid-configuration";
}

core::Result<Json> FetchJsonObject(core::HttpClient& http, const std::string& url) {
  core::HttpRequest request;
  request.url = url;
  request.headers.push_back({"Accept", "application/json"});
  auto sent = http.Send(request);
  if (!sent.ok()) {
    return IssuerUnavailable("GET " + url + ": " + sent.error().message + " "
                             + sent.error().detail);
  }
  const core::HttpResponse& response = *sent;
  if (response.status != 200) {
    return IssuerUnavailable("GET " + url + " answered " + std::to_string(response.status));
  }
  auto json = ParseObject(response.body);
  if (!json) {
    return IssuerMisbehaves("GET " + url + " did not return a JSON object");
  }
  return std::move(*json);
}

}  // namespace

JwtVerifier::JwtVerifier(Options options, core::HttpClient& http, const core::Clock& clock)
    : options_(std::move(options)), http_(http), clock_(clock) {}

// A verified signature is trusted this long (bounding how long a key the issuer withdrew keeps
// working for tokens seen before), for at most this many distinct tokens.
constexpr core::Seconds kVerifiedSignatureMaxAge{300};
constexpr std::size_t kMaxVerifiedSignatures = 10000;

core::Result<core::Caller> JwtVerifier::Verify(std::string_view jwt, TokenUse use) {
  if (jwt.size() > kMaxTokenSize) {
    return Reject("token too large");
  }
  // RFC 7515 §7.1 compact serialisation: exactly three segments.
  const std::size_t first_dot = jwt.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : jwt.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos
      || jwt.find('.', second_dot + 1) != std::string_view::npos) {
    return Reject("malformed token");
  }
  const std::string_view header_b64 = jwt.substr(0, first_dot);
  const std::string_view payload_b64 = jwt.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_b64 = jwt.substr(second_dot + 1);

  const auto header_json = crypto::Base64UrlDecode(header_b64);
  const auto header = header_json ? ParseObject(*header_json) : std::nullopt;
  if (!header) {
    return Reject("malformed token");
  }
  // The allow-list is checked before anything else: "none", HS256 (key confusion) and every
  // other algorithm never reach key lookup.
  const std::string alg = StringMember(*header, "alg");
  if (alg != "RS256" && alg != "ES256") {
    return Reject("algorithm not allowed");
  }
  // RFC 7515 §4.1.11: we understand no extensions, so any "crit" makes the token unusable.
  if (header->contains("crit")) {
    return Reject("unsupported critical header");
  }
  const std::string kid = StringMember(*header, "kid");
  if (kid.empty()) {
    return Reject("token has no key id");
  }
  const auto payload = crypto::Base64UrlDecode(payload_b64);
  const auto signature = crypto::Base64UrlDecode(signature_b64);
  if (!payload || !signature || signature->empty()) {
    return Reject("malformed token");
  }

  const std::string digest = crypto::Sha256(jwt);
  {
    const std::lock_guard lock(mu_);
    if (const auto it = verified_.find(digest);
        it != verified_.end() && clock_.Now() - it->second.at < kVerifiedSignatureMaxAge
        && it->second.kid == kid && keys_.contains(kid)) {
      return CheckClaims(*payload, use);
    }
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const CachedKey cached, KeyFor(kid));
  if (!cached.alg.empty() && cached.alg != alg) {
    return Reject("algorithm does not match key type");
  }
  const std::string_view signing_input = jwt.substr(0, second_dot);
  KEYBRIDGE_RETURN_IF_ERROR(crypto::VerifySignature(cached.key, alg, signing_input, *signature));
  {
    const std::lock_guard lock(mu_);
    if (verified_.size() >= kMaxVerifiedSignatures) {
      verified_.clear();
    }
    verified_.insert_or_assign(digest, VerifiedSignature{clock_.Now(), kid});
  }
  return CheckClaims(*payload, use);
}

core::Result<core::Caller> JwtVerifier::CheckClaims(const std::string& payload_json,
                                                    TokenUse use) const {
  const auto claims = ParseObject(payload_json);
  if (!claims) {
    return Reject("malformed token");
  }
  if (StringMember(*claims, "iss") != options_.issuer) {
    return Reject("issuer not accepted");
  }

  const std::int64_t now = core::ToUnixSeconds(clock_.Now());
  const std::int64_t leeway = options_.leeway.count();
  const auto exp_it = claims->find("exp");
  const auto exp = exp_it == claims->end() ? std::nullopt : NumericDate(*exp_it);
  if (!exp) {
    return Reject("token has no expiry");
  }
  if (now > *exp + leeway) {
    return Reject("token expired");
  }
  if (const auto nbf_it = claims->find("nbf"); nbf_it != claims->end()) {
    const auto nbf = NumericDate(*nbf_it);
    if (!nbf) {
      return Reject("malformed token");
    }
    if (now + leeway < *nbf) {
      return Reject("token not yet valid");
    }
  }

  // Only tokens minted for us: another application of the same realm must not be able to replay
  // its users' tokens here. RFC 7519 §4.1.3: "aud" is a string or an array of strings; at least
  // one must be ours (an empty list accepts nothing).
  std::vector<std::string> audiences;
  if (const auto aud = claims->find("aud"); aud != claims->end()) {
    if (aud->is_string()) {
      audiences.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (const auto& a : *aud) {
        if (a.is_string()) {
          audiences.push_back(a.get<std::string>());
        }
      }
    }
  }
  const std::vector<std::string> sign_in_client =
      options_.sign_in_client_id.empty() ? std::vector<std::string>{}
                                         : std::vector<std::string>{options_.sign_in_client_id};
  const std::vector<std::string>& accepted =
      use == TokenUse::kBearer ? options_.audiences : sign_in_client;
  const auto ours = [&accepted](const std::string& value) {
    return std::find(accepted.begin(), accepted.end(), value) != accepted.end();
  };
  if (std::none_of(audiences.begin(), audiences.end(), ours)) {
    return Reject("audience not accepted");
  }
  // OpenID Connect Core 1.0 §3.1.3.7: the authorized party, when named, must be us too (a token
  // another client obtained that merely lists us among its audiences is not ours to accept).
  if (const auto azp = claims->find("azp"); azp != claims->end()) {
    if (!azp->is_string() || !ours(azp->get<std::string>())) {
      return Reject("authorized party not accepted");
    }
  }
  // An ID token says who signed in to some client; it is not a credential for APIs (Keycloak
  // marks it "typ": "ID").
  if (use == TokenUse::kBearer && core::EqualsIgnoreAsciiCase(StringMember(*claims, "typ"), "ID")) {
    return Reject("ID tokens are not accepted as bearer credentials");
  }

  core::Caller caller;
  caller.user_id = core::UserId(StringMember(*claims, "sub"));
  if (caller.user_id.empty()) {
    return Reject("token has no subject");
  }
  caller.credential = "jwt";
  caller.email = StringMember(*claims, "email");
  caller.name = StringMember(*claims, "name");
  // Keycloak puts realm roles in {"realm_access": {"roles": [...]}}.
  if (const auto realm = claims->find("realm_access");
      realm != claims->end() && realm->is_object()) {
    if (const auto roles = realm->find("roles"); roles != realm->end() && roles->is_array()) {
      caller.is_admin = std::any_of(roles->begin(), roles->end(), [&](const Json& role) {
        return role.is_string() && role.get<std::string>() == options_.admin_role;
      });
    }
  }
  return caller;
}

core::Result<JwtVerifier::CachedKey> JwtVerifier::KeyFor(const std::string& kid) {
  const auto is_fresh = [this](core::TimePoint now) {
    return keys_fetched_at_ && now - *keys_fetched_at_ < options_.jwks_max_age;
  };
  {
    std::lock_guard lock(mu_);
    if (const auto it = keys_.find(kid); it != keys_.end() && is_fresh(clock_.Now())) {
      return it->second;
    }
  }
  if (core::MemoryOnlyScope::Active()) {
    // An I/O thread does not even try the lock: the request continues where fetching is allowed.
    return core::MakeError(core::ErrorCode::kWouldWait, "", "signing key not in memory");
  }

  // Once keys are known, never wait for another caller's fetch: a request thread must not queue
  // behind the issuer because someone sent a token with a new (possibly made-up) key id. While a
  // fetch runs, a known key (even stale) is used and an unknown one is answered 503 with a short
  // Retry-After. Only before the first keys arrive do callers wait for that one fetch (every
  // token needs it; it is bounded by the HTTP timeout and happens once).
  bool have_keys = false;
  {
    std::lock_guard lock(mu_);
    have_keys = keys_fetched_at_.has_value();
  }
  std::unique_lock fetch_lock(fetch_mu_, std::defer_lock);
  if (have_keys) {
    (void)fetch_lock.try_lock();
  } else {
    fetch_lock.lock();
  }
  if (!fetch_lock.owns_lock()) {
    std::lock_guard lock(mu_);
    if (const auto it = keys_.find(kid); it != keys_.end()) {
      return it->second;
    }
    return core::MakeError(core::ErrorCode::kUnavailable,
                           "The identity issuer's signing keys are being fetched; retry shortly.",
                           "JWKS fetch in progress")
        .WithRetryAfter(std::chrono::seconds(1));
  }
  {
    std::lock_guard lock(mu_);
    const core::TimePoint now = clock_.Now();
    const auto it = keys_.find(kid);
    if (it != keys_.end() && is_fresh(now)) {
      return it->second;  // another caller fetched while we waited
    }
    // Rate limit: an unknown kid is attacker-controlled, and a down issuer should not be asked
    // again on every request.
    const bool may_fetch =
        !last_attempt_at_ || now - *last_attempt_at_ >= options_.jwks_refetch_min_interval;
    if (!may_fetch) {
      if (it != keys_.end()) {
        return it->second;  // stale, but the issuer was asked recently
      }
      if (!keys_fetched_at_ && last_error_) {
        return *last_error_;
      }
      return Reject("unknown signing key");
    }
  }

  const core::Status fetched = FetchKeys();
  std::lock_guard lock(mu_);
  const auto it = keys_.find(kid);
  if (it != keys_.end()) {
    // After a failed refresh the previous keys stay usable: an issuer outage should not log
    // everybody out while their tokens are still valid.
    return it->second;
  }
  if (!fetched.ok()) {
    return fetched.error();
  }
  return Reject("unknown signing key");
}

core::Status JwtVerifier::CheckJwksUri(const std::string& jwks_uri) const {
  // The keys that vouch for every user: fetched over TLS (plain http only on loopback, for tests
  // and a local issuer), from the issuer's own origin unless the administrator named another.
  auto url = core::ParseUrl(jwks_uri);
  const bool secure =
      url.ok() && (url->scheme == "https" || (url->scheme == "http" && url->IsLoopbackHost()));
  if (!secure || url->has_fragment || !url->userinfo.empty()) {
    return IssuerMisbehaves("jwks_uri is not an https URL without user name or fragment");
  }
  auto issuer = core::ParseUrl(options_.issuer);
  const std::string origin = url->Origin();
  if ((!issuer.ok() || issuer->Origin() != origin)
      && std::find(options_.extra_jwks_origins.begin(), options_.extra_jwks_origins.end(), origin)
             == options_.extra_jwks_origins.end()) {
    return IssuerMisbehaves("jwks_uri " + origin + " is not on the issuer's origin (allow it with "
                            "--oidc-jwks-origin)");
  }
  return core::OkStatus();
}

core::Status JwtVerifier::FetchKeys() {
  const core::TimePoint started = clock_.Now();
  {
    std::lock_guard lock(mu_);
    last_attempt_at_ = started;
  }
  const auto record_failure = [this](core::Error error) -> core::Status {
    std::lock_guard lock(mu_);
    last_error_ = error;
    return error;
  };
  const auto record_failure_if = [&record_failure](core::Status status) -> core::Status {
    return status.ok() ? status : record_failure(std::move(status).TakeError());
  };

  // OpenID Connect Discovery 1.0 §4: the document's issuer must equal the configured one exactly,
  // or keys from one realm could vouch for another.
  auto discovery = FetchJsonObject(http_, DiscoveryUrl(options_.issuer));
  if (!discovery.ok()) {
    return record_failure(std::move(discovery).TakeError());
  }
  if (StringMember(*discovery, "issuer") != options_.issuer) {
    return record_failure(IssuerMisbehaves("discovery issuer differs from the configured issuer"));
  }
  const std::string jwks_uri = StringMember(*discovery, "jwks_uri");
  if (jwks_uri.empty()) {
    return record_failure(IssuerMisbehaves("discovery document has no jwks_uri"));
  }
  KEYBRIDGE_RETURN_IF_ERROR(record_failure_if(CheckJwksUri(jwks_uri)));
  auto jwks = FetchJsonObject(http_, jwks_uri);
  if (!jwks.ok()) {
    return record_failure(std::move(jwks).TakeError());
  }
  const auto keys = jwks->find("keys");
  if (keys == jwks->end() || !keys->is_array()) {
    return record_failure(IssuerMisbehaves("JWKS has no keys array"));
  }

  std::map<std::string, CachedKey, std::less<>> fresh;
  for (const auto& jwk : *keys) {
    if (!jwk.is_object()) {
      continue;
    }
    const std::string kid = StringMember(jwk, "kid");
    const std::string use = StringMember(jwk, "use");
    // Encryption keys (use "enc") and keys we cannot use (RSA < 2048 bits, other curves, "oct")
    // are skipped, not fatal: tokens naming them are rejected as "unknown signing key".
    if (kid.empty() || (!use.empty() && use != "sig")) {
      continue;
    }
    crypto::Jwk parsed{StringMember(jwk, "kty"), StringMember(jwk, "n"), StringMember(jwk, "e"),
                       StringMember(jwk, "crv"), StringMember(jwk, "x"), StringMember(jwk, "y")};
    auto key = crypto::PublicKey::FromJwk(parsed);
    if (key.ok()) {
      fresh.insert_or_assign(kid, CachedKey{std::move(key).value(), StringMember(jwk, "alg")});
    }
  }

  std::lock_guard lock(mu_);
  keys_ = std::move(fresh);
  keys_fetched_at_ = started;
  last_error_.reset();
  return core::OkStatus();
}

}  // namespace keybridge::identity
