-- 005_realtime.sql — real time (issue 5): the announced presence state per
-- user, so that only transitions (offline -> online, online -> offline)
-- become `presence` events, decided inside a write transaction so that two
-- ws-daemons (or a daemon and a heartbeat) never announce the same one twice.
CREATE TABLE presence_state (
	user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	online     INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1)),
	changed_at INTEGER NOT NULL                -- ms since epoch
);
CREATE INDEX presence_state_online ON presence_state(online) WHERE online = 1;
CREATE INDEX presence_last_seen ON presence(user_id, last_seen);
