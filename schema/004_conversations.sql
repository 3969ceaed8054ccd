-- 004_conversations.sql — conversations: DM keys, reactions, full-text
-- search, notifications (issue 4). Times are INTEGER ms since the epoch.

-- A dm channel's canonical key: its member ids, sorted ascending, joined
-- by ',' (e.g. "3,8,12"). Unique, so two concurrent requests for the same
-- set of people cannot create two channels. NULL for public/private.
ALTER TABLE channels ADD COLUMN dm_key TEXT;
CREATE UNIQUE INDEX channels_dm_key ON channels(dm_key) WHERE dm_key IS NOT NULL;

-- Reactions: one per user per emoji per message. emoji is a short UTF-8
-- string (1-32 bytes, no white space or control characters).
CREATE TABLE reactions (
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	emoji      TEXT    NOT NULL,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;

-- Full-text index over message content (external content: the text lives
-- in messages only). Kept in sync by the triggers below, in the same
-- transaction as the change; a deleted message has content '' and so
-- drops out of the index.
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id');
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
-- Index the messages that existed before this migration.
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');

-- Notifications: kind 'mention' (@username of a member in a message) or
-- 'dm' (a message in a dm channel, for its other members). read_at is
-- NULL while unread. They go with their message (channel deletion).
CREATE TABLE notifications (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL CHECK (kind IN ('mention', 'dm')),
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	read_at    INTEGER,
	UNIQUE (user_id, message_id)
);
CREATE INDEX notifications_message ON notifications(message_id);
-- Lists walk these (newest first; the unread one only unread rows).
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;
