-- 0004: browser sign-in. Same meaning as postgres/0004_browser_sessions.sql.
-- browser_sessions: server-side sessions behind the HttpOnly session cookie. The cookie carries
-- 256 random bits; only their SHA-256 (hex) is stored, so a database dump signs nobody in. The
-- CSRF token is derived from the cookie value, so it is not stored either. A session ends at
-- expires_at (absolute) or when last_seen_at is older than the idle limit.
-- admin_sign_in_links: the one-time administrator sign-in links `keybridge serve` prints when no
-- administrator has a session (hash only, single use, short expiry).
-- browser_login_flows: pending OIDC sign-ins (state hash, the hash of the browser-binding cookie,
-- where to return); the PKCE verifier is derived from the binding cookie, never stored.
-- Timestamps are unix seconds.

CREATE TABLE browser_sessions (
  id_hash TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  is_admin INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE INDEX ix_browser_sessions_expires_at ON browser_sessions (expires_at);

CREATE TABLE admin_sign_in_links (
  token_hash TEXT NOT NULL PRIMARY KEY,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE browser_login_flows (
  state_hash TEXT NOT NULL PRIMARY KEY,
  browser_binding_hash TEXT NOT NULL,
  next_path TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
