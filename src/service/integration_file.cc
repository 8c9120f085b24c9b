#include "service/integration_file.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;
using nlohmann::json;

constexpr std::string_view kFileField = "client_secret_file";
constexpr std::string_view kEnvField = "client_secret_env";

// Every field an entry may have: the API's create fields without the secret, plus the reference.
const std::set<std::string, std::less<>>& KnownFields() {
  static const std::set<std::string, std::less<>> fields = {"id",
                                                            "kind",
                                                            "display_name",
                                                            "url",
                                                            "client_id",
                                                            "scope",
                                                            "app_slug",
                                                            "use_pkce",
                                                            "image_registry_url",
                                                            "oidc_issuer_url",
                                                            std::string(kFileField),
                                                            std::string(kEnvField)};
  return fields;
}

core::Error EntryError(std::size_t index, const std::string& id, const std::string& message) {
  std::string where = "integrations file: entry " + std::to_string(index + 1);
  if (!id.empty()) {
    where += " (id '" + id + "')";
  }
  return MakeError(ErrorCode::kInvalidArgument, where + ": " + message);
}

core::Result<std::optional<std::string>> StringField(const json& entry, const char* field,
                                                     bool required) {
  const auto it = entry.find(field);
  if (it == entry.end() || it->is_null()) {
    if (required) {
      return MakeError(ErrorCode::kInvalidArgument, std::string(field) + " is required");
    }
    return std::optional<std::string>();
  }
  if (!it->is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(field) + " must be a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

// The provider ProviderService::Create would store for `fields` (its rules, without the secret).
core::Result<core::Provider> Desired(const ProviderCreate& fields) {
  core::Provider p;
  p.id = core::ProviderId(fields.id);
  p.kind = fields.kind;
  p.app_slug = fields.app_slug;
  p.client_id = fields.client_id;
  p.display_name = fields.display_name;
  p.scope = fields.scope;
  KEYBRIDGE_ASSIGN_OR_RETURN(p.url, core::NormalizeProviderUrl(p.kind, fields.url));
  p.use_pkce = fields.use_pkce.value_or(DefaultPkce(p.kind));
  if (fields.image_registry_url && !fields.image_registry_url->empty()) {
    p.image_registry_url = fields.image_registry_url;
  }
  if (fields.oidc_issuer_url && !fields.oidc_issuer_url->empty()) {
    p.oidc_issuer_url = fields.oidc_issuer_url;
  }
  return p;
}

core::Result<IntegrationFileEntry> ParseEntry(const json& item) {
  if (!item.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "must be an object");
  }
  for (const auto& [key, value] : item.items()) {
    if (!KnownFields().contains(key)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "unknown field '" + key
                           + "' (the client secret is never in the file: use client_secret_file "
                             "or client_secret_env)");
    }
  }
  IntegrationFileEntry entry;
  ProviderCreate& c = entry.fields;
  KEYBRIDGE_ASSIGN_OR_RETURN(auto kind, StringField(item, "kind", true));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.kind, core::ParseProviderKind(*kind));
  for (auto [field, target] :
       {std::pair{"display_name", &c.display_name}, std::pair{"url", &c.url},
        std::pair{"client_id", &c.client_id}, std::pair{"scope", &c.scope}}) {
    KEYBRIDGE_ASSIGN_OR_RETURN(auto value, StringField(item, field, true));
    *target = std::move(*value);
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(auto app_slug, StringField(item, "app_slug", false));
  c.app_slug = app_slug.value_or("");
  KEYBRIDGE_ASSIGN_OR_RETURN(c.image_registry_url, StringField(item, "image_registry_url", false));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.oidc_issuer_url, StringField(item, "oidc_issuer_url", false));
  if (const auto pkce = item.find("use_pkce"); pkce != item.end() && !pkce->is_null()) {
    if (!pkce->is_boolean()) {
      return MakeError(ErrorCode::kInvalidArgument, "use_pkce must be true or false");
    }
    c.use_pkce = pkce->get<bool>();
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(auto file, StringField(item, kFileField.data(), false));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto env, StringField(item, kEnvField.data(), false));
  if (file && env) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "client_secret_file and client_secret_env: give one of them, not both");
  }
  if (file) {
    if (file->empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "client_secret_file must not be empty");
    }
    entry.secret_reference = core::SecretReference{core::SecretReference::Source::kFile, *file};
  } else if (env) {
    const bool valid_name =
        !env->empty() && std::all_of(env->begin(), env->end(), [](unsigned char ch) {
          return std::isalnum(ch) != 0 || ch == '_';
        });
    if (!valid_name) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "client_secret_env must be an environment variable name (A-Z, 0-9, _)");
    }
    entry.secret_reference = core::SecretReference{core::SecretReference::Source::kEnv, *env};
  }
  return entry;
}

