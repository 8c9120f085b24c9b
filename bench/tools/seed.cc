// keybridge-bench-seed: inserts synthetic providers and connections in bulk through keybridge's own
// storage library, so every token set is encoded (storage::EncodeTokenSet) and sealed with the
// KeyRing under the same associated data (storage::kConnectionToken) as in production, and the
// rows are exactly what SqlConnectionRepository writes. Benchmark tool, not for real databases.
//
//   keybridge-bench-seed --database sqlite:///tmp/kb.db --key-file /tmp/kb.key
//       --provider-url http://127.0.0.1:PORT --client-id ID --client-secret SECRET
//       --providers 100 --users-from 0 --users-to 10 --sample 20 --sample-file pairs.tsv
//
// Users are "user-NNNNN"; every user gets one connection per provider ("p000", "p001", ...).
// --sample N writes N (user, provider, connection id) rows spread over the inserted range.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/provider.h"
#include "core/token_set.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "service/ulid.h"
#include "storage/sealed_columns.h"
#include "storage/store.h"
#include "storage/token_codec.h"

namespace {

using keybridge::core::Seconds;
using keybridge::storage::Params;

struct Flags {
  std::string database;
  std::string key_file;
  std::string provider_url;
  std::string client_id;
  std::string client_secret;
  int providers = 100;
  int users_from = 0;
  int users_to = 10;
  std::int64_t expires_in = std::int64_t{365} * 86400;  // negative: already expired (refresh storm)
  std::string tokens_file;  // JSON lines {access_token, refresh_token}, used in order
  int sample = 0;
  std::string sample_file;
  bool create_providers = true;
};

std::string UserId(int index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "user-%05d", index);
  return buffer;
}

std::string ProviderId(int index) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "p%03d", index);
  return buffer;
}

// Prints the error and exits: a seeding tool has nothing to recover.
template <typename T>
T OrDie(keybridge::core::Result<T> result, const char* what) {
  if (!result.ok()) {
    std::cerr << "keybridge-bench-seed: " << what << ": " << result.error().message << "\n";
    std::exit(1);  // NOLINT(concurrency-mt-unsafe): the tool is single-threaded
  }
  return std::move(*result);
}

