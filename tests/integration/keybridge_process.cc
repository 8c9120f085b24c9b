#include "integration/keybridge_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

namespace keybridge::testing {

KeybridgeProcess::KeybridgeProcess(std::vector<std::string> args, const std::string& log_path)
    : KeybridgeProcess(
        [&args] {
          std::vector<std::string> argv = {"--log-format", "json", "serve", "--listen",
                                           "127.0.0.1:0"};
          argv.insert(argv.end(), args.begin(), args.end());
          return argv;
        }(),
        log_path, "keybridge ready on ", {}) {}

KeybridgeProcess::KeybridgeProcess(std::vector<std::string> args, const std::string& log_path,
                                   const std::string& ready_prefix,
                                   const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {KEYBRIDGE_BINARY_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    env_strings.emplace_back(*e);
  }
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> env;
  for (auto& e : env_strings) {
    env.push_back(e.data());
  }
  env.push_back(nullptr);
  std::vector<char*> raw;
  for (auto& a : argv) {
    raw.push_back(a.data());
  }
  raw.push_back(nullptr);

  int out[2];
  if (pipe(out) != 0) {
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  const int rc = posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    pid_ = -1;
    close(out[0]);
    return;
  }
  // Blocks until the ready line (or EOF if the child died).
  stdout_ = fdopen(out[0], "r");
  std::FILE* child_stdout = stdout_;
  char line[256];
  const std::string_view ready = ready_prefix;
  while (child_stdout != nullptr && std::fgets(line, sizeof(line), child_stdout) != nullptr) {
    std::string_view text(line);
    if (text.rfind(ready, 0) == 0) {
      text.remove_prefix(ready.size());
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
      }
      base_url_ = std::string(text);
      break;
    }
  }
}

void KeybridgeProcess::Kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

KeybridgeProcess::~KeybridgeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (stdout_ != nullptr) {
    std::fclose(stdout_);
  }
}

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  socklen_t length = sizeof address;
  const bool bound = ::bind(fd, generic, length) == 0 && ::getsockname(fd, generic, &length) == 0;
  ::close(fd);
  return bound ? ntohs(address.sin_port) : 0;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::string& log_path) {
  std::vector<char*> raw;
  for (auto& arg : argv) {
    raw.push_back(arg.data());
  }
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  if (posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ) != 0) {
    pid_ = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool ChildProcess::Running() {
  int status = 0;
  return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
}

CommandResult RunShellCommand(const std::string& command, const std::string& stderr_path) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>'" + stderr_path + "'").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.out.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(stderr_path);
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  return result;
}

}  // namespace keybridge::testing
