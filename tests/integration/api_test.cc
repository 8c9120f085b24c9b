// Starts the real Application on port 0 (temporary SQLite database and key file) with a fake
// OIDC issuer on loopback, and drives every provider route as anonymous, user, other user and
// admin, plus the malformed-input cases. Asserts status codes, bodies, and that no secret ever
// reaches a response or a log line.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "integration/harness.h"

namespace keybridge {
namespace {

using nlohmann::json;

constexpr const char* kSecret = "gloas-SUPER-distinctive-client-secret-7731";

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() {
    // Capture everything every logger writes, to prove secrets never appear. Set up before the
    // application starts so its loggers write here.
    log_sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_stream_);
    for (const char* name : {"keybridge", "http", "storage", "identity", "net"}) {
      spdlog::drop(name);
      auto logger = std::make_shared<spdlog::logger>(name, log_sink_);
      logger->set_level(spdlog::level::trace);
      spdlog::register_logger(logger);
    }
    spdlog::set_default_logger(spdlog::get("keybridge"));
    kb_ = std::make_unique<testing::KeybridgeHarness>();
  }

  std::string AdminToken() { return kb_->issuer().AdminToken(); }
  std::string UserToken() { return kb_->issuer().TokenFor("user-1"); }
  testing::TestJwtIssuer& issuer() { return kb_->issuer().issuer(); }

  core::HttpResponse Call(const std::string& method, const std::string& path,
                          const std::string& bearer = "", const std::string& body = "",
                          std::vector<core::HttpHeader> extra = {}) {
    return kb_->Call(method, path, bearer, body, std::move(extra));
  }

  static json GitLabBody(const std::string& id = "Example GitLab") {
    return {{"id", id},
            {"kind", "gitlab"},
            {"client_id", "gl-client-id"},
            {"client_secret", kSecret},
            {"display_name", "Example GitLab"},
            {"scope", "read_api read_repository write_repository"},
            {"url", "https://gitlab.example.org"}};
  }

  static int ErrorCode(const core::HttpResponse& r) {
    auto body = json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.contains("error")) {
      return 0;
    }
    return body["error"]["code"].get<int>();
  }

  void ExpectStillServing() { EXPECT_EQ(Call("GET", "/healthz").status, 200); }

  std::ostringstream log_stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> log_sink_;
  std::unique_ptr<testing::KeybridgeHarness> kb_;
};

TEST_F(ApiTest, AnonymousCanListButNotCreate) {
  EXPECT_EQ(Call("GET", "/api/data/oauth2/providers").body, "[]");

  auto r = Call("POST", "/api/data/oauth2/providers", "", GitLabBody().dump());

  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), 1401);
  EXPECT_EQ(Call("GET", "/api/data/oauth2/providers").body, "[]");
}

TEST_F(ApiTest, NonAdminGets403AndNothingIsStored) {
  auto r = Call("POST", "/api/data/oauth2/providers", UserToken(), GitLabBody().dump());

  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), 1403);
  EXPECT_EQ(Call("GET", "/api/data/oauth2/providers").body, "[]");
}

TEST_F(ApiTest, AdminCreatesAndEveryoneSeesTheRedactedView) {
  auto created = Call("POST", "/api/data/oauth2/providers", AdminToken(), GitLabBody().dump());

  ASSERT_EQ(created.status, 201) << created.body;
  auto body = json::parse(created.body);
  EXPECT_EQ(body["id"], "example-gitlab");
  EXPECT_EQ(body["client_id"], "gl-client-id");
  EXPECT_EQ(body["client_secret"], "redacted");
  EXPECT_EQ(body["use_pkce"], true);
  EXPECT_FALSE(body.contains("oidc_issuer_url"));

  auto as_user =
      json::parse(Call("GET", "/api/data/oauth2/providers/example-gitlab", UserToken()).body);
  EXPECT_EQ(as_user["client_id"], "");
  EXPECT_EQ(as_user["client_secret"], "");
  auto anonymous = json::parse(Call("GET", "/api/data/oauth2/providers").body);
  ASSERT_EQ(anonymous.size(), 1U);
  EXPECT_EQ(anonymous[0]["client_id"], "");
  auto as_admin = json::parse(Call("GET", "/api/data/oauth2/providers", AdminToken()).body);
  EXPECT_EQ(as_admin[0]["client_id"], "gl-client-id");
}

