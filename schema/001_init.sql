-- 001_init.sql — parley's foundation schema.
-- Times are INTEGER milliseconds since the Unix epoch (UTC); the API
-- renders them as RFC 3339. Applied by pl_db_migrate inside one
-- BEGIN IMMEDIATE transaction that also sets PRAGMA user_version = 1.

-- Accounts. username is unique case-insensitively (ASCII names only, so
-- NOCASE folds all of them). deleted_at is set when an account is erased.
CREATE TABLE users (
	id             INTEGER PRIMARY KEY,
	username       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	password_hash  TEXT    NOT NULL,          -- libsodium argon2id string
	email          TEXT,                      -- shown to its owner only
	email_verified INTEGER NOT NULL DEFAULT 0,
	display_name   TEXT    NOT NULL DEFAULT '',
	bio            TEXT    NOT NULL DEFAULT '',
	avatar_url     TEXT    NOT NULL DEFAULT '',
	status_text    TEXT    NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	deleted_at     INTEGER
);

-- Sign-in sessions: one per login. refresh_hash is the BLAKE2b hex of the
-- current refresh token; access tokens carry the id as `sid`.
CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	refresh_hash TEXT    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,            -- refresh token expiry
	revoked_at   INTEGER                      -- NULL while the session lives
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Channels. name is unique case-insensitively among public and private
-- channels; dm channels have a generated name and are exempt.
CREATE TABLE channels (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('public', 'private', 'dm')),
	topic      TEXT    NOT NULL DEFAULT '',
	created_by INTEGER REFERENCES users(id),
	created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX channels_name ON channels(name COLLATE NOCASE) WHERE kind <> 'dm';

-- Membership, with the member's role and read marker (last message id read).
CREATE TABLE channel_members (
	channel_id   INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
	joined_at    INTEGER NOT NULL,
	last_read_id INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX channel_members_user ON channel_members(user_id, channel_id);

-- Messages. A deleted message stays as a tombstone (deleted = 1, content
-- ''). client_msg_id makes posting idempotent per user.
CREATE TABLE messages (
	id            INTEGER PRIMARY KEY,
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
-- History pages and unread counts walk this index.
CREATE INDEX messages_channel ON messages(channel_id, id);

-- Presence: last activity per user, and per channel joined through
-- /api/presence/join (channel_id 0 = not tied to a channel).
CREATE TABLE presence (
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	channel_id INTEGER NOT NULL DEFAULT 0,
	status     TEXT    NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'away', 'dnd')),
	last_seen  INTEGER NOT NULL,
	PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

-- Events: one row per change, written in the change's transaction.
-- AUTOINCREMENT keeps ids strictly increasing and never reused.
-- scope: 0 members of channel_id, 1 user_id only, 2 everyone,
-- 3 users sharing a channel with user_id. payload: the event's JSON body.
CREATE TABLE events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	type       TEXT    NOT NULL,
	scope      INTEGER NOT NULL CHECK (scope BETWEEN 0 AND 3),
	channel_id INTEGER,
	user_id    INTEGER,
	payload    TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX events_created ON events(created_at);
