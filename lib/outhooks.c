/*
 * outhooks.c — outgoing webhooks, management: create, list, delete, the
 * delivery log (outhooks.h). This file owns the outgoing_webhooks table;
 * the deliveries and the cursor are written by outhook_queue.c.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "json.h"
#include "outhooks.h"
#include "url_guard.h"
#include "util.h"

enum outhooks_stmt {
	OUTHOOKS_STMT_COUNT,
	OUTHOOKS_STMT_INSERT,
	OUTHOOKS_STMT_CURSOR_INIT,
	OUTHOOKS_STMT_LIST,
	OUTHOOKS_STMT_GET,
	OUTHOOKS_STMT_DELETE,
	OUTHOOKS_STMT_DELIVERIES,
	OUTHOOKS_STMT__MAX
};

#define OUTHOOK_COLUMNS "id, channel_id, created_by, name, url, trigger_words, created_at"

static const struct pl_sql outhooks_stmts[OUTHOOKS_STMT__MAX] = {
	[OUTHOOKS_STMT_COUNT] = { "SELECT count(*) FROM outgoing_webhooks WHERE channel_id = ?1" },
	[OUTHOOKS_STMT_INSERT] = {
		"INSERT INTO outgoing_webhooks (channel_id, created_by, name, url, trigger_words, "
		"secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id" },
	/* The first hook ever starts the workers' cursor at the newest event:
	 * messages from now on are delivered, none from before. */
	[OUTHOOKS_STMT_CURSOR_INIT] = {
		"INSERT INTO outgoing_webhook_cursor (singleton, last_event_id) "
		"VALUES (1, (SELECT coalesce(max(id), 0) FROM events)) ON CONFLICT DO NOTHING" },
	[OUTHOOKS_STMT_LIST] = {
		"SELECT " OUTHOOK_COLUMNS " FROM outgoing_webhooks WHERE channel_id = ?1 ORDER BY id" },
	[OUTHOOKS_STMT_GET] = {
		"SELECT " OUTHOOK_COLUMNS " FROM outgoing_webhooks WHERE id = ?1 AND channel_id = ?2" },
	[OUTHOOKS_STMT_DELETE] = {
		"DELETE FROM outgoing_webhooks WHERE id = ?1 AND channel_id = ?2" },
	[OUTHOOKS_STMT_DELIVERIES] = {
		"SELECT id, hook_id, event_id, message_id, trigger_word, status, attempts, "
		"last_status, last_error, next_attempt_at, delivered_at, created_at "
		"FROM outgoing_webhook_deliveries WHERE hook_id = ?1 AND id < ?2 "
		"ORDER BY id DESC LIMIT ?3" },
};

/* The hook object of the current row of a statement of OUTHOOK_COLUMNS. */
static cJSON *hook_json(struct pl_stmt *st)
{
	cJSON *h = cJSON_CreateObject();
	cJSON *words = cJSON_CreateArray();
	const char *w = pl_stmt_text(st, 5);

	pl_json_add_id(h, "id", pl_stmt_int64(st, 0));
	pl_json_add_id(h, "channel_id", pl_stmt_int64(st, 1));
	cJSON_AddStringToObject(h, "name", pl_stmt_text(st, 3) ? pl_stmt_text(st, 3) : "");
	cJSON_AddStringToObject(h, "url", pl_stmt_text(st, 4) ? pl_stmt_text(st, 4) : "");
	while (w && *w) {
		size_t n = strcspn(w, " ");
		char *one = pl_xstrndup(w, n);
		if (n)
			cJSON_AddItemToArray(words, cJSON_CreateString(one));
		free(one);
		w += n;
		w += strspn(w, " ");
	}
	cJSON_AddItemToObject(h, "trigger_words", words);
	pl_json_add_id(h, "created_by", pl_stmt_int64(st, 2));
	pl_json_add_time(h, "created_at", pl_stmt_int64(st, 6));
	return h;
}

/* Checks the trigger words and joins them with single spaces into *out
 * (allocated; "" for none). */
