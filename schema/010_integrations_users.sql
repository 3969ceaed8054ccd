-- 010_integrations_users.sql — what issue 16 (integrations and
-- administration) adds to an account, in one place so that every part of
-- that work agrees on the names. The PostgreSQL twin is
-- schema/postgres/010_integrations_users.sql: the same columns added in the
-- same order (parleyctl copy-to-postgres copies by position).
--
-- is_bot          1 for a bot account (made by a server admin, or the
--                 identity an incoming webhook posts as); shown as `bot` in
--                 user objects; a bot has no password sign-in.
-- bot_owner_id    who made the bot (NULL for people and for webhook bots
--                 whose webhook row says who made it).
-- server_role     'user' or 'admin' (server-wide administration: users,
--                 any message or channel, the audit log).
-- deactivated_at  set while an admin has deactivated the account: its
--                 sessions, tokens and sockets end and sign-in is refused.
-- phone           E.164 number ("+4915112345678"), shown to its owner only.
-- phone_verified  1 once a code sent by SMS to `phone` was entered.
-- mention_mail    1 (default): mail a batch of missed mentions and DMs
--                 after the configured delay; 0: the user opted out.
-- mention_mail_at when the last such mail went out (seconds since the
--                 epoch), so that no more than one goes per interval.
ALTER TABLE users ADD COLUMN is_bot          INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN bot_owner_id    INTEGER REFERENCES users(id);
ALTER TABLE users ADD COLUMN server_role     TEXT    NOT NULL DEFAULT 'user'
	CHECK (server_role IN ('user', 'admin'));
ALTER TABLE users ADD COLUMN deactivated_at  INTEGER;
ALTER TABLE users ADD COLUMN phone           TEXT;
ALTER TABLE users ADD COLUMN phone_verified  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mention_mail    INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN mention_mail_at INTEGER;
