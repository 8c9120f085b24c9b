// keybridge-fake-providers: FakeGitLab, FakeGitHub and the data-connector fakes (FakeDropbox,
// FakeGoogle, FakeZenodo) as one standalone process, for scripts that drive a real
// `keybridge serve` (the benchmarks under bench/, browser tests). It prints exactly one JSON line
// describing the fakes on stdout, then serves on loopback until SIGTERM or SIGINT,
// or until stdin reaches end of file when stdin is a pipe or socket (so a parent that dies takes
// the fakes with it), and exits 0. Uses the real clock. Test-only: the fakes are not providers.
//
//   build/dev/tests/fakes/keybridge-fake-providers
//       --redirect-uri http://127.0.0.1:8080/api/data/oauth2/callback
//       --gitlab-project group/project --github-repo alice/notes --github-enterprise
//   {"gitlab":{"url":"http://127.0.0.1:41234",...},"github":{...},
//    "dropbox":{"url":...,"client_id":...,"client_secret":...},"google":{...},"zenodo":{...}}
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "fakes/fake_dropbox.h"
#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "fakes/fake_google.h"
#include "fakes/fake_zenodo.h"

namespace {

using keybridge::fakes::FakeDropbox;
using keybridge::fakes::FakeGitHub;
using keybridge::fakes::FakeGitLab;
using keybridge::fakes::FakeGoogle;
using keybridge::fakes::FakeOAuthProvider;
using keybridge::fakes::FakeUser;
using keybridge::fakes::FakeZenodo;

struct Flags {
  std::vector<std::string> redirect_uris;
  std::string gitlab_client_id = "fake-gitlab-client-id";
  std::string gitlab_client_secret = "fake-gitlab-client-secret";
  std::string github_client_id = "fake-github-client-id";
  std::string github_client_secret = "fake-github-client-secret";
  std::string github_app_slug = "keybridge-fake";
  std::string dropbox_client_id = "fake-dropbox-client-id";
  std::string dropbox_client_secret = "fake-dropbox-client-secret";
  std::string google_client_id = "fake-google-client-id";
  std::string google_client_secret = "fake-google-client-secret";
  std::string zenodo_client_id = "fake-zenodo-client-id";
  std::string zenodo_client_secret = "fake-zenodo-client-secret";
  int token_delay_ms = 0;
  std::int64_t access_token_ttl = 7200;
  bool access_token_ttl_given = false;  // else Dropbox, Google, Zenodo keep their own lifetimes
  std::size_t worker_threads = 64;
  std::string user = "alice";
  std::vector<std::string> gitlab_projects;
  std::vector<std::string> github_repos;
  bool github_enterprise = false;
  std::size_t issue_tokens = 0;
  std::string issue_tokens_file;
  std::size_t seed_bytes = 0;
  std::string stats_file;
  std::vector<std::string> gitlab_empty_projects;
  std::size_t max_body_mb = 64;
  std::string registry_issuer = "gitlab-issuer";
  bool registry_accepts_oauth_tokens = false;
};

bool StdinIsPipeOrSocket() {
  struct stat info {};
  if (::fstat(STDIN_FILENO, &info) != 0) {
    return false;
  }
  return S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode);
}

// Deterministic, incompressible bytes (xorshift), so packs are as large as the content: a
// benchmark repository of N bytes transfers about N bytes.
std::string NoiseBytes(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x & 0xFF);
  }
  return out;
}

// The content a seeded repository gets: a README plus, with --seed-bytes, that many bytes of
// noise in files of at most 8 MiB.
keybridge::fakes::GitFiles SeedFiles(const std::string& name, std::size_t seed_bytes) {
  keybridge::fakes::GitFiles files{{"README.md", "# " + name + "\n\nSeeded by the fake.\n"}};
  constexpr std::size_t kChunk = std::size_t{8} * 1024 * 1024;
  std::size_t index = 0;
  for (std::size_t done = 0; done < seed_bytes; done += kChunk, ++index) {
    const std::size_t size = std::min(kChunk, seed_bytes - done);
    files["data/blob-" + std::to_string(index) + ".bin"] = NoiseBytes(size, index + 1);
  }
  return files;
}

