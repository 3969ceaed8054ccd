/* message_edits.c — a message's edit history (message_edits.h). */
#include "authz.h"
#include "json.h"
#include "message_edits.h"
#include "util.h"

enum message_edits_stmt {
	EDITS_STMT_KEEP,
	EDITS_STMT_DROP,
	EDITS_STMT_PAGE,
	EDITS_STMT__MAX
};

static const struct pl_sql edits_stmts[EDITS_STMT__MAX] = {
	[EDITS_STMT_KEEP] = {
		"INSERT INTO message_edits (message_id, content, written_at, replaced_at) "
		"SELECT id, content, COALESCE(edited_at, created_at), ?3 FROM messages "
		"WHERE id = ?1 AND deleted = 0 AND content <> ?2" },
	[EDITS_STMT_DROP] = { "DELETE FROM message_edits WHERE message_id = ?1" },
	[EDITS_STMT_PAGE] = {
		"SELECT e.id, e.content, e.written_at, e.replaced_at, e.written_at = m.created_at "
		"FROM message_edits e JOIN messages m ON m.id = e.message_id "
		"WHERE e.message_id = ?1 AND e.id > ?2 ORDER BY e.id LIMIT ?3" },
};

int pl_message_edit_keep_locked(struct pl_db *db, int64_t id, const char *new_content,
				int64_t now_ms, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &edits_stmts[EDITS_STMT_KEEP], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	pl_stmt_bind_text(st, 2, new_content);
	pl_stmt_bind_int64(st, 3, now_ms);
	return pl_db_step_done(db, st, err);
}

int pl_message_edits_drop_locked(struct pl_db *db, int64_t id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &edits_stmts[EDITS_STMT_DROP], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	return pl_db_step_done(db, st, err);
}

/* Appends the page's rows to `arr`. Returns 0 or -1 (`err` 500). */
static int page(struct pl_db *db, int64_t id, int64_t after, int limit, cJSON *arr,
		struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &edits_stmts[EDITS_STMT_PAGE], err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	pl_stmt_bind_int64(st, 2, after);
	pl_stmt_bind_int64(st, 3, limit);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		cJSON *e = cJSON_CreateObject();

		pl_json_add_id(e, "id", pl_stmt_int64(st, 0));
		cJSON_AddStringToObject(e, "content", pl_stmt_text(st, 1));
		/* API.md: edited_at is the version's own edited_at, null while
		 * it had never been edited (written when the message was; an
		 * edit that repeated the text set edited_at without a row) */
		pl_json_add_time(e, "edited_at", pl_stmt_int(st, 4) ? 0 : pl_stmt_int64(st, 2));
		pl_json_add_time(e, "written_at", pl_stmt_int64(st, 2));
		pl_json_add_time(e, "replaced_at", pl_stmt_int64(st, 3));
		cJSON_AddItemToArray(arr, e);
	}
	pl_db_done(st);
	return step == PL_DONE ? 0 : pl_err_internal(err, "edit history: %s", pl_db_last_error(db));
}

int pl_message_edits(struct pl_db *db, int64_t user_id, int64_t id, int64_t after, int limit,
		     cJSON **out, struct pl_err *err)
{
	cJSON *body;

	*out = NULL;
	if (pl_authz_message(db, user_id, id, PL_MSG_READ, NULL, err) < 0)
		return -1;
	body = cJSON_CreateArray();
	if (page(db, id, after, limit, body, err) < 0) {
		cJSON_Delete(body);
		return -1;
	}
	*out = body;
	return 0;
}
