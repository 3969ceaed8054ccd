/*
 * messages.h — posting and reading messages. pl_message_post is THE way a
 * message is stored: POST /api/messages and the WebSocket frame both call
 * it, so the rules (who may post where, what a message is, idempotency by
 * client_msg_id) live in one place.
 */
#ifndef PL_MESSAGES_H
#define PL_MESSAGES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "files.h"

#define PL_CONTENT_MAX 4000      /* code points, after trimming */
#define PL_CLIENT_MSG_ID_MAX 64  /* bytes */

struct pl_message_new {
	int64_t channel_id;
	const char *content;         /* borrowed; trimmed before storing */
	const char *client_msg_id;   /* optional (NULL) */
	int64_t reply_to;            /* optional (0) */
	int64_t attachments[PL_ATTACHMENTS_MAX]; /* file ids (files.h), optional */
	size_t nattachments;
};

/*
 * pl_message_new_from_json: reads {"channel_id","content","client_msg_id"?,
 * "reply_to"?,"attachments"?} from `obj` into `out` (strings borrowed from
 * `obj`), type-checking each field; "content" may be left out (or "")
 * when there are attachments (up to PL_ATTACHMENTS_MAX distinct file
 * ids). Returns 0 or -1 with `err` = 400.
 */
int pl_message_new_from_json(const cJSON *obj, struct pl_message_new *out, struct pl_err *err);

/*
 * pl_message_post: stores a message by `user_id`. Checks content (1-4000
 * code points after trimming, valid UTF-8), the channel (pl_authz_channel
 * POST; posting in a public channel joins it), `reply_to` (a message of the
 * same channel). A repeat of a `client_msg_id` already used by this user
 * stores nothing and returns the first message with *created = false.
 * Message and message.created event are written in one transaction.
 * *out receives the message object (caller frees). Returns 0, or -1 with
 * `err`: 400 invalid (including a reply_to that is not a message of the
 * same channel, and an attachment that is not an unattached file of the
 * poster: files.h), 404 channel not visible.
 */
int pl_message_post(struct pl_db *db, int64_t user_id, const struct pl_message_new *in,
		    cJSON **out, bool *created, struct pl_err *err);

/*
 * pl_message_history: up to `limit` (1-200) messages of `channel_id`,
 * oldest first: those with id < `before` (when before > 0), else those
 * with id > `after` (when after > 0), else the newest page. Served by the
 * (channel_id, id) index. *out receives a JSON array (caller frees).
 * Returns 0, or -1 with `err` (404 when the channel is not readable).
 */
int pl_message_history(struct pl_db *db, int64_t user_id, int64_t channel_id,
		       int64_t before, int64_t after, int limit, cJSON **out, struct pl_err *err);

/*
 * pl_message_history_around: a page of up to `limit` (1-200) messages of
 * `channel_id` centred on message id `around` (issue 17: a search hit, a
 * notification or a permalink opens there): the message with that id (when
 * it is one of the channel's) and those before it make half the page,
 * rounded up, those after it the rest; when there are fewer newer ones,
 * older ones fill the page. Oldest first. Served by the (channel_id, id)
 * index with two or three range scans. *out receives a JSON array (caller
 * frees). Returns 0, or -1 with `err` (400 bad `around` or limit, 404 when
 * the channel is not readable).
 */
int pl_message_history_around(struct pl_db *db, int64_t user_id, int64_t channel_id,
			      int64_t around, int limit, cJSON **out, struct pl_err *err);

/* pl_message_get: pl_authz_message READ, then pl_message_json. *out is
 * new (caller frees). Returns 0 or -1 (`err` 404). */
int pl_message_get(struct pl_db *db, int64_t user_id, int64_t id, cJSON **out, struct pl_err *err);

/*
 * pl_message_edit: replaces the content of message `id` (author only:
 * 403; content rules as for posting: 400; a deleted message: 409) and sets
 * edited_at; the search index follows in the same transaction. Writes
 * message.updated. *out receives the message (caller frees). Returns 0 or
 * -1 (`err`).
 */
int pl_message_edit(struct pl_db *db, int64_t user_id, int64_t id, const char *content,
		    cJSON **out, struct pl_err *err);

/*
 * pl_message_delete: soft-deletes message `id` (its author, or the
 * channel's owner/admins: 403): the row stays as a tombstone with content
 * "" and deleted = true; its reactions and notifications go. Deleting a
 * deleted message is a no-op. Writes message.deleted. Returns 0 or -1.
 */
int pl_message_delete(struct pl_db *db, int64_t user_id, int64_t id, struct pl_err *err);

/*
 * pl_message_delete_any_locked: the same tombstone as pl_message_delete,
 * by `user_id` whoever wrote it and wherever it is, inside the caller's
 * open transaction: the caller decided that `user_id` may (a server
 * admin: lib/admin.c asks pl_authz_server_admin). *channel_id and
 * *author_id receive the message's channel and author; *changed is false
 * when it already was a tombstone (nothing written). Returns 0 or -1
 * (`err`: 404 no such message, 500).
 */
int pl_message_delete_any_locked(struct pl_db *db, int64_t user_id, int64_t id,
				 int64_t *channel_id, int64_t *author_id, bool *changed,
				 struct pl_err *err);

#endif
