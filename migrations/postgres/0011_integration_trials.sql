-- 0011: "Try connecting" round trips (service/integration_trial_service.h). Same meaning as
-- sqlite/0011_integration_trials.sql. A trial is created by an administrator, started by the
-- authorize link (state_hash, the sealed PKCE verifier and the flow cookie's hash, as in
-- oauth2_flows) and finished by the callback, which may reach another replica: hence a table,
-- not memory. stages is a JSON array of {id, status, detail, fix}: sentences, never a token.
-- Trials are deleted a day after they were created.

CREATE TABLE integration_trials (
  id VARCHAR(26) COLLATE "C" NOT NULL PRIMARY KEY,
  provider_id VARCHAR(99) COLLATE "C" NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  repository_url TEXT NOT NULL DEFAULT '',
  keep INTEGER NOT NULL DEFAULT 0 CHECK (keep IN (0, 1)),
  creation_date BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  state_hash TEXT COLLATE "C" NULL UNIQUE,
  code_verifier TEXT NULL,
  browser_binding_hash TEXT NULL,
  started_at BIGINT NULL,
  finished_at BIGINT NULL,
  stages TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX ix_integration_trials_creation_date ON integration_trials (creation_date);
