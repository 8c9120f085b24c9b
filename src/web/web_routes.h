// The web UI: a single page (web/index.html) and its assets (web/*), embedded into the
// binary at build time (no file lookups at run time, nothing fetched from elsewhere) and served
// at "/" and "/assets/<file>" with a strict Content-Security-Policy (no inline script or style,
// same-origin fetch only, no framing), nosniff, Referrer-Policy same-origin, and an ETag from the
// content hash so browsers revalidate cheaply after an upgrade.
#pragma once

#include <string_view>

#include "http/router.h"

namespace keybridge::web {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// Registers GET / and GET /assets/{file}.
void AddWebRoutes(http::Router& router);

}  // namespace keybridge::web
