#include <string_view>
#include <vector>

#include "app/cli.h"

int main(int argc, char** argv) {
  // docker, podman and skopeo run `docker-credential-<name> <action>`: under that name (a
  // symlink to this binary) it is `keybridge docker-credential <action>`.
  const std::string_view self = argc > 0 ? argv[0] : "";
  const std::string_view base = self.substr(self.rfind('/') + 1);
  if (base == "docker-credential-keybridge") {
    static char subcommand[] = "docker-credential";
    std::vector<char*> args(argv, argv + argc);
    args.insert(args.begin() + 1, subcommand);
    return keybridge::app::RunCli(static_cast<int>(args.size()), args.data());
  }
  return keybridge::app::RunCli(argc, argv);
}
