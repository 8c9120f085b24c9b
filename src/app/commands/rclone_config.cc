// `keybridge rclone-config CONNECTION [--name NAME]`: prints an rclone remote for a Dropbox or
// Google Drive connection (module gitcredential) over libcurl.
#include "gitcredential/rclone_config.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands/client_http.h"
#include "app/commands/commands.h"
#include "net/curl_http_client.h"

namespace keybridge::app {
namespace {

struct RcloneConfigFlags {
  std::string connection_id;
  std::string name;
};

int RcloneConfig(const RcloneConfigFlags& flags) {
  gitcredential::ServerAccess access;
  if (auto loaded = gitcredential::LoadServerAccess(::getenv, access); !loaded.ok()) {
    std::cerr << "keybridge: " << loaded.error().message << "\n";
    return 1;
  }
  net::CurlHttpClient http(ClientHelperHttpOptions());
  gitcredential::RcloneConfigIo io{std::cout, std::cerr, http};
  return gitcredential::RunRcloneConfig(flags.connection_id, flags.name, access, io);
}

}  // namespace

Command AddRcloneConfigCommand(CLI::App& cli) {
  auto flags = std::make_shared<RcloneConfigFlags>();
  auto* rclone_config = cli.add_subcommand(
      "rclone-config",
      "Print an rclone remote for a Dropbox or Google Drive connection, asking the keybridge "
      "server at KEYBRIDGE_URL with KEYBRIDGE_TOKEN or KEYBRIDGE_TOKEN_FILE (in a session: its "
      "session token). rclone refreshes its token at keybridge and never sees the provider's "
      "refresh token. Append the output to an rclone.conf only you can read: it is a credential.");
  rclone_config->add_option("connection", flags->connection_id, "The connection's id")->required();
  rclone_config->add_option("--name", flags->name,
                            "The remote's name (default: the integration's id)");
  return {rclone_config, [flags] { return RcloneConfig(*flags); }, /*silent=*/true};
}

}  // namespace keybridge::app
