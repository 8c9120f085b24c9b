-- 0006: one word for one thing. Same meaning as sqlite/0006_provider_id_columns.sql. The
-- columns of oauth2_connections and oauth2_flows that name the provider (oauth2_clients.id) were
-- called client_id, as in Renku, and were easily confused with oauth2_clients.client_id, the
-- OAuth client id the provider issued. They become provider_id. RENAME COLUMN keeps the foreign
-- keys, the unique constraint and the indexes working; the constraint and the index whose names
-- say client_id are renamed too (renaming the constraint renames its index).

ALTER TABLE oauth2_connections RENAME COLUMN client_id TO provider_id;
ALTER TABLE oauth2_flows RENAME COLUMN client_id TO provider_id;

ALTER TABLE oauth2_connections
  RENAME CONSTRAINT _unique_user_id_client_id_uc TO _unique_user_id_provider_id_uc;
ALTER INDEX ix_oauth2_connections_client_id RENAME TO ix_oauth2_connections_provider_id;
