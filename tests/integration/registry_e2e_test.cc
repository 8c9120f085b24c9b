// Container images through keybridge: Debian's docker-registry (Docker Distribution) with token
// authentication against the fake GitLab's /jwt/auth, and skopeo pushing and pulling a small OCI
// image with `docker-credential-keybridge` as its credential helper, configured as README.md
// tells users to ({"credHelpers": {"<registry>": "keybridge"}}). The first test needs no
// keybridge: it proves the registry trusts the fake's tokens.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/hash.h"
#include "fakes/fake_gitlab.h"
#include "fakes/git_http_backend.h"
#include "http/server.h"
#include "integration/harness.h"
#include "integration/keybridge_process.h"
#include "net/curl_http_client.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";
constexpr const char* kSkopeo = "/usr/bin/skopeo";
constexpr const char* kInstallHint = "apt-get install docker-registry skopeo (./dev test does)";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// --- A tiny OCI image layout, built by hand (OCI Image Layout Specification) ---

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFU;
  for (const char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
    }
  }
  return ~crc;
}

void AppendLittleEndian(std::string& out, std::uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFU));
  }
}

// gzip (RFC 1952) around deflate "stored" blocks (RFC 1951 §3.2.4): valid, just not smaller.
std::string Gzip(std::string_view data) {
  std::string out = {'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\xff'};
  std::size_t offset = 0;
  do {
    const std::size_t size = std::min<std::size_t>(data.size() - offset, 65535);
    const bool last = offset + size == data.size();
    out.push_back(last ? '\x01' : '\0');
    AppendLittleEndian(out, static_cast<std::uint32_t>(size), 2);
    AppendLittleEndian(out, static_cast<std::uint32_t>(~size & 0xFFFFU), 2);
    out.append(data.substr(offset, size));
    offset += size;
  } while (offset < data.size());
  AppendLittleEndian(out, Crc32(data), 4);
  AppendLittleEndian(out, static_cast<std::uint32_t>(data.size()), 4);
  return out;
}

// A ustar archive with one regular file.
std::string Tar(const std::string& name, std::string_view content) {
  std::string header(512, '\0');
  const auto put = [&](std::size_t offset, std::string_view value) {
    header.replace(offset, value.size(), value);
  };
  const auto octal = [](std::uint64_t value, int width) {
    std::string text(static_cast<std::size_t>(width - 1), '0');
    for (int i = width - 2; i >= 0 && value > 0; --i, value >>= 3) {
      text[static_cast<std::size_t>(i)] = static_cast<char>('0' + (value & 7U));
    }
    return text;
  };
  put(0, name);
  put(100, octal(0644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(content.size(), 12));
  put(136, octal(1700000000, 12));
  put(148, "        ");
  put(156, "0");
  put(257, std::string_view("ustar\0"
                            "00",
                            8));
  unsigned checksum = 0;
  for (const char c : header) {
    checksum += static_cast<unsigned char>(c);
  }
  put(148, octal(checksum, 7));
  std::string archive = header + std::string(content);
  archive.append((512 - content.size() % 512) % 512, '\0');
  archive.append(1024, '\0');
  return archive;
}

// Whether skopeo's stderr reports the registry refusing access (401 "unauthorized" when it asks
// for credentials, "denied" when the token carries too few actions).
bool RegistryRefused(const std::string& err) {
  return err.find("unauthorized") != std::string::npos || err.find("denied") != std::string::npos;
}

std::string Digest(std::string_view bytes) {
  return "sha256:" + crypto::Sha256Hex(bytes);
}

// Writes an OCI layout with one image tagged "v1" whose only file is hello.txt = `content`.
// Returns the manifest digest.
std::string WriteOciLayout(const fs::path& dir, const std::string& content) {
  const fs::path blobs = dir / "blobs" / "sha256";
  fs::create_directories(blobs);
  const auto put_blob = [&](const std::string& bytes) {
    std::string digest = Digest(bytes);
    WriteFile(blobs / digest.substr(7), bytes);
    return digest;
  };
  const std::string tar = Tar("hello.txt", content);
  const std::string layer = Gzip(tar);
  const std::string layer_digest = put_blob(layer);
  const std::string config = json{{"architecture", "amd64"},
                                  {"os", "linux"},
                                  {"config", json::object()},
                                  {"rootfs", {{"type", "layers"}, {"diff_ids", {Digest(tar)}}}}}
                                 .dump();
  const std::string config_digest = put_blob(config);
  const std::string manifest = json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"digest", config_digest},
        {"size", config.size()}}},
      {"layers",
       {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
         {"digest", layer_digest},
         {"size", layer.size()}}}}}.dump();
  std::string manifest_digest = put_blob(manifest);
  WriteFile(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  WriteFile(dir / "index.json",
            json{{"schemaVersion", 2},
                 {"manifests",
                  {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                    {"digest", manifest_digest},
                    {"size", manifest.size()},
                    {"annotations", {{"org.opencontainers.image.ref.name", "v1"}}}}}}}
                .dump());
  return manifest_digest;
}

