-- 016_pins.sql — pinned messages (issue 17; lib/pins.c). The PostgreSQL
-- twin is schema/postgres/016_pins.sql: the same columns in the same order
-- (parleyctl copy-to-postgres copies by position).
--
-- pins: one row per pinned message.
--   message_id  the message; its pin goes when it is deleted (the tombstone
--               drops it) or removed with its channel
--   channel_id  the message's channel (lists walk (channel_id, pinned_at))
--   pinned_by   who pinned it (NULL once that account row is gone)
--   pinned_at   ms since the epoch
CREATE TABLE pins (
	message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
	channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	pinned_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
	pinned_at  INTEGER NOT NULL
);
CREATE INDEX pins_channel ON pins(channel_id, pinned_at);
