#include "storage/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

namespace keybridge::storage {
namespace {

TEST(RedactDatabaseUrl, ReplacesUserInfoPassword) {
  EXPECT_EQ(RedactDatabaseUrl("postgresql://kb:s3cret@db.example:5432/keybridge"),
            "postgresql://kb:****@db.example:5432/keybridge");
}

TEST(RedactDatabaseUrl, ReplacesPasswordQueryParameter) {
  EXPECT_EQ(RedactDatabaseUrl("postgres://db/kb?sslmode=require&password=s3cret&user=kb"),
            "postgres://db/kb?sslmode=require&password=****&user=kb");
}

TEST(RedactDatabaseUrl, KeepsUrlsWithoutPassword) {
  EXPECT_EQ(RedactDatabaseUrl("postgresql://kb@db/keybridge"), "postgresql://kb@db/keybridge");
  EXPECT_EQ(RedactDatabaseUrl("sqlite:///var/lib/keybridge/kb.db"),
            "sqlite:///var/lib/keybridge/kb.db");
}

TEST(RedactDatabaseUrl, PasswordContainingAtSignIsFullyHidden) {
  EXPECT_EQ(RedactDatabaseUrl("postgresql://kb:p@ss@db/keybridge"),
            "postgresql://kb:****@db/keybridge");
}

TEST(RedactDatabaseUrl, PasswordContainingSlashIsFullyHidden) {
  EXPECT_EQ(RedactDatabaseUrl("postgresql://kb:pa/ss@db/keybridge?sslmode=require"),
            "postgresql://kb:****@db/keybridge?sslmode=require");
}

TEST(OpenDatabase, RejectsUnknownScheme) {
  auto database = OpenDatabase("mysql://kb:s3cret@db/keybridge");

  ASSERT_FALSE(database.ok());
  EXPECT_EQ(database.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(database.error().message.find("mysql://kb:****@db/keybridge"), std::string::npos);
  EXPECT_EQ(database.error().message.find("s3cret"), std::string::npos);
}

TEST(OpenDatabase, RejectsSqliteUrlWithoutPath) {
  auto database = OpenDatabase("sqlite://");

  ASSERT_FALSE(database.ok());
  EXPECT_EQ(database.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(OpenDatabase, SqliteCreatesParentDirectory) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path()
                                    / ("kb_store_test_" + std::to_string(std::random_device()()));
  const std::filesystem::path file = dir / "nested" / "kb.db";

  auto database = OpenDatabase("sqlite://" + file.string());

  ASSERT_TRUE(database.ok()) << database.error().message << " " << database.error().detail;
  EXPECT_EQ((*database)->dialect(), Dialect::kSqlite);
  EXPECT_TRUE((*database)->Ping().ok());
  EXPECT_TRUE(std::filesystem::exists(file));
  database = core::MakeError(core::ErrorCode::kInternal, "closed");
  std::filesystem::remove_all(dir);
}

TEST(OpenDatabase, UnreachablePostgresIsUnavailableAndNamesUrlWithoutPassword) {
  // Port 1 on loopback refuses connections immediately.
  auto database = OpenDatabase("postgresql://kb:s3cret@127.0.0.1:1/keybridge");

  ASSERT_FALSE(database.ok());
  EXPECT_EQ(database.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(database.error().message.find("postgresql://kb:****@127.0.0.1:1/keybridge"),
            std::string::npos)
      << database.error().message;
  EXPECT_NE(database.error().message.find("Connection refused"), std::string::npos)
      << "at start-up the operator reads why: " << database.error().message;
  EXPECT_EQ(database.error().message.find("s3cret"), std::string::npos);
  EXPECT_EQ(database.error().detail.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::storage
