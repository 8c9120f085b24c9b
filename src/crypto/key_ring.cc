#include "crypto/key_ring.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "core/check.h"
#include "crypto/aead.h"
#include "crypto/base64.h"
#include "crypto/hash.h"

namespace keybridge::crypto {
namespace {

constexpr std::string_view kSealedPrefix = "kb1.";
constexpr std::size_t kKeyIdLength = 8;
constexpr std::size_t kMaxKeyFileSize = 1 << 20;

bool IsKeyId(std::string_view id) {
  if (id.size() != kKeyIdLength) {
    return false;
  }
  for (const char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

core::Error KeyFileError(const std::string& path, const std::string& what, int err = 0) {
  std::string detail = what;
  if (err != 0) {
    detail += ": ";
    // A concurrent strerror could garble only this message text; strerror_r differs by libc.
    detail += std::strerror(err);  // NOLINT(concurrency-mt-unsafe): message text only
  }
  return core::MakeError(core::ErrorCode::kInternal, "encryption key file " + path + " " + what,
                         detail);
}

// Closes a POSIX file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct FileSnapshot {
  std::string content;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
};

void FillStamp(const struct stat& st, FileSnapshot& snapshot) {
  snapshot.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * std::int64_t{1'000'000'000}
                      + static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  snapshot.inode = static_cast<std::uint64_t>(st.st_ino);
  snapshot.size = static_cast<std::int64_t>(st.st_size);
}

// kNotFound if the file does not exist; kInternal for any other failure.
core::Result<FileSnapshot> ReadKeyFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return core::MakeError(core::ErrorCode::kNotFound, "key file does not exist", path);
    }
    return KeyFileError(path, "cannot be opened", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return KeyFileError(path, "cannot be inspected", errno);
  }
  if (!S_ISREG(st.st_mode) || st.st_size < 0
      || static_cast<std::size_t>(st.st_size) > kMaxKeyFileSize) {
    return KeyFileError(path, "is not a regular file of sensible size");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    // Whoever can read the keys can open every stored secret: refuse rather than use them.
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "the key file " + path + " may be read or written by other users (mode "
                               + mode + "); restrict it with: chmod 600 " + path);
  }
  FileSnapshot snapshot;
  FillStamp(st, snapshot);
  snapshot.content.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < snapshot.content.size()) {
    const ssize_t n =
        ::read(fd.get(), snapshot.content.data() + done, snapshot.content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return KeyFileError(path, "cannot be read", errno);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  snapshot.content.resize(done);
  return snapshot;
}

// One key per line, "<8 hex id> <base64 of 32 bytes>"; blank lines are ignored. Errors name the
// line, never its content.
core::Result<std::vector<KeyRing::Key>> ParseKeyFile(std::string_view content,
                                                     const std::string& path) {
  std::vector<KeyRing::Key> keys;
  std::size_t line_number = 0;
  while (!content.empty()) {
    ++line_number;
    const std::size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content = end == std::string_view::npos ? std::string_view() : content.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      continue;
    }
    const std::size_t space = line.find(' ');
    const std::string line_error = "is malformed at line " + std::to_string(line_number);
    if (space == std::string_view::npos) {
      return KeyFileError(path, line_error);
    }
    const std::string_view id = line.substr(0, space);
    auto bytes = Base64Decode(line.substr(space + 1));
    if (!IsKeyId(id) || !bytes || bytes->size() != kAeadKeySize) {
      return KeyFileError(path, line_error);
    }
    for (const auto& key : keys) {
      if (key.id == id) {
        return KeyFileError(path, "repeats key id " + std::string(id));
      }
    }
    keys.push_back(KeyRing::Key{std::string(id), std::move(*bytes)});
  }
  if (keys.empty()) {
    return KeyFileError(path, "holds no keys");
  }
  return keys;
}

std::string SerializeKeys(const std::vector<KeyRing::Key>& keys) {
  std::string out;
  for (const auto& key : keys) {
    out += key.id;
    out += ' ';
    out += Base64Encode(key.bytes);
    out += '\n';
  }
  return out;
}

KeyRing::Key NewKey(core::Random& random, const std::vector<KeyRing::Key>& existing) {
  for (;;) {
    std::string id = HexEncode(random.Bytes(kKeyIdLength / 2));
    bool taken = false;
    for (const auto& key : existing) {
      taken = taken || key.id == id;
    }
    if (!taken) {
      return KeyRing::Key{std::move(id), random.Bytes(kAeadKeySize)};
    }
  }
}

std::string ParentDirectory(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? std::string(".") : parent;
}

// Creates every missing directory on the way to `dir` with mode 0700 (existing ones are left as
// they are).
core::Status EnsureDirectory(const std::string& dir) {
  std::filesystem::path prefix;
  for (const auto& part : std::filesystem::path(dir)) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return KeyFileError(dir, "directory cannot be created", errno);
    }
  }
  return core::OkStatus();
}