int Run(const Flags& flags) {
  // Block the stop signals in every thread (the servers' threads inherit this mask) and take
  // them synchronously below with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const keybridge::core::SystemClock clock;
  FakeUser user;
  user.id = 1;
  user.username = flags.user;
  user.name = flags.user;
  user.email = flags.user + "@example.com";

  FakeGitLab::Options gitlab_options;
  gitlab_options.client_id = flags.gitlab_client_id;
  gitlab_options.client_secret = flags.gitlab_client_secret;
  gitlab_options.redirect_uris = flags.redirect_uris;
  gitlab_options.access_token_lifetime = keybridge::core::Seconds(flags.access_token_ttl);
  gitlab_options.token_delay = std::chrono::milliseconds(flags.token_delay_ms);
  gitlab_options.worker_threads = flags.worker_threads;
  gitlab_options.max_body_bytes = flags.max_body_mb * 1024 * 1024;
  // Any Basic user name with an OAuth token, as GitLab 14+ (keybridge sends "oauth2" anyway).
  gitlab_options.require_oauth2_username = false;
  gitlab_options.registry_issuer = flags.registry_issuer;
  gitlab_options.registry_accepts_oauth_tokens = flags.registry_accepts_oauth_tokens;

  FakeGitHub::Options github_options;
  github_options.client_id = flags.github_client_id;
  github_options.client_secret = flags.github_client_secret;
  github_options.redirect_uris = flags.redirect_uris;
  github_options.access_token_lifetime = keybridge::core::Seconds(flags.access_token_ttl);
  github_options.token_delay = std::chrono::milliseconds(flags.token_delay_ms);
  github_options.worker_threads = flags.worker_threads;
  github_options.max_body_bytes = flags.max_body_mb * 1024 * 1024;
  github_options.enterprise = flags.github_enterprise;
  github_options.app_slug = flags.github_app_slug;

  // The data-connector fakes: the shared switches, each provider's own token lifetime unless
  // --access-token-ttl is given.
  const auto shared = [&](FakeOAuthProvider::Options& options, const std::string& client_id,
                          const std::string& client_secret) {
    options.client_id = client_id;
    options.client_secret = client_secret;
    options.redirect_uris = flags.redirect_uris;
    if (flags.access_token_ttl_given) {
      options.access_token_lifetime = keybridge::core::Seconds(flags.access_token_ttl);
    }
    options.token_delay = std::chrono::milliseconds(flags.token_delay_ms);
    options.worker_threads = flags.worker_threads;
  };
  FakeDropbox::Options dropbox_options;
  shared(dropbox_options, flags.dropbox_client_id, flags.dropbox_client_secret);
  FakeGoogle::Options google_options;
  shared(google_options, flags.google_client_id, flags.google_client_secret);
  FakeZenodo::Options zenodo_options;
  shared(zenodo_options, flags.zenodo_client_id, flags.zenodo_client_secret);

  auto gitlab = std::make_unique<FakeGitLab>(clock, gitlab_options);
  auto github = std::make_unique<FakeGitHub>(clock, github_options);
  auto dropbox = std::make_unique<FakeDropbox>(clock, dropbox_options);
  auto google = std::make_unique<FakeGoogle>(clock, google_options);
  auto zenodo = std::make_unique<FakeZenodo>(clock, zenodo_options);
  for (FakeOAuthProvider* fake : std::initializer_list<FakeOAuthProvider*>{
           gitlab.get(), github.get(), dropbox.get(), google.get(), zenodo.get()}) {
    fake->SetCurrentUser(user);
  }

  for (const auto& path : flags.gitlab_projects) {
    keybridge::fakes::GitLabProject project;
    project.path_with_namespace = path;
    project.members = {{user.id, keybridge::fakes::kGitLabDeveloper}};
    gitlab->AddProject(project);
    gitlab->SeedRepository(path, SeedFiles(path, flags.seed_bytes));
  }
  for (const auto& path : flags.gitlab_empty_projects) {
    keybridge::fakes::GitLabProject project;
    project.path_with_namespace = path;
    project.members = {{user.id, keybridge::fakes::kGitLabDeveloper}};
    gitlab->AddProject(project);
  }
  std::map<std::string, std::int64_t> installations;  // owner -> installation id
  for (const auto& full_name : flags.github_repos) {
    const std::string owner = full_name.substr(0, full_name.find('/'));
    auto [it, inserted] = installations.try_emplace(owner, 0);
    if (inserted) {
      keybridge::fakes::GitHubInstallation installation;
      installation.account_login = owner;
      installation.account_id =
          owner == user.username ? user.id : 1000 + std::int64_t(installations.size());
      installation.account_type = owner == user.username ? "User" : "Organization";
      installation.user_ids = {user.id};
      it->second = github->AddInstallation(installation);
    }
    keybridge::fakes::GitHubRepository repository;
    repository.full_name = full_name;
    repository.installation_id = it->second;
    keybridge::fakes::GitHubRepoPermissions write;
    write.push = true;
    repository.collaborators = {{user.id, write}};
    github->AddRepository(repository);
    github->SeedRepository(full_name, SeedFiles(full_name, flags.seed_bytes));
  }

  // Token pairs minted at GitLab without a browser flow, one JSON object per line, for tools
  // that seed keybridge's store directly (refresh-storm benchmark). The file is created 0600.
  if (flags.issue_tokens > 0) {
    const int fd = ::open(flags.issue_tokens_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
      std::cerr << "cannot create " << flags.issue_tokens_file << "\n";
      return 1;
    }
    ::close(fd);
    std::ofstream out(flags.issue_tokens_file, std::ios::trunc);
    for (std::size_t i = 0; i < flags.issue_tokens; ++i) {
      const auto pair = gitlab->IssueTokenPair(user, "api");
      out << nlohmann::json{{"access_token", pair.access_token},
                            {"refresh_token", pair.refresh_token}}
                 .dump()
          << "\n";
    }
    if (!out.flush()) {
      std::cerr << "cannot write " << flags.issue_tokens_file << "\n";
      return 1;
    }
  }

  const std::string install_url = github->BaseUrl()
                                  + (flags.github_enterprise ? "/github-apps/" : "/apps/")
                                  + flags.github_app_slug + "/installations/new";
  const nlohmann::ordered_json ready = {
      {"gitlab",
       {{"url", gitlab->BaseUrl()},
        {"client_id", flags.gitlab_client_id},
        {"client_secret", flags.gitlab_client_secret},
        {"registry_realm", gitlab->RegistryTokenUrl()},
        {"registry_issuer", gitlab->RegistryIssuer()},
        {"registry_certificate", gitlab->RegistryCertificatePath()}}},
      {"github",
       {{"url", github->BaseUrl()},
        {"api_url", github->ApiBaseUrl()},
        {"client_id", flags.github_client_id},
        {"client_secret", flags.github_client_secret},
        {"app_slug", flags.github_app_slug},
        {"install_url", install_url},
        {"registry_realm", github->RegistryTokenUrl()},
        {"registry_issuer", github->RegistryIssuer()},
        {"registry_certificate", github->RegistryCertificatePath()}}},
      {"dropbox",
       {{"url", dropbox->BaseUrl()},
        {"client_id", flags.dropbox_client_id},
        {"client_secret", flags.dropbox_client_secret}}},
      {"google",
       {{"url", google->BaseUrl()},
        {"client_id", flags.google_client_id},
        {"client_secret", flags.google_client_secret}}},
      {"zenodo",
       {{"url", zenodo->BaseUrl()},
        {"client_id", flags.zenodo_client_id},
        {"client_secret", flags.zenodo_client_secret}}}};
  std::cout << ready.dump() << std::endl;  // endl flushes: the parent is waiting for this line

  if (StdinIsPipeOrSocket()) {
    // Detached: it may still sit in read() when main returns, which ends the process anyway.
    std::thread([] {
      char buffer[256];
      while (::read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
      }
      ::kill(::getpid(), SIGTERM);
    }).detach();
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (!flags.stats_file.empty()) {
    // What the providers received, for scripts that check keybridge's provider calls (the
    // refresh-storm benchmark: refreshes must equal the number of distinct connections).
    const auto counters = [](const keybridge::fakes::FakeOAuthProvider& fake) {
      return nlohmann::ordered_json{{"token_requests", fake.TokenRequestCount()},
                                    {"refresh_requests", fake.RefreshRequestCount()},
                                    {"code_exchanges", fake.CodeExchangeCount()},
                                    {"revocations", fake.RevocationCount()}};
    };
    std::ofstream(flags.stats_file, std::ios::trunc) << nlohmann::ordered_json{
        {"gitlab", counters(*gitlab)},
        {"github", counters(*github)},
        {"dropbox", counters(*dropbox)},
        {"google", counters(*google)},
        {"zenodo", counters(*zenodo)}}.dump() << "\n";
  }
  // Destructors stop the servers and remove the repositories' temporary directory.
  zenodo.reset();
  google.reset();
  dropbox.reset();
  github.reset();
  gitlab.reset();
  return 0;
}

}  // namespace

