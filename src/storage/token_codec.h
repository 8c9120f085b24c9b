// The persisted form of a core::TokenSet: compact JSON, sealed as one value with the KeyRing so
// that no part of it (access, refresh or id token) is ever stored in plaintext.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "core/token_set.h"

namespace keybridge::storage {

std::string EncodeTokenSet(const core::TokenSet& token);
// kInternal if `text` is not the JSON of a token set written by EncodeTokenSet.
core::Result<core::TokenSet> DecodeTokenSet(std::string_view text);

}  // namespace keybridge::storage
