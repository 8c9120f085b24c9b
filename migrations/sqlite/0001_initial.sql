-- 0001: providers (Renku's oauth2_clients) and local API tokens. Same meaning as
-- postgres/0001_initial.sql. Timestamps are unix seconds, booleans 0/1, client_secret a
-- KeyRing-sealed string ("kb1.<key id>.<...>"), never plaintext.

CREATE TABLE oauth2_clients (
  id VARCHAR(99) NOT NULL PRIMARY KEY,
  kind TEXT NOT NULL,
  app_slug TEXT NOT NULL DEFAULT '',
  client_id TEXT NOT NULL,
  client_secret TEXT NULL,
  display_name TEXT NOT NULL,
  scope TEXT NOT NULL,
  url TEXT NOT NULL,
  use_pkce INTEGER NOT NULL DEFAULT 0 CHECK (use_pkce IN (0, 1)),
  image_registry_url TEXT NULL,
  oidc_issuer_url TEXT NULL,
  created_by_id TEXT NOT NULL,
  creation_date BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NULL,
  revoked_at BIGINT NULL
);

CREATE INDEX ix_api_tokens_created_at ON api_tokens (created_at, id);