static int trigger_words(const cJSON *arr, char **out, struct pl_err *err)
{
	const cJSON *it;
	size_t len = 1, n = 0;
	char *s;

	*out = NULL;
	if (!arr || cJSON_IsNull(arr)) {
		*out = pl_xstrdup("");
		return 0;
	}
	if (!cJSON_IsArray(arr))
		return pl_err_set(err, 400, "field \"trigger_words\" must be an array of strings");
	cJSON_ArrayForEach(it, arr) {
		const char *w = it->valuestring;
		if (!cJSON_IsString(it))
			return pl_err_set(err, 400, "field \"trigger_words\" must be an array of strings");
		if (++n > PL_OUTHOOK_TRIGGERS_MAX)
			return pl_err_set(err, 400, "at most %d trigger words", PL_OUTHOOK_TRIGGERS_MAX);
		if (!*w || strlen(w) > PL_OUTHOOK_TRIGGER_LEN)
			return pl_err_set(err, 400, "a trigger word is 1-%d bytes", PL_OUTHOOK_TRIGGER_LEN);
		if (!pl_utf8_valid(w, strlen(w), NULL) || pl_text_has_controls(w, false) ||
		    w[strcspn(w, " \t\r\n")])
			return pl_err_set(err, 400, "a trigger word is one word: no spaces or control characters");
		len += strlen(w) + 1;
	}
	s = pl_xcalloc(1, len);
	cJSON_ArrayForEach(it, arr) {
		if (*s)
			strcat(s, " ");
		strcat(s, it->valuestring);
	}
	*out = s;
	return 0;
}

static int check_name(const char *name, struct pl_err *err)
{
	size_t cps;

	if (!pl_utf8_valid(name, strlen(name), &cps) || cps > PL_OUTHOOK_NAME_MAX ||
	    pl_text_has_controls(name, false))
		return pl_err_set(err, 400, "name is at most %d characters on one line",
				  PL_OUTHOOK_NAME_MAX);
	return 0;
}

/* Inside the write transaction: the count bound, the row, the cursor. */
static int insert_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			 const char *name, const char *url, const char *words, const char *secret,
			 int64_t now, int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t count = 0;

	if (!(st = pl_db_prepare(db, &outhooks_stmts[OUTHOOKS_STMT_COUNT], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	if (pl_db_step_id(db, st, &count, err) < 0)
		return -1;
	if (count >= PL_OUTHOOK_PER_CHANNEL)
		return pl_err_set(err, 409, "a channel has at most %d outgoing webhooks",
				  PL_OUTHOOK_PER_CHANNEL);
	if (!(st = pl_db_prepare(db, &outhooks_stmts[OUTHOOKS_STMT_INSERT], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_text(st, 3, name);
	pl_stmt_bind_text(st, 4, url);
	pl_stmt_bind_text(st, 5, words);
	pl_stmt_bind_text(st, 6, secret);
	pl_stmt_bind_int64(st, 7, now);
	if (pl_db_step_id(db, st, id, err) != 0)
		return err->status ? -1 : pl_err_internal(err, "outgoing webhook insert: no id");
	if (!(st = pl_db_prepare(db, &outhooks_stmts[OUTHOOKS_STMT_CURSOR_INIT], err)))
		return -1;
	return pl_db_step_done(db, st, err);
}

/* Reads hook `id` of `channel_id` as its object; NULL with 404/500. */
static cJSON *hook_get(struct pl_db *db, int64_t channel_id, int64_t id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &outhooks_stmts[OUTHOOKS_STMT_GET], err);
	cJSON *h = NULL;
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, id);
	pl_stmt_bind_int64(st, 2, channel_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		h = hook_json(st);
	else if (step == PL_DONE)
		pl_err_set(err, 404, "no such outgoing webhook");
	else
		pl_err_internal(err, "outgoing webhook read: %s", pl_db_last_error(db));
	pl_db_done(st);
	return h;
}

int pl_outhook_create(struct pl_db *db, int64_t user_id, int64_t channel_id,
		      const struct pl_outhook_new *in, const char *allow_hosts,
		      cJSON **out, struct pl_err *err)
{
	struct pl_url_target target;
	unsigned char raw[PL_OUTHOOK_SECRET_LEN / 2];
	char secret[PL_OUTHOOK_SECRET_LEN + 1];
	const char *name = in->name ? in->name : "";
	char *words = NULL;
	int64_t id = 0;
	int rc = -1;

	*out = NULL;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MANAGE, NULL, err) < 0)
		return -1;
	if (!in->url)
		return pl_err_set(err, 400, "field \"url\" is required");
	if (check_name(name, err) < 0 || trigger_words(in->trigger_words, &words, err) < 0)
		goto out;
	/* Resolves the host: outside the write transaction. */
	if (pl_url_check(in->url, allow_hosts, &target, err) < 0)
		goto out;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(secret, sizeof(secret), raw, sizeof(raw));
	if (pl_db_begin(db, err) < 0)
		goto out;
	rc = insert_locked(db, user_id, channel_id, name, in->url, words, secret, pl_now_ms(),
			   &id, err);
	if ((rc = pl_db_end(db, rc, err)) < 0)
		goto out;
	if (!(*out = hook_get(db, channel_id, id, err))) {
		rc = -1;
		goto out;
	}
	cJSON_AddStringToObject(*out, "secret", secret);
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(raw, sizeof(raw));
	free(words);
	return rc;
}

cJSON *pl_outhook_list(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *body, *arr;
	int step;

	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MANAGE, NULL, err) < 0)
		return NULL;
	if (!(st = pl_db_prepare(db, &outhooks_stmts[OUTHOOKS_STMT_LIST], err)))
		return NULL;
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "outgoing_webhooks");
	pl_stmt_bind_int64(st, 1, channel_id);
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, hook_json(st));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		pl_err_internal(err, "outgoing webhook list: %s", pl_db_last_error(db));
		return NULL;
	}
	return body;
}

