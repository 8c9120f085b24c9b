#include "fakes/git_http_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "core/text.h"

namespace keybridge::fakes {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kIoChunk = std::size_t{64} * 1024;

// The text of an errno value. Not strerror: the fake serves requests on several threads, and
// strerror may reuse one buffer.
std::string ErrnoText(int err) {
  return std::generic_category().message(err);
}

// Installed as hooks/pre-receive in every repository. Without the variables it accepts every
// push; the fakes set them for users whose pushes to protected branches must be refused.
constexpr std::string_view kPreReceiveHook = R"(#!/bin/sh
# keybridge fake providers: refuse updates of the branches in KEYBRIDGE_FAKE_PROTECTED_BRANCHES.
[ -n "$KEYBRIDGE_FAKE_PROTECTED_BRANCHES" ] || exit 0
refused=0
while read -r old new ref; do
  for branch in $KEYBRIDGE_FAKE_PROTECTED_BRANCHES; do
    if [ "$ref" = "refs/heads/$branch" ]; then
      printf "$KEYBRIDGE_FAKE_PROTECTED_MESSAGE\n" "$ref" >&2
      refused=1
    fi
  done
done
exit $refused
)";

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
};

void SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool WouldBlock() {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& text : strings) {
    pointers.push_back(text.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// A repository path must name something below the project root.
bool IsSafeRepositoryPath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('%') != std::string_view::npos
      || path.find('\\') != std::string_view::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return false;
    }
    start = end + 1;
  }
  return true;
}

