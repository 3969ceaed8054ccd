-- 006_search_batches.sql — the full-text index (messages_fts, 004) is
-- brought up to date in batches instead of inside every post: FTS5 writes a
-- new index segment per transaction, which halved the rate of posts
-- (docs/BENCHMARKS.md). Every message with id <= indexed_upto is in the
-- index (or deleted); newer ones are added by pl_search_catch_up, every
-- PL_SEARCH_BATCH posts and before each search, so a search still sees
-- every message.
CREATE TABLE search_state (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	indexed_upto INTEGER NOT NULL
);
INSERT INTO search_state (id, indexed_upto) SELECT 1, coalesce(max(id), 0) FROM messages;

DROP TRIGGER messages_fts_ai;
DROP TRIGGER messages_fts_ad;
DROP TRIGGER messages_fts_au;
-- Edits and deletes touch the index only for messages already in it; a
-- newer message is indexed later with whatever content it has then.
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages
WHEN old.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages
WHEN old.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
-- Message ids are rowids: after the newest message is deleted (with its
-- channel) its id can be given again. Such a message is below the mark and
-- must be indexed at once.
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages
WHEN new.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
