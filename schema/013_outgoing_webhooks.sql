-- 013_outgoing_webhooks.sql — outgoing webhooks (issue 16): per channel, an
-- HTTP(S) URL that parley-hookd POSTs a signed JSON payload to for each new
-- message (lib/outhooks.h, lib/outhook_queue.h, hookd/). The PostgreSQL
-- twin is schema/postgres/013_outgoing_webhooks.sql: the same columns in
-- the same order (parleyctl copy-to-postgres copies by position).
--
-- outgoing_webhooks: one hook. It belongs to its channel (deleted with
-- it), not to the admin who made it (created_by stays for the record).
--   url            http or https, checked against SSRF at creation and at
--                  every delivery (lib/url_guard.h)
--   trigger_words  space-separated; '' = every message; else the first
--                  word of the message must equal one (ASCII case ignored)
--   secret         the HMAC-SHA256 key of X-Parley-Signature (64 hex
--                  characters), shown once at creation. Kept in clear: the
--                  worker must sign with it (DECISIONS.md).
CREATE TABLE outgoing_webhooks (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	channel_id    INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	created_by    INTEGER REFERENCES users(id),
	name          TEXT    NOT NULL DEFAULT '',
	url           TEXT    NOT NULL,
	trigger_words TEXT    NOT NULL DEFAULT '',
	secret        TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
);
CREATE INDEX outgoing_webhooks_channel ON outgoing_webhooks(channel_id);

-- outgoing_webhook_deliveries: one message to one hook, its attempts and
-- its outcome (the delivery log). No foreign key to messages: the log
-- outlives a deleted message.
--   payload          the message as it was when enqueued (JSON: message,
--                    channel), sent with the delivery's envelope
--   status           'pending' (waiting for next_attempt_at), 'delivered',
--                    'failed' (gave up, not retryable, or dropped from a
--                    full queue)
--   last_status      HTTP status of the last attempt, NULL when none came
--   last_error       what went wrong last (NULL once delivered)
--   next_attempt_at  ms since the epoch; NULL once done
--   claimed_until    a worker's lease (ms): no other worker takes the row
--                    before it expires; claim_token names the holder
CREATE TABLE outgoing_webhook_deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	hook_id         INTEGER NOT NULL REFERENCES outgoing_webhooks(id) ON DELETE CASCADE,
	event_id        INTEGER NOT NULL,
	message_id      INTEGER NOT NULL,
	trigger_word    TEXT,
	payload         TEXT    NOT NULL,
	status          TEXT    NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_status     INTEGER,
	last_error      TEXT,
	next_attempt_at INTEGER,
	claimed_until   INTEGER,
	claim_token     TEXT,
	delivered_at    INTEGER,
	created_at      INTEGER NOT NULL,
	UNIQUE (hook_id, event_id)
);
CREATE INDEX outgoing_webhook_deliveries_due ON outgoing_webhook_deliveries(next_attempt_at)
	WHERE status = 'pending';
CREATE INDEX outgoing_webhook_deliveries_hook ON outgoing_webhook_deliveries(hook_id, id);
CREATE INDEX outgoing_webhook_deliveries_created ON outgoing_webhook_deliveries(created_at);

-- outgoing_webhook_cursor: the one row saying up to which event the
-- workers have enqueued deliveries. Made by the first hook's creation
-- (at the newest event then), moved in the same transaction as the
-- deliveries it enqueues.
CREATE TABLE outgoing_webhook_cursor (
	singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
	last_event_id INTEGER NOT NULL
);
