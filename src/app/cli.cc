#include "app/cli.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "app/application.h"
#include "app/config.h"
#include "app/git_credential.h"
#include "app/logging.h"
#include "core/public_urls.h"
#include "core/startup_error.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "gitproxy/credentials.h"
#include "gitproxy/git_proxy.h"
#include "net/curl_http_client.h"
#include "service/api_token_service.h"
#include "storage/key_rotation.h"
#include "storage/store.h"

namespace keybridge::app {
namespace {

struct StoreOptions {
  std::string database = "sqlite://./var/keybridge.db";
  std::string key_file = "./var/keybridge.key";
};

void AddStoreOptions(CLI::App& command, StoreOptions& options) {
  command
      .add_option("--database", options.database,
                  "sqlite://PATH or postgresql://USER:PASS@HOST:PORT/DB")
      ->envname("KEYBRIDGE_DATABASE")
      ->capture_default_str();
  command
      .add_option("--key-file", options.key_file,
                  "File with the data-encryption keys (created 0600 on first use)")
      ->envname("KEYBRIDGE_KEY_FILE")
      ->capture_default_str();
}

struct OpenedStore {
  crypto::SystemRandom random;
  std::unique_ptr<crypto::KeyRing> keys;
  std::unique_ptr<storage::Store> store;
};

std::unique_ptr<OpenedStore> OpenStoreOrThrow(const StoreOptions& options) {
  auto opened = std::make_unique<OpenedStore>();
  auto keys = crypto::KeyRing::LoadOrCreate(options.key_file, opened->random);
  if (!keys.ok()) {
    throw StartupError("cannot open the key file " + options.key_file + ": "
                       + keys.error().message);
  }
  opened->keys = std::move(keys).value();
  auto store = storage::OpenStore(options.database, *opened->keys);
  if (!store.ok()) {
    throw StartupError("cannot open the database: " + store.error().message);
  }
  opened->store = std::move(store).value();
  return opened;
}

int Serve(ServeConfig config) {
  // Block the termination signals before any thread starts so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Application application(std::move(config));
  application.Start();
  // One machine-readable line on stdout once requests are served (scripts and tests wait for it
  // instead of polling); everything else goes to the log on stderr.
  std::cout << "keybridge ready on http://" << application.config().listen_host << ":"
            << application.port() << std::endl;
  // After the ready line, so scripts that read the first line keep working.
  application.AnnounceAdminSignInLink();
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("received signal {}, shutting down", received);
  application.Stop();
  return 0;
}

int GitCredential(GitCredentialOptions options, const std::string& wait_timeout) {
  if (auto timeout = ParseDuration(wait_timeout); timeout.ok()) {
    options.wait_timeout = *timeout;
  } else {
    std::cerr << "keybridge: --wait-timeout: " << timeout.error().message << "\n";
    return 2;
  }
  if (auto loaded = LoadGitCredentialEnvironment(::getenv, options); !loaded.ok()) {
    // git shows helper stderr to the user; without configuration there is nothing to answer.
    std::cerr << "keybridge: " << loaded.error().message << "\n";
    return 1;
  }
  net::CurlHttpClient::Options http_options;
  if (const char* ca_file = ::getenv("KEYBRIDGE_CA_FILE"); ca_file != nullptr) {
    http_options.ca_file = ca_file;
  }
  net::CurlHttpClient http(http_options);
  core::SystemClock clock;
  GitCredentialIo io{std::cin, std::cout, std::cerr, http, clock, [](core::Seconds pause) {
                       std::this_thread::sleep_for(pause);
                     }};
  return RunGitCredential(options, io);
}

struct GitProxyFlags {
  std::string listen = "127.0.0.1:65480";
  std::string ca_file;
  bool allow_remote_clients = false;
};

int GitProxy(const GitProxyFlags& flags) {
  auto listen = ParseListen(flags.listen, "--listen");
  if (!listen.ok()) {
    std::cerr << "keybridge git-proxy: " << listen.error().message << "\n";
    return 2;
  }
  if (!listen->IsLoopback() && !flags.allow_remote_clients) {
    // Whoever reaches the proxy pushes with the user's token.
    std::cerr << "keybridge git-proxy: refusing to listen on " << listen->host
              << ": anyone who can connect would use your tokens. Listen on 127.0.0.1 or ::1, "
                 "or pass --allow-remote-clients if the network is the session's own\n";
    return 2;
  }
  GitCredentialOptions environment;
  if (auto loaded = LoadGitCredentialEnvironment(::getenv, environment); !loaded.ok()) {
    std::cerr << "keybridge git-proxy: " << loaded.error().message << "\n";
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  net::CurlHttpClient::Options http_options;
  http_options.ca_file = flags.ca_file;
  net::CurlHttpClient http(http_options);
  core::SystemClock clock;
  gitproxy::KeybridgeCredentials source(http, clock, environment.keybridge_url,
                                        core::Secret(environment.token));
  gitproxy::CredentialCache cache(source, clock);
  gitproxy::GitProxyOptions options;
  options.host = listen->host;
  options.port = listen->port;
  options.ca_file = flags.ca_file;
  gitproxy::GitProxy proxy(options, cache);
  proxy.Start();
  const bool v6 = listen->host.find(':') != std::string::npos;
  std::cout << "keybridge git-proxy ready on http://"
            << (v6 ? "[" + listen->host + "]" : listen->host) << ":" << proxy.port() << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("received signal {}, shutting down", received);
  proxy.Stop();
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App cli{
      "keybridge: connects research platforms to GitLab and GitHub for their users.\n"
      "Administrators register integrations (OAuth2 clients); users connect once; sessions get "
      "fresh tokens."};
  cli.require_subcommand(1);
  std::string log_level = "info";
  std::string log_format = "auto";
  cli.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->envname("KEYBRIDGE_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cli.add_option("--log-format", log_format, "auto (JSON unless stderr is a terminal), json, text")
      ->envname("KEYBRIDGE_LOG_FORMAT")
      ->check(CLI::IsMember({"auto", "json", "text"}));

  ServeConfig serve_config;
  std::string audiences;
  auto* serve = cli.add_subcommand("serve", "Run the HTTP API server");
  serve->add_option("--listen", serve_config.listen, "HOST:PORT to listen on")
      ->envname("KEYBRIDGE_LISTEN")
      ->capture_default_str();
  serve
      ->add_option("--public-url", serve_config.public_url,
                   "URL users reach keybridge at (default http://<listen>); the OAuth callback "
                   "to register at providers is <public-url>"
                       + std::string(core::kOAuthCallbackPath))
      ->envname("KEYBRIDGE_PUBLIC_URL");
  serve
      ->add_option("--database", serve_config.database,
                   "sqlite://PATH or postgresql://USER:PASS@HOST:PORT/DB")
      ->envname("KEYBRIDGE_DATABASE")
      ->capture_default_str();
  serve
      ->add_option("--key-file", serve_config.key_file,
                   "File with the data-encryption keys (created 0600 on first start)")
      ->envname("KEYBRIDGE_KEY_FILE")
      ->capture_default_str();
  serve
      ->add_option("--oidc-issuer", serve_config.oidc_issuer,
                   "OIDC issuer whose access tokens identify users (e.g. a Keycloak realm URL)")
      ->envname("KEYBRIDGE_OIDC_ISSUER");
  serve
      ->add_option("--oidc-client-id", serve_config.oidc_client_id,
                   "Client id for browser sign-in through the --oidc-issuer (authorization code "
                   "+ PKCE; register <public-url>"
                       + std::string(core::kBrowserSignInCallbackPath) + " as its redirect URI)")
      ->envname("KEYBRIDGE_OIDC_CLIENT_ID");
  serve
      ->add_option("--oidc-client-secret", serve_config.oidc_client_secret,
                   "Client secret for browser sign-in (prefer the environment variable: "
                   "process lists show flags)")
      ->envname("KEYBRIDGE_OIDC_CLIENT_SECRET");
  serve
      ->add_option("--oidc-audience", audiences,
                   "Comma-separated accepted token audiences (empty: any)")
      ->envname("KEYBRIDGE_OIDC_AUDIENCE");
  serve
      ->add_option("--admin-role", serve_config.admin_role,
                   "Realm role (realm_access.roles) that makes a user an administrator")
      ->envname("KEYBRIDGE_ADMIN_ROLE")
      ->capture_default_str();
  serve
      ->add_option("--ca-file", serve_config.ca_file,
                   "Extra trusted CA certificates (PEM) for self-hosted providers")
      ->envname("KEYBRIDGE_CA_FILE");
  serve
      ->add_option("--worker-threads", serve_config.worker_threads,
                   "Threads that run request handlers")
      ->envname("KEYBRIDGE_WORKER_THREADS")
      ->capture_default_str();

  serve
      ->add_option("--allowed-redirect-origins", serve_config.allowed_redirect_origins,
                   "Extra origins (https://host[:port]) that next_url may point to after "
                   "connecting; the public URL's origin is always allowed")
      ->envname("KEYBRIDGE_ALLOWED_REDIRECT_ORIGINS")
      ->delimiter(',');
  serve
      ->add_option("--refresh-margin", serve_config.refresh_margin,
                   "Refresh tokens on read when they expire within this time")
      ->envname("KEYBRIDGE_REFRESH_MARGIN")
      ->capture_default_str();
  serve
      ->add_option("--max-session-token-ttl", serve_config.max_session_token_ttl,
                   "Longest lifetime a user may give a session token (POST "
                   "/api/data/sessions/tokens; the default lifetime is 12h or this, if shorter)")
      ->envname("KEYBRIDGE_MAX_SESSION_TOKEN_TTL")
      ->capture_default_str();
  serve
      ->add_option("--background-refresh-interval", serve_config.background_refresh_interval,
                   "How often to refresh idle connections whose refresh token would lapse "
                   "(0 disables)")
      ->envname("KEYBRIDGE_BACKGROUND_REFRESH_INTERVAL")
      ->capture_default_str();
  serve
      ->add_flag("--allow-private-probe", serve_config.allow_private_probe,
                 "Let the repository check probe loopback, private and link-local addresses "
                 "(only for git servers on an internal network; off by default)")
      ->envname("KEYBRIDGE_ALLOW_PRIVATE_PROBE");

  StoreOptions store_options;
  auto* migrate = cli.add_subcommand("migrate", "Apply database schema migrations and exit");
  AddStoreOptions(*migrate, store_options);

  auto* tokens = cli.add_subcommand("tokens", "Manage local API tokens (no identity provider)");
  tokens->require_subcommand(1);
  std::string token_user;
  std::string token_name;
  std::string token_ttl;
  std::string token_id;
  bool token_admin = false;
  auto* tokens_create = tokens->add_subcommand(
      "create", "Create a token and print it once on stdout (only its hash is stored)");
  tokens_create->add_option("--user", token_user, "User id the token acts as")->required();
  tokens_create->add_flag("--admin", token_admin, "The token may administer integrations");
  tokens_create->add_option("--name", token_name, "A label to recognise the token later");
  tokens_create->add_option("--ttl", token_ttl, "Lifetime, e.g. 12h or 90d (default: no expiry)");
  AddStoreOptions(*tokens_create, store_options);
  auto* tokens_list = tokens->add_subcommand("list", "List tokens (never their values)");
  AddStoreOptions(*tokens_list, store_options);
  auto* tokens_revoke = tokens->add_subcommand("revoke", "Revoke a token by id");
  tokens_revoke->add_option("id", token_id, "Token id as shown by `tokens list`")->required();
  AddStoreOptions(*tokens_revoke, store_options);

  auto* keys = cli.add_subcommand("keys", "Manage data-encryption keys");
  keys->require_subcommand(1);
  auto* keys_rotate = keys->add_subcommand(
      "rotate", "Add a new key and re-encrypt every stored secret under it (safe while serving)");
  AddStoreOptions(*keys_rotate, store_options);

  GitCredentialOptions git_credential_options;
  std::string git_wait_timeout = "10m";
  auto* git_credential = cli.add_subcommand(
      "git-credential",
      "git credential helper: answers git with a fresh token from the keybridge server at "
      "KEYBRIDGE_URL, using KEYBRIDGE_TOKEN or KEYBRIDGE_TOKEN_FILE. Enable it with\n"
      "  git config --global credential.helper '!keybridge git-credential'\n"
      "  git config --global credential.useHttpPath true");
  git_credential->add_flag("--wait", git_credential_options.wait,
                           "When the service is not connected yet, print where to connect and "
                           "wait for it instead of failing");
  git_credential
      ->add_option("--wait-timeout", git_wait_timeout, "How long --wait waits, e.g. 90s or 10m")
      ->capture_default_str();
  git_credential
      ->add_option("operation", git_credential_options.operation,
                   "get, store or erase (git appends it); others are ignored")
      ->required();

  GitProxyFlags git_proxy_flags;
  auto* git_proxy = cli.add_subcommand(
      "git-proxy",
      "Streaming git smart-HTTP proxy that adds your token: http://LISTEN/<integration id>/<path> "
      "forwards to <integration URL>/<path>. Uses KEYBRIDGE_URL and KEYBRIDGE_TOKEN (or "
      "KEYBRIDGE_TOKEN_FILE) like git-credential. Point git at it with\n"
      "  git config --global url.\"http://127.0.0.1:65480/<integration id>/\".insteadOf "
      "\"<integration URL>/\"");
  git_proxy->add_option("--listen", git_proxy_flags.listen, "HOST:PORT to listen on (loopback)")
      ->envname("KEYBRIDGE_GIT_PROXY_LISTEN")
      ->capture_default_str();
  git_proxy
      ->add_option("--ca-file", git_proxy_flags.ca_file,
                   "Extra CA bundle for the integrations' and keybridge's TLS certificates")
      ->envname("KEYBRIDGE_CA_FILE");
  git_proxy->add_flag("--allow-remote-clients", git_proxy_flags.allow_remote_clients,
                      "Allow a non-loopback --listen address (only on a network that is the "
                      "session's own)");

  CLI11_PARSE(cli, argc, argv);
  if (git_credential->parsed()) {
    // No log lines at all: git shows the helper's stderr to the user, and spdlog's default
    // logger writes to stdout, where git reads the answer.
    spdlog::set_level(spdlog::level::off);
    try {
      return GitCredential(std::move(git_credential_options), git_wait_timeout);
    } catch (const StartupError& error) {
      std::cerr << "keybridge: " << error.what() << "\n";
      return 1;
    }
  }
  ConfigureLogging(log_format == "json"   ? LogFormat::kJson
                   : log_format == "text" ? LogFormat::kText
                                          : LogFormat::kAuto,
                   log_level);

  try {
    if (git_proxy->parsed()) {
      return GitProxy(git_proxy_flags);
    }
    if (serve->parsed()) {
      if (!audiences.empty()) {
        serve_config.oidc_audiences = {audiences};
      }
      return Serve(std::move(serve_config));
    }
    if (migrate->parsed()) {
      OpenStoreOrThrow(store_options);  // OpenStore migrates
      std::cerr << "database is up to date\n";
      return 0;
    }
    if (tokens_create->parsed() || tokens_list->parsed() || tokens_revoke->parsed()) {
      auto opened = OpenStoreOrThrow(store_options);
      core::SystemClock clock;
      service::ApiTokenService service(*opened->store->api_tokens, opened->random, clock);
      if (tokens_create->parsed()) {
        std::optional<core::Seconds> ttl;
        if (!token_ttl.empty()) {
          auto parsed = ParseDuration(token_ttl);
          if (!parsed.ok()) {
            std::cerr << "--ttl: " << parsed.error().message << "\n";
            return 2;
          }
          ttl = *parsed;
        }
        auto issued = service.Create(token_user, token_admin, token_name, ttl);
        if (!issued.ok()) {
          std::cerr << "error: " << issued.error().message << "\n";
          return 1;
        }
        std::cerr << "created token " << issued->record.id << " for user " << token_user
                  << (token_admin ? " (admin)" : "")
                  << "; it is shown only now. Use it as: Authorization: Bearer <token>\n";
        std::cout << issued->token.Reveal() << "\n";
        return 0;
      }
      if (tokens_list->parsed()) {
        auto list = service.List();
        if (!list.ok()) {
          std::cerr << "error: " << list.error().message << "\n";
          return 1;
        }
        std::cout << "ID\tUSER\tADMIN\tNAME\tCREATED\tEXPIRES\tSTATUS\n";
        const auto now = std::chrono::system_clock::now();
        for (const auto& t : *list) {
          const char* status = t.revoked_at                          ? "revoked"
                               : t.expires_at && *t.expires_at < now ? "expired"
                                                                     : "active";
          std::cout << t.id << "\t" << t.user_id << "\t" << (t.is_admin ? "yes" : "no") << "\t"
                    << t.name << "\t" << core::FormatIso8601(t.created_at) << "\t"
                    << (t.expires_at ? core::FormatIso8601(*t.expires_at) : "never") << "\t"
                    << status << "\n";
        }
        return 0;
      }
      // Whose token it is, so that their browser sessions (maybe signed in with it) end too.
      std::string owner;
      if (auto all = service.List(); all.ok()) {
        for (const auto& token : *all) {
          if (token.id == token_id) {
            owner = token.user_id;
          }
        }
      }
      auto revoked = service.Revoke(token_id);
      if (!revoked.ok()) {
        std::cerr << "error: " << revoked.error().message << "\n";
        return 1;
      }
      std::cerr << "revoked " << token_id << "\n";
      if (!owner.empty()) {
        auto signed_out = opened->store->browser_sessions->DeleteForUser(owner);
        if (!signed_out.ok()) {
          std::cerr << "error: could not sign " << owner
                    << " out of the web UI: " << signed_out.error().message << "\n";
          return 1;
        }
        std::cerr << "signed user " << owner << " out of " << *signed_out
                  << " browser session(s)\n";
      }
      return 0;
    }
    if (keys_rotate->parsed()) {
      auto opened = OpenStoreOrThrow(store_options);
      auto new_key = opened->keys->Rotate();
      if (!new_key.ok()) {
        std::cerr << "error: " << new_key.error().message << "\n";
        return 1;
      }
      auto report = storage::ReencryptSecrets(*opened->store, *opened->keys);
      if (!report.ok()) {
        std::cerr << "error: new key " << *new_key
                  << " was added but re-encryption stopped: " << report.error().message
                  << "\nRun `keybridge keys rotate` again; nothing is lost (old keys stay).\n";
        return 1;
      }
      std::cerr << "active key is now " << *new_key << "; re-encrypted " << report->reencrypted
                << " secrets (" << report->already_current << " were already current)\n";
      return 0;
    }
  } catch (const StartupError& error) {
    std::cerr << "keybridge: " << error.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace keybridge::app
