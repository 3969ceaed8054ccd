-- 018_presence_sockets.sql — which ws-daemon holds sockets of whom
-- (lib/presence.c). The PostgreSQL twin is
-- schema/postgres/018_presence_sockets.sql: the same columns in the same
-- order (parleyctl copy-to-postgres copies by position).
--
-- With several daemons (PostgreSQL), a user's last socket closing on one
-- daemon makes them offline after presence_close_grace only when no other
-- daemon holds a socket of theirs: this table tells.
--   node     the daemon: a name it makes at start (host, pid, random)
--   user_id  a user with at least one socket there
--   seen_at  ms since the epoch of the daemon's last refresh of the row
--            (rows of a daemon that died stop being fresh after
--            presence_window and are ignored; any daemon's refresh deletes
--            them a day later)
CREATE TABLE presence_sockets (
	node    TEXT    NOT NULL,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	seen_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, node)
);
CREATE INDEX presence_sockets_node ON presence_sockets(node);
