-- 003_accounts.sql — accounts: refresh-token rotation with reuse
-- detection, rate-limit counters, email verification codes, and the index
-- behind the display-name prefix search. Times are ms since the epoch.

-- Refresh tokens a session has already rotated away from (BLAKE2b hex, as
-- sessions.refresh_hash). Presenting one again is treated as theft and
-- revokes the whole session (RFC 6819 §5.2.2.3).
CREATE TABLE refresh_rotated (
	refresh_hash TEXT    PRIMARY KEY,
	session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	rotated_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX refresh_rotated_session ON refresh_rotated(session_id);

-- Rate-limit counters shared by every process: one row per key (e.g.
-- "login_user:alice", "login_addr:127.0.0.1"), a window that starts at
-- the first counted event and ends at expires_at.
CREATE TABLE rate_limits (
	key        TEXT    PRIMARY KEY,
	count      INTEGER NOT NULL,
	expires_at INTEGER NOT NULL                -- end of the current window
) WITHOUT ROWID;
CREATE INDEX rate_limits_expires ON rate_limits(expires_at);

-- Pending email verification codes, at most one per user. code_hash is a
-- keyed BLAKE2b (32 bytes) of the code (60 random bits), looked up by
-- hash; email is the address it was sent to (a changed address makes the
-- code useless). A code is deleted when used.
CREATE TABLE email_codes (
	user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	code_hash  BLOB    NOT NULL UNIQUE,
	email      TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
);

-- Prefix search on display names (GET /api/users?q=): a range scan on
-- this index (usernames use the UNIQUE NOCASE index of 001).
CREATE INDEX users_display_name ON users(display_name COLLATE NOCASE);
