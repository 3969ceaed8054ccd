/* messages.c — posting and reading messages (messages.h). */
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "channels.h"
#include "events.h"
#include "files.h"
#include "json.h"
#include "log.h"
#include "message_view.h"
#include "message_edits.h"
#include "messages.h"
#include "notifications.h"
#include "pins.h"
#include "reactions.h"
#include "search.h"
#include "threads.h"
#include "util.h"

enum messages_stmt {
	MESSAGES_STMT_BY_CLIENT_ID,
	MESSAGES_STMT_EDIT,
	MESSAGES_STMT_SOFT_DELETE,
	MESSAGES_STMT_DROP_REACTIONS,
	MESSAGES_STMT_DROP_NOTIFICATIONS,
	MESSAGES_STMT_REPLY_CHANNEL,
	MESSAGES_STMT_INSERT,
	MESSAGES_STMT_HISTORY_DESC,
	MESSAGES_STMT_HISTORY_ASC,
	MESSAGES_STMT_OWNER,
	MESSAGES_STMT__MAX
};

static const struct pl_sql messages_stmts[MESSAGES_STMT__MAX] = {
	[MESSAGES_STMT_BY_CLIENT_ID] = {
		"SELECT id FROM messages WHERE user_id = ?1 AND client_msg_id = ?2" },
	[MESSAGES_STMT_EDIT] = {
		"UPDATE messages SET content = ?2, edited_at = ?3 WHERE id = ?1 AND deleted = 0" },
	[MESSAGES_STMT_SOFT_DELETE] = {
		"UPDATE messages SET content = '', deleted = 1 WHERE id = ?1 AND deleted = 0" },
	[MESSAGES_STMT_DROP_REACTIONS] = { "DELETE FROM reactions WHERE message_id = ?1" },
	[MESSAGES_STMT_DROP_NOTIFICATIONS] = { "DELETE FROM notifications WHERE message_id = ?1" },
	[MESSAGES_STMT_REPLY_CHANNEL] = { "SELECT channel_id, deleted FROM messages WHERE id = ?1" },
	[MESSAGES_STMT_INSERT] = {
		"INSERT INTO messages (channel_id, user_id, content, created_at, reply_to, client_msg_id) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
	/* Newest first below ?2 and above ?3; the caller reverses. */
	[MESSAGES_STMT_HISTORY_DESC] = { PL_MESSAGE_COLUMNS
		"WHERE m.channel_id = ?1 AND m.id < ?2 AND m.id > ?3 ORDER BY m.id DESC LIMIT ?4" },
	[MESSAGES_STMT_HISTORY_ASC] = { PL_MESSAGE_COLUMNS
		"WHERE m.channel_id = ?1 AND m.id > ?3 AND m.id < ?2 ORDER BY m.id ASC LIMIT ?4" },
	[MESSAGES_STMT_OWNER] = { "SELECT channel_id, user_id FROM messages WHERE id = ?1" },
};

/* Reads "attachments" (distinct file ids) into `out`. */
static int attachments_from_json(const cJSON *obj, struct pl_message_new *out, struct pl_err *err)
{
	int64_t *ids = NULL;
	size_t n = 0;
	int rc = pl_json_id_array(obj, "attachments", false, 0, PL_ATTACHMENTS_MAX, &ids, &n, err);

	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (ids[j] == ids[i]) {
				free(ids);
				return pl_err_set(err, 400, "attachments must not repeat a file");
			}
		out->attachments[i] = ids[i];
	}
	out->nattachments = n;
	free(ids);
	return 0;
}

int pl_message_new_from_json(const cJSON *obj, struct pl_message_new *out, struct pl_err *err)
{
	memset(out, 0, sizeof(*out));
	if (pl_json_id(obj, "channel_id", true, &out->channel_id, err) < 0 ||
	    attachments_from_json(obj, out, err) < 0 ||
	    pl_json_string(obj, "content", out->nattachments == 0, &out->content, err) < 0 ||
	    pl_json_string(obj, "client_msg_id", false, &out->client_msg_id, err) < 0 ||
	    pl_json_id(obj, "reply_to", false, &out->reply_to, err) < 0)
		return -1;
	if (!out->content)
		out->content = "";
	return 0;
}

