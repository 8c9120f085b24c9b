// deploy_check.h: the checks.
#include "deploy/deploy_check.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <tuple>

namespace keybridge::deploy_check {
namespace {

namespace fs = std::filesystem;

std::optional<int> Int(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<int> Int(const YAML::Node& node) {
  return Int(Str(node));
}

std::string Named(const YAML::Node& doc) {
  return Str(Get(doc, "kind")) + " " + Str(Get(doc, "metadata.name"));
}

std::map<std::string, std::string> StringMap(const YAML::Node& node) {
  std::map<std::string, std::string> out;
  if (node.IsMap()) {
    for (const auto& entry : node) {
      out[entry.first.Scalar()] = Str(entry.second);
    }
  }
  return out;
}

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view part : parts) {
    out += part;
  }
  return out;
}

// True if `path` is `dir` or lies below it.
bool Under(const std::string& path, const std::string& dir) {
  const std::string p = fs::path(path).lexically_normal().string();
  std::string d = fs::path(dir).lexically_normal().string();
  while (d.size() > 1 && d.back() == '/') {
    d.pop_back();
  }
  return p == d || p.starts_with(d + "/");
}

// A command line after the entrypoint: global options, `serve`, then serve's options.
std::vector<std::string> CommandLineProblems(const Inputs& in,
                                             const std::vector<std::string>& argv) {
  std::vector<std::string> problems;
  bool serve = false;
  for (const std::string& arg : argv) {
    const std::string flag = arg.substr(0, arg.find('='));
    if (!serve && arg == "serve") {
      serve = true;
    } else if (flag.starts_with("--") && !(serve ? in.serve : in.global).flags.contains(flag)) {
      problems.push_back("flag " + flag + " is not an option of `keybridge"
                         + (serve ? " serve`" : "` before the subcommand") + " (see its --help)");
    }
  }
  if (!argv.empty() && !serve) {
    problems.push_back("does not run `keybridge serve`");
  }
  return problems;
}

// The Deployment's keybridge container, its settings and mounts, and where to report problems.
class DeploymentCheck {
 public:
  DeploymentCheck(const Inputs& in, const Manifest& deployment, std::vector<std::string>& problems)
      : in_(in), file_(deployment.file), doc_(deployment.doc), problems_(problems) {}

  void Run();

 private:
  void Problem(const std::string& field, const std::string& what) {
    problems_.push_back(file_ + ": " + Named(doc_) + ": " + field + ": " + what);
  }
  YAML::Node PodSpec() const { return Get(doc_, "spec.template.spec"); }
  // A setting as keybridge sees it: the flag in args, else the literal env value.
  std::optional<std::string> Setting(const std::string& flag, const std::string& env) const;
  void CheckCommandLine();
  void CheckPorts();
  void CheckVolumes();
  void CheckFiles();
  void CheckSecurity();
  void CheckReferences();
  bool Provided(const std::string& path, const std::string& field);

  const Inputs& in_;
  std::string file_;
  YAML::Node doc_;
  std::vector<std::string>& problems_;
  YAML::Node container_;
  std::string where_;  // "spec.template.spec.containers[keybridge]"
};

std::optional<std::string> DeploymentCheck::Setting(const std::string& flag,
                                                    const std::string& env) const {
  std::vector<std::string> args;
  for (const YAML::Node& arg : Seq(Get(container_, "args"))) {
    args.push_back(Str(arg));
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag && i + 1 < args.size()) {
      return args[i + 1];
    }
    if (args[i].starts_with(flag + "=")) {
      return args[i].substr(flag.size() + 1);
    }
  }
  for (const YAML::Node& var : Seq(Get(container_, "env"))) {
    if (Str(Get(var, "name")) == env && Get(var, "value").IsDefined()) {
      return Str(Get(var, "value"));
    }
  }
  return std::nullopt;
}