void SyncDirectory(const std::string& dir) {
  // Best effort: makes the rename durable across a crash. Failure only weakens durability.
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) {
    ::fsync(fd.get());
  }
}

// Writes `content` to a new private (0600) temporary file next to `path` and returns its name.
core::Result<std::string> WriteTemporary(const std::string& path, std::string_view content,
                                         core::Random& random) {
  std::string tmp = path + ".tmp-" + HexEncode(random.Bytes(6));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return KeyFileError(path, "cannot be written", errno);
  }
  // The umask can only remove bits, but be exact about the mode anyway.
  bool ok = ::fchmod(fd.get(), 0600) == 0;
  std::size_t done = 0;
  while (ok && done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    done += ok ? static_cast<std::size_t>(n) : 0;
  }
  ok = ok && ::fsync(fd.get()) == 0;
  if (!ok) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return KeyFileError(path, "cannot be written", err);
  }
  return tmp;
}

// An exclusive advisory lock on "<key file>.lock", held while a rotation reads and replaces the
// key file, so two processes rotating at once cannot drop each other's key.
class RotationLock {
 public:
  explicit RotationLock(const std::string& key_path)
      : fd_(::open((key_path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_.get() >= 0) {
      int rc = 0;
      do {
        rc = ::flock(fd_.get(), LOCK_EX);
      } while (rc != 0 && errno == EINTR);
      locked_ = rc == 0;
    }
  }
  bool locked() const { return locked_; }
  // The lock is released when fd_ closes.

 private:
  Fd fd_;
  bool locked_ = false;
};

struct SealedParts {
  std::string_view key_id;
  std::string_view payload;
};

std::optional<SealedParts> SplitSealed(std::string_view sealed) {
  if (sealed.substr(0, kSealedPrefix.size()) != kSealedPrefix) {
    return std::nullopt;
  }
  sealed.remove_prefix(kSealedPrefix.size());
  if (sealed.size() <= kKeyIdLength || sealed[kKeyIdLength] != '.') {
    return std::nullopt;
  }
  SealedParts parts{sealed.substr(0, kKeyIdLength), sealed.substr(kKeyIdLength + 1)};
  if (!IsKeyId(parts.key_id)) {
    return std::nullopt;
  }
  return parts;
}

core::Error CannotOpen(std::string detail) {
  return core::MakeError(core::ErrorCode::kDecryptionFailed, "stored secret could not be decrypted",
                         std::move(detail));
}

}  // namespace

KeyRing::KeyRing(std::string path, std::vector<Key> keys, core::Random& random, Options options)
    : path_(std::move(path)),
      random_(random),
      options_(std::move(options)),
      keys_(std::move(keys)),
      last_check_ns_(NowNanos()) {}

core::Result<std::unique_ptr<KeyRing>> KeyRing::LoadOrCreate(const std::string& path,
                                                             core::Random& random,
                                                             Options options) {
  auto snapshot = ReadKeyFile(path);
  if (!snapshot.ok() && snapshot.error().code == core::ErrorCode::kNotFound) {
    const std::string dir = ParentDirectory(path);
    KEYBRIDGE_RETURN_IF_ERROR(EnsureDirectory(dir));
    KEYBRIDGE_ASSIGN_OR_RETURN(const std::string tmp,
                               WriteTemporary(path, SerializeKeys({NewKey(random, {})}), random));
    // link() publishes the complete file only if none exists yet: when two processes start at
    // once, exactly one key file wins and both use it.
    const int rc = ::link(tmp.c_str(), path.c_str());
    const int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0 && err != EEXIST) {
      return KeyFileError(path, "cannot be created", err);
    }
    SyncDirectory(dir);
    snapshot = ReadKeyFile(path);
  }
  if (!snapshot.ok()) {
    return std::move(snapshot).TakeError();
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(auto keys, ParseKeyFile(snapshot->content, path));
  std::unique_ptr<KeyRing> ring(new KeyRing(path, std::move(keys), random, std::move(options)));
  ring->SetStampLocked(FileStamp{snapshot->mtime_ns, snapshot->inode, snapshot->size});
  return ring;
}

