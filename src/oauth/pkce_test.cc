#include "oauth/pkce.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keybridge::oauth {
namespace {

// Returns the queued byte strings in order and records how many bytes were asked for.
class SequenceRandom final : public core::Random {
 public:
  explicit SequenceRandom(std::vector<std::string> outputs) : outputs_(std::move(outputs)) {}
  std::string Bytes(std::size_t count) override {
    requested.push_back(count);
    std::string out = outputs_.at(next_++);
    out.resize(count);
    return out;
  }
  std::vector<std::size_t> requested;

 private:
  std::vector<std::string> outputs_;
  std::size_t next_ = 0;
};

// RFC 7636 Appendix B: the 32 octets behind the example verifier.
std::string AppendixBOctets() {
  const unsigned char octets[] = {116, 24,  223, 180, 151, 153, 224, 37,  79,  250, 96,
                                  125, 216, 173, 187, 186, 22,  212, 37,  77,  105, 214,
                                  191, 240, 91,  88,  5,   88,  83,  132, 141, 121};
  return std::string(reinterpret_cast<const char*>(octets), sizeof(octets));
}

TEST(ChallengeFor, MatchesRfc7636AppendixB) {
  EXPECT_EQ(ChallengeFor("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(ChallengeFor, MatchesGitLabDocumentationExample) {
  EXPECT_EQ(ChallengeFor("ks02i3jdikdo2k0dkfodf3m39rjfjsdk0wk349rj3jrhf"),
            "2i0WFA-0AerkjQm4X4oDEhqA17QIAKNjXpagHBXmO_U");
}

TEST(MakePkce, DerivesAppendixBVerifierAndChallengeFrom32RandomBytes) {
  SequenceRandom random({AppendixBOctets()});

  const Pkce pkce = MakePkce(random);

  EXPECT_EQ(random.requested, std::vector<std::size_t>{32});
  EXPECT_EQ(pkce.verifier.Reveal(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  EXPECT_EQ(pkce.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_TRUE(IsValidVerifier(pkce.verifier.Reveal()));
}

TEST(MakePkce, VerifierIsBase64UrlWithoutPaddingEvenForHighBytes) {
  SequenceRandom random({std::string(32, '\xff')});

  const Pkce pkce = MakePkce(random);

  EXPECT_EQ(pkce.verifier.Reveal(), "__________________________________________8");
  EXPECT_TRUE(IsValidVerifier(pkce.verifier.Reveal()));
}

TEST(IsValidVerifier, EnforcesLengthAndAlphabet) {
  EXPECT_TRUE(IsValidVerifier(std::string(43, 'a')));
  EXPECT_TRUE(IsValidVerifier(std::string(128, '~')));
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a')));
  EXPECT_FALSE(IsValidVerifier(std::string(129, 'a')));
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a') + "+"));
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a') + "/"));
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a') + "="));
}

TEST(MakeState, Is43Base64UrlCharactersFrom32Bytes) {
  SequenceRandom random({AppendixBOctets(), std::string(32, '\0')});

  const core::Secret first = MakeState(random);
  const core::Secret second = MakeState(random);

  EXPECT_EQ(random.requested, (std::vector<std::size_t>{32, 32}));
  EXPECT_EQ(first.Reveal(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  EXPECT_EQ(second.Reveal(), std::string(43, 'A'));
}

}  // namespace
}  // namespace keybridge::oauth
