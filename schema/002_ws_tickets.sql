-- 002_ws_tickets.sql — one-time tickets for opening a WebSocket
-- (POST /api/auth/ws-ticket, then /ws?ticket=...), so long-lived tokens
-- stay out of URLs and logs. Only the BLAKE2b hex of a ticket is stored.
CREATE TABLE ws_tickets (
	ticket_hash TEXT    PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	expires_at  INTEGER NOT NULL                -- ms since epoch
) WITHOUT ROWID;
CREATE INDEX ws_tickets_expires ON ws_tickets(expires_at);
