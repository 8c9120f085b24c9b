-- 0006: one word for one thing. Same meaning as postgres/0006_provider_id_columns.sql. The
-- columns of oauth2_connections and oauth2_flows that name the provider (oauth2_clients.id) were
-- called client_id, as in Renku, and were easily confused with oauth2_clients.client_id, the
-- OAuth client id the provider issued. They become provider_id. RENAME COLUMN (SQLite >= 3.25)
-- rewrites the table definition, including the foreign key and the UNIQUE (user_id, ...) clause;
-- the constraint keeps its old name, which SQLite never uses. An index cannot be renamed in
-- SQLite, so the one named after the column is recreated.

ALTER TABLE oauth2_connections RENAME COLUMN client_id TO provider_id;
ALTER TABLE oauth2_flows RENAME COLUMN client_id TO provider_id;

DROP INDEX ix_oauth2_connections_client_id;
CREATE INDEX ix_oauth2_connections_provider_id ON oauth2_connections (provider_id);
