-- 015_message_edits.sql — edit history (issue 17): every edit of a message
-- keeps the text it replaced (lib/message_edits.c). The PostgreSQL twin is
-- schema/postgres/015_message_edits.sql: the same columns in the same
-- order (parleyctl copy-to-postgres copies by position).
--
-- message_edits: one row per edit that changed the text, oldest id first.
--   message_id   the message edited; its rows go when it is deleted (the
--                tombstone drops them) or removed with its channel
--   content      the text as it was before this edit
--   written_at   ms since the epoch when that text was written (the
--                message's created_at, or the previous edit's time)
--   replaced_at  ms since the epoch of this edit
CREATE TABLE message_edits (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	content     TEXT    NOT NULL,
	written_at  INTEGER NOT NULL,
	replaced_at INTEGER NOT NULL
);
CREATE INDEX message_edits_message ON message_edits(message_id, id);
