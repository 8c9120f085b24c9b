// TwoReplicasTest: TWO real keybridge processes ("replicas" A and B) on one throwaway PostgreSQL
// database, a fake GitLab registered through A, and Alice connected through A. For the tests of
// what replicas must agree on (the refresh race, the caches' change feed).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "integration/keybridge_process.h"
#include "storage/store.h"
#include "support/fake_clock.h"

namespace keybridge::testing {

class TwoReplicasTest : public ::testing::Test {
 protected:
  // Extra `keybridge serve` flags of both replicas.
  virtual std::vector<std::string> ExtraFlags() const { return {}; }

  void SetUp() override {
    // getenv: read on the test's main thread before the test starts any thread, and nothing in
    // the tests sets the environment.
    const char* admin_url =
        std::getenv("KEYBRIDGE_TEST_POSTGRES_URL");  // NOLINT(concurrency-mt-unsafe)
    if (admin_url == nullptr || *admin_url == '\0') {
      if (std::getenv("KEYBRIDGE_REQUIRE_POSTGRES") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        FAIL() << "KEYBRIDGE_TEST_POSTGRES_URL is not set but KEYBRIDGE_REQUIRE_POSTGRES is";
      }
      GTEST_SKIP() << "needs KEYBRIDGE_TEST_POSTGRES_URL (./dev test sets it)";
    }
    admin_url_ = admin_url;
    database_ = "kb_race_" + std::to_string(std::random_device{}());
    auto admin = storage::OpenDatabase(admin_url_);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    ASSERT_TRUE((*admin)->Execute("CREATE DATABASE " + database_, {}).ok());
    const auto slash = admin_url_.rfind('/');
    database_url_ = admin_url_.substr(0, slash + 1) + database_;

    dir_ = std::filesystem::temp_directory_path()
           / ("keybridge-race-" + std::to_string(::getpid()) + "-" + database_);
    std::filesystem::create_directories(dir_);
    const std::vector<std::string> args = {"--database",
                                           database_url_,
                                           "--key-file",
                                           (dir_ / "keys").string(),
                                           "--oidc-issuer",
                                           issuer_.IssuerUrl(),
                                           "--oidc-audience",
                                           "renku",
                                           "--background-refresh-interval",
                                           "0"};
    std::vector<std::string> all = args;
    for (std::string& flag : ExtraFlags()) {
      all.push_back(std::move(flag));
    }
    a_ = std::make_unique<KeybridgeProcess>(all, (dir_ / "a.log").string());
    ASSERT_FALSE(a_->base_url().empty()) << "replica A did not start; see " << dir_ / "a.log";
    b_ = std::make_unique<KeybridgeProcess>(all, (dir_ / "b.log").string());
    ASSERT_FALSE(b_->base_url().empty()) << "replica B did not start; see " << dir_ / "b.log";
    call_a_ = std::make_unique<HttpCaller>(a_->base_url());
    call_b_ = std::make_unique<HttpCaller>(b_->base_url());

    gitlab_.SetRedirectUris({a_->base_url() + "/api/data/oauth2/callback"});
    nlohmann::json provider = {{"id", "gitlab"},
                               {"kind", "gitlab"},
                               {"client_id", gitlab_.AppOptions().client_id},
                               {"client_secret", gitlab_.AppOptions().client_secret},
                               {"display_name", "Fake GitLab"},
                               {"scope", "api"},
                               {"url", gitlab_.BaseUrl()}};
    auto created =
        call_a_->Call("POST", "/api/data/oauth2/providers", issuer_.AdminToken(), provider.dump());
    ASSERT_EQ(created.status, 201) << created.body;

    // The first token lives two seconds and is past half its life when SetUp returns, so the next
    // read must refresh; the refreshed two-hour token satisfies every later reader.
    gitlab_.SetAccessTokenLifetime(kShortTokenLifetime);
    alice_ = issuer_.TokenFor("alice");
    ConnectThroughA();
    gitlab_.SetAccessTokenLifetime(core::Seconds(7200));
    WaitUntilShortTokensNeedRefresh();
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    if (!database_.empty()) {
      if (auto admin = storage::OpenDatabase(admin_url_); admin.ok()) {
        (void)(*admin)->Execute("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)", {});
      }
    }
    std::filesystem::remove_all(dir_);
  }

  void ConnectThroughA() {
    auto authorize = call_a_->Call("GET", "/api/data/oauth2/providers/gitlab/authorize", alice_);
    ASSERT_EQ(authorize.status, 302) << authorize.body;
    auto at_gitlab = call_a_->Call("GET", authorize.Header("location"));
    ASSERT_EQ(at_gitlab.status, 302) << at_gitlab.body;
    auto done = call_a_->Call("GET", at_gitlab.Header("location"), alice_, "",
                              {{"Cookie", CookiePair(authorize)}});
    ASSERT_EQ(done.status, 200) << done.body;
    auto list =
        nlohmann::json::parse(call_a_->Call("GET", "/api/data/oauth2/connections", alice_).body);
    ASSERT_EQ(list.size(), 1U);
    connection_id_ = list[0]["id"];
  }

  std::string TokenPath() const {
    return "/api/data/oauth2/connections/" + connection_id_ + "/token?min_valid_seconds=3600";
  }

  TestIssuerServer issuer_;
  FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  std::string admin_url_, database_, database_url_;
  std::filesystem::path dir_;
  std::unique_ptr<KeybridgeProcess> a_, b_;
  std::unique_ptr<HttpCaller> call_a_, call_b_;
  std::string alice_, connection_id_;
};

}  // namespace keybridge::testing
