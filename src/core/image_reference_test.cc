// Image references parse as Docker reads them: the registry is the first component only when it
// looks like a host, Docker Hub gets "library/", tags and digests split correctly even with a
// registry port, and scope prefixes match on path-segment boundaries.
#include "core/image_reference.h"

#include <gtest/gtest.h>

namespace keybridge::core {
namespace {

ImageReference Parsed(std::string_view text) {
  auto parsed = ParseImageReference(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : ImageReference{};
}

TEST(ParseImageReference, ReadsRegistryPathTagAndDigestAsDockerDoes) {
  const ImageReference gitlab = Parsed("registry.gitlab.com/group/project/app:1.0");
  EXPECT_EQ(gitlab.registry, "registry.gitlab.com");
  EXPECT_EQ(gitlab.repository, "group/project/app");
  EXPECT_EQ(gitlab.tag, "1.0");
  EXPECT_EQ(gitlab.ManifestReference(), "1.0");

  const ImageReference port = Parsed("Gitlab.Example.org:5050/group/app");
  EXPECT_EQ(port.registry, "gitlab.example.org:5050") << "host lower-cased, port kept";
  EXPECT_EQ(port.tag, "") << "the port's ':' is not a tag";
  EXPECT_EQ(port.ManifestReference(), "latest");

  const std::string digest = "sha256:" + std::string(64, 'a');
  const ImageReference pinned = Parsed("localhost:5000/app:v2@" + digest);
  EXPECT_EQ(pinned.registry, "localhost:5000");
  EXPECT_EQ(pinned.tag, "v2");
  EXPECT_EQ(pinned.digest, digest);
  EXPECT_EQ(pinned.ManifestReference(), digest) << "the digest wins";
  EXPECT_EQ(Parsed("localhost/app").registry, "localhost");
}

TEST(ParseImageReference, DockerHubIsTheDefaultWithLibraryForOfficialImages) {
  EXPECT_EQ(Parsed("ubuntu").ToString(), "docker.io/library/ubuntu");
  EXPECT_EQ(Parsed("ubuntu:22.04").ToString(), "docker.io/library/ubuntu:22.04");
  EXPECT_EQ(Parsed("renku/renkulab-py").ToString(), "docker.io/renku/renkulab-py");
  EXPECT_EQ(Parsed("index.docker.io/library/ubuntu").registry, "docker.io");
  EXPECT_EQ(Parsed("ghcr.io/octo/app").registry, "ghcr.io");
}

TEST(ParseImageReference, RefusesWhatDockerRefusesWithAReason) {
  for (const char* bad : {"", "https://ghcr.io/octo/app", "ghcr.io/Octo/app", "ghcr.io/octo//app",
                          "ghcr.io/octo/app:", "ghcr.io/octo/app:-x", "ghcr.io/octo/app@sha256:1",
                          "ghcr.io/", "ghcr.io:99999/app", "ghcr.io/octo/app/", "a..b.io/app",
                          "ghcr.io/octo/.app", "ghcr.io/octo/app?x=1", "ghcr.io/oc to/app"}) {
    auto parsed = ParseImageReference(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << bad;
      EXPECT_FALSE(parsed.error().message.empty());
    }
  }
  EXPECT_FALSE(ParseImageReference(std::string(300, 'a')).ok()) << "name over 255 characters";
}

TEST(RegistryHostOf, AcceptsWhatCredentialHelpersAreGiven) {
  EXPECT_EQ(*RegistryHostOf("ghcr.io"), "ghcr.io");
  EXPECT_EQ(*RegistryHostOf("https://Registry.Example.org:5050"), "registry.example.org:5050");
  EXPECT_EQ(*RegistryHostOf("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
  EXPECT_EQ(*RegistryHostOf("https://index.docker.io/v1/"), "docker.io");
  EXPECT_FALSE(RegistryHostOf("").ok());
  EXPECT_FALSE(RegistryHostOf("https://").ok());
  EXPECT_FALSE(RegistryHostOf("user@host").ok());
}

TEST(ImageWithin, MatchesOnPathSegmentBoundaries) {
  const ImageReference image = Parsed("registry.example.org:5050/group/app/web:1");
  EXPECT_TRUE(ImageWithin(image, "registry.example.org:5050"));
  EXPECT_TRUE(ImageWithin(image, "registry.example.org:5050/group"));
  EXPECT_TRUE(ImageWithin(image, "registry.example.org:5050/group/app/web"));
  EXPECT_TRUE(ImageWithin(image, "Registry.Example.org:5050/group/"));
  EXPECT_FALSE(ImageWithin(image, "registry.example.org:5050/grou"));
  EXPECT_FALSE(ImageWithin(image, "registry.example.org:5050/group/app/web/more"));
  EXPECT_FALSE(ImageWithin(image, "registry.example.org/group")) << "another port";
  EXPECT_FALSE(ImageWithin(image, "other.example.org:5050/group"));
}

}  // namespace
}  // namespace keybridge::core
