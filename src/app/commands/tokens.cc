// `keybridge tokens create|list|revoke`: local API tokens (ApiTokenService), for the embedded
// default without an identity provider.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "app/commands/commands.h"
#include "app/commands/store.h"
#include "app/config.h"
#include "core/clock.h"
#include "service/api_token_service.h"

namespace keybridge::app {
namespace {

struct TokensState {
  StoreOptions store;
  std::string user;
  std::string name;
  std::string ttl;
  std::string id;
  bool admin = false;
};

int Create(service::ApiTokenService& service, const TokensState& state) {
  std::optional<core::Seconds> ttl;
  if (!state.ttl.empty()) {
    auto parsed = ParseDuration(state.ttl);
    if (!parsed.ok()) {
      std::cerr << "--ttl: " << parsed.error().message << "\n";
      return 2;
    }
    ttl = *parsed;
  }
  auto issued = service.Create(core::UserId(state.user), state.admin, state.name, ttl);
  if (!issued.ok()) {
    std::cerr << "error: " << issued.error().message << "\n";
    return 1;
  }
  std::cerr << "created token " << issued->record.id << " for user " << state.user
            << (state.admin ? " (admin)" : "")
            << "; it is shown only now. Use it as: Authorization: Bearer <token>\n";
  std::cout << issued->token.Reveal() << "\n";
  return 0;
}

int List(service::ApiTokenService& service) {
  auto list = service.List();
  if (!list.ok()) {
    std::cerr << "error: " << list.error().message << "\n";
    return 1;
  }
  std::cout << "ID\tUSER\tADMIN\tNAME\tCREATED\tEXPIRES\tSTATUS\n";
  const auto now = std::chrono::system_clock::now();
  for (const auto& t : *list) {
    const char* status = t.revoked_at                          ? "revoked"
                         : t.expires_at && *t.expires_at < now ? "expired"
                                                               : "active";
    std::cout << t.id << "\t" << t.user_id << "\t" << (t.is_admin ? "yes" : "no") << "\t" << t.name
              << "\t" << core::FormatIso8601(t.created_at) << "\t"
              << (t.expires_at ? core::FormatIso8601(*t.expires_at) : "never") << "\t" << status
              << "\n";
  }
  return 0;
}

int Revoke(service::ApiTokenService& service, core::BrowserSessionRepository& sessions,
           const std::string& id) {
  auto revoked = service.RevokeAndSignOut(id, sessions);
  if (!revoked.ok()) {
    std::cerr << "error: " << revoked.error().message << "\n";
    return 1;
  }
  std::cerr << "revoked " << id << "\n";
  if (revoked->user_id.empty()) {
    return 0;
  }
  if (revoked->sign_out_error) {
    std::cerr << "error: could not sign " << revoked->user_id
              << " out of the web UI: " << revoked->sign_out_error->message << "\n";
    return 1;
  }
  std::cerr << "signed user " << revoked->user_id << " out of " << revoked->browser_sessions_ended
            << " browser session(s)\n";
  return 0;
}

}  // namespace

Command AddTokensCommand(CLI::App& cli) {
  auto state = std::make_shared<TokensState>();
  auto* tokens = cli.add_subcommand("tokens", "Manage local API tokens (no identity provider)");
  tokens->require_subcommand(1);
  auto* tokens_create = tokens->add_subcommand(
      "create", "Create a token and print it once on stdout (only its hash is stored)");
  tokens_create->add_option("--user", state->user, "User id the token acts as")->required();
  tokens_create->add_flag("--admin", state->admin, "The token may administer integrations");
  tokens_create->add_option("--name", state->name, "A label to recognise the token later");
  tokens_create->add_option("--ttl", state->ttl, "Lifetime, e.g. 12h or 90d (default: no expiry)");
  AddStoreOptions(*tokens_create, state->store);
  auto* tokens_list = tokens->add_subcommand("list", "List tokens (never their values)");
  AddStoreOptions(*tokens_list, state->store);
  auto* tokens_revoke = tokens->add_subcommand("revoke", "Revoke a token by id");
  tokens_revoke->add_option("id", state->id, "Token id as shown by `tokens list`")->required();
  AddStoreOptions(*tokens_revoke, state->store);
  return {tokens, [state, tokens_create, tokens_list] {
            auto opened = OpenStoreOrThrow(state->store);
            core::SystemClock clock;
            service::ApiTokenService service(*opened->store->api_tokens, opened->random, clock);
            if (tokens_create->parsed()) {
              return Create(service, *state);
            }
            if (tokens_list->parsed()) {
              return List(service);
            }
            return Revoke(service, *opened->store->browser_sessions, state->id);
          }};
}

}  // namespace keybridge::app