TEST_F(ApiTest, DuplicateIdIs409) {
  ASSERT_EQ(Call("POST", "/api/data/oauth2/providers", AdminToken(), GitLabBody("x").dump()).status,
            201);

  auto again = Call("POST", "/api/data/oauth2/providers", AdminToken(), GitLabBody("X").dump());

  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(ErrorCode(again), 1409);
}

TEST_F(ApiTest, ValidationErrorsName422TheField) {
  struct Case {
    const char* field;
    json value;
    const char* expect;
  };
  const Case cases[] = {
      {"url", "http://gitlab.example.org", "url must use https"},
      {"url", "https://u:p@gitlab.example.org", "user name or password"},
      {"url", "https://gitlab.example.org/#frag", "fragment"},
      {"kind", "onedrive", "kind must be one of"},
      {"kind", "dropbox", "must be empty or https://www.dropbox.com"},
      {"scope", "a  b", "scope"},
      {"display_name", std::string(120, 'x'), "display_name is too long"},
      {"client_id", 42, "'client_id' must be a string"},
      {"unexpected", "x", "unknown field 'unexpected'"},
      {"id", "__$%#$@#$__", "invalid characters"},
  };
  for (const auto& c : cases) {
    auto body = GitLabBody("v");
    body[c.field] = c.value;

    auto r = Call("POST", "/api/data/oauth2/providers", AdminToken(), body.dump());

    EXPECT_EQ(r.status, 422) << c.field << ": " << r.body;
    EXPECT_NE(r.body.find(c.expect), std::string::npos) << c.field << ": " << r.body;
  }
  auto missing = GitLabBody("v");
  missing.erase("url");
  auto r = Call("POST", "/api/data/oauth2/providers", AdminToken(), missing.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("'url' is required"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/data/oauth2/providers").body, "[]");
}

TEST_F(ApiTest, GitHubAppNeedsSlugAndGenericOidcNeedsIssuer) {
  json github = {{"id", "github.com"},       {"kind", "github"}, {"client_id", "Iv1.abc"},
                 {"display_name", "GitHub"}, {"scope", ""},      {"url", "https://github.com"}};
  auto r = Call("POST", "/api/data/oauth2/providers", AdminToken(), github.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("app_slug is required"), std::string::npos);
  github["app_slug"] = "renku-test-app";
  auto app = Call("POST", "/api/data/oauth2/providers", AdminToken(), github.dump());
  EXPECT_EQ(app.status, 201);
  EXPECT_EQ(json::parse(app.body)["install_url"],
            "https://github.com/apps/renku-test-app/installations/new");
  EXPECT_EQ(json::parse(app.body)["github_flavor"], "github.com");

  json oidc = {{"id", "hpc"},
               {"kind", "generic_oidc"},
               {"client_id", "c"},
               {"display_name", "HPC"},
               {"scope", "openid offline_access"},
               {"url", "https://hpc.example.org"}};
  EXPECT_EQ(Call("POST", "/api/data/oauth2/providers", AdminToken(), oidc.dump()).status, 422);
  oidc["oidc_issuer_url"] = "https://id.example.org/realms/hpc";
  auto created = Call("POST", "/api/data/oauth2/providers", AdminToken(), oidc.dump());
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(json::parse(created.body)["oidc_issuer_url"], "https://id.example.org/realms/hpc");
}

TEST_F(ApiTest, DataConnectorsAreCreatedWithTheirCanonicalUrl) {
  json dropbox = {{"id", "dropbox"},
                  {"kind", "dropbox"},
                  {"client_id", "app-key"},
                  {"client_secret", kSecret},
                  {"display_name", "Dropbox"},
                  {"scope", "files.content.read"},
                  {"url", ""}};
  auto created = Call("POST", "/api/data/oauth2/providers", AdminToken(), dropbox.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json::parse(created.body)["kind"], "dropbox");
  EXPECT_EQ(json::parse(created.body)["url"], "https://www.dropbox.com");
  EXPECT_EQ(json::parse(created.body)["use_pkce"], true);

  json zenodo = dropbox;
  zenodo["id"] = "zenodo";
  zenodo["kind"] = "zenodo";
  zenodo["url"] = "https://sandbox.zenodo.org";
  zenodo["app_slug"] = "an-app";
  auto refused = Call("POST", "/api/data/oauth2/providers", AdminToken(), zenodo.dump());
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("app_slug is only for GitHub Apps"), std::string::npos);
  zenodo.erase("app_slug");
  auto zen = Call("POST", "/api/data/oauth2/providers", AdminToken(), zenodo.dump());
  ASSERT_EQ(zen.status, 201) << zen.body;
  EXPECT_EQ(json::parse(zen.body)["use_pkce"], false);
}

TEST_F(ApiTest, PatchFollowsRenkuSemantics) {
  ASSERT_EQ(Call("POST", "/api/data/oauth2/providers", AdminToken(), GitLabBody("p").dump()).status,
            201);

  EXPECT_EQ(Call("PATCH", "/api/data/oauth2/providers/p", UserToken(), R"({"scope":"api"})").status,
            403);
  EXPECT_EQ(Call("PATCH", "/api/data/oauth2/providers/p", "", R"({"scope":"api"})").status, 401);
  EXPECT_EQ(
      Call("PATCH", "/api/data/oauth2/providers/nope", AdminToken(), R"({"scope":"api"})").status,
      404);
  EXPECT_EQ(Call("PATCH", "/api/data/oauth2/providers/p", AdminToken(), R"({"id":"q"})").status,
            422);

  auto patched = Call("PATCH", "/api/data/oauth2/providers/p", AdminToken(),
                      R"({"scope":"api","client_secret":""})");

  ASSERT_EQ(patched.status, 200) << patched.body;
  auto body = json::parse(patched.body);
  EXPECT_EQ(body["scope"], "api");
  EXPECT_EQ(body["client_secret"], "");
  EXPECT_EQ(body["display_name"], "Example GitLab");
}

TEST_F(ApiTest, DeleteIsAdminOnlyAndIdempotent) {
  ASSERT_EQ(Call("POST", "/api/data/oauth2/providers", AdminToken(), GitLabBody("d").dump()).status,
            201);

  EXPECT_EQ(Call("DELETE", "/api/data/oauth2/providers/d", UserToken()).status, 403);
  EXPECT_EQ(Call("DELETE", "/api/data/oauth2/providers/d").status, 401);
  EXPECT_EQ(Call("DELETE", "/api/data/oauth2/providers/d", AdminToken()).status, 204);
  EXPECT_EQ(Call("DELETE", "/api/data/oauth2/providers/d", AdminToken()).status, 204);
  EXPECT_EQ(Call("GET", "/api/data/oauth2/providers/d").status, 404);
}

TEST_F(ApiTest, RejectedTokensAreAnonymousWithAReason) {
  auto claims = issuer().DefaultClaims("admin-1", {"renku-admin"},
                                       std::chrono::system_clock::now() - std::chrono::hours(2));
  claims["aud"] = "renku";
  const std::string expired = issuer().Mint(claims);
  std::string tampered = AdminToken();
  tampered[tampered.find('.') + 5] ^= 1;

  auto r1 = Call("POST", "/api/data/oauth2/providers", expired, GitLabBody().dump());
  auto r2 = Call("POST", "/api/data/oauth2/providers", tampered, GitLabBody().dump());
  auto r3 = Call("POST", "/api/data/oauth2/providers", "kb_not-a-real-token", GitLabBody().dump());

  EXPECT_EQ(r1.status, 401);
  EXPECT_NE(r1.body.find("expired"), std::string::npos) << r1.body;
  EXPECT_EQ(r2.status, 401);
  EXPECT_EQ(r3.status, 401);
}

TEST_F(ApiTest, WrongAudienceIsRejected) {
  auto claims =
      issuer().DefaultClaims("admin-1", {"renku-admin"}, std::chrono::system_clock::now());
  claims["aud"] = "another-service";

  auto r = Call("POST", "/api/data/oauth2/providers", issuer().Mint(claims), GitLabBody().dump());

  EXPECT_EQ(r.status, 401);
}

TEST_F(ApiTest, MalformedInputGetsClear4xxAndTheServerKeepsServing) {
  const std::string admin = AdminToken();
  auto post = [&](const std::string& body) {
    return Call("POST", "/api/data/oauth2/providers", admin, body);
  };
  EXPECT_EQ(post("{not json").status, 400);
  ExpectStillServing();
  EXPECT_EQ(post("[1,2,3]").status, 400);
  EXPECT_EQ(post(std::string("{\"id\":\"\xff\xfe\"}")).status, 400);
  ExpectStillServing();
  EXPECT_EQ(post(R"({"id": 5})").status, 422);
  EXPECT_EQ(post(R"({"use_pkce": "yes"})").status, 422);
  auto huge = post(R"({"id":")" + std::string(std::size_t{3} * 1024 * 1024, 'a') + "\"}");
  EXPECT_EQ(huge.status, 413);
  ExpectStillServing();
  // Deeper than routes::kMaxJsonDepth, and under the 64 KiB body limit so that depth is checked.
  auto deep = post("{\"id\":" + std::string(30000, '[') + std::string(30000, ']') + "}");
  EXPECT_EQ(deep.status, 400);
  ExpectStillServing();
  for (const char* path :
       {"/api/data/oauth2/providers/..%2F..%2Fetc%2Fpasswd", "/api/data/oauth2/providers/%2e%2e",
        "/api/data/../../etc/passwd", "/api/data/oauth2/providers/%zz"}) {
    auto r = Call("GET", path);
    EXPECT_GE(r.status, 400) << path;
    EXPECT_LT(r.status, 500) << path;
  }
  std::vector<core::HttpHeader> flood;
  for (int i = 0; i < 2000; ++i) {
    flood.push_back({"X-Flood-" + std::to_string(i), std::string(40, 'v')});
  }
  auto flooded = Call("GET", "/api/data/oauth2/providers", "", "", flood);
  EXPECT_EQ(flooded.status, 431);
  ExpectStillServing();
  EXPECT_EQ(Call("GET", "/api/data/nothing-here").status, 404);
  EXPECT_EQ(Call("PUT", "/api/data/oauth2/providers").status, 405);
  EXPECT_EQ(Call("GET", "/api/data/oauth2/providers").body, "[]");
}

