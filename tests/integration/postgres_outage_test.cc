// PostgreSQL goes away under load and comes back, and keybridge is not restarted: the test owns
// a throwaway PostgreSQL cluster (initdb in a temporary directory, Debian's PostgreSQL 15
// binaries), serves from it, keeps readers busy (token reads and /healthz), stops the server with
// `pg_ctl stop -m fast` and starts it again on the same port. While it is down, token reads must
// be answered at once with 503 and Retry-After (never hang: a reader's 10 s deadline counts as a
// failure), /healthz stays 200 and /readyz turns 503 naming PostgreSQL; once it is back, the same
// Application serves 200 again. Synchronisation is on what the server reports, never on time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "integration/keybridge_process.h"
#include "metrics/exposition_parser.h"
#include "net/curl_http_client.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Debian 12's PostgreSQL (the `postgresql` package ./dev installs), as ./dev and bench/run use it.
constexpr const char* kPostgresBin = "/usr/lib/postgresql/15/bin";

// Runs a shell command; its exit status and what it printed (stdout and stderr).
struct CommandResult {
  bool ok = false;
  std::string output;
};
CommandResult Run(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return {false, "popen failed"};
  }
  CommandResult result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    result.output.append(buffer, n);
  }
  result.ok = ::pclose(pipe) == 0;
  return result;
}

// A PostgreSQL cluster of its own in a temporary directory, on a loopback port that stays the
// same across Stop() and Start(). PostgreSQL refuses to run as root, so as root its commands run
// as the `postgres` user (which the Debian package creates), like ./dev's start_postgres.
class ThrowawayPostgres {
 public:
  ThrowawayPostgres() = default;
  ~ThrowawayPostgres() {
    if (!dir_.empty()) {
      static_cast<void>(Stop("immediate"));
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }
  ThrowawayPostgres(const ThrowawayPostgres&) = delete;
  ThrowawayPostgres& operator=(const ThrowawayPostgres&) = delete;

  static bool BinariesInstalled() {
    return fs::exists(fs::path(kPostgresBin) / "initdb")
           && fs::exists(fs::path(kPostgresBin) / "pg_ctl");
  }

  // initdb, then Start() on a free port; "" on success, else what went wrong.
  std::string Create() {
    std::string pattern = (fs::temp_directory_path() / "keybridge-pg-outage.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return "mkdtemp failed";
    }
    dir_ = pattern;
    if (::geteuid() == 0) {
      const passwd* user = ::getpwnam("postgres");  // NOLINT(concurrency-mt-unsafe): one thread
      if (user == nullptr || ::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
        return "running as root, but cannot hand " + dir_.string() + " to the postgres user";
      }
      as_postgres_ = "runuser -u postgres -- ";
    }
    const CommandResult initdb = Run(as_postgres_ + kPostgresBin + "/initdb -D " + Data()
                                     + " -A trust -U postgres --no-sync");
    if (!initdb.ok) {
      return "initdb failed: " + initdb.output;
    }
    // Another process may take the port between choosing it and the server's bind: try a few.
    std::string problem;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = testing::FreeLoopbackPort();
      problem = Start();
      if (problem.empty()) {
        return "";
      }
    }
    return problem;
  }

  // Starts the server and returns once it accepts connections (pg_ctl -w); "" on success.
  std::string Start() {
    const CommandResult started =
        Run(as_postgres_ + kPostgresBin + "/pg_ctl -D " + Data() + " -l " + Log()
            + " -w -o \"-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k "
            + dir_.string() + " -c fsync=off\" start");
    return started.ok ? "" : "pg_ctl start failed: " + started.output;
  }

  // Stops the server and returns once it has exited (pg_ctl -w): "fast" ends every session,
  // rolling back open transactions; "immediate" kills the server outright. "" on success.
  std::string Stop(const std::string& mode) {
    const CommandResult stopped =
        Run(as_postgres_ + kPostgresBin + "/pg_ctl -D " + Data() + " -m " + mode + " -w stop");
    return stopped.ok ? "" : "pg_ctl stop failed: " + stopped.output;
  }

  // Both, as one command: every session ends, and the server is back when it returns. (The
  // server's output must go to the log: on Run()'s pipe it would keep it open forever.)
  std::string Restart() {
    const CommandResult restarted = Run(as_postgres_ + kPostgresBin + "/pg_ctl -D " + Data()
                                        + " -l " + Log() + " -m fast -w restart");
    return restarted.ok ? "" : "pg_ctl restart failed: " + restarted.output;
  }

  std::string Url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }
  std::string ServerLog() const { return Run("cat " + Log()).output; }

 private:
  std::string Data() const { return (dir_ / "data").string(); }
  std::string Log() const { return (dir_ / "server.log").string(); }

  fs::path dir_;
  std::string as_postgres_;
  int port_ = 0;
};

