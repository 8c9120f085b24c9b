// `keybridge docker-credential get|list|store|erase` (and `docker-credential-keybridge`): the
// Docker credential helper (module gitcredential) over libcurl.
#include "gitcredential/docker_credential.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands/client_http.h"
#include "app/commands/commands.h"
#include "net/curl_http_client.h"

namespace keybridge::app {
namespace {

int DockerCredential(const std::string& operation) {
  gitcredential::ServerAccess access;
  std::string problem;
  if (auto loaded = gitcredential::LoadServerAccess(::getenv, access); !loaded.ok()) {
    // Not an error exit of its own: the container tool must hear "not found" and go on without
    // credentials, so the helper still answers get (with the reason on stderr).
    problem = loaded.error().message;
    access = gitcredential::ServerAccess{};
  }
  net::CurlHttpClient http(ClientHelperHttpOptions());
  gitcredential::DockerCredentialIo io{std::cin, std::cout, std::cerr, http};
  return gitcredential::RunDockerCredential(operation, access, problem, io);
}

}  // namespace

Command AddDockerCredentialCommand(CLI::App& cli) {
  auto operation = std::make_shared<std::string>();
  auto* docker_credential = cli.add_subcommand(
      "docker-credential",
      "Docker credential helper (docker, podman, skopeo, buildah): answers with a fresh registry "
      "token from the keybridge server at KEYBRIDGE_URL, using KEYBRIDGE_TOKEN or "
      "KEYBRIDGE_TOKEN_FILE. Installed as docker-credential-keybridge; enable it per registry "
      "with {\"credHelpers\": {\"<registry host>\": \"keybridge\"}} in ~/.docker/config.json "
      "or auth.json");
  docker_credential
      ->add_option("operation", *operation, "get, list, store or erase (the tool appends it)")
      ->required();
  return {docker_credential, [operation] { return DockerCredential(*operation); },
          /*silent=*/true};
}

}  // namespace keybridge::app
