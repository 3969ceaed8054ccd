/* notifications.c — mention and dm notifications (notifications.h). */
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "message_view.h"
#include "notification_view.h"
#include "notifications.h"
#include "util.h"

enum notifications_stmt {
	NOTIFICATIONS_STMT_INSERT,
	NOTIFICATIONS_STMT_DM_OTHERS,
	NOTIFICATIONS_STMT_MENTIONED,
	NOTIFICATIONS_STMT_FOLLOWERS,
	NOTIFICATIONS_STMT_LIST_ALL,
	NOTIFICATIONS_STMT_LIST_UNREAD,
	NOTIFICATIONS_STMT_ONE,
	NOTIFICATIONS_STMT_READ_ONE,
	NOTIFICATIONS_STMT_READ_ALL,
	NOTIFICATIONS_STMT_UNREAD_ALL,
	NOTIFICATIONS_STMT_UNREAD_THROUGH,
	NOTIFICATIONS_STMT__MAX
};

static const struct pl_sql notifications_stmts[NOTIFICATIONS_STMT__MAX] = {
	[NOTIFICATIONS_STMT_INSERT] = {
		"INSERT INTO notifications (user_id, kind, message_id, created_at) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT DO NOTHING" },
	[NOTIFICATIONS_STMT_DM_OTHERS] = {
		"SELECT user_id FROM channel_members WHERE channel_id = ?1 AND user_id <> ?2" },
	[NOTIFICATIONS_STMT_MENTIONED] = {
		"SELECT u.id FROM users u JOIN channel_members m ON m.user_id = u.id AND m.channel_id = ?2 "
		"WHERE u.username = ?1 AND u.deleted_at IS NULL" },
	[NOTIFICATIONS_STMT_FOLLOWERS] = {
		"SELECT f.user_id FROM thread_follows f JOIN users u ON u.id = f.user_id "
		"WHERE f.message_id = ?1 AND f.following = 1 AND f.user_id <> ?2 "
		"AND u.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM notifications n "
		"WHERE n.user_id = f.user_id AND n.message_id = ?3) ORDER BY f.user_id" },
	[NOTIFICATIONS_STMT_LIST_ALL] = {
		"SELECT id, kind, message_id, created_at, read_at FROM notifications "
		"WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2" },
	[NOTIFICATIONS_STMT_LIST_UNREAD] = {
		"SELECT id, kind, message_id, created_at, read_at FROM notifications "
		"WHERE user_id = ?1 AND read_at IS NULL ORDER BY id DESC LIMIT ?2" },
	[NOTIFICATIONS_STMT_ONE] = {
		"SELECT id, kind, message_id, created_at, read_at FROM notifications "
		"WHERE id = ?1 AND user_id = ?2" },
	[NOTIFICATIONS_STMT_READ_ONE] = {
		"UPDATE notifications SET read_at = ?3 WHERE id = ?1 AND user_id = ?2 AND read_at IS NULL" },
	[NOTIFICATIONS_STMT_READ_ALL] = {
		"UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL" },
	[NOTIFICATIONS_STMT_UNREAD_ALL] = {
		"SELECT id FROM notifications WHERE user_id = ?1 AND read_at IS NULL ORDER BY id" },
	/* A user's unread notifications of messages in channel ?2 up to
	 * message ?3 (the read marker's new position). */
	[NOTIFICATIONS_STMT_UNREAD_THROUGH] = {
		"SELECT n.id FROM notifications n JOIN messages m ON m.id = n.message_id "
		"WHERE n.user_id = ?1 AND n.read_at IS NULL AND m.channel_id = ?2 AND n.message_id <= ?3 "
		"ORDER BY n.id" },
};

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

bool pl_mention_next(const char *s, size_t *pos, char out[33])
{
	size_t i = *pos;

	for (; s[i]; i++) {
		size_t j = i + 1, len;

		if (s[i] != '@' || (i > 0 && name_char((unsigned char)s[i - 1])))
			continue;
		while (name_char((unsigned char)s[j]))
			j++;
		len = j - i - 1;
		while (len > 0 && (s[i + len] == '.' || s[i + len] == '-'))
			len--;
		if (len >= 1 && len <= 32) {
			memcpy(out, s + i + 1, len);
			out[len] = '\0';
			*pos = j;
			return true;
		}
		i = j - 1;
	}
	*pos = i;
	return false;
}

