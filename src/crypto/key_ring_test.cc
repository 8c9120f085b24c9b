#include "crypto/key_ring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/check.h"
#include "crypto/base64.h"
#include "crypto/system_random.h"
#include "support/fake_clock.h"

namespace keybridge::crypto {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "keyring-test-XXXXXX").string();
    KEYBRIDGE_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

unsigned Mode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777U;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream(path) << content;
  // As an operator writing a key file by hand must: only its owner may read it.
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

std::unique_ptr<KeyRing> Load(const fs::path& path, core::Random& random,
                              KeyRing::Options options = {}) {
  auto ring = KeyRing::LoadOrCreate(path.string(), random, std::move(options));
  EXPECT_TRUE(ring.ok()) << (ring.ok() ? "" : ring.error().message);
  return ring.ok() ? std::move(ring).value() : nullptr;
}

KeyRing::Options WithClock(const core::Clock& clock) {
  KeyRing::Options options;
  options.clock = &clock;
  return options;
}

bool IsLowerHexId(const std::string& id) {
  return id.size() == 8 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(KeyRing, CreatesPrivateKeyFileAndDirectory) {
  TempDir dir;
  SystemRandom random;
  const fs::path path = dir.path() / "secrets" / "nested" / "keys";

  auto ring = Load(path, random);

  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(Mode(path), 0600U);
  EXPECT_EQ(Mode(path.parent_path()), 0700U);
  EXPECT_EQ(Mode(path.parent_path().parent_path()), 0700U);
  EXPECT_TRUE(IsLowerHexId(ring->ActiveKeyId()));
  const std::string content = ReadFile(path);
  EXPECT_EQ(content.rfind(ring->ActiveKeyId() + " ", 0), 0U);
  EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 1);
}

TEST(KeyRing, RefusesAKeyFileOthersMayRead) {
  TempDir dir;
  SystemRandom random;
  const fs::path path = dir.path() / "keys";
  ASSERT_NE(Load(path, random), nullptr);
  fs::permissions(path, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);

  auto refused = KeyRing::LoadOrCreate(path.string(), random);

  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("chmod 600 " + path.string()), std::string::npos)
      << refused.error().message;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  EXPECT_NE(Load(path, random), nullptr) << "usable again once restricted";
}

TEST(KeyRing, SealedValueNamesKeyAndHidesPlaintext) {
  TempDir dir;
  SystemRandom random;
  auto ring = Load(dir.path() / "keys", random);
  ASSERT_NE(ring, nullptr);

  const auto sealed = ring->Seal("glpat-plaintext-token", "connections/1/access_token");

  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->rfind("kb1." + ring->ActiveKeyId() + ".", 0), 0U);
  EXPECT_EQ(sealed->find("glpat-plaintext-token"), std::string::npos);
  const auto payload = Base64UrlDecode(sealed->substr(4 + 8 + 1));
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(payload->find("glpat-plaintext-token"), std::string::npos);
  EXPECT_EQ(KeyRing::KeyIdOf(*sealed), ring->ActiveKeyId());
}

TEST(KeyRing, OpensWhatItSealed) {
  TempDir dir;
  SystemRandom random;
  auto ring = Load(dir.path() / "keys", random);
  ASSERT_NE(ring, nullptr);
  const auto sealed = ring->Seal("value", "aad");
  ASSERT_TRUE(sealed.ok());

  const auto opened = ring->Open(*sealed, "aad");

  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "value");
}

TEST(KeyRing, SealsWithFreshNonceEachTime) {
  TempDir dir;
  SystemRandom random;
  auto ring = Load(dir.path() / "keys", random);
  ASSERT_NE(ring, nullptr);

  const auto first = ring->Seal("same", "aad");
  const auto second = ring->Seal("same", "aad");

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

TEST(KeyRing, RejectsCiphertextMovedToAnotherRow) {
  TempDir dir;
  SystemRandom random;
  auto ring = Load(dir.path() / "keys", random);
  ASSERT_NE(ring, nullptr);
  const auto sealed = ring->Seal("value", "oauth2_clients/a/client_secret");
  ASSERT_TRUE(sealed.ok());

  const auto opened = ring->Open(*sealed, "oauth2_clients/b/client_secret");

  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, core::ErrorCode::kDecryptionFailed);
}

