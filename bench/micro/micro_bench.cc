// Google Benchmark for the pure parts on the token-read hot path: opening a
// sealed token set (KeyRing: AES-256-GCM + key lookup) and decoding it, verifying an RS256 user
// JWT with a warm key cache (identity::JwtVerifier), encoding the token response, and matching a
// repository URL against 1 000 providers (core::MatchProvider).
//   build/bench/bench/keybridge_micro_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/repository_match.h"
#include "core/token_set.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "identity/jwt_verifier.h"
#include "storage/sealed_columns.h"
#include "storage/token_codec.h"
#include "support/scripted_http_client.h"
#include "support/test_jwt_issuer.h"

namespace {

namespace core = keybridge::core;
namespace crypto = keybridge::crypto;
namespace identity = keybridge::identity;
namespace storage = keybridge::storage;
namespace testing = keybridge::testing;

core::TokenSet SampleToken() {
  core::TokenSet token;
  token.access_token = core::Secret(std::string(64, 'a'));
  token.refresh_token = core::Secret(std::string(64, 'r'));
  token.token_type = "Bearer";
  token.scope = "api read_repository write_repository";
  token.obtained_at = std::chrono::system_clock::now();
  token.expires_in = 7200;
  token.expires_at = token.obtained_at + core::Seconds(7200);
  return token;
}

// What GET .../token does after the row is read: open the sealed column, decode the token set.
void BM_OpenSealedTokenSet(benchmark::State& state) {
  crypto::SystemRandom random;
  auto keys = crypto::KeyRing::FromKeys({{"0a1b2c3d", std::string(32, 'k')}}, random);
  const std::string id = "01JBENCH0000000000000000AA";
  const std::string aad = storage::kConnectionToken.AssociatedData(id);
  const std::string sealed = *keys->Seal(storage::EncodeTokenSet(SampleToken()), aad);
  for (auto _ : state) {
    auto opened = keys->Open(sealed, aad);
    auto token = storage::DecodeTokenSet(*opened);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_OpenSealedTokenSet);

// RS256 verification with the JWKS already cached (what every request with a user JWT costs).
void BM_VerifyRs256Jwt(benchmark::State& state) {
  const std::string issuer_url = "https://id.example.org/realms/bench";
  testing::TestJwtIssuer issuer(issuer_url);
  testing::ScriptedHttpClient http;
  http.Always("GET", issuer.DiscoveryUrl(),
              core::HttpResponse{200, {}, issuer.DiscoveryJson(issuer.JwksUrl())});
  http.Always("GET", issuer.JwksUrl(), core::HttpResponse{200, {}, issuer.JwksJson()});
  const core::SystemClock clock;
  identity::JwtVerifier::Options options;
  options.issuer = issuer_url;
  identity::JwtVerifier verifier(options, http, clock);
  const std::string jwt =
      issuer.Mint(issuer.DefaultClaims("user-00001", {}, std::chrono::system_clock::now()));
  if (!verifier.Verify(jwt).ok()) {
    state.SkipWithError("the warm-up verification failed");
    return;
  }
  for (auto _ : state) {
    auto caller = verifier.Verify(jwt);
    benchmark::DoNotOptimize(caller);
  }
}
BENCHMARK(BM_VerifyRs256Jwt);

// The token response body; a copy of routes/connection_routes.cc TokenToJson (file-local there).
void BM_EncodeTokenResponse(benchmark::State& state) {
  const core::TokenSet t = SampleToken();
  for (auto _ : state) {
    nlohmann::json out = {{"access_token", t.access_token.Reveal()},
                          {"token_type", t.token_type},
                          {"scope", t.scope}};
    out["expires_in"] = *t.expires_in;
    out["expires_at"] = core::ToUnixSeconds(*t.expires_at);
    out["expires_at_iso"] = core::FormatIso8601(*t.expires_at);
    std::string body = out.dump();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_EncodeTokenResponse);

// Longest-prefix match of a repository URL over N providers (the last one matches).
void BM_MatchRepositoryUrl(benchmark::State& state) {
  std::vector<core::Provider> providers;
  const auto count = static_cast<std::size_t>(state.range(0));
  for (std::size_t i = 0; i < count; ++i) {
    core::Provider p;
    p.id = core::ProviderId("p" + std::to_string(i));
    p.kind = core::ProviderKind::kGitLab;
    p.url = "https://gitlab" + std::to_string(i) + ".example.org/prefix";
    providers.push_back(std::move(p));
  }
  const auto parsed = core::ParseRepositoryUrl("https://gitlab" + std::to_string(count - 1)
                                               + ".example.org/prefix/group/project.git");
  const auto& repository = std::get<core::RepositoryUrl>(parsed);
  for (auto _ : state) {
    auto match = core::MatchProvider(providers, repository.url);
    benchmark::DoNotOptimize(match);
  }
}
BENCHMARK(BM_MatchRepositoryUrl)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