// Only building the command line can throw outside the try below (CLI11 on a duplicate option
// name, a programming error): std::terminate is the right end for that.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape): see above
  Flags flags;
  CLI::App app{
      "Loopback fake GitLab, GitHub, Dropbox, Google and Zenodo for scripts (benchmarks, browser "
      "tests)."};
  app.add_option("--redirect-uri", flags.redirect_uris,
                 "keybridge callback URL the fake apps accept (repeatable)");
  app.add_option("--gitlab-client-id", flags.gitlab_client_id)->capture_default_str();
  app.add_option("--gitlab-client-secret", flags.gitlab_client_secret)->capture_default_str();
  app.add_option("--github-client-id", flags.github_client_id)->capture_default_str();
  app.add_option("--github-client-secret", flags.github_client_secret)->capture_default_str();
  app.add_option("--github-app-slug", flags.github_app_slug)->capture_default_str();
  app.add_option("--dropbox-client-id", flags.dropbox_client_id)->capture_default_str();
  app.add_option("--dropbox-client-secret", flags.dropbox_client_secret)->capture_default_str();
  app.add_option("--google-client-id", flags.google_client_id)->capture_default_str();
  app.add_option("--google-client-secret", flags.google_client_secret)->capture_default_str();
  app.add_option("--zenodo-client-id", flags.zenodo_client_id)->capture_default_str();
  app.add_option("--zenodo-client-secret", flags.zenodo_client_secret)->capture_default_str();
  app.add_option("--token-delay-ms", flags.token_delay_ms,
                 "every token-endpoint request waits this long first (a slow provider)")
      ->check(CLI::Range(0, 600000));
  auto* ttl = app.add_option("--access-token-ttl", flags.access_token_ttl,
                             "access token lifetime, seconds (Dropbox, Google and Zenodo keep "
                             "their own unless given)")
                  ->check(CLI::Range(std::int64_t{1}, std::int64_t{31536000}))
                  ->capture_default_str();
  app.add_option("--worker-threads", flags.worker_threads,
                 "handler threads per server (a delayed token request occupies one)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{4096}))
      ->capture_default_str();
  app.add_option("--user", flags.user, "login of the user signed in at every provider")
      ->capture_default_str();
  app.add_option("--gitlab-project", flags.gitlab_projects,
                 "group/project to create and seed; the user is Developer (repeatable)");
  app.add_option("--gitlab-empty-project", flags.gitlab_empty_projects,
                 "group/project to create without commits (a push target; repeatable)");
  app.add_option("--max-body-mb", flags.max_body_mb,
                 "largest request body (a git push sends the whole pack as one)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{8192}))
      ->capture_default_str();
  app.add_option("--github-repo", flags.github_repos,
                 "owner/name to create and seed, installed and writable for the user (repeatable)")
      ->check([](const std::string& value) {
        const auto slash = value.find('/');
        return slash == std::string::npos || slash == 0 || slash + 1 == value.size()
                       || value.find('/', slash + 1) != std::string::npos
                   ? std::string("expected owner/name")
                   : std::string();
      });
  app.add_option("--registry-issuer", flags.registry_issuer,
                 "`iss` of the GitLab registry tokens (the registry's auth.token.issuer)")
      ->capture_default_str();
  app.add_flag("--registry-accepts-oauth-tokens", flags.registry_accepts_oauth_tokens,
               "GitLab's /jwt/auth takes OAuth access tokens (GitLab versions differ)");
  app.add_flag("--github-enterprise", flags.github_enterprise,
               "GitHub Enterprise Server layout (API under /api/v3 on the same host)");
  app.add_option("--seed-bytes", flags.seed_bytes,
                 "extra incompressible bytes committed into every seeded repository");
  app.add_option("--issue-tokens", flags.issue_tokens,
                 "mint this many GitLab token pairs for the user (see --issue-tokens-file)");
  app.add_option("--issue-tokens-file", flags.issue_tokens_file,
                 "where --issue-tokens writes them, one JSON object per line (mode 0600)");
  app.add_option("--stats-file", flags.stats_file,
                 "on exit, write the providers' request counters here as one JSON line");
  CLI11_PARSE(app, argc, argv);
  flags.access_token_ttl_given = ttl->count() > 0;
  if (flags.issue_tokens > 0 && flags.issue_tokens_file.empty()) {
    std::cerr << "--issue-tokens needs --issue-tokens-file\n";
    return 2;
  }
  try {
    return Run(flags);
  } catch (const std::exception& error) {
    // Setup only (git failing to create or seed a repository, a port that cannot be bound).
    std::cerr << "keybridge-fake-providers: " << error.what() << "\n";
    return 1;
  }
}
