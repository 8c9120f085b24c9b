// deploy/kubernetes/ and deploy/container/Containerfile agree with each other and with the
// built `keybridge` (deploy_check.h); and every check fails when the field it guards is broken,
// so the test cannot pass by checking nothing.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "deploy/deploy_check.h"

namespace keybridge::deploy_check {
namespace {

struct RunResult {
  int status = -1;     // as pclose() returns it
  std::string output;  // stdout and stderr
};

RunResult RunCommand(const std::string& command) {
  RunResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) {
    result.output.append(buffer.data(), n);
  }
  result.status = ::pclose(pipe);
  return result;
}

std::string Output(const std::string& command) {
  return RunCommand(command).output;
}

// The integrations file of the ConfigMap keybridge-integrations, checked by the real
// `keybridge integrations apply --dry-run` in a scratch directory where every client_secret_file
// it names holds a placeholder (the secrets are the operator's, not in the repository).
RunResult DryRunIntegrations(const Inputs& in) {
  namespace fs = std::filesystem;
  const YAML::Node data = Get(Find(in, "ConfigMap", "keybridge-integrations"), "data");
  const YAML::Node json = data.IsMap() ? data["integrations.json"] : YAML::Node();
  if (!json.IsDefined() || !json.IsScalar()) {
    return {-1, "no data.integrations.json in ConfigMap keybridge-integrations"};
  }
  std::string dir = ::testing::TempDir() + "keybridge-deploy-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    return {-1, "mkdtemp failed"};
  }
  std::ofstream(fs::path(dir) / "integrations.json") << json.Scalar();
  for (const YAML::Node& entry : Seq(Get(YAML::Load(json.Scalar()), "integrations"))) {
    const std::string secret_file = Str(Get(entry, "client_secret_file"));
    if (!secret_file.empty()) {
      const fs::path path = fs::path(dir) / secret_file;
      fs::create_directories(path.parent_path());
      std::ofstream(path) << "placeholder-secret\n";
    }
  }
  RunResult result = RunCommand(std::string(KEYBRIDGE_BINARY_PATH)
                                + " --log-level error integrations apply --dry-run -f " + dir
                                + "/integrations.json --database 'sqlite://:memory:' --key-file "
                                + dir + "/keybridge.key");
  fs::remove_all(dir);
  return result;
}

std::string Joined(const std::vector<std::string>& problems) {
  std::string text;
  for (const std::string& problem : problems) {
    text += "\n  " + problem;
  }
  return text;
}

class DeployTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string binary = KEYBRIDGE_BINARY_PATH;
    global_help_ = new std::string(Output(binary + " --help"));
    serve_help_ = new std::string(Output(binary + " serve --help"));
  }
  static void TearDownTestSuite() {
    delete global_help_;
    delete serve_help_;
  }
  // SetUpTestSuite() has run before any fixture is made.
  DeployTest() : inputs_(Load(KEYBRIDGE_SOURCE_DIR, *global_help_, *serve_help_)) {}

  // A copy of the real inputs with one thing broken by `mutate`; expects a problem containing
  // `expected`.
  void ExpectProblem(const std::function<void(Inputs&)>& mutate, const std::string& expected) {
    Inputs broken = Clone(inputs_);
    mutate(broken);
    const std::vector<std::string> problems = Check(broken);
    EXPECT_TRUE(std::any_of(problems.begin(), problems.end(),
                            [&](const std::string& p) { return p.find(expected) != p.npos; }))
        << "expected a problem containing \"" << expected << "\"; got:" << Joined(problems);
    // The real inputs were not touched through shared nodes.
    EXPECT_TRUE(Check(inputs_).empty());
  }
  YAML::Node Deployment(Inputs& in) { return Find(in, "Deployment", "keybridge"); }
  YAML::Node PodSpec(Inputs& in) { return Deployment(in)["spec"]["template"]["spec"]; }
  YAML::Node Container(Inputs& in) { return PodSpec(in)["containers"][0]; }

  static std::string* global_help_;
  static std::string* serve_help_;
  Inputs inputs_;
};

std::string* DeployTest::global_help_ = nullptr;
std::string* DeployTest::serve_help_ = nullptr;

TEST_F(DeployTest, TheHelpTextsWereRead) {
  EXPECT_TRUE(inputs_.serve.flags.contains("--listen")) << *serve_help_;
  EXPECT_TRUE(inputs_.serve.flags.contains("--integrations-file")) << *serve_help_;
  EXPECT_TRUE(inputs_.serve.env.contains("KEYBRIDGE_DATABASE")) << *serve_help_;
  EXPECT_FALSE(inputs_.serve.flags.contains("--no-such-flag"));
  EXPECT_FALSE(inputs_.serve.flags.contains("--log-level"));  // an option of `keybridge` itself
  EXPECT_TRUE(inputs_.global.flags.contains("--log-level")) << *global_help_;
  EXPECT_TRUE(inputs_.global.env.contains("KEYBRIDGE_LOG_LEVEL")) << *global_help_;
  EXPECT_EQ(inputs_.containerfile.user_uid, 10001);
  EXPECT_EQ(inputs_.containerfile.expose, 8080);
  EXPECT_FALSE(inputs_.manifests.empty());
}

