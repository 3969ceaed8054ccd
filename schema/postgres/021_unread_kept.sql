-- 021_unread_kept.sql — unread counts kept by triggers (the SQLite twin,
-- schema/021_unread_kept.sql, says why and what each count holds). Same
-- columns in the same places; one row trigger function per table.
ALTER TABLE channels ADD COLUMN message_count bigint NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN last_message_id bigint NOT NULL DEFAULT 0;
ALTER TABLE channel_members ADD COLUMN read_count bigint NOT NULL DEFAULT 0;
UPDATE channels SET message_count =
	(SELECT count(*) FROM messages m WHERE m.channel_id = channels.id AND m.deleted = 0),
	last_message_id = coalesce((SELECT max(m.id) FROM messages m WHERE m.channel_id = channels.id), 0);
UPDATE channel_members SET read_count =
	(SELECT count(*) FROM messages m WHERE m.channel_id = channel_members.channel_id
	 AND m.deleted = 0 AND (m.id <= channel_members.last_read_id OR m.user_id = channel_members.user_id));

CREATE FUNCTION parley_messages_unread() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE channels SET message_count = message_count + CASE WHEN NEW.deleted = 0 THEN 1 ELSE 0 END,
			last_message_id = GREATEST(last_message_id, NEW.id) WHERE id = NEW.channel_id;
		IF NEW.deleted = 0 THEN
			UPDATE channel_members SET read_count = read_count + 1
				WHERE channel_id = NEW.channel_id AND user_id = NEW.user_id;
		END IF;
	ELSIF TG_OP = 'UPDATE' THEN
		IF OLD.deleted <> NEW.deleted THEN
			UPDATE channels SET message_count = message_count + (OLD.deleted - NEW.deleted)
				WHERE id = NEW.channel_id;
			UPDATE channel_members SET read_count = read_count + (OLD.deleted - NEW.deleted)
				WHERE channel_id = NEW.channel_id
				AND (user_id = NEW.user_id OR last_read_id >= NEW.id);
		END IF;
	ELSIF OLD.deleted = 0 THEN
		UPDATE channels SET message_count = message_count - 1 WHERE id = OLD.channel_id;
		UPDATE channel_members SET read_count = read_count - 1
			WHERE channel_id = OLD.channel_id AND (user_id = OLD.user_id OR last_read_id >= OLD.id);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER messages_unread AFTER INSERT OR DELETE OR UPDATE OF deleted
	ON messages FOR EACH ROW EXECUTE FUNCTION parley_messages_unread();

CREATE FUNCTION parley_members_unread() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE channel_members SET read_count =
			(SELECT c.message_count FROM channels c WHERE c.id = NEW.channel_id) -
			(SELECT count(*) FROM messages m WHERE m.channel_id = NEW.channel_id
			 AND m.id > NEW.last_read_id AND m.deleted = 0 AND m.user_id <> NEW.user_id)
			WHERE channel_id = NEW.channel_id AND user_id = NEW.user_id;
	ELSIF NEW.last_read_id <> OLD.last_read_id THEN
		UPDATE channel_members SET read_count = read_count +
			(SELECT count(*) FROM messages m WHERE m.channel_id = NEW.channel_id
			 AND m.id > LEAST(OLD.last_read_id, NEW.last_read_id)
			 AND m.id <= GREATEST(OLD.last_read_id, NEW.last_read_id)
			 AND m.deleted = 0 AND m.user_id <> NEW.user_id) *
			(CASE WHEN NEW.last_read_id > OLD.last_read_id THEN 1 ELSE -1 END)
			WHERE channel_id = NEW.channel_id AND user_id = NEW.user_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER channel_members_unread AFTER INSERT OR UPDATE OF last_read_id
	ON channel_members FOR EACH ROW EXECUTE FUNCTION parley_members_unread();
