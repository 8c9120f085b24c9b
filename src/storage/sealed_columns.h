// Every column that stores a KeyRing-sealed value, listed once: repositories seal and open with
// SealedColumn::AssociatedData(), and ReencryptSecrets (key rotation) walks kSealedColumns.
#pragma once

#include <array>
#include <string>
#include <string_view>

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

inline constexpr std::array kSealedColumns{kProviderClientSecret, kConnectionToken,
                                           kFlowCodeVerifier};

}  // namespace keybridge::storage
