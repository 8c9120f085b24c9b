#include "app/admin_link.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace keybridge::app {

std::string AdminSignInLinkPath(const std::string& key_file) {
  return (std::filesystem::path(key_file).parent_path() / "admin-sign-in-link").string();
}

core::Status WriteAdminSignInLink(const std::string& path, const std::string& link) {
  const auto failed = [&path](const char* what) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           std::string("cannot ") + what + " " + path + ": "
                               + std::strerror(errno));  // NOLINT(concurrency-mt-unsafe): start-up
  };
  // O_NOFOLLOW: a planted symbolic link must not redirect the secret elsewhere.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return failed("create");
  }
  const std::string text = link + "\n";
  const bool ok = ::fchmod(fd, 0600) == 0
                  && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  core::Status status = ok ? core::OkStatus() : failed("write");
  ::close(fd);
  return status;
}

}  // namespace keybridge::app