std::unique_ptr<KeyRing> KeyRing::FromKeys(std::vector<Key> keys, core::Random& random) {
  KEYBRIDGE_CHECK(!keys.empty(), "KeyRing::FromKeys needs at least one key");
  for (const auto& key : keys) {
    KEYBRIDGE_CHECK(IsKeyId(key.id) && key.bytes.size() == kAeadKeySize,
                    "KeyRing::FromKeys: key ids are 8 hex chars, keys 32 bytes");
  }
  return std::unique_ptr<KeyRing>(new KeyRing(std::string(), std::move(keys), random, Options{}));
}

std::string KeyRing::ActiveKeyId() {
  std::lock_guard lock(mu_);
  ReloadIfDueLocked();
  return keys_.back().id;
}

std::vector<std::string> KeyRing::KeyIds() {
  std::lock_guard lock(mu_);
  ReloadIfDueLocked();
  std::vector<std::string> ids;
  ids.reserve(keys_.size());
  for (const auto& key : keys_) {
    ids.push_back(key.id);
  }
  return ids;
}

core::Result<std::string> KeyRing::Seal(std::string_view plaintext,
                                        std::string_view associated_data) {
  std::string key_id;
  std::string key_bytes;
  std::string nonce;
  {
    std::lock_guard lock(mu_);
    // Another process may have rotated: a running server must not go on sealing with the old key
    // (the rotation's final check waits kReloadInterval for every server to have looked).
    ReloadIfDueLocked();
    key_id = keys_.back().id;
    key_bytes = keys_.back().bytes;
    nonce = random_.Bytes(kAeadNonceSize);
  }
  // A random 96-bit nonce per seal: safe for far more than 2^32 seals per key (NIST SP 800-38D
  // §8.3 bounds the collision risk), and rotation resets the count anyway.
  std::string payload = nonce + crypto::Seal(key_bytes, nonce, plaintext, associated_data);
  return std::string(kSealedPrefix) + key_id + "." + Base64UrlEncode(payload);
}

core::Result<std::string> KeyRing::Open(std::string_view sealed, std::string_view associated_data) {
  const auto parts = SplitSealed(sealed);
  if (!parts) {
    return CannotOpen("value is not in the kb1 sealed format");
  }
  std::string key_bytes;
  {
    std::lock_guard lock(mu_);
    if (const Key* key = FindKeyLocked(parts->key_id)) {
      key_bytes = key->bytes;
    }
  }
  if (key_bytes.empty()) {
    // Another process may have rotated since we loaded the file.
    const core::Status reloaded = ReloadIfChanged();
    std::lock_guard lock(mu_);
    if (const Key* key = FindKeyLocked(parts->key_id)) {
      key_bytes = key->bytes;
    } else {
      return CannotOpen(
          "unknown key id " + std::string(parts->key_id)
          + (reloaded.ok() ? "" : " (key file reload failed: " + reloaded.error().detail + ")"));
    }
  }
  const auto payload = Base64UrlDecode(parts->payload);
  if (!payload || payload->size() < kAeadNonceSize + kAeadTagSize) {
    return CannotOpen("sealed payload is malformed");
  }
  const std::string_view bytes = *payload;
  return crypto::Open(key_bytes, bytes.substr(0, kAeadNonceSize), bytes.substr(kAeadNonceSize),
                      associated_data);
}

std::string KeyRing::KeyIdOf(std::string_view sealed) {
  const auto parts = SplitSealed(sealed);
  return parts ? std::string(parts->key_id) : std::string();
}

core::Status KeyRing::EditKeyFile(std::string_view action,
                                  const std::function<core::Status(std::vector<Key>&)>& edit) {
  if (path_.empty()) {
    return core::MakeError(core::ErrorCode::kInternal,
                           "an in-memory key ring cannot " + std::string(action));
  }
  std::lock_guard lock(mu_);
  RotationLock file_lock(path_);
  if (!file_lock.locked()) {
    return KeyFileError(path_, "cannot be locked to " + std::string(action), errno);
  }
  // Start from what is on disk now: another process may have changed it since we loaded.
  KEYBRIDGE_ASSIGN_OR_RETURN(auto snapshot, ReadKeyFile(path_));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto keys, ParseKeyFile(snapshot.content, path_));
  KEYBRIDGE_RETURN_IF_ERROR(edit(keys));
  return ReplaceFileLocked(std::move(keys));
}

core::Result<std::size_t> KeyRing::IndexOf(const std::vector<Key>& keys,
                                           std::string_view id) const {
  for (std::size_t at = 0; at < keys.size(); ++at) {
    if (keys[at].id == id) {
      return at;
    }
  }
  return core::MakeError(core::ErrorCode::kNotFound,
                         "key " + std::string(id) + " is not in the key file " + path_);
}

