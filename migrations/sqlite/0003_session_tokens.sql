-- 0003: session tokens ("kbs_..." bearer tokens a user mints for one session). Same meaning as
-- postgres/0003_session_tokens.sql. Only the SHA-256 of a token is stored, so nothing is sealed.
-- connection_ids and repository_urls are the token's scope as JSON arrays of strings. Timestamps
-- are unix seconds; every session token expires.

CREATE TABLE session_tokens (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  session_name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  connection_ids TEXT NOT NULL DEFAULT '[]',
  repository_urls TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NULL
);

CREATE INDEX ix_session_tokens_user_id ON session_tokens (user_id, created_at, id);
