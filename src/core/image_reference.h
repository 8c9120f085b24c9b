// Container image references and registry hosts, parsed the way Docker's reference grammar
// (distribution/reference) reads them, so keybridge, `docker`, `podman` and `skopeo` agree on
// which registry an image lives in:
//   [registry[:port]/]path[:tag][@digest]
// The first path component is a registry when it contains '.' or ':' or is "localhost";
// otherwise the image is on Docker Hub ("docker.io"), where a one-component path gets
// "library/". Path components are lower-case alphanumerics joined by single '.', '_', "__" or
// runs of '-'; tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; digests are algorithm:hex.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace keybridge::core {

inline constexpr std::string_view kDockerHubRegistry = "docker.io";
inline constexpr std::size_t kMaxImageReferenceLength = 4096;

struct ImageReference {
  std::string registry;    // host[:port], lower-cased host; "docker.io" for Docker Hub
  std::string repository;  // path below the registry, e.g. "group/project/image"
  std::string tag;         // "" if absent (and no digest: "latest" is implied)
  std::string digest;      // "" if absent, else e.g. "sha256:<64 hex>"

  // What to ask the registry's manifest endpoint for: the digest, else the tag, else "latest".
  std::string ManifestReference() const;
  // registry/repository[:tag][@digest], normalised (Docker Hub spelled out).
  std::string ToString() const;
};

// kInvalidArgument with a sentence naming what is wrong.
Result<ImageReference> ParseImageReference(std::string_view text);

// The registry host[:port] a credential helper's ServerURL names: "host[:port]",
// "https://host[:port][/...]" or "http://host[:port][/...]"; Docker Hub's legacy
// "https://index.docker.io/v1/" is "docker.io". Lower-cased host. kInvalidArgument otherwise.
Result<std::string> RegistryHostOf(std::string_view server_url);

// Whether `image` (registry/repository) lies within `prefix` ("registry[:port]/path-prefix", or
// just "registry[:port]") on path-segment boundaries: "reg/group" covers "reg/group/app", never
// "reg/group-other".
bool ImageWithin(const ImageReference& image, std::string_view prefix);

}  // namespace keybridge::core