// What one reader saw for one request.
struct Outcome {
  enum class Kind { kTokenRead, kHealth };
  Kind kind = Kind::kTokenRead;
  int reader = 0;
  Clock::time_point start;
  Clock::time_point end;
  bool answered = false;  // false: transport failure or the 10 s deadline passed
  int status = 0;
  std::string retry_after;
  std::string detail;  // the body or the transport error, for failure messages
};

std::string Describe(const Outcome& o) {
  return std::string(o.kind == Outcome::Kind::kTokenRead ? "token read" : "/healthz")
         + " by reader " + std::to_string(o.reader) + ": "
         + (o.answered ? "HTTP " + std::to_string(o.status) + " " + o.detail
                       : "no answer: " + o.detail)
         + " after "
         + std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(o.end - o.start).count())
         + " ms";
}

// Readers that each alternate a token read and /healthz until Stop(), recording every outcome,
// with `pause` between rounds.
class Readers {
 public:
  Readers(std::string base_url, std::string bearer, std::string token_path, int count,
          std::chrono::milliseconds pause = std::chrono::milliseconds(10))
      : base_url_(std::move(base_url)),
        bearer_(std::move(bearer)),
        token_path_(std::move(token_path)),
        pause_(pause) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this, i] { Loop(i); });
    }
  }
  ~Readers() { Stop(); }
  Readers(const Readers&) = delete;
  Readers& operator=(const Readers&) = delete;

  void Stop() {
    {
      const std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) {
      if (thread.joinable()) {
        thread.join();
      }
    }
  }

  std::vector<Outcome> Outcomes() const {
    const std::lock_guard lock(mu_);
    return outcomes_;
  }

  // Whether every reader has finished a token read that started at or after `since` and `holds`.
  bool EveryReaderSaw(Clock::time_point since, const std::function<bool(const Outcome&)>& holds) {
    const std::lock_guard lock(mu_);
    std::vector<bool> seen(threads_.size(), false);
    for (const Outcome& o : outcomes_) {
      if (o.kind == Outcome::Kind::kTokenRead && o.start >= since && holds(o)) {
        seen[static_cast<std::size_t>(o.reader)] = true;
      }
    }
    return std::all_of(seen.begin(), seen.end(), [](bool b) { return b; });
  }

 private:
  void Loop(int reader) {
    for (;;) {
      Record(reader, Outcome::Kind::kTokenRead, token_path_, bearer_);
      Record(reader, Outcome::Kind::kHealth, "/healthz", "");
      std::unique_lock lock(mu_);
      // Paces the load (10 ms: about 100 requests per second per reader) so that the server's
      // warn lines stay few; Stop() ends the wait at once.
      if (wake_.wait_for(lock, pause_, [this] { return stopping_; })) {
        return;
      }
    }
  }

  void Record(int reader, Outcome::Kind kind, const std::string& path, const std::string& bearer) {
    core::HttpRequest request;
    request.method = "GET";
    request.url = base_url_ + path;
    request.timeout = std::chrono::seconds(10);
    if (!bearer.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + bearer});
    }
    Outcome o;
    o.kind = kind;
    o.reader = reader;
    o.start = Clock::now();
    const auto response = client_.Send(request);
    o.end = Clock::now();
    o.answered = response.ok();
    if (response.ok()) {
      o.status = response->status;
      o.retry_after = response->Header("retry-after");
      o.detail = response->status == 200 ? "" : response->body;
    } else {
      o.detail = response.error().message;
    }
    const std::lock_guard lock(mu_);
    outcomes_.push_back(std::move(o));
  }

  const std::string base_url_;
  const std::string bearer_;
  const std::string token_path_;
  const std::chrono::milliseconds pause_;
  net::CurlHttpClient client_{net::CurlHttpClient::Options{}};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<Outcome> outcomes_;
  std::vector<std::thread> threads_;
};

