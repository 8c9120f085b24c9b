#include "web/web_routes.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crypto/hash.h"

namespace keybridge::web {

// Generated from web/ by keybridge_embed (see CMakeLists.txt).
const std::vector<std::pair<std::string_view, std::string_view>>& EmbeddedWebFiles();

namespace {

struct Asset {
  std::string_view body;
  std::string content_type;
  std::string etag;
};

std::string ContentType(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  if (ext == "html") {
    return "text/html; charset=utf-8";
  }
  if (ext == "css") {
    return "text/css; charset=utf-8";
  }
  if (ext == "js" || ext == "mjs") {
    return "text/javascript; charset=utf-8";  // RFC 9239
  }
  if (ext == "svg") {
    return "image/svg+xml";
  }
  if (ext == "png") {
    return "image/png";
  }
  return "application/octet-stream";
}

const std::map<std::string, Asset, std::less<>>& Assets() {
  static const std::map<std::string, Asset, std::less<>> kAssets = [] {
    std::map<std::string, Asset, std::less<>> assets;
    for (const auto& [name, body] : EmbeddedWebFiles()) {
      // Strong validator from the content (RFC 9110 8.8.3): changes exactly when the file does.
      assets[std::string(name)] =
          Asset{body, ContentType(name), "\"" + crypto::Sha256Hex(body).substr(0, 32) + "\""};
    }
    return assets;
  }();
  return kAssets;
}

http::Response WithSecurityHeaders(http::Response response) {
  response.WithHeader("Content-Security-Policy", std::string(kContentSecurityPolicy))
      .WithHeader("X-Content-Type-Options", "nosniff")
      .WithHeader("Referrer-Policy", "same-origin")
      .WithHeader("X-Frame-Options", "DENY");
  return response;
}

http::Response Serve(const http::Request& request, std::string_view name) {
  const auto& assets = Assets();
  const auto found = assets.find(name);
  if (found == assets.end()) {
    http::Response missing;
    missing.status = 404;
    missing.body = "Not found";
    missing.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
    return WithSecurityHeaders(std::move(missing));
  }
  const Asset& asset = found->second;
  http::Response response;
  // no-cache = revalidate every time: file names carry no hash, so an upgraded binary's assets
  // must replace cached ones at once; an unchanged file costs a 304 without a body.
  response.headers.push_back({"Cache-Control", "no-cache"});
  response.headers.push_back({"ETag", asset.etag});
  if (request.Header("if-none-match") == asset.etag) {
    response.status = 304;
    return WithSecurityHeaders(std::move(response));
  }
  response.status = 200;
  response.headers.push_back({"Content-Type", asset.content_type});
  response.body = std::string(asset.body);
  return WithSecurityHeaders(std::move(response));
}

}  // namespace

void AddWebRoutes(http::Router& router) {
  router.Add("GET", "/", [](http::Request& request) { return Serve(request, "index.html"); });
  // The router decodes {file} to one segment that is never "." or ".." and never contains '/',
  // and only embedded names exist: nothing outside web/ can be named.
  router.Add("GET", "/assets/{file}",
             [](http::Request& request) { return Serve(request, request.PathParam("file")); });
}

}  // namespace keybridge::web
