/* events.c — the events table: append, read after a cursor, visibility (events.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "events.h"
#include "json.h"
#include "log.h"
#include "util.h"

enum events_stmt {
	EVENTS_STMT_APPEND,
	EVENTS_STMT_AFTER,
	EVENTS_STMT_FIRST,
	EVENTS_STMT_PRUNE,
	EVENTS_STMT__MAX
};

static const struct pl_sql events_stmts[EVENTS_STMT__MAX] = {
	[EVENTS_STMT_APPEND] = {
		"INSERT INTO events (type, scope, channel_id, user_id, payload, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
	[EVENTS_STMT_AFTER] = {
		"SELECT id, type, scope, channel_id, user_id, payload, created_at FROM events "
		"WHERE id > ?1 ORDER BY id LIMIT ?2" },
	[EVENTS_STMT_FIRST] = { "SELECT min(id) FROM events" },
	[EVENTS_STMT_PRUNE] = {
		"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < ?1 "
		"ORDER BY id LIMIT ?2)" },
};

int pl_event_append(struct pl_db *db, const char *type, enum pl_event_scope scope,
		    int64_t channel_id, int64_t user_id, const cJSON *payload,
		    int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &events_stmts[EVENTS_STMT_APPEND], err);
	char *text;
	int step;

	if (!st)
		return -1;
	text = pl_json_print(payload);
	pl_stmt_bind_text(st, 1, type);
	pl_stmt_bind_int(st, 2, (int)scope);
	if (channel_id)
		pl_stmt_bind_int64(st, 3, channel_id);
	if (user_id)
		pl_stmt_bind_int64(st, 4, user_id);
	pl_stmt_bind_text(st, 5, text);
	pl_stmt_bind_int64(st, 6, pl_now_ms());
	step = pl_stmt_step(st);
	pl_db_done(st);
	free(text);
	if (step != PL_DONE)
		return pl_err_internal(err, "append event %s: %s", type, pl_db_last_error(db));
	if (id)
		*id = pl_db_last_id(db);
	return 0;
}

int pl_events_after(struct pl_db *db, int64_t after_id, size_t max,
		    struct pl_event *out, size_t *n, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &events_stmts[EVENTS_STMT_AFTER], err);
	int step = PL_DONE;

	*n = 0;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, after_id);
	pl_stmt_bind_int64(st, 2, (int64_t)max);
	while (*n < max && (step = pl_stmt_step(st)) == PL_ROW) {
		struct pl_event *ev = &out[(*n)++];
		memset(ev, 0, sizeof(*ev));
		ev->id = pl_stmt_int64(st, 0);
		snprintf(ev->type, sizeof(ev->type), "%s", pl_stmt_text(st, 1));
		ev->scope = (enum pl_event_scope)pl_stmt_int(st, 2);
		ev->channel_id = pl_stmt_int64(st, 3);
		ev->user_id = pl_stmt_int64(st, 4);
		ev->payload = pl_xstrdup(pl_stmt_text(st, 5));
		ev->created_at = pl_stmt_int64(st, 6);
	}
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE) {
		for (size_t i = 0; i < *n; i++)
			pl_event_release(&out[i]);
		*n = 0;
		return pl_err_internal(err, "read events: %s", pl_db_last_error(db));
	}
	return 0;
}

void pl_event_release(struct pl_event *ev)
{
	free(ev->payload);
	ev->payload = NULL;
}

int64_t pl_event_last_id(struct pl_db *db)
{
	/* The sequence keeps the highest id ever used, even once pruned. */
	return pl_db_sequence(db, "events");
}

cJSON *pl_event_render(const struct pl_event *ev)
{
	cJSON *payload = cJSON_Parse(ev->payload);
	cJSON *obj, *item;

	if (!cJSON_IsObject(payload)) {
		cJSON_Delete(payload);
		return NULL;
	}
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "type", ev->type);
	cJSON_AddNumberToObject(obj, "event_id", (double)ev->id);
	if (ev->channel_id)
		cJSON_AddNumberToObject(obj, "channel_id", (double)ev->channel_id);
	/* Move the payload's fields after the envelope's. */
	while ((item = cJSON_DetachItemFromArray(payload, 0)) != NULL) {
		if (cJSON_GetObjectItemCaseSensitive(obj, item->string))
			cJSON_Delete(item);
		else
			cJSON_AddItemToObject(obj, item->string, item);
	}
	cJSON_Delete(payload);
	return obj;
}

bool pl_event_since_pruned(struct pl_db *db, int64_t since)
{
	struct pl_stmt *st;
	int64_t first = 0, last;

	last = pl_event_last_id(db);
	if (last < 0 || since >= last)
		return false;
	if (!(st = pl_db_prepare(db, &events_stmts[EVENTS_STMT_FIRST], NULL)))
		return false;
	if (pl_stmt_step(st) == PL_ROW && !pl_stmt_null(st, 0))
		first = pl_stmt_int64(st, 0);
	pl_db_done(st);
	/* Nothing stored but ids were used: all pruned. Else a gap before the
	 * first stored event was pruned away. */
	if (first == 0)
		return true;
	return since < first - 1;
}

int pl_events_prune(struct pl_db *db, int64_t before_ms, int max, int *deleted,
		    struct pl_err *err)
{
	struct pl_stmt *st;
	int step, n = 0;

	if (deleted)
		*deleted = 0;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &events_stmts[EVENTS_STMT_PRUNE], err)))
		return pl_db_end(db, -1, err);
	pl_stmt_bind_int64(st, 1, before_ms);
	pl_stmt_bind_int(st, 2, max);
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step != PL_DONE) {
		pl_err_internal(err, "prune events: %s", pl_db_last_error(db));
		return pl_db_end(db, -1, err);
	}
	n = (int)pl_db_changes(db);
	if (pl_db_end(db, 0, err) < 0)
		return -1;
	if (deleted)
		*deleted = n;
	return 0;
}

bool pl_event_ephemeral(const struct pl_event *ev)
{
	return strcmp(ev->type, "typing") == 0;
}
