// `keybridge git-proxy`: the streaming git proxy (module gitproxy) with credentials from the
// keybridge server at KEYBRIDGE_URL, until SIGINT or SIGTERM.
#include "gitproxy/git_proxy.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/commands/signals.h"
#include "app/config.h"
#include "core/clock.h"
#include "core/secret.h"
#include "gitcredential/git_credential.h"
#include "gitproxy/credentials.h"
#include "net/curl_http_client.h"

namespace keybridge::app {
namespace {

struct GitProxyFlags {
  std::string listen = "127.0.0.1:65480";
  std::string ca_file;
  bool allow_remote_clients = false;
};

int GitProxy(const GitProxyFlags& flags) {
  auto listen = ParseListen(flags.listen, "--listen");
  if (!listen.ok()) {
    std::cerr << "keybridge git-proxy: " << listen.error().message << "\n";
    return 2;
  }
  if (!listen->IsLoopback() && !flags.allow_remote_clients) {
    // Whoever reaches the proxy pushes with the user's token.
    std::cerr << "keybridge git-proxy: refusing to listen on " << listen->host
              << ": anyone who can connect would use your tokens. Listen on 127.0.0.1 or ::1, "
                 "or pass --allow-remote-clients if the network is the session's own\n";
    return 2;
  }
  gitcredential::GitCredentialOptions environment;
  if (auto loaded = gitcredential::LoadGitCredentialEnvironment(::getenv, environment);
      !loaded.ok()) {
    std::cerr << "keybridge git-proxy: " << loaded.error().message << "\n";
    return 1;
  }
  const sigset_t signals = BlockTerminationSignals();

  net::CurlHttpClient::Options http_options;
  http_options.ca_file = flags.ca_file;
  net::CurlHttpClient http(http_options);
  core::SystemClock clock;
  gitproxy::KeybridgeCredentials source(http, clock, environment.keybridge_url,
                                        core::Secret(environment.token));
  gitproxy::CredentialCache cache(source, clock);
  gitproxy::GitProxyOptions options;
  options.host = listen->host;
  options.port = listen->port;
  options.ca_file = flags.ca_file;
  gitproxy::GitProxy proxy(options, cache);
  proxy.Start();
  const bool v6 = listen->host.find(':') != std::string::npos;
  std::cout << "keybridge git-proxy ready on http://"
            << (v6 ? "[" + listen->host + "]" : listen->host) << ":" << proxy.port() << std::endl;
  const int received = WaitForTerminationSignal(signals);
  spdlog::info("received signal {}, shutting down", received);
  proxy.Stop();
  return 0;
}

}  // namespace

Command AddGitProxyCommand(CLI::App& cli) {
  auto flags = std::make_shared<GitProxyFlags>();
  auto* git_proxy = cli.add_subcommand(
      "git-proxy",
      "Streaming git smart-HTTP proxy that adds your token: http://LISTEN/<integration id>/<path> "
      "forwards to <integration URL>/<path>. Uses KEYBRIDGE_URL and KEYBRIDGE_TOKEN (or "
      "KEYBRIDGE_TOKEN_FILE) like git-credential. Point git at it with\n"
      "  git config --global url.\"http://127.0.0.1:65480/<integration id>/\".insteadOf "
      "\"<integration URL>/\"");
  git_proxy->add_option("--listen", flags->listen, "HOST:PORT to listen on (loopback)")
      ->envname("KEYBRIDGE_GIT_PROXY_LISTEN")
      ->capture_default_str();
  git_proxy
      ->add_option("--ca-file", flags->ca_file,
                   "Extra CA bundle for the integrations' and keybridge's TLS certificates")
      ->envname("KEYBRIDGE_CA_FILE");
  git_proxy->add_flag("--allow-remote-clients", flags->allow_remote_clients,
                      "Allow a non-loopback --listen address (only on a network that is the "
                      "session's own)");
  return {git_proxy, [flags] {
            return GitProxy(*flags);
          }};
}

}  // namespace keybridge::app