std::string Optional(const std::optional<std::string>& value) {
  return value ? *value : std::string("(none)");
}

std::string ReferenceText(const std::optional<core::SecretReference>& ref) {
  if (!ref) {
    return "(none)";
  }
  return std::string(ref->source == core::SecretReference::Source::kFile ? kFileField : kEnvField)
         + " " + ref->value;
}

// The fields of `after` (from the file) that differ from `before` (stored), without the secret.
std::vector<FieldChange> Differences(const core::Provider& before, const core::Provider& after) {
  std::vector<FieldChange> changes;
  const auto compare = [&changes](const char* field, const std::string& b, const std::string& a) {
    if (b != a) {
      changes.push_back({field, b, a});
    }
  };
  compare("kind", std::string(core::ToString(before.kind)),
          std::string(core::ToString(after.kind)));
  compare("display_name", before.display_name, after.display_name);
  compare("url", before.url, after.url);
  compare("client_id", before.client_id, after.client_id);
  compare("scope", before.scope, after.scope);
  compare("app_slug", before.app_slug, after.app_slug);
  compare("use_pkce", before.use_pkce ? "true" : "false", after.use_pkce ? "true" : "false");
  compare("image_registry_url", Optional(before.image_registry_url),
          Optional(after.image_registry_url));
  compare("oidc_issuer_url", Optional(before.oidc_issuer_url), Optional(after.oidc_issuer_url));
  if (!before.managed_by_file) {
    changes.push_back({"managed_by_file", "false", "true"});
  }
  if (before.secret_reference != after.secret_reference) {
    changes.push_back({"secret_reference", ReferenceText(before.secret_reference),
                       ReferenceText(after.secret_reference)});
  }
  return changes;
}

bool SameSecret(const std::optional<core::Secret>& a, const std::optional<core::Secret>& b) {
  if (a.has_value() != b.has_value()) {
    return false;
  }
  return !a || a->Reveal() == b->Reveal();
}

}  // namespace

core::Result<IntegrationFile> ParseIntegrationFile(std::string_view text) {
  json document = json::parse(text, nullptr, false);
  if (document.is_discarded()) {
    return MakeError(ErrorCode::kInvalidArgument, "integrations file: not valid JSON");
  }
  if (!document.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "integrations file: must be an object {\"integrations\": [...]}");
  }
  for (const auto& [key, value] : document.items()) {
    if (key != "integrations") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "integrations file: unknown top-level field '" + key + "'");
    }
  }
  const auto list = document.find("integrations");
  if (list == document.end() || !list->is_array()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "integrations file: \"integrations\" must be an array");
  }
  IntegrationFile file;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    std::string id;
    if (item.is_object() && item.contains("id") && item["id"].is_string()) {
      id = item["id"].get<std::string>();
    } else {
      return EntryError(
          i, "", item.is_object() ? "id is required and must be a string" : "must be an object");
    }
    auto entry = ParseEntry(item);
    if (!entry.ok()) {
      return EntryError(i, id, entry.error().message);
    }
    entry->fields.id = id;
    auto slug = core::SlugifyProviderId(id);
    if (!slug.ok() || slug->value() != id) {
      return EntryError(i, id,
                        "id must already be in its stored (slug) form"
                            + (slug.ok() ? ": use '" + slug->value() + "'" : std::string()));
    }
    if (!ids.insert(id).second) {
      return EntryError(i, id, "id appears twice in the file");
    }
    auto desired = Desired(entry->fields);
    core::Status valid =
        desired.ok() ? core::ValidateProvider(*desired) : core::Status(desired.error());
    if (!valid.ok()) {
      return EntryError(i, id, valid.error().message);
    }
    file.entries.push_back(std::move(entry).value());
  }
  return file;
}

