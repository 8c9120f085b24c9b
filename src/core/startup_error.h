// StartupError: the only exception keybridge throws on purpose. Raised while loading config or
// constructing adapters (opening the database, binding the port); main() catches it and exits 1.
#pragma once

#include <stdexcept>
#include <string>

namespace keybridge {

class StartupError : public std::runtime_error {
 public:
  explicit StartupError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace keybridge
