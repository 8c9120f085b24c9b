#include "identity/jwt_verifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "support/fake_clock.h"
#include "support/scripted_http_client.h"
#include "support/test_jwt_issuer.h"

namespace keybridge::identity {
namespace {

using keybridge::testing::FakeClock;
using keybridge::testing::JsonResponse;
using keybridge::testing::MintOptions;
using keybridge::testing::ScriptedHttpClient;
using keybridge::testing::TestJwtIssuer;
using std::chrono::seconds;

constexpr char kIssuer[] = "https://keycloak.test/auth/realms/renku";

void ExpectRejected(const core::Result<core::Caller>& result, const std::string& reason) {
  ASSERT_FALSE(result.ok()) << "expected rejection: " << reason;
  EXPECT_EQ(result.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(result.error().message, reason);
}

std::string Segment(const nlohmann::json& json) {
  return crypto::Base64UrlEncode(json.dump());
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  JwtVerifierTest() { ServeIssuer(); }

  void ServeIssuer() {
    http_.Always("GET", issuer_.DiscoveryUrl(),
                 JsonResponse(200, issuer_.DiscoveryJson(issuer_.JwksUrl())));
    http_.Always("GET", issuer_.JwksUrl(), JsonResponse(200, issuer_.JwksJson()));
  }

  static JwtVerifier::Options DefaultOptions() {
    JwtVerifier::Options options;
    options.issuer = kIssuer;
    options.audiences = {"renku"};
    return options;
  }

  nlohmann::json Claims(std::vector<std::string> roles = {}) const {
    return issuer_.DefaultClaims("user-1", std::move(roles), clock_.Now());
  }

  std::size_t JwksFetches() const { return http_.CountRequests(issuer_.JwksUrl()); }

  FakeClock clock_;
  ScriptedHttpClient http_;
  TestJwtIssuer issuer_{kIssuer};
  JwtVerifier verifier_{DefaultOptions(), http_, clock_};
};

TEST_F(JwtVerifierTest, AcceptsRs256Token) {
  const std::string jwt = issuer_.Mint(Claims());

  const auto caller = verifier_.Verify(jwt);

  ASSERT_TRUE(caller.ok()) << caller.error().message;
  EXPECT_EQ(caller->user_id, "user-1");
  EXPECT_EQ(caller->email, "user-1@example.org");
  EXPECT_EQ(caller->name, "Test User user-1");
  EXPECT_FALSE(caller->is_admin);
  EXPECT_TRUE(caller->rejected_reason.empty());
}

TEST_F(JwtVerifierTest, AcceptsEs256TokenAndReadsAdminRole) {
  const std::string jwt =
      issuer_.Mint(Claims({"offline_access", "renku-admin"}), MintOptions{.alg = "ES256"});

  const auto caller = verifier_.Verify(jwt);

  ASSERT_TRUE(caller.ok()) << caller.error().message;
  EXPECT_EQ(caller->user_id, "user-1");
  EXPECT_TRUE(caller->is_admin);
}

TEST_F(JwtVerifierTest, UsesConfiguredAdminRole) {
  JwtVerifier::Options options = DefaultOptions();
  options.admin_role = "keybridge-admin";
  JwtVerifier verifier(options, http_, clock_);

  const auto renku_admin = verifier.Verify(issuer_.Mint(Claims({"renku-admin"})));
  const auto own_admin = verifier.Verify(issuer_.Mint(Claims({"keybridge-admin"})));

  ASSERT_TRUE(renku_admin.ok() && own_admin.ok());
  EXPECT_FALSE(renku_admin->is_admin);
  EXPECT_TRUE(own_admin->is_admin);
}

TEST_F(JwtVerifierTest, DiscoversJwksOnceAndCachesKeys) {
  const std::string jwt = issuer_.Mint(Claims());

  ASSERT_TRUE(verifier_.Verify(jwt).ok());
  ASSERT_TRUE(verifier_.Verify(jwt).ok());
  ASSERT_TRUE(verifier_.Verify(issuer_.Mint(Claims(), MintOptions{.alg = "ES256"})).ok());

  EXPECT_EQ(http_.CountRequests(issuer_.DiscoveryUrl()), 1U);
  EXPECT_EQ(JwksFetches(), 1U);
  EXPECT_EQ(http_.Requests().size(), 2U);
}

TEST_F(JwtVerifierTest, RejectsTamperedPayload) {
  const std::string jwt = issuer_.Mint(Claims());
  const std::size_t first = jwt.find('.');
  const std::size_t second = jwt.find('.', first + 1);
  nlohmann::json claims = Claims({"renku-admin"});
  const std::string tampered = jwt.substr(0, first + 1) + Segment(claims) + jwt.substr(second);

  ExpectRejected(verifier_.Verify(tampered), "signature invalid");
}

TEST_F(JwtVerifierTest, RejectsTokenSignedByAnotherKeyWithSameKid) {
  TestJwtIssuer impostor(kIssuer);  // same issuer URL and kids, different keys

  ExpectRejected(verifier_.Verify(impostor.Mint(Claims())), "signature invalid");
  ExpectRejected(verifier_.Verify(impostor.Mint(Claims(), MintOptions{.alg = "ES256"})),
                 "signature invalid");
}

TEST_F(JwtVerifierTest, RejectsAlgNone) {
  const std::string jwt = issuer_.Mint(Claims(), MintOptions{.alg_none = true});

  ExpectRejected(verifier_.Verify(jwt), "algorithm not allowed");
  ExpectRejected(verifier_.Verify(jwt + "c2ln"), "algorithm not allowed");
}

TEST_F(JwtVerifierTest, RejectsHs256KeyedWithPublicKeyPem) {
  const std::string jwt = issuer_.Mint(Claims(), MintOptions{.hs256_with_public_key = true});

  ExpectRejected(verifier_.Verify(jwt), "algorithm not allowed");
}

TEST_F(JwtVerifierTest, RejectsHs256KeyedWithPublicJwkBytes) {
  const auto jwks = nlohmann::json::parse(issuer_.JwksJson());
  const std::string secret = jwks["keys"][0].dump();
  const std::string signing_input =
      Segment({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", issuer_.RsaKid()}}) + "."
      + Segment(Claims());
  const std::string jwt =
      signing_input + "." + crypto::Base64UrlEncode(crypto::HmacSha256(secret, signing_input));

  ExpectRejected(verifier_.Verify(jwt), "algorithm not allowed");
}

TEST_F(JwtVerifierTest, RejectsAlgorithmsOutsideAllowList) {
  for (const char* alg : {"RS512", "PS256", "ES384", "rs256", "HS512", "EdDSA"}) {
    const std::string jwt = issuer_.Mint(Claims(), MintOptions{.alg = alg});

    ExpectRejected(verifier_.Verify(jwt), "algorithm not allowed");
  }
}

TEST_F(JwtVerifierTest, RejectsAlgorithmThatDoesNotMatchKey) {
  // Signed with the EC key, but the header points at the RSA key.
  const std::string jwt =
      issuer_.Mint(Claims(), MintOptions{.alg = "ES256", .kid = issuer_.RsaKid()});

  ExpectRejected(verifier_.Verify(jwt), "algorithm does not match key type");
}

TEST_F(JwtVerifierTest, RejectsExpiredTokenAfterLeeway) {
  const std::string jwt = issuer_.Mint(Claims());  // exp = now + 300

  clock_.Advance(seconds(300 + 60));
  const auto within_leeway = verifier_.Verify(jwt);
  clock_.Advance(seconds(1));
  const auto expired = verifier_.Verify(jwt);

  EXPECT_TRUE(within_leeway.ok());
  ExpectRejected(expired, "token expired");
}

TEST_F(JwtVerifierTest, RejectsTokenWithoutExpiry) {
  nlohmann::json claims = Claims();
  claims.erase("exp");

  ExpectRejected(verifier_.Verify(issuer_.Mint(claims)), "token has no expiry");
}

TEST_F(JwtVerifierTest, RejectsTokenNotYetValid) {
  const auto now = core::ToUnixSeconds(clock_.Now());
  nlohmann::json early = Claims();
  early["nbf"] = now + 61;
  nlohmann::json within_leeway = Claims();
  within_leeway["nbf"] = now + 60;

  ExpectRejected(verifier_.Verify(issuer_.Mint(early)), "token not yet valid");
  EXPECT_TRUE(verifier_.Verify(issuer_.Mint(within_leeway)).ok());
}

TEST_F(JwtVerifierTest, AcceptsFractionalNumericDates) {
  nlohmann::json claims = Claims();
  claims["exp"] = static_cast<double>(core::ToUnixSeconds(clock_.Now())) + 10.5;

  EXPECT_TRUE(verifier_.Verify(issuer_.Mint(claims)).ok());
}

TEST_F(JwtVerifierTest, RejectsWrongIssuerClaim) {
  nlohmann::json claims = Claims();
  claims["iss"] = std::string(kIssuer) + "-other";

  ExpectRejected(verifier_.Verify(issuer_.Mint(claims)), "issuer not accepted");
}

TEST_F(JwtVerifierTest, ChecksAudienceAsStringOrArray) {
  nlohmann::json wrong = Claims();
  wrong["aud"] = "account";
  nlohmann::json array = Claims();
  array["aud"] = {"account", "renku"};
  nlohmann::json missing = Claims();
  missing.erase("aud");

  ExpectRejected(verifier_.Verify(issuer_.Mint(wrong)), "audience not accepted");
  EXPECT_TRUE(verifier_.Verify(issuer_.Mint(array)).ok());
  ExpectRejected(verifier_.Verify(issuer_.Mint(missing)), "audience not accepted");
}

TEST_F(JwtVerifierTest, WithoutConfiguredAudiencesNoTokenIsAccepted) {
  // Accepting any audience would let every other application of the realm replay its users'
  // tokens here; app/ refuses to start without an audience, and the verifier fails closed.
  JwtVerifier::Options options = DefaultOptions();
  options.audiences.clear();
  JwtVerifier verifier(options, http_, clock_);
  nlohmann::json claims = Claims();
  claims["aud"] = "anything";

  ExpectRejected(verifier.Verify(issuer_.Mint(claims)), "audience not accepted");
  ExpectRejected(verifier.Verify(issuer_.Mint(Claims())), "audience not accepted");
}

TEST_F(JwtVerifierTest, AnAuthorizedPartyThatIsNotUsIsRefused) {
  // Another client's token that merely lists us among its audiences.
  nlohmann::json other_client = Claims();
  other_client["aud"] = {"renku", "account"};
  other_client["azp"] = "grafana";
  nlohmann::json not_a_string = Claims();
  not_a_string["azp"] = 7;
  nlohmann::json without_azp = Claims();
  without_azp.erase("azp");

  ExpectRejected(verifier_.Verify(issuer_.Mint(other_client)), "authorized party not accepted");
  ExpectRejected(verifier_.Verify(issuer_.Mint(not_a_string)), "authorized party not accepted");
  EXPECT_TRUE(verifier_.Verify(issuer_.Mint(without_azp)).ok());
}

TEST_F(JwtVerifierTest, IdTokensAreNotBearerCredentials) {
  nlohmann::json id_token = Claims();
  id_token["typ"] = "ID";
  nlohmann::json access_token = Claims();
  access_token["typ"] = "Bearer";

  ExpectRejected(verifier_.Verify(issuer_.Mint(id_token)),
                 "ID tokens are not accepted as bearer credentials");
  EXPECT_TRUE(verifier_.Verify(issuer_.Mint(access_token)).ok());
}

TEST_F(JwtVerifierTest, AnIdTokenIsAcceptedOnlyByTheSignInOfItsOwnClient) {
  JwtVerifier::Options options = DefaultOptions();
  options.sign_in_client_id = "renku-ui";
  JwtVerifier verifier(options, http_, clock_);
  nlohmann::json ours = Claims();
  ours["typ"] = "ID";
  ours["aud"] = "renku-ui";
  ours["azp"] = "renku-ui";
  nlohmann::json another_clients = ours;
  another_clients["aud"] = "grafana";
  another_clients["azp"] = "grafana";

  EXPECT_TRUE(verifier.Verify(issuer_.Mint(ours), TokenUse::kSignInIdToken).ok());
  ExpectRejected(verifier.Verify(issuer_.Mint(ours)), "audience not accepted");
  ExpectRejected(verifier.Verify(issuer_.Mint(another_clients), TokenUse::kSignInIdToken),
                 "audience not accepted");
}

TEST_F(JwtVerifierTest, KeysComeOnlyOverTlsFromTheIssuersOriginOrANamedOne) {
  const auto verify_with_jwks_at = [&](const std::string& jwks_url,
                                       std::vector<std::string> extra_origins) {
    ScriptedHttpClient http;
    http.Always("GET", issuer_.DiscoveryUrl(), JsonResponse(200, issuer_.DiscoveryJson(jwks_url)));
    http.Always("GET", jwks_url, JsonResponse(200, issuer_.JwksJson()));
    JwtVerifier::Options options = DefaultOptions();
    options.extra_jwks_origins = std::move(extra_origins);
    JwtVerifier verifier(options, http, clock_);
    auto result = verifier.Verify(issuer_.Mint(Claims()));
    EXPECT_EQ(http.CountRequests(jwks_url), result.ok() ? 1U : 0U) << "never fetched if refused";
    return result;
  };

  const auto plain = verify_with_jwks_at("http://keycloak.test/auth/realms/renku/certs", {});
  const auto elsewhere = verify_with_jwks_at("https://keys.example.net/certs", {});
  const auto named =
      verify_with_jwks_at("https://keys.example.net/certs", {"https://keys.example.net"});

  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code, core::ErrorCode::kUpstreamFailed);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code, core::ErrorCode::kUpstreamFailed);
  EXPECT_NE(elsewhere.error().detail.find("--oidc-jwks-origin"), std::string::npos);
  EXPECT_TRUE(named.ok()) << named.error().detail;
}

TEST_F(JwtVerifierTest, RejectsMissingOrEmptySubject) {
  nlohmann::json missing = Claims();
  missing.erase("sub");
  nlohmann::json empty = Claims();
  empty["sub"] = "";
  nlohmann::json number = Claims();
  number["sub"] = 42;

  ExpectRejected(verifier_.Verify(issuer_.Mint(missing)), "token has no subject");
  ExpectRejected(verifier_.Verify(issuer_.Mint(empty)), "token has no subject");
  ExpectRejected(verifier_.Verify(issuer_.Mint(number)), "token has no subject");
}

TEST_F(JwtVerifierTest, RejectsUnknownKid) {
  const std::string jwt = issuer_.Mint(Claims(), MintOptions{.kid = "not-published"});

  ExpectRejected(verifier_.Verify(jwt), "unknown signing key");
}

TEST_F(JwtVerifierTest, RefetchesJwksWhenIssuerRotatesKeys) {
  ASSERT_TRUE(verifier_.Verify(issuer_.Mint(Claims())).ok());
  const std::string old_token = issuer_.Mint(Claims());
  issuer_.RotateKeys();
  ServeIssuer();
  clock_.Advance(seconds(30));

  const auto rotated = verifier_.Verify(issuer_.Mint(Claims()));

  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(JwksFetches(), 2U);
  ExpectRejected(verifier_.Verify(old_token), "unknown signing key");  // dropped from the JWKS
  EXPECT_EQ(JwksFetches(), 2U);
}

TEST_F(JwtVerifierTest, RateLimitsRefetchForUnknownKids) {
  ASSERT_TRUE(verifier_.Verify(issuer_.Mint(Claims())).ok());
  ASSERT_EQ(JwksFetches(), 1U);

  for (int i = 0; i < 5; ++i) {
    ExpectRejected(
        verifier_.Verify(issuer_.Mint(Claims(), MintOptions{.kid = "k" + std::to_string(i)})),
        "unknown signing key");
  }
  EXPECT_EQ(JwksFetches(), 1U);

  clock_.Advance(seconds(29));
  ExpectRejected(verifier_.Verify(issuer_.Mint(Claims(), MintOptions{.kid = "x"})),
                 "unknown signing key");
  EXPECT_EQ(JwksFetches(), 1U);

  clock_.Advance(seconds(1));
  ExpectRejected(verifier_.Verify(issuer_.Mint(Claims(), MintOptions{.kid = "y"})),
                 "unknown signing key");
  ExpectRejected(verifier_.Verify(issuer_.Mint(Claims(), MintOptions{.kid = "z"})),
                 "unknown signing key");
  EXPECT_EQ(JwksFetches(), 2U);
}

TEST_F(JwtVerifierTest, RefreshesKeysAfterMaxAge) {
  ASSERT_TRUE(verifier_.Verify(issuer_.Mint(Claims())).ok());
  issuer_.RotateKeys();
  ServeIssuer();
  clock_.Advance(seconds(3600));
  const std::string old_kid_token = issuer_.Mint(Claims(), MintOptions{.kid = "rsa-1"});

  const auto result = verifier_.Verify(old_kid_token);

  EXPECT_EQ(JwksFetches(), 2U);
  ExpectRejected(result, "unknown signing key");
}

TEST_F(JwtVerifierTest, KeepsCachedKeysWhileIssuerIsDownDuringRefresh) {
  ASSERT_TRUE(verifier_.Verify(issuer_.Mint(Claims())).ok());
  http_.Always("GET", issuer_.DiscoveryUrl(), JsonResponse(503, "{}"));
  clock_.Advance(seconds(3600));

  const auto result = verifier_.Verify(issuer_.Mint(Claims()));

  EXPECT_TRUE(result.ok());
  EXPECT_EQ(http_.CountRequests(issuer_.DiscoveryUrl()), 2U);
}

TEST_F(JwtVerifierTest, IssuerUnreachableIsUnavailable) {
  ScriptedHttpClient down;  // answers every request with a transport error
  JwtVerifier verifier(DefaultOptions(), down, clock_);

  const auto result = verifier.Verify(issuer_.Mint(Claims()));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().message, "identity issuer unavailable");
}

TEST_F(JwtVerifierTest, Non200DiscoveryIsUnavailableAndRetriedLater) {
  ScriptedHttpClient http;
  http.Enqueue("GET", issuer_.DiscoveryUrl(), JsonResponse(502, "bad gateway"));
  http.Always("GET", issuer_.DiscoveryUrl(),
              JsonResponse(200, issuer_.DiscoveryJson(issuer_.JwksUrl())));
  http.Always("GET", issuer_.JwksUrl(), JsonResponse(200, issuer_.JwksJson()));
  JwtVerifier verifier(DefaultOptions(), http, clock_);
  const std::string jwt = issuer_.Mint(Claims());

  const auto first = verifier.Verify(jwt);
  const auto immediately = verifier.Verify(jwt);
  clock_.Advance(seconds(30));
  const auto later = verifier.Verify(jwt);

  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, core::ErrorCode::kUnavailable);
  ASSERT_FALSE(immediately.ok());
  EXPECT_EQ(immediately.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(http.CountRequests(issuer_.DiscoveryUrl()), 2U);
  EXPECT_TRUE(later.ok());
}

TEST_F(JwtVerifierTest, RejectsDiscoveryForAnotherIssuer) {
  ScriptedHttpClient http;
  const nlohmann::json discovery = {{"issuer", "https://evil.test/realms/renku"},
                                    {"jwks_uri", issuer_.JwksUrl()}};
  http.Always("GET", issuer_.DiscoveryUrl(), JsonResponse(200, discovery.dump()));
  http.Always("GET", issuer_.JwksUrl(), JsonResponse(200, issuer_.JwksJson()));
  JwtVerifier verifier(DefaultOptions(), http, clock_);

  const auto result = verifier.Verify(issuer_.Mint(Claims()));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(http.CountRequests(issuer_.JwksUrl()), 0U);
}

TEST_F(JwtVerifierTest, StripsTrailingSlashForDiscoveryOnly) {
  const std::string slash_issuer = std::string(kIssuer) + "/";
  ScriptedHttpClient http;
  const nlohmann::json discovery = {{"issuer", slash_issuer}, {"jwks_uri", issuer_.JwksUrl()}};
  http.Always("GET", issuer_.DiscoveryUrl(), JsonResponse(200, discovery.dump()));
  http.Always("GET", issuer_.JwksUrl(), JsonResponse(200, issuer_.JwksJson()));
  JwtVerifier::Options options = DefaultOptions();
  options.issuer = slash_issuer;
  JwtVerifier verifier(options, http, clock_);
  nlohmann::json claims = Claims();
  claims["iss"] = slash_issuer;

  const auto result = verifier.Verify(issuer_.Mint(claims));

  EXPECT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(http.Requests().at(0).url, std::string(kIssuer) + "/.well-known/openid-configuration");
}

TEST_F(JwtVerifierTest, RejectsMalformedTokensWithoutFetching) {
  const std::string valid = issuer_.Mint(Claims());
  const std::string header_rs256 = Segment({{"alg", "RS256"}, {"kid", "rsa-1"}});
  const std::vector<std::string> malformed = {
      "",
      "abc",
      "a.b",
      valid + ".extra",
      "!!!." + valid.substr(valid.find('.') + 1),
      crypto::Base64UrlEncode("not json") + ".e30.c2ln",
      crypto::Base64UrlEncode("[1,2]") + ".e30.c2ln",
      crypto::Base64UrlEncode(std::string(4000, '[') + std::string(4000, ']')) + ".e30.c2ln",
      header_rs256 + ".!!!.c2ln",
      header_rs256 + ".e30.",
      header_rs256 + ".e30.!!!",
      Segment({{"kid", "rsa-1"}}) + ".e30.c2ln",
      Segment({{"alg", 256}, {"kid", "rsa-1"}}) + ".e30.c2ln",
      std::string("\0\0\0", 3),
  };

  for (const auto& token : malformed) {
    const auto result = verifier_.Verify(token);
    ASSERT_FALSE(result.ok()) << token;
    EXPECT_EQ(result.error().code, core::ErrorCode::kUnauthenticated) << token;
  }
  EXPECT_EQ(http_.Requests().size(), 0U);
}

TEST_F(JwtVerifierTest, RejectsHugeToken) {
  nlohmann::json claims = Claims();
  claims["padding"] = std::string(std::size_t{16} * 1024, 'x');

  ExpectRejected(verifier_.Verify(issuer_.Mint(claims)), "token too large");
}

TEST_F(JwtVerifierTest, RejectsMissingKidAndCriticalHeaders) {
  const std::string rest = "." + Segment(Claims()) + ".c2ln";

  ExpectRejected(verifier_.Verify(Segment({{"alg", "RS256"}}) + rest), "token has no key id");
  ExpectRejected(
      verifier_.Verify(Segment({{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", {"exp"}}}) + rest),
      "unsupported critical header");
}

TEST_F(JwtVerifierTest, RejectsUnsignedPayloadThatIsNotJson) {
  const std::string jwt = issuer_.Mint(Claims());
  const std::size_t first = jwt.find('.');
  const std::size_t second = jwt.find('.', first + 1);
  const std::string tampered =
      jwt.substr(0, first + 1) + crypto::Base64UrlEncode("not json") + jwt.substr(second);

  ExpectRejected(verifier_.Verify(tampered), "signature invalid");
}

TEST_F(JwtVerifierTest, VerifiesConcurrentlyWithOneFetch) {
  const std::string rs = issuer_.Mint(Claims());
  const std::string es = issuer_.Mint(Claims(), MintOptions{.alg = "ES256"});
  std::atomic<int> failures{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        failures += verifier_.Verify(t % 2 == 0 ? rs : es).ok() ? 0 : 1;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(JwksFetches(), 1U);
}

TEST_F(JwtVerifierTest, IgnoresUnusableJwksEntries) {
  ScriptedHttpClient http;
  auto jwks = nlohmann::json::parse(issuer_.JwksJson());
  jwks["keys"].push_back({{"kid", "hmac"}, {"kty", "oct"}, {"k", "c2VjcmV0"}});
  jwks["keys"].push_back("not an object");
  jwks["keys"][1]["use"] = "enc";  // the EC key is for encryption only now
  http.Always("GET", issuer_.DiscoveryUrl(),
              JsonResponse(200, issuer_.DiscoveryJson(issuer_.JwksUrl())));
  http.Always("GET", issuer_.JwksUrl(), JsonResponse(200, jwks.dump()));
  JwtVerifier verifier(DefaultOptions(), http, clock_);

  EXPECT_TRUE(verifier.Verify(issuer_.Mint(Claims())).ok());
  ExpectRejected(verifier.Verify(issuer_.Mint(Claims(), MintOptions{.alg = "ES256"})),
                 "unknown signing key");
}

// An issuer whose JWKS answers are held, once Hold() is called, until the test releases them: a
// slow identity provider.
class HeldJwksClient final : public core::HttpClient {
 public:
  explicit HeldJwksClient(const TestJwtIssuer& issuer) : issuer_(issuer) {}
  core::Result<core::HttpResponse> Send(const core::HttpRequest& request) override {
    if (request.url == issuer_.DiscoveryUrl()) {
      return JsonResponse(200, issuer_.DiscoveryJson(issuer_.JwksUrl()));
    }
    std::unique_lock lock(mu_);
    if (holding_) {
      arrived_ = true;
      changed_.notify_all();
      changed_.wait(lock, [this] { return !holding_; });
    }
    return JsonResponse(200, issuer_.JwksJson());
  }
  void Hold() {
    std::lock_guard lock(mu_);
    holding_ = true;
  }
  void WaitUntilAFetchIsHeld() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return arrived_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    holding_ = false;
    changed_.notify_all();
  }

 private:
  const TestJwtIssuer& issuer_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool holding_ = false;
  bool arrived_ = false;
};

TEST(JwtVerifierFetch, OnceKeysAreKnownNoCallerWaitsForAnotherCallersKeyFetch) {
  FakeClock clock;
  TestJwtIssuer issuer{kIssuer};
  HeldJwksClient http(issuer);
  JwtVerifier::Options options;
  options.issuer = kIssuer;
  options.audiences = {"renku"};
  JwtVerifier verifier(options, http, clock);
  const std::string old_key = issuer.Mint(issuer.DefaultClaims("user-1", {}, clock.Now()));
  ASSERT_TRUE(verifier.Verify(old_key).ok());
  issuer.RotateKeys();
  clock.Advance(core::Seconds(60));  // past the refetch interval
  const std::string new_key = issuer.Mint(issuer.DefaultClaims("user-2", {}, clock.Now()));
  http.Hold();
  bool first_ok = false;
  std::thread first([&] { first_ok = verifier.Verify(new_key).ok(); });
  http.WaitUntilAFetchIsHeld();

  // If these waited for the first caller's fetch, the test would never get to Release().
  const auto known = verifier.Verify(old_key);
  const auto unknown = verifier.Verify(new_key);
  http.Release();
  first.join();

  EXPECT_TRUE(known.ok()) << "a known key is used while the fetch runs";
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(unknown.error().retry_after, std::chrono::seconds(1));
  EXPECT_TRUE(first_ok);
  EXPECT_TRUE(verifier.Verify(new_key).ok()) << "the fetched keys serve everyone afterwards";
}

}  // namespace
}  // namespace keybridge::identity
