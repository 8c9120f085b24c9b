// GitHttpBackend: real git repositories for the fake providers. It owns a temporary directory of
// bare repositories, seeds and reads them with git plumbing, and answers smart-HTTP requests by
// running Debian's `git http-backend` CGI, so the real git CLI (and keybridge's git proxy) can
// clone from and push to FakeGitLab and FakeGitHub. The fakes decide who may fetch or push; the
// backend only executes that decision. RunProcess() is shared with tests that drive the git CLI.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace keybridge::fakes {

// What a finished child process left behind.
struct ProcessResult {
  int exit_code = -1;  // -1: could not start, killed by a signal, or timed out
  bool timed_out = false;
  std::string out;  // everything it wrote to stdout
  std::string err;  // everything it wrote to stderr (or why it could not start)

  bool ok() const { return exit_code == 0; }
};

// Runs argv[0] (searched in this process's PATH) with exactly `env` ("NAME=value"; nothing is
// inherited), feeds `input` to its stdin while draining stdout and stderr (so large inputs and
// outputs cannot deadlock), and reaps it. After `timeout` the child is killed with SIGKILL.
// The child leads a new process group; once it has exited, anything left in that group is killed
// and reaped. The first call makes this process a child subreaper (prctl), so processes the child
// orphaned are reaped here rather than left to init as zombies.
// Thread-safe: descriptors are close-on-exec and a child gets only stdin, stdout and stderr, so
// concurrent spawns do not inherit each other's pipes.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::string_view input = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// File path inside a commit ("dir/file.txt") -> content.
using GitFiles = std::map<std::string, std::string>;

// One smart-HTTP request as a provider routes it.
struct GitRoute {
  std::string repository;  // "group/project" or "owner/repo", without ".git"
  std::string endpoint;    // "info/refs" | "git-upload-pack" | "git-receive-pack"
  std::string service;     // "git-upload-pack" | "git-receive-pack"

  bool IsPush() const { return service == "git-receive-pack"; }
};

// Recognises GET <prefix>/<repo>.git/info/refs?service=git-(upload|receive)-pack and
// POST <prefix>/<repo>.git/git-(upload|receive)-pack. With `git_suffix_optional` the ".git" may be
// missing (GitHub accepts both). nullopt for everything else, dumb HTTP included.
std::optional<GitRoute> ParseGitRoute(const http::Request& request, std::string_view prefix,
                                      bool git_suffix_optional);

// A plain-text answer; git prints each body line of an error as "remote: <line>".
http::Response GitTextResponse(int status, std::string_view text);

// The fake's decision for one request.
struct GitPermission {
  std::string remote_user;  // REMOTE_USER (reflog identity); "" for anonymous access
  bool allow_push = false;  // http.receivepack
  // Pushes that update one of these branches are refused by a pre-receive hook, so the HTTP
  // status stays 200 and the refusal only shows in the report-status, as on the real providers.
  std::vector<std::string> protected_branches{};
  // printf format the hook prints (git shows it as "remote: ..."); %s is the refused ref name.
  std::string protected_message{};
};

class GitHttpBackend {
 public:
  GitHttpBackend();
  // Removes the project root with every repository in it.
  ~GitHttpBackend();
  GitHttpBackend(const GitHttpBackend&) = delete;
  GitHttpBackend& operator=(const GitHttpBackend&) = delete;

  // The private temporary directory holding the repositories, created on first use (by any
  // method). Throws std::runtime_error if it cannot be created.
  const std::filesystem::path& ProjectRoot() const;

  // Repository names are paths relative to the root ending in ".git" ("group/project.git").
  // The setup methods below throw std::runtime_error (with git's stderr) when git fails: they
  // are test-fixture steps, where an exception fails the test with a readable message.

  // `git init --bare` (no sample hooks) with HEAD -> refs/heads/<default_branch>. Idempotent: on an
  // existing repository it only re-points HEAD, keeping the history.
  void CreateRepository(const std::string& name, const std::string& default_branch);
  // Commits `files` (added or overwritten; other files stay) on top of `branch`, creating the
  // branch if needed, and returns the new commit id. Fixed author and dates: deterministic ids.
  std::string Commit(const std::string& name, const std::string& branch, const GitFiles& files,
                     const std::string& message = "Seed");
  // The content of `file` at `revision` ("HEAD", "main", a commit id); nullopt if absent.
  std::optional<std::string> ReadFile(const std::string& name, const std::string& revision,
                                      const std::string& file) const;
  // The commit id `revision` resolves to; nullopt if it does not.
  std::optional<std::string> ResolveCommit(const std::string& name,
                                           const std::string& revision) const;

  // Answers a smart-HTTP request for repository `name` by running `git http-backend`. The fake
  // must have checked authentication and authorization already. Never throws: a failing CGI is a
  // 500 carrying its stderr. Thread-safe; runs one child process per call.
  http::Response Serve(const http::Request& request, const std::string& name, const GitRoute& route,
                       const GitPermission& permission) const;

 private:
  // PATH, HOME (the root), LC_ALL=C and no system or global git config.
  std::vector<std::string> BaseEnv() const;
  // Runs `git <args>` with GIT_DIR=<root>/<name>; throws unless it succeeds.
  std::string GitOrThrow(const std::string& name, std::vector<std::string> args,
                         std::string_view input = {},
                         const std::vector<std::string>& extra_env = {}) const;

  mutable std::once_flag root_once_;
  mutable std::filesystem::path root_;  // written once under root_once_
  std::atomic<int> next_index_{0};      // temporary index files of concurrent Commit() calls
};

}  // namespace keybridge::fakes
