-- 020_member_count.sql — a channel's member count kept on its row (issue
-- 19; lib/channels.c CHANNEL_COLUMNS). The PostgreSQL twin is
-- schema/postgres/020_member_count.sql: the same column in the same place
-- (parleyctl copy-to-postgres copies by position, then recounts).
--
-- channels.member_count: rows of channel_members for the channel. The
-- channel list showed it as a count over channel_members per channel and
-- request: linear in the members of every large public channel a user is
-- in. Triggers keep it, so no code path (joins, invitations, leaving,
-- removal, an erasure's cascade) can forget it and it cannot drift.
ALTER TABLE channels ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE channels SET member_count =
	(SELECT count(*) FROM channel_members m WHERE m.channel_id = channels.id);
CREATE TRIGGER channel_members_count_ai AFTER INSERT ON channel_members BEGIN
	UPDATE channels SET member_count = member_count + 1 WHERE id = new.channel_id;
END;
CREATE TRIGGER channel_members_count_ad AFTER DELETE ON channel_members BEGIN
	UPDATE channels SET member_count = member_count - 1 WHERE id = old.channel_id;
END;
CREATE TRIGGER channel_members_count_au AFTER UPDATE OF channel_id ON channel_members
WHEN old.channel_id <> new.channel_id BEGIN
	UPDATE channels SET member_count = member_count - 1 WHERE id = old.channel_id;
	UPDATE channels SET member_count = member_count + 1 WHERE id = new.channel_id;
END;