TEST(KeyRing, RejectsTamperedAndMalformedValues) {
  TempDir dir;
  SystemRandom random;
  auto ring = Load(dir.path() / "keys", random);
  ASSERT_NE(ring, nullptr);
  const auto sealed = ring->Seal("value", "aad");
  ASSERT_TRUE(sealed.ok());
  std::string tampered = *sealed;
  char& middle = tampered[tampered.size() - 10];  // inside the ciphertext, not the padding bits
  middle = middle == 'A' ? 'B' : 'A';

  for (const std::string& bad :
       {tampered, std::string("plaintext"), std::string("kb1."), std::string("kb1.zzzzzzzz.AAAA"),
        std::string("kb1.") + ring->ActiveKeyId() + ".AAAA",
        std::string("kb2") + sealed->substr(3)}) {
    const auto opened = ring->Open(bad, "aad");
    ASSERT_FALSE(opened.ok()) << bad;
    EXPECT_EQ(opened.error().code, core::ErrorCode::kDecryptionFailed);
  }
}

TEST(KeyRing, RotateActivatesNewKeyAndKeepsOldOnes) {
  TempDir dir;
  SystemRandom random;
  const fs::path path = dir.path() / "keys";
  auto ring = Load(path, random);
  ASSERT_NE(ring, nullptr);
  const std::string old_id = ring->ActiveKeyId();
  const auto old_sealed = ring->Seal("old secret", "aad");
  ASSERT_TRUE(old_sealed.ok());

  const auto new_id = ring->Rotate();

  ASSERT_TRUE(new_id.ok());
  EXPECT_NE(*new_id, old_id);
  EXPECT_TRUE(IsLowerHexId(*new_id));
  EXPECT_EQ(ring->ActiveKeyId(), *new_id);
  EXPECT_EQ(KeyRing::KeyIdOf(*ring->Seal("new secret", "aad")), *new_id);
  const auto opened = ring->Open(*old_sealed, "aad");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "old secret");
  EXPECT_EQ(Mode(path), 0600U);
  const std::string content = ReadFile(path);
  EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 2);
  EXPECT_NE(content.find("\n" + *new_id + " "), std::string::npos);  // last line is active
}

// Replicas that each hold a copy of the key file (Kubernetes copies it from a Secret at start):
// once every copy has the staged key, whatever one replica seals after activating it, a replica
// still on the staged copy opens, and the other way round.
TEST(KeyRing, AStagedKeyOpensEverywhereBeforeAnyoneSealsWithIt) {
  TempDir dir;
  SystemRandom random;
  const fs::path path = dir.path() / "keys";
  auto ring = Load(path, random);
  ASSERT_NE(ring, nullptr);
  const std::string old_id = ring->ActiveKeyId();

  const auto staged = ring->Stage();

  ASSERT_TRUE(staged.ok());
  EXPECT_NE(*staged, old_id);
  EXPECT_EQ(ring->ActiveKeyId(), old_id);
  EXPECT_EQ(KeyRing::KeyIdOf(*ring->Seal("v", "aad")), old_id);
  EXPECT_EQ(ReadFile(path).rfind(*staged + " ", 0), 0U);  // the first line: not active
  EXPECT_EQ(Mode(path), 0600U);
  const fs::path copy = dir.path() / "replica-copy";
  fs::copy_file(path, copy);
  fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write);
  auto replica = Load(copy, random);
  ASSERT_NE(replica, nullptr);

  ASSERT_TRUE(ring->Activate(*staged).ok());

  EXPECT_EQ(ring->ActiveKeyId(), *staged);
  const auto sealed_new = ring->Seal("sealed after activation", "aad");
  ASSERT_TRUE(sealed_new.ok());
  EXPECT_EQ(KeyRing::KeyIdOf(*sealed_new), *staged);
  const auto opened_by_replica = replica->Open(*sealed_new, "aad");
  ASSERT_TRUE(opened_by_replica.ok());
  EXPECT_EQ(*opened_by_replica, "sealed after activation");
  EXPECT_EQ(replica->ActiveKeyId(), old_id);
  const auto sealed_old = replica->Seal("sealed by the replica", "aad");
  ASSERT_TRUE(sealed_old.ok());
  EXPECT_TRUE(ring->Open(*sealed_old, "aad").ok());
  EXPECT_TRUE(ring->Activate(*staged).ok());  // already active: nothing changes
  EXPECT_EQ(ring->KeyIds(), (std::vector<std::string>{old_id, *staged}));
  const core::Status unknown = ring->Activate("0badc0de");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
}