// The content of hello.txt in the (only) layer of the image tagged v1 of a layout WriteOciLayout
// made, or "" when the layout does not hold it.
std::string ReadOciFile(const fs::path& dir) {
  const json index = json::parse(ReadFile(dir / "index.json"), nullptr, false);
  if (!index.is_object() || index["manifests"].empty()) {
    return "";
  }
  const auto blob = [&](const std::string& digest) {
    return ReadFile(dir / "blobs" / "sha256" / digest.substr(7));
  };
  const json manifest =
      json::parse(blob(index["manifests"][0]["digest"].get<std::string>()), nullptr, false);
  if (!manifest.is_object()) {
    return "";
  }
  const std::string layer = blob(manifest["layers"][0]["digest"].get<std::string>());
  // Our own stored-deflate gzip: 10 header bytes, 5 block-header bytes, then the tar.
  const std::string tar = layer.substr(15, layer.size() - 15 - 8);
  const std::size_t size = std::stoul(tar.substr(124, 11), nullptr, 8);
  return tar.substr(512, size);
}

// --- The registry ---

// docker-registry serving from a temporary directory on its own loopback port (never :5000,
// where Debian's packaged service may listen), trusting `certificate` for tokens from `realm`.
class Registry {
 public:
  Registry(const fs::path& dir, const std::string& realm, const std::string& issuer,
           const std::string& certificate)
      : port_(testing::FreeLoopbackPort()), log_(dir / "registry.log") {
    const fs::path config = dir / "registry.yml";
    std::ofstream(config) << "version: 0.1\n"
                             "log:\n  level: info\n"
                             "storage:\n  filesystem:\n    rootdirectory: "
                          << (dir / "storage").string()
                          << "\n"
                             "http:\n  addr: 127.0.0.1:"
                          << port_
                          << "\n  secret: test-only-registry-http-secret\n"
                             "auth:\n  token:\n    realm: "
                          << realm << "\n    service: container_registry\n    issuer: " << issuer
                          << "\n    rootcertbundle: " << certificate << "\n";
    process_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{kRegistryBinary, "serve", config.string()}, log_.string());
  }

  // Polls GET /v2/ until the registry answers 401 (token auth is on) or the deadline passes.
  bool WaitUntilServing() {
    net::CurlHttpClient client{net::CurlHttpClient::Options{}};
    core::HttpRequest request;
    request.method = "GET";
    request.url = "http://" + Host() + "/v2/";
    request.timeout = std::chrono::seconds(2);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_->Running()) {
        return false;  // it exited (refused its configuration)
      }
      if (auto response = client.Send(request); response.ok() && response->status == 401) {
        return true;
      }
      // Pacing between polls of a process starting up, not synchronisation.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string Host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Log() const { return ReadFile(log_); }

 private:
  int port_;
  fs::path log_;
  std::unique_ptr<testing::ChildProcess> process_;
};

class RegistryTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kRegistryBinary)) << kRegistryBinary << " is missing: " << kInstallHint;
    ASSERT_TRUE(fs::exists(kSkopeo)) << kSkopeo << " is missing: " << kInstallHint;
    dir_ = fs::temp_directory_path()
           / ("keybridge-registry-" + std::to_string(::getpid()) + "-"
              + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "home");
    fs::create_directories(dir_ / "tmp");
    gitlab_.SetRegistryAcceptsOAuthTokens(true);
    fakes::GitLabProject project;
    project.path_with_namespace = "group/project";
    project.members = {{1, fakes::kGitLabDeveloper}};
    gitlab_.AddProject(project);
    registry_ =
        std::make_unique<Registry>(dir_, gitlab_.RegistryTokenUrl(), gitlab_.RegistryIssuer(),
                                   gitlab_.RegistryCertificatePath());
    ASSERT_TRUE(registry_->WaitUntilServing()) << "docker-registry did not start:\n"
                                               << registry_->Log();
    image_ = registry_->Host() + "/group/project/app:v1";
    source_ = dir_ / "source";
    WriteOciLayout(source_, "hello from keybridge\n");
  }
  void TearDown() override {
    registry_.reset();
    fs::remove_all(dir_);
  }

  // skopeo with a private HOME and TMPDIR, plain HTTP to the loopback registry; `env` adds to it.
  fakes::ProcessResult Skopeo(std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {kSkopeo};
    argv.insert(argv.end(), args.begin(), args.end());
    env.push_back("HOME=" + (dir_ / "home").string());
    env.push_back("TMPDIR=" + (dir_ / "tmp").string());
    bool has_path = false;
    for (const auto& entry : env) {
      has_path = has_path || entry.starts_with("PATH=");
    }
    if (!has_path) {
      env.emplace_back("PATH=/usr/bin:/bin");
    }
    return fakes::RunProcess(argv, env, {}, std::chrono::seconds(90));
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  fs::path dir_;
  std::unique_ptr<Registry> registry_;
  std::string image_;
  fs::path source_;
};

// No keybridge: a token from the fake, given to skopeo directly, is accepted by docker-registry
// for push and pull, and a read_registry-only token cannot push.
class RegistryFakeTokenTest : public RegistryTestBase {};

TEST_F(RegistryFakeTokenTest, RegistryAcceptsTheFakesTokensForPushAndPull) {
  const std::string token = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "api").access_token;
  const std::string creds = "oauth2:" + token;

  auto push = Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", creds,
                      "oci:" + source_.string() + ":v1", "docker://" + image_});
  ASSERT_TRUE(push.ok()) << push.err << "\nregistry log:\n" << registry_->Log();

  auto inspect = Skopeo({"inspect", "--tls-verify=false", "--creds", creds, "docker://" + image_});
  ASSERT_TRUE(inspect.ok()) << inspect.err;
  EXPECT_EQ(json::parse(inspect.out)["Os"], "linux");

  const fs::path pulled = dir_ / "pulled";
  auto pull = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", creds, "docker://" + image_,
                      "oci:" + pulled.string() + ":v1"});
  ASSERT_TRUE(pull.ok()) << pull.err;
  EXPECT_EQ(ReadOciFile(pulled), "hello from keybridge\n");

  // read_registry pulls but does not push; without credentials nothing (the project is private).
  const std::string reader =
      "oauth2:" + gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "read_registry").access_token;
  EXPECT_TRUE(
      Skopeo({"inspect", "--tls-verify=false", "--creds", reader, "docker://" + image_}).ok());
  auto refused_push = Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", reader,
                              "oci:" + source_.string() + ":v1",
                              "docker://" + registry_->Host() + "/group/project/app:v2"});
  EXPECT_FALSE(refused_push.ok());
  EXPECT_TRUE(RegistryRefused(refused_push.err)) << refused_push.err;
  auto anonymous = Skopeo({"inspect", "--tls-verify=false", "--no-creds", "docker://" + image_});
  EXPECT_FALSE(anonymous.ok());
  EXPECT_TRUE(RegistryRefused(anonymous.err)) << anonymous.err;
}

// --- The helper inside skopeo, against a stand-in for keybridge's route 3 ---

// skopeo finds docker-credential-keybridge on PATH through the auth file's credHelpers, and the
// helper asks "keybridge" (here a loopback stand-in answering route 3 as the contract says) for
// this registry's credentials. This runs without the server side of the route.
class RegistryHelperTest : public RegistryTestBase {
 protected:
  void SetUp() override {
    RegistryTestBase::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.log_requests = false;
    stand_in_ = std::make_unique<http::Server>(options, [this](http::Request& request) {
      const std::lock_guard lock(mu_);
      requests_.push_back(request.path + "?" + request.raw_query);
      http::Response response;
      response.headers.push_back({"Content-Type", "application/json"});
      if (request.path != "/api/data/sessions/registry-credentials"
          || request.Header("authorization") != "Bearer kbs_stand_in") {
        response.status = 401;
        response.body = R"({"error":{"code":1401,"message":"unexpected request"}})";
        return response;
      }
      response.status = answer_.first;
      response.body = answer_.second;
      return response;
    });
    stand_in_->Start();
    const fs::path auth = dir_ / "auth.json";
    WriteFile(auth, json{{"credHelpers", {{registry_->Host(), "keybridge"}}}}.dump());
    env_ = {"PATH=" + fs::path(KEYBRIDGE_BINARY_PATH).parent_path().string() + ":/usr/bin:/bin",
            "KEYBRIDGE_URL=http://127.0.0.1:" + std::to_string(stand_in_->port()),
            "KEYBRIDGE_TOKEN=kbs_stand_in"};
  }
  void TearDown() override {
    stand_in_.reset();
    RegistryTestBase::TearDown();
  }

