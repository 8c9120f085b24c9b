// deploy_check.h: reading deploy/ (the manifests, the Containerfile) and the help texts.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "deploy/deploy_check.h"

namespace keybridge::deploy_check {
namespace {

namespace fs = std::filesystem;

const YAML::Node kUndefined(YAML::NodeType::Undefined);

std::vector<std::string> JsonArray(std::string_view text) {
  std::vector<std::string> out;
  for (const YAML::Node& item : Seq(YAML::Load(std::string(text)))) {
    out.push_back(Str(item));
  }
  return out;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

YAML::Node Get(const YAML::Node& node, std::string_view path) {
  if (path.empty()) {
    return node;
  }
  if (!node.IsMap()) {
    return kUndefined;
  }
  const std::size_t dot = path.find('.');
  const YAML::Node child = node[std::string(path.substr(0, dot))];
  if (!child.IsDefined()) {
    return kUndefined;
  }
  return dot == std::string_view::npos ? child : Get(child, path.substr(dot + 1));
}

std::string Str(const YAML::Node& node) {
  return node.IsScalar() ? node.Scalar() : "";
}

std::vector<YAML::Node> Seq(const YAML::Node& node) {
  std::vector<YAML::Node> items;
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      items.push_back(item);
    }
  }
  return items;
}

HelpText ParseHelp(std::string_view text) {
  HelpText help;
  const std::string s(text);
  const std::regex flag(R"(^\s+(?:-\w,)?(--[a-z0-9][a-z0-9-]*))");
  const std::regex env(R"(\(Env:([A-Z0-9_]+)\))");
  std::istringstream lines(s);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_search(line, match, flag)) {
      help.flags.insert(match[1]);
    }
    for (auto it = std::sregex_iterator(line.begin(), line.end(), env);
         it != std::sregex_iterator(); ++it) {
      help.env.insert((*it)[1]);
    }
  }
  return help;
}

Containerfile ParseContainerfile(std::string_view text) {
  Containerfile cf;
  std::string joined;  // continuation lines joined
  std::istringstream lines{std::string(text)};
  std::vector<std::string> instructions;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#")) {
      continue;
    }
    const bool continues = line.ends_with("\\");
    joined += continues ? line.substr(0, line.size() - 1) : line;
    if (!continues) {
      instructions.push_back(joined);
      joined.clear();
    }
  }
  std::smatch m;
  for (const std::string& in : instructions) {
    if (std::regex_match(in, m, std::regex(R"(USER\s+(\d+):(\d+)\s*)"))) {
      cf.user_uid = std::stoi(m[1]);
      cf.user_gid = std::stoi(m[2]);
    } else if (std::regex_match(in, m, std::regex(R"(EXPOSE\s+(\d+)\s*)"))) {
      cf.expose = std::stoi(m[1]);
    } else if (in.starts_with("ENTRYPOINT ")) {
      cf.entrypoint = JsonArray(in.substr(11));
    } else if (in.starts_with("CMD ")) {
      cf.cmd = JsonArray(in.substr(4));
    } else if (in.starts_with("RUN ")) {
      if (std::regex_search(in, m, std::regex(R"(groupadd[^&]*--gid\s+(\d+))"))) {
        cf.groupadd_gid = std::stoi(m[1]);
      }
      if (std::regex_search(in, m, std::regex(R"(useradd[^&]*--uid\s+(\d+))"))) {
        cf.useradd_uid = std::stoi(m[1]);
      }
    }
  }
  return cf;
}

Inputs Load(const std::string& source_dir, std::string_view global_help,
            std::string_view serve_help) {
  Inputs in;
  const fs::path dir = fs::path(source_dir) / "deploy" / "kubernetes";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".yaml") || name.ends_with(".yml")) {
      in.yaml_files.push_back(name);
    }
  }
  std::sort(in.yaml_files.begin(), in.yaml_files.end());
  for (const std::string& name : in.yaml_files) {
    if (name == "kustomization.yaml") {
      in.kustomization.reset(YAML::LoadFile((dir / name).string()));
      continue;
    }
    for (const YAML::Node& doc : YAML::LoadAllFromFile((dir / name).string())) {
      in.manifests.push_back({name, doc});
    }
  }
  in.containerfile =
      ParseContainerfile(Slurp(fs::path(source_dir) / "deploy" / "container" / "Containerfile"));
  in.global = ParseHelp(global_help);
  in.serve = ParseHelp(serve_help);
  return in;
}

Inputs Clone(const Inputs& inputs) {
  Inputs copy = inputs;
  copy.kustomization.reset(YAML::Clone(inputs.kustomization));
  for (Manifest& m : copy.manifests) {
    m.doc.reset(YAML::Clone(m.doc));
  }
  return copy;
}

YAML::Node Find(const Inputs& inputs, std::string_view kind, std::string_view name) {
  for (const Manifest& m : inputs.manifests) {
    if (Str(Get(m.doc, "kind")) == kind && Str(Get(m.doc, "metadata.name")) == name) {
      return m.doc;
    }
  }
  return kUndefined;
}

}  // namespace keybridge::deploy_check
