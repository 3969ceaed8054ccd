/* audit.c — the audit log of server administration (audit.h). */
#include <stdlib.h>
#include "audit.h"
#include "json.h"
#include "util.h"

enum audit_stmt { AUDIT_STMT_INSERT, AUDIT_STMT_LIST, AUDIT_STMT__MAX };

static const struct pl_sql audit_stmts[AUDIT_STMT__MAX] = {
	/* The actor's name as it is now (an erased admin's rows keep the
	 * name they had when they acted); parleyctl has no row. */
	[AUDIT_STMT_INSERT] = {
		"INSERT INTO audit_log (actor_id, actor, action, target_type, target_id, detail, created_at) "
		"VALUES (?1, coalesce((SELECT username FROM users WHERE id = ?1), 'parleyctl'), "
		"?2, ?3, ?4, ?5, ?6)" },
	[AUDIT_STMT_LIST] = {
		"SELECT id, actor_id, actor, action, target_type, target_id, detail, created_at "
		"FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2" },
};

int pl_audit_append(struct pl_db *db, int64_t actor_id, const char *action,
		    const char *target_type, int64_t target_id, const cJSON *detail,
		    struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &audit_stmts[AUDIT_STMT_INSERT], err);
	char *text = NULL;
	int rc;

	if (!st)
		return -1;
	text = detail ? cJSON_PrintUnformatted(detail) : NULL;
	pl_stmt_bind_id(st, 1, actor_id);
	pl_stmt_bind_text(st, 2, action);
	pl_stmt_bind_text(st, 3, target_type);
	pl_stmt_bind_int64(st, 4, target_id);
	pl_stmt_bind_text(st, 5, text ? text : "{}");
	pl_stmt_bind_int64(st, 6, pl_now_ms());
	rc = pl_db_step_done(db, st, err);
	free(text);
	return rc;
}

/* The entry object of the current row of AUDIT_STMT_LIST. */
static cJSON *entry_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	const char *detail = pl_stmt_text(st, 6);
	cJSON *d = detail ? cJSON_Parse(detail) : NULL;

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	pl_json_add_id(o, "actor_id", pl_stmt_int64(st, 1));
	cJSON_AddStringToObject(o, "actor", pl_stmt_text(st, 2) ? pl_stmt_text(st, 2) : "");
	cJSON_AddStringToObject(o, "action", pl_stmt_text(st, 3) ? pl_stmt_text(st, 3) : "");
	cJSON_AddStringToObject(o, "target_type", pl_stmt_text(st, 4) ? pl_stmt_text(st, 4) : "");
	cJSON_AddNumberToObject(o, "target_id", (double)pl_stmt_int64(st, 5));
	cJSON_AddItemToObject(o, "detail", cJSON_IsObject(d) ? d : cJSON_CreateObject());
	if (d && !cJSON_IsObject(d))
		cJSON_Delete(d);
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 7));
	return o;
}

int pl_audit_list(struct pl_db *db, int limit, int64_t before, cJSON **out, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *body, *arr;
	int step;

	*out = NULL;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (!(st = pl_db_prepare(db, &audit_stmts[AUDIT_STMT_LIST], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
	pl_stmt_bind_int(st, 2, limit);
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "entries");
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, entry_row(st));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		return pl_err_internal(err, "audit list: %s", pl_db_last_error(db));
	}
	*out = body;
	return 0;
}
