// Where the keybridge client helpers (`git-credential`, `docker-credential`) find their server:
// KEYBRIDGE_URL and KEYBRIDGE_TOKEN, else the first line of the file KEYBRIDGE_TOKEN_FILE.
#pragma once

#include <functional>
#include <string>

#include "core/result.h"

namespace keybridge::gitcredential {

struct ServerAccess {
  std::string keybridge_url;  // server base URL, without a trailing slash
  std::string token;          // bearer token for the server (session token, API token, user JWT)
};

// Reads the variables through `getenv` (stands for ::getenv). kInvalidArgument naming the
// variable when the URL or the token is missing, the URL is not http(s), or the token file cannot
// be read.
core::Status LoadServerAccess(const std::function<const char*(const char*)>& getenv,
                              ServerAccess& access);

// The `error.message` of a keybridge error body, else "the server answered HTTP <status>".
std::string ServerErrorMessage(int status, const std::string& body);

}  // namespace keybridge::gitcredential