// Splits CGI output (RFC 3875 §6) into status, headers and body.
http::Response ParseCgiOutput(const std::string& output, const std::string& stderr_text) {
  http::Response response;
  response.status = 200;
  std::size_t position = 0;
  while (true) {
    const std::size_t end = output.find('\n', position);
    if (end == std::string::npos) {
      return GitTextResponse(502, "git http-backend sent no CGI header block: " + stderr_text);
    }
    std::string_view line(output.data() + position, end - position);
    position = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      break;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (core::EqualsIgnoreAsciiCase(name, "Status")) {
      int status = 0;
      const auto [rest, ec] = std::from_chars(value.data(), value.data() + value.size(), status);
      if (ec == std::errc() && status >= 200 && status <= 599) {
        response.status = status;
      }
    } else {
      response.headers.push_back({std::string(name), std::string(value)});
    }
  }
  response.body = output.substr(position);
  return response;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::string_view input, std::chrono::milliseconds timeout) {
  ProcessResult result;
  if (argv.empty()) {
    result.err = "RunProcess: empty argv";
    return result;
  }
  // stdin is a socket so that writes can use MSG_NOSIGNAL: a child that exits without reading
  // its input must not kill this process with SIGPIPE.
  std::array<int, 2> in_pair{-1, -1};
  std::array<int, 2> out_pair{-1, -1};
  std::array<int, 2> err_pair{-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair.data()) != 0) {
    result.err = std::string("socketpair: ") + ErrnoText(errno);
    return result;
  }
  Fd in(in_pair[0]);
  Fd child_in(in_pair[1]);
  if (::pipe2(out_pair.data(), O_CLOEXEC) != 0) {
    result.err = std::string("pipe2: ") + ErrnoText(errno);
    return result;
  }
  Fd out(out_pair[0]);
  Fd child_out(out_pair[1]);
  if (::pipe2(err_pair.data(), O_CLOEXEC) != 0) {
    result.err = std::string("pipe2: ") + ErrnoText(errno);
    return result;
  }
  Fd err(err_pair[0]);
  Fd child_err(err_pair[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the targets only; every other descriptor stays private.
  posix_spawn_file_actions_adddup2(&actions, child_in.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_out.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_err.get(), STDERR_FILENO);
  // Sockets opened elsewhere in this process (the fakes' connections, curl) may lack
  // close-on-exec; a child must not keep them open.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  // Orphans (git does not always reap its transport helper when it dies) are re-parented to this
  // process instead of init, so the loop at the end can reap them.
  static std::once_flag subreaper;
  std::call_once(subreaper, [] { ::prctl(PR_SET_CHILD_SUBREAPER, 1); });
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);  // a new process group named after the child
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  constexpr int kSpawnFlags =
      POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP;
  // NOLINTNEXTLINE(google-runtime-int): posix_spawnattr_setflags takes a short
  posix_spawnattr_setflags(&attributes, static_cast<short>(kSpawnFlags));
  std::vector<std::string> argv_copy = argv;
  std::vector<std::string> env_copy = env;
  const std::vector<char*> argv_pointers = CStrings(argv_copy);
  const std::vector<char*> env_pointers = CStrings(env_copy);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, argv_pointers[0], &actions, &attributes,
                                     argv_pointers.data(), env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  child_in.Reset();
  child_out.Reset();
  child_err.Reset();
  if (spawned != 0) {
    result.err = "posix_spawnp " + argv[0] + ": " + ErrnoText(spawned);
    return result;
  }

  SetNonBlocking(in.get());
  SetNonBlocking(out.get());
  SetNonBlocking(err.get());
  std::size_t written = 0;
  if (input.empty()) {
    in.Reset();
  }
  const SteadyClock::time_point deadline = SteadyClock::now() + timeout;
  std::array<char, kIoChunk> buffer{};
  while (in.open() || out.open() || err.open()) {
    std::array<pollfd, 3> polled{};
    std::array<Fd*, 3> owners{};
    nfds_t count = 0;
    for (Fd* fd : {&in, &out, &err}) {
      if (fd->open()) {
        const auto events = static_cast<decltype(pollfd::events)>(fd == &in ? POLLOUT : POLLIN);
        polled[count] = pollfd{fd->get(), events, 0};
        owners[count] = fd;
        ++count;
      }
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    const int ready = ::poll(polled.data(), count, static_cast<int>(left.count()) + 1);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (polled[i].revents == 0) {
        continue;
      }
      Fd& fd = *owners[i];
      if (&fd == &in) {
        const std::size_t chunk = std::min(input.size() - written, kIoChunk);
        const ssize_t n = ::send(fd.get(), input.data() + written, chunk, MSG_NOSIGNAL);
        if (n > 0) {
          written += static_cast<std::size_t>(n);
          if (written == input.size()) {
            fd.Reset();  // EOF for the child
          }
        } else if (n < 0 && !WouldBlock()) {
          fd.Reset();  // the child stopped reading
        }
        continue;
      }
      const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n > 0) {
        (&fd == &out ? result.out : result.err).append(buffer.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || !WouldBlock()) {
        fd.Reset();
      }
    }
  }
  if (result.timed_out) {
    ::kill(-pid, SIGKILL);
  }
  in.Reset();
  out.Reset();
  err.Reset();
  // Wait without reaping, so the process group id cannot be reused while it is signalled, then
  // end whatever the child left behind in its group: nothing it started outlives the call.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int ignored = 0;
  while (::waitpid(-pid, &ignored, 0) > 0 || errno == EINTR) {
  }
  if (!result.timed_out && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

std::optional<GitRoute> ParseGitRoute(const http::Request& request, std::string_view prefix,
                                      bool git_suffix_optional) {
  std::string_view path = request.path;
  if (!path.starts_with(prefix) || path.size() <= prefix.size() + 1 || path[prefix.size()] != '/') {
    return std::nullopt;
  }
  path.remove_prefix(prefix.size() + 1);
  GitRoute route;
  for (const std::string_view endpoint : {"info/refs", "git-upload-pack", "git-receive-pack"}) {
    if (path.size() > endpoint.size() + 1 && path.ends_with(endpoint)
        && path[path.size() - endpoint.size() - 1] == '/') {
      route.endpoint = std::string(endpoint);
      path.remove_suffix(endpoint.size() + 1);
      break;
    }
  }
  if (route.endpoint.empty()) {
    return std::nullopt;
  }
  if (path.ends_with(".git")) {
    path.remove_suffix(4);
  } else if (!git_suffix_optional) {
    return std::nullopt;
  }
  if (!IsSafeRepositoryPath(path) || path.find('/') == std::string_view::npos) {
    return std::nullopt;
  }
  route.repository = std::string(path);
  if (route.endpoint == "info/refs") {
    route.service = request.Query("service").value_or("");
    if (request.method != "GET"
        || (route.service != "git-upload-pack" && route.service != "git-receive-pack")) {
      return std::nullopt;
    }
  } else {
    route.service = route.endpoint;
    if (request.method != "POST") {
      return std::nullopt;
    }
  }
  return route;
}

http::Response GitTextResponse(int status, std::string_view text) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  response.body = std::string(text);
  if (!response.body.empty() && response.body.back() != '\n') {
    response.body += '\n';
  }
  return response;
}

GitHttpBackend::GitHttpBackend() = default;

GitHttpBackend::~GitHttpBackend() {
  if (!root_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

const std::filesystem::path& GitHttpBackend::ProjectRoot() const {
  // Created on first use: fakes that never serve git leave nothing behind, even when killed.
  std::call_once(root_once_, [this] {
    std::error_code ec;
    const std::filesystem::path temp = std::filesystem::temp_directory_path(ec);
    std::string pattern = ((ec ? std::filesystem::path("/tmp") : temp) / "keybridge-git-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + ": " + ErrnoText(errno));
    }
    root_ = pattern;
  });
  return root_;
}

std::vector<std::string> GitHttpBackend::BaseEnv() const {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nobody sets it
  return {"PATH=" + std::string(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin"),
          "HOME=" + ProjectRoot().string(),
          "LC_ALL=C",
          "GIT_CONFIG_NOSYSTEM=1",
          "GIT_CONFIG_GLOBAL=/dev/null",
          "GIT_TERMINAL_PROMPT=0"};
}

std::string GitHttpBackend::GitOrThrow(const std::string& name, std::vector<std::string> args,
                                       std::string_view input,
                                       const std::vector<std::string>& extra_env) const {
  std::vector<std::string> argv = {"git"};
  std::string command = "git";
  for (auto& arg : args) {
    command += " " + arg;
    argv.push_back(std::move(arg));
  }
  std::vector<std::string> env = BaseEnv();
  if (!name.empty()) {
    env.push_back("GIT_DIR=" + (ProjectRoot() / name).string());
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  ProcessResult result = RunProcess(argv, env, input);
  if (!result.ok()) {
    throw std::runtime_error(command + " (in " + name + ") failed with "
                             + std::to_string(result.exit_code) + ": " + result.err);
  }
  return std::move(result.out);
}

void GitHttpBackend::CreateRepository(const std::string& name, const std::string& default_branch) {
  if (!IsSafeRepositoryPath(name) || !name.ends_with(".git")) {
    throw std::runtime_error("bad repository name: " + name);
  }
  const std::filesystem::path path = ProjectRoot() / name;
  std::filesystem::create_directories(path.parent_path());
  // An empty --template skips the sample hooks: faster, and only our hook is present.
  GitOrThrow("", {"init", "--bare", "--quiet", "--template=", "--initial-branch=" + default_branch,
                  path.string()});
  GitOrThrow(name, {"symbolic-ref", "HEAD", "refs/heads/" + default_branch});
  const std::filesystem::path hooks = path / "hooks";
  std::filesystem::create_directories(hooks);
  const std::filesystem::path hook = hooks / "pre-receive";
  {
    std::ofstream file(hook, std::ios::binary | std::ios::trunc);
    file << kPreReceiveHook;
    if (!file) {
      throw std::runtime_error("cannot write " + hook.string());
    }
  }
  using std::filesystem::perms;
  std::filesystem::permissions(hook, perms::owner_all | perms::group_read | perms::group_exec
                                         | perms::others_read | perms::others_exec);
}

std::string GitHttpBackend::Commit(const std::string& name, const std::string& branch,
                                   const GitFiles& files, const std::string& message) {
  const std::filesystem::path index = ProjectRoot() / ("index-" + std::to_string(next_index_++));
  struct RemoveIndex {
    const std::filesystem::path& path;
    ~RemoveIndex() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } remove_index{index};
  const std::vector<std::string> env = {
      "GIT_INDEX_FILE=" + index.string(),        "GIT_AUTHOR_NAME=Keybridge Fake",
      "GIT_AUTHOR_EMAIL=fake@keybridge.invalid", "GIT_AUTHOR_DATE=1600000000 +0000",
      "GIT_COMMITTER_NAME=Keybridge Fake",       "GIT_COMMITTER_EMAIL=fake@keybridge.invalid",
      "GIT_COMMITTER_DATE=1600000000 +0000"};
  const std::optional<std::string> parent = ResolveCommit(name, "refs/heads/" + branch);
  if (parent) {
    GitOrThrow(name, {"read-tree", *parent}, {}, env);
  }
  std::string index_info;
  for (const auto& [file, content] : files) {
    const std::string blob = Trim(GitOrThrow(name, {"hash-object", "-w", "--stdin"}, content, env));
    index_info.append("100644 ").append(blob).append("\t").append(file).append("\n");
  }
  if (!index_info.empty()) {
    GitOrThrow(name, {"update-index", "--add", "--index-info"}, index_info, env);
  }
  const std::string tree = Trim(GitOrThrow(name, {"write-tree"}, {}, env));
  std::vector<std::string> commit_args = {"commit-tree", tree, "-m", message};
  if (parent) {
    commit_args.push_back("-p");
    commit_args.push_back(*parent);
  }
  std::string commit = Trim(GitOrThrow(name, std::move(commit_args), {}, env));
  std::vector<std::string> update_args = {"update-ref", "refs/heads/" + branch, commit};
  if (parent) {
    update_args.push_back(*parent);  // refuses to lose a concurrent push
  }
  GitOrThrow(name, std::move(update_args), {}, env);
  return commit;
}

std::optional<std::string> GitHttpBackend::ReadFile(const std::string& name,
                                                    const std::string& revision,
                                                    const std::string& file) const {
  std::vector<std::string> env = BaseEnv();
  env.push_back("GIT_DIR=" + (ProjectRoot() / name).string());
  ProcessResult result = RunProcess({"git", "cat-file", "blob", revision + ":" + file}, env);
  if (!result.ok()) {
    return std::nullopt;
  }
  return std::move(result.out);
}

std::optional<std::string> GitHttpBackend::ResolveCommit(const std::string& name,
                                                         const std::string& revision) const {
  std::vector<std::string> env = BaseEnv();
  env.push_back("GIT_DIR=" + (ProjectRoot() / name).string());
  ProcessResult result =
      RunProcess({"git", "rev-parse", "--verify", "--quiet", revision + "^{commit}"}, env);
  if (!result.ok()) {
    return std::nullopt;
  }
  return Trim(std::move(result.out));
}

http::Response GitHttpBackend::Serve(const http::Request& request, const std::string& name,
                                     const GitRoute& route, const GitPermission& permission) const {
  // The CGI meta-variables git http-backend reads (RFC 3875 §4.1, git-http-backend(1)).
  std::vector<std::string> env = BaseEnv();
  env.push_back("GIT_PROJECT_ROOT=" + ProjectRoot().string());
  env.push_back("GIT_HTTP_EXPORT_ALL=1");
  env.push_back("GATEWAY_INTERFACE=CGI/1.1");
  env.push_back("SERVER_PROTOCOL=HTTP/1.1");
  env.push_back("REQUEST_METHOD=" + request.method);
  env.push_back("PATH_INFO=/" + name + "/" + route.endpoint);
  env.push_back("QUERY_STRING=" + request.raw_query);
  env.push_back("REMOTE_ADDR="
                + (request.remote_address.empty() ? "127.0.0.1" : request.remote_address));
  if (!permission.remote_user.empty()) {
    env.push_back("REMOTE_USER=" + permission.remote_user);
    env.push_back("AUTH_TYPE=Basic");
  }
  if (const std::string type = request.Header("content-type"); !type.empty()) {
    env.push_back("CONTENT_TYPE=" + type);
  }
  if (request.method == "POST") {
    // The server has de-chunked the body, so its length is known.
    env.push_back("CONTENT_LENGTH=" + std::to_string(request.body.size()));
  }
  // git gzips large upload-pack requests; http-backend inflates them itself.
  if (const std::string encoding = request.Header("content-encoding"); !encoding.empty()) {
    env.push_back("HTTP_CONTENT_ENCODING=" + encoding);
  }
  // Protocol v2 is negotiated through this header (gitprotocol-v2(5), "HTTP Transport").
  if (const std::string protocol = request.Header("git-protocol"); !protocol.empty()) {
    env.push_back("HTTP_GIT_PROTOCOL=" + protocol);
    env.push_back("GIT_PROTOCOL=" + protocol);
  }
  // Explicit values: by default http-backend enables receive-pack for any REMOTE_USER.
  env.push_back("GIT_CONFIG_COUNT=3");
  env.push_back("GIT_CONFIG_KEY_0=http.receivepack");
  env.push_back(std::string("GIT_CONFIG_VALUE_0=") + (permission.allow_push ? "true" : "false"));
  env.push_back("GIT_CONFIG_KEY_1=http.uploadpack");
  env.push_back("GIT_CONFIG_VALUE_1=true");
  // No detached `gc --auto` after a push: it could outlive the request and the project root.
  env.push_back("GIT_CONFIG_KEY_2=receive.autogc");
  env.push_back("GIT_CONFIG_VALUE_2=false");
  if (permission.allow_push && !permission.protected_branches.empty()) {
    std::string branches;
    for (const auto& branch : permission.protected_branches) {
      branches += branches.empty() ? branch : " " + branch;
    }
    env.push_back("KEYBRIDGE_FAKE_PROTECTED_BRANCHES=" + branches);
    env.push_back("KEYBRIDGE_FAKE_PROTECTED_MESSAGE=" + permission.protected_message);
  }
  const std::string_view input = request.method == "POST" ? request.body : std::string_view();
  const ProcessResult result = RunProcess({"git", "http-backend"}, env, input);
  if (result.out.empty()) {
    return GitTextResponse(500, "git http-backend failed (exit " + std::to_string(result.exit_code)
                                    + "): " + result.err);
  }
  return ParseCgiOutput(result.out, result.err);
}

}  // namespace keybridge::fakes
