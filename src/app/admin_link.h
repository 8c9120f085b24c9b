// Where the one-time administrator sign-in link goes: a file only its owner can read, next to the
// key file (whoever can read that file can read the keys anyway), never a log line.
#pragma once

#include <string>

#include "core/result.h"

namespace keybridge::app {

// "<directory of key_file>/admin-sign-in-link".
std::string AdminSignInLinkPath(const std::string& key_file);

// Replaces the file at `path` with `link` and a newline, mode 0600 (refusing to follow a
// symbolic link). kUnavailable naming the path and the reason otherwise.
core::Status WriteAdminSignInLink(const std::string& path, const std::string& link);

}  // namespace keybridge::app
