// --database and --key-file, shared by the commands that open the store (migrate, tokens, keys).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "storage/store.h"

namespace keybridge::app {

struct StoreOptions {
  std::string database = "sqlite://./var/keybridge.db";
  std::string key_file = "./var/keybridge.key";
};

void AddStoreOptions(CLI::App& command, StoreOptions& options);

struct OpenedStore {
  crypto::SystemRandom random;
  std::unique_ptr<crypto::KeyRing> keys;
  std::unique_ptr<storage::Store> store;
};

// Opens the key file (creating it on first use) and the database (migrating it); throws
// StartupError naming what failed.
std::unique_ptr<OpenedStore> OpenStoreOrThrow(const StoreOptions& options);

}  // namespace keybridge::app