void DeploymentCheck::CheckCommandLine() {
  if (Get(container_, "command").IsDefined()) {
    Problem(where_ + ".command", "replaces the image's ENTRYPOINT; set args only");
  }
  std::vector<std::string> args;
  for (const YAML::Node& arg : Seq(Get(container_, "args"))) {
    args.push_back(Str(arg));
  }
  for (const std::string& problem : CommandLineProblems(in_, args)) {
    Problem(where_ + ".args", problem);
  }
  for (const YAML::Node& var : Seq(Get(container_, "env"))) {
    const std::string name = Str(Get(var, "name"));
    if (name.starts_with("KEYBRIDGE_") && !in_.serve.env.contains(name)
        && !in_.global.env.contains(name)) {
      Problem(where_ + ".env", name + " is not an environment variable of `keybridge serve`");
    }
  }
  for (const std::string& problem : CommandLineProblems(in_, in_.containerfile.cmd)) {
    problems_.push_back("Containerfile: CMD: " + problem);
  }
  if (in_.containerfile.entrypoint != std::vector<std::string>{"/usr/bin/keybridge"}) {
    problems_.push_back("Containerfile: ENTRYPOINT must be [\"/usr/bin/keybridge\"]");
  }
}

void DeploymentCheck::CheckPorts() {
  std::optional<int> http_port;
  for (const YAML::Node& port : Seq(Get(container_, "ports"))) {
    if (Str(Get(port, "name")) == "http") {
      http_port = Int(Get(port, "containerPort"));
    }
  }
  if (!http_port) {
    Problem(where_ + ".ports", "no containerPort named http");
    return;
  }
  std::optional<std::string> listen = Setting("--listen", "KEYBRIDGE_LISTEN");
  std::string listen_from = "--listen/KEYBRIDGE_LISTEN";
  if (!listen && Seq(Get(container_, "args")).empty()) {
    const std::vector<std::string>& cmd = in_.containerfile.cmd;
    const auto at = std::find(cmd.begin(), cmd.end(), "--listen");
    listen = at != cmd.end() && at + 1 != cmd.end() ? std::optional(*(at + 1)) : std::nullopt;
    listen_from = "the Containerfile's CMD --listen";
  }
  const std::optional<int> listen_port =
      listen ? Int(std::string_view(*listen).substr(listen->rfind(':') + 1)) : std::nullopt;
  if (listen_port != http_port) {
    Problem(where_ + ".ports[http].containerPort",
            std::to_string(*http_port) + " is not the port keybridge listens on (" + listen_from
                + " = " + listen.value_or("unset, i.e. 127.0.0.1:8080 unreachable from outside")
                + ")");
  }
  if (in_.containerfile.expose != *http_port) {
    Problem(where_ + ".ports[http].containerPort", std::to_string(*http_port)
                                                       + " differs from the Containerfile's EXPOSE "
                                                       + std::to_string(in_.containerfile.expose));
  }
  const std::map<std::string, std::string> probes{
      {"livenessProbe", "/healthz"}, {"readinessProbe", "/readyz"}, {"startupProbe", "/healthz"}};
  for (const auto& [probe, path] : probes) {
    const YAML::Node get = Get(container_, probe + ".httpGet");
    if (!get.IsDefined()) {
      if (probe != "startupProbe") {
        Problem(where_ + "." + probe, "missing (expected GET " + path + " on port http)");
      }
      continue;
    }
    if (Str(Get(get, "path")) != path) {
      Problem(where_ + "." + probe + ".httpGet.path",
              "'" + Str(Get(get, "path")) + "', expected " + path);
    }
    if (Str(Get(get, "port")) != "http") {
      Problem(where_ + "." + probe + ".httpGet.port",
              "'" + Str(Get(get, "port")) + "', expected the port name http");
    }
  }
}

