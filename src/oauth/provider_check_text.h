// What the provider_check*.cc files share: the probes' timeout, how text a provider or an
// administrator controls is quoted in a check's sentences, and the per-kind advice
// (provider_check_advice.cc).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/provider.h"

namespace keybridge::oauth {

inline constexpr auto kProbeTimeout = std::chrono::seconds(10);

// Text a provider or an administrator controls, quoted in a sentence: printable ASCII, bounded.
std::string Printable(std::string_view text);

// "GitLab", "GitHub", "OpenID Connect", "Dropbox", "Google", "Zenodo".
std::string KindName(core::ProviderKind kind);
// How to set the URL (or issuer) of a provider of this kind right.
std::string UrlAdvice(const core::Provider& provider);
// Where the kind's console shows the client id and secret, to fix rejected credentials.
std::string CredentialsAdvice(const core::Provider& provider);
// Where the callback URL is registered at a provider of `kind`, for a sentence ("Make sure <url>
// is <place>").
std::string RedirectUriPlace(core::ProviderKind kind);
// The kind a well-known public host belongs to (github.com, gitlab.com, www.dropbox.com,
// accounts.google.com, zenodo.org and their API or sandbox hosts), nullopt for any other host:
// a URL of one kind configured under another is a wrong kind, not a wrong URL.
std::optional<core::ProviderKind> KindOfWellKnownHost(std::string_view url);

}  // namespace keybridge::oauth