static int64_t num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Inserts one notification and announces it to its owner. */
static int notify(struct pl_db *db, int64_t user_id, const char *kind, const cJSON *msg,
		  struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &notifications_stmts[NOTIFICATIONS_STMT_INSERT], err);
	int64_t now = pl_now_ms(), id;
	cJSON *payload, *n;
	int rc;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, kind);
	pl_stmt_bind_int64(st, 3, num(msg, "id"));
	pl_stmt_bind_int64(st, 4, now);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	if (pl_db_changes(db) == 0)
		return 0;
	id = pl_db_last_id(db);
	/* The id only: the notification is rendered from its row when
	 * delivered (event_view.h), so one that went away is never shown. */
	payload = cJSON_CreateObject();
	n = cJSON_AddObjectToObject(payload, "notification");
	cJSON_AddNumberToObject(n, "id", (double)id);
	rc = pl_event_append(db, "notification", PL_SCOPE_USER, num(msg, "channel_id"), user_id,
			     payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

/* Steps the bound statement `st` to its end, collecting its first column
 * (caller frees; *n rows). Returns NULL with *n 0 when there are none or
 * on an error, which *ok tells (false: `err` 500). */
static int64_t *step_ids(struct pl_db *db, struct pl_stmt *st, size_t *n, bool *ok,
			 struct pl_err *err)
{
	int64_t *ids = NULL;
	size_t cap = 0;
	int step;

	*n = 0;
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			ids = pl_xrealloc(ids, cap * sizeof(*ids));
		}
		ids[(*n)++] = pl_stmt_int64(st, 0);
	}
	pl_db_done(st);
	*ok = step == PL_DONE;
	if (!*ok) {
		free(ids);
		*n = 0;
		pl_err_internal(err, "notifications: %s", pl_db_last_error(db));
		return NULL;
	}
	return ids;
}

/* Collects the ids statement `q` (one or two parameters) returns (caller
 * frees). */
static int64_t *collect(struct pl_db *db, enum notifications_stmt q, const char *text, int64_t a,
			int64_t b, size_t *n, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &notifications_stmts[q], err);
	bool ok;

	*n = 0;
	if (!st)
		return NULL;
	if (text) {
		pl_stmt_bind_text(st, 1, text);
		pl_stmt_bind_int64(st, 2, a);
	} else {
		pl_stmt_bind_int64(st, 1, a);
		pl_stmt_bind_int64(st, 2, b);
	}
	return step_ids(db, st, n, &ok, err);
}

static int notify_all(struct pl_db *db, int64_t *ids, size_t n, int64_t author, const char *kind,
		      const cJSON *msg, struct pl_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (ids[i] != author)
			rc = notify(db, ids[i], kind, msg, err);
	free(ids);
	return rc;
}

int pl_notify_message_locked(struct pl_db *db, const cJSON *msg, const char *kind, struct pl_err *err)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	int64_t author = num(msg, "user_id"), channel = num(msg, "channel_id");
	char name[33];
	size_t pos = 0, n = 0;
	int64_t *ids;
	int seen = 0;

	if (strcmp(kind, "dm") == 0) {
		ids = collect(db, NOTIFICATIONS_STMT_DM_OTHERS, NULL, channel, author, &n, err);
		if (notify_all(db, ids, n, author, "dm", msg, err) < 0)
			return -1;
	}
	if (!cJSON_IsString(content))
		return 0;
	while (seen++ < PL_MENTIONS_MAX && pl_mention_next(content->valuestring, &pos, name)) {
		ids = collect(db, NOTIFICATIONS_STMT_MENTIONED, name, channel, 0, &n, err);
		if (notify_all(db, ids, n, author, "mention", msg, err) < 0)
			return -1;
	}
	return 0;
}

int pl_notify_thread_locked(struct pl_db *db, const cJSON *msg, int64_t root_id,
			    struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &notifications_stmts[NOTIFICATIONS_STMT_FOLLOWERS], err);
	int64_t author = num(msg, "user_id"), channel = num(msg, "channel_id"), *ids;
	size_t n = 0;
	bool ok;
	int rc = 0;

	if (!st)
		return -1;
	/* those the message notified already (mention, dm) are left out: a
	 * conflicting insert would still use up a notification id */
	pl_stmt_bind_int64(st, 1, root_id);
	pl_stmt_bind_int64(st, 2, author);
	pl_stmt_bind_int64(st, 3, num(msg, "id"));
	ids = step_ids(db, st, &n, &ok, err);
	if (!ok)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct pl_err denied = { 0 };

		/* the one authorization module decides who may still read it */
		if (pl_authz_channel(db, ids[i], channel, PL_ACT_READ, NULL, &denied) < 0) {
			if (denied.status >= 500)
				rc = pl_err_internal(err, "thread follower %lld: %s",
						     (long long)ids[i], denied.message);
			continue;
		}
		rc = notify(db, ids[i], "reply", msg, err);
	}
	free(ids);
	return rc;
}

/* Storage: the current row of NOTIFICATIONS_STMT_ONE / _LIST_* (strings
 * borrowed). */
static void notification_row(struct pl_stmt *st, struct pl_notification *n)
{
	n->id = pl_stmt_int64(st, 0);
	n->kind = pl_stmt_text(st, 1);
	n->message_id = pl_stmt_int64(st, 2);
	n->created_at = pl_stmt_int64(st, 3);
	n->read = !pl_stmt_null(st, 4);
}

/* The current row as `user_id` may see it now: NULL when its message is
 * in a channel they can no longer read (authz.h), or gone. */
static cJSON *notification_from_row(struct pl_db *db, int64_t user_id, struct pl_stmt *st)
{
	struct pl_notification n;
	cJSON *msg;

	notification_row(st, &n);
	if (pl_authz_message(db, user_id, n.message_id, PL_MSG_READ, NULL, NULL) < 0 ||
	    !(msg = pl_message_json(db, user_id, n.message_id, NULL)))
		return NULL;
	return pl_notification_view(&n, msg);
}

