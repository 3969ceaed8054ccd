-- 008_erased_dm_names.sql — no dm channel keeps an erased account's
-- username in its name (issue 20). A dm channel is named after its
-- people's usernames when it is made (lib/direct.c), and an erased
-- account's username becomes deleted-user-<id> (lib/accounts.c); since
-- this version the erasure renames its dm channels in the same
-- transaction. This renames those of accounts erased before: each name is
-- rebuilt from the channel's dm_key (member ids ascending, "3,8,12") and
-- the current usernames, joined by ", " as pl_channel_dm joins them. A
-- name that comes out the same is left alone. The PostgreSQL twin is
-- schema/postgres/008_erased_dm_names.sql.
CREATE TEMP TABLE dm_names (
	id   INTEGER PRIMARY KEY,
	name TEXT    NOT NULL
);
-- walk: one row per channel and step, `rest` the ids still to name (each
-- followed by ','), `name` the usernames so far, `k` how many.
WITH RECURSIVE walk(id, rest, name, k) AS (
	SELECT id, dm_key || ',', '', 0 FROM channels WHERE kind = 'dm' AND dm_key IS NOT NULL
	UNION ALL
	SELECT id, substr(rest, instr(rest, ',') + 1),
	       name || CASE WHEN k > 0 THEN ', ' ELSE '' END ||
	       coalesce((SELECT u.username FROM users u
			 WHERE u.id = CAST(substr(rest, 1, instr(rest, ',') - 1) AS INTEGER)), ''),
	       k + 1
	FROM walk WHERE rest <> ''
)
INSERT INTO dm_names (id, name) SELECT id, name FROM walk WHERE rest = '';
UPDATE channels SET name = (SELECT n.name FROM temp.dm_names n WHERE n.id = channels.id)
WHERE id IN (SELECT n.id FROM temp.dm_names n WHERE n.id = channels.id AND n.name <> channels.name);
DROP TABLE temp.dm_names;
