// keybridge-bench-issuer: a loopback OpenID issuer for the benchmarks. It serves the discovery
// document and JWKS that `keybridge serve --oidc-issuer` fetches, and mints RS256 user tokens on
// GET /mint?sub=USER[&ttl=SECONDS][&admin=1] so the bench script can act as any seeded user.
// Prints one JSON line {"issuer": ..., "mint_url": ...} on stdout, serves until SIGTERM/SIGINT.
// The keys live only in this process's memory. Benchmark tool: anyone on loopback can mint.
#include <pthread.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "http/server.h"
#include "support/test_jwt_issuer.h"

int main() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<keybridge::testing::TestJwtIssuer> issuer;
  keybridge::http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.worker_threads = 2;
  options.log_requests = false;
  keybridge::http::Server server(options, [&issuer](keybridge::http::Request& request) {
    const std::string prefix = "/realms/bench";
    if (request.path == prefix + "/.well-known/openid-configuration") {
      return keybridge::http::Response::Json(200, issuer->DiscoveryJson(issuer->JwksUrl()));
    }
    if (request.path == prefix + "/protocol/openid-connect/certs") {
      return keybridge::http::Response::Json(200, issuer->JwksJson());
    }
    if (request.path == "/mint") {
      const std::string sub = request.Query("sub").value_or("");
      if (sub.empty()) {
        return keybridge::http::Response::Json(400, R"({"error":"sub is required"})");
      }
      const std::string ttl_text = request.Query("ttl").value_or("3600");
      std::int64_t ttl = 3600;
      std::from_chars(ttl_text.data(), ttl_text.data() + ttl_text.size(), ttl);
      const auto now = std::chrono::system_clock::now();
      std::vector<std::string> roles;
      if (request.Query("admin").value_or("") == "1") {
        roles.emplace_back("renku-admin");
      }
      nlohmann::json claims = issuer->DefaultClaims(sub, roles, now);
      claims["exp"] =
          std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() + ttl;
      keybridge::http::Response response;
      response.status = 200;
      response.headers.push_back({"Content-Type", "text/plain"});
      response.body = issuer->Mint(claims);
      return response;
    }
    return keybridge::http::Response::Json(404, R"({"error":"not found"})");
  });
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  issuer = std::make_unique<keybridge::testing::TestJwtIssuer>(base + "/realms/bench");
  server.Start();
  std::cout << nlohmann::json{{"issuer", issuer->issuer_url()}, {"mint_url", base + "/mint"}}.dump()
            << std::endl;
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.Stop();
  return 0;
}