cJSON *pl_notification_json(struct pl_db *db, int64_t user_id, int64_t id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &notifications_stmts[NOTIFICATIONS_STMT_ONE], err);
	cJSON *n = NULL;
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, id);
	pl_stmt_bind_int64(st, 2, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		n = notification_from_row(db, user_id, st);
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		pl_err_internal(err, "notification %lld: %s", (long long)id, pl_db_last_error(db));
	else if (!n)
		pl_err_set(err, 404, "no such notification");
	return n;
}

int pl_notifications_list(struct pl_db *db, int64_t user_id, bool unread_only, int limit,
			  cJSON **out, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *body, *arr, *n;
	int step;

	*out = NULL;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (!(st = pl_db_prepare(db, &notifications_stmts[unread_only ? NOTIFICATIONS_STMT_LIST_UNREAD
								    : NOTIFICATIONS_STMT_LIST_ALL], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int(st, 2, limit);
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "notifications");
	while ((step = pl_stmt_step(st)) == PL_ROW)
		if ((n = notification_from_row(db, user_id, st)))
			cJSON_AddItemToArray(arr, n);
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		return pl_err_internal(err, "notifications: %s", pl_db_last_error(db));
	}
	*out = body;
	return 0;
}

static int mark(struct pl_db *db, enum notifications_stmt q, int64_t a, int64_t b, int64_t now,
		struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &notifications_stmts[q], err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, a);
	pl_stmt_bind_int64(st, 2, b);
	if (pl_stmt_param_count(st) >= 3)
		pl_stmt_bind_int64(st, 3, now);
	step = pl_stmt_step(st);
	pl_db_done(st);
	return step == PL_DONE ? 0 : pl_err_internal(err, "mark read: %s", pl_db_last_error(db));
}

/* The ids statement `q` returns for (user_id, a, b) (caller frees; NULL
 * with *n 0 when none or on an error: then -1 in *rc). */
static int64_t *unread_ids(struct pl_db *db, enum notifications_stmt q, int64_t user_id, int64_t a,
			   int64_t b, size_t *n, int *rc, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &notifications_stmts[q], err);
	int64_t *ids;
	bool ok;

	*n = 0;
	*rc = -1;
	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, user_id);
	if (pl_stmt_param_count(st) >= 3) {
		pl_stmt_bind_int64(st, 2, a);
		pl_stmt_bind_int64(st, 3, b);
	}
	ids = step_ids(db, st, n, &ok, err);
	*rc = ok ? 0 : -1;
	return ids;
}

/* The `notification.read` event: {"ids":[...]} to the user alone, so their
 * other devices clear the same notifications. */
static int announce_read(struct pl_db *db, int64_t user_id, const int64_t *ids, size_t n,
			 struct pl_err *err)
{
	cJSON *payload, *arr;
	int rc;

	if (n == 0)
		return 0;
	payload = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(payload, "ids");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)ids[i]));
	rc = pl_event_append(db, "notification.read", PL_SCOPE_USER, 0, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

/* Marks each of the `n` ids read when it is `user_id`'s and unread, then
 * announces those that changed. Inside a write transaction. */
static int mark_ids_locked(struct pl_db *db, int64_t user_id, const int64_t *ids, size_t n,
			   struct pl_err *err)
{
	int64_t now = pl_now_ms(), *changed = pl_xcalloc(n ? n : 1, sizeof(*changed));
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = mark(db, NOTIFICATIONS_STMT_READ_ONE, ids[i], user_id, now, err);
		if (rc == 0 && pl_db_changes(db) > 0)
			changed[k++] = ids[i];
	}
	if (rc == 0)
		rc = announce_read(db, user_id, changed, k, err);
	free(changed);
	return rc;
}

int pl_notifications_read(struct pl_db *db, int64_t user_id, const int64_t *ids, size_t n,
			  bool all, struct pl_err *err)
{
	int64_t *unread = NULL;
	size_t nu = 0;
	int rc = 0;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (all) {
		unread = unread_ids(db, NOTIFICATIONS_STMT_UNREAD_ALL, user_id, 0, 0, &nu, &rc, err);
		if (rc == 0)
			rc = mark(db, NOTIFICATIONS_STMT_READ_ALL, user_id, pl_now_ms(), 0, err);
		if (rc == 0)
			rc = announce_read(db, user_id, unread, nu, err);
		free(unread);
	} else {
		rc = mark_ids_locked(db, user_id, ids, n, err);
	}
	return pl_db_end(db, rc, err);
}

int pl_notifications_read_through_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
					 int64_t message_id, struct pl_err *err)
{
	size_t n = 0;
	int rc;
	int64_t *ids = unread_ids(db, NOTIFICATIONS_STMT_UNREAD_THROUGH, user_id, channel_id,
				  message_id, &n, &rc, err);

	if (rc == 0)
		rc = mark_ids_locked(db, user_id, ids, n, err);
	free(ids);
	return rc;
}
