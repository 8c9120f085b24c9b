-- 0009: what a browser session rests on, so that it cannot outlive it.
-- source_token_hash: the SHA-256 of the local `kb_` token the session was signed in with (the
--   same hash api_tokens keeps); every use of the session re-checks that token, so revoking or
--   expiring it ends the session and its admin flag. NULL for link and OIDC sessions.
-- identity_recheck_at: for OIDC sessions, when the identity provider must be asked again (a new
--   sign-in, silent while the provider's own session lasts) so that a removed role or user stops
--   counting within the hour. NULL for the other ways in.
-- Sessions from before this migration have neither: they end by their own expiry.

ALTER TABLE browser_sessions ADD COLUMN source_token_hash TEXT;
ALTER TABLE browser_sessions ADD COLUMN identity_recheck_at BIGINT;
