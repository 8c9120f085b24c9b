// What the provider_check*.cc files share: the probes' timeout and how text a provider or an
// administrator controls is quoted in a check's sentences.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace keybridge::oauth {

inline constexpr auto kProbeTimeout = std::chrono::seconds(10);

// Text a provider or an administrator controls, quoted in a sentence: printable ASCII, bounded.
std::string Printable(std::string_view text);

}  // namespace keybridge::oauth