// Asks `condition` until it holds; false after `limit`. The pause between attempts only spares
// the CPU: the condition, not the time, decides.
bool PollUntil(const std::function<bool()>& condition,
               std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

class PostgresOutageTest : public ::testing::Test {
 protected:
  // The read caches are on, as in production: while the database is away they stop answering.
  virtual std::size_t CacheEntries() const { return app::ServeConfig{}.cache_entries; }

  void SetUp() override {
    if (!ThrowawayPostgres::BinariesInstalled()) {
      // getenv: read on the test's main thread before any thread starts.
      if (std::getenv("KEYBRIDGE_REQUIRE_POSTGRES") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        FAIL() << "PostgreSQL 15 is not installed in " << kPostgresBin
               << " but KEYBRIDGE_REQUIRE_POSTGRES is set (./dev test installs `postgresql`)";
      }
      GTEST_SKIP() << "needs PostgreSQL 15 in " << kPostgresBin << " (./dev test installs it)";
    }
    postgres_ = std::make_unique<ThrowawayPostgres>();
    const std::string problem = postgres_->Create();
    ASSERT_EQ(problem, "");

    kb_ = std::make_unique<testing::KeybridgeHarness>([this](app::ServeConfig& config) {
      config.database = postgres_->Url();
      config.cache_entries = CacheEntries();
    });
    gitlab_.SetRedirectUris({kb_->BaseUrl() + "/api/data/oauth2/callback"});
    kb_->CreateProvider({{"id", "gitlab"},
                         {"kind", "gitlab"},
                         {"client_id", gitlab_.AppOptions().client_id},
                         {"client_secret", gitlab_.AppOptions().client_secret},
                         {"display_name", "Fake GitLab"},
                         {"scope", "api"},
                         {"url", gitlab_.BaseUrl()}});
    // A two-hour token: reads need the database and nothing else.
    gitlab_.SetAccessTokenLifetime(core::Seconds(7200));
    alice_ = kb_->issuer().TokenFor("alice");
    ASSERT_EQ(kb_->Connect(alice_, "gitlab").status, 200);
    token_path_ = "/api/data/oauth2/connections/" + kb_->ConnectionId(alice_, "gitlab") + "/token";
    ASSERT_EQ(kb_->Call("GET", token_path_, alice_).status, 200);
  }

  void TearDown() override {
    kb_.reset();  // before the database it serves from
    postgres_.reset();
  }

  core::HttpResponse Ready() const { return kb_->Call("GET", "/readyz"); }
  void OutageUnderLoad(const std::string& mode);

  // GET /metrics as an administrator, through the strict parser.
  std::vector<metrics::ParsedFamily> Metrics() const {
    const auto response = kb_->Call("GET", "/metrics", kb_->issuer().AdminToken());
    EXPECT_EQ(response.status, 200) << response.body;
    auto parsed = metrics::ParseExposition(response.body);
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message) << response.body;
    return parsed.ok() ? std::move(parsed).value() : std::vector<metrics::ParsedFamily>{};
  }
  // A keybridge_db_pool_* sample; -1 if missing.
  static double Pool(const std::vector<metrics::ParsedFamily>& families, const std::string& name,
                     const std::map<std::string, std::string>& labels = {}) {
    const metrics::ParsedSample* sample = metrics::FindSample(families, name, labels);
    return sample == nullptr ? -1 : sample->value;
  }

  std::unique_ptr<ThrowawayPostgres> postgres_;
  std::unique_ptr<testing::KeybridgeHarness> kb_;
  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  std::string alice_;
  std::string token_path_;
};

