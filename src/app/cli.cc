#include "app/cli.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <array>
#include <iostream>
#include <string>

#include "app/commands/commands.h"
#include "app/logging.h"
#include "core/startup_error.h"

namespace keybridge::app {

int RunCli(int argc, char** argv) {
  CLI::App cli{
      "keybridge: connects research platforms to GitLab and GitHub for their users.\n"
      "Administrators register integrations (OAuth2 clients); users connect once; sessions get "
      "fresh tokens."};
  cli.require_subcommand(1);
  // The Debian package's version and the man page's header come from here.
  cli.set_version_flag("--version", std::string("keybridge ") + KEYBRIDGE_VERSION_STRING);
  std::string log_level = "info";
  std::string log_format = "auto";
  cli.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->envname("KEYBRIDGE_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cli.add_option("--log-format", log_format, "auto (JSON unless stderr is a terminal), json, text")
      ->envname("KEYBRIDGE_LOG_FORMAT")
      ->check(CLI::IsMember({"auto", "json", "text"}));

  // In the order --help lists them.
  const std::array commands = {
      AddServeCommand(cli),         AddMigrateCommand(cli),      AddTokensCommand(cli),
      AddKeysCommand(cli),          AddIntegrationsCommand(cli), AddAdminLinkCommand(cli),
      AddGitCredentialCommand(cli), AddGitProxyCommand(cli),     AddDockerCredentialCommand(cli),
      AddRcloneConfigCommand(cli)};

  CLI11_PARSE(cli, argc, argv);
  for (const Command& command : commands) {
    if (!command.subcommand->parsed()) {
      continue;
    }
    if (command.silent) {
      spdlog::set_level(spdlog::level::off);
    } else {
      ConfigureLogging(log_format == "json"   ? LogFormat::kJson
                       : log_format == "text" ? LogFormat::kText
                                              : LogFormat::kAuto,
                       log_level);
    }
    try {
      return command.run();
    } catch (const StartupError& error) {
      std::cerr << "keybridge: " << error.what() << "\n";
      return 1;
    }
  }
  return 2;
}

}  // namespace keybridge::app
