// `keybridge keys rotate`: adds a data-encryption key and re-seals every stored secret under it.
// `keybridge keys retire KID`: removes a key nothing stored needs any more. `keybridge keys list`.
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/commands/store.h"
#include "storage/key_rotation.h"

namespace keybridge::app {
namespace {

struct KeysState {
  StoreOptions store;
  std::string key_id;
};

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
            << " secrets (" << report->already_current << " were already current) in "
            << report->passes
            << " passes; older keys can be removed with `keybridge keys retire`\n";
  return 0;
}

int Retire(const KeysState& state) {
  auto opened = OpenStoreOrThrow(state.store);
  const core::Status retired = storage::RetireKey(*opened->store, *opened->keys, state.key_id);
  if (!retired.ok()) {
    std::cerr << "error: " << retired.error().message << "\n";
    return 1;
  }
  std::cerr << "key " << state.key_id << " retired; active key is " << opened->keys->ActiveKeyId()
            << "\n";
  return 0;
}

int List(const StoreOptions& options) {
  auto opened = OpenStoreOrThrow(options);
  auto counts = storage::CountSealedValues(*opened->store->database);
  if (!counts.ok()) {
    std::cerr << "error: " << counts.error().message << "\n";
    return 1;
  }
  std::map<std::string, std::int64_t> values_by_key;
  for (const storage::SealedCount& count : *counts) {
    values_by_key[count.key_id] += count.values;
  }
  const std::vector<std::string> ids = opened->keys->KeyIds();
  std::cout << "KEY\tACTIVE\tVALUES\n";
  for (const std::string& id : ids) {
    const auto found = values_by_key.find(id);
    std::cout << id << "\t" << (id == ids.back() ? "yes" : "no") << "\t"
              << (found == values_by_key.end() ? 0 : found->second) << "\n";
    if (found != values_by_key.end()) {
      values_by_key.erase(found);
    }
  }
  // Values no key of the file can open: an operator should know before anything else.
  for (const auto& [id, values] : values_by_key) {
    std::cout << id << "\tmissing\t" << values << "\n";
  }
  return values_by_key.empty() ? 0 : 1;
}

}  // namespace

Command AddKeysCommand(CLI::App& cli) {
  auto state = std::make_shared<KeysState>();
  auto* keys = cli.add_subcommand("keys", "Manage data-encryption keys");
  keys->require_subcommand(1);
  auto* keys_rotate = keys->add_subcommand(
      "rotate", "Add a new key and re-encrypt every stored secret under it (safe while serving)");
  AddStoreOptions(*keys_rotate, state->store);
  auto* keys_retire = keys->add_subcommand(
      "retire", "Remove an old key from the key file once no stored secret is sealed with it");
  keys_retire->add_option("key_id", state->key_id, "Key id as shown by `keys list`")->required();
  AddStoreOptions(*keys_retire, state->store);
  auto* keys_list = keys->add_subcommand(
      "list", "List the key ids, which is active and how many stored secrets each seals");
  AddStoreOptions(*keys_list, state->store);
  return {keys, [state, keys_rotate, keys_retire] {
            if (keys_rotate->parsed()) {
              return Rotate(state->store);
            }
            if (keys_retire->parsed()) {
              return Retire(*state);
            }
            return List(state->store);
          }};
}

}  // namespace keybridge::app
