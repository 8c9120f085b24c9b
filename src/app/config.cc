#include "app/config.h"

#include <charconv>
#include <cstdint>
#include <fstream>

#include "core/url.h"

namespace keybridge::app {

core::Result<core::Seconds> ParseDuration(const std::string& text) {
  if (text.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "empty duration");
  }
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  const std::string unit(ptr, end);
  std::int64_t factor = 0;
  if (unit.empty() || unit == "s") {
    factor = 1;
  } else if (unit == "m") {
    factor = 60;
  } else if (unit == "h") {
    factor = 3600;
  } else if (unit == "d") {
    factor = 86400;
  }
  if (ec != std::errc() || ptr == begin || factor == 0 || value <= 0
      || value > 100LL * 365 * 86400 / factor) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "invalid duration \"" + text + "\" (use e.g. 90s, 15m, 12h or 30d)");
  }
  return core::Seconds(value * factor);
}

bool ListenAddress::IsLoopback() const {
  return core::IsLoopbackHost(host);  // the parsed address, never a text prefix
}

core::Result<ListenAddress> ParseListen(const std::string& text, const std::string& flag) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           flag + " must be HOST:PORT, e.g. 127.0.0.1:8080 (got \"" + text + "\")");
  }
  ListenAddress address;
  address.host = text.substr(0, colon);
  if (address.host.size() > 2 && address.host.front() == '[') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  unsigned port = 0;
  const std::string port_text = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           flag + " has an invalid port \"" + port_text + "\"");
  }
  address.port = static_cast<std::uint16_t>(port);
  return address;
}

core::Status Validate(ServeConfig& config) {
  std::vector<std::string> problems;
  if (auto listen = ParseListen(config.listen, "--listen"); listen.ok()) {
    config.listen_host = listen->host;
    config.listen_port = listen->port;
  } else {
    problems.push_back(listen.error().message);
  }
  if (config.public_url.empty()) {
    // With port 0 the real port is known only after binding; Application fills it in then.
    config.public_url = "http://" + (config.listen_port == 0 ? config.listen_host : config.listen);
    config.public_url_defaulted = true;
  }
  while (config.public_url.size() > 1 && config.public_url.back() == '/') {
    config.public_url.pop_back();
  }
  if (auto url = core::ParseUrl(config.public_url); !url.ok()) {
    problems.push_back("--public-url " + url.error().message);
  } else if (url->scheme != "https" && url->scheme != "http") {
    problems.push_back("--public-url must be an http(s) URL");
  } else if (url->has_query || url->has_fragment || !url->userinfo.empty()) {
    problems.push_back("--public-url must not contain credentials, a query or a fragment");
  }
  if (!(config.database.starts_with("sqlite://") || config.database.starts_with("postgresql://")
        || config.database.starts_with("postgres://"))) {
    problems.push_back(
        "--database must start with sqlite:// or postgresql:// (e.g. sqlite://./var/keybridge.db)");
  }
  if (config.key_file.empty()) {
    problems.push_back("--key-file must not be empty");
  }
  if (!config.oidc_issuer.empty()) {
    if (auto url = core::ParseUrl(config.oidc_issuer); !url.ok()) {
      problems.push_back("--oidc-issuer " + url.error().message);
    } else if (url->scheme != "https" && !(url->scheme == "http" && url->IsLoopbackHost())) {
      problems.push_back("--oidc-issuer must use https:// (http:// only for localhost)");
    }
  }
  if (!config.oidc_issuer.empty() && config.oidc_audiences.empty()) {
    if (config.oidc_client_id.empty()) {
      problems.push_back(
          "--oidc-issuer needs --oidc-audience: the client id your platform's access tokens are "
          "issued for (tokens the issuer minted for other applications must not be accepted)");
    } else {
      config.oidc_audiences = {config.oidc_client_id};  // the browser sign-in's client
    }
  }
  if (!config.oidc_client_id.empty() && config.oidc_issuer.empty()) {
    problems.push_back("--oidc-client-id needs --oidc-issuer");
  }
  if (!config.oidc_client_secret.empty() && config.oidc_client_id.empty()) {
    problems.push_back("--oidc-client-secret needs --oidc-client-id");
  }
  if (!config.ca_file.empty() && !std::ifstream(config.ca_file).good()) {
    problems.push_back("--ca-file \"" + config.ca_file + "\" cannot be read");
  }
  for (const auto& origin : config.allowed_redirect_origins) {
    auto url = core::ParseUrl(origin);
    if (!url.ok() || (url->scheme != "https" && url->scheme != "http") || !url->path.empty()) {
      problems.push_back(
          "--allowed-redirect-origins entries must be origins like "
          "https://renku.example.org (got \""
          + origin + "\")");
    }
  }
  if (auto margin = ParseDuration(config.refresh_margin); margin.ok()) {
    config.refresh_margin_seconds = *margin;
  } else {
    problems.push_back("--refresh-margin: " + margin.error().message);
  }
  if (config.background_refresh_interval == "0") {
    config.background_refresh_seconds = core::Seconds(0);
  } else if (auto interval = ParseDuration(config.background_refresh_interval); interval.ok()) {
    config.background_refresh_seconds = *interval;
  } else {
    problems.push_back("--background-refresh-interval: " + interval.error().message);
  }
  if (config.audit_retention == "0") {
    config.audit_retention_seconds = core::Seconds(0);
  } else if (auto retention = ParseDuration(config.audit_retention); retention.ok()) {
    config.audit_retention_seconds = *retention;
  } else {
    problems.push_back("--audit-retention: " + retention.error().message);
  }
  if (auto ttl = ParseDuration(config.max_session_token_ttl); !ttl.ok()) {
    problems.push_back("--max-session-token-ttl: " + ttl.error().message);
  } else if (*ttl < core::Seconds(60)) {
    problems.push_back("--max-session-token-ttl must be at least 60s");
  } else {
    config.max_session_token_ttl_seconds = *ttl;
  }
  if (config.worker_threads == 0 || config.worker_threads > 1024) {
    problems.push_back("--worker-threads must be between 1 and 1024");
  }
  if (config.io_threads == 0 || config.io_threads > 64) {
    problems.push_back("--io-threads must be between 1 and 64");
  }
  if (config.provider_concurrency == 0 || config.provider_concurrency > 1024) {
    problems.push_back("--provider-concurrency must be between 1 and 1024");
  }
  if (config.probe_rate == 0 || config.probe_rate > 100000) {
    problems.push_back("--probe-rate must be between 1 and 100000");
  }
  if (config.probe_concurrency == 0 || config.probe_concurrency > 256) {
    problems.push_back("--probe-concurrency must be between 1 and 256");
  }
  if (config.max_connections < 8 || config.max_connections > 65536) {
    problems.push_back("--max-connections must be between 8 and 65536");
  }
  if (config.cache_entries > 10000000) {
    problems.push_back("--cache-entries must be at most 10000000 (0 turns the caches off)");
  }
  if (config.integrations_prune && config.integrations_file.empty()) {
    problems.push_back("--integrations-prune needs --integrations-file");
  }
  if (problems.empty()) {
    return core::OkStatus();
  }
  std::string message;
  for (const auto& p : problems) {
    message += (message.empty() ? "" : "\n") + p;
  }
  return core::MakeError(core::ErrorCode::kInvalidArgument, message);
}

}  // namespace keybridge::app
