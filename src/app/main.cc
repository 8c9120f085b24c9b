#include "app/cli.h"

int main(int argc, char** argv) {
  return keybridge::app::RunCli(argc, argv);
}
