/* threads.c — threads: counts, follows, replies (threads.h). */
#include "authz.h"
#include "events.h"
#include "json.h"
#include "message.h"
#include "message_view.h"
#include "notifications.h"
#include "threads.h"
#include "util.h"

enum threads_stmt {
	THREADS_STMT_COUNT_REPLY,
	THREADS_STMT_RECOUNT,
	THREADS_STMT_ROOT_OF,
	THREADS_STMT_AUTO_FOLLOW,
	THREADS_STMT_SET_FOLLOW,
	THREADS_STMT_FOLLOWING,
	THREADS_STMT_REPLIES_DESC,
	THREADS_STMT_REPLIES_ASC,
	THREADS_STMT__MAX
};

static const struct pl_sql threads_stmts[THREADS_STMT__MAX] = {
	/* Returns the root's channel and author (RETURNING: SQLite 3.35+,
	 * PostgreSQL). last_reply_at never moves back: with several hosts a
	 * later reply may carry an earlier clock (the recount's max agrees). */
	[THREADS_STMT_COUNT_REPLY] = {
		"UPDATE messages SET reply_count = reply_count + 1, "
		"last_reply_at = CASE WHEN last_reply_at IS NULL OR last_reply_at < "
		"(SELECT r.created_at FROM messages r WHERE r.id = ?2) "
		"THEN (SELECT r.created_at FROM messages r WHERE r.id = ?2) ELSE last_reply_at END "
		"WHERE id = ?1 RETURNING channel_id, user_id" },
	[THREADS_STMT_RECOUNT] = {
		"UPDATE messages SET "
		"reply_count = (SELECT count(*) FROM messages r WHERE r.reply_to = ?1 AND r.deleted = 0), "
		"last_reply_at = (SELECT max(r.created_at) FROM messages r "
		"WHERE r.reply_to = ?1 AND r.deleted = 0) WHERE id = ?1 RETURNING channel_id" },
	[THREADS_STMT_ROOT_OF] = { "SELECT reply_to FROM messages WHERE id = ?1" },
	[THREADS_STMT_AUTO_FOLLOW] = {
		"INSERT INTO thread_follows (message_id, user_id, following, updated_at) "
		"VALUES (?1, ?2, 1, ?3) ON CONFLICT (message_id, user_id) DO NOTHING" },
	[THREADS_STMT_SET_FOLLOW] = {
		"INSERT INTO thread_follows (message_id, user_id, following, updated_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (message_id, user_id) "
		"DO UPDATE SET following = excluded.following, updated_at = excluded.updated_at" },
	[THREADS_STMT_FOLLOWING] = {
		"SELECT following FROM thread_follows WHERE message_id = ?1 AND user_id = ?2" },
	/* Newest first below ?2 and above ?3; the caller reverses. */
	[THREADS_STMT_REPLIES_DESC] = { PL_MESSAGE_COLUMNS
		"WHERE m.reply_to = ?1 AND m.channel_id = ?5 AND m.id < ?2 AND m.id > ?3 "
		"ORDER BY m.id DESC LIMIT ?4" },
	[THREADS_STMT_REPLIES_ASC] = { PL_MESSAGE_COLUMNS
		"WHERE m.reply_to = ?1 AND m.channel_id = ?5 AND m.id > ?3 AND m.id < ?2 "
		"ORDER BY m.id ASC LIMIT ?4" },
};

static int64_t num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* thread.updated {"message":{"id"}} to the root's channel; the root is
 * rendered from its row when delivered (event_view.c). */
static int announce(struct pl_db *db, int64_t root_id, int64_t channel_id, int64_t user_id,
		    struct pl_err *err)
{
	cJSON *payload = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(cJSON_AddObjectToObject(payload, "message"), "id", (double)root_id);
	rc = pl_event_append(db, "thread.updated", PL_SCOPE_CHANNEL, channel_id, user_id, payload,
			     NULL, err);
	cJSON_Delete(payload);
	return rc;
}

static int auto_follow(struct pl_db *db, int64_t root_id, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &threads_stmts[THREADS_STMT_AUTO_FOLLOW], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, root_id);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_int64(st, 3, pl_now_ms());
	return pl_db_step_done(db, st, err);
}

