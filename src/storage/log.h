// The "storage" logger that app/ configures, or the default logger when none is registered
// (tests, tools). Internal to storage/.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace keybridge::storage {

inline std::shared_ptr<spdlog::logger> Log() {
  std::shared_ptr<spdlog::logger> logger = spdlog::get("storage");
  return logger ? logger : spdlog::default_logger();
}

}  // namespace keybridge::storage
