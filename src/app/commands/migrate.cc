// `keybridge migrate`: applies the database schema migrations and exits.
#include <iostream>
#include <memory>

#include "app/commands/commands.h"
#include "app/commands/store.h"

namespace keybridge::app {

Command AddMigrateCommand(CLI::App& cli) {
  auto options = std::make_shared<StoreOptions>();
  auto* migrate = cli.add_subcommand("migrate", "Apply database schema migrations and exit");
  AddStoreOptions(*migrate, *options);
  return {migrate, [options] {
            OpenStoreOrThrow(*options);  // OpenStore migrates
            std::cerr << "database is up to date\n";
            return 0;
          }};
}

}  // namespace keybridge::app
