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

// Found by fuzzing: "127." was a text prefix, so a DNS name anyone can register passed the "http
// only on loopback" rule for integration URLs, --oidc-issuer and discovery endpoints.
TEST(ParseUrl, LoopbackIsDecidedOnTheAddressNotOnATextPrefix) {
  for (const char* loopback : {"http://127.0.0.1/", "http://127.255.3.4:8080", "http://localhost",
                               "http://LOCALHOST:1/x", "http://[::1]/"}) {
    EXPECT_TRUE(ParseUrl(loopback).value().IsLoopbackHost()) << loopback;
  }
  for (const char* remote :
       {"http://127.attacker.example/", "http://127.0.0.1.attacker.example", "http://127.0.0.1.",
        "http://127.0.0", "http://127.1", "http://0127.0.0.1", "http://127.0.0.256",
        "http://127.0.0.1a", "http://128.0.0.1", "http://localhost.attacker.example",
        "http://[::2]", "http://[::ffff:8.8.8.8]"}) {
    EXPECT_FALSE(ParseUrl(remote).value().IsLoopbackHost()) << remote;
  }
  EXPECT_FALSE(IsLoopbackHost("127..0.1"));
  EXPECT_FALSE(IsLoopbackHost(""));
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

TEST(PercentDecode, DecodesEscapesInEitherCase) {
  EXPECT_EQ(PercentDecode("a%2Fb%2fc%20", false), "a/b/c ");
}

TEST(PercentDecode, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("%", false), std::nullopt);
  EXPECT_EQ(PercentDecode("abc%4", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%zz", false), std::nullopt);
}

TEST(PercentDecode, DecodesNulAndHighBytes) {
  EXPECT_EQ(PercentDecode("%00%FF", false), std::string("\0\xff", 2));
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("aZ09-._~ /?&=+%\xff"), "aZ09-._~%20%2F%3F%26%3D%2B%25%FF");
}

TEST(PercentEncode, RoundTripsThroughDecode) {
  const std::string text = "any bytes: \x01\x7f\x80 / ? # [ ] @";

  EXPECT_EQ(PercentDecode(PercentEncode(text), false), text);
}

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

TEST(AsciiLower, FoldsOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Content-Type: Text/HTML; Charset=UTF-8"),
            "content-type: text/html; charset=utf-8");
  EXPECT_EQ(AsciiLower("\xc3\x89T\xc3\x89 @[`{"), "\xc3\x89t\xc3\x89 @[`{");  // "ÉTÉ": É kept
}

TEST(EqualsIgnoreAsciiCase, ComparesWholeStringsIgnoringAsciiCase) {
  EXPECT_TRUE(EqualsIgnoreAsciiCase("Bearer", "bEARER"));
  EXPECT_TRUE(EqualsIgnoreAsciiCase("", ""));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("Bearer", "Bearer "));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("@", "`"));  // 0x40 and 0x60 differ by the case bit only
}

}  // namespace
}  // namespace keybridge::core
