-- 008_erased_dm_names.sql — PostgreSQL's twin of schema/008: no dm
-- channel keeps an erased account's username in its name (issue 20). The
-- erasure renames its dm channels since this version (lib/direct.c,
-- pl_channel_dm_rename_locked); this renames those of accounts erased
-- before, rebuilding each name from the channel's dm_key (member ids
-- ascending, "3,8,12") and the current usernames, joined by ", " in key
-- order as pl_channel_dm joins them. A name that comes out the same is
-- left alone (compared byte for byte: usernames are `nocase`).
UPDATE channels c SET name = n.name
FROM (
	SELECT d.id, string_agg(coalesce(u.username, ''), ', ' ORDER BY k.ord) AS name
	FROM channels d
	CROSS JOIN LATERAL unnest(string_to_array(d.dm_key, ',')) WITH ORDINALITY AS k(uid, ord)
	LEFT JOIN users u ON u.id = k.uid::bigint
	WHERE d.kind = 'dm' AND d.dm_key IS NOT NULL
	GROUP BY d.id
) AS n
WHERE c.id = n.id AND c.name <> n.name COLLATE "C";
