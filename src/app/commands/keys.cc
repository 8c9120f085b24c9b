// `keybridge keys rotate`: adds a data-encryption key and re-seals every stored secret under it.
#include <iostream>
#include <memory>

#include "app/commands/commands.h"
#include "app/commands/store.h"
#include "storage/key_rotation.h"

namespace keybridge::app {
namespace {

int Rotate(const StoreOptions& options) {
  auto opened = OpenStoreOrThrow(options);
  auto new_key = opened->keys->Rotate();
  if (!new_key.ok()) {
    std::cerr << "error: " << new_key.error().message << "\n";
    return 1;
  }
  auto report = storage::ReencryptSecrets(*opened->store, *opened->keys);
  if (!report.ok()) {
    std::cerr << "error: new key " << *new_key
              << " was added but re-encryption stopped: " << report.error().message
              << "\nRun `keybridge keys rotate` again; nothing is lost (old keys stay).\n";
    return 1;
  }
  std::cerr << "active key is now " << *new_key << "; re-encrypted " << report->reencrypted
            << " secrets (" << report->already_current << " were already current)\n";
  return 0;
}

}  // namespace

Command AddKeysCommand(CLI::App& cli) {
  auto options = std::make_shared<StoreOptions>();
  auto* keys = cli.add_subcommand("keys", "Manage data-encryption keys");
  keys->require_subcommand(1);
  auto* keys_rotate = keys->add_subcommand(
      "rotate", "Add a new key and re-encrypt every stored secret under it (safe while serving)");
  AddStoreOptions(*keys_rotate, *options);
  return {keys, [options] {
            return Rotate(*options);
          }};
}

}  // namespace keybridge::app
