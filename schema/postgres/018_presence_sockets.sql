-- 018_presence_sockets.sql — which ws-daemon holds sockets of whom (the
-- SQLite twin, schema/018_presence_sockets.sql, says what each column
-- means). Same columns in the same order (parleyctl copy-to-postgres
-- copies by position).
CREATE TABLE presence_sockets (
	node    text   NOT NULL,
	user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	seen_at bigint NOT NULL,
	PRIMARY KEY (user_id, node)
);
CREATE INDEX presence_sockets_node ON presence_sockets(node);
