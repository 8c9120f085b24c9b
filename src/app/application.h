// Application: the composition root. The only code that names concrete adapters (SQLite or
// PostgreSQL store, curl client, OpenSSL random, Beast server) and wires them into services and
// routes. Owns every object's lifetime.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "app/config.h"

namespace keybridge::app {

class Application {
 public:
  // Opens the key file (creating it on first start), the database (running migrations), and
  // binds the listen address. Throws StartupError naming what is wrong.
  explicit Application(ServeConfig config);
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  // Starts serving on background threads.
  void Start();
  // Embedded default (no identity issuer): until an administrator has signed in once, writes a
  // single-use administrator sign-in link to AdminSignInLinkPath(key_file) (0600) and prints one
  // line saying where to `out`. `keybridge serve` calls it with stdout after its ready line.
  void AnnounceAdminSignInLink(std::ostream& out);
  // Stops serving; idempotent.
  void Stop();
  // The bound port (useful with --listen 127.0.0.1:0).
  std::uint16_t port() const;
  const ServeConfig& config() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keybridge::app
