// SystemRandom: the production core::Random, backed by OpenSSL's CSPRNG (RAND_bytes). app/ builds
// one and hands it to everything that needs nonces, key material or tokens.
#pragma once

#include "core/random.h"

namespace keybridge::crypto {

// Thread-safe (OpenSSL's DRBG is per-thread).
class SystemRandom final : public core::Random {
 public:
  // Aborts (KEYBRIDGE_CHECK) if the CSPRNG fails.
  std::string Bytes(std::size_t count) override;
};

}  // namespace keybridge::crypto
