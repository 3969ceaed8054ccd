-- 019_unread_covering.sql — the channel list's unread counts read the
-- index alone (the SQLite twin, schema/019_unread_covering.sql, says why).
-- INCLUDE keeps the key (channel_id, id), which the list's row comparison
-- and ORDER BY walk; an index-only scan then needs the visibility map,
-- which autovacuum keeps.
DROP INDEX messages_channel;
CREATE INDEX messages_channel ON messages(channel_id, id) INCLUDE (user_id, deleted);
