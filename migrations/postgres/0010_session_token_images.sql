-- 0010: container images a session token is scoped to (the image check, pull secrets and registry
-- credentials), next to its connection_ids and repository_urls and stored the same way: a JSON
-- array of strings, each "registry-host[:port][/path-prefix]". Tokens minted before have none,
-- so they reach no images.

ALTER TABLE session_tokens ADD COLUMN image_repositories TEXT NOT NULL DEFAULT '[]';
