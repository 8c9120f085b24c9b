// `keybridge git-credential get|store|erase`: a git credential helper (gitcredentials(7)) that
// asks a keybridge server (GET /api/data/git/credentials) for the user name and token of the
// remote git is talking to. Configured with KEYBRIDGE_URL and KEYBRIDGE_TOKEN (a session token,
// API token or user JWT) or KEYBRIDGE_TOKEN_FILE; enabled with
//   git config --global credential.helper '!keybridge git-credential'
//   git config --global credential.useHttpPath true
// The token is written to stdout as `password=` and nowhere else.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/result.h"

namespace keybridge::gitcredential {

struct GitCredentialOptions {
  std::string operation;  // "get", "store" or "erase"; anything else is ignored (git's rule)
  bool wait = false;      // get: wait for a missing connection instead of failing
  core::Seconds wait_timeout{600};
  core::Seconds poll_interval{2};
  std::string keybridge_url;  // server base URL, without a trailing slash
  std::string token;          // bearer token for the server
  // Remembers passwords git reported as rejected (erase), so the next get forces a refresh.
  // "" disables it.
  std::string state_file;
};

// Reads the configuration from the environment (`getenv` stands for ::getenv): KEYBRIDGE_URL,
// KEYBRIDGE_TOKEN, else the first line of the file KEYBRIDGE_TOKEN_FILE; the state file lives in
// $XDG_RUNTIME_DIR/keybridge, else $HOME/.cache/keybridge. kInvalidArgument naming the variable
// when the URL or the token is missing, or the token file cannot be read.
core::Status LoadGitCredentialEnvironment(const std::function<const char*(const char*)>& getenv,
                                          GitCredentialOptions& options);

// git's key=value lines up to a blank line or end of input. A `url=` attribute is split into
// protocol, host and path, as git credential does; array keys ("wwwauth[]") are dropped.
std::map<std::string, std::string> ParseGitCredentialInput(std::istream& in);

// protocol://host[/path] of a parsed request, or nullopt when it is not an http(s) credential
// (then the helper stays silent and git asks its other helpers).
std::optional<std::string> RemoteUrl(const std::map<std::string, std::string>& attributes);

struct GitCredentialIo {
  std::istream& in;
  std::ostream& out;  // git reads the answer here
  std::ostream& err;  // messages for the user
  core::HttpClient& http;
  const core::Clock& clock;
  std::function<void(core::Seconds)> sleep;
};

// Runs one helper invocation; returns the exit status. get: prints username, password and
// password_expiry_utc (git >= 2.41 uses it) on success. When the user has no usable connection it
// prints one line "keybridge: no connection to <provider> — connect at <url>" to stderr and
// "quit=1" to stdout (so git fails instead of prompting) and returns 1; with `wait` it polls every
// poll_interval until wait_timeout first. A remote no integration serves gets no answer (exit 0).
// erase: remembers the SHA-256 of the rejected password for the remote, so the next get asks the
// server to refresh (force_refresh=1). store: forgets that again.
int RunGitCredential(const GitCredentialOptions& options, GitCredentialIo& io);

}  // namespace keybridge::gitcredential
