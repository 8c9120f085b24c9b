#include "gitcredential/git_credential.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "core/url.h"
#include "crypto/hash.h"
#include "gitcredential/access_hint.h"
#include "gitcredential/server_access.h"

namespace keybridge::gitcredential {
namespace {

using nlohmann::json;

// The promise: a token git gets stays valid for at least the next 5 minutes.
constexpr int kMinValidSeconds = 300;
// The server may be refreshing at the provider (its own timeouts are 10 s per call).
constexpr std::chrono::milliseconds kRequestTimeout{60000};
// Rejections older than this are forgotten; git erases and asks again within seconds.
constexpr core::Seconds kRejectionMemory{24 * 3600};
constexpr std::string_view kStateFileName = "git-credential-rejected";

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return text;
}

// "90 s", "10 min": for the wait messages.
std::string Describe(core::Seconds duration) {
  const auto seconds = duration.count();
  if (seconds >= 60 && seconds % 60 == 0) {
    return std::to_string(seconds / 60) + " min";
  }
  return std::to_string(seconds) + " s";
}

// --- Remembered rejections: one line "<unix seconds> <sha256 of password> <remote url>" each.
// Only a digest of the rejected password is kept, never the password.

struct Rejection {
  std::int64_t at = 0;
  std::string password_sha256;
  std::string url;
};

class StateFile {
 public:
  // Opens (creating with mode 0600) and locks the file; a helper that cannot is simply
  // stateless.
  explicit StateFile(const std::string& path) {
    if (path.empty()) {
      return;
    }
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~StateFile() {
    if (fd_ >= 0) {
      ::close(fd_);  // releases the lock
    }
  }
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;
  StateFile(StateFile&&) = delete;
  StateFile& operator=(StateFile&&) = delete;

  std::vector<Rejection> Read(core::TimePoint now) const {
    std::vector<Rejection> entries;
    if (fd_ < 0) {
      return entries;
    }
    std::string text;
    std::array<char, 4096> buffer{};
    if (::lseek(fd_, 0, SEEK_SET) != 0) {
      return entries;
    }
    for (ssize_t n = 0; (n = ::read(fd_, buffer.data(), buffer.size())) > 0;) {
      text.append(buffer.data(), static_cast<std::size_t>(n));
    }
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      Rejection entry;
      // The URL is the rest of the line: a repository path may contain spaces.
      if (fields >> entry.at >> entry.password_sha256 && std::getline(fields >> std::ws, entry.url)
          && core::FromUnixSeconds(entry.at) + kRejectionMemory > now) {
        entries.push_back(std::move(entry));
      }
    }
    return entries;
  }