TEST_F(DeployTest, ManifestsAndContainerfileAgreeWithTheBinary) {
  const std::vector<std::string> problems = Check(inputs_);
  EXPECT_TRUE(problems.empty()) << "deploy/ problems:" << Joined(problems);
}

// The Deployment replaced by a snippet, as an operator might write it.
TEST_F(DeployTest, ASnippetWithAnUnknownFlagAndVariableFails) {
  ExpectProblem(
      [](Inputs& in) {
        YAML::Node container = YAML::Load(R"(
          name: keybridge
          args: ["serve", "--listen", "0.0.0.0:8080", "--no-such-flag=1"]
          env: [{name: KEYBRIDGE_NO_SUCH_SETTING, value: "1"}]
        )");
        Find(in, "Deployment", "keybridge")["spec"]["template"]["spec"]["containers"][0] =
            container;
      },
      "deployment.yaml: Deployment keybridge: spec.template.spec.containers[keybridge].args: "
      "flag --no-such-flag is not an option of `keybridge serve`");
  ExpectProblem(
      [](Inputs& in) {
        Find(in, "Deployment", "keybridge")["spec"]["template"]["spec"]["containers"][0]["env"]
            .push_back(YAML::Load("{name: KEYBRIDGE_NO_SUCH_SETTING, value: '1'}"));
      },
      "containers[keybridge].env: KEYBRIDGE_NO_SUCH_SETTING is not an environment variable");
}

TEST_F(DeployTest, GlobalOptionsGoBeforeServe) {
  ExpectProblem(
      [&](Inputs& in) {
        Container(in)["args"] = YAML::Load(R"(["serve", "--log-level", "debug"])");
      },
      "args: flag --log-level is not an option of `keybridge serve`");
  ExpectProblem([&](Inputs& in) { Container(in)["args"] = YAML::Load(R"(["--listen", "x:1"])"); },
                "args: does not run `keybridge serve`");
  ExpectProblem([&](Inputs& in) { Container(in)["command"].push_back("/bin/sh"); },
                "containers[keybridge].command: replaces the image's ENTRYPOINT");
  Inputs fine = Clone(inputs_);
  Container(fine)["args"] =
      YAML::Load(R"(["--log-level", "debug", "serve", "--listen", "0.0.0.0:8080"])");
  EXPECT_TRUE(Check(fine).empty()) << Joined(Check(fine));
}

TEST_F(DeployTest, ContainerfileCmdFlagsAreChecked) {
  ExpectProblem([](Inputs& in) { in.containerfile.cmd.push_back("--no-such-flag"); },
                "Containerfile: CMD: flag --no-such-flag");
  ExpectProblem([](Inputs& in) { in.containerfile.entrypoint = {"/bin/sh"}; },
                "Containerfile: ENTRYPOINT");
}

TEST_F(DeployTest, ProbesUseHealthzAndReadyzOnPortHttp) {
  ExpectProblem(
      [&](Inputs& in) { Container(in)["readinessProbe"]["httpGet"]["path"] = "/healthz"; },
      "containers[keybridge].readinessProbe.httpGet.path: '/healthz', expected /readyz");
  ExpectProblem([&](Inputs& in) { Container(in)["livenessProbe"]["httpGet"]["port"] = 8080; },
                "containers[keybridge].livenessProbe.httpGet.port");
  ExpectProblem([&](Inputs& in) { Container(in).remove("livenessProbe"); },
                "containers[keybridge].livenessProbe: missing");
}

TEST_F(DeployTest, PortsAgreeWithListenAndExpose) {
  ExpectProblem([&](Inputs& in) { Container(in)["ports"][0]["containerPort"] = 9090; },
                "ports[http].containerPort: 9090 is not the port keybridge listens on");
  ExpectProblem([](Inputs& in) { in.containerfile.expose = 9090; },
                "ports[http].containerPort: 8080 differs from the Containerfile's EXPOSE 9090");
  ExpectProblem([&](Inputs& in) { Container(in)["ports"][0]["name"] = "web"; },
                "no containerPort named http");
  ExpectProblem(
      [](Inputs& in) { Find(in, "Service", "keybridge")["spec"]["ports"][0]["targetPort"] = 8080; },
      "service.yaml: Service keybridge: spec.ports[http].targetPort: '8080'");
  ExpectProblem(
      [](Inputs& in) {
        Find(in, "NetworkPolicy", "keybridge")["spec"]["ingress"][0]["ports"][0]["port"] = 9090;
      },
      "networkpolicy.yaml: NetworkPolicy keybridge: spec.ingress: no rule admits the port");
}

