#include "core/connection.h"

namespace keybridge::core {

std::string_view ToString(ConnectionStatus status) {
  switch (status) {
    case ConnectionStatus::kPending:
      return "pending";
    case ConnectionStatus::kConnected:
      return "connected";
    case ConnectionStatus::kInvalidCredentials:
      return "invalid_credentials";
  }
  return "pending";
}

Result<ConnectionStatus> ParseConnectionStatus(std::string_view text) {
  if (text == "pending") {
    return ConnectionStatus::kPending;
  }
  if (text == "connected") {
    return ConnectionStatus::kConnected;
  }
  if (text == "invalid_credentials") {
    return ConnectionStatus::kInvalidCredentials;
  }
  return MakeError(ErrorCode::kInternal, "unknown connection status \"" + std::string(text) + "\"");
}

}  // namespace keybridge::core
