// DeployCheck: deploy/kubernetes/ and deploy/container/Containerfile held against each other and
// against the real `keybridge serve --help`. Check() returns one message per problem, each naming
// the file, the object and the field, so a failing test says what to fix.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace keybridge::deploy_check {

// The options a `--help` text lists: "--flag" names and "(Env:NAME)" variables.
struct HelpText {
  std::set<std::string> flags;
  std::set<std::string> env;
};
HelpText ParseHelp(std::string_view text);

// What the Containerfile says about the user, the port and the command line (-1 / empty where it
// says nothing).
struct Containerfile {
  int user_uid = -1;  // USER uid:gid
  int user_gid = -1;
  int useradd_uid = -1;   // useradd --uid
  int groupadd_gid = -1;  // groupadd --gid
  int expose = -1;        // EXPOSE
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
};
Containerfile ParseContainerfile(std::string_view text);

// One YAML document of one manifest file.
struct Manifest {
  std::string file;
  YAML::Node doc;
};

struct Inputs {
  std::vector<std::string> yaml_files;  // every *.yaml in deploy/kubernetes, kustomization included
  YAML::Node kustomization;
  std::vector<Manifest> manifests;  // every document of every file but kustomization.yaml
  Containerfile containerfile;
  HelpText global;  // `keybridge --help`: options before the subcommand
  HelpText serve;   // `keybridge serve --help`
};

// Reads deploy/kubernetes/*.yaml and the Containerfile under `source_dir`, and parses the texts
// of `keybridge --help` and `keybridge serve --help`.
Inputs Load(const std::string& source_dir, std::string_view global_help,
            std::string_view serve_help);

// A deep copy (yaml-cpp nodes are shared handles), for tests that break one field.
Inputs Clone(const Inputs& inputs);

// Every problem found; empty when the manifests and the Containerfile agree with each other and
// with the binary.
std::vector<std::string> Check(const Inputs& inputs);

// The first document of kind `kind` named `name` (an undefined node if none).
YAML::Node Find(const Inputs& inputs, std::string_view kind, std::string_view name);

// Reading nodes without ever assigning to one (yaml-cpp's operator= writes through to the
// document): the node at a dotted path ("spec.template.spec"), undefined if a step is missing;
// a scalar's text ("" for anything else); a sequence's items (none for anything else).
YAML::Node Get(const YAML::Node& node, std::string_view path);
std::string Str(const YAML::Node& node);
std::vector<YAML::Node> Seq(const YAML::Node& node);

}  // namespace keybridge::deploy_check
