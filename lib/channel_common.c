/* channel_common.c — helpers the channel modules share (channel_common.h). */
#include "channel_common.h"
#include "util.h"

enum channel_common_stmt {
	CHANNEL_COMMON_STMT_INSERT_MEMBER,
	CHANNEL_COMMON_STMT_USER_EXISTS,
	CHANNEL_COMMON_STMT__MAX
};

static const struct pl_sql channel_common_stmts[CHANNEL_COMMON_STMT__MAX] = {
	[CHANNEL_COMMON_STMT_INSERT_MEMBER] = {
		"INSERT INTO channel_members (channel_id, user_id, role, joined_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING" },
	[CHANNEL_COMMON_STMT_USER_EXISTS] = {
		"SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NULL" },
};

int pl_chan_exec(struct pl_db *db, const struct pl_sql *q, int64_t a, int64_t b,
		 struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, q, err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, a);
	if (pl_stmt_param_count(st) >= 2)
		pl_stmt_bind_int64(st, 2, b);
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step != PL_DONE && step != PL_ROW)
		return pl_err_internal(err, "statement: %s", pl_db_last_error(db));
	return 0;
}

int64_t pl_chan_query_id(struct pl_db *db, const struct pl_sql *q, int64_t a, int64_t dflt)
{
	struct pl_stmt *st = pl_db_prepare(db, q, NULL);
	int64_t v = dflt;

	if (!st)
		return dflt;
	pl_stmt_bind_int64(st, 1, a);
	if (pl_stmt_step(st) == PL_ROW)
		v = pl_stmt_int64(st, 0);
	pl_db_done(st);
	return v;
}

int pl_chan_event(struct pl_db *db, const char *type, enum pl_event_scope scope,
		  int64_t channel_id, int64_t user_id, const char *key, cJSON *item,
		  struct pl_err *err)
{
	cJSON *payload = cJSON_CreateObject();
	int rc;

	if (key && item)
		cJSON_AddItemReferenceToObject(payload, key, item);
	else
		cJSON_AddNumberToObject(payload, "user_id", (double)user_id);
	rc = pl_event_append(db, type, scope, channel_id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

bool pl_chan_user_exists(struct pl_db *db, int64_t user_id)
{
	struct pl_stmt *st =
		pl_db_prepare(db, &channel_common_stmts[CHANNEL_COMMON_STMT_USER_EXISTS], NULL);
	bool yes;

	if (!st)
		return false;
	pl_stmt_bind_int64(st, 1, user_id);
	yes = pl_stmt_step(st) == PL_ROW;
	pl_db_done(st);
	return yes;
}

int pl_chan_add_member_locked(struct pl_db *db, int64_t channel_id, int64_t user_id,
			      const char *role, bool announce, bool *added, struct pl_err *err)
{
	struct pl_stmt *st =
		pl_db_prepare(db, &channel_common_stmts[CHANNEL_COMMON_STMT_INSERT_MEMBER], err);
	cJSON *payload;
	int rc;

	*added = false;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_text(st, 3, role);
	pl_stmt_bind_int64(st, 4, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	if (pl_db_changes(db) == 0)
		return 0;
	*added = true;
	if (!announce)
		return 0;
	payload = cJSON_CreateObject();
	cJSON_AddNumberToObject(payload, "user_id", (double)user_id);
	cJSON_AddStringToObject(payload, "role", role);
	rc = pl_event_append(db, "member.joined", PL_SCOPE_CHANNEL, channel_id, user_id, payload,
			     NULL, err);
	cJSON_Delete(payload);
	return rc;
}

cJSON *pl_chan_ref(int64_t channel_id, const char *kind)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddNumberToObject(c, "id", (double)channel_id);
	if (kind)
		cJSON_AddStringToObject(c, "kind", kind);
	return c;
}

int pl_chan_announce_created(struct pl_db *db, int64_t user_id, int64_t channel_id, bool public,
			     struct pl_err *err)
{
	cJSON *ref = pl_chan_ref(channel_id, NULL);
	int rc;

	rc = pl_chan_event(db, "channel.created", public ? PL_SCOPE_ALL : PL_SCOPE_CHANNEL,
			   channel_id, user_id, "channel", ref, err);
	cJSON_Delete(ref);
	return rc;
}
