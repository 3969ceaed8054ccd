-- 011_admin.sql — server administration (issue 16, lib/admin.h): the audit
-- log, registration invites and archived channels; and an existing install
-- gets a server admin. The PostgreSQL twin is schema/postgres/011_admin.sql:
-- the same columns in the same order (parleyctl copy-to-postgres copies by
-- position).
--
-- audit_log: one row per administrative action, written in the action's
-- own transaction (GET /api/admin/audit, parleyctl audit).
--   actor_id     the server admin who acted; NULL for parleyctl
--   actor        their username at the time, or 'parleyctl'
--   action       'user.deactivate', 'user.reactivate', 'message.delete',
--                'channel.delete', 'channel.archive', 'channel.unarchive',
--                'server_admin.grant', 'server_admin.revoke',
--                'invite.create', 'invite.revoke'
--   target_type  'user', 'message', 'channel' or 'invite'
--   target_id    the id of that row (it may be gone since)
--   detail       a JSON object (e.g. the channel's name), '{}' when none
--   created_at   ms since the epoch
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	actor_id    INTEGER REFERENCES users(id),
	actor       TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	target_type TEXT    NOT NULL,
	target_id   INTEGER NOT NULL,
	detail      TEXT    NOT NULL DEFAULT '{}',
	created_at  INTEGER NOT NULL
);

-- invites: registration tokens while `registration = invite`. The token is
-- shown once to the admin who made it; only its BLAKE2b hash is kept.
--   max_uses     registrations it allows; uses: how many it made
--   expires_at   ms since the epoch; revoked_at: set by DELETE (kept for
--                the audit log's sake, never usable again)
CREATE TABLE invites (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	token_hash  TEXT    NOT NULL UNIQUE,
	created_by  INTEGER REFERENCES users(id),
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	max_uses    INTEGER NOT NULL CHECK (max_uses >= 1),
	uses        INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
	revoked_at  INTEGER
);

-- channels.archived_at: set (ms since the epoch) while a server admin has
-- archived the channel: readable as before, but no posts, edits,
-- reactions or joins.
ALTER TABLE channels ADD COLUMN archived_at INTEGER;

-- An install from before this migration has no server admin: its
-- lowest-id live person becomes one (nothing happens on an empty database:
-- there, the first registration does it).
UPDATE users SET server_role = 'admin'
WHERE id = (SELECT min(id) FROM users WHERE deleted_at IS NULL AND is_bot = 0)
AND NOT EXISTS (SELECT 1 FROM users WHERE server_role = 'admin' AND deleted_at IS NULL);
