// ServeConfig: everything `keybridge serve` needs, from flags and KEYBRIDGE_* environment
// variables (a flag wins). Validated as a whole so an administrator sees every mistake at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace keybridge::app {

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string public_url;  // default http://<listen>
  std::string database = "sqlite://./var/keybridge.db";
  std::string key_file = "./var/keybridge.key";
  std::string oidc_issuer;
  std::vector<std::string> oidc_audiences;
  // Origins besides the issuer's that its discovery document's jwks_uri may name.
  std::vector<std::string> oidc_jwks_origins;
  // Browser sign-in through oidc_issuer; without a client id the browser signs in with
  // the one-time administrator link or an API token.
  std::string oidc_client_id;
  std::string oidc_client_secret;
  std::string admin_role = "renku-admin";
  std::string ca_file;
  std::string log_level = "info";
  // Threads of the database compartment: handlers that wait only on the database. The I/O
  // threads (io_threads) never wait; provider calls and probes have compartments of their own.
  std::size_t worker_threads = 16;
  std::size_t io_threads = 2;
  std::size_t provider_concurrency = 32;  // provider calls at once (refresh, connect, account)
  std::size_t probe_concurrency = 8;      // repository checks at once (anonymous callers too)
  std::size_t probe_rate = 60;            // repository checks per minute per client address
  // The repository check's git probe uses only ports 80 and 443 unless this is set.
  bool allow_any_probe_port = false;
  std::size_t max_connections = 512;  // open client connections; past it new ones get 503
  // Entries per read cache (connections, session and API tokens); 0 turns the caches off.
  std::size_t cache_entries = 50000;
  // Origins besides public_url's that next_url may redirect to after connecting.
  std::vector<std::string> allowed_redirect_origins;
  std::string refresh_margin = "5m";                // tokens expiring sooner are refreshed on read
  std::string background_refresh_interval = "60s";  // "0" disables the background refresher
  std::string max_session_token_ttl = "7d";         // longest lifetime of a session token
  std::string audit_retention = "90d";              // "0" keeps audit events forever
  // The repository check's git probe may reach loopback, private and link-local addresses (git
  // servers on an internal network). Off: only public addresses, checked after DNS and redirects.
  bool allow_private_probe = false;
  // "Try connecting": a trial whose browser has not come back after this names the provider's
  // likely error pages (service::IntegrationTrialOptions). Not a flag; tests set it to 0.
  core::Seconds trial_waiting_advice_after{180};
  // An integrations file (service/integration_file.h) applied at start; with
  // integrations_prune, integrations it does not list are deleted.
  std::string integrations_file;
  bool integrations_prune = false;

  // Derived by Validate().
  std::string listen_host;
  std::uint16_t listen_port = 0;
  bool public_url_defaulted = false;  // then it follows the actually bound port (--listen :0)
  core::Seconds refresh_margin_seconds{300};
  core::Seconds background_refresh_seconds{60};
  core::Seconds max_session_token_ttl_seconds{7 * 86400};
  core::Seconds audit_retention_seconds{90 * 86400};  // 0: forever
};

struct ListenAddress {
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 0;
  bool IsLoopback() const;
};
// "HOST:PORT" ("[::1]:8080" for IPv6); kInvalidArgument naming `flag` otherwise.
core::Result<ListenAddress> ParseListen(const std::string& text, const std::string& flag);

// Fills listen_host/listen_port and the public_url default. Returns kInvalidArgument whose
// message lists every problem, one per line.
core::Status Validate(ServeConfig& config);

// "90s", "15m", "12h", "30d" or plain seconds; kInvalidArgument otherwise.
core::Result<core::Seconds> ParseDuration(const std::string& text);

}  // namespace keybridge::app
