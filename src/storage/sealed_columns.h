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

// Add a connection's token columns here when their migration lands.
inline constexpr std::array kSealedColumns{kProviderClientSecret};

}  // namespace keybridge::storage
