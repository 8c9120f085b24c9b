// `keybridge serve`: the HTTP API server (Application) until SIGINT or SIGTERM.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "app/application.h"
#include "app/commands/commands.h"
#include "app/commands/signals.h"
#include "app/config.h"
#include "core/public_urls.h"

namespace keybridge::app {
namespace {

int Serve(ServeConfig config) {
  // Before any thread starts, so only the wait below sees the termination signals.
  const sigset_t signals = BlockTerminationSignals();

  Application application(std::move(config));
  application.Start();
  // One machine-readable line on stdout once requests are served (scripts and tests wait for it
  // instead of polling); everything else goes to the log on stderr.
  std::cout << "keybridge ready on http://" << application.config().listen_host << ":"
            << application.port() << std::endl;
  // After the ready line, so scripts that read the first line keep working.
  application.AnnounceAdminSignInLink(std::cout);
  const int received = WaitForTerminationSignal(signals);
  spdlog::info("received signal {}, shutting down", received);
  application.Stop();
  return 0;
}

struct ServeState {
  ServeConfig config;
  std::string audiences;
};

}  // namespace

Command AddServeCommand(CLI::App& cli) {
  auto state = std::make_shared<ServeState>();
  auto* serve = cli.add_subcommand("serve", "Run the HTTP API server");
  serve->add_option("--listen", state->config.listen, "HOST:PORT to listen on")
      ->envname("KEYBRIDGE_LISTEN")
      ->capture_default_str();
  serve
      ->add_option("--public-url", state->config.public_url,
                   "URL users reach keybridge at (default http://<listen>); the OAuth callback "
                   "to register at providers is <public-url>"
                       + std::string(core::kOAuthCallbackPath))
      ->envname("KEYBRIDGE_PUBLIC_URL");
  serve
      ->add_option("--database", state->config.database,
                   "sqlite://PATH or postgresql://USER:PASS@HOST:PORT/DB")
      ->envname("KEYBRIDGE_DATABASE")
      ->capture_default_str();
  serve
      ->add_option("--key-file", state->config.key_file,
                   "File with the data-encryption keys (created 0600 on first start)")
      ->envname("KEYBRIDGE_KEY_FILE")
      ->capture_default_str();
  serve
      ->add_option("--oidc-issuer", state->config.oidc_issuer,
                   "OIDC issuer whose access tokens identify users (e.g. a Keycloak realm URL)")
      ->envname("KEYBRIDGE_OIDC_ISSUER");
  serve
      ->add_option("--oidc-client-id", state->config.oidc_client_id,
                   "Client id for browser sign-in through the --oidc-issuer (authorization code "
                   "+ PKCE; register <public-url>"
                       + std::string(core::kBrowserSignInCallbackPath) + " as its redirect URI)")
      ->envname("KEYBRIDGE_OIDC_CLIENT_ID");
  serve
      ->add_option("--oidc-client-secret", state->config.oidc_client_secret,
                   "Client secret for browser sign-in (prefer the environment variable: "
                   "process lists show flags)")
      ->envname("KEYBRIDGE_OIDC_CLIENT_SECRET");
  serve
      ->add_option(
          "--oidc-audience", state->audiences,
          "Comma-separated accepted token audiences (required with --oidc-issuer; defaults to "
          "--oidc-client-id)")
      ->envname("KEYBRIDGE_OIDC_AUDIENCE");
  serve
      ->add_option("--oidc-jwks-origin", state->config.oidc_jwks_origins,
                   "Origins (https://host[:port]) besides the issuer's own that its signing keys "
                   "(jwks_uri) may be fetched from")
      ->envname("KEYBRIDGE_OIDC_JWKS_ORIGIN")
      ->delimiter(',');
  serve
      ->add_option("--admin-role", state->config.admin_role,
                   "Realm role (realm_access.roles) that makes a user an administrator")
      ->envname("KEYBRIDGE_ADMIN_ROLE")
      ->capture_default_str();
  serve
      ->add_option("--ca-file", state->config.ca_file,
                   "Extra trusted CA certificates (PEM) for self-hosted providers")
      ->envname("KEYBRIDGE_CA_FILE");
  serve
      ->add_option("--worker-threads", state->config.worker_threads,
                   "Threads of the database compartment (handlers that wait on the database)")
      ->envname("KEYBRIDGE_WORKER_THREADS")
      ->capture_default_str();
  serve
      ->add_option("--io-threads", state->config.io_threads,
                   "Threads that read and write connections (they never wait on anything else)")
      ->envname("KEYBRIDGE_IO_THREADS")
      ->capture_default_str();
  serve
      ->add_option("--provider-concurrency", state->config.provider_concurrency,
                   "Provider calls (token refresh, connect, account) in flight at once")
      ->envname("KEYBRIDGE_PROVIDER_CONCURRENCY")
      ->capture_default_str();
  serve
      ->add_option("--probe-concurrency", state->config.probe_concurrency,
                   "Repository checks in flight at once, all callers together")
      ->envname("KEYBRIDGE_PROBE_CONCURRENCY")
      ->capture_default_str();
  serve
      ->add_option("--probe-rate", state->config.probe_rate,
                   "Repository checks per minute per client address (bursts of a third of it)")
      ->envname("KEYBRIDGE_PROBE_RATE")
      ->capture_default_str();
  serve
      ->add_option("--max-connections", state->config.max_connections,
                   "Open client connections; past it a new connection gets 503")
      ->envname("KEYBRIDGE_MAX_CONNECTIONS")
      ->capture_default_str();

  serve
      ->add_option("--cache-entries", state->config.cache_entries,
                   "Entries per in-memory cache of connections and session/API tokens; changes "
                   "from any replica are seen within 1 s (0 turns the caches off)")
      ->envname("KEYBRIDGE_CACHE_ENTRIES")
      ->capture_default_str();

  serve
      ->add_option("--allowed-redirect-origins", state->config.allowed_redirect_origins,
                   "Extra origins (https://host[:port]) that next_url may point to after "
                   "connecting; the public URL's origin is always allowed")
      ->envname("KEYBRIDGE_ALLOWED_REDIRECT_ORIGINS")
      ->delimiter(',');
  serve
      ->add_option("--refresh-margin", state->config.refresh_margin,
                   "Refresh tokens on read when they expire within this time")
      ->envname("KEYBRIDGE_REFRESH_MARGIN")
      ->capture_default_str();
  serve
      ->add_option("--max-session-token-ttl", state->config.max_session_token_ttl,
                   "Longest lifetime a user may give a session token (POST "
                   "/api/data/sessions/tokens; the default lifetime is 12h or this, if shorter)")
      ->envname("KEYBRIDGE_MAX_SESSION_TOKEN_TTL")
      ->capture_default_str();
  serve
      ->add_option("--background-refresh-interval", state->config.background_refresh_interval,
                   "How often to refresh idle connections whose refresh token would lapse "
                   "(0 disables)")
      ->envname("KEYBRIDGE_BACKGROUND_REFRESH_INTERVAL")
      ->capture_default_str();
  serve
      ->add_option("--audit-retention", state->config.audit_retention,
                   "How long audit events (GET /api/data/audit) are kept (0 keeps them forever)")
      ->envname("KEYBRIDGE_AUDIT_RETENTION")
      ->capture_default_str();
  serve
      ->add_flag("--allow-private-probe", state->config.allow_private_probe,
                 "Let the repository check probe loopback, private and link-local addresses "
                 "(only for git servers on an internal network; off by default)")
      ->envname("KEYBRIDGE_ALLOW_PRIVATE_PROBE");
  serve
      ->add_flag("--allow-any-probe-port", state->config.allow_any_probe_port,
                 "Let the repository check probe ports other than 80 and 443 (off by default)")
      ->envname("KEYBRIDGE_ALLOW_ANY_PROBE_PORT");
  serve
      ->add_option("--integrations-file", state->config.integrations_file,
                   "Integrations file (JSON, as for `keybridge integrations apply`) applied at "
                   "start; the API and the web UI cannot edit or delete what it manages")
      ->envname("KEYBRIDGE_INTEGRATIONS_FILE");
  serve
      ->add_flag("--integrations-prune", state->config.integrations_prune,
                 "With --integrations-file: delete integrations the file does not list")
      ->envname("KEYBRIDGE_INTEGRATIONS_PRUNE");
  return {serve, [state] {
            if (!state->audiences.empty()) {
              state->config.oidc_audiences = {state->audiences};
            }
            return Serve(std::move(state->config));
          }};
}

}  // namespace keybridge::app
