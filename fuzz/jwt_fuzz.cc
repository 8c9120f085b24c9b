// identity::JwtVerifier::Verify's parsing and verification of bearer JWTs (JWS compact
// serialisation, RFC 7515 §7.1) against a fixed issuer whose JWKS holds the harness key. The
// input is the token. Property: an accepted token, re-checked independently, is an RS256 token
// whose signature OpenSSL itself verifies with the harness key over exactly its first two parts,
// whose claims name the issuer and audience, have a subject equal to the caller's user id and an
// expiry after now minus the leeway. Seeds in fuzz/corpus/jwt hold valid tokens signed with the
// harness key, so the fuzzer starts from the accepting path.
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/base64.h"
#include "fuzz_check.h"
#include "identity/jwt_verifier.h"
#include "issuer_fake.h"

namespace {

using keybridge::fuzz::kAudience;
using keybridge::fuzz::kIssuer;

nlohmann::json DecodePart(std::string_view part) {
  const auto bytes = keybridge::crypto::Base64UrlDecode(part);
  FUZZ_CHECK(bytes.has_value());
  auto json = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!json.is_discarded() && json.is_object());
  return json;
}

bool NamesAudience(const nlohmann::json& aud) {
  if (aud.is_string()) {
    return aud.get<std::string>() == kAudience;
  }
  if (aud.is_array()) {
    for (const auto& item : aud) {
      if (item.is_string() && item.get<std::string>() == kAudience) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token = keybridge::fuzz::AsText(data, size);
  keybridge::fuzz::FakeIssuer issuer(keybridge::fuzz::HarnessJwks());
  keybridge::fuzz::FixedClock clock;
  keybridge::identity::JwtVerifier::Options options;
  options.issuer = std::string(kIssuer);
  options.audiences = {std::string(kAudience)};
  keybridge::identity::JwtVerifier verifier(options, issuer, clock);
  auto caller = verifier.Verify(token);
  if (!caller.ok()) {
    return 0;
  }
  const auto first = token.find('.');
  const auto last = token.rfind('.');
  FUZZ_CHECK(first != std::string_view::npos && last != first);
  const nlohmann::json header = DecodePart(token.substr(0, first));
  const nlohmann::json claims = DecodePart(token.substr(first + 1, last - first - 1));
  FUZZ_CHECK(header.value("alg", "") == "RS256");
  const auto signature = keybridge::crypto::Base64UrlDecode(token.substr(last + 1));
  FUZZ_CHECK(signature && keybridge::fuzz::OpenSslVerifiesRs256(token.substr(0, last), *signature));
  FUZZ_CHECK(claims.value("iss", "") == kIssuer);
  FUZZ_CHECK(claims.contains("aud") && NamesAudience(claims["aud"]));
  FUZZ_CHECK(!caller->user_id.empty() && claims.value("sub", "") == caller->user_id.value());
  FUZZ_CHECK(claims.contains("exp") && claims["exp"].is_number());
  FUZZ_CHECK(claims["exp"].get<double>()
             >= static_cast<double>(keybridge::core::ToUnixSeconds(keybridge::fuzz::kFuzzNow))
                    - 60);
  return 0;
}
