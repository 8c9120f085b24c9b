// oauth::ParseRegistryChallenge (a registry's WWW-Authenticate) and ParseManifestResponse (its
// manifest or index). Properties: a parsed challenge, written again with every value quoted and
// escaped, parses to the same scheme, realm, service and scope; a manifest's platforms all name
// an os and an architecture, none twice, and only a 200 is ever found.
#include <algorithm>
#include <string>

#include "fuzz_check.h"
#include "oauth/registry.h"

namespace {

std::string Quoted(const std::string& value) {
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = keybridge::fuzz::AsText(data, size);
  if (const auto challenge = keybridge::oauth::ParseRegistryChallenge(text)) {
    const std::string again = challenge->scheme + " realm=" + Quoted(challenge->realm) + ",service="
                              + Quoted(challenge->service) + ",scope=" + Quoted(challenge->scope);
    const auto reparsed = keybridge::oauth::ParseRegistryChallenge(again);
    FUZZ_CHECK(reparsed && reparsed->scheme == challenge->scheme
               && reparsed->realm == challenge->realm && reparsed->service == challenge->service
               && reparsed->scope == challenge->scope);
  }
  for (const int status : {200, 401}) {
    keybridge::core::HttpResponse response;
    response.status = status;
    response.body = std::string(text);
    response.headers = {{"www-authenticate", std::string(text)}};
    const auto lookup = keybridge::oauth::ParseManifestResponse(response);
    FUZZ_CHECK(lookup.outcome != keybridge::oauth::ManifestOutcome::kFound || status == 200);
    for (std::size_t i = 0; i < lookup.platforms.size(); ++i) {
      FUZZ_CHECK(!lookup.platforms[i].os.empty() && !lookup.platforms[i].architecture.empty());
      FUZZ_CHECK(std::count(lookup.platforms.begin(), lookup.platforms.end(), lookup.platforms[i])
                 == 1);
    }
  }
  return 0;
}
