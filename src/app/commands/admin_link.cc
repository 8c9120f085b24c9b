// `keybridge admin-link`: issues a one-time administrator sign-in link on request (after the
// first administrator signed in, `keybridge serve` issues none by itself). Whoever runs it can
// read the database and the key file, which is already everything an administrator can reach.
#include "app/admin_link.h"

#include <iostream>
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/commands/store.h"
#include "core/clock.h"
#include "core/public_urls.h"
#include "core/startup_error.h"
#include "identity/api_token_authenticator.h"
#include "service/browser_session_service.h"

namespace keybridge::app {

namespace {
struct AdminLinkState {
  StoreOptions store;
  std::string public_url = "http://127.0.0.1:8080";
  bool print = false;
};
}  // namespace

Command AddAdminLinkCommand(CLI::App& cli) {
  auto state = std::make_shared<AdminLinkState>();
  auto* command = cli.add_subcommand(
      "admin-link",
      "Issue a one-time administrator sign-in link (valid 1 hour) into a 0600 file next to the "
      "key file");
  AddStoreOptions(*command, state->store);
  command
      ->add_option("--public-url", state->public_url,
                   "The URL users reach keybridge at (as given to keybridge serve)")
      ->envname("KEYBRIDGE_PUBLIC_URL")
      ->capture_default_str();
  command->add_flag("--print", state->print,
                    "Print the link on stdout instead (for an interactive terminal, not a log)");
  return {command, [state] {
            auto opened = OpenStoreOrThrow(state->store);
            core::SystemClock clock;
            identity::ApiTokenAuthenticator local_tokens(*opened->store->api_tokens, clock);
            service::BrowserSessionService sessions(*opened->store->browser_sessions, local_tokens,
                                                    opened->random, clock);
            auto token = sessions.IssueAdminLink();
            if (!token.ok()) {
              throw StartupError("cannot issue a sign-in link: " + token.error().message);
            }
            std::string public_url = state->public_url;
            while (public_url.ends_with('/')) {
              public_url.pop_back();
            }
            const std::string link = core::PublicUrls(public_url).SignInLink(token->Reveal());
            if (state->print) {
              std::cout << link << std::endl;
              return 0;
            }
            const std::string path = AdminSignInLinkPath(state->store.key_file);
            if (core::Status written = WriteAdminSignInLink(path, link); !written.ok()) {
              throw StartupError(written.error().message);
            }
            std::cerr << "one-time administrator sign-in link (valid for 1 hour) written to "
                      << path << "\n";
            return 0;
          }};
}

}  // namespace keybridge::app