void DeploymentCheck::CheckVolumes() {
  std::set<std::string> volumes;
  for (const YAML::Node& volume : Seq(Get(PodSpec(), "volumes"))) {
    volumes.insert(Str(Get(volume, "name")));
  }
  for (const char* list : {"initContainers", "containers"}) {
    for (const YAML::Node& c : Seq(Get(PodSpec(), list))) {
      for (const YAML::Node& mount : Seq(Get(c, "volumeMounts"))) {
        if (!volumes.contains(Str(Get(mount, "name")))) {
          Problem(std::string("spec.template.spec.") + list + "[" + Str(Get(c, "name"))
                      + "].volumeMounts",
                  "volume '" + Str(Get(mount, "name")) + "' is not in spec.template.spec.volumes");
        }
      }
    }
  }
}

// True if `path` lies under one of the keybridge container's mounts, and, where the mounted volume
// lists its files (projected, configMap or secret items), is one of them.
bool DeploymentCheck::Provided(const std::string& path, const std::string& field) {
  for (const YAML::Node& mount : Seq(Get(container_, "volumeMounts"))) {
    const std::string dir = Str(Get(mount, "mountPath"));
    if (!Under(path, dir)) {
      continue;
    }
    const std::string relative = fs::path(path).lexically_relative(dir).string();
    for (const YAML::Node& volume : Seq(Get(PodSpec(), "volumes"))) {
      if (Str(Get(volume, "name")) != Str(Get(mount, "name"))) {
        continue;
      }
      std::vector<YAML::Node> sources = Seq(Get(volume, "projected.sources"));
      for (const char* kind : {"configMap", "secret"}) {
        if (Get(volume, kind).IsDefined()) {
          sources.push_back(volume);
        }
      }
      bool listed = false;
      bool any_lists = false;
      for (const YAML::Node& source : sources) {
        for (const char* kind : {"configMap", "secret"}) {
          const YAML::Node items = Get(source, std::string(kind) + ".items");
          any_lists = any_lists || Get(source, kind).IsDefined();
          if (Get(source, kind).IsDefined() && !items.IsDefined()) {
            listed = true;  // every key of the object: cannot tell, accept
          }
          for (const YAML::Node& item : Seq(items)) {
            listed = listed || Str(Get(item, "path")) == relative;
          }
        }
      }
      if (any_lists && !listed) {
        Problem(field, Cat({path, " is under mount ", dir, " but volume ", Str(Get(volume, "name")),
                            " has no item with path ", relative}));
      }
    }
    return true;
  }
  Problem(field, path + " is not under any volumeMount of " + where_);
  return false;
}

void DeploymentCheck::CheckFiles() {
  const std::optional<std::string> key_file = Setting("--key-file", "KEYBRIDGE_KEY_FILE");
  if (!key_file) {
    Problem(where_ + ".env", "no --key-file/KEYBRIDGE_KEY_FILE: each replica would make its own");
  } else {
    Provided(*key_file, where_ + " --key-file/KEYBRIDGE_KEY_FILE");
  }
  const std::optional<std::string> integrations =
      Setting("--integrations-file", "KEYBRIDGE_INTEGRATIONS_FILE");
  if (!integrations
      || !Provided(*integrations, where_ + " --integrations-file/KEYBRIDGE_INTEGRATIONS_FILE")) {
    return;
  }
  // Each client_secret_file of the integrations ConfigMap must be mounted next to it too, and
  // each client_secret_env set on the container.
  for (const Manifest& m : in_.manifests) {
    if (Str(Get(m.doc, "kind")) != "ConfigMap") {
      continue;
    }
    for (const auto& [key, text] : StringMap(Get(m.doc, "data"))) {
      if (key != fs::path(*integrations).filename().string()) {
        continue;
      }
      const YAML::Node parsed = YAML::Load(text);
      for (const YAML::Node& entry : Seq(Get(parsed, "integrations"))) {
        const std::string field = m.file + ": " + Named(m.doc) + ": data." + key + " integration "
                                  + Str(Get(entry, "id"));
        const std::string file = Str(Get(entry, "client_secret_file"));
        if (!file.empty()) {
          Provided((fs::path(*integrations).parent_path() / file).string(),
                   field + " client_secret_file");
        }
        const std::string env = Str(Get(entry, "client_secret_env"));
        const std::vector<YAML::Node> vars = Seq(Get(container_, "env"));
        if (!env.empty() && std::none_of(vars.begin(), vars.end(), [&](const YAML::Node& var) {
              return Str(Get(var, "name")) == env;
            })) {
          Problem(where_ + ".env", Cat({env, " (client_secret_env of ", field, ") is not set"}));
        }
      }
    }
  }
}

