#include "gitproxy/forwarding.h"

#include <utility>

#include "core/text.h"

namespace keybridge::gitproxy {

// Hop-by-hop fields (RFC 9110 §7.6.1) and what the proxy sets itself are never forwarded; neither
// are the client's credentials or cookies, which belong to the proxy's origin, not the provider.
bool DropFromRequest(const std::string& lower_name) {
  static const std::set<std::string, std::less<>> kDropped = {
      "authorization",    "connection", "content-length", "cookie",
      "expect",           "host",       "keep-alive",     "proxy-authorization",
      "proxy-connection", "te",         "trailer",        "transfer-encoding",
      "upgrade"};
  return kDropped.contains(lower_name);
}

bool DropFromResponse(const std::string& lower_name) {
  static const std::set<std::string, std::less<>> kDropped = {
      "connection", "content-length", "keep-alive", "proxy-authenticate", "proxy-connection", "te",
      "trailer", "transfer-encoding", "upgrade",
      // A 401 that reaches git would make it prompt for a password it does not need.
      "www-authenticate"};
  return kDropped.contains(lower_name);
}

std::set<std::string> ConnectionOptions(std::string_view value) {
  std::set<std::string> names;
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string token = core::AsciiLower(value.substr(0, comma));
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    if (!token.empty()) {
      names.insert(token);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return names;
}

std::optional<Refusal> RefuseNonGitClient(std::string_view host, std::string_view origin,
                                          std::string_view sec_fetch_site,
                                          std::string_view listen_host, std::uint16_t port) {
  const std::string lower = core::AsciiLower(host);
  const std::string port_suffix = ":" + std::to_string(port);
  // The authority without our port (git sends the port it connected to; no port means 80).
  std::string_view name = lower;
  if (name.ends_with(port_suffix)) {
    name.remove_suffix(port_suffix.size());
  } else if (port != 80) {
    name = {};  // another port, or none: not addressed to us
  }
  const bool ours = name == "localhost" || name == "127.0.0.1" || name == "[::1]"
                    || (!listen_host.empty()
                        && (name == listen_host || name == "[" + std::string(listen_host) + "]"));
  if (!ours) {
    return Refusal{421, "git-proxy answers only requests addressed to itself (Host: 127.0.0.1"
                            + port_suffix + ")"};
  }
  if (!origin.empty() || (!sec_fetch_site.empty() && sec_fetch_site != "none")) {
    return Refusal{403, "git-proxy serves git, not web pages"};
  }
  return std::nullopt;
}

int StatusFor(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kInvalidArgument:
      return 400;
    case core::ErrorCode::kNotFound:
      return 404;
    case core::ErrorCode::kUnavailable:
      return 503;
    default:
      // Not 401: git would answer a 401 by prompting for a password, which cannot help here.
      return 403;
  }
}

core::Result<Upstream> UpstreamFor(const UpstreamCredential& credential,
                                   const ProxyTarget& target) {
  std::string full = credential.repository_url;
  while (!full.empty() && full.back() == '/') {
    full.pop_back();
  }
  full += "/" + target.endpoint;
  if (!target.query.empty()) {
    full += "?" + target.query;
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Url url, core::ParseUrl(full));
  if (url.scheme != "http" && url.scheme != "https") {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           "the integration URL is not http(s): " + credential.repository_url);
  }
  Upstream upstream;
  upstream.target = (url.path.empty() ? "/" : url.path) + (url.has_query ? "?" + url.query : "");
  const bool v6 = url.host.find(':') != std::string::npos;
  upstream.host_header = v6 ? "[" + url.host + "]" : url.host;
  const std::uint16_t default_port = url.scheme == "https" ? 443 : 80;
  if (url.port != 0 && url.port != default_port) {
    upstream.host_header += ":" + std::to_string(url.port);
  }
  upstream.repository_url = credential.repository_url;
  upstream.url = std::move(url);
  return upstream;
}

}  // namespace keybridge::gitproxy
