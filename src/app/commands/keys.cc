// `keybridge keys rotate`: adds a data-encryption key and re-seals every stored secret under it.
// `keybridge keys retire KID`: removes a key nothing stored needs any more. `keybridge keys list`.
// `keys stage`, `keys activate KID`, `keys reencrypt`: the same rotation in steps, for replicas
// that each hold a copy of the key file (docs/operations.md, "Rotating the data-encryption key").
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

int Stage(const StoreOptions& options) {
  auto opened = OpenStoreOrThrow(options);
  auto staged = opened->keys->Stage();
  if (!staged.ok()) {
    std::cerr << "error: " << staged.error().message << "\n";
    return 1;
  }
  std::cout << *staged << "\n";
  std::cerr << "key " << *staged << " staged (known, not active; the active key is still "
            << opened->keys->ActiveKeyId() << "). Give every replica this key file, then run "
            << "`keybridge keys activate " << *staged << "`\n";
  return 0;
}

int Activate(const KeysState& state) {
  auto opened = OpenStoreOrThrow(state.store);
  const core::Status activated = opened->keys->Activate(state.key_id);
  if (!activated.ok()) {
    std::cerr << "error: " << activated.error().message << "\n";
    return 1;
  }
  std::cerr << "key " << state.key_id << " is active. Give every replica this key file, then run "
            << "`keybridge keys reencrypt`\n";
  return 0;
}

int Reencrypt(const StoreOptions& options) {
  auto opened = OpenStoreOrThrow(options);
  auto report = storage::ReencryptSecrets(*opened->store, *opened->keys);
  if (!report.ok()) {
    std::cerr << "error: re-encryption stopped: " << report.error().message
              << "\nRun `keybridge keys reencrypt` again; nothing is lost.\n";
    return 1;
  }
  std::cerr << "re-encrypted " << report->reencrypted << " secrets under the active key "
            << opened->keys->ActiveKeyId() << " (" << report->already_current
            << " were already under it); older keys can be removed with `keybridge keys retire`\n";
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
  auto* keys_stage = keys->add_subcommand(
      "stage",
      "Rotation in steps, for replicas with copies of the key file: add a new key that every "
      "process can open with but none seals with yet; prints its id");
  AddStoreOptions(*keys_stage, state->store);
  auto* keys_activate = keys->add_subcommand(
      "activate",
      "Make a staged key the one new secrets are sealed with (after every replica has it)");
  keys_activate->add_option("key_id", state->key_id, "Key id as printed by `keys stage`")
      ->required();
  AddStoreOptions(*keys_activate, state->store);
  auto* keys_reencrypt = keys->add_subcommand(
      "reencrypt",
      "Re-seal every stored secret under the active key (after every replica has activated it)");
  AddStoreOptions(*keys_reencrypt, state->store);
  return {keys, [state, keys_rotate, keys_retire, keys_stage, keys_activate, keys_reencrypt] {
            if (keys_rotate->parsed()) {
              return Rotate(state->store);
            }
            if (keys_retire->parsed()) {
              return Retire(*state);
            }
            if (keys_stage->parsed()) {
              return Stage(state->store);
            }
            if (keys_activate->parsed()) {
              return Activate(*state);
            }
            if (keys_reencrypt->parsed()) {
              return Reencrypt(state->store);
            }
            return List(state->store);
          }};
}

}  // namespace keybridge::app
