-- 0007: change notifications for the read caches (storage/change_feed.h). Every insert, update
-- and delete of a cached table notifies channel keybridge_changes with "<cache>:<key>" for each
-- (cache, key column) pair given to the trigger, the key being what that cache is keyed by
-- (connection, user and integration ids, token hashes: never a secret). NOTIFY is transactional: a change is announced when, and only if, it commits, to
-- every replica listening, whoever wrote it (keybridge, a CLI command, an operator's psql).

CREATE FUNCTION keybridge_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed jsonb;
  i integer := 0;
BEGIN
  IF TG_OP = 'INSERT' THEN
    changed := to_jsonb(NEW);
  ELSE
    changed := to_jsonb(OLD);
  END IF;
  WHILE i + 1 < TG_NARGS LOOP
    PERFORM pg_notify('keybridge_changes',
                      TG_ARGV[i] || ':' || coalesce(changed ->> TG_ARGV[i + 1], ''));
    i := i + 2;
  END LOOP;
  RETURN NULL;
END;
$$;

CREATE TRIGGER oauth2_connections_changed AFTER INSERT OR UPDATE OR DELETE ON oauth2_connections
  FOR EACH ROW EXECUTE FUNCTION keybridge_notify_change('oauth2_connections', 'id',
                                                         'user_connections', 'user_id');
CREATE TRIGGER session_tokens_changed AFTER INSERT OR UPDATE OR DELETE ON session_tokens
  FOR EACH ROW EXECUTE FUNCTION keybridge_notify_change('session_tokens', 'token_hash');
CREATE TRIGGER api_tokens_changed AFTER INSERT OR UPDATE OR DELETE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION keybridge_notify_change('api_tokens', 'token_hash');
CREATE TRIGGER oauth2_clients_changed AFTER INSERT OR UPDATE OR DELETE ON oauth2_clients
  FOR EACH ROW EXECUTE FUNCTION keybridge_notify_change('oauth2_clients', 'id');
