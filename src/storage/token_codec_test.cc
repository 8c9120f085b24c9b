#include "storage/token_codec.h"

#include <gtest/gtest.h>

namespace keybridge::storage {
namespace {

TEST(TokenCodec, RoundTripsEveryField) {
  core::TokenSet t;
  t.access_token = core::Secret("a");
  t.token_type = "Bearer";
  t.refresh_token = core::Secret("r");
  t.scope = "api read_user";
  t.expires_at = core::FromUnixSeconds(1700007200);
  t.expires_in = 7200;
  t.refresh_token_expires_at = core::FromUnixSeconds(1715897600);
  t.id_token = core::Secret("eyJ");
  t.obtained_at = core::FromUnixSeconds(1700000000);
  t.extra_fields_json = R"({"created_at":1607635748,"user":{"id":"42"}})";

  auto back = DecodeTokenSet(EncodeTokenSet(t));

  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->access_token, t.access_token);
  EXPECT_EQ(back->token_type, "Bearer");
  EXPECT_EQ(back->refresh_token, t.refresh_token);
  EXPECT_EQ(back->scope, t.scope);
  EXPECT_EQ(back->expires_at, t.expires_at);
  EXPECT_EQ(back->expires_in, t.expires_in);
  EXPECT_EQ(back->refresh_token_expires_at, t.refresh_token_expires_at);
  EXPECT_EQ(back->id_token, t.id_token);
  EXPECT_EQ(back->obtained_at, t.obtained_at);
  EXPECT_EQ(back->extra_fields_json, t.extra_fields_json);
}

TEST(TokenCodec, KeepsAbsentOptionalsAbsent) {
  core::TokenSet t;
  t.access_token = core::Secret("a");

  auto back = DecodeTokenSet(EncodeTokenSet(t));

  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->refresh_token.has_value());
  EXPECT_FALSE(back->expires_at.has_value());
  EXPECT_FALSE(back->id_token.has_value());
}

TEST(TokenCodec, RejectsGarbage) {
  EXPECT_FALSE(DecodeTokenSet("not json").ok());
  EXPECT_FALSE(DecodeTokenSet("{}").ok());
}

}  // namespace
}  // namespace keybridge::storage
