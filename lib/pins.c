/* pins.c — pinned messages (pins.h). */
#include "authz.h"
#include "events.h"
#include "json.h"
#include "message_view.h"
#include "pins.h"
#include "util.h"

enum pins_stmt {
	PINS_STMT_ADD,
	PINS_STMT_REMOVE,
	PINS_STMT_COUNT,
	PINS_STMT_LIVE,
	PINS_STMT_LIST,
	PINS_STMT__MAX
};

static const struct pl_sql pins_stmts[PINS_STMT__MAX] = {
	[PINS_STMT_ADD] = {
		"INSERT INTO pins (message_id, channel_id, pinned_by, pinned_at) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT DO NOTHING" },
	[PINS_STMT_REMOVE] = { "DELETE FROM pins WHERE message_id = ?1" },
	[PINS_STMT_COUNT] = { "SELECT count(*) FROM pins WHERE channel_id = ?1" },
	[PINS_STMT_LIVE] = { "SELECT deleted FROM messages WHERE id = ?1" },
	[PINS_STMT_LIST] = {
		"SELECT message_id, pinned_by, pinned_at FROM pins WHERE channel_id = ?1 "
		"ORDER BY pinned_at DESC, message_id DESC LIMIT ?2" },
};

/* One id or count the bound statement `q` (one parameter) returns. */
static int64_t one_int(struct pl_db *db, enum pins_stmt q, int64_t a, struct pl_err *err, int *rc)
{
	struct pl_stmt *st = pl_db_prepare(db, &pins_stmts[q], err);
	int64_t v = 0;

	*rc = -1;
	if (!st)
		return 0;
	pl_stmt_bind_int64(st, 1, a);
	*rc = pl_db_step_id(db, st, &v, err) < 0 ? -1 : 0;
	return v;
}

/* Runs ADD or REMOVE; *changed says whether a row moved. */
static int write_pin(struct pl_db *db, enum pins_stmt q, int64_t message_id, int64_t channel_id,
		     int64_t user_id, bool *changed, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &pins_stmts[q], err);

	*changed = false;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	if (q == PINS_STMT_ADD) {
		pl_stmt_bind_int64(st, 2, channel_id);
		pl_stmt_bind_int64(st, 3, user_id);
		pl_stmt_bind_int64(st, 4, pl_now_ms());
	}
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*changed = pl_db_changes(db) > 0;
	return 0;
}

/* pin.added / pin.removed {"message_id","user_id"} to the channel. */
static int announce(struct pl_db *db, bool pin, int64_t channel_id, int64_t message_id,
		    int64_t user_id, struct pl_err *err)
{
	cJSON *payload = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(payload, "message_id", (double)message_id);
	cJSON_AddNumberToObject(payload, "user_id", (double)user_id);
	rc = pl_event_append(db, pin ? "pin.added" : "pin.removed", PL_SCOPE_CHANNEL, channel_id,
			     user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_pin_set(struct pl_db *db, int64_t user_id, int64_t message_id, bool pin, bool members_may,
	       struct pl_err *err)
{
	int64_t channel_id = 0;
	bool changed = false;
	int rc = -1, qrc;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_message(db, user_id, message_id, members_may ? PL_MSG_PIN : PL_MSG_PIN_MANAGE,
			     &channel_id, err) < 0)
		goto out;
	if (pin) {
		if (one_int(db, PINS_STMT_LIVE, message_id, err, &qrc) != 0 || qrc < 0) {
			if (qrc == 0)
				pl_err_set(err, 409, "the message is deleted");
			goto out;
		}
	}
	if (write_pin(db, pin ? PINS_STMT_ADD : PINS_STMT_REMOVE, message_id, channel_id, user_id,
		      &changed, err) < 0)
		goto out;
	/* Counted after the insert, so re-pinning a pinned message stays a
	 * 204 in a full channel; a new pin over the limit is rolled back. */
	if (pin && changed &&
	    (one_int(db, PINS_STMT_COUNT, channel_id, err, &qrc) > PL_PINS_MAX || qrc < 0)) {
		if (qrc == 0)
			pl_err_set(err, 409, "the channel already has %d pinned messages", PL_PINS_MAX);
		goto out;
	}
	if (changed && announce(db, pin, channel_id, message_id, user_id, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_pins_drop_locked(struct pl_db *db, int64_t message_id, struct pl_err *err)
{
	bool changed;

	return write_pin(db, PINS_STMT_REMOVE, message_id, 0, 0, &changed, err);
}

int pl_pins_list(struct pl_db *db, int64_t user_id, int64_t channel_id, cJSON **out,
		 struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *arr, *p;
	int step;

	*out = NULL;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &pins_stmts[PINS_STMT_LIST], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, PL_PINS_MAX);
	/* First the pins, {"id","pinned_by","pinned_at"} placeholders... */
	arr = cJSON_CreateArray();
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "id", (double)pl_stmt_int64(st, 0));
		if (pl_stmt_null(st, 1))
			cJSON_AddNullToObject(p, "pinned_by");
		else
			pl_json_add_id(p, "pinned_by", pl_stmt_int64(st, 1));
		pl_json_add_time(p, "pinned_at", pl_stmt_int64(st, 2));
		cJSON_AddItemToArray(arr, p);
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(arr);
		return pl_err_internal(err, "pins: %s", pl_db_last_error(db));
	}
	/* ...then each replaced by its message object with those two fields
	 * added, rendered after the statement is done (one statement at a
	 * time per connection). */
	for (int i = 0; i < cJSON_GetArraySize(arr); i++) {
		cJSON *pin = cJSON_GetArrayItem(arr, i);
		cJSON *m = pl_message_json(db, user_id,
					   (int64_t)cJSON_GetObjectItemCaseSensitive(pin, "id")->valuedouble,
					   err);

		if (!m) {
			cJSON_Delete(arr);
			return -1;
		}
		cJSON_AddItemToObject(m, "pinned_by", cJSON_DetachItemFromObject(pin, "pinned_by"));
		cJSON_AddItemToObject(m, "pinned_at", cJSON_DetachItemFromObject(pin, "pinned_at"));
		cJSON_ReplaceItemInArray(arr, i, m);
	}
	*out = arr;
	return 0;
}
