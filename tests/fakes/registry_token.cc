// RegistryTokenIssuer: RSA key, self-signed certificate and RS256 signing with OpenSSL. Test-only
// code may use OpenSSL directly; the production modules reach it only through crypto/.
#include "fakes/registry_token.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "crypto/base64.h"

namespace keybridge::fakes {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  throw std::runtime_error("RegistryTokenIssuer: " + what);
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::vector<std::string> SplitActions(std::string_view text) {
  std::vector<std::string> actions;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    if (end > start) {
      actions.emplace_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return actions;
}

}  // namespace

std::optional<RegistryScope> ParseRegistryScope(std::string_view scope) {
  const std::size_t first = scope.find(':');
  const std::size_t last = scope.rfind(':');
  if (first == std::string_view::npos || first == last || first == 0 || last == first + 1) {
    return std::nullopt;
  }
  RegistryScope parsed;
  parsed.type = std::string(scope.substr(0, first));
  parsed.name = std::string(scope.substr(first + 1, last - first - 1));
  parsed.actions = SplitActions(scope.substr(last + 1));
  return parsed;
}

struct RegistryTokenIssuer::Keys {
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  std::unique_ptr<X509, X509Free> certificate;
  std::string pem;
  std::string der;
  std::filesystem::path directory;  // "" until CertificatePemPath()

  ~Keys() {
    if (!directory.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    }
  }
};

RegistryTokenIssuer::RegistryTokenIssuer(std::string issuer) : issuer_(std::move(issuer)) {}
RegistryTokenIssuer::~RegistryTokenIssuer() = default;

RegistryTokenIssuer::Keys& RegistryTokenIssuer::KeysLocked() {
  if (keys_) {
    return *keys_;
  }
  auto keys = std::make_unique<Keys>();
  keys->key.reset(EVP_RSA_gen(2048));
  if (!keys->key) {
    Fail("RSA key generation failed");
  }
  keys->certificate.reset(X509_new());
  X509* cert = keys->certificate.get();
  if (cert == nullptr || X509_set_version(cert, 2) != 1
      || ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1
      || X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr
      || X509_gmtime_adj(X509_getm_notAfter(cert), 7L * 24 * 3600) == nullptr
      || X509_set_pubkey(cert, keys->key.get()) != 1) {
    Fail("certificate setup failed");
  }
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string common_name = issuer_ + " registry token signer";
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0)
          != 1
      || X509_set_issuer_name(cert, name) != 1
      || X509_sign(cert, keys->key.get(), EVP_sha256()) <= 0) {
    Fail("certificate signing failed");
  }
  unsigned char* der = nullptr;
  const int der_size = i2d_X509(cert, &der);
  if (der_size <= 0) {
    Fail("DER encoding failed");
  }
  keys->der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_size));
  OPENSSL_free(der);
  const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    Fail("PEM encoding failed");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  keys->pem.assign(data, static_cast<std::size_t>(size));
  keys_ = std::move(keys);
  return *keys_;
}

std::string RegistryTokenIssuer::CertificatePem() {
  const std::lock_guard lock(mutex_);
  return KeysLocked().pem;
}

std::string RegistryTokenIssuer::CertificateBase64Der() {
  const std::lock_guard lock(mutex_);
  return crypto::Base64Encode(KeysLocked().der);
}

std::string RegistryTokenIssuer::CertificatePemPath() {
  const std::lock_guard lock(mutex_);
  Keys& keys = KeysLocked();
  if (keys.directory.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "kb-registry-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      Fail("cannot create a temporary directory");
    }
    keys.directory = pattern;
    std::ofstream out(keys.directory / "token-signer.pem");
    out << keys.pem;
    if (!out.flush()) {
      Fail("cannot write the certificate");
    }
  }
  return (keys.directory / "token-signer.pem").string();
}

std::string RegistryTokenIssuer::Sign(const std::string& subject, const std::string& audience,
                                      const std::vector<RegistryAccess>& access,
                                      std::int64_t issued_at, std::int64_t lifetime_seconds,
                                      const std::string& jti) {
  const std::lock_guard lock(mutex_);
  Keys& keys = KeysLocked();
  nlohmann::ordered_json header = {
      {"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {crypto::Base64Encode(keys.der)}}};
  nlohmann::ordered_json access_json = nlohmann::ordered_json::array();
  for (const RegistryAccess& entry : access) {
    access_json.push_back({{"type", entry.type}, {"name", entry.name}, {"actions", entry.actions}});
  }
  // Distribution 2.x reads `aud` as one string, not a list.
  const nlohmann::ordered_json claims = {
      {"iss", issuer_},   {"sub", subject},       {"aud", audience},
      {"iat", issued_at}, {"nbf", issued_at - 5}, {"exp", issued_at + lifetime_seconds},
      {"jti", jti},       {"access", access_json}};
  const std::string signing_input =
      crypto::Base64UrlEncode(header.dump()) + "." + crypto::Base64UrlEncode(claims.dump());
  const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, keys.key.get()) != 1
      || EVP_DigestSign(ctx.get(), nullptr, &size,
                        reinterpret_cast<const unsigned char*>(signing_input.data()),
                        signing_input.size())
             != 1) {
    Fail("signing failed");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size())
      != 1) {
    Fail("signing failed");
  }
  signature.resize(size);
  return signing_input + "." + crypto::Base64UrlEncode(signature);
}

}  // namespace keybridge::fakes
