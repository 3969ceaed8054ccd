-- 020_member_count.sql — a channel's member count kept on its row (the
-- SQLite twin, schema/020_member_count.sql, says why). Same column in the
-- same place; one row trigger function for the three changes.
ALTER TABLE channels ADD COLUMN member_count bigint NOT NULL DEFAULT 0;
UPDATE channels SET member_count =
	(SELECT count(*) FROM channel_members m WHERE m.channel_id = channels.id);
CREATE FUNCTION parley_channel_member_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE channels SET member_count = member_count - 1 WHERE id = OLD.channel_id;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE channels SET member_count = member_count + 1 WHERE id = NEW.channel_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER channel_members_count AFTER INSERT OR DELETE OR UPDATE OF channel_id
	ON channel_members FOR EACH ROW EXECUTE FUNCTION parley_channel_member_count();
