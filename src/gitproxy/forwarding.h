// What git-proxy forwards, decided without any I/O (so without Beast): the provider URL a request
// goes to, which header fields cross the proxy in each direction, and the HTTP status an error
// from the credential source becomes. Used by the Beast code in git_proxy.cc,
// upstream_connection.cc and relay.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/url.h"
#include "gitproxy/credentials.h"
#include "gitproxy/proxy_target.h"

namespace keybridge::gitproxy {

// Hop-by-hop fields (RFC 9110 §7.6.1) and what the proxy sets itself are never forwarded; neither
// are the client's credentials or cookies, which belong to the proxy's origin, not the provider.
bool DropFromRequest(const std::string& lower_name);
bool DropFromResponse(const std::string& lower_name);

// The field names a Connection header lists (lower-cased): hop-by-hop too.
std::set<std::string> ConnectionOptions(std::string_view value);

// Why a request is not git's, or std::nullopt. DNS rebinding lets a web page send requests to
// the proxy from a browser (the page's name resolves to 127.0.0.1), but the browser still names
// the page's host in Host (421 unless it is a loopback name or `listen_host`, with our `port`)
// and marks cross-site requests with Origin or Sec-Fetch-Site (403; git sends neither).
struct Refusal {
  int status;
  std::string message;
};
std::optional<Refusal> RefuseNonGitClient(std::string_view host, std::string_view origin,
                                          std::string_view sec_fetch_site,
                                          std::string_view listen_host, std::uint16_t port);

// The status git sees for a credential error (never 401: git would prompt for a password).
int StatusFor(core::ErrorCode code);

// Where one request goes: the repository URL keybridge named joined with the smart-HTTP endpoint.
struct Upstream {
  core::Url url;
  std::string target;  // origin-form path and query
  std::string host_header;
  std::string repository_url;  // for the access hint
};

// kUnavailable when the repository URL is not http(s) or does not parse.
core::Result<Upstream> UpstreamFor(const UpstreamCredential& credential, const ProxyTarget& target);

}  // namespace keybridge::gitproxy