TEST(KeyRing, SecondInstanceLoadsExistingKeys) {
  TempDir dir;
  SystemRandom random;
  auto first = Load(dir.path() / "keys", random);
  ASSERT_NE(first, nullptr);
  const auto sealed = first->Seal("value", "aad");
  ASSERT_TRUE(sealed.ok());

  auto second = Load(dir.path() / "keys", random);

  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->ActiveKeyId(), first->ActiveKeyId());
  EXPECT_EQ(*second->Open(*sealed, "aad"), "value");
}

TEST(KeyRing, SeesRotationDoneByAnotherInstance) {
  TempDir dir;
  SystemRandom random;
  auto rotator = Load(dir.path() / "keys", random);
  auto reader = Load(dir.path() / "keys", random);
  ASSERT_NE(rotator, nullptr);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(rotator->Rotate().ok());
  const auto sealed = rotator->Seal("sealed after rotation", "aad");
  ASSERT_TRUE(sealed.ok());

  const auto opened = reader->Open(*sealed, "aad");

  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "sealed after rotation");
  EXPECT_EQ(reader->ActiveKeyId(), rotator->ActiveKeyId());
}

TEST(KeyRing, RotationStartsFromKeysOnDisk) {
  TempDir dir;
  SystemRandom random;
  auto a = Load(dir.path() / "keys", random);
  auto b = Load(dir.path() / "keys", random);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  const auto from_a = a->Rotate();
  const auto from_b = b->Rotate();  // b has not reloaded; it must not drop a's key

  ASSERT_TRUE(from_a.ok() && from_b.ok());
  const auto sealed_by_a = a->Seal("value", "aad");
  ASSERT_TRUE(sealed_by_a.ok());
  EXPECT_TRUE(b->Open(*sealed_by_a, "aad").ok());
  const std::string content = ReadFile(dir.path() / "keys");
  EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 3);
}

TEST(KeyRing, SealsWithAKeyAnotherProcessRotatedInOnceTheReloadIntervalPassed) {
  TempDir dir;
  SystemRandom random;
  testing::FakeClock clock;
  const core::TimePoint loaded_at = clock.Now();
  auto server = Load(dir.path() / "keys", random, WithClock(clock));
  auto rotator = Load(dir.path() / "keys", random);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(rotator, nullptr);
  const std::string old_id = server->ActiveKeyId();
  const auto new_id = rotator->Rotate();
  ASSERT_TRUE(new_id.ok());

  // Within the interval the file is not looked at again, however many seals come.
  clock.Set(loaded_at + std::chrono::milliseconds(999));
  const auto early = server->Seal("burst", "aad");
  const std::string early_active = server->ActiveKeyId();
  clock.Set(loaded_at + KeyRing::kReloadInterval);
  const auto late = server->Seal("after the interval", "aad");

  ASSERT_TRUE(early.ok() && late.ok());
  EXPECT_EQ(KeyRing::KeyIdOf(*early), old_id);
  EXPECT_EQ(early_active, old_id);
  EXPECT_EQ(KeyRing::KeyIdOf(*late), *new_id);
  EXPECT_EQ(server->ActiveKeyId(), *new_id);
  EXPECT_EQ(*rotator->Open(*late, "aad"), "after the interval");
}

