/*
 * message_edits.h — a message's edit history (issue 17): every edit that
 * changes the text keeps the text it replaced (table message_edits,
 * schema 015). Whoever may read the message may read its history; a
 * deleted message's history is deleted with it (the tombstone drops it).
 * Object (API.md v2 names content and edited_at; the rest are additions):
 * {"id","content","edited_at","written_at","replaced_at"} — the text as it
 * was; its edited_at as the message showed it (null for the text the
 * message was created with); when it was last set (the message's creation
 * or an edit, one that repeated the same text included); when the next
 * edit replaced it.
 */
#ifndef PL_MESSAGE_EDITS_H
#define PL_MESSAGE_EDITS_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

/*
 * pl_message_edit_keep_locked: stores message `id`'s current text as a
 * history row replaced at `now_ms` (ms since the epoch), unless the text
 * is already `new_content` or the message is deleted. Call it inside the
 * edit's write transaction, before the message is updated. Returns 0 or
 * -1 (`err` 500).
 */
int pl_message_edit_keep_locked(struct pl_db *db, int64_t id, const char *new_content,
				int64_t now_ms, struct pl_err *err);

/*
 * pl_message_edits_drop_locked: deletes message `id`'s history (inside the
 * deletion's transaction). Returns 0 or -1 (`err` 500).
 */
int pl_message_edits_drop_locked(struct pl_db *db, int64_t id, struct pl_err *err);

/*
 * pl_message_edits: message `id`'s history as `user_id` may see it
 * (pl_authz_message READ: 404 for a message they cannot read), oldest
 * version first (API.md), at most `limit` (1-200) rows with ids above
 * `after` (0: from the oldest). *out receives the array (caller frees).
 * Returns 0 or -1 (`err`: 404, 500).
 */
int pl_message_edits(struct pl_db *db, int64_t user_id, int64_t id, int64_t after, int limit,
		     cJSON **out, struct pl_err *err);

#endif