void DeploymentCheck::CheckSecurity() {
  const YAML::Node pod = Get(PodSpec(), "securityContext");
  const Containerfile& cf = in_.containerfile;
  for (const char* list : {"initContainers", "containers"}) {
    for (const YAML::Node& c : Seq(Get(PodSpec(), list))) {
      const std::string at =
          std::string("spec.template.spec.") + list + "[" + Str(Get(c, "name")) + "]";
      const YAML::Node own = Get(c, "securityContext");
      auto effective = [&](const std::string& field) {
        const YAML::Node value = Get(own, field);
        return value.IsDefined() ? Str(value) : Str(Get(pod, field));
      };
      if (effective("runAsNonRoot") != "true") {
        Problem(at + ".securityContext.runAsNonRoot", "must be true (here or on the pod)");
      }
      if (Int(effective("runAsUser")) != cf.user_uid) {
        Problem(at + ".securityContext.runAsUser", "'" + effective("runAsUser")
                                                       + "' is not the Containerfile's USER uid "
                                                       + std::to_string(cf.user_uid));
      }
      if (Int(effective("runAsGroup")) != cf.user_gid) {
        Problem(at + ".securityContext.runAsGroup", "'" + effective("runAsGroup")
                                                        + "' is not the Containerfile's USER gid "
                                                        + std::to_string(cf.user_gid));
      }
      if (effective("seccompProfile.type") != "RuntimeDefault") {
        Problem(at + ".securityContext.seccompProfile.type", "must be RuntimeDefault");
      }
      if (Str(Get(own, "readOnlyRootFilesystem")) != "true") {
        Problem(at + ".securityContext.readOnlyRootFilesystem", "must be true");
      }
      if (Str(Get(own, "allowPrivilegeEscalation")) != "false") {
        Problem(at + ".securityContext.allowPrivilegeEscalation", "must be false");
      }
      const std::vector<YAML::Node> drop = Seq(Get(own, "capabilities.drop"));
      if (std::none_of(drop.begin(), drop.end(),
                       [](const YAML::Node& cap) { return Str(cap) == "ALL"; })) {
        Problem(at + ".securityContext.capabilities.drop", "must contain ALL");
      }
      for (const char* limit : {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}) {
        if (!Get(c, std::string("resources.") + limit).IsDefined()) {
          Problem(at + ".resources." + limit, "missing");
        }
      }
    }
  }
  if (Get(pod, "fsGroup").IsDefined() && Int(Get(pod, "fsGroup")) != cf.user_gid) {
    Problem("spec.template.spec.securityContext.fsGroup", "is not the Containerfile's USER gid");
  }
}