TEST(KeyRing, ActiveKeyIdFollowsTheKeyFileWithoutASeal) {
  TempDir dir;
  SystemRandom random;
  testing::FakeClock clock;
  auto server = Load(dir.path() / "keys", random, WithClock(clock));
  auto rotator = Load(dir.path() / "keys", random);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(rotator, nullptr);
  const auto new_id = rotator->Rotate();
  ASSERT_TRUE(new_id.ok());

  clock.Advance(KeyRing::kReloadInterval);

  EXPECT_EQ(server->ActiveKeyId(), *new_id);
}

TEST(KeyRing, AVanishedKeyFileKeepsTheLoadedKeysAndWarnsOnce) {
  TempDir dir;
  SystemRandom random;
  testing::FakeClock clock;
  std::vector<std::string> warnings;
  const fs::path path = dir.path() / "keys";
  auto ring = Load(path, random, {.clock = &clock, .warn = [&warnings](const std::string& warning) {
                                    warnings.push_back(warning);
                                  }});
  ASSERT_NE(ring, nullptr);
  const std::string id = ring->ActiveKeyId();
  const std::string content = ReadFile(path);
  const std::string key_b64 = content.substr(9, content.find('\n') - 9);
  const auto sealed = ring->Seal("value", "aad");
  ASSERT_TRUE(sealed.ok());
  fs::remove(path);

  clock.Advance(KeyRing::kReloadInterval);
  const auto first = ring->Seal("first", "aad");
  clock.Advance(KeyRing::kReloadInterval);
  const auto second = ring->Seal("second", "aad");

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(KeyRing::KeyIdOf(*first), id);
  EXPECT_EQ(KeyRing::KeyIdOf(*second), id);
  EXPECT_EQ(*ring->Open(*sealed, "aad"), "value");
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find(path.string()), std::string::npos) << warnings[0];
  EXPECT_EQ(warnings[0].find(key_b64), std::string::npos);
}

TEST(KeyRing, RetireRemovesAnOldKeyButNeverTheActiveOrAnUnknownOne) {
  TempDir dir;
  SystemRandom random;
  testing::FakeClock clock;
  const fs::path path = dir.path() / "keys";
  auto ring = Load(path, random);
  auto other = Load(path, random, WithClock(clock));
  ASSERT_NE(ring, nullptr);
  ASSERT_NE(other, nullptr);
  const std::string old_id = ring->ActiveKeyId();
  const auto new_id = ring->Rotate();
  ASSERT_TRUE(new_id.ok());

  const core::Status active = ring->Retire(*new_id);
  const core::Status unknown = ring->Retire("0badc0de");
  const core::Status retired = ring->Retire(old_id);

  ASSERT_FALSE(active.ok());
  EXPECT_EQ(active.error().code, core::ErrorCode::kConflict);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
  ASSERT_TRUE(retired.ok()) << retired.error().message;
  EXPECT_EQ(ring->KeyIds(), std::vector<std::string>{*new_id});
  EXPECT_EQ(Mode(path), 0600U);
  const std::string content = ReadFile(path);
  EXPECT_EQ(content.rfind(*new_id + " ", 0), 0U);
  EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 1);
  clock.Advance(KeyRing::kReloadInterval);
  EXPECT_EQ(other->KeyIds(), std::vector<std::string>{*new_id}) << "a running ring forgets it";
}

TEST(KeyRing, ReloadIfChangedIsNoOpWhenUnchanged) {
  TempDir dir;
  SystemRandom random;
  auto ring = Load(dir.path() / "keys", random);
  ASSERT_NE(ring, nullptr);
  const std::string id = ring->ActiveKeyId();

  EXPECT_TRUE(ring->ReloadIfChanged().ok());
  EXPECT_EQ(ring->ActiveKeyId(), id);
}