  void Answer(int status, std::string body) {
    const std::lock_guard lock(mu_);
    answer_ = {status, std::move(body)};
  }
  std::vector<std::string> Requests() {
    const std::lock_guard lock(mu_);
    return requests_;
  }

  std::mutex mu_;
  std::pair<int, std::string> answer_{500, "{}"};  // guarded by mu_
  std::vector<std::string> requests_;              // guarded by mu_
  std::unique_ptr<http::Server> stand_in_;
  std::vector<std::string> env_;
};

TEST_F(RegistryHelperTest, SkopeoPushesAndPullsWithWhatTheHelperGot) {
  const std::string token = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "api").access_token;
  Answer(200, json{{"server_url", registry_->Host()},
                   {"username", "oauth2"},
                   {"secret", token},
                   {"expires_at", nullptr},
                   {"provider_id", "gitlab"},
                   {"connection_id", "c1"}}
                  .dump());
  const std::string authfile = (dir_ / "auth.json").string();

  auto push = Skopeo({"copy", "--dest-tls-verify=false", "--authfile", authfile,
                      "oci:" + source_.string() + ":v1", "docker://" + image_},
                     env_);
  ASSERT_TRUE(push.ok()) << push.err << "\nregistry log:\n" << registry_->Log();
  auto pull = Skopeo({"copy", "--src-tls-verify=false", "--authfile", authfile,
                      "docker://" + image_, "oci:" + (dir_ / "pulled").string() + ":v1"},
                     env_);
  ASSERT_TRUE(pull.ok()) << pull.err;

  EXPECT_EQ(ReadOciFile(dir_ / "pulled"), "hello from keybridge\n");
  const auto requests = Requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests[0], "/api/data/sessions/registry-credentials?server_url=127.0.0.1%3A"
                             + registry_->Host().substr(10) + "&min_valid_seconds=300");
  EXPECT_EQ(push.err.find(token), std::string::npos);
  EXPECT_EQ(pull.err.find(token), std::string::npos);
}

TEST_F(RegistryHelperTest, WithoutAConnectionSkopeoGoesOnAnonymouslyAndIsRefused) {
  Answer(404,
         json{{"error", {{"code", 1404}, {"message", "You have no connection to Fake GitLab."}}},
              {"provider_id", "gitlab"},
              {"provider_name", "Fake GitLab"},
              {"connect_url", "http://kb.example/api/data/oauth2/providers/gitlab/authorize"}}
             .dump());

  auto push =
      Skopeo({"copy", "--dest-tls-verify=false", "--authfile", (dir_ / "auth.json").string(),
              "oci:" + source_.string() + ":v1", "docker://" + image_},
             env_);

  EXPECT_FALSE(push.ok());
  // "not found" made skopeo continue without credentials; the registry then refused it. skopeo
  // passes the helper's stderr on, so the user sees where to connect.
  EXPECT_TRUE(RegistryRefused(push.err)) << push.err;
  EXPECT_NE(
      push.err.find("connect at http://kb.example/api/data/oauth2/providers/gitlab/authorize"),
      std::string::npos)
      << push.err;
  EXPECT_FALSE(Requests().empty());
}

// --- Through keybridge (contract route 3, GET /api/data/sessions/registry-credentials) ---

class RegistryThroughKeybridgeTest : public RegistryTestBase {
 protected:
  void SetUp() override {
    RegistryTestBase::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    gitlab_.SetRedirectUris({kb_.BaseUrl() + "/api/data/oauth2/callback"});
  }

