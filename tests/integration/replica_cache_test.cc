// The caches' promise across replicas (ARCHITECTURE.md, "Caches"): with TWO real keybridge
// processes on one PostgreSQL, each answering token reads from memory, a session token revoked on
// A, a connection deleted on A and a token refreshed on A are seen by B within 1 s.
//
// Each test first shows that B answers from its cache (its cache-hit counter grows), so the test
// fails if the caches are bypassed as much as if they go stale. The promise is checked on when
// requests were SENT: any request sent more than 1 s after A confirmed the change must get the
// new answer, however long a loaded machine takes to answer it. bench/run's "revoke" item
// measures the actual latency.
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
// How long the test waits at most for things that are not the promise (a loaded machine).
constexpr std::chrono::seconds kPatience{15};

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

  // Reads through B until `fresh` says the answer reflects the change A confirmed at `since`;
  // returns when the last stale answer's request was sent, relative to `since` (zero if none
  // was stale), or nullopt if no fresh answer came within kPatience.
  template <typename Fresh>
  std::optional<milliseconds> LastStaleRequestAfter(const std::string& path,
                                                    const std::string& bearer,
                                                    steady_clock::time_point since, Fresh fresh) {
    milliseconds last_stale{0};
    while (steady_clock::now() < since + kPatience) {
      const steady_clock::time_point sent = steady_clock::now();
      auto r = call_b_->Try("GET", path, bearer);
      if (r.ok() && fresh(*r)) {
        return last_stale;
      }
      last_stale = std::chrono::duration_cast<milliseconds>(sent - since);
    }
    return std::nullopt;
  }

  // Reads through B until its cache answered one (the hit counter of `cache` grows).
  bool BAnswersFromItsCache(const std::string& cache, const std::string& path,
                            const std::string& bearer) {
    const double before = CacheHitsOnB(cache);
    const steady_clock::time_point deadline = steady_clock::now() + kPatience;
    while (steady_clock::now() < deadline) {
      if (call_b_->Call("GET", path, bearer).status != 200) {
        return false;
      }
      if (CacheHitsOnB(cache) > before) {
        return true;
      }
    }
    return false;
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
  ASSERT_TRUE(BAnswersFromItsCache("session_tokens", PlainTokenPath(), session));

  auto revoked = call_a_->Call("DELETE", "/api/data/sessions/tokens/" + token_id, alice_);
  ASSERT_EQ(revoked.status, 204) << revoked.body;
  const auto last_stale =
      LastStaleRequestAfter(PlainTokenPath(), session, steady_clock::now(),
                            [](const core::HttpResponse& r) { return r.status == 401; });

  ASSERT_TRUE(last_stale.has_value()) << "B kept accepting the revoked session token";
  EXPECT_LE(last_stale->count(), kPromise.count());
}

TEST_F(ReplicaCacheTest, AConnectionDeletedOnAIsGoneOnBWithinTheSecond) {
  ASSERT_TRUE(BAnswersFromItsCache("oauth2_connections", PlainTokenPath(), alice_));

  auto deleted = call_a_->Call("DELETE", "/api/data/oauth2/connections/" + connection_id_, alice_);
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  const auto last_stale =
      LastStaleRequestAfter(PlainTokenPath(), alice_, steady_clock::now(),
                            [](const core::HttpResponse& r) { return r.status == 404; });

  ASSERT_TRUE(last_stale.has_value()) << "B kept handing out the deleted connection's token";
  EXPECT_LE(last_stale->count(), kPromise.count());
}

TEST_F(ReplicaCacheTest, ATokenRefreshedOnAIsTheOneBHandsOutWithinTheSecond) {
  auto before = call_b_->Call("GET", PlainTokenPath(), alice_);
  ASSERT_EQ(before.status, 200) << before.body;
  const std::string old_token = json::parse(before.body)["access_token"];
  ASSERT_TRUE(BAnswersFromItsCache("oauth2_connections", PlainTokenPath(), alice_));

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
  const auto last_stale = LastStaleRequestAfter(
      PlainTokenPath(), alice_, steady_clock::now(), [&](const core::HttpResponse& r) {
        const json body = json::parse(r.body, nullptr, false);
        return r.status == 200 && body.value("access_token", "") == new_token;
      });

  ASSERT_TRUE(last_stale.has_value()) << "B kept handing out the token A's refresh replaced";
  EXPECT_LE(last_stale->count(), kPromise.count());
}

}  // namespace
}  // namespace keybridge