TEST(KeyRing, RejectsMalformedKeyFiles) {
  const std::string key_b64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  const std::vector<std::string> bad_files = {
      "",                                          // no keys
      "\n\n",                                      // still no keys
      "0123abcd\n",                                // no key
      "0123ABCD " + key_b64 + "\n",                // upper-case id
      "0123abc " + key_b64 + "\n",                 // short id
      "0123abcd " + key_b64.substr(0, 40) + "\n",  // not 32 bytes
      "0123abcd not-base64!\n",
      "0123abcd " + key_b64 + "\n0123abcd " + key_b64 + "\n",  // duplicate id
  };
  SystemRandom random;

  for (const auto& content : bad_files) {
    TempDir dir;
    WriteFile(dir.path() / "keys", content);

    const auto ring = KeyRing::LoadOrCreate((dir.path() / "keys").string(), random);

    ASSERT_FALSE(ring.ok()) << content;
    EXPECT_EQ(ring.error().code, core::ErrorCode::kInternal);
    EXPECT_NE(ring.error().message.find((dir.path() / "keys").string()), std::string::npos);
    EXPECT_EQ(ring.error().message.find(key_b64), std::string::npos);
    EXPECT_EQ(ring.error().detail.find(key_b64), std::string::npos);
  }
}

TEST(KeyRing, LoadsHandWrittenKeyFile) {
  TempDir dir;
  SystemRandom random;
  const std::string key_b64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  WriteFile(dir.path() / "keys", "0123abcd " + key_b64 + "\n\nfedcba98 " + key_b64 + "\n");

  auto ring = Load(dir.path() / "keys", random);

  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->ActiveKeyId(), "fedcba98");
}

TEST(KeyRing, InMemoryRingSealsButCannotRotate) {
  SystemRandom random;
  auto ring = KeyRing::FromKeys({{"0123abcd", std::string(32, 'k')}}, random);
  const auto sealed = ring->Seal("value", "aad");
  ASSERT_TRUE(sealed.ok());

  const auto rotated = ring->Rotate();

  EXPECT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(*ring->Open(*sealed, "aad"), "value");
}

TEST(KeyRing, UnknownKeyIdFailsToOpen) {
  SystemRandom random;
  auto sealer = KeyRing::FromKeys({{"0123abcd", std::string(32, 'k')}}, random);
  auto other = KeyRing::FromKeys({{"99999999", std::string(32, 'k')}}, random);
  const auto sealed = sealer->Seal("value", "aad");
  ASSERT_TRUE(sealed.ok());

  const auto opened = other->Open(*sealed, "aad");

  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, core::ErrorCode::kDecryptionFailed);
}

TEST(KeyRing, KeyIdOfRejectsOtherFormats) {
  EXPECT_EQ(KeyRing::KeyIdOf("plaintext"), "");
  EXPECT_EQ(KeyRing::KeyIdOf("kb1.0123abcd"), "");
  EXPECT_EQ(KeyRing::KeyIdOf("kb1.0123ABCD.xyz"), "");
  EXPECT_EQ(KeyRing::KeyIdOf("kb1.0123abcd.xyz"), "0123abcd");
}

TEST(KeyRing, SealsAndOpensConcurrently) {
  TempDir dir;
  SystemRandom random;
  auto ring = Load(dir.path() / "keys", random);
  ASSERT_NE(ring, nullptr);
  std::atomic<int> failures{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ring, &failures, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string value = std::to_string(t) + "/" + std::to_string(i);
        const auto sealed = ring->Seal(value, "aad");
        const auto opened = sealed.ok() ? ring->Open(*sealed, "aad") : sealed;
        failures += (opened.ok() && *opened == value) ? 0 : 1;
      }
    });
  }
  ASSERT_TRUE(ring->Rotate().ok());
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace keybridge::crypto