int Run(const Flags& flags) {
  keybridge::crypto::SystemRandom random;
  const keybridge::core::SystemClock clock;
  auto keys = OrDie(keybridge::crypto::KeyRing::LoadOrCreate(flags.key_file, random), "key file");
  auto store = OrDie(keybridge::storage::OpenStore(flags.database, *keys), "database");
  const auto now = clock.Now();

  if (flags.create_providers) {
    for (int p = 0; p < flags.providers; ++p) {
      keybridge::core::Provider provider;
      provider.id = keybridge::core::ProviderId(ProviderId(p));
      provider.kind = keybridge::core::ProviderKind::kGitLab;
      provider.client_id = flags.client_id;
      provider.client_secret = keybridge::core::Secret(flags.client_secret);
      provider.display_name = "Bench GitLab " + provider.id.value();
      provider.scope = "api";
      provider.url = flags.provider_url;
      provider.use_pkce = true;
      provider.created_by = keybridge::core::UserId("bench");
      provider.created_at = now;
      provider.updated_at = now;
      auto inserted = store->providers->Insert(provider);
      if (!inserted.ok() && inserted.error().code != keybridge::core::ErrorCode::kConflict) {
        std::cerr << "keybridge-bench-seed: provider " << provider.id << ": "
                  << inserted.error().message << "\n";
        return 1;
      }
    }
  }

  std::ifstream tokens;
  if (!flags.tokens_file.empty()) {
    tokens.open(flags.tokens_file);
    if (!tokens) {
      std::cerr << "keybridge-bench-seed: cannot read " << flags.tokens_file << "\n";
      return 1;
    }
  }

  const std::int64_t total =
      std::int64_t{flags.users_to - flags.users_from} * std::int64_t{flags.providers};
  std::int64_t sample_every =
      flags.sample > 0 ? std::max<std::int64_t>(1, total / flags.sample) : 0;
  if (sample_every > 1 && sample_every % flags.providers == 0) {
    --sample_every;  // so the samples spread over providers too, not only over users
  }
  std::ofstream sample_out;
  if (flags.sample > 0) {
    sample_out.open(flags.sample_file, std::ios::trunc);
  }

  constexpr int kColumns = 11;
  // SQLite resolves "$N" parameters through a list searched linearly per name (quadratic in the
  // parameters of one statement), so batches stay small.
  constexpr std::int64_t kBatchRows = 32;
  const auto started = std::chrono::steady_clock::now();
  std::int64_t done = 0;
  std::int64_t sampled = 0;
  std::string sql;
  Params params;
  keybridge::storage::Database* tx = nullptr;  // the transaction's connection while seeding
  const auto flush = [&](std::int64_t rows) -> keybridge::core::Status {
    sql =
        "INSERT INTO oauth2_connections (id, user_id, provider_id, status, status_reason, token, "
        "token_version, expires_at, refresh_due_at, creation_date, updated_at) VALUES ";
    for (std::int64_t r = 0; r < rows; ++r) {
      sql += r == 0 ? "(" : ",(";
      for (int c = 0; c < kColumns; ++c) {
        sql += (c == 0 ? "$" : ",$") + std::to_string(r * kColumns + c + 1);
      }
      sql += ")";
    }
    auto executed = tx->Execute(sql, params);
    params.clear();
    if (!executed.ok()) {
      return executed.error();
    }
    return keybridge::core::Status(keybridge::core::Ok{});
  };

  std::int64_t in_batch = 0;
  auto status = store->database->Transaction([&](keybridge::storage::Database& transaction)
                                                 -> keybridge::core::Status {
    tx = &transaction;
    for (int u = flags.users_from; u < flags.users_to; ++u) {
      const std::string user = UserId(u);
      for (int p = 0; p < flags.providers; ++p) {
        const std::string id = keybridge::service::NewUlid(clock, random);
        keybridge::core::TokenSet token;
        std::string line;
        if (tokens.is_open() && std::getline(tokens, line)) {
          const auto pair = nlohmann::json::parse(line);
          token.access_token = keybridge::core::Secret(pair.at("access_token").get<std::string>());
          token.refresh_token =
              keybridge::core::Secret(pair.at("refresh_token").get<std::string>());
        } else if (tokens.is_open()) {
          return keybridge::core::MakeError(keybridge::core::ErrorCode::kInvalidArgument,
                                            "--tokens-file has fewer lines than connections");
        } else {
          // Synthetic values of GitLab's shape (64 hex characters); never valid anywhere.
          // Synthetic values as long as GitLab's (64 characters); valid nowhere.
          token.access_token = keybridge::core::Secret("bench-a" + std::string(31, '0') + id);
          token.refresh_token = keybridge::core::Secret("bench-r" + std::string(31, '0') + id);
        }
        token.token_type = "Bearer";
        token.scope = "api";
        token.obtained_at = now;
        token.expires_in = flags.expires_in;
        token.expires_at = now + Seconds(flags.expires_in);
        auto sealed = keys->Seal(keybridge::storage::EncodeTokenSet(token),
                                 keybridge::storage::kConnectionToken.AssociatedData(id));
        if (!sealed.ok()) {
          return sealed.error();
        }
        const auto due = keybridge::core::RefreshDueAt(token);
        params.push_back(id);
        params.push_back(user);
        params.push_back(ProviderId(p));
        params.push_back(std::string("connected"));
        params.push_back(std::string());
        params.push_back(std::move(*sealed));
        params.push_back(std::int64_t{1});
        params.push_back(keybridge::core::ToUnixSeconds(*token.expires_at));
        params.push_back(due ? keybridge::storage::SqlValue(keybridge::core::ToUnixSeconds(*due))
                             : keybridge::storage::SqlValue());
        params.push_back(keybridge::core::ToUnixSeconds(now));
        params.push_back(keybridge::core::ToUnixSeconds(now));
        if (sample_every > 0 && done % sample_every == 0 && sampled < flags.sample) {
          sample_out << user << "\t" << ProviderId(p) << "\t" << id << "\n";
          ++sampled;
        }
        ++done;
        if (++in_batch == kBatchRows) {
          KEYBRIDGE_RETURN_IF_ERROR(flush(in_batch));
          in_batch = 0;
        }
      }
    }
    if (in_batch > 0) {
      KEYBRIDGE_RETURN_IF_ERROR(flush(in_batch));
    }
    return keybridge::core::Status(keybridge::core::Ok{});
  });
  if (!status.ok()) {
    std::cerr << "keybridge-bench-seed: " << status.error().message << "\n";
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << "seeded " << done << " connections in " << seconds << " s\n";
  return 0;
}

}  // namespace

// An exception from the libraries ends the tool with its message (std::terminate); nothing to
// clean up.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape): see above
  Flags flags;
  CLI::App app{"Bulk-insert synthetic keybridge providers and connections (benchmarks only)."};
  app.add_option("--database", flags.database, "sqlite://PATH or postgresql://...")->required();
  app.add_option("--key-file", flags.key_file, "keybridge's key file (created if missing)")
      ->required();
  app.add_option("--provider-url", flags.provider_url, "GitLab the providers point to")->required();
  app.add_option("--client-id", flags.client_id)->required();
  app.add_option("--client-secret", flags.client_secret)->required();
  app.add_option("--providers", flags.providers)->capture_default_str();
  app.add_option("--users-from", flags.users_from, "first user index (inclusive)")
      ->capture_default_str();
  app.add_option("--users-to", flags.users_to, "last user index (exclusive)")
      ->capture_default_str();
  app.add_option("--expires-in", flags.expires_in,
                 "access-token lifetime from now in seconds; negative: already expired")
      ->capture_default_str();
  app.add_option("--tokens-file", flags.tokens_file,
                 "real token pairs (keybridge-fake-providers --issue-tokens), one per connection");
  app.add_option("--sample", flags.sample, "write this many (user, provider, id) rows")
      ->capture_default_str();
  app.add_option("--sample-file", flags.sample_file, "where --sample writes (TSV)");
  app.add_flag("!--no-providers", flags.create_providers, "the providers exist already");
  CLI11_PARSE(app, argc, argv);
  return Run(flags);
}
