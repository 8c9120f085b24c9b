-- 0005: refresh leases. Same meaning as sqlite/0005_refresh_lease.sql. A refresh takes the
-- lease with a short compare-and-set (only when no unexpired lease exists), calls the provider
-- without holding a database connection or transaction, and clears the lease when it writes the
-- outcome (compare-and-set on token_version AND the lease owner) or gives up. A crashed replica's
-- lease simply expires: refresh_lease_until (unix seconds) is set to the provider timeout plus a
-- margin. Owners are random per-attempt ids, never secrets.

ALTER TABLE oauth2_connections ADD COLUMN refresh_lease_owner TEXT NULL;
ALTER TABLE oauth2_connections ADD COLUMN refresh_lease_until BIGINT NULL;