  // The integration for the fake GitLab and its registry, with `scope` for connections.
  void CreateGitLab(const std::string& scope) {
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "Fake GitLab"},
                        {"scope", scope},
                        {"url", gitlab_.BaseUrl()},
                        {"image_registry_url", "http://" + registry_->Host()}});
  }

  // A session token for alice; `image_repositories` empty leaves the field out.
  std::string MintSessionToken(const std::vector<std::string>& image_repositories) {
    json mint = {{"session_name", "jupyter-1"},
                 {"ttl_seconds", 3600},
                 {"repository_urls", {gitlab_.GitUrl("group/project")}}};
    if (!image_repositories.empty()) {
      mint["image_repositories"] = image_repositories;
    }
    auto minted =
        kb_.Call("POST", "/api/data/sessions/tokens", kb_.issuer().TokenFor("alice"), mint.dump());
    EXPECT_EQ(minted.status, 201) << minted.body;
    return minted.status == 201 ? json::parse(minted.body).value("token", "") : "";
  }

  // The environment of a session: the helper on PATH (next to the keybridge binary), the auth
  // file naming it for this registry, KEYBRIDGE_URL and the token.
  std::vector<std::string> SessionEnv(const std::string& token) {
    const fs::path auth = dir_ / "auth.json";
    WriteFile(auth, json{{"credHelpers", {{registry_->Host(), "keybridge"}}}}.dump());
    return {"PATH=" + fs::path(KEYBRIDGE_BINARY_PATH).parent_path().string() + ":/usr/bin:/bin",
            "REGISTRY_AUTH_FILE=" + auth.string(), "KEYBRIDGE_URL=" + kb_.BaseUrl(),
            "KEYBRIDGE_TOKEN=" + token};
  }

  std::vector<std::string> AuthFile() const {
    return {"--authfile", (dir_ / "auth.json").string()};
  }

  fakes::ProcessResult Push(const std::vector<std::string>& env) {
    std::vector<std::string> args = {"copy", "--dest-tls-verify=false"};
    const auto auth = AuthFile();
    args.insert(args.end(), auth.begin(), auth.end());
    args.push_back("oci:" + source_.string() + ":v1");
    args.push_back("docker://" + image_);
    return Skopeo(args, env);
  }
  fakes::ProcessResult Pull(const std::vector<std::string>& env, const fs::path& target) {
    std::vector<std::string> args = {"copy", "--src-tls-verify=false"};
    const auto auth = AuthFile();
    args.insert(args.end(), auth.begin(), auth.end());
    args.push_back("docker://" + image_);
    args.push_back("oci:" + target.string() + ":v1");
    return Skopeo(args, env);
  }
  // The helper exactly as skopeo runs it: `docker-credential-keybridge get`, the host on stdin.
  fakes::ProcessResult Helper(const std::vector<std::string>& env) {
    const std::string helper =
        (fs::path(KEYBRIDGE_BINARY_PATH).parent_path() / "docker-credential-keybridge").string();
    return fakes::RunProcess({helper, "get"}, env, registry_->Host() + "\n");
  }

  testing::KeybridgeHarness kb_;
};

TEST_F(RegistryThroughKeybridgeTest, PushInspectPullAndPullAgainAfterTheTokenExpired) {
  CreateGitLab("api");
  gitlab_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  ASSERT_EQ(kb_.Connect(kb_.issuer().TokenFor("alice"), "gitlab").status, 200);
  const std::string session = MintSessionToken({registry_->Host() + "/group/project"});
  ASSERT_FALSE(session.empty());
  const auto env = SessionEnv(session);

  auto push = Push(env);
  ASSERT_TRUE(push.ok()) << push.err << "\nregistry log:\n" << registry_->Log();
  auto inspect = Skopeo({"inspect", "--tls-verify=false", "--authfile",
                         (dir_ / "auth.json").string(), "docker://" + image_},
                        env);
  ASSERT_TRUE(inspect.ok()) << inspect.err;
  EXPECT_EQ(json::parse(inspect.out)["Architecture"], "amd64");
  auto pull = Pull(env, dir_ / "pulled");
  ASSERT_TRUE(pull.ok()) << pull.err;
  EXPECT_EQ(ReadOciFile(dir_ / "pulled"), "hello from keybridge\n");

  // Two minutes later at GitLab the token the helper handed out is dead.
  provider_clock_.Advance(core::Seconds(120));
  testing::WaitUntilShortTokensNeedRefresh();  // and on keybridge's clock
  const int refreshes = gitlab_.RefreshRequestCount();

  auto later = Pull(env, dir_ / "later");

  ASSERT_TRUE(later.ok()) << later.err;
  EXPECT_EQ(ReadOciFile(dir_ / "later"), "hello from keybridge\n");
  EXPECT_GT(gitlab_.RefreshRequestCount(), refreshes) << "keybridge refreshed for the helper";
  EXPECT_EQ(later.err.find(session), std::string::npos);
}

