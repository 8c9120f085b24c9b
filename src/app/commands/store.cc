#include "app/commands/store.h"

#include <utility>

#include "core/startup_error.h"

namespace keybridge::app {

void AddStoreOptions(CLI::App& command, StoreOptions& options) {
  command
      .add_option("--database", options.database,
                  "sqlite://PATH or postgresql://USER:PASS@HOST:PORT/DB")
      ->envname("KEYBRIDGE_DATABASE")
      ->capture_default_str();
  command
      .add_option("--key-file", options.key_file,
                  "File with the data-encryption keys (created 0600 on first use)")
      ->envname("KEYBRIDGE_KEY_FILE")
      ->capture_default_str();
}

std::unique_ptr<OpenedStore> OpenStoreOrThrow(const StoreOptions& options) {
  auto opened = std::make_unique<OpenedStore>();
  auto keys = crypto::KeyRing::LoadOrCreate(options.key_file, opened->random);
  if (!keys.ok()) {
    throw StartupError("cannot open the key file " + options.key_file + ": "
                       + keys.error().message);
  }
  opened->keys = std::move(keys).value();
  auto store = storage::OpenStore(options.database, *opened->keys);
  if (!store.ok()) {
    throw StartupError("cannot open the database: " + store.error().message);
  }
  opened->store = std::move(store).value();
  return opened;
}

}  // namespace keybridge::app
