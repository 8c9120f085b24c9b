// The `keybridge` subcommands, one file each, registered by app/cli.cc in the order `--help`
// lists them. Each Add*Command adds its subcommand, flags and environment variables to `cli` and
// returns how to run it once parsed; the flag values live in state the runner owns.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace keybridge::app {

struct Command {
  CLI::App* subcommand = nullptr;
  // Runs the parsed command and returns the exit code; may throw StartupError (exit 1).
  std::function<int()> run;
  // git-credential: no log lines at all. git shows the helper's stderr to the user, and spdlog's
  // default logger writes to stdout, where git reads the answer.
  bool silent = false;
};

Command AddServeCommand(CLI::App& cli);             // serve.cc
Command AddMigrateCommand(CLI::App& cli);           // migrate.cc
Command AddTokensCommand(CLI::App& cli);            // tokens.cc
Command AddKeysCommand(CLI::App& cli);              // keys.cc
Command AddIntegrationsCommand(CLI::App& cli);      // integrations.cc
Command AddAdminLinkCommand(CLI::App& cli);         // admin_link.cc
Command AddGitCredentialCommand(CLI::App& cli);     // git_credential.cc
Command AddGitProxyCommand(CLI::App& cli);          // git_proxy.cc
Command AddDockerCredentialCommand(CLI::App& cli);  // docker_credential.cc
Command AddRcloneConfigCommand(CLI::App& cli);      // rclone_config.cc

}  // namespace keybridge::app
