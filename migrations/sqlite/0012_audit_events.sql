-- 0012: the audit trail (core/audit.h, service/audit_log.h). Same meaning as
-- postgres/0012_audit_events.sql. One row per token handed out or change made; never a token or a
-- secret: token_fingerprint is the first 12 hex digits of the access token's SHA-256 and changes
-- holds only fields that are not secret. No foreign keys: the trail outlives what it names.
-- Rows older than --audit-retention are deleted in the background.

CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  occurred_at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  caller_kind TEXT NOT NULL DEFAULT '',
  session_token_id TEXT NOT NULL DEFAULT '',
  consumer TEXT NOT NULL DEFAULT '',
  connection_id TEXT NOT NULL DEFAULT '',
  provider_id TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '',
  token_fingerprint TEXT NOT NULL DEFAULT '',
  changes TEXT NOT NULL DEFAULT ''
);

-- The filters of GET /api/data/audit (newest first): by time alone, by user, by integration, by
-- kind; retention deletes by time.
CREATE INDEX ix_audit_events_time ON audit_events (occurred_at, id);
CREATE INDEX ix_audit_events_actor ON audit_events (actor, occurred_at);
CREATE INDEX ix_audit_events_provider ON audit_events (provider_id, occurred_at);
CREATE INDEX ix_audit_events_kind ON audit_events (kind, occurred_at);
