// KeyRing: the service's data-encryption keys and AES-256-GCM sealing of every secret at rest
// (client secrets, tokens). Each ciphertext names the key that sealed it, so `keybridge keys
// rotate` can add a key and re-encrypt online while old ciphertexts still open.
//
// Key file format (mode 0600): one key per line, "<key id> <base64 of 32 bytes>"; the last line
// is the active key. Sealed format: "kb1.<key id>.<base64url(12-byte nonce | ciphertext | tag)>".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/result.h"

namespace keybridge::crypto {

struct KeyRingOptions {
  // Times the reload interval (KeyRing::kReloadInterval); null: a steady clock. Tests inject a
  // fake one.
  const core::Clock* clock = nullptr;
  // Told (once per run of failures) when a changed-file check fails and the ring keeps the keys it
  // has; the text names the path and the failure, never key bytes. Null: not reported.
  std::function<void(const std::string&)> warn;
};

// Thread-safe. Several processes may share one key file: rotations and retirements are serialised
// with an exclusive lock on "<path>.lock". A running process follows the file: Seal() and
// ActiveKeyId() look for a changed file at most once per kReloadInterval, and Open() re-reads it
// when it meets an unknown key id, so a key another process rotated in is sealed with within
// kReloadInterval.
class KeyRing {
 public:
  struct Key {
    std::string id;     // 8 lower-case hex chars
    std::string bytes;  // 32 raw bytes
  };

  // How stale a running ring's view of the key file may be: Seal() and ActiveKeyId() stat the file
  // at most this often (a burst of seals costs one stat). `keybridge keys rotate` waits this long
  // (and a margin) before its final check that nothing is still sealed with an older key.
  static constexpr std::chrono::seconds kReloadInterval{1};

  using Options = KeyRingOptions;

  // Loads the key file; if it does not exist, creates it (and its directory) with one fresh key
  // and mode 0600. kInternal if the file is unreadable or malformed (path named, no key bytes).
  static core::Result<std::unique_ptr<KeyRing>> LoadOrCreate(const std::string& path,
                                                             core::Random& random,
                                                             Options options = {});
  // In-memory ring (tests, tools); the last key is active. Rotate() is unsupported (kInternal).
  static std::unique_ptr<KeyRing> FromKeys(std::vector<Key> keys, core::Random& random);

  // The active key's id, after the changed-file check above.
  std::string ActiveKeyId();
  // Every key id in the ring, oldest first (the last is active).
  std::vector<std::string> KeyIds();
  // Seals with the active key (after the changed-file check above). `associated_data` binds the
  // ciphertext to where it is stored (e.g. "oauth2_clients/github.com/client_secret"): a ciphertext
  // copied to another row fails.
  core::Result<std::string> Seal(std::string_view plaintext, std::string_view associated_data);
  // kDecryptionFailed if the key is unknown (after re-reading the key file once), the format is
  // wrong, the tag does not verify or the associated data differs.
  core::Result<std::string> Open(std::string_view sealed, std::string_view associated_data);
  // The key id a sealed value names, or "" if it is not in the sealed format.
  static std::string KeyIdOf(std::string_view sealed);

  // Appends a fresh key to the key file (atomically: write temp + rename) and makes it active.
  // Returns the new key id.
  core::Result<std::string> Rotate();
  // For replicas that cannot all see one key file at once (Kubernetes copies it from a Secret at
  // pod start), rotation in stages: Stage() adds a fresh key as the *first* line, known to every
  // process that loads the file but not active; once every replica has it, Activate(id) makes it
  // the last line (active), so whatever any replica seals, every replica opens. Same lock, temp
  // file and rename as Rotate(). Activate: kNotFound if the file does not hold `id`; a no-op for
  // the active key.
  core::Result<std::string> Stage();
  core::Status Activate(std::string_view id);
  // Removes key `id` from the key file (same lock, temp file and rename as Rotate()), so no
  // process can open what it sealed any more. kNotFound if the file does not hold it, kConflict if
  // it is the active key. The caller checks that nothing stored still needs it
  // (storage::RetireKey).
  core::Status Retire(std::string_view id);
  // Re-reads the key file if it changed on disk (another process rotated); cheap when unchanged.
  // On failure the ring keeps the keys it has.
  core::Status ReloadIfChanged();

 private:
  // Identifies one version of the key file: a rotation replaces the file (new inode).
  struct FileStamp {
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
    std::int64_t size = -1;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };

  KeyRing(std::string path, std::vector<Key> keys, core::Random& random, Options options);
  const Key* FindKeyLocked(std::string_view id) const;
  void SetStampLocked(const FileStamp& stamp);
  core::Status ReloadIfChangedLocked();
  // The rate-limited changed-file check of Seal() and ActiveKeyId().
  void ReloadIfDueLocked();
  std::int64_t NowNanos() const;
  // Under the rotation lock: reads the key file as it is on disk, applies `edit`, writes it back.
  core::Status EditKeyFile(std::string_view action,
                           const std::function<core::Status(std::vector<Key>&)>& edit);
  // Where `id` is in `keys`; kNotFound naming the key file otherwise.
  core::Result<std::size_t> IndexOf(const std::vector<Key>& keys, std::string_view id) const;
  // Writes `keys` as the new key file (temp + rename); the caller holds the rotation lock.
  core::Status ReplaceFileLocked(std::vector<Key> keys);

  std::string path_;  // empty for FromKeys rings
  core::Random& random_;
  Options options_;
  mutable std::mutex mu_;  // guards keys_, the file stamp, the reload state and random_
  std::vector<Key> keys_;
  std::int64_t file_mtime_ns_ = 0;
  std::uint64_t file_inode_ = 0;
  std::int64_t file_size_ = -1;
  std::int64_t last_check_ns_ = 0;  // NowNanos() of the last changed-file check
  bool reload_warned_ = false;      // the current run of failed checks was reported
};

}  // namespace keybridge::crypto
