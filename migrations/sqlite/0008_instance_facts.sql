-- 0008: facts about this installation that outlive the rows that established them. The first is
-- "admin_signed_in": once an administrator has signed in to the web UI, `keybridge serve` stops
-- issuing the one-time administrator sign-in link at start (an operator asks for one with
-- `keybridge admin-link`), so restarts do not keep publishing admin links to whoever reads the
-- logs. An installation that already had an administrator's session counts as signed in.

CREATE TABLE instance_facts (
  name TEXT NOT NULL PRIMARY KEY,
  at BIGINT NOT NULL
);

INSERT INTO instance_facts (name, at)
  SELECT 'admin_signed_in', (SELECT MIN(created_at) FROM browser_sessions WHERE is_admin = 1)
  WHERE EXISTS (SELECT 1 FROM browser_sessions WHERE is_admin = 1);
