// ProxyTarget: what a request to keybridge git-proxy asks for. The proxy's URL space is
//   /<integration id>/<repository path>/<git smart-HTTP endpoint>[?service=...]
// and maps to <integration URL>/<repository path>/<endpoint>. Only git's smart-HTTP protocol
// passes (gitprotocol-http(5)): GET info/refs?service=git-upload-pack|git-receive-pack, POST
// git-upload-pack, POST git-receive-pack. Anything else is refused, so the proxy never becomes a
// general-purpose way to call a provider's API with the user's token.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace keybridge::gitproxy {

struct ProxyTarget {
  std::string provider_id;      // the integration id (first path segment)
  std::string repository_path;  // "group/sub/project.git", as sent (still percent-encoded)
  std::string endpoint;         // "info/refs", "git-upload-pack" or "git-receive-pack"
  std::string query;            // "service=git-upload-pack" for info/refs, else ""
  bool push = false;            // receive-pack: the request is (part of) a push

  // The path and query to request below the provider URL's path: "/group/p.git/info/refs?...".
  std::string UpstreamSuffix() const;
  // Identifies the repository for caching credentials: id + lower-cased path without ".git".
  std::string RepositoryKey() const;
};

// Parses an origin-form request target. kInvalidArgument (a person-readable reason) for
// absolute-form targets ("http://host/..."), paths that could leave the integration's URL once
// decoded ("..", ".", empty segments, also once ".git" is removed: "...git"; encoded '/' or '\\';
// control characters, also percent-encoded; encoded '#' or '?'; double encoding such as "%252e"),
// endpoints other than the three above, a method that does not fit the endpoint, or another query.
// kNotFound when the path has no repository part.
core::Result<ProxyTarget> ParseProxyTarget(std::string_view method, std::string_view target);

}  // namespace keybridge::gitproxy
