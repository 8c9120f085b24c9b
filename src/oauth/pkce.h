// PKCE (RFC 7636, S256 only) and the `state` value of the authorization request (RFC 6749 §10.12).
// service/ makes both when a flow starts; the verifier stays server-side, keyed by the state.
#pragma once

#include <string>
#include <string_view>

#include "core/random.h"
#include "core/secret.h"

namespace keybridge::oauth {

struct Pkce {
  core::Secret verifier;  // 43 characters of base64url (32 random bytes), sent at code exchange
  std::string challenge;  // BASE64URL(SHA-256(verifier)), sent to the authorize endpoint
};

// A fresh verifier from 32 bytes of `random` and its S256 challenge. The method is always S256
// ("plain" is never used; GitHub rejects it).
Pkce MakePkce(core::Random& random);

// BASE64URL(SHA-256(ASCII(verifier))) without padding (RFC 7636 §4.2).
std::string ChallengeFor(std::string_view verifier);

// True if `verifier` has 43-128 characters from [A-Z a-z 0-9 - . _ ~] (RFC 7636 §4.1).
bool IsValidVerifier(std::string_view verifier);

// An unguessable `state`: base64url of 32 random bytes (256 bits, 43 characters).
core::Secret MakeState(core::Random& random);

}  // namespace keybridge::oauth
