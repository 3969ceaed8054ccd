-- 019_unread_covering.sql — the channel list's unread counts read the
-- index alone (issue 19; lib/channels.c CHANNEL_COLUMNS). The PostgreSQL
-- twin is schema/postgres/019_unread_covering.sql.
--
-- Each channel's unread count walks the messages after the reader's
-- marker and skips their own and deleted ones: with (channel_id, id) alone
-- every one of those rows was a lookup in the table. With the author and
-- the deleted flag in the index the walk stays in it (callgrind: the list
-- of 22 channels, 200 unread, 12 % fewer instructions). A post still
-- writes one entry here; a deletion now rewrites its entry.
DROP INDEX messages_channel;
CREATE INDEX messages_channel ON messages(channel_id, id, user_id, deleted);
