-- 012_tokens_webhooks.sql — personal API tokens (and bots' tokens) and
-- incoming webhooks (issue 16). The PostgreSQL twin is
-- schema/postgres/012_tokens_webhooks.sql: the same columns in the same
-- order (parleyctl copy-to-postgres copies by position).

-- api_tokens: long-lived bearer credentials ("plt_..."), made by their
-- owner (POST /api/users/me/tokens) or, for a bot, by its owner or a server
-- admin. Only the BLAKE2b hex of the token is stored; revoking deletes the
-- row (ids are never reused, so a socket that names a gone id closes).
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,                 -- 1-64 chars, the owner's label
	scope        TEXT    NOT NULL CHECK (scope IN ('read', 'post', 'admin')),
	token_hash   TEXT    NOT NULL UNIQUE,          -- hex BLAKE2b-256 of the token text
	created_at   INTEGER NOT NULL,                 -- ms since epoch
	expires_at   INTEGER,                          -- ms since epoch, NULL = never
	last_used_at INTEGER                           -- ms, refreshed at most once a minute
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- webhooks: incoming webhooks of a channel (POST /hooks/<secret>). Each
-- posts as its own bot user (users.is_bot = 1), a member of the channel.
CREATE TABLE webhooks (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	channel_id  INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	bot_user_id INTEGER NOT NULL REFERENCES users(id),
	created_by  INTEGER REFERENCES users(id),      -- NULL once that account is erased
	name        TEXT    NOT NULL,                  -- 1-64 chars
	avatar_url  TEXT    NOT NULL DEFAULT '',       -- http(s) or ""
	token_hash  TEXT    NOT NULL UNIQUE,           -- hex BLAKE2b-256 of the secret
	created_at  INTEGER NOT NULL                   -- ms since epoch
);
CREATE INDEX webhooks_channel ON webhooks(channel_id);
