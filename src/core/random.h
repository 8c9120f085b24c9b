// Random port: cryptographically secure random bytes. The production implementation lives in
// crypto/system_random (OpenSSL RAND_bytes); tests inject a deterministic sequence.
#pragma once

#include <cstddef>
#include <string>

namespace keybridge::core {

class Random {
 public:
  virtual ~Random() = default;
  // Returns `count` random bytes. Aborts (KEYBRIDGE_CHECK) if the CSPRNG fails: there is no safe
  // fallback for missing entropy.
  virtual std::string Bytes(std::size_t count) = 0;
};

}  // namespace keybridge::core
