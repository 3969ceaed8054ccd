/* message_view.c — the message object (message_view.h). */
#include "json.h"
#include "log.h"
#include "message_view.h"
#include "reactions.h"

static const char sql_message_by_id[] = PL_MESSAGE_COLUMNS "WHERE m.id = ?1";

cJSON *pl_message_view_row(struct pl_db *db, struct pl_stmt *st, int64_t viewer)
{
	cJSON *m = cJSON_CreateObject();
	const char *cmid = pl_stmt_text(st, 9);
	bool deleted = pl_stmt_int(st, 7) != 0;

	/* Constant keys (…CS): the keys are not copied, half the allocations
	 * of a history page. */
	cJSON_AddItemToObjectCS(m, "id", cJSON_CreateNumber((double)pl_stmt_int64(st, 0)));
	cJSON_AddItemToObjectCS(m, "channel_id", cJSON_CreateNumber((double)pl_stmt_int64(st, 1)));
	cJSON_AddItemToObjectCS(m, "user_id", cJSON_CreateNumber((double)pl_stmt_int64(st, 2)));
	cJSON_AddItemToObjectCS(m, "username", cJSON_CreateString(pl_stmt_text(st, 3)));
	cJSON_AddItemToObjectCS(m, "content",
				cJSON_CreateString(deleted ? "" : pl_stmt_text(st, 4)));
	pl_json_add_time(m, "created_at", pl_stmt_int64(st, 5));
	pl_json_add_time(m, "edited_at", pl_stmt_int64(st, 6));
	cJSON_AddItemToObjectCS(m, "deleted", cJSON_CreateBool(deleted));
	pl_json_add_id(m, "reply_to", pl_stmt_int64(st, 8));
	cJSON_AddItemToObjectCS(m, "client_msg_id", cmid ? cJSON_CreateString(cmid) : cJSON_CreateNull());
	/* Column 11 says whether any reaction exists: most messages have none,
	 * and a primary-key probe is far cheaper than the grouped list query. */
	cJSON_AddItemToObjectCS(m, "reactions",
			      deleted || !pl_stmt_int(st, 11)
				      ? cJSON_CreateArray()
				      : pl_reactions_json(db, pl_stmt_int64(st, 0), viewer));
	return m;
}

cJSON *pl_message_json(struct pl_db *db, int64_t viewer, int64_t id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_message_by_id, err);
	cJSON *m = NULL;
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		m = pl_message_view_row(db, st, viewer);
	else if (step == PL_DONE)
		pl_err_set(err, 404, "no such message");
	else
		pl_err_internal(err, "message %lld: %s", (long long)id, pl_db_last_error(db));
	pl_db_done(st);
	return m;
}
