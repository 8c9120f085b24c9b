#include "core/url.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/text.h"

namespace keybridge::core {
namespace {

TEST(ParseUrl, SplitsEveryPart) {
  auto url = ParseUrl("HTTPS://user@Git.Example.org:8443/a/b?x=1#frag").value();

  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.userinfo, "user");
  EXPECT_EQ(url.host, "git.example.org");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.path, "/a/b");
  EXPECT_EQ(url.query, "x=1");
  EXPECT_EQ(url.fragment, "frag");
  EXPECT_EQ(url.Origin(), "https://git.example.org:8443");
}

TEST(ParseUrl, HandlesIpv6AndDefaultPorts) {
  auto url = ParseUrl("http://[::1]:8080/x").value();
  EXPECT_EQ(url.host, "::1");
  EXPECT_TRUE(url.IsLoopbackHost());
  EXPECT_EQ(ParseUrl("https://h").value().EffectivePort(), 443);
  EXPECT_EQ(ParseUrl("https://h:443").value().Origin(), "https://h");
}

TEST(ParseUrl, RejectsMalformedUrls) {
  for (const char* bad : {"", "no-scheme", "https://", "https://h:0", "https://h:99999",
                          "https://h:12x", "https://ho st", "https://[::1", "https://h\x01"}) {
    EXPECT_FALSE(ParseUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace keybridge::core

namespace keybridge::core {
namespace {

TEST(PercentCoding, RoundTripsAndRejectsMalformedEscapes) {
  EXPECT_EQ(PercentEncode("a b/c~d"), "a%20b%2Fc~d");
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false).value(), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_FALSE(PercentDecode("%zz", false).has_value());
  EXPECT_FALSE(PercentDecode("%4", false).has_value());
}

TEST(FormatIso8601, IsUtcWithWholeSeconds) {
  EXPECT_EQ(FormatIso8601(FromUnixSeconds(1700000000)), "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace keybridge::core

namespace keybridge::core {
namespace {

TEST(TruncateUtf8, NeverCutsAMultiByteCharacter) {
  const std::string euro = "\xe2\x82\xac";  // 3 bytes
  EXPECT_EQ(TruncateUtf8(euro + euro, 4), euro);
  EXPECT_EQ(TruncateUtf8(euro + euro, 6), euro + euro);
  EXPECT_EQ(TruncateUtf8("abc", 2), "ab");
  EXPECT_EQ(TruncateUtf8(euro, 1), "");
}

}  // namespace
}  // namespace keybridge::core