static int validate(const struct pl_message_new *in, char **content, struct pl_err *err)
{
	size_t cps = 0, cmlen;
	uint32_t bad;

	*content = NULL;
	if (in->client_msg_id) {
		cmlen = strlen(in->client_msg_id);
		if (cmlen < 1 || cmlen > PL_CLIENT_MSG_ID_MAX || !pl_utf8_valid(in->client_msg_id, cmlen, NULL))
			return pl_err_set(err, 400, "client_msg_id must be 1-%d bytes", PL_CLIENT_MSG_ID_MAX);
	}
	*content = pl_trim(in->content);
	/* A message of files alone may have no text. */
	if (!pl_utf8_valid(*content, strlen(*content), &cps) ||
	    cps < (in->nattachments > 0 ? 0u : 1u) || cps > PL_CONTENT_MAX) {
		free(*content);
		*content = NULL;
		return pl_err_set(err, 400, "content must be 1-%d characters", PL_CONTENT_MAX);
	}
	/* Tab, newline and carriage return stay; other controls and the
	 * bidi overrides are refused, not stripped: what is stored is what
	 * was sent, or nothing (docs/DECISIONS.md). */
	if ((bad = pl_text_forbidden(*content, PL_TEXT_TAB_LF | PL_TEXT_CR, NULL)) != 0) {
		free(*content);
		*content = NULL;
		return pl_err_set(err, 400, "content must not contain control or bidirectional "
				  "formatting characters (found U+%04X)", (unsigned)bad);
	}
	return 0;
}

/* The id of this user's message with `client_msg_id`, 0 if none, -1 error. */
static int64_t find_client_msg(struct pl_db *db, int64_t user_id, const char *cmid, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &messages_stmts[MESSAGES_STMT_BY_CLIENT_ID], err);
	int64_t id = 0;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, cmid);
	return pl_db_step_id(db, st, &id, err) < 0 ? -1 : id;
}

static int check_reply_to(struct pl_db *db, int64_t reply_to, int64_t channel_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &messages_stmts[MESSAGES_STMT_REPLY_CHANNEL], err);
	bool ok, deleted = false;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, reply_to);
	ok = pl_stmt_step(st) == PL_ROW && pl_stmt_int64(st, 0) == channel_id;
	if (ok)
		deleted = pl_stmt_int(st, 1) != 0;
	pl_db_done(st);
	if (!ok)
		return pl_err_set(err, 400, "reply_to must be a message of the same channel");
	/* as reacting to it: a tombstone starts no thread (threads.h) */
	return deleted ? pl_err_set(err, 409, "reply_to names a deleted message") : 0;
}

static int64_t insert_message(struct pl_db *db, int64_t user_id, const struct pl_message_new *in,
			      const char *content, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &messages_stmts[MESSAGES_STMT_INSERT], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, in->channel_id);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_text(st, 3, content);
	pl_stmt_bind_int64(st, 4, pl_now_ms());
	if (in->reply_to)
		pl_stmt_bind_int64(st, 5, in->reply_to);
	if (in->client_msg_id)
		pl_stmt_bind_text(st, 6, in->client_msg_id);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	return pl_db_last_id(db);
}

/*
 * The payload of a message.* event: {"message":{"id"}}. The message is
 * rendered from its row when the event is delivered (event_view.h), so an
 * edit or a deletion shows on replay too and no earlier text is kept.
 */
static cJSON *message_ref(int64_t id)
{
	cJSON *payload = cJSON_CreateObject();
	cJSON *m = cJSON_AddObjectToObject(payload, "message");

	cJSON_AddNumberToObject(m, "id", (double)id);
	return payload;
}

/* Inserts the message and its event; returns the message object. */
static cJSON *store(struct pl_db *db, int64_t user_id, const struct pl_message_new *in,
		    const char *content, const char *kind, struct pl_err *err)
{
	int64_t id;
	cJSON *msg, *payload;
	int rc;

	if (in->reply_to && check_reply_to(db, in->reply_to, in->channel_id, err) < 0)
		return NULL;
	if ((id = insert_message(db, user_id, in, content, err)) < 0)
		return NULL;
	if (in->nattachments > 0 &&
	    pl_files_attach_locked(db, user_id, id, in->attachments, in->nattachments, err) < 0)
		return NULL;
	if (!(msg = pl_message_json(db, user_id, id, err)))
		return NULL;
	payload = message_ref(id);
	rc = pl_event_append(db, "message.created", PL_SCOPE_CHANNEL, in->channel_id, user_id,
			     payload, NULL, err);
	cJSON_Delete(payload);
	if (rc == 0)
		rc = pl_notify_message_locked(db, msg, kind, err);
	if (rc == 0 && in->reply_to)
		rc = pl_thread_reply_locked(db, msg, in->reply_to, err);
	/* the full-text index follows in batches (search.h) */
	if (rc == 0 && pl_search_catch_up(db, PL_SEARCH_BATCH, err) < 0)
		rc = -1;
	if (rc < 0) {
		cJSON_Delete(msg);
		return NULL;
	}
	return msg;
}

