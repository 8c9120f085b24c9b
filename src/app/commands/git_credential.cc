// `keybridge git-credential get|store|erase`: the git credential helper (module gitcredential)
// over libcurl and the real clock.
#include "gitcredential/git_credential.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "app/commands/client_http.h"
#include "app/commands/commands.h"
#include "app/config.h"
#include "core/clock.h"
#include "net/curl_http_client.h"

namespace keybridge::app {
namespace {

int GitCredential(gitcredential::GitCredentialOptions options, const std::string& wait_timeout) {
  if (auto timeout = ParseDuration(wait_timeout); timeout.ok()) {
    options.wait_timeout = *timeout;
  } else {
    std::cerr << "keybridge: --wait-timeout: " << timeout.error().message << "\n";
    return 2;
  }
  if (auto loaded = gitcredential::LoadGitCredentialEnvironment(::getenv, options); !loaded.ok()) {
    // git shows helper stderr to the user; without configuration there is nothing to answer.
    std::cerr << "keybridge: " << loaded.error().message << "\n";
    return 1;
  }
  net::CurlHttpClient http(ClientHelperHttpOptions());
  core::SystemClock clock;
  gitcredential::GitCredentialIo io{
      std::cin, std::cout, std::cerr, http, clock, [](core::Seconds pause) {
        std::this_thread::sleep_for(pause);
      }};
  return gitcredential::RunGitCredential(options, io);
}

struct GitCredentialState {
  gitcredential::GitCredentialOptions options;
  std::string wait_timeout = "10m";
};

}  // namespace

Command AddGitCredentialCommand(CLI::App& cli) {
  auto state = std::make_shared<GitCredentialState>();
  auto* git_credential = cli.add_subcommand(
      "git-credential",
      "git credential helper: answers git with a fresh token from the keybridge server at "
      "KEYBRIDGE_URL, using KEYBRIDGE_TOKEN or KEYBRIDGE_TOKEN_FILE. Enable it with\n"
      "  git config --global credential.helper '!keybridge git-credential'\n"
      "  git config --global credential.useHttpPath true");
  git_credential->add_flag("--wait", state->options.wait,
                           "When the service is not connected yet, print where to connect and "
                           "wait for it instead of failing");
  git_credential
      ->add_option("--wait-timeout", state->wait_timeout, "How long --wait waits, e.g. 90s or 10m")
      ->capture_default_str();
  git_credential
      ->add_option("operation", state->options.operation,
                   "get, store or erase (git appends it); others are ignored")
      ->required();
  return {git_credential,
          [state] { return GitCredential(std::move(state->options), state->wait_timeout); },
          /*silent=*/true};
}

}  // namespace keybridge::app