core::Result<IntegrationPlan> PlanIntegrations(const IntegrationFile& file,
                                               const std::vector<core::Provider>& stored,
                                               const SecretResolver& resolve, bool prune) {
  std::map<std::string, const core::Provider*> by_id;
  for (const core::Provider& p : stored) {
    by_id[p.id.value()] = &p;
  }
  IntegrationPlan plan;
  std::set<std::string> listed;
  for (std::size_t i = 0; i < file.entries.size(); ++i) {
    const IntegrationFileEntry& entry = file.entries[i];
    const std::string& id = entry.fields.id;
    listed.insert(id);
    std::optional<core::Secret> secret;
    if (entry.secret_reference) {
      auto resolved = resolve(*entry.secret_reference);
      if (!resolved.ok()) {
        return EntryError(i, id, resolved.error().message);
      }
      if (!resolved->empty()) {
        secret = std::move(resolved).value();
      }
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(core::Provider desired, Desired(entry.fields));
    desired.managed_by_file = true;
    desired.secret_reference = entry.secret_reference;
    PlannedChange change;
    change.id = desired.id;
    change.entry = entry;
    const auto found = by_id.find(id);
    if (found == by_id.end()) {
      change.action = PlannedChange::Action::kCreate;
    } else {
      const core::Provider& before = *found->second;
      change.action = PlannedChange::Action::kUpdate;
      change.changes = Differences(before, desired);
      if (!SameSecret(before.client_secret, secret)) {
        change.changes.push_back({"client_secret", "", ""});
      }
      if (change.changes.empty()) {
        continue;
      }
      const std::vector<std::string> retargeted = ChangedDestinationFields(before, desired);
      if (!retargeted.empty() && !secret) {
        std::string fields;
        for (const auto& f : retargeted) {
          fields += (fields.empty() ? "" : ", ") + f;
        }
        return EntryError(i, id,
                          "changing " + fields
                              + " needs the client secret of the new registration "
                                "(client_secret_file or client_secret_env): the stored one "
                                "would otherwise be sent to the new destination");
      }
    }
    change.secret = std::move(secret);
    plan.changes.push_back(std::move(change));
  }
  if (prune) {
    for (const core::Provider& p : stored) {
      if (!listed.contains(p.id.value())) {
        PlannedChange change;
        change.action = PlannedChange::Action::kDelete;
        change.id = p.id;
        plan.changes.push_back(std::move(change));
      }
    }
  }
  return plan;
}

std::string DescribePlan(const IntegrationPlan& plan) {
  if (plan.empty()) {
    return "no changes\n";
  }
  std::string out;
  for (const PlannedChange& change : plan.changes) {
    switch (change.action) {
      case PlannedChange::Action::kCreate:
        out += "create " + change.id.value() + "\n";
        break;
      case PlannedChange::Action::kDelete:
        out += "delete " + change.id.value() + "\n";
        break;
      case PlannedChange::Action::kUpdate: {
        out += "update " + change.id.value() + ":";
        for (std::size_t i = 0; i < change.changes.size(); ++i) {
          const FieldChange& f = change.changes[i];
          out += (i == 0 ? " " : "; ") + f.field + ": ";
          out += f.field == "client_secret" ? std::string("changed")
                                            : "\"" + f.before + "\" -> \"" + f.after + "\"";
        }
        out += "\n";
        break;
      }
    }
  }
  return out;
}

core::Status ApplyPlan(const IntegrationPlan& plan, ProviderService& providers,
                       const core::Caller& caller, ConnectionInvalidator& invalidator) {
  for (const PlannedChange& change : plan.changes) {
    core::Status done = core::OkStatus();
    const FromIntegrationsFile from_file{change.entry ? change.entry->secret_reference
                                                      : std::nullopt};
    if (change.action == PlannedChange::Action::kDelete) {
      done = providers.Delete(caller, change.id, &invalidator, ChangeOrigin::kIntegrationsFile);
    } else if (change.action == PlannedChange::Action::kCreate) {
      ProviderCreate create = change.entry->fields;
      create.client_secret = change.secret;
      create.from_file = from_file;
      auto created = providers.Create(caller, std::move(create));
      done = created.ok() ? core::OkStatus() : core::Status(created.error());
    } else {
      const ProviderCreate& f = change.entry->fields;
      ProviderPatch patch;
      patch.kind = f.kind;
      patch.app_slug = f.app_slug;
      patch.client_id = f.client_id;
      // "" removes a stored secret the file no longer names.
      patch.client_secret = change.secret ? *change.secret : core::Secret("");
      patch.display_name = f.display_name;
      patch.scope = f.scope;
      patch.url = f.url;
      patch.use_pkce = f.use_pkce.value_or(DefaultPkce(f.kind));
      patch.image_registry_url = f.image_registry_url.value_or("");
      patch.oidc_issuer_url = f.oidc_issuer_url.value_or("");
      patch.from_file = from_file;
      auto updated = providers.Update(caller, change.id, std::move(patch), &invalidator);
      done = updated.ok() ? core::OkStatus() : core::Status(updated.error());
    }
    if (!done.ok()) {
      core::Error error = done.error();
      error.message = "integration '" + change.id.value() + "': " + error.message;
      return error;
    }
  }
  return core::OkStatus();
}

core::Result<IntegrationPlan> ApplyConverging(
    const std::function<core::Result<IntegrationPlan>()>& plan, ProviderService& providers,
    const core::Caller& caller, ConnectionInvalidator& invalidator, int attempts) {
  for (int attempt = 1;; ++attempt) {
    KEYBRIDGE_ASSIGN_OR_RETURN(IntegrationPlan planned, plan());
    const core::Status applied = ApplyPlan(planned, providers, caller, invalidator);
    if (applied.ok()) {
      return planned;
    }
    const core::ErrorCode code = applied.error().code;
    const bool raced = code == core::ErrorCode::kConflict || code == core::ErrorCode::kNotFound;
    if (!raced || attempt >= attempts) {
      return applied.error();
    }
  }
}

std::string SecretPlaceholder(const core::ProviderId& id) {
  std::string name = "KEYBRIDGE_SECRET_";
  for (const char c : id.value()) {
    const auto ch = static_cast<unsigned char>(c);
    name += std::isalnum(ch) != 0 ? static_cast<char>(std::toupper(ch)) : '_';
  }
  return name;
}

std::string FormatIntegrationFile(const std::vector<core::Provider>& providers,
                                  std::vector<std::string>& placeholders) {
  json list = json::array();
  for (const core::Provider& p : providers) {
    json entry = {{"id", p.id.value()},
                  {"kind", std::string(core::ToString(p.kind))},
                  {"display_name", p.display_name},
                  {"url", p.url},
                  {"client_id", p.client_id},
                  {"scope", p.scope},
                  {"app_slug", p.app_slug},
                  {"use_pkce", p.use_pkce}};
    if (p.image_registry_url) {
      entry["image_registry_url"] = *p.image_registry_url;
    }
    if (p.oidc_issuer_url) {
      entry["oidc_issuer_url"] = *p.oidc_issuer_url;
    }
    if (p.secret_reference) {
      const bool file = p.secret_reference->source == core::SecretReference::Source::kFile;
      entry[std::string(file ? kFileField : kEnvField)] = p.secret_reference->value;
    } else if (!p.managed_by_file && p.client_secret) {
      entry[std::string(kEnvField)] = SecretPlaceholder(p.id);
      placeholders.push_back(p.id.value());
    }
    list.push_back(std::move(entry));
  }
  return json{{"integrations", std::move(list)}}.dump(2) + "\n";
}

}  // namespace keybridge::service