// The outage under load, with PostgreSQL stopped in `mode` ("fast" or "immediate").
void PostgresOutageTest::OutageUnderLoad(const std::string& mode) {
  constexpr int kReaders = 4;
  const app::Application* const application = &kb_->application();
  Readers readers(kb_->BaseUrl(), alice_, token_path_, kReaders);
  const auto warm = Clock::now();
  const bool warmed_up = PollUntil([&] {
    return readers.EveryReaderSaw(warm, [](const Outcome& o) { return o.status == 200; });
  });

  // --- The database goes away.
  const auto stopping = Clock::now();
  ASSERT_EQ(postgres_->Stop(mode), "");
  const auto down = Clock::now();
  core::HttpResponse not_ready;
  const bool readiness_noticed = PollUntil([&] {
    not_ready = Ready();
    return not_ready.status == 503;
  });
  const bool readers_refused = PollUntil([&] {
    return readers.EveryReaderSaw(down, [](const Outcome& o) { return o.status == 503; });
  });
  const auto health_while_down = kb_->Call("GET", "/healthz");

  // --- It comes back on the same port; keybridge is the same Application all along.
  const auto restarting = Clock::now();
  ASSERT_EQ(postgres_->Start(), "") << postgres_->ServerLog();
  const auto up = Clock::now();
  const bool readers_recovered = PollUntil(
      [&] { return readers.EveryReaderSaw(up, [](const Outcome& o) { return o.status == 200; }); });
  core::HttpResponse ready_again;
  const bool readiness_recovered = PollUntil([&] {
    ready_again = Ready();
    return ready_again.status == 200;
  });
  readers.Stop();
  const std::vector<Outcome> outcomes = readers.Outcomes();

  ASSERT_TRUE(warmed_up) << "the readers never read a token before the outage";
  EXPECT_TRUE(readiness_noticed) << "/readyz still says ready: " << not_ready.body;
  EXPECT_NE(not_ready.body.find("Not ready: database unavailable."), std::string::npos)
      << "/readyz names the database: " << not_ready.body;
  EXPECT_EQ(not_ready.body.find("127.0.0.1"), std::string::npos)
      << "the database's address is for the log, not for anonymous callers: " << not_ready.body;
  EXPECT_EQ(not_ready.Header("retry-after"), "1");
  EXPECT_TRUE(readers_refused) << "some reader never got a 503 while the database was down";
  EXPECT_EQ(health_while_down.status, 200);
  EXPECT_TRUE(readers_recovered) << "some reader never got a 200 after the database came back";
  EXPECT_TRUE(readiness_recovered) << "/readyz never recovered: " << ready_again.body;
  EXPECT_EQ(&kb_->application(), application);

  int down_reads = 0;
  auto slowest_down_read = Clock::duration::zero();
  for (const Outcome& o : outcomes) {
    // Nothing hangs: every request is answered within its 10 s deadline, in every phase.
    EXPECT_TRUE(o.answered) << Describe(o);
    if (o.kind == Outcome::Kind::kHealth) {
      EXPECT_EQ(o.status, 200) << "/healthz never waits on the database: " << Describe(o);
      continue;
    }
    if (o.end <= stopping || o.start >= up) {
      EXPECT_EQ(o.status, 200) << "the database was up: " << Describe(o);
    } else if (o.start >= down && o.end <= restarting) {
      ++down_reads;
      slowest_down_read = std::max(slowest_down_read, o.end - o.start);
      EXPECT_EQ(o.status, 503) << Describe(o);
      EXPECT_FALSE(o.retry_after.empty()) << "a 503 tells when to retry: " << Describe(o);
      EXPECT_NE(o.detail.find("database unavailable"), std::string::npos) << Describe(o);
      EXPECT_EQ(o.detail.find("127.0.0.1"), std::string::npos)
          << "the database's address stays in the log: " << Describe(o);
    }
  }
  EXPECT_GT(down_reads, 0);
  // What an operator's dashboard shows: the refused connections, and a pool that leaked nothing.
  const auto families = Metrics();
  EXPECT_GT(Pool(families, "keybridge_db_pool_connect_failures_total"), 0);
  EXPECT_EQ(Pool(families, "keybridge_db_pool_wait_timeouts_total"), 0)
      << "refused connections never made anyone wait for the pool";
  EXPECT_EQ(Pool(families, "keybridge_db_pool_max"), 8);
  EXPECT_LE(Pool(families, "keybridge_db_pool_connections", {{"state", "in_use"}})
                + Pool(families, "keybridge_db_pool_connections", {{"state", "idle"}}),
            8);
  std::printf(
      "%zu requests; %d token reads while the database was down, the slowest in %lld ms\n",
      outcomes.size(), down_reads,
      static_cast<long long>(  // NOLINT(google-runtime-int): printf's %lld
          std::chrono::duration_cast<std::chrono::milliseconds>(slowest_down_read).count()));
}

// Fast: the server ends every session (an administrator's stop, a failover).
TEST_F(PostgresOutageTest, ReadsFailFastWhileTheDatabaseIsDownAndRecoverWithoutARestart) {
  OutageUnderLoad("fast");
}

// Immediate: the server is killed without goodbyes, and recovers from its log at the next start.
TEST_F(PostgresOutageTest, AKilledDatabaseIsSurvivedTheSameWay) {
  OutageUnderLoad("immediate");
}

// A quick restart ends every pooled session at once, between two requests. The next read must
// still succeed: its retry opens a fresh connection instead of taking the next dead one, which
// cost one failed request per idle connection after each restart.
// Without the caches, so that every read reaches the pool.
class PostgresPoolRestartTest : public PostgresOutageTest {
 protected:
  std::size_t CacheEntries() const override { return 0; }
};

TEST_F(PostgresPoolRestartTest, AQuickRestartBetweenTwoReadsCostsNoFailedRead) {
  // Unpaced readers overlap, so the pool opens several connections; they stay open, idle.
  const auto open_connections = [this] {
    const auto families = Metrics();
    return Pool(families, "keybridge_db_pool_connections", {{"state", "in_use"}})
           + Pool(families, "keybridge_db_pool_connections", {{"state", "idle"}});
  };
  {
    Readers readers(kb_->BaseUrl(), alice_, token_path_, 8, std::chrono::milliseconds(0));
    ASSERT_TRUE(PollUntil([&] { return open_connections() >= 3; }))
        << "the pool never opened three connections";
  }
  const double idle = Pool(Metrics(), "keybridge_db_pool_connections", {{"state", "idle"}});

  ASSERT_EQ(postgres_->Restart(), "") << postgres_->ServerLog();
  const auto read = kb_->Call("GET", token_path_, alice_);
  const auto second = kb_->Call("GET", token_path_, alice_);

  EXPECT_GE(idle, 3);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(PollUntil([&] { return Ready().status == 200; }));
}

}  // namespace
}  // namespace keybridge
