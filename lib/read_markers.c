/* read_markers.c — read markers (read_markers.h). */
#include "authz.h"
#include "channel_common.h"
#include "notifications.h"
#include "read_markers.h"

enum read_markers_stmt {
	READ_MARKERS_STMT_MESSAGE_CHANNEL,
	READ_MARKERS_STMT_MOVE,
	READ_MARKERS_STMT__MAX
};

static const struct pl_sql read_markers_stmts[READ_MARKERS_STMT__MAX] = {
	[READ_MARKERS_STMT_MESSAGE_CHANNEL] = { "SELECT channel_id FROM messages WHERE id = ?1" },
	[READ_MARKERS_STMT_MOVE] = {
		"UPDATE channel_members SET last_read_id = ?3 "
		"WHERE channel_id = ?1 AND user_id = ?2 AND last_read_id < ?3" },
};

/* Moves the marker forward; *moved says whether it did. */
static int move_marker(struct pl_db *db, int64_t channel_id, int64_t user_id, int64_t message_id,
		       bool *moved, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &read_markers_stmts[READ_MARKERS_STMT_MOVE], err);

	*moved = false;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_int64(st, 3, message_id);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*moved = pl_db_changes(db) > 0;
	return 0;
}

/* The `read` event: {"user_id","message_id"} to the channel. */
static int announce_read(struct pl_db *db, int64_t channel_id, int64_t user_id,
			 int64_t message_id, struct pl_err *err)
{
	cJSON *payload = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(payload, "user_id", (double)user_id);
	cJSON_AddNumberToObject(payload, "message_id", (double)message_id);
	rc = pl_event_append(db, "read", PL_SCOPE_CHANNEL, channel_id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_channel_mark_read(struct pl_db *db, int64_t user_id, int64_t channel_id,
			 int64_t message_id, struct pl_err *err)
{
	const struct pl_sql *in_channel = &read_markers_stmts[READ_MARKERS_STMT_MESSAGE_CHANNEL];
	bool moved = false;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MEMBER, NULL, err) < 0)
		goto out;
	if (pl_chan_query_id(db, in_channel, message_id, 0) != channel_id) {
		pl_err_set(err, 400, "message_id must be a message of this channel");
		goto out;
	}
	/* The notifications up to the marker are read too, even when it did
	 * not move (a client re-sending its marker clears what is left). */
	if (move_marker(db, channel_id, user_id, message_id, &moved, err) < 0 ||
	    (moved && announce_read(db, channel_id, user_id, message_id, err) < 0) ||
	    pl_notifications_read_through_locked(db, user_id, channel_id, message_id, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}