core::Result<std::string> KeyRing::Rotate() {
  std::string id;
  KEYBRIDGE_RETURN_IF_ERROR(EditKeyFile("rotate", [&](std::vector<Key>& keys) {
    keys.push_back(NewKey(random_, keys));
    id = keys.back().id;
    return core::OkStatus();
  }));
  return id;
}

core::Result<std::string> KeyRing::Stage() {
  std::string id;
  KEYBRIDGE_RETURN_IF_ERROR(EditKeyFile("stage a key", [&](std::vector<Key>& keys) {
    keys.insert(keys.begin(), NewKey(random_, keys));
    id = keys.front().id;
    return core::OkStatus();
  }));
  return id;
}

core::Status KeyRing::Activate(std::string_view id) {
  return EditKeyFile("activate a key", [&](std::vector<Key>& keys) -> core::Status {
    KEYBRIDGE_ASSIGN_OR_RETURN(const std::size_t at, IndexOf(keys, id));
    std::rotate(keys.begin() + static_cast<std::ptrdiff_t>(at),
                keys.begin() + static_cast<std::ptrdiff_t>(at) + 1, keys.end());
    return core::OkStatus();
  });
}

core::Status KeyRing::Retire(std::string_view id) {
  return EditKeyFile("retire a key", [&](std::vector<Key>& keys) -> core::Status {
    KEYBRIDGE_ASSIGN_OR_RETURN(const std::size_t at, IndexOf(keys, id));
    if (at + 1 == keys.size()) {
      return core::MakeError(core::ErrorCode::kConflict,
                             "key " + std::string(id) + " is the active key of " + path_);
    }
    keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(at));
    return core::OkStatus();
  });
}

core::Status KeyRing::ReplaceFileLocked(std::vector<Key> keys) {
  KEYBRIDGE_ASSIGN_OR_RETURN(const std::string tmp,
                             WriteTemporary(path_, SerializeKeys(keys), random_));
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return KeyFileError(path_, "cannot be replaced", err);
  }
  SyncDirectory(ParentDirectory(path_));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto written, ReadKeyFile(path_));
  SetStampLocked(FileStamp{written.mtime_ns, written.inode, written.size});
  keys_ = std::move(keys);
  last_check_ns_ = NowNanos();
  return core::OkStatus();
}

core::Status KeyRing::ReloadIfChanged() {
  if (path_.empty()) {
    return core::OkStatus();
  }
  std::lock_guard lock(mu_);
  last_check_ns_ = NowNanos();
  return ReloadIfChangedLocked();
}

void KeyRing::ReloadIfDueLocked() {
  if (path_.empty()) {
    return;
  }
  const std::int64_t now = NowNanos();
  constexpr std::int64_t kInterval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(kReloadInterval).count();
  // An injected wall clock may step back; that counts as due rather than never again.
  if (now >= last_check_ns_ && now - last_check_ns_ < kInterval) {
    return;
  }
  last_check_ns_ = now;
  const core::Status reloaded = ReloadIfChangedLocked();
  if (reloaded.ok()) {
    reload_warned_ = false;
    return;
  }
  // Keep sealing with the keys we have (a vanished or half-edited file must not stop the
  // service), and say so once rather than on every seal.
  if (!reload_warned_ && options_.warn) {
    options_.warn("keeping the loaded encryption keys: " + reloaded.error().message
                  + (reloaded.error().detail.empty() ? "" : " (" + reloaded.error().detail + ")"));
  }
  reload_warned_ = true;
}

std::int64_t KeyRing::NowNanos() const {
  const auto since_epoch = options_.clock != nullptr
                               ? options_.clock->Now().time_since_epoch()
                               : std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
}

core::Status KeyRing::ReloadIfChangedLocked() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return KeyFileError(path_, "cannot be inspected", errno);
  }
  FileSnapshot probe;
  FillStamp(st, probe);
  if (FileStamp{probe.mtime_ns, probe.inode, probe.size}
      == FileStamp{file_mtime_ns_, file_inode_, file_size_}) {
    return core::OkStatus();
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(auto snapshot, ReadKeyFile(path_));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto keys, ParseKeyFile(snapshot.content, path_));
  keys_ = std::move(keys);
  SetStampLocked(FileStamp{snapshot.mtime_ns, snapshot.inode, snapshot.size});
  return core::OkStatus();
}

const KeyRing::Key* KeyRing::FindKeyLocked(std::string_view id) const {
  for (const auto& key : keys_) {
    if (key.id == id) {
      return &key;
    }
  }
  return nullptr;
}

void KeyRing::SetStampLocked(const FileStamp& stamp) {
  file_mtime_ns_ = stamp.mtime_ns;
  file_inode_ = stamp.inode;
  file_size_ = stamp.size;
}

}  // namespace keybridge::crypto
