// `keybridge rclone-config CONNECTION`: prints an rclone remote section for a Dropbox or Google
// Drive connection, from a keybridge server's GET
// /api/data/oauth2/connections/{id}/rclone_config. Configured like `git-credential`
// (KEYBRIDGE_URL and KEYBRIDGE_TOKEN or KEYBRIDGE_TOKEN_FILE; in a session, its session token).
// The section's `token` holds a provider access token and, as refresh token, a keybridge refresh
// handle; its `token_url` is the connection's token endpoint on keybridge, where rclone refreshes.
// So the output is a credential: append it to an rclone.conf only the user can read.
//
//   [dropbox]
//   type = dropbox
//   token_url = https://keybridge.example.org/api/data/oauth2/connections/01H.../token_endpoint
//   token = {"access_token":"...","expiry":"...","refresh_token":"kbr_...","token_type":"Bearer"}
#pragma once

#include <iosfwd>
#include <string>

#include "core/http_client.h"
#include "gitcredential/server_access.h"

namespace keybridge::gitcredential {

struct RcloneConfigIo {
  std::ostream& out;  // the section
  std::ostream& err;  // messages for the user
  core::HttpClient& http;
};

// Prints the section named `remote_name` (or the integration's id when empty) for
// `connection_id` and returns 0; on a refusal prints the server's reason to `err` and returns 1.
int RunRcloneConfig(const std::string& connection_id, const std::string& remote_name,
                    const ServerAccess& access, RcloneConfigIo& io);

}  // namespace keybridge::gitcredential