// Secrets and ConfigMaps the pod names: defined, with the keys it reads, in the listed manifests
// or in secrets.example.yaml (which documents the Secrets to create).
void DeploymentCheck::CheckReferences() {
  std::map<std::string, std::set<std::string>> wanted;  // "Secret name" -> keys
  for (const char* list : {"initContainers", "containers"}) {
    for (const YAML::Node& c : Seq(Get(PodSpec(), list))) {
      for (const YAML::Node& var : Seq(Get(c, "env"))) {
        const YAML::Node ref = Get(var, "valueFrom.secretKeyRef");
        if (ref.IsDefined() && Str(Get(ref, "optional")) != "true") {
          wanted["Secret " + Str(Get(ref, "name"))].insert(Str(Get(ref, "key")));
        }
      }
    }
  }
  for (const YAML::Node& volume : Seq(Get(PodSpec(), "volumes"))) {
    std::vector<YAML::Node> sources = Seq(Get(volume, "projected.sources"));
    sources.push_back(volume);
    for (const YAML::Node& source : sources) {
      // (kind, field of the volume source, field naming the object)
      for (const auto& [kind, field, name_field] :
           {std::tuple{"Secret", "secret", "secretName"}, std::tuple{"Secret", "secret", "name"},
            std::tuple{"ConfigMap", "configMap", "name"}}) {
        const std::string name = Str(Get(Get(source, field), name_field));
        if (name.empty()) {
          continue;
        }
        std::set<std::string>& keys = wanted[std::string(kind) + " " + name];
        for (const YAML::Node& item : Seq(Get(Get(source, field), "items"))) {
          keys.insert(Str(Get(item, "key")));
        }
      }
    }
  }
  for (const auto& [object, keys] : wanted) {
    const std::string kind = object.substr(0, object.find(' '));
    const YAML::Node found = Find(in_, kind, object.substr(object.find(' ') + 1));
    if (!found.IsDefined()) {
      Problem("spec.template.spec", object + " is not defined in deploy/kubernetes");
      continue;
    }
    std::map<std::string, std::string> data = StringMap(Get(found, "data"));
    data.merge(StringMap(Get(found, "stringData")));
    for (const std::string& key : keys) {
      if (!data.contains(key)) {
        Problem("spec.template.spec", Cat({object, " has no key '", key, "'"}));
      }
    }
  }
}

void DeploymentCheck::Run() {
  for (const YAML::Node& c : Seq(Get(PodSpec(), "containers"))) {
    if (Str(Get(c, "name")) == "keybridge") {
      container_.reset(c);
    }
  }
  where_ = "spec.template.spec.containers[keybridge]";
  if (!container_.IsDefined() || container_.IsNull()) {
    Problem("spec.template.spec.containers", "no container named keybridge");
    return;
  }
  const std::map<std::string, std::string> labels =
      StringMap(Get(doc_, "spec.template.metadata.labels"));
  for (const auto& [key, value] : StringMap(Get(doc_, "spec.selector.matchLabels"))) {
    if (labels.find(key) == labels.end() || labels.at(key) != value) {
      Problem("spec.selector.matchLabels", Cat({key, "=", value, " is not a pod label"}));
    }
  }
  if (Int(Get(doc_, "spec.replicas")) != 2) {
    Problem("spec.replicas", "expected 2");
  }
  if (Str(Get(doc_, "spec.strategy.rollingUpdate.maxUnavailable")) != "0"
      || Str(Get(doc_, "spec.strategy.rollingUpdate.maxSurge")) != "1") {
    Problem("spec.strategy.rollingUpdate", "expected maxUnavailable 0 and maxSurge 1");
  }
  CheckCommandLine();
  CheckPorts();
  CheckVolumes();
  CheckFiles();
  CheckSecurity();
  CheckReferences();
}

