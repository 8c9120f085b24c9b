// identity::JwtVerifier's JWKS parsing (RFC 7517): the input is the issuer's JWKS document, the
// token a fixed valid RS256 token signed with the harness key (kid "fuzz-rsa"). Property: the
// token is accepted only when the JWKS really publishes the harness key: its modulus, for a key
// that is not marked for encryption. Whatever else the document holds (other key types, short
// or malformed keys, duplicate kids, odd members) must not make a token verify.
#include <string>

#include "fuzz_check.h"
#include "identity/jwt_verifier.h"
#include "issuer_fake.h"

namespace {

// {"alg":"RS256","kid":"fuzz-rsa","typ":"JWT"} with iss, sub "fuzz-user", aud "keybridge",
// exp 4000000000, signed with the harness key (fuzz/fuzz_key.h).
constexpr std::string_view kToken =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enotcnNhIiwidHlwIjoiSldUIn0."
    "eyJpc3MiOiJodHRwczovL3Nzby5leGFtcGxlLm9yZy9yZWFsbXMvcmVua3UiLCJzdWIiOiJmdXp6LXVzZXIiLCJhdWQiOi"
    "JrZXlicmlkZ2UiLCJleHAiOjQwMDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMCwiZW1haWwiOiJ1QGV4YW1wbGUub3JnIiwi"
    "cmVhbG1fYWNjZXNzIjp7InJvbGVzIjpbInJlbmt1LWFkbWluIl19fQ.LcV4ODuNNv6RQ8xV1C-ci-hDt-RRrE-"
    "X0RXcvvNBhyQ3AaEwQSHUsU2QBum6omHAbGzNVrwbuGdBRwSk6MZoRvzBar8zAVZVXZzXssOjFbkoAyYfAr_"
    "3E587JYu4z7n3UeM15RqWys7Nzc3-EDXe_XgDht_N3TBEMx-0BwznCKcAvoFG-9qEUkjs7IiiTqHExYIz_"
    "ub736dQ10Z9H0YEiMCAayhYgtF5jsMDru2o-UUS-KVo5u-cRp8D6h3Q5zmc_"
    "61UCFF7kN2olztP5omPB65j0CsQGmpdBV33BIrWAKN4rxDWc40LHhnhYXWY5_QU3QakcLSas_eXm2AgcFSVvg";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  keybridge::fuzz::FakeIssuer issuer(std::string(keybridge::fuzz::AsText(data, size)));
  keybridge::fuzz::FixedClock clock;
  keybridge::identity::JwtVerifier::Options options;
  options.issuer = std::string(keybridge::fuzz::kIssuer);
  options.audiences = {std::string(keybridge::fuzz::kAudience)};
  keybridge::identity::JwtVerifier verifier(options, issuer, clock);
  auto caller = verifier.Verify(kToken);
  if (caller.ok()) {
    FUZZ_CHECK(keybridge::fuzz::AsText(data, size).find(keybridge::fuzz::kModulus)
               != std::string_view::npos);
    FUZZ_CHECK(caller->user_id.value() == "fuzz-user");
  }
  return 0;
}
