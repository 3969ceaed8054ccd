-- 017_threads.sql — threads (the SQLite twin, schema/017_threads.sql, says
-- what each column means). Same columns in the same order (parleyctl
-- copy-to-postgres copies by position).
ALTER TABLE messages ADD COLUMN reply_count bigint NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at bigint;
CREATE INDEX messages_reply_to ON messages(reply_to, id) WHERE reply_to IS NOT NULL;
UPDATE messages SET
	reply_count = (SELECT count(*) FROM messages r WHERE r.reply_to = messages.id AND r.deleted = 0),
	last_reply_at = (SELECT max(created_at) FROM messages r
			 WHERE r.reply_to = messages.id AND r.deleted = 0)
WHERE id IN (SELECT reply_to FROM messages WHERE reply_to IS NOT NULL);

CREATE TABLE thread_follows (
	message_id bigint  NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	user_id    bigint  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	following  integer NOT NULL,
	updated_at bigint  NOT NULL,
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

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
	CHECK (kind IN ('mention', 'dm', 'reply'));
