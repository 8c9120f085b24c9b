#include "app/integrations_file.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace keybridge::app {
namespace {

core::Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "cannot read " + path.string());
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

core::Caller IntegrationsFileCaller() {
  return core::Caller::User(core::UserId("integrations-file"), /*admin=*/true);
}

core::Result<service::IntegrationPlan> PlanIntegrationsFile(const std::string& path, bool prune,
                                                            service::ProviderService& providers) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "integrations file: " + text.error().message);
  }
  auto file = service::ParseIntegrationFile(*text);
  if (!file.ok()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, path + ": " + file.error().message);
  }
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  const service::SecretResolver resolve =
      [&base](const core::SecretReference& ref) -> core::Result<core::Secret> {
    if (ref.source == core::SecretReference::Source::kEnv) {
      // Nothing in keybridge sets environment variables, so reading them from any thread is safe.
      const char* value = std::getenv(ref.value.c_str());  // NOLINT(concurrency-mt-unsafe)
      if (value == nullptr) {
        return core::MakeError(
            core::ErrorCode::kInvalidArgument,
            "client_secret_env: the environment variable " + ref.value + " is not set");
      }
      return core::Secret(value);
    }
    const std::filesystem::path secret_path = std::filesystem::path(ref.value).is_absolute()
                                                  ? std::filesystem::path(ref.value)
                                                  : base / ref.value;
    auto secret = ReadWholeFile(secret_path);
    if (!secret.ok()) {
      return core::MakeError(core::ErrorCode::kInvalidArgument,
                             "client_secret_file: " + secret.error().message);
    }
    // Editors and `echo` end files with a newline that is not part of the secret.
    std::string value = std::move(secret).value();
    if (value.ends_with('\n')) {
      value.pop_back();
      if (value.ends_with('\r')) {
        value.pop_back();
      }
    }
    return core::Secret(std::move(value));
  };
  KEYBRIDGE_ASSIGN_OR_RETURN(const auto stored, providers.List());
  auto plan = service::PlanIntegrations(*file, stored, resolve, prune);
  if (!plan.ok()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, path + ": " + plan.error().message);
  }
  return plan;
}

}  // namespace keybridge::app
