// Every column that stores a KeyRing-sealed value, listed once: repositories seal and open with
// SealedColumn::AssociatedData(), and ReencryptSecrets (key rotation) walks kSealedColumns.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/url.h"

namespace keybridge::storage {

struct SealedColumn {
  std::string_view table;
  std::string_view id_column;  // primary key, a string
  std::string_view column;     // TEXT NULL holding the sealed value
  // Bound into every ciphertext of the column, so a value copied to another row or column does
  // not open. "{id}" stands for the row's id.
  std::string_view associated_data;

  std::string AssociatedData(std::string_view id) const {
    std::string out(associated_data);
    const std::size_t at = out.find("{id}");
    if (at != std::string::npos) {
      out.replace(at, 4, id);
    }
    return out;
  }
};

inline constexpr SealedColumn kProviderClientSecret{"oauth2_clients", "id", "client_secret",
                                                    "oauth2_clients/{id}/client_secret"};

// The whole token set of a connection (access, refresh and id token, lifetimes).
inline constexpr SealedColumn kConnectionToken{"oauth2_connections", "id", "token",
                                               "oauth2_connections/{id}/token"};
// The PKCE verifier of a pending authorization (RFC 7636); Renku stored it in plaintext.
inline constexpr SealedColumn kFlowCodeVerifier{"oauth2_flows", "state_hash", "code_verifier",
                                                "oauth2_flows/{id}/code_verifier"};

// The PKCE verifier of a started "Try connecting" round trip (integration_trials, migration 0011).
inline constexpr SealedColumn kTrialCodeVerifier{"integration_trials", "id", "code_verifier",
                                                 "integration_trials/{id}/code_verifier"};

inline constexpr std::array kSealedColumns{kProviderClientSecret, kConnectionToken,
                                           kFlowCodeVerifier, kTrialCodeVerifier};

// A connection's token set is also bound to where its provider sends it: the provider's kind and
// the origins of its URL and OIDC issuer. A token set sealed while the integration pointed at
// one host does not open once the row's provider points elsewhere (e.g. after a direct database
// edit of oauth2_clients.url), so it can never be sent there. Paths are left out: a path change
// on the same origin sends nothing to a new host.
inline std::string ConnectionTokenBinding(std::string_view kind, std::string_view url,
                                          std::string_view oidc_issuer_url) {
  const auto origin = [](std::string_view text) -> std::string {
    if (text.empty()) {
      return "";
    }
    auto parsed = core::ParseUrl(text);
    return parsed.ok() ? parsed->Origin() : std::string(text);
  };
  return std::string(kind) + " " + origin(url) + " " + origin(oidc_issuer_url);
}

// The associated data of a connection token sealed since the binding above: the column's own
// (row and column) plus the binding.
inline std::string ConnectionTokenAssociatedData(std::string_view id, std::string_view binding) {
  return kConnectionToken.AssociatedData(id) + "@" + std::string(binding);
}

// Three scalar subqueries, selectable from oauth2_connections, giving the inputs of
// ConnectionTokenBinding (NULLs when the provider row is gone).
inline constexpr std::string_view kConnectionBindingColumns =
    "(SELECT kind FROM oauth2_clients p WHERE p.id = oauth2_connections.provider_id), "
    "(SELECT url FROM oauth2_clients p WHERE p.id = oauth2_connections.provider_id), "
    "(SELECT oidc_issuer_url FROM oauth2_clients p WHERE p.id = oauth2_connections.provider_id)";

}  // namespace keybridge::storage
