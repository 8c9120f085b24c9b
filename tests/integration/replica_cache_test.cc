// The caches' promise across replicas (ARCHITECTURE.md, "Caches"): with TWO real keybridge
// processes on one PostgreSQL, each answering token reads from memory, a session token revoked on
// A, a connection deleted on A and a token refreshed on A are seen by B within 1 s.
//
// Each test first shows that B answers from its cache (its cache-hit counter grows), so the test
// fails if the caches are bypassed as much as if they go stale. The deadline is the promise plus
// a slack for this test's own requests on a loaded machine; bench/run's "revoke" item measures
// the actual latency.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/url.h"
#include "crypto/hash.h"
#include "integration/two_replicas.h"
#include "metrics/exposition_parser.h"

namespace keybridge {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kPromise{1000};
constexpr milliseconds kSlack{500};

class ReplicaCacheTest : public testing::TwoReplicasTest {
 protected:
  void SetUp() override {
    TwoReplicasTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) {
      return;
    }
    // A long-lived token first (the one from connecting lives a minute), so reads stay fresh.
    auto refreshed = call_a_->Call("GET", TokenPath(), alice_);
    ASSERT_EQ(refreshed.status, 200) << refreshed.body;
    // B's change feed confirms a round trip after B started; until then its caches stay off.
    const steady_clock::time_point deadline = steady_clock::now() + std::chrono::seconds(10);
    while (ScrapeB("keybridge_change_feed_current", {}) != 1 && steady_clock::now() < deadline) {
    }
    ASSERT_EQ(ScrapeB("keybridge_change_feed_current", {}), 1);
  }

  std::string PlainTokenPath() const {
    return "/api/data/oauth2/connections/" + connection_id_ + "/token";
  }

  // A sample of B's /metrics (strictly parsed); -1 if absent.
  double ScrapeB(const std::string& name, const std::map<std::string, std::string>& labels) {
    auto scraped = call_b_->Call("GET", "/metrics", issuer_.AdminToken());
    EXPECT_EQ(scraped.status, 200) << scraped.body;
    auto families = metrics::ParseExposition(scraped.body);
    EXPECT_TRUE(families.ok()) << (families.ok() ? "" : families.error().message);
    if (!families.ok()) {
      return -1;
    }
    const metrics::ParsedSample* sample = metrics::FindSample(*families, name, labels);
    return sample == nullptr ? -1 : sample->value;
  }

  double CacheHitsOnB(const std::string& cache) {
    return ScrapeB("keybridge_cache_hits_total", {{"cache", cache}});
  }

  // Reads through B until `done` says so; returns how long after `since` that took, or nullopt
  // past the promise and its slack.
  template <typename Done>
  std::optional<milliseconds> UntilBSays(const std::string& path, const std::string& bearer,
                                         steady_clock::time_point since, Done done) {
    const steady_clock::time_point deadline = since + kPromise + kSlack;
    while (steady_clock::now() < deadline) {
      auto r = call_b_->Try("GET", path, bearer);
      if (r.ok() && done(*r)) {
        return std::chrono::duration_cast<milliseconds>(steady_clock::now() - since);
      }
    }
    return std::nullopt;
  }

  std::string MintSessionToken(std::string* token_id) {
    json body = {{"session_name", "cache-test"},
                 {"connection_ids", {connection_id_}},
                 {"ttl_seconds", 3600}};
    auto minted = call_a_->Call("POST", "/api/data/sessions/tokens", alice_, body.dump());
    EXPECT_EQ(minted.status, 201) << minted.body;
    const json answer = json::parse(minted.body, nullptr, false);
    *token_id = answer.value("id", "");
    return answer.value("token", "");
  }
};

TEST_F(ReplicaCacheTest, ASessionTokenRevokedOnAIsRefusedByBWithinTheSecond) {
  std::string token_id;
  const std::string session = MintSessionToken(&token_id);
  ASSERT_FALSE(session.empty());
  const double hits_before = CacheHitsOnB("session_tokens");
  ASSERT_EQ(call_b_->Call("GET", PlainTokenPath(), session).status, 200);
  ASSERT_EQ(call_b_->Call("GET", PlainTokenPath(), session).status, 200);
  EXPECT_GT(CacheHitsOnB("session_tokens"), hits_before) << "B did not answer from its cache";

  auto revoked = call_a_->Call("DELETE", "/api/data/sessions/tokens/" + token_id, alice_);
  ASSERT_EQ(revoked.status, 204) << revoked.body;
  const auto took = UntilBSays(PlainTokenPath(), session, steady_clock::now(),
                               [](const core::HttpResponse& r) { return r.status == 401; });

  ASSERT_TRUE(took.has_value()) << "B still accepted the revoked session token";
  EXPECT_LE(took->count(), (kPromise + kSlack).count());
}

TEST_F(ReplicaCacheTest, AConnectionDeletedOnAIsGoneOnBWithinTheSecond) {
  const double hits_before = CacheHitsOnB("oauth2_connections");
  ASSERT_EQ(call_b_->Call("GET", PlainTokenPath(), alice_).status, 200);
  ASSERT_EQ(call_b_->Call("GET", PlainTokenPath(), alice_).status, 200);
  EXPECT_GT(CacheHitsOnB("oauth2_connections"), hits_before) << "B did not answer from its cache";

  auto deleted = call_a_->Call("DELETE", "/api/data/oauth2/connections/" + connection_id_, alice_);
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  const auto took = UntilBSays(PlainTokenPath(), alice_, steady_clock::now(),
                               [](const core::HttpResponse& r) { return r.status == 404; });

  ASSERT_TRUE(took.has_value()) << "B still handed out the deleted connection's token";
}

TEST_F(ReplicaCacheTest, ATokenRefreshedOnAIsTheOneBHandsOutWithinTheSecond) {
  auto before = call_b_->Call("GET", PlainTokenPath(), alice_);
  ASSERT_EQ(before.status, 200) << before.body;
  const std::string old_token = json::parse(before.body)["access_token"];
  const double hits_before = CacheHitsOnB("oauth2_connections");
  ASSERT_EQ(call_b_->Call("GET", PlainTokenPath(), alice_).status, 200);
  EXPECT_GT(CacheHitsOnB("oauth2_connections"), hits_before) << "B did not answer from its cache";

  // Git on A's side saw GitLab reject the token: A refreshes (and GitLab revokes the old one).
  auto refreshed = call_a_->Call(
      "GET",
      "/api/data/git/credentials?url=" + core::PercentEncode(gitlab_.GitUrl("group/project"))
          + "&force_refresh=1&rejected_sha256=" + crypto::Sha256Hex(old_token),
      alice_);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string new_token = json::parse(refreshed.body)["password"];
  ASSERT_NE(new_token, old_token);
  EXPECT_FALSE(gitlab_.IsAccessTokenLive(old_token));
  const auto took =
      UntilBSays(PlainTokenPath(), alice_, steady_clock::now(), [&](const core::HttpResponse& r) {
        const json body = json::parse(r.body, nullptr, false);
        return r.status == 200 && body.value("access_token", "") == new_token;
      });

  ASSERT_TRUE(took.has_value()) << "B kept handing out the token A's refresh replaced";
}

}  // namespace
}  // namespace keybridge