TEST_F(ApiTest, HealthReadinessAndSpec) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  auto spec = Call("GET", "/api/data/spec.json");
  ASSERT_EQ(spec.status, 200);
  EXPECT_EQ(json::parse(spec.body)["openapi"], "3.0.3");
}

TEST_F(ApiTest, SecretsNeverReachResponsesLogsOrTheDatabaseFile) {
  const std::string admin = AdminToken();
  auto created = Call("POST", "/api/data/oauth2/providers", admin, GitLabBody("s").dump());
  ASSERT_EQ(created.status, 201);
  std::string everything = created.body;
  everything += Call("GET", "/api/data/oauth2/providers", admin).body;
  everything += Call("GET", "/api/data/oauth2/providers/s", admin).body;
  everything +=
      Call("PATCH", "/api/data/oauth2/providers/s", admin, R"({"display_name":"renamed"})").body;
  kb_->StopApplication();  // closes the database so every page is on disk

  std::string file_bytes;
  for (const char* name : {"keybridge.db", "keybridge.db-wal"}) {
    std::ifstream in(kb_->dir() / name, std::ios::binary);
    file_bytes.append(std::istreambuf_iterator<char>(in), {});
  }
  const std::string logs = log_stream_.str();

  EXPECT_EQ(everything.find(kSecret), std::string::npos);
  EXPECT_EQ(logs.find(kSecret), std::string::npos);
  EXPECT_EQ(logs.find(admin), std::string::npos) << "a bearer token was logged";
  EXPECT_NE(logs.find("/api/data/oauth2/providers"), std::string::npos) << "no request log line";
  EXPECT_NE(file_bytes.find("gl-client-id"), std::string::npos) << "database file not read";
  EXPECT_EQ(file_bytes.find(kSecret), std::string::npos) << "client secret stored in plaintext";
}

