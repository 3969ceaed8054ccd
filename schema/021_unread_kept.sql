-- 021_unread_kept.sql — unread counts kept by triggers instead of counted
-- per request (issue 19; lib/channels.c CHANNEL_COLUMNS). The PostgreSQL
-- twin is schema/postgres/021_unread_kept.sql: the same columns in the same
-- places (parleyctl copy-to-postgres copies by position, then recounts).
--
-- A member's unread count is the channel's messages after their read
-- marker that are neither deleted nor their own. The channel list walked
-- up to 1,000 of them per channel and request (the whole request, on a
-- channel read to 0 by its writer: docs/BENCHMARKS.md). Now:
--   channels.message_count        its messages not deleted
--   channel_members.read_count    of those, the ones at or before the
--                                 member's marker or written by them
-- and unread_count = min(message_count - read_count, 1000). A post costs
-- two row updates (the channel's, its author's membership); a deletion one
-- walk of the channel's members; a marker moved forward one walk of the
-- messages it passes; a join one walk of the messages after the marker.
-- Triggers keep them, so no path (posts, bots, webhooks, deletions,
-- markers, joins, an erasure's cascade) can forget them, and the counts
-- move in the same transaction as the rows: they cannot drift
-- (tests/integration/test_unread_count.py recounts after random changes
-- and a kill -9).
--
-- A new message is after every marker: a marker names a message of its
-- channel (lib/read_markers.c), and ids only grow. So a post adds to its
-- author's read_count alone.
ALTER TABLE channels ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
-- The channel's newest message id, deleted or not (0: none), for the
-- list's last_message_id: one more column of the row a post updates
-- anyway, instead of an index seek per channel and request.
ALTER TABLE channels ADD COLUMN last_message_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channel_members ADD COLUMN read_count INTEGER NOT NULL DEFAULT 0;
UPDATE channels SET message_count =
	(SELECT count(*) FROM messages m WHERE m.channel_id = channels.id AND m.deleted = 0),
	last_message_id = coalesce((SELECT max(m.id) FROM messages m WHERE m.channel_id = channels.id), 0);
UPDATE channel_members SET read_count =
	(SELECT count(*) FROM messages m WHERE m.channel_id = channel_members.channel_id
	 AND m.deleted = 0 AND (m.id <= channel_members.last_read_id OR m.user_id = channel_members.user_id));

CREATE TRIGGER messages_unread_ai AFTER INSERT ON messages BEGIN
	UPDATE channels SET message_count = message_count + (new.deleted = 0),
		last_message_id = max(last_message_id, new.id) WHERE id = new.channel_id;
	UPDATE channel_members SET read_count = read_count + 1
		WHERE channel_id = new.channel_id AND user_id = new.user_id AND new.deleted = 0;
END;
-- A deletion (the flag; rows themselves go only with their channel).
CREATE TRIGGER messages_unread_au AFTER UPDATE OF deleted ON messages
WHEN old.deleted <> new.deleted BEGIN
	UPDATE channels SET message_count = message_count + (old.deleted - new.deleted)
		WHERE id = new.channel_id;
	UPDATE channel_members SET read_count = read_count + (old.deleted - new.deleted)
		WHERE channel_id = new.channel_id AND (user_id = new.user_id OR last_read_id >= new.id);
END;
CREATE TRIGGER messages_unread_ad AFTER DELETE ON messages WHEN old.deleted = 0 BEGIN
	UPDATE channels SET message_count = message_count - 1 WHERE id = old.channel_id;
	UPDATE channel_members SET read_count = read_count - 1
		WHERE channel_id = old.channel_id AND (user_id = old.user_id OR last_read_id >= old.id);
END;
-- A marker moved: the others' messages it passed (forward) or uncovered.
CREATE TRIGGER channel_members_unread_au AFTER UPDATE OF last_read_id ON channel_members
WHEN new.last_read_id <> old.last_read_id BEGIN
	UPDATE channel_members SET read_count = read_count +
		(SELECT count(*) FROM messages m WHERE m.channel_id = new.channel_id
		 AND m.id > min(old.last_read_id, new.last_read_id)
		 AND m.id <= max(old.last_read_id, new.last_read_id)
		 AND m.deleted = 0 AND m.user_id <> new.user_id) *
		(CASE WHEN new.last_read_id > old.last_read_id THEN 1 ELSE -1 END)
		WHERE channel_id = new.channel_id AND user_id = new.user_id;
END;
-- A new member: every message but the others' after the marker.
CREATE TRIGGER channel_members_unread_ai AFTER INSERT ON channel_members BEGIN
	UPDATE channel_members SET read_count =
		(SELECT c.message_count FROM channels c WHERE c.id = new.channel_id) -
		(SELECT count(*) FROM messages m WHERE m.channel_id = new.channel_id
		 AND m.id > new.last_read_id AND m.deleted = 0 AND m.user_id <> new.user_id)
		WHERE channel_id = new.channel_id AND user_id = new.user_id;
END;
