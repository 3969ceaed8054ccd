-- 014_sms_export_mail.sql — phone verification by SMS (lib/sms_verify.c).
-- The PostgreSQL twin is schema/postgres/014_sms_export_mail.sql: the same
-- columns in the same order (parleyctl copy-to-postgres copies by position).
--
-- phone_codes: at most one pending code per user.
--   user_id    the account proving its number
--   code_hash  keyed BLAKE2b of the 6-digit code (the code itself is never stored)
--   phone      the number the code went to; confirming fails if the account's
--              number changed since
--   expires_at ms since the epoch
--   attempts   wrong entries so far; at sms_max_attempts the code is void
CREATE TABLE phone_codes (
	user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	code_hash  BLOB    NOT NULL,
	phone      TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0
);
