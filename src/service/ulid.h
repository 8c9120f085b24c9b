// ULIDs for connection ids: 26 Crockford-base32 characters, time-ordered (48-bit milliseconds)
// with 80 random bits, the format Renku uses for connection ids.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"

namespace keybridge::service {

std::string NewUlid(const core::Clock& clock, core::Random& random);
// True for 26 characters of Crockford base32 (upper case), the shape Renku's routes accept.
bool IsUlid(std::string_view text);

}  // namespace keybridge::service
