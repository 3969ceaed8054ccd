-- 010_integrations_users.sql — the account columns of issue 16 (the SQLite
-- twin, schema/010_integrations_users.sql, says what each means). Same
-- columns in the same order (parleyctl copy-to-postgres copies by position).
ALTER TABLE users ADD COLUMN is_bot          integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN bot_owner_id    bigint  REFERENCES users(id);
ALTER TABLE users ADD COLUMN server_role     text    NOT NULL DEFAULT 'user'
	CHECK (server_role IN ('user', 'admin'));
ALTER TABLE users ADD COLUMN deactivated_at  bigint;
ALTER TABLE users ADD COLUMN phone           text;
ALTER TABLE users ADD COLUMN phone_verified  integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mention_mail    integer NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN mention_mail_at bigint;
