// crypto::PublicKey::FromJwk and crypto::VerifySignature (JWS, RFC 7515/7518). The input is
// newline-separated: alg, signing input, base64url signature, then a JWK's kty, n, e, crv, x, y.
// Properties:
// - with the harness key, VerifySignature accepts exactly what OpenSSL's own RS256 check accepts,
//   and only for alg RS256 (no "none", no HMAC, no ES256 on an RSA key);
// - a key FromJwk accepts is RSA of 2048..8192 bits or a P-256 point, whatever the members said.
#include <string>
#include <vector>

#include "crypto/base64.h"
#include "crypto/jws.h"
#include "fuzz_check.h"
#include "fuzz_key.h"

namespace {

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  while (true) {
    const auto newline = text.find('\n');
    lines.emplace_back(text.substr(0, newline));
    if (newline == std::string_view::npos) {
      break;
    }
    text.remove_prefix(newline + 1);
  }
  lines.resize(std::max<std::size_t>(lines.size(), 9));
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto lines = Lines(keybridge::fuzz::AsText(data, size));
  const std::string& alg = lines[0];
  const std::string& input = lines[1];
  const std::string signature = keybridge::crypto::Base64UrlDecode(lines[2]).value_or(lines[2]);

  static const auto harness_key =
      keybridge::crypto::PublicKey::FromJwk({.kty = "RSA",
                                             .n = std::string(keybridge::fuzz::kModulus),
                                             .e = std::string(keybridge::fuzz::kExponent)});
  FUZZ_CHECK(harness_key.ok());
  const bool ours = keybridge::crypto::VerifySignature(*harness_key, alg, input, signature).ok();
  const bool openssl = keybridge::fuzz::OpenSslVerifiesRs256(input, signature);
  FUZZ_CHECK(!ours || alg == "RS256");
  FUZZ_CHECK(alg != "RS256" || ours == openssl);

  auto key = keybridge::crypto::PublicKey::FromJwk({.kty = lines[3],
                                                    .n = lines[4],
                                                    .e = lines[5],
                                                    .crv = lines[6],
                                                    .x = lines[7],
                                                    .y = lines[8]});
  if (key.ok()) {
    if (key->type() == keybridge::crypto::PublicKey::Type::kRsa) {
      FUZZ_CHECK(lines[3] == "RSA" && key->bits() >= 2048 && key->bits() <= 8192);
    } else {
      FUZZ_CHECK(lines[3] == "EC" && lines[6] == "P-256" && key->bits() == 256);
    }
    (void)keybridge::crypto::VerifySignature(*key, alg, input, signature);
  }
  return 0;
}
