#include "core/image_reference.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace keybridge::core {
namespace {

constexpr std::size_t kMaxNameLength = 255;  // Docker's limit on registry + path
constexpr std::size_t kMaxTagLength = 128;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}
bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool IsPathComponent(std::string_view s) {
  std::size_t i = 0;
  const auto alnum_run = [&] {
    const std::size_t start = i;
    while (i < s.size() && IsLowerAlnum(s[i])) {
      ++i;
    }
    return i > start;
  };
  if (!alnum_run()) {
    return false;
  }
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      i += (i + 1 < s.size() && s[i + 1] == '_') ? 2U : 1U;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') {
        ++i;
      }
    } else {
      return false;
    }
    if (!alnum_run()) {
      return false;
    }
  }
  return true;
}

// host[:port]: DNS labels or an IPv4 address (letters, digits, '-' and '.'), port 1-65535.
bool IsRegistryHost(std::string_view s) {
  const std::size_t colon = s.find(':');
  const std::string_view host = s.substr(0, colon);
  if (host.empty() || host.front() == '.' || host.back() == '.' || host.front() == '-'
      || host.find("..") != std::string_view::npos) {
    return false;
  }
  if (!std::all_of(host.begin(), host.end(),
                   [](char c) { return IsAlnum(c) || c == '-' || c == '.'; })) {
    return false;
  }
  if (colon == std::string_view::npos) {
    return true;
  }
  const std::string_view port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5
      || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int value = std::stoi(std::string(port));
  return value >= 1 && value <= 65535;
}

std::string LowerHost(std::string_view host_port) {
  std::string out(host_port);
  const std::size_t colon = out.find(':');
  std::transform(out.begin(),
                 out.begin() + static_cast<std::ptrdiff_t>(std::min(colon, out.size())),
                 out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string NormaliseRegistry(std::string registry) {
  if (registry == "index.docker.io" || registry == "registry-1.docker.io") {
    return std::string(kDockerHubRegistry);
  }
  return registry;
}

bool IsTag(std::string_view s) {
  if (s.empty() || s.size() > kMaxTagLength || !(IsAlnum(s[0]) || s[0] == '_')) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

// algorithm:hex, algorithm = [a-z0-9]+([.+_-][a-z0-9]+)*, hex at least 32 digits.
bool IsDigest(std::string_view s) {
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  const std::string_view algorithm = s.substr(0, colon);
  const std::string_view hex = s.substr(colon + 1);
  bool after_separator = true;
  for (char c : algorithm) {
    if (IsLowerAlnum(c)) {
      after_separator = false;
    } else if ((c == '.' || c == '+' || c == '_' || c == '-') && !after_separator) {
      after_separator = true;
    } else {
      return false;
    }
  }
  return !after_separator && hex.size() >= 32 && std::all_of(hex.begin(), hex.end(), IsHex);
}

}  // namespace

std::string ImageReference::ManifestReference() const {
  if (!digest.empty()) {
    return digest;
  }
  return tag.empty() ? "latest" : tag;
}

std::string ImageReference::ToString() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (!digest.empty()) {
    out += "@" + digest;
  }
  return out;
}

Result<ImageReference> ParseImageReference(std::string_view text) {
  if (text.empty()) {
    return Invalid(
        "The image reference is empty; give one like registry.example.org/group/app:1.0");
  }
  if (text.size() > kMaxImageReferenceLength) {
    return Invalid("The image reference is longer than " + std::to_string(kMaxImageReferenceLength)
                   + " characters");
  }
  if (text.find("://") != std::string_view::npos) {
    return Invalid(
        "An image reference has no scheme: write registry.example.org/group/app:1.0, "
        "not https://...");
  }
  ImageReference image;
  std::string_view rest = text;
  if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
    image.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!IsDigest(image.digest)) {
      return Invalid("The image digest '" + image.digest.substr(0, 80)
                     + "' is not algorithm:hex (e.g. sha256: and 64 hex digits)");
    }
  }
  // A tag follows the last ':' after the last '/': a ':' before it belongs to a registry port.
  const std::size_t last_slash = rest.rfind('/');
  const std::size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos
      && (last_slash == std::string_view::npos || colon > last_slash)) {
    image.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!IsTag(image.tag)) {
      return Invalid("The image tag '" + image.tag.substr(0, 80)
                     + "' may hold only letters, digits, '_', '.' and '-' (at most 128, not "
                       "starting with '.' or '-')");
    }
  }
  std::string_view path = rest;
  const std::size_t first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    const std::string_view first = rest.substr(0, first_slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos
        || first == "localhost") {
      if (!IsRegistryHost(first)) {
        return Invalid("The registry '" + std::string(first.substr(0, 80))
                       + "' is not a host name with an optional port");
      }
      image.registry = NormaliseRegistry(LowerHost(first));
      path = rest.substr(first_slash + 1);
    }
  }
  if (image.registry.empty()) {
    image.registry = std::string(kDockerHubRegistry);
  }
  if (path.empty()) {
    return Invalid("The image reference names no image path after the registry");
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (!IsPathComponent(path.substr(start, end - start))) {
      return Invalid("The image path '" + std::string(path.substr(0, 200))
                     + "' must be lower-case letters and digits, separated by '/', '.', '_' or "
                       "'-'");
    }
    if (end == path.size()) {
      break;
    }
    start = end + 1;
  }
  image.repository = std::string(path);
  if (image.registry == kDockerHubRegistry && image.repository.find('/') == std::string::npos) {
    image.repository = "library/" + image.repository;
  }
  if (image.registry.size() + 1 + image.repository.size() > kMaxNameLength) {
    return Invalid("The image name is longer than " + std::to_string(kMaxNameLength)
                   + " characters");
  }
  return image;
}

Result<std::string> RegistryHostOf(std::string_view server_url) {
  std::string_view rest = server_url;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (rest.size() >= scheme.size()
        && std::equal(scheme.begin(), scheme.end(), rest.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           })) {
      rest = rest.substr(scheme.size());
      break;
    }
  }
  rest = rest.substr(0, rest.find('/'));
  if (!IsRegistryHost(rest)) {
    return Invalid("'" + std::string(server_url.substr(0, 200))
                   + "' names no registry: expected host[:port] or https://host[:port]");
  }
  return NormaliseRegistry(LowerHost(rest));
}

bool ImageWithin(const ImageReference& image, std::string_view prefix) {
  const std::size_t slash = prefix.find('/');
  auto registry = RegistryHostOf(prefix.substr(0, slash));
  if (!registry.ok() || *registry != image.registry) {
    return false;
  }
  if (slash == std::string_view::npos) {
    return true;
  }
  std::string_view path = prefix.substr(slash + 1);
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (path.empty()) {
    return true;
  }
  const std::string_view repository = image.repository;
  return repository == path
         || (repository.size() > path.size() && repository.substr(0, path.size()) == path
             && repository[path.size()] == '/');
}

}  // namespace keybridge::core
