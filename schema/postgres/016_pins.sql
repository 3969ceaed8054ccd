-- 016_pins.sql — pinned messages (the SQLite twin, schema/016_pins.sql,
-- says what each column means). Same columns in the same order (parleyctl
-- copy-to-postgres copies by position).
CREATE TABLE pins (
	message_id bigint  PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
	channel_id bigint  NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	pinned_by  bigint  REFERENCES users(id) ON DELETE SET NULL,
	pinned_at  bigint  NOT NULL
);
CREATE INDEX pins_channel ON pins(channel_id, pinned_at);