int pl_outhook_delete(struct pl_db *db, int64_t user_id, int64_t channel_id, int64_t hook_id,
		      struct pl_err *err)
{
	struct pl_stmt *st;
	int rc;

	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MANAGE, NULL, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = (st = pl_db_prepare(db, &outhooks_stmts[OUTHOOKS_STMT_DELETE], err)) ? 0 : -1;
	if (rc == 0) {
		pl_stmt_bind_int64(st, 1, hook_id);
		pl_stmt_bind_int64(st, 2, channel_id);
		rc = pl_db_step_done(db, st, err);
	}
	if (rc == 0 && pl_db_changes(db) == 0)
		rc = pl_err_set(err, 404, "no such outgoing webhook");
	return pl_db_end(db, rc, err);
}

/* One row of OUTHOOKS_STMT_DELIVERIES as its object. */
static cJSON *delivery_json(struct pl_stmt *st)
{
	cJSON *d = cJSON_CreateObject();

	pl_json_add_id(d, "id", pl_stmt_int64(st, 0));
	pl_json_add_id(d, "webhook_id", pl_stmt_int64(st, 1));
	pl_json_add_id(d, "event_id", pl_stmt_int64(st, 2));
	pl_json_add_id(d, "message_id", pl_stmt_int64(st, 3));
	if (pl_stmt_null(st, 4))
		cJSON_AddNullToObject(d, "trigger_word");
	else
		cJSON_AddStringToObject(d, "trigger_word", pl_stmt_text(st, 4));
	cJSON_AddStringToObject(d, "status", pl_stmt_text(st, 5) ? pl_stmt_text(st, 5) : "");
	cJSON_AddNumberToObject(d, "attempts", pl_stmt_int(st, 6));
	if (pl_stmt_null(st, 7))
		cJSON_AddNullToObject(d, "last_status");
	else
		cJSON_AddNumberToObject(d, "last_status", pl_stmt_int(st, 7));
	if (pl_stmt_null(st, 8))
		cJSON_AddNullToObject(d, "last_error");
	else
		cJSON_AddStringToObject(d, "last_error", pl_stmt_text(st, 8));
	pl_json_add_time(d, "next_attempt_at", pl_stmt_int64(st, 9));
	pl_json_add_time(d, "delivered_at", pl_stmt_int64(st, 10));
	pl_json_add_time(d, "created_at", pl_stmt_int64(st, 11));
	return d;
}

cJSON *pl_outhook_deliveries(struct pl_db *db, int64_t user_id, int64_t channel_id,
			     int64_t hook_id, int limit, int64_t before, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *hook, *body, *arr;
	int step;

	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MANAGE, NULL, err) < 0)
		return NULL;
	if (!(hook = hook_get(db, channel_id, hook_id, err)))
		return NULL;
	cJSON_Delete(hook);
	if (!(st = pl_db_prepare(db, &outhooks_stmts[OUTHOOKS_STMT_DELIVERIES], err)))
		return NULL;
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "deliveries");
	pl_stmt_bind_int64(st, 1, hook_id);
	pl_stmt_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	pl_stmt_bind_int(st, 3, limit);
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, delivery_json(st));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		pl_err_internal(err, "outgoing webhook deliveries: %s", pl_db_last_error(db));
		return NULL;
	}
	return body;
}
