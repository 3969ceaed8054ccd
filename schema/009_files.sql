-- 009_files.sql — uploaded files: attachments of messages and avatars
-- (issue 15, lib/files.h). The bytes live on disk under files_dir, named
-- by their SHA-256 (one copy per content); a row is one upload of them.
--   purpose     'attachment' (a message may carry it) or 'avatar'
--   message_id  the message it is attached to, NULL until then (and again
--               once that message is deleted: then parleyctl prune-files
--               collects it)
--   thumb_sha256  a small preview of an image (PNG), NULL when none
CREATE TABLE files (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users(id),
	purpose      TEXT    NOT NULL DEFAULT 'attachment' CHECK (purpose IN ('attachment', 'avatar')),
	name         TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	content_type TEXT    NOT NULL,
	sha256       TEXT    NOT NULL,
	width        INTEGER,
	height       INTEGER,
	thumb_sha256 TEXT,
	message_id   INTEGER REFERENCES messages(id) ON DELETE SET NULL,
	created_at   INTEGER NOT NULL
);
CREATE INDEX files_user ON files(user_id);
-- what parleyctl prune-files and the daemon collect
CREATE INDEX files_unattached ON files(created_at) WHERE message_id IS NULL AND purpose = 'attachment';
CREATE INDEX files_avatars ON files(id) WHERE purpose = 'avatar';
CREATE INDEX files_message ON files(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX files_sha256 ON files(sha256);
CREATE INDEX files_thumb ON files(thumb_sha256) WHERE thumb_sha256 IS NOT NULL;
