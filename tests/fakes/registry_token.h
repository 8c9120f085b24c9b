// RegistryTokenIssuer: what a registry's token service signs (Docker Registry v2 token
// authentication, "Token Authentication Implementation" of the Distribution docs): an RS256 JWT
// whose header carries the issuer's self-signed certificate in `x5c`, so a registry configured
// with that certificate as `rootcertbundle` accepts it. FakeGitLab's /jwt/auth and FakeGitHub's
// ghcr-like /token use it. The RSA key and certificate are made with OpenSSL on first use (key
// generation takes a moment, and most fake tests never ask for a registry token).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keybridge::fakes {

// One entry of a token's `access` claim.
struct RegistryAccess {
  std::string type = "repository";
  std::string name;  // "group/project/image"
  std::vector<std::string> actions;
};

// A parsed `scope=repository:<name>:<actions>` parameter (Distribution's resource scope).
struct RegistryScope {
  std::string type;
  std::string name;
  std::vector<std::string> actions;
};

// Splits "repository:group/project:pull,push"; the name may contain ':' only before the last
// one (a registry host with a port is not part of the name). nullopt when malformed.
std::optional<RegistryScope> ParseRegistryScope(std::string_view scope);

class RegistryTokenIssuer {
 public:
  explicit RegistryTokenIssuer(std::string issuer);
  ~RegistryTokenIssuer();
  RegistryTokenIssuer(const RegistryTokenIssuer&) = delete;
  RegistryTokenIssuer& operator=(const RegistryTokenIssuer&) = delete;

  const std::string& Issuer() const { return issuer_; }
  // The certificate (PEM) a registry trusts as `rootcertbundle`.
  std::string CertificatePem();
  // A file holding CertificatePem(), written once into a temporary directory removed with this
  // object. Throws std::runtime_error when it cannot be written.
  std::string CertificatePemPath();
  // base64 DER of the certificate, as in the `x5c` header.
  std::string CertificateBase64Der();
  // RS256 JWT: header {typ, alg, x5c}, claims iss/sub/aud/iat/nbf/exp/jti/access.
  std::string Sign(const std::string& subject, const std::string& audience,
                   const std::vector<RegistryAccess>& access, std::int64_t issued_at,
                   std::int64_t lifetime_seconds, const std::string& jti);

 private:
  struct Keys;
  Keys& KeysLocked();

  const std::string issuer_;
  std::mutex mutex_;
  std::unique_ptr<Keys> keys_;  // guarded by mutex_
};

}  // namespace keybridge::fakes