// "Test this integration" asks the real registry's /v2/ and finds its token realm on the
// integration's own origin (the fake GitLab's /jwt/auth).
TEST_F(RegistryThroughKeybridgeTest, TheIntegrationCheckFindsTheRegistryAndItsRealm) {
  CreateGitLab("api");

  auto report =
      kb_.Call("POST", "/api/data/oauth2/providers/gitlab/check", kb_.issuer().AdminToken(), "{}");

  ASSERT_EQ(report.status, 200) << report.body;
  bool found = false;
  const json body = json::parse(report.body);
  for (const auto& check : body["checks"]) {
    if (check["id"] == "image_registry") {
      found = true;
      EXPECT_EQ(check["status"], "pass") << check.dump();
      EXPECT_NE(check["detail"].get<std::string>().find(gitlab_.RegistryTokenUrl()),
                std::string::npos)
          << check.dump();
    }
  }
  EXPECT_TRUE(found) << report.body;
}

TEST_F(RegistryThroughKeybridgeTest, AUserWithoutAConnectionIsToldWhereToConnect) {
  CreateGitLab("api");
  // Pushed by someone else, so the image exists.
  const std::string creds =
      "oauth2:" + gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "api").access_token;
  ASSERT_TRUE(Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", creds,
                      "oci:" + source_.string() + ":v1", "docker://" + image_})
                  .ok());
  const auto env = SessionEnv(kb_.issuer().TokenFor("bob"));

  auto pull = Pull(env, dir_ / "pulled");
  EXPECT_FALSE(pull.ok());
  EXPECT_TRUE(RegistryRefused(pull.err)) << pull.err;
  EXPECT_NE(pull.err.find(kb_.BaseUrl() + "/api/data/oauth2/providers/gitlab/authorize"),
            std::string::npos)
      << pull.err;
  auto helper = Helper(env);

  EXPECT_EQ(helper.exit_code, 1);
  EXPECT_EQ(helper.out, "credentials not found in native keychain\n");
  EXPECT_NE(helper.err.find(kb_.BaseUrl() + "/api/data/oauth2/providers/gitlab/authorize"),
            std::string::npos)
      << helper.err;
}

TEST_F(RegistryThroughKeybridgeTest, AConnectionWithoutReadRegistryIsRefusedByTheRegistry) {
  CreateGitLab("read_api read_repository");
  ASSERT_EQ(kb_.Connect(kb_.issuer().TokenFor("alice"), "gitlab").status, 200);
  const std::string session = MintSessionToken({registry_->Host()});
  ASSERT_FALSE(session.empty());
  const auto env = SessionEnv(session);

  // keybridge hands out the token; GitLab's /jwt/auth grants it no registry access.
  auto helper = Helper(env);
  EXPECT_EQ(helper.exit_code, 0) << helper.err;
  auto push = Push(env);

  EXPECT_FALSE(push.ok());
  EXPECT_TRUE(RegistryRefused(push.err)) << push.err;
}

TEST_F(RegistryThroughKeybridgeTest, ASessionTokenWithoutImageRepositoriesGetsNothing) {
  CreateGitLab("api");
  ASSERT_EQ(kb_.Connect(kb_.issuer().TokenFor("alice"), "gitlab").status, 200);
  const std::string session = MintSessionToken({});
  ASSERT_FALSE(session.empty());
  const auto env = SessionEnv(session);

  auto helper = Helper(env);
  auto push = Push(env);

  EXPECT_EQ(helper.exit_code, 1);
  EXPECT_EQ(helper.out, "credentials not found in native keychain\n");
  EXPECT_NE(helper.err.find("not scoped to registry " + registry_->Host()), std::string::npos)
      << helper.err;
  EXPECT_FALSE(push.ok());
  EXPECT_TRUE(RegistryRefused(push.err)) << push.err;
}

}  // namespace
}  // namespace keybridge
