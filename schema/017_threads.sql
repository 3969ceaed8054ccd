-- parley: foreign_keys=off
-- 017_threads.sql — threads (issue 17; lib/threads.c). The PostgreSQL twin
-- is schema/postgres/017_threads.sql: the same columns in the same order
-- (parleyctl copy-to-postgres copies by position).
--
-- A thread is a message and its replies (messages whose reply_to names
-- it). The root keeps two counters, updated in the transaction that posts
-- or deletes a reply:
--   reply_count    replies not deleted
--   last_reply_at  ms since the epoch of the newest of them (NULL: none)
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at INTEGER;
CREATE INDEX messages_reply_to ON messages(reply_to, id) WHERE reply_to IS NOT NULL;
UPDATE messages SET
	reply_count = (SELECT count(*) FROM messages r WHERE r.reply_to = messages.id AND r.deleted = 0),
	last_reply_at = (SELECT max(created_at) FROM messages r
			 WHERE r.reply_to = messages.id AND r.deleted = 0)
WHERE id IN (SELECT reply_to FROM messages WHERE reply_to IS NOT NULL);

-- thread_follows: who follows which thread. Posting a reply makes its
-- author and the root's author follow (unless they said otherwise);
-- PUT/DELETE /api/messages/{id}/follow set it by hand.
--   message_id  the thread's root; the row goes with it
--   user_id     the follower
--   following   1 follows, 0 unfollowed (kept, so that the next reply
--               does not follow them again)
--   updated_at  ms since the epoch
CREATE TABLE thread_follows (
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	following  INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (message_id, user_id)
);
CREATE INDEX thread_follows_user ON thread_follows(user_id);
INSERT INTO thread_follows (message_id, user_id, following, updated_at)
	SELECT t.message_id, t.user_id, 1, max(t.at) FROM (
		SELECT r.reply_to AS message_id, r.user_id, r.created_at AS at FROM messages r
		WHERE r.reply_to IS NOT NULL
		UNION ALL
		SELECT p.id, p.user_id, p.created_at FROM messages p WHERE p.reply_count > 0) t
	JOIN users u ON u.id = t.user_id
	GROUP BY t.message_id, t.user_id;

-- Notifications gain kind 'reply' (a reply in a thread the user follows).
-- SQLite cannot change a CHECK: the table is rebuilt as in 007 (the first
-- line switches foreign keys off for it), its AUTOINCREMENT sequence kept.
CREATE TABLE notifications_new (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL CHECK (kind IN ('mention', 'dm', 'reply')),
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	read_at    INTEGER,
	UNIQUE (user_id, message_id)
);
INSERT INTO notifications_new (id, user_id, kind, message_id, created_at, read_at)
	SELECT id, user_id, kind, message_id, created_at, read_at FROM notifications;
INSERT INTO sqlite_sequence (name, seq)
	SELECT 'notifications_new', 0
	WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'notifications_new');
UPDATE sqlite_sequence SET seq = max(seq,
	coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'notifications'), 0))
WHERE name = 'notifications_new';
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_message ON notifications(message_id);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;