// Service, PodDisruptionBudget and NetworkPolicy select the Deployment's pods and use port http.
void CheckSelectors(const Inputs& in, const YAML::Node& deployment,
                    std::vector<std::string>& problems) {
  const std::map<std::string, std::string> labels =
      StringMap(Get(deployment, "spec.template.metadata.labels"));
  // kind -> the field holding its pod selector
  const std::map<std::string, std::string> selects{
      {"Service", "spec.selector"},
      {"PodDisruptionBudget", "spec.selector.matchLabels"},
      {"NetworkPolicy", "spec.podSelector.matchLabels"}};
  for (const auto& select : selects) {
    const std::string& kind = select.first;
    const std::string& field = select.second;
    const auto found = std::find_if(in.manifests.begin(), in.manifests.end(),
                                    [&](const auto& m) { return Str(Get(m.doc, "kind")) == kind; });
    if (found == in.manifests.end()) {
      problems.push_back("deploy/kubernetes: no " + kind);
      continue;
    }
    const std::string at = found->file + ": " + Named(found->doc) + ": ";
    const std::map<std::string, std::string> selector = StringMap(Get(found->doc, field));
    if (selector.empty()) {
      problems.push_back(at + field + ": empty");
    }
    for (const auto& [key, value] : selector) {
      if (labels.find(key) == labels.end() || labels.at(key) != value) {
        problems.push_back(
            Cat({at, field, ": ", key, "=", value, " does not match the Deployment's pod labels"}));
      }
    }
    if (kind == "Service") {
      for (const YAML::Node& port : Seq(Get(found->doc, "spec.ports"))) {
        if (Str(Get(port, "targetPort")) != "http") {
          problems.push_back(at + "spec.ports[" + Str(Get(port, "name")) + "].targetPort: '"
                             + Str(Get(port, "targetPort")) + "', expected the port name http");
        }
      }
    } else if (kind == "PodDisruptionBudget" && Str(Get(found->doc, "spec.minAvailable")) != "1") {
      problems.push_back(at + "spec.minAvailable: expected 1");
    } else if (kind == "NetworkPolicy") {
      bool http = false;
      for (const YAML::Node& rule : Seq(Get(found->doc, "spec.ingress"))) {
        for (const YAML::Node& port : Seq(Get(rule, "ports"))) {
          http = http || Str(Get(port, "port")) == "http";
        }
      }
      if (!http) {
        problems.push_back(at + "spec.ingress: no rule admits the port named http");
      }
    }
  }
}

}  // namespace

std::vector<std::string> Check(const Inputs& in) {
  std::vector<std::string> problems;
  // kustomization.yaml lists every manifest but the *.example.yaml ones, which hold placeholder
  // Secrets that `kubectl apply -k` must never write over the real ones.
  std::set<std::string> listed;
  for (const YAML::Node& resource : Seq(Get(in.kustomization, "resources"))) {
    const std::string name = Str(resource);
    listed.insert(name);
    if (std::find(in.yaml_files.begin(), in.yaml_files.end(), name) == in.yaml_files.end()) {
      problems.push_back("kustomization.yaml: resources: " + name + " does not exist");
    } else if (name.ends_with(".example.yaml")) {
      problems.push_back("kustomization.yaml: resources: " + name
                         + " holds placeholders and must not be applied");
    }
  }
  for (const std::string& name : in.yaml_files) {
    if (name != "kustomization.yaml" && !name.ends_with(".example.yaml")
        && !listed.contains(name)) {
      problems.push_back("kustomization.yaml: resources: " + name + " is not listed");
    }
  }
  const Containerfile& cf = in.containerfile;
  if (cf.user_uid < 0 || cf.user_uid != cf.useradd_uid || cf.user_gid != cf.groupadd_gid) {
    problems.push_back("Containerfile: USER " + std::to_string(cf.user_uid) + ":"
                       + std::to_string(cf.user_gid) + " must be the uid of useradd --uid ("
                       + std::to_string(cf.useradd_uid) + ") and the gid of groupadd --gid ("
                       + std::to_string(cf.groupadd_gid) + ")");
  }
  const auto deployment = std::find_if(in.manifests.begin(), in.manifests.end(), [](const auto& m) {
    return Str(Get(m.doc, "kind")) == "Deployment"
           && Str(Get(m.doc, "metadata.name")) == "keybridge" && !m.file.ends_with(".example.yaml");
  });
  if (deployment == in.manifests.end()) {
    problems.push_back("deploy/kubernetes: no Deployment keybridge");
    return problems;
  }
  DeploymentCheck(in, *deployment, problems).Run();
  CheckSelectors(in, deployment->doc, problems);
  return problems;
}

}  // namespace keybridge::deploy_check