TEST_F(DeployTest, SelectorsMatchThePodLabels) {
  ExpectProblem(
      [](Inputs& in) {
        Find(in, "Service", "keybridge")["spec"]["selector"]["app.kubernetes.io/name"] = "other";
      },
      "service.yaml: Service keybridge: spec.selector: app.kubernetes.io/name=other");
  ExpectProblem(
      [](Inputs& in) {
        Find(in, "PodDisruptionBudget", "keybridge")["spec"]["selector"]["matchLabels"]["tier"] =
            "web";
      },
      "poddisruptionbudget.yaml: PodDisruptionBudget keybridge: spec.selector.matchLabels: "
      "tier=web");
  ExpectProblem(
      [](Inputs& in) { Find(in, "PodDisruptionBudget", "keybridge")["spec"]["minAvailable"] = 0; },
      "spec.minAvailable: expected 1");
  ExpectProblem(
      [&](Inputs& in) {
        Deployment(in)["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 1;
      },
      "Deployment keybridge: spec.strategy.rollingUpdate");
}

TEST_F(DeployTest, SecurityContextMatchesTheImage) {
  ExpectProblem([&](Inputs& in) { PodSpec(in)["securityContext"]["runAsUser"] = 1000; },
                "containers[keybridge].securityContext.runAsUser: '1000' is not the "
                "Containerfile's USER uid 10001");
  ExpectProblem([](Inputs& in) { in.containerfile.user_gid = 20; },
                "containers[keybridge].securityContext.runAsGroup");
  ExpectProblem([](Inputs& in) { in.containerfile.useradd_uid = 1000; },
                "Containerfile: USER 10001:10001 must be the uid of useradd --uid (1000)");
  ExpectProblem(
      [&](Inputs& in) { Container(in)["securityContext"]["readOnlyRootFilesystem"] = false; },
      "containers[keybridge].securityContext.readOnlyRootFilesystem: must be true");
  ExpectProblem(
      [&](Inputs& in) {
        PodSpec(in)["initContainers"][0]["securityContext"].remove("capabilities");
      },
      "initContainers[key-file].securityContext.capabilities.drop: must contain ALL");
  ExpectProblem(
      [&](Inputs& in) { PodSpec(in)["securityContext"]["seccompProfile"]["type"] = "Unconfined"; },
      "securityContext.seccompProfile.type: must be RuntimeDefault");
  ExpectProblem([&](Inputs& in) { Container(in)["resources"].remove("limits"); },
                "containers[keybridge].resources.limits.memory: missing");
}

TEST_F(DeployTest, FilesKeybridgeReadsLieUnderMounts) {
  ExpectProblem(
      [&](Inputs& in) {
        for (YAML::Node var : Container(in)["env"]) {
          if (var["name"].as<std::string>() == "KEYBRIDGE_KEY_FILE") {
            var["value"] = "/etc/elsewhere/keybridge.key";
          }
        }
      },
      "/etc/elsewhere/keybridge.key is not under any volumeMount");
  ExpectProblem([&](Inputs& in) { Container(in)["volumeMounts"][0]["name"] = "nosuch"; },
                "containers[keybridge].volumeMounts: volume 'nosuch' is not in");
  ExpectProblem(
      [](Inputs& in) {
        YAML::Node map = Find(in, "ConfigMap", "keybridge-integrations");
        auto text = map["data"]["integrations.json"].as<std::string>();
        text.replace(text.find("client-secrets/gitlab"), 21, "client-secrets/github");
        map["data"]["integrations.json"] = text;
      },
      "integration gitlab client_secret_file: /etc/keybridge/integrations/client-secrets/github "
      "is under mount /etc/keybridge/integrations but volume integrations has no item");
  ExpectProblem(
      [&](Inputs& in) { Container(in)["env"][0]["valueFrom"]["secretKeyRef"]["key"] = "uri"; },
      "Secret keybridge-database has no key 'uri'");
}

TEST_F(DeployTest, KustomizationListsExactlyTheManifests) {
  ExpectProblem(
      [](Inputs& in) {
        YAML::Node kept;
        for (const YAML::Node& r : in.kustomization["resources"]) {
          if (r.as<std::string>() != "service.yaml") {
            kept.push_back(r.as<std::string>());
          }
        }
        in.kustomization["resources"] = kept;
      },
      "kustomization.yaml: resources: service.yaml is not listed");
  ExpectProblem([](Inputs& in) { in.kustomization["resources"].push_back("missing.yaml"); },
                "kustomization.yaml: resources: missing.yaml does not exist");
  ExpectProblem([](Inputs& in) { in.kustomization["resources"].push_back("secrets.example.yaml"); },
                "secrets.example.yaml holds placeholders and must not be applied");
}

TEST_F(DeployTest, TheIntegrationsConfigMapIsAnIntegrationsFileKeybridgeAccepts) {
  const RunResult ok = DryRunIntegrations(inputs_);
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("create gitlab"), std::string::npos) << ok.output;

  Inputs broken = Clone(inputs_);
  YAML::Node map = Find(broken, "ConfigMap", "keybridge-integrations");
  auto text = map["data"]["integrations.json"].as<std::string>();
  text.replace(text.find("\"kind\""), 0, "\"no_such_field\": true, ");
  map["data"]["integrations.json"] = text;
  const RunResult refused = DryRunIntegrations(broken);
  EXPECT_NE(refused.status, 0) << refused.output;
  EXPECT_NE(refused.output.find("no_such_field"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace keybridge::deploy_check
