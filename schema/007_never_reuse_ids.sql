-- parley: foreign_keys=off
-- 007_never_reuse_ids.sql — ids are never given twice, and nothing of a
-- deleted channel or an earlier version of a message can be replayed
-- (issue 12).
--
-- Until now users, sessions, channels, messages and notifications used
-- plain rowids: once the newest row was deleted its id was given again, and
-- events kept for the old row (a deleted channel's messages, name, topic)
-- were replayed to whoever got the id next. SQLite cannot add AUTOINCREMENT
-- to a table, so each is rebuilt (https://sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"): create, copy, drop, rename,
-- recreate its indexes and triggers. The first line above makes the runner
-- switch foreign key enforcement off for this transaction (DROP TABLE
-- would otherwise cascade into every referencing table) and run
-- PRAGMA foreign_key_check before COMMIT.

CREATE TABLE users_new (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	username       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	password_hash  TEXT    NOT NULL,
	email          TEXT,
	email_verified INTEGER NOT NULL DEFAULT 0,
	display_name   TEXT    NOT NULL DEFAULT '',
	bio            TEXT    NOT NULL DEFAULT '',
	avatar_url     TEXT    NOT NULL DEFAULT '',
	status_text    TEXT    NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	deleted_at     INTEGER
);
INSERT INTO users_new (id, username, password_hash, email, email_verified, display_name, bio,
		       avatar_url, status_text, created_at, deleted_at)
	SELECT id, username, password_hash, email, email_verified, display_name, bio,
	       avatar_url, status_text, created_at, deleted_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_display_name ON users(display_name COLLATE NOCASE);

CREATE TABLE sessions_new (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	refresh_hash TEXT    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER
);
INSERT INTO sessions_new (id, user_id, refresh_hash, created_at, expires_at, revoked_at)
	SELECT id, user_id, refresh_hash, created_at, expires_at, revoked_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE channels_new (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('public', 'private', 'dm')),
	topic      TEXT    NOT NULL DEFAULT '',
	created_by INTEGER REFERENCES users(id),
	created_at INTEGER NOT NULL,
	dm_key     TEXT
);
INSERT INTO channels_new (id, name, kind, topic, created_by, created_at, dm_key)
	SELECT id, name, kind, topic, created_by, created_at, dm_key FROM channels;
DROP TABLE channels;
ALTER TABLE channels_new RENAME TO channels;
CREATE UNIQUE INDEX channels_name ON channels(name COLLATE NOCASE) WHERE kind <> 'dm';
CREATE UNIQUE INDEX channels_dm_key ON channels(dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE messages_new (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	channel_id    INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	user_id       INTEGER NOT NULL REFERENCES users(id),
	content       TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	edited_at     INTEGER,
	deleted       INTEGER NOT NULL DEFAULT 0,
	reply_to      INTEGER REFERENCES messages(id) ON DELETE SET NULL,
	client_msg_id TEXT,
	UNIQUE (user_id, client_msg_id)
);
INSERT INTO messages_new (id, channel_id, user_id, content, created_at, edited_at, deleted,
			  reply_to, client_msg_id)
	SELECT id, channel_id, user_id, content, created_at, edited_at, deleted,
	       reply_to, client_msg_id FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_channel ON messages(channel_id, id);
-- The full-text triggers of 006 went with the old table. The one for
-- inserts is gone for good: a new id is always above indexed_upto now.
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages
WHEN old.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages
WHEN old.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;

CREATE TABLE notifications_new (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL CHECK (kind IN ('mention', 'dm')),
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	read_at    INTEGER,
	UNIQUE (user_id, message_id)
);
INSERT INTO notifications_new (id, user_id, kind, message_id, created_at, read_at)
	SELECT id, user_id, kind, message_id, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_message ON notifications(message_id);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;

-- The copies set each sequence to the highest id present; ids used by rows
-- already deleted may be higher, and the events still name them: start
-- above those too.
INSERT INTO sqlite_sequence (name, seq)
	SELECT t.name, 0 FROM (SELECT 'users' AS name UNION ALL SELECT 'sessions'
			       UNION ALL SELECT 'channels' UNION ALL SELECT 'messages'
			       UNION ALL SELECT 'notifications') t
	WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence s WHERE s.name = t.name);
UPDATE sqlite_sequence SET seq = max(seq,
	coalesce((SELECT max(user_id) FROM events), 0),
	coalesce((SELECT max(user_id) FROM presence), 0))
WHERE name = 'users';
UPDATE sqlite_sequence SET seq = max(seq,
	coalesce((SELECT max(channel_id) FROM events), 0),
	coalesce((SELECT max(channel_id) FROM presence), 0),
	coalesce((SELECT max(json_extract(payload, '$.channel_id')) FROM events
		  WHERE type = 'presence'), 0))
WHERE name = 'channels';
UPDATE sqlite_sequence SET seq = max(seq,
	coalesce((SELECT max(coalesce(json_extract(payload, '$.message.id'),
				      json_extract(payload, '$.message_id'),
				      json_extract(payload, '$.notification.message.id'), 0))
		  FROM events), 0),
	coalesce((SELECT indexed_upto FROM search_state WHERE id = 1), 0))
WHERE name = 'messages';
UPDATE sqlite_sequence SET seq = max(seq,
	coalesce((SELECT max(json_extract(payload, '$.notification.id')) FROM events
		  WHERE type = 'notification'), 0))
WHERE name = 'notifications';

-- Presence events name their channel in the events row (not the payload),
-- so that only the channel's members are shown it (events.h).
UPDATE events SET channel_id = json_extract(payload, '$.channel_id'),
		  payload = json_remove(payload, '$.channel_id')
WHERE type = 'presence' AND json_extract(payload, '$.channel_id') IS NOT NULL;
UPDATE events SET channel_id = NULL
WHERE type = 'presence' AND channel_id IS NOT NULL AND NOT EXISTS (
	SELECT 1 FROM channels c WHERE c.id = events.channel_id AND c.created_at <= events.created_at);

-- Events of a channel that is gone (but for its deletion notice), or of an
-- earlier channel that had the id of a channel that exists now, belong to
-- nobody any more.
DELETE FROM events WHERE channel_id IS NOT NULL AND type NOT IN ('channel.deleted', 'presence')
	AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = events.channel_id
			AND c.created_at <= events.created_at);
DELETE FROM events WHERE type = 'channel.deleted'
	AND EXISTS (SELECT 1 FROM channels c WHERE c.id = events.channel_id);

-- Payloads keep ids only: message, notification and channel events are
-- rendered from the current rows when delivered (lib/event_view.h), so an
-- edit, a deletion or a lost membership shows at once on replay too, and
-- no earlier text stays behind in the events table.
UPDATE events SET payload = json_object('message', json_object('id', json_extract(payload, '$.message.id')))
WHERE type IN ('message.created', 'message.updated', 'message.deleted');
UPDATE events SET payload = json_object('notification',
					json_object('id', json_extract(payload, '$.notification.id')))
WHERE type = 'notification';
UPDATE events SET payload = json_object('channel', json_object('id', channel_id))
WHERE type IN ('channel.created', 'channel.updated');
UPDATE events SET payload = json_object('channel', json_object('id', channel_id,
					'kind', json_extract(payload, '$.channel.kind')))
WHERE type = 'channel.deleted';

-- Presence rows of channels that are gone.
DELETE FROM presence WHERE channel_id <> 0 AND channel_id NOT IN (SELECT id FROM channels);
