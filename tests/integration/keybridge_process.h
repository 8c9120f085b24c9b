// KeybridgeProcess: runs the real `keybridge serve` binary as a child process (for tests that
// need several replicas or a kill -9). Start() returns once the child printed its ready line, so
// tests never sleep to wait for it.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace keybridge::testing {

class KeybridgeProcess {
 public:
  // `args` follow `keybridge serve`; --listen 127.0.0.1:0 is added. stderr goes to `log_path`.
  KeybridgeProcess(std::vector<std::string> args, const std::string& log_path);
  // Any subcommand: `args` follow the binary; waits for a stdout line starting with
  // `ready_prefix` and keeps the rest of it as base_url(). `extra_env` ("NAME=value") is added
  // to this process's environment.
  KeybridgeProcess(std::vector<std::string> args, const std::string& log_path,
                   const std::string& ready_prefix, const std::vector<std::string>& extra_env);
  ~KeybridgeProcess();  // SIGTERM and wait, unless already killed
  KeybridgeProcess(const KeybridgeProcess&) = delete;
  KeybridgeProcess& operator=(const KeybridgeProcess&) = delete;

  // "http://127.0.0.1:<port>"; empty if the process failed to start (see the log).
  const std::string& base_url() const { return base_url_; }
  // SIGKILL and reap: the process gets no chance to clean up.
  void Kill();

 private:
  pid_t pid_ = -1;
  std::FILE* stdout_ = nullptr;  // the child's stdout, kept open so it never gets SIGPIPE
  std::string base_url_;
};

// A child process (`argv[0]` an absolute path) with stdout and stderr appended to `log_path`;
// SIGTERM and reaped on destruction. For the real third-party servers the tests drive
// (Prometheus, docker-registry).
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // False once the process has exited (e.g. refused its configuration).
  bool Running();

 private:
  pid_t pid_ = -1;
};

// A loopback port nobody listens on now (the kernel's choice for port 0); 0 if none was given.
// Another process may take it before the caller binds it.
int FreeLoopbackPort();

// What a command run through /bin/sh printed and how it ended.
struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally (or could not start)
  std::string out;
  std::string err;
};
// Runs `command` with /bin/sh, its standard error sent to `stderr_path` and read back from there.
CommandResult RunShellCommand(const std::string& command, const std::string& stderr_path);

}  // namespace keybridge::testing
