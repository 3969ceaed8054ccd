-- 014_sms_export_mail.sql — phone verification codes (the SQLite twin,
-- schema/014_sms_export_mail.sql, says what each column means). Same
-- columns in the same order (parleyctl copy-to-postgres copies by position).
CREATE TABLE phone_codes (
	user_id    bigint  PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	code_hash  bytea   NOT NULL,
	phone      text    NOT NULL,
	expires_at bigint  NOT NULL,
	attempts   integer NOT NULL DEFAULT 0
);
