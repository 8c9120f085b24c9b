#include "crypto/system_random.h"

#include <openssl/rand.h>

#include <climits>

#include "core/check.h"

namespace keybridge::crypto {

std::string SystemRandom::Bytes(std::size_t count) {
  KEYBRIDGE_CHECK(count <= INT_MAX, "SystemRandom: request too large");
  std::string out(count, '\0');
  if (count == 0) {
    return out;
  }
  const int ok = RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count));
  KEYBRIDGE_CHECK(ok == 1, "RAND_bytes failed: no entropy available");
  return out;
}

}  // namespace keybridge::crypto