  void Write(const std::vector<Rejection>& entries) const {
    if (fd_ < 0) {
      return;
    }
    std::string text;
    for (const Rejection& entry : entries) {
      text += std::to_string(entry.at) + " " + entry.password_sha256 + " " + entry.url + "\n";
    }
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
      return;
    }
    std::string_view rest = text;
    while (!rest.empty()) {
      const ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n <= 0) {
        return;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
};

std::optional<std::string> RememberedRejection(const std::string& state_file,
                                               const std::string& url, core::TimePoint now) {
  std::error_code ignored;
  if (state_file.empty() || !std::filesystem::exists(state_file, ignored)) {
    return std::nullopt;
  }
  StateFile file(state_file);
  for (const Rejection& entry : file.Read(now)) {
    if (entry.url == url) {
      return entry.password_sha256;
    }
  }
  return std::nullopt;
}

// Replaces the entry for `url` with `password_sha256`, or removes it when that is nullopt.
void UpdateRejection(const std::string& state_file, const std::string& url,
                     const std::optional<std::string>& password_sha256, core::TimePoint now) {
  std::error_code ignored;
  if (state_file.empty() || (!password_sha256 && !std::filesystem::exists(state_file, ignored))) {
    return;
  }
  StateFile file(state_file);
  std::vector<Rejection> entries = file.Read(now);
  const std::size_t before = entries.size();
  std::erase_if(entries, [&](const Rejection& entry) { return entry.url == url; });
  if (password_sha256) {
    entries.push_back(Rejection{core::ToUnixSeconds(now), *password_sha256, url});
  } else if (entries.size() == before) {
    return;  // nothing remembered for this remote
  }
  file.Write(entries);
}

// --- get

enum class Verdict {
  kAnswered,      // credentials printed
  kNotOurs,       // no integration serves the remote: stay silent
  kNoConnection,  // the user must connect (or reconnect); waitable
  kFailed,        // anything else: print the message, tell git to quit
};

struct Outcome {
  Verdict verdict = Verdict::kFailed;
  std::string line;  // the one line for the user (no trailing newline)
  std::string username;
  std::string password;
  std::optional<std::int64_t> expires_at;
  std::string install_url;  // GitHub Apps
};

std::string StringField(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// A value git reads line by line must not contain a newline or NUL.
bool SafeForGit(std::string_view value) {
  return !value.empty() && value.find_first_of(std::string_view("\n\0", 2)) == std::string::npos;
}

Outcome Interpret(const core::HttpResponse& response) {
  Outcome outcome;
  const json body = json::parse(response.body, nullptr, false);
  if (response.status == 200 && body.is_object()) {
    outcome.username = StringField(body, "username");
    outcome.password = StringField(body, "password");
    outcome.install_url = StringField(body, "install_url");
    if (const auto it = body.find("expires_at"); it != body.end() && it->is_number_integer()) {
      outcome.expires_at = it->get<std::int64_t>();
    }
    if (SafeForGit(outcome.username) && SafeForGit(outcome.password)) {
      outcome.verdict = Verdict::kAnswered;
      return outcome;
    }
    outcome.line = "keybridge: the server answered without a usable user name and token";
    return outcome;
  }
  const std::string message = ServerErrorMessage(response.status, response.body);
  const std::string connect_url = body.is_object() ? StringField(body, "connect_url") : "";
  std::string provider = body.is_object() ? StringField(body, "provider_name") : "";
  if (provider.empty() && body.is_object()) {
    provider = StringField(body, "provider_id");
  }
  if (!connect_url.empty()) {
    outcome.verdict = Verdict::kNoConnection;
    outcome.line = response.status == 404
                       ? "keybridge: no connection to " + provider + " — connect at " + connect_url
                       : "keybridge: the connection to " + provider
                             + " must be renewed — reconnect at " + connect_url;
    return outcome;
  }
  if (response.status == 404) {
    outcome.verdict = Verdict::kNotOurs;
    return outcome;
  }
  if (response.status == 401) {
    outcome.line = "keybridge: the server did not accept KEYBRIDGE_TOKEN: " + message;
    return outcome;
  }
  outcome.line = "keybridge: " + message;
  return outcome;
}

core::HttpRequest CredentialsRequest(const GitCredentialOptions& options, const std::string& url,
                                     const std::optional<std::string>& rejected_sha256) {
  core::HttpRequest request;
  request.method = "GET";
  request.url = options.keybridge_url + "/api/data/git/credentials?url=" + core::PercentEncode(url)
                + "&min_valid_seconds=" + std::to_string(kMinValidSeconds);
  if (rejected_sha256) {
    request.url += "&force_refresh=1&rejected_sha256=" + *rejected_sha256;
  }
  request.headers.push_back({"Authorization", "Bearer " + options.token});
  request.headers.push_back({"Accept", "application/json"});
  request.timeout = kRequestTimeout;
  return request;
}

// A GitHub App's token reaches only the repositories the App is installed for, and GitHub then
// answers "Repository not found" or "Write access to repository not granted", which does not
// say what to do. Ask the repository check and name the install URL on stderr, which git shows.
void WarnIfTheAppCannotReach(const GitCredentialOptions& options, GitCredentialIo& io,
                             const std::string& url) {
  if (const std::string hint =
          AccessHint(io.http, options.keybridge_url, core::Secret(options.token), url);
      !hint.empty()) {
    io.err << "keybridge: " << hint << "\n";
  }
}

int Get(const GitCredentialOptions& options, GitCredentialIo& io, const std::string& url,
        bool path_known) {
  const std::optional<std::string> rejected =
      RememberedRejection(options.state_file, url, io.clock.Now());
  const core::HttpRequest request = CredentialsRequest(options, url, rejected);
  const core::TimePoint deadline = io.clock.Now() + options.wait_timeout;
  bool announced = false;
  while (true) {
    auto response = io.http.Send(request);
    if (!response.ok()) {
      // Not "quit": keybridge may be down while another helper could still answer.
      io.err << "keybridge: cannot reach " << options.keybridge_url << ": "
             << response.error().message << "\n";
      return 1;
    }
    Outcome outcome = Interpret(*response);
    switch (outcome.verdict) {
      case Verdict::kAnswered: {
        const std::string digest = crypto::Sha256Hex(outcome.password);
        if (rejected && *rejected == digest) {
          io.err << "keybridge: the provider rejected this token before and keybridge could not "
                    "replace it; if git fails again, reconnect the service\n";
        } else if (rejected) {
          UpdateRejection(options.state_file, url, std::nullopt, io.clock.Now());
        }
        io.out << "username=" << outcome.username << "\n"
               << "password=" << outcome.password << "\n";
        if (outcome.expires_at) {
          io.out << "password_expiry_utc=" << *outcome.expires_at << "\n";
        }
        io.out.flush();
        if (!outcome.install_url.empty()) {
          WarnIfTheAppCannotReach(options, io, url);
        }
        return 0;
      }
      case Verdict::kNotOurs:
        if (!path_known) {
          io.err << "keybridge: git did not send the repository path; run: git config --global "
                    "credential.useHttpPath true\n";
        }
        return 0;
      case Verdict::kNoConnection:
        if (!options.wait) {
          io.err << outcome.line << "\n";
          io.out << "quit=1\n";
          return 1;
        }
        if (!announced) {
          io.err << outcome.line << " (waiting up to " << Describe(options.wait_timeout) << ")\n";
          io.err.flush();
          announced = true;
        }
        if (io.clock.Now() + options.poll_interval > deadline) {
          io.err << "keybridge: gave up waiting after " << Describe(options.wait_timeout) << "\n";
          io.out << "quit=1\n";
          return 1;
        }
        io.sleep(options.poll_interval);
        continue;
      case Verdict::kFailed:
        io.err << outcome.line << "\n";
        io.out << "quit=1\n";
        return 1;
    }
  }
}

}  // namespace

core::Status LoadGitCredentialEnvironment(const std::function<const char*(const char*)>& getenv,
                                          GitCredentialOptions& options) {
  ServerAccess access;
  if (auto loaded = LoadServerAccess(getenv, access); !loaded.ok()) {
    return loaded;
  }
  options.keybridge_url = std::move(access.keybridge_url);
  options.token = std::move(access.token);
  auto value = [&](const char* name) {
    const char* raw = getenv(name);
    return std::string(TrimWhitespace(raw == nullptr ? "" : raw));
  };
  if (const std::string runtime = value("XDG_RUNTIME_DIR"); !runtime.empty()) {
    options.state_file = (std::filesystem::path(runtime) / "keybridge" / kStateFileName).string();
  } else if (const std::string home = value("HOME"); !home.empty()) {
    options.state_file =
        (std::filesystem::path(home) / ".cache" / "keybridge" / kStateFileName).string();
  }
  return core::OkStatus();
}

std::map<std::string, std::string> ParseGitCredentialInput(std::istream& in) {
  std::map<std::string, std::string> attributes;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      break;
    }
    const std::size_t equals = line.find('=');
    if (equals == std::string::npos || equals == 0) {
      continue;
    }
    std::string key = line.substr(0, equals);
    if (key.ends_with("[]")) {
      continue;
    }
    attributes[std::move(key)] = line.substr(equals + 1);
  }
  if (auto url = attributes.find("url"); url != attributes.end()) {
    if (auto parsed = core::ParseUrl(url->second); parsed.ok()) {
      const bool v6 = parsed->host.find(':') != std::string::npos;
      attributes["protocol"] = parsed->scheme;
      attributes["host"] = (v6 ? "[" + parsed->host + "]" : parsed->host)
                           + (parsed->port != 0 ? ":" + std::to_string(parsed->port) : "");
      if (parsed->path.size() > 1) {
        attributes["path"] = parsed->path.substr(1);
      }
    }
    attributes.erase("url");
  }
  return attributes;
}

