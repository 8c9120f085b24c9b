// The `keybridge` command line: serve, migrate, tokens, keys, git-credential, git-proxy (one file
// each in app/commands/). main() only calls RunCli.
#pragma once

namespace keybridge::app {

// Parses arguments, runs the chosen command and returns the process exit code. Catches
// StartupError (exit 1) and CLI11 parse errors; nothing else is caught.
int RunCli(int argc, char** argv);

}  // namespace keybridge::app