// What Renku's admin panel sends: every field of its "Add Integration" form (an empty application
// slug for kinds that have none), then its edit form, prefilled from the answer, with the issuer
// cleared as "" for every kind but generic_oidc and the redacted secret left out.
TEST_F(ApiTest, RenkusAdminFormIsAcceptedForEveryKindWithTheSameMeaning) {
  struct Case {
    const char* kind;
    const char* url;
    const char* app_slug;
    const char* client_id;
    const char* stored_url;
  };
  const std::vector<Case> cases = {
      {"gitlab", "https://gitlab.example.org", "", "gl-app", "https://gitlab.example.org"},
      {"github", "https://github.com", "renku-app", "Iv23liExample", "https://github.com"},
      // Without a slug: a GitHub OAuth App.
      {"github", "https://github.com", "", "Ov23liExample", "https://github.com"},
      {"generic_oidc", "https://hpc.example.org", "", "hpc", "https://hpc.example.org"},
      {"dropbox", "https://www.dropbox.com", "", "app-key", "https://www.dropbox.com"},
      {"google", "https://www.googleapis.com/oauth2/v2/", "", "x.apps.googleusercontent.com",
       "https://accounts.google.com"},
      {"zenodo", "https://zenodo.org", "", "zen-client", "https://zenodo.org"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string id = std::string(c.kind) + "-" + std::to_string(n++);
    json form = {{"id", id},
                 {"kind", c.kind},
                 {"app_slug", c.app_slug},
                 {"display_name", id},
                 {"url", c.url},
                 {"use_pkce", false},
                 {"client_id", c.client_id},
                 {"client_secret", kSecret},
                 {"scope", "read"}};
    if (std::string(c.kind) == "generic_oidc") {
      form["oidc_issuer_url"] = "https://id.example.org/realms/hpc";
    }
    auto created = Call("POST", "/api/data/oauth2/providers", AdminToken(), form.dump());
    ASSERT_EQ(created.status, 201) << c.kind << ": " << created.body;
    json stored = json::parse(created.body);
    EXPECT_EQ(stored["kind"], c.kind);
    EXPECT_EQ(stored["url"], c.stored_url) << c.kind;
    EXPECT_EQ(stored["app_slug"], c.app_slug);
    EXPECT_EQ(stored["use_pkce"], false) << "an explicit false is kept";

    json edit = {{"kind", stored["kind"]},    {"app_slug", stored["app_slug"]},
                 {"display_name", "Renamed"}, {"url", stored["url"]},
                 {"use_pkce", true},          {"client_id", stored["client_id"]},
                 {"scope", stored["scope"]}};
    edit["oidc_issuer_url"] =
        std::string(c.kind) == "generic_oidc" ? stored.value("oidc_issuer_url", "") : std::string();
    auto edited = Call("PATCH", "/api/data/oauth2/providers/" + id, AdminToken(), edit.dump());
    ASSERT_EQ(edited.status, 200) << c.kind << ": " << edited.body;
    EXPECT_EQ(json::parse(edited.body)["display_name"], "Renamed");
    EXPECT_EQ(json::parse(edited.body)["use_pkce"], true);
    EXPECT_EQ(json::parse(edited.body)["url"], c.stored_url);
  }
}

}  // namespace
}  // namespace keybridge
