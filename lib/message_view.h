/*
 * message_view.h — the message object of the contract (API.md, Objects):
 * {"id","channel_id","user_id","username","content","created_at",
 * "edited_at","deleted","reply_to","client_msg_id","reactions",
 * "attachments","pinned","reply_count","last_reply_at"} (API.md v2), as one
 * viewer sees it (each reaction's "me"). A deleted message shows content
 * "" and no reactions; an erased author shows as "deleted-user-N".
 * No authorization here: callers decide with authz.h first.
 */
#ifndef PL_MESSAGE_VIEW_H
#define PL_MESSAGE_VIEW_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "message.h"

/*
 * pl_message_view: the object for `m` (borrowed) as `viewer` sees it (its
 * reactions' "me", read from storage when the message has any). Returns a
 * new object (caller frees).
 */
cJSON *pl_message_view(struct pl_db *db, const struct pl_message *m, int64_t viewer);

/*
 * pl_message_view_row: pl_message_view of the current row of `st`, a
 * statement of PL_MESSAGE_COLUMNS (message.h). Returns a new object
 * (caller frees).
 */
cJSON *pl_message_view_row(struct pl_db *db, struct pl_stmt *st, int64_t viewer);

/*
 * pl_message_json: the message object of `id` as `viewer` sees it (its
 * reactions' "me"). No authorization: callers check pl_authz_message or
 * pl_authz_channel first. Returns a new object (caller frees) or NULL
 * with `err` (404 no such message).
 */
cJSON *pl_message_json(struct pl_db *db, int64_t viewer, int64_t id, struct pl_err *err);

#endif