int pl_thread_reply_locked(struct pl_db *db, const cJSON *reply, int64_t root_id,
			   struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &threads_stmts[THREADS_STMT_COUNT_REPLY], err);
	int64_t author = num(reply, "user_id"), channel_id = 0, root_author = 0;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, root_id);
	pl_stmt_bind_int64(st, 2, num(reply, "id"));
	if ((step = pl_stmt_step(st)) == PL_ROW) {
		channel_id = pl_stmt_int64(st, 0);
		root_author = pl_stmt_int64(st, 1);
		step = pl_stmt_step(st);
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "thread %lld: %s", (long long)root_id, pl_db_last_error(db));
	if (!channel_id)   /* the root is gone: nothing to count */
		return 0;
	if (auto_follow(db, root_id, author, err) < 0 ||
	    (root_author && root_author != author && auto_follow(db, root_id, root_author, err) < 0) ||
	    announce(db, root_id, channel_id, author, err) < 0)
		return -1;
	return pl_notify_thread_locked(db, reply, root_id, err);
}

int pl_thread_reply_gone_locked(struct pl_db *db, int64_t user_id, int64_t id,
				struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &threads_stmts[THREADS_STMT_ROOT_OF], err);
	int64_t root_id = 0, channel_id = 0;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	if (pl_db_step_id(db, st, &root_id, err) < 0)
		return -1;
	if (!root_id)
		return 0;
	if (!(st = pl_db_prepare(db, &threads_stmts[THREADS_STMT_RECOUNT], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, root_id);
	if ((step = pl_stmt_step(st)) == PL_ROW) {
		channel_id = pl_stmt_int64(st, 0);
		step = pl_stmt_step(st);
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "thread %lld: %s", (long long)root_id, pl_db_last_error(db));
	return channel_id ? announce(db, root_id, channel_id, user_id, err) : 0;
}

/* Appends (oldest first) the replies to `root_id` with after < id <
 * before: the newest `limit` (`ascending` false) or the oldest. */
static int replies_rows(struct pl_db *db, int64_t user_id, int64_t root_id, int64_t channel_id,
			int64_t before, int64_t after, int limit, bool ascending, cJSON *arr,
			struct pl_err *err)
{
	struct pl_stmt *st;
	int step;

	if (!(st = pl_db_prepare(db, &threads_stmts[ascending ? THREADS_STMT_REPLIES_ASC
							    : THREADS_STMT_REPLIES_DESC], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, root_id);
	pl_stmt_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	pl_stmt_bind_int64(st, 3, after > 0 ? after : 0);
	pl_stmt_bind_int(st, 4, limit);
	pl_stmt_bind_int64(st, 5, channel_id);   /* replies live in the root's channel */
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		cJSON *m = pl_message_view_row(db, st, user_id);

		if (ascending)
			cJSON_AddItemToArray(arr, m);
		else
			cJSON_InsertItemInArray(arr, 0, m);
	}
	pl_db_done(st);
	return step == PL_DONE ? 0 : pl_err_internal(err, "replies: %s", pl_db_last_error(db));
}

int pl_thread_replies(struct pl_db *db, int64_t user_id, int64_t root_id, int64_t before,
		      int64_t after, int limit, cJSON **out, struct pl_err *err)
{
	int64_t channel_id = 0;
	cJSON *arr;

	*out = NULL;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (pl_authz_message(db, user_id, root_id, PL_MSG_READ, &channel_id, err) < 0)
		return -1;
	arr = cJSON_CreateArray();
	if (replies_rows(db, user_id, root_id, channel_id, before, after, limit, before == 0, arr,
			 err) < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

int pl_thread_follow(struct pl_db *db, int64_t user_id, int64_t root_id, bool on,
		     struct pl_err *err)
{
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_message(db, user_id, root_id, PL_MSG_READ, NULL, err) < 0 ||
	    !(st = pl_db_prepare(db, &threads_stmts[THREADS_STMT_SET_FOLLOW], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, root_id);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_int(st, 3, on ? 1 : 0);
	pl_stmt_bind_int64(st, 4, pl_now_ms());
	rc = pl_db_step_done(db, st, err);
out:
	return pl_db_end(db, rc, err);
}

int pl_thread_following(struct pl_db *db, int64_t user_id, int64_t root_id, bool *out,
			struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t v = 0;

	*out = false;
	if (pl_authz_message(db, user_id, root_id, PL_MSG_READ, NULL, err) < 0 ||
	    !(st = pl_db_prepare(db, &threads_stmts[THREADS_STMT_FOLLOWING], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, root_id);
	pl_stmt_bind_int64(st, 2, user_id);
	if (pl_db_step_id(db, st, &v, err) < 0)
		return -1;
	*out = v != 0;
	return 0;
}