int pl_message_post(struct pl_db *db, int64_t user_id, const struct pl_message_new *in,
		    cJSON **out, bool *created, struct pl_err *err)
{
	char *content = NULL;
	cJSON *msg = NULL;
	int64_t existing = 0;
	struct pl_access acc;
	bool joined;
	int rc = -1;

	*out = NULL;
	*created = false;
	if (validate(in, &content, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		goto out;
	if (pl_authz_channel(db, user_id, in->channel_id, PL_ACT_POST, &acc, err) < 0)
		goto out;
	if (in->client_msg_id && (existing = find_client_msg(db, user_id, in->client_msg_id, err)) < 0)
		goto out;
	if (existing > 0) {
		msg = pl_message_json(db, user_id, existing, err);
	} else {
		/* Posting in a public channel joins it. */
		if (pl_channel_join_locked(db, user_id, in->channel_id, &joined, err) < 0)
			goto out;
		msg = store(db, user_id, in, content, acc.kind, err);
		*created = msg != NULL;
	}
	if (msg)
		rc = 0;
out:
	if ((rc = pl_db_end(db, rc, err)) < 0) {
		cJSON_Delete(msg);
		msg = NULL;
		*created = false;
	}
	free(content);
	*out = msg;
	return rc;
}

/* Appends to `arr` (oldest first) up to `limit` messages of `channel_id`
 * with after < id < before: the newest of them (`ascending` false, each
 * inserted at `at`) or the oldest (`ascending`, appended). Returns how
 * many, or -1 with `err`. */
static int history_rows(struct pl_db *db, int64_t user_id, int64_t channel_id, int64_t before,
			int64_t after, int limit, bool ascending, cJSON *arr, int at,
			struct pl_err *err)
{
	struct pl_stmt *st;
	int step, n = 0;

	if (!(st = pl_db_prepare(db, &messages_stmts[ascending ? MESSAGES_STMT_HISTORY_ASC
							  : MESSAGES_STMT_HISTORY_DESC], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	pl_stmt_bind_int64(st, 3, after > 0 ? after : 0);
	pl_stmt_bind_int(st, 4, limit);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		cJSON *m = pl_message_view_row(db, st, user_id);
		if (ascending)
			cJSON_AddItemToArray(arr, m);
		else
			cJSON_InsertItemInArray(arr, at, m);  /* oldest first */
		n++;
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "history: %s", pl_db_last_error(db));
	return n;
}

int pl_message_history(struct pl_db *db, int64_t user_id, int64_t channel_id,
		       int64_t before, int64_t after, int limit, cJSON **out, struct pl_err *err)
{
	bool ascending = after > 0 && before == 0;
	cJSON *arr;

	*out = NULL;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return -1;
	arr = cJSON_CreateArray();
	if (history_rows(db, user_id, channel_id, before, after, limit, ascending, arr, 0, err) < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

int pl_message_history_around(struct pl_db *db, int64_t user_id, int64_t channel_id,
			      int64_t around, int limit, cJSON **out, struct pl_err *err)
{
	cJSON *arr;
	int older;

	*out = NULL;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (around < 1 || around == INT64_MAX)
		return pl_err_set(err, 400, "around must be a message id");
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return -1;
	arr = cJSON_CreateArray();
	/* The message itself and those before it: half the page, rounded up;
	 * the rest after it, and the older side again when the newer one runs
	 * short (the newest messages of a channel still fill a page). */
	older = history_rows(db, user_id, channel_id, around + 1, 0, (limit + 1) / 2, false,
			     arr, 0, err);
	if (older >= 0) {
		int newer = history_rows(db, user_id, channel_id, 0, around, limit - older, true,
					 arr, 0, err);
		if (newer >= 0 && older + newer < limit && older == (limit + 1) / 2) {
			cJSON *first = cJSON_GetArrayItem(arr, 0);
			int64_t oldest = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(first, "id"));
			newer = history_rows(db, user_id, channel_id, oldest, 0,
					     limit - older - newer, false, arr, 0, err);
		}
		if (newer < 0)
			older = -1;
	}
	if (older < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

int pl_message_get(struct pl_db *db, int64_t user_id, int64_t id, cJSON **out, struct pl_err *err)
{
	*out = NULL;
	if (pl_authz_message(db, user_id, id, PL_MSG_READ, NULL, err) < 0)
		return -1;
	*out = pl_message_json(db, user_id, id, err);
	return *out ? 0 : -1;
}

/* Runs UPDATE/DELETE statement `q` on message `id` (text ?2, time ?3 when
 * given); returns the number of changed rows, or -1. */
static int change(struct pl_db *db, enum messages_stmt q, int64_t id, const char *text, int64_t t,
		  struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &messages_stmts[q], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	if (text)
		pl_stmt_bind_text(st, 2, text);
	if (t)
		pl_stmt_bind_int64(st, 3, t);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	return pl_db_changes(db);
}

/* Writes `type` for message `id`; returns the message as `user_id` sees it. */
static cJSON *announce(struct pl_db *db, const char *type, int64_t user_id, int64_t id,
		       int64_t channel_id, struct pl_err *err)
{
	cJSON *msg = pl_message_json(db, user_id, id, err), *payload;
	int rc;

	if (!msg)
		return NULL;
	payload = message_ref(id);
	rc = pl_event_append(db, type, PL_SCOPE_CHANNEL, channel_id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	if (rc < 0) {
		cJSON_Delete(msg);
		return NULL;
	}
	return msg;
}

int pl_message_edit(struct pl_db *db, int64_t user_id, int64_t id, const char *content,
		    cJSON **out, struct pl_err *err)
{
	struct pl_message_new in = { 0 };
	char *text = NULL;
	int64_t channel_id = 0, now;
	int changed, rc = -1;

	*out = NULL;
	in.content = content;
	if (validate(&in, &text, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		goto out;
	now = pl_now_ms();
	if (pl_authz_message(db, user_id, id, PL_MSG_EDIT, &channel_id, err) < 0 ||
	    pl_message_edit_keep_locked(db, id, text, now, err) < 0 ||
	    (changed = change(db, MESSAGES_STMT_EDIT, id, text, now, err)) < 0)
		goto out;
	if (changed == 0) {
		pl_err_set(err, 409, "the message is deleted");
		goto out;
	}
	if ((*out = announce(db, "message.updated", user_id, id, channel_id, err)))
		rc = 0;
out:
	if ((rc = pl_db_end(db, rc, err)) < 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	free(text);
	return rc;
}

/* Inside a transaction: makes message `id` of `channel_id` a tombstone
 * (its reactions, edit history, pin, attachments and notifications go) with its event, by
 * `user_id`. *changed: false when it already was one. */
static int tombstone(struct pl_db *db, int64_t user_id, int64_t id, int64_t channel_id,
		     bool *changed, struct pl_err *err)
{
	cJSON *msg;
	int n;

	*changed = false;
	if ((n = change(db, MESSAGES_STMT_SOFT_DELETE, id, NULL, 0, err)) < 0)
		return -1;
	if (n == 0)  /* already a tombstone */
		return 0;
	*changed = true;
	if (change(db, MESSAGES_STMT_DROP_REACTIONS, id, NULL, 0, err) < 0 ||
	    pl_message_edits_drop_locked(db, id, err) < 0 ||
	    pl_pins_drop_locked(db, id, err) < 0 ||
	    pl_thread_reply_gone_locked(db, user_id, id, err) < 0 ||
	    pl_files_detach_locked(db, id, err) < 0 ||
	    change(db, MESSAGES_STMT_DROP_NOTIFICATIONS, id, NULL, 0, err) < 0 ||
	    !(msg = announce(db, "message.deleted", user_id, id, channel_id, err)))
		return -1;
	cJSON_Delete(msg);
	return 0;
}

int pl_message_delete(struct pl_db *db, int64_t user_id, int64_t id, struct pl_err *err)
{
	int64_t channel_id = 0;
	bool changed;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_message(db, user_id, id, PL_MSG_DELETE, &channel_id, err) < 0 ||
	    tombstone(db, user_id, id, channel_id, &changed, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_message_delete_any_locked(struct pl_db *db, int64_t user_id, int64_t id,
				 int64_t *channel_id, int64_t *author_id, bool *changed,
				 struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &messages_stmts[MESSAGES_STMT_OWNER], err);
	int step;

	*changed = false;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		*channel_id = pl_stmt_int64(st, 0);
		*author_id = pl_stmt_int64(st, 1);
	}
	pl_db_done(st);
	if (step == PL_DONE)
		return pl_err_set(err, 404, "no such message");
	if (step != PL_ROW)
		return pl_err_internal(err, "message owner: %s", pl_db_last_error(db));
	return tombstone(db, user_id, id, *channel_id, changed, err);
}
