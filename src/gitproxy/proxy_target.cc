#include "gitproxy/proxy_target.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "core/text.h"
#include "core/url.h"

namespace keybridge::gitproxy {
namespace {

using core::ErrorCode;
using core::MakeError;

constexpr std::size_t kMaxTargetLength = 4096;

core::Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> segments;
  while (true) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      return segments;
    }
    path.remove_prefix(slash + 1);
  }
}

bool ValidProviderId(std::string_view id) {
  return !id.empty() && id.size() <= 100 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

std::string ProxyTarget::UpstreamSuffix() const {
  std::string suffix = "/" + repository_path + "/" + endpoint;
  if (!query.empty()) {
    suffix += "?" + query;
  }
  return suffix;
}

std::string ProxyTarget::RepositoryKey() const {
  std::string path = core::AsciiLower(repository_path);
  if (path.ends_with(".git")) {
    path.resize(path.size() - 4);
  }
  return provider_id + "/" + path;
}

core::Result<ProxyTarget> ParseProxyTarget(std::string_view method, std::string_view target) {
  if (target.size() > kMaxTargetLength) {
    return Invalid("the request path is too long");
  }
  if (target.empty() || target.front() != '/') {
    // Absolute-form ("http://provider/...") would let a client pick the destination.
    return Invalid("git-proxy only accepts paths of the form /<integration id>/<repository path>");
  }
  if (std::any_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\' || c == '#';
      })) {
    return Invalid("the request path contains characters git never sends");
  }
  std::string_view path = target;
  std::string_view query;
  if (const auto mark = target.find('?'); mark != std::string_view::npos) {
    path = target.substr(0, mark);
    query = target.substr(mark + 1);
  }
  // An encoded '/' or '\' would become a separator only after the provider decodes it, past our
  // segment checks, so it is refused here rather than forwarded.
  const std::string lowered = core::AsciiLower(path);
  if (lowered.find("%2f") != std::string::npos || lowered.find("%5c") != std::string::npos) {
    return Invalid("encoded slashes are not allowed in repository paths");
  }
  const std::vector<std::string_view> segments = Split(path.substr(1));
  for (const std::string_view segment : segments) {
    const auto decoded = core::PercentDecode(segment, /*plus_is_space=*/false);
    if (!decoded || decoded->empty() || *decoded == "." || *decoded == "..") {
      return Invalid("the request path has an empty, '.' or '..' segment");
    }
    // Decoded, a segment must still hold nothing git never sends: control bytes (header and log
    // injection at the provider), '#' and '?' (they would cut the path short once decoded
    // upstream) and '%' (a second encoding, "%252e%252e", is "%2e%2e" after one decoding and ".."
    // after the next).
    if (std::any_of(decoded->begin(), decoded->end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return u < 0x20 || u == 0x7f || c == '#' || c == '?' || c == '%';
        })) {
      return Invalid("the request path contains encoded characters git never sends");
    }
  }

  ProxyTarget parsed;
  std::size_t endpoint_segments = 0;
  const std::string_view last = segments.back();
  if (last == "git-upload-pack" || last == "git-receive-pack") {
    if (method != "POST") {
      return Invalid(std::string(last) + " takes POST");
    }
    if (!query.empty()) {
      return Invalid("unexpected query on " + std::string(last));
    }
    parsed.endpoint = std::string(last);
    parsed.push = last == "git-receive-pack";
    endpoint_segments = 1;
  } else if (last == "refs" && segments.size() >= 2 && segments[segments.size() - 2] == "info") {
    if (method != "GET") {
      return Invalid("info/refs takes GET");
    }
    if (query != "service=git-upload-pack" && query != "service=git-receive-pack") {
      return Invalid(
          "git-proxy serves git's smart HTTP protocol only (info/refs?service=git-upload-pack or "
          "git-receive-pack); use git 1.6.6 or later");
    }
    parsed.endpoint = "info/refs";
    parsed.query = std::string(query);
    parsed.push = query == "service=git-receive-pack";
    endpoint_segments = 2;
  } else {
    return Invalid(
        "git-proxy forwards git smart HTTP only (info/refs, git-upload-pack, git-receive-pack)");
  }
  if (segments.size() < endpoint_segments + 2) {
    return MakeError(ErrorCode::kNotFound,
                     "no repository in the path: use /<integration id>/<repository path>");
  }
  if (!ValidProviderId(segments.front())) {
    return Invalid("'" + std::string(segments.front().substr(0, 100))
                   + "' is not an integration id");
  }
  parsed.provider_id = std::string(segments.front());
  std::string repository;
  for (std::size_t i = 1; i + endpoint_segments < segments.size(); ++i) {
    if (!repository.empty()) {
      repository += '/';
    }
    repository += segments[i];
  }
  // The ".git" suffix is removed later (RepositoryKey, the provider's API), so what remains of the
  // last repository segment must be a name too: "...git" would become "..".
  const auto last_name = core::PercentDecode(segments[segments.size() - endpoint_segments - 1],
                                             /*plus_is_space=*/false);
  if (const std::string lowered_name = core::AsciiLower(last_name.value_or(""));
      lowered_name.ends_with(".git")
      && (lowered_name.size() == 4 || lowered_name == "..git" || lowered_name == "...git")) {
    return Invalid("the request path has an empty, '.' or '..' segment");
  }
  parsed.repository_path = std::move(repository);
  return parsed;
}

}  // namespace keybridge::gitproxy
