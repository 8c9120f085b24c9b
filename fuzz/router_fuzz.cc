// http::Router (path matching and percent-decoding of {params}) and core::PercentDecode. First
// byte: method; the rest: the request path. Properties:
// - a matched {param} is non-empty, never "." or "..", never contains '/' (RFC 3986 §5.2.4 and
//   the Router's own contract), and round-trips: its PercentEncode'd form, put back in the
//   pattern, matches the same route with the same value;
// - PercentDecode(PercentEncode(x)) == x for any bytes, and decoding an encoded path never fails.
#include <map>
#include <string>
#include <variant>

#include "core/url.h"
#include "fuzz_check.h"
#include "http/router.h"

namespace {

using keybridge::http::Request;
using keybridge::http::Response;
using keybridge::http::Router;

const Router& TheRouter() {
  static const Router kRouter = [] {
    Router router;
    const auto ok = [](Request&) {
      return Response::NoContent();
    };
    router.Add("GET", "/api/data/oauth2/providers", ok);
    router.Add("GET", "/api/data/oauth2/providers/{provider_id}", ok);
    router.Add("PATCH", "/api/data/oauth2/providers/{provider_id}", ok);
    router.Add("GET", "/api/data/oauth2/providers/{provider_id}/authorize", ok);
    router.Add("GET", "/api/data/oauth2/connections/{connection_id}/token", ok);
    router.Add("DELETE", "/api/data/sessions/tokens/{token_id}", ok);
    router.Add("GET", "/api/data/repository", ok);
    router.Add("POST", "/x/{a}/{b}", ok);
    return router;
  }();
  return kRouter;
}

std::string Fill(const std::string& pattern, const std::map<std::string, std::string>& params) {
  std::string out;
  std::size_t at = 0;
  while (at < pattern.size()) {
    const auto open = pattern.find('{', at);
    if (open == std::string::npos) {
      out += pattern.substr(at);
      break;
    }
    const auto close = pattern.find('}', open);
    out += pattern.substr(at, open - at);
    out += keybridge::core::PercentEncode(params.at(pattern.substr(open + 1, close - open - 1)));
    at = close + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static constexpr std::string_view kMethods[] = {"GET", "POST", "PATCH", "DELETE"};
  const std::string_view path = keybridge::fuzz::AsText(data + 1, size - 1);

  const std::string encoded = keybridge::core::PercentEncode(path);
  const auto decoded = keybridge::core::PercentDecode(encoded, false);
  FUZZ_CHECK(decoded && *decoded == path);

  Request request;
  request.method = std::string(kMethods[data[0] % 4]);
  request.path = std::string(path);
  const auto found = TheRouter().Find(request);
  if (found.index() != 0) {
    const Response& answer = std::get<Response>(found);
    FUZZ_CHECK(answer.status == 404 || answer.status == 405);
    return 0;
  }
  for (const auto& [name, value] : request.path_params) {
    FUZZ_CHECK(!value.empty() && value != "." && value != "..");
    FUZZ_CHECK(value.find('/') == std::string::npos);
  }
  Request again;
  again.method = request.method;
  again.path = Fill(request.route_pattern, request.path_params);
  const auto refound = TheRouter().Find(again);
  FUZZ_CHECK(refound.index() == 0
             && std::get<std::size_t>(refound) == std::get<std::size_t>(found));
  FUZZ_CHECK(again.path_params == request.path_params);
  return 0;
}
