// Process-wide logging set-up: one structured line per event. JSON when stderr is not a terminal
// (log collectors), human-readable otherwise. Log lines never contain secrets: callers log ids
// and error codes, and Secret values print as "****".
#pragma once

#include <string>

namespace keybridge::app {

enum class LogFormat { kAuto, kJson, kText };

// `level` is one of trace, debug, info, warn, error. Safe to call more than once.
void ConfigureLogging(LogFormat format, const std::string& level);

}  // namespace keybridge::app
