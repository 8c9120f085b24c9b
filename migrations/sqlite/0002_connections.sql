-- 0002: connections (Renku's oauth2_connections) and pending authorization flows. Same meaning
-- as postgres/0002_connections.sql. `token` is the whole token set, KeyRing-sealed; expires_at
-- and refresh_due_at are plaintext copies of non-secret times, for the background refresher.
-- Flows live apart from connections so a reconnect never disturbs a working token.

CREATE TABLE oauth2_connections (
  id VARCHAR(26) NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  client_id VARCHAR(99) NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('pending', 'connected', 'invalid_credentials')),
  status_reason TEXT NOT NULL DEFAULT '',
  token TEXT NULL,
  token_version BIGINT NOT NULL DEFAULT 0,
  expires_at BIGINT NULL,
  refresh_due_at BIGINT NULL,
  creation_date BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT _unique_user_id_client_id_uc UNIQUE (user_id, client_id)
);

CREATE INDEX ix_oauth2_connections_client_id ON oauth2_connections (client_id);
CREATE INDEX ix_oauth2_connections_refresh_due_at ON oauth2_connections (refresh_due_at);

CREATE TABLE oauth2_flows (
  state_hash TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  client_id VARCHAR(99) NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
  connection_id VARCHAR(26) NOT NULL REFERENCES oauth2_connections (id) ON DELETE CASCADE,
  code_verifier TEXT NULL,
  next_url TEXT NOT NULL,
  browser_binding_hash TEXT NOT NULL,
  creation_date BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE INDEX ix_oauth2_flows_expires_at ON oauth2_flows (expires_at);
