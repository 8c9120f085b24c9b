// KeyRing: the service's data-encryption keys and AES-256-GCM sealing of every secret at rest
// (client secrets, tokens). Each ciphertext names the key that sealed it, so `keybridge keys
// rotate` can add a key and re-encrypt online while old ciphertexts still open.
//
// Key file format (mode 0600): one key per line, "<key id> <base64 of 32 bytes>"; the last line
// is the active key. Sealed format: "kb1.<key id>.<base64url(12-byte nonce | ciphertext | tag)>".
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "core/result.h"

namespace keybridge::crypto {

// Thread-safe. Several processes may share one key file: rotations are serialised with an
// exclusive lock on "<path>.lock", and Open() picks up keys another process added.
class KeyRing {
 public:
  struct Key {
    std::string id;     // 8 lower-case hex chars
    std::string bytes;  // 32 raw bytes
  };

  // Loads the key file; if it does not exist, creates it (and its directory) with one fresh key
  // and mode 0600. kInternal if the file is unreadable or malformed (path named, no key bytes).
  static core::Result<std::unique_ptr<KeyRing>> LoadOrCreate(const std::string& path,
                                                             core::Random& random);
  // In-memory ring (tests, tools); the last key is active. Rotate() is unsupported (kInternal).
  static std::unique_ptr<KeyRing> FromKeys(std::vector<Key> keys, core::Random& random);

  std::string ActiveKeyId() const;
  // Seals with the active key. `associated_data` binds the ciphertext to where it is stored
  // (e.g. "oauth2_clients/github.com/client_secret"): a ciphertext copied to another row fails.
  core::Result<std::string> Seal(std::string_view plaintext, std::string_view associated_data);
  // kDecryptionFailed if the key is unknown (after re-reading the key file once), the format is
  // wrong, the tag does not verify or the associated data differs.
  core::Result<std::string> Open(std::string_view sealed, std::string_view associated_data);
  // The key id a sealed value names, or "" if it is not in the sealed format.
  static std::string KeyIdOf(std::string_view sealed);

  // Appends a fresh key to the key file (atomically: write temp + rename) and makes it active.
  // Returns the new key id.
  core::Result<std::string> Rotate();
  // Re-reads the key file if it changed on disk (another process rotated); cheap when unchanged.
  core::Status ReloadIfChanged();

 private:
  // Identifies one version of the key file: a rotation replaces the file (new inode).
  struct FileStamp {
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
    std::int64_t size = -1;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };

  KeyRing(std::string path, std::vector<Key> keys, core::Random& random);
  const Key* FindKeyLocked(std::string_view id) const;
  void SetStampLocked(const FileStamp& stamp);

  std::string path_;  // empty for FromKeys rings
  core::Random& random_;
  mutable std::mutex mu_;  // guards keys_, the file stamp and random_
  std::vector<Key> keys_;
  std::int64_t file_mtime_ns_ = 0;
  std::uint64_t file_inode_ = 0;
  std::int64_t file_size_ = -1;
};

}  // namespace keybridge::crypto
