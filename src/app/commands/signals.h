// The long-running commands (serve, git-proxy) stop on SIGINT or SIGTERM.
#pragma once

#include <csignal>

namespace keybridge::app {

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts later: call it
// before any thread starts, so that only WaitForTerminationSignal sees them.
sigset_t BlockTerminationSignals();
// Waits for one of `signals` and returns its number.
int WaitForTerminationSignal(const sigset_t& signals);

}  // namespace keybridge::app