std::optional<std::string> RemoteUrl(const std::map<std::string, std::string>& attributes) {
  auto get = [&](const char* key) {
    const auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  };
  const std::string protocol = get("protocol");
  const std::string host = get("host");
  if ((protocol != "https" && protocol != "http") || host.empty()) {
    return std::nullopt;
  }
  std::string path = get("path");
  while (!path.empty() && path.front() == '/') {
    path.erase(0, 1);
  }
  return protocol + "://" + host + (path.empty() ? "" : "/" + path);
}

int RunGitCredential(const GitCredentialOptions& options, GitCredentialIo& io) {
  const std::map<std::string, std::string> attributes = ParseGitCredentialInput(io.in);
  const std::optional<std::string> url = RemoteUrl(attributes);
  if (!url) {
    return 0;  // not an http(s) credential: nothing for us to do
  }
  if (options.operation == "get") {
    return Get(options, io, *url, attributes.contains("path"));
  }
  if (options.operation == "erase") {
    // git erases after the server rejected the password it used: the next get forces a refresh,
    // unless the server has replaced that token by then.
    if (const auto password = attributes.find("password"); password != attributes.end()) {
      UpdateRejection(options.state_file, *url, crypto::Sha256Hex(password->second),
                      io.clock.Now());
    }
    return 0;
  }
  if (options.operation == "store") {
    // git stores after the password worked: nothing to force any more.
    UpdateRejection(options.state_file, *url, std::nullopt, io.clock.Now());
    return 0;
  }
  return 0;  // gitcredentials(7): ignore operations we do not know
}

}  // namespace keybridge::gitcredential
