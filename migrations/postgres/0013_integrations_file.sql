-- 0013: integrations as code (`keybridge integrations apply`, service/integration_file.h). Same
-- meaning in both dialects. managed_by_file = 1 marks an integration applied from an
-- integrations file: the API and the web UI refuse to edit or delete it. The file never holds
-- the client secret, only where to read it: client_secret_file (a path relative to the
-- integrations file, as written there) or client_secret_env (an environment variable name); both
-- are kept so `keybridge integrations list --format file` prints the same reference back.
-- 0012 belongs to the audit trail.

ALTER TABLE oauth2_clients ADD COLUMN managed_by_file INTEGER NOT NULL DEFAULT 0
  CHECK (managed_by_file IN (0, 1));
ALTER TABLE oauth2_clients ADD COLUMN client_secret_file TEXT NULL;
ALTER TABLE oauth2_clients ADD COLUMN client_secret_env TEXT NULL;
