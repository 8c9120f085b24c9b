// FakeGitHub's REST API for user tokens: GET /user, /user/installations,
// /user/installations/{id}/repositories and /repos/{owner}/{repo}.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "crypto/hash.h"
#include "fakes/fake_github.h"
#include "fakes/fake_github_wire.h"

namespace keybridge::fakes {

using namespace github_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

http::Response FakeGitHub::User(const http::Request& /*request*/, const TokenRecord& token) {
  const FakeUser& user = token.user;
  Json body;
  body["login"] = user.username;
  body["id"] = user.id;
  body["node_id"] = "U_kgDO" + std::to_string(user.id);
  body["avatar_url"] = "https://avatars.githubusercontent.com/u/" + std::to_string(user.id);
  body["gravatar_id"] = "";
  body["url"] = ApiBaseUrl() + "/users/" + user.username;
  body["html_url"] = user.web_url.empty() ? BaseUrl() + "/" + user.username : user.web_url;
  body["type"] = "User";
  body["site_admin"] = false;
  body["name"] = user.name;
  body["company"] = nullptr;
  body["blog"] = "";
  body["location"] = nullptr;
  body["email"] = user.email.empty() ? Json(nullptr) : Json(user.email);
  body["hireable"] = nullptr;
  body["bio"] = nullptr;
  body["public_repos"] = 0;
  body["followers"] = 0;
  body["following"] = 0;
  body["created_at"] = "2020-01-01T00:00:00Z";
  body["updated_at"] = "2020-01-01T00:00:00Z";
  return JsonResponse(200, body);
}

bool FakeGitHub::InstallationVisibleLocked(const GitHubInstallation& installation,
                                           std::int64_t user_id) const {
  if (installation.account_type == "User" && installation.account_id == user_id) {
    return true;
  }
  return std::find(installation.user_ids.begin(), installation.user_ids.end(), user_id)
         != installation.user_ids.end();
}

bool FakeGitHub::RepositoryVisibleLocked(const GitHubRepository& repository,
                                         std::int64_t user_id) const {
  if (repository.visibility == "public") {
    return true;
  }
  if (user_id == 0 || repository.installation_id == 0
      || !repository.collaborators.contains(user_id)) {
    return false;
  }
  // A user token reaches a private repository only through an installation of this App.
  return std::any_of(installations_.begin(), installations_.end(), [&](const auto& installation) {
    return installation.id == repository.installation_id && !installation.suspended;
  });
}

namespace {

Json InstallationJson(const GitHubInstallation& installation, const std::string& web,
                      const std::string& api, std::int64_t app_id, const std::string& app_slug) {
  Json account;
  account["login"] = installation.account_login;
  account["id"] = installation.account_id;
  account["type"] = installation.account_type;
  account["site_admin"] = false;
  account["html_url"] = web + "/" + installation.account_login;
  Json permissions = Json::object();
  for (const auto& [name, level] : installation.permissions) {
    permissions[name] = level;
  }
  const std::string id = std::to_string(installation.id);
  Json body;
  body["id"] = installation.id;
  body["account"] = account;
  body["repository_selection"] = installation.repository_selection;
  body["access_tokens_url"] = api + "/app/installations/" + id + "/access_tokens";
  body["repositories_url"] = api + "/installation/repositories";
  body["html_url"] =
      installation.account_type == "Organization"
          ? web + "/organizations/" + installation.account_login + "/settings/installations/" + id
          : web + "/settings/installations/" + id;
  body["app_id"] = app_id;
  body["app_slug"] = app_slug;
  body["target_id"] = installation.account_id;
  body["target_type"] = installation.account_type;
  body["permissions"] = permissions;
  body["events"] = Json::array();
  body["created_at"] = "2024-01-01T00:00:00Z";
  body["updated_at"] = "2024-01-01T00:00:00Z";
  body["single_file_name"] = nullptr;
  body["suspended_by"] =
      installation.suspended ? Json{{"login", installation.account_login}} : Json(nullptr);
  body["suspended_at"] = installation.suspended ? Json("2024-06-01T00:00:00Z") : Json(nullptr);
  return body;
}

}  // namespace

http::Response FakeGitHub::Installations(const http::Request& request, const TokenRecord& token) {
  std::vector<const GitHubInstallation*> visible;
  for (const auto& installation : installations_) {
    if (InstallationVisibleLocked(installation, token.user.id)) {
      visible.push_back(&installation);
    }
  }
  const Page page = Paginate(request, visible.size(), ApiBaseUrl() + "/user/installations");
  Json list = Json::array();
  for (std::size_t i = page.begin; i < page.end; ++i) {
    list.push_back(InstallationJson(*visible[i], BaseUrl(), ApiBaseUrl(), app_id_, app_slug_));
  }
  Json body;
  body["total_count"] = visible.size();
  body["installations"] = list;
  http::Response response = JsonResponse(200, body);
  if (!page.link.empty()) {
    response.WithHeader("Link", page.link);
  }
  return response;
}

namespace {

Json RepositoryJson(const GitHubRepository& repository, const std::string& web,
                    const std::string& api, const GitHubRepoPermissions* permissions) {
  const std::string& full_name = repository.full_name;
  const std::size_t slash = full_name.find('/');
  const std::string owner = full_name.substr(0, slash);
  const std::string name = slash == std::string::npos ? full_name : full_name.substr(slash + 1);
  Json body;
  body["id"] = repository.id;
  body["node_id"] = "R_kgDO" + std::to_string(repository.id);
  body["name"] = name;
  body["full_name"] = full_name;
  body["private"] = repository.visibility != "public";
  body["owner"] = Json{{"login", owner}, {"html_url", web + "/" + owner}};
  body["html_url"] = web + "/" + full_name;
  body["description"] = nullptr;
  body["fork"] = false;
  body["url"] = api + "/repos/" + full_name;
  body["clone_url"] = web + "/" + full_name + ".git";
  body["visibility"] = repository.visibility;
  body["default_branch"] = repository.default_branch;
  body["archived"] = repository.archived;
  body["disabled"] = false;
  if (permissions != nullptr) {
    body["permissions"] = Json{{"admin", permissions->admin},
                               {"maintain", permissions->maintain},
                               {"push", permissions->push},
                               {"triage", permissions->triage},
                               {"pull", permissions->pull}};
  }
  return body;
}

}  // namespace

http::Response FakeGitHub::InstallationRepositories(const http::Request& request,
                                                    const TokenRecord& token) {
  const std::string id = request.PathParam("installation_id");
  const GitHubInstallation* installation = nullptr;
  for (const auto& candidate : installations_) {
    if (std::to_string(candidate.id) == id && InstallationVisibleLocked(candidate, token.user.id)) {
      installation = &candidate;
    }
  }
  if (installation == nullptr) {
    return RestError(404, "Not Found");
  }
  std::vector<const GitHubRepository*> visible;
  for (const auto& repository : repositories_) {
    if (repository.installation_id == installation->id
        && RepositoryVisibleLocked(repository, token.user.id)) {
      visible.push_back(&repository);
    }
  }
  const Page page = Paginate(request, visible.size(),
                             ApiBaseUrl() + "/user/installations/" + id + "/repositories");
  static const GitHubRepoPermissions kReader;
  Json list = Json::array();
  for (std::size_t i = page.begin; i < page.end; ++i) {
    const auto it = visible[i]->collaborators.find(token.user.id);
    list.push_back(RepositoryJson(*visible[i], BaseUrl(), ApiBaseUrl(),
                                  it == visible[i]->collaborators.end() ? &kReader : &it->second));
  }
  Json body;
  body["total_count"] = visible.size();
  body["repository_selection"] = installation->repository_selection;
  body["repositories"] = list;
  http::Response response = JsonResponse(200, body);
  if (!page.link.empty()) {
    response.WithHeader("Link", page.link);
  }
  return response;
}

http::Response FakeGitHub::Repository(const http::Request& request, const TokenRecord* token) {
  const std::string full_name = request.PathParam("owner") + "/" + request.PathParam("repo");
  const std::int64_t user_id = token == nullptr ? 0 : token->user.id;
  for (const auto& repository : repositories_) {
    if (repository.full_name != full_name || !RepositoryVisibleLocked(repository, user_id)) {
      continue;
    }
    static const GitHubRepoPermissions kReader;
    const GitHubRepoPermissions* permissions = nullptr;
    if (token != nullptr) {
      const auto it = repository.collaborators.find(user_id);
      permissions = it == repository.collaborators.end() ? &kReader : &it->second;
    }
    return JsonResponse(200, RepositoryJson(repository, BaseUrl(), ApiBaseUrl(), permissions));
  }
  // Private repositories the token cannot reach are indistinguishable from missing ones.
  return RestError(404, "Not Found", "https://docs.github.com/rest/repos/repos#get-a-repository");
}

}  // namespace keybridge::fakes
