/* presence.c — who is online, and where (presence.h). */
#include <string.h>
#include "authz.h"
#include "channels.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "presence.h"
#include "presence_view.h"
#include "util.h"

#define STATUS_OF_P \
	"coalesce((SELECT s.status FROM presence s WHERE s.user_id = p.user_id AND s.channel_id = 0), 'online')"
#define LAST_SEEN_OF_P "(SELECT max(l.last_seen) FROM presence l WHERE l.user_id = p.user_id)"

enum presence_stmt {
	PRESENCE_STMT_UPSERT,
	PRESENCE_STMT_LEAVE,
	PRESENCE_STMT_LIST_ALL,
	PRESENCE_STMT_LIST_CHANNEL,
	PRESENCE_STMT_GO_ONLINE,
	PRESENCE_STMT_STALE,
	PRESENCE_STMT_GO_OFFLINE,
	PRESENCE_STMT_BACKDATE,
	PRESENCE_STMT_FORGET_USER,
	PRESENCE_STMT_SOCKET_SEEN,
	PRESENCE_STMT_SOCKET_GONE,
	PRESENCE_STMT_SOCKET_ELSEWHERE,
	PRESENCE_STMT_NODE_GONE,
	PRESENCE_STMT_SOCKETS_PRUNE,
	PRESENCE_STMT__MAX
};

static const struct pl_sql presence_stmts[PRESENCE_STMT__MAX] = {
	/* A NULL status (?3) keeps the row's. */
	[PRESENCE_STMT_UPSERT] = {
		"INSERT INTO presence (user_id, channel_id, status, last_seen) "
		"VALUES (?1, ?2, coalesce(?3, 'online'), ?4) "
		"ON CONFLICT (user_id, channel_id) DO UPDATE SET last_seen = excluded.last_seen, "
		"status = coalesce(?3, presence.status)" },
	[PRESENCE_STMT_LEAVE] = {
		"DELETE FROM presence WHERE user_id = ?1 AND (channel_id = ?2 OR (?2 = 0 AND channel_id <> 0))" },
	/* Everyone online who shares a channel with ?1 (and ?1 itself), with
	 * the channel they were last present in among those ?1 is a member
	 * of: a channel id is shown to its members only. */
	[PRESENCE_STMT_LIST_ALL] = {
		"SELECT p.user_id, u.username, "
		"(SELECT c.channel_id FROM presence c WHERE c.user_id = p.user_id AND c.channel_id <> 0 "
		"AND " PL_AUTHZ_SQL_IS_MEMBER("c.channel_id", "?1") " ORDER BY c.last_seen DESC LIMIT 1), "
		STATUS_OF_P ", max(p.last_seen) "
		"FROM presence p JOIN users u ON u.id = p.user_id AND u.deleted_at IS NULL "
		"WHERE p.user_id = ?1 OR " PL_AUTHZ_SQL_SHARE_CHANNEL("?1", "p.user_id") " "
		"GROUP BY p.user_id, u.username HAVING max(p.last_seen) >= ?2 "
		"ORDER BY u.username LIMIT 1000" },
	/* Everyone online who joined channel ?1 (the same parameters as
	 * _LIST_ALL with a channel for ?1: PostgreSQL must see each one used). */
	[PRESENCE_STMT_LIST_CHANNEL] = {
		"SELECT p.user_id, u.username, p.channel_id, " STATUS_OF_P ", " LAST_SEEN_OF_P " "
		"FROM presence p JOIN users u ON u.id = p.user_id AND u.deleted_at IS NULL "
		"WHERE p.channel_id = ?1 AND " LAST_SEEN_OF_P " >= ?2 ORDER BY u.username LIMIT 1000" },
	/* Marks ?1 announced online; changes a row only on a transition. */
	[PRESENCE_STMT_GO_ONLINE] = {
		"INSERT INTO presence_state (user_id, online, changed_at) VALUES (?1, 1, ?2) "
		"ON CONFLICT (user_id) DO UPDATE SET online = 1, changed_at = ?2 "
		"WHERE presence_state.online = 0" },
	/* Users announced online whose newest last_seen is before ?1. */
	[PRESENCE_STMT_STALE] = {
		"SELECT s.user_id FROM presence_state s WHERE s.online = 1 AND "
		"coalesce((SELECT max(p.last_seen) FROM presence p WHERE p.user_id = s.user_id), 0) < ?1 "
		"LIMIT 500" },
	[PRESENCE_STMT_GO_OFFLINE] = {
		"UPDATE presence_state SET online = 0, changed_at = ?2 WHERE user_id = ?1 AND online = 1" },
	/* ?2: the last_seen that leaves the window `grace` from now. */
	[PRESENCE_STMT_BACKDATE] = {
		"UPDATE presence SET last_seen = ?2 WHERE user_id = ?1 AND last_seen > ?2" },
	[PRESENCE_STMT_FORGET_USER] = { "DELETE FROM presence WHERE user_id = ?1" },
	[PRESENCE_STMT_SOCKET_SEEN] = {
		"INSERT INTO presence_sockets (node, user_id, seen_at) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (user_id, node) DO UPDATE SET seen_at = excluded.seen_at" },
	/* The user's row on this node, and their rows nobody refreshed within
	 * the window (a daemon that died). */
	[PRESENCE_STMT_SOCKET_GONE] = {
		"DELETE FROM presence_sockets WHERE user_id = ?1 AND (node = ?2 OR seen_at < ?3)" },
	[PRESENCE_STMT_SOCKET_ELSEWHERE] = {
		"SELECT count(*) FROM presence_sockets WHERE user_id = ?1 AND node <> ?2 AND seen_at >= ?3" },
	[PRESENCE_STMT_NODE_GONE] = { "DELETE FROM presence_sockets WHERE node = ?1" },
	/* Rows of daemons that died, a day after their last refresh. */
	[PRESENCE_STMT_SOCKETS_PRUNE] = { "DELETE FROM presence_sockets WHERE seen_at < ?1" },
};

static int upsert(struct pl_db *db, int64_t user_id, int64_t channel_id, const char *status,
		  struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_UPSERT], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, channel_id);
	if (status)
		pl_stmt_bind_text(st, 3, status);
	pl_stmt_bind_int64(st, 4, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	return 0;
}

static int announce(struct pl_db *db, int64_t user_id, int64_t channel_id, bool online,
		    struct pl_err *err)
{
	cJSON *p = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(p, "user_id", (double)user_id);
	cJSON_AddStringToObject(p, "status", online ? "online" : "offline");
	cJSON_AddBoolToObject(p, "online", online);
	/* The channel goes in the event row, not the payload: only its
	 * members are shown it (event_view.h). */
	rc = pl_event_append(db, "presence", PL_SCOPE_PEERS, channel_id, user_id, p, NULL, err);
	cJSON_Delete(p);
	return rc;
}

static int go_online(struct pl_db *db, int64_t user_id, bool announce_it, struct pl_err *err);

int pl_presence_join(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	bool joined;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_channel_join_locked(db, user_id, channel_id, &joined, err) < 0 ||
	    upsert(db, user_id, channel_id, NULL, err) < 0 ||
	    upsert(db, user_id, 0, NULL, err) < 0 ||
	    go_online(db, user_id, false, err) < 0 ||
	    announce(db, user_id, channel_id, true, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_presence_leave(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	struct pl_stmt *st;
	int rc = -1, step;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_LEAVE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, channel_id);
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step != PL_DONE) {
		pl_err_internal(err, "presence leave: %s", pl_db_last_error(db));
		goto out;
	}
	/* Still online (socket or heartbeat); only the channel presence ends.
	 * Leaving where the caller was not present (a channel never joined,
	 * invisible or nonexistent) changes nothing and announces nothing. */
	if (pl_db_changes(db) > 0 && announce(db, user_id, channel_id, true, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

/*
 * Inside a write transaction: records that `user_id` is online and, when
 * that is a transition, writes the `presence` event (if `announce_it`).
 */
static int go_online(struct pl_db *db, int64_t user_id, bool announce_it, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_GO_ONLINE], err);
	int changed;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	changed = pl_db_changes(db);
	if (changed > 0 && announce_it)
		return announce(db, user_id, 0, true, err);
	return 0;
}

static int touch_locked(struct pl_db *db, int64_t user_id, const char *status, struct pl_err *err)
{
	if (upsert(db, user_id, 0, status, err) < 0)
		return -1;
	return go_online(db, user_id, true, err);
}

static int socket_seen(struct pl_db *db, const char *node, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_SOCKET_SEEN], err);

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, node);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_int64(st, 3, pl_now_ms());
	return pl_db_step_done(db, st, err);
}

/* Touches `n` users (status for each, NULL keeps it) in one transaction,
 * and their socket rows of `node` (NULL: none). */
static int touch_many_status(struct pl_db *db, const char *node, const int64_t *user_ids,
			     size_t n, const char *status, struct pl_err *err)
{
	int rc = -1;

	if (n == 0)
		return 0;
	if (pl_db_begin(db, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (touch_locked(db, user_ids[i], status, err) < 0 ||
		    (node && socket_seen(db, node, user_ids[i], err) < 0))
			goto out;
	if (node) {
		struct pl_stmt *st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_SOCKETS_PRUNE], err);

		if (!st)
			goto out;
		pl_stmt_bind_int64(st, 1, pl_now_ms() - PL_PRESENCE_SOCKETS_STALE_MS);
		if (pl_db_step_done(db, st, err) < 0)
			goto out;
	}
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_presence_touch(struct pl_db *db, int64_t user_id, const char *status, struct pl_err *err)
{
	if (status && strcmp(status, "online") != 0 && strcmp(status, "away") != 0 &&
	    strcmp(status, "dnd") != 0)
		return pl_err_set(err, 400, "status must be online, away or dnd");
	return touch_many_status(db, NULL, &user_id, 1, status, err);
}

int pl_presence_touch_many(struct pl_db *db, const char *node, const int64_t *user_ids, size_t n,
			   struct pl_err *err)
{
	return touch_many_status(db, node, user_ids, n, NULL, err);
}

int pl_presence_socket_gone(struct pl_db *db, const char *node, int64_t user_id, int window_s,
			    int grace_s, struct pl_err *err)
{
	int64_t now = pl_now_ms(), fresh = now - (int64_t)window_s * 1000, elsewhere = 0;
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_SOCKET_GONE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, node);
	pl_stmt_bind_int64(st, 3, fresh);
	if (pl_db_step_done(db, st, err) < 0 ||
	    !(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_SOCKET_ELSEWHERE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, node);
	pl_stmt_bind_int64(st, 3, fresh);
	if (pl_db_step_id(db, st, &elsewhere, err) < 0)
		goto out;
	/* Still connected to another daemon, or no grace shorter than the
	 * window: the window decides as before. */
	if (elsewhere > 0 || grace_s >= window_s) {
		rc = 0;
		goto out;
	}
	if (!(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_BACKDATE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, now - (int64_t)(window_s - grace_s) * 1000);
	rc = pl_db_step_done(db, st, err);
out:
	return pl_db_end(db, rc, err);
}

int pl_presence_node_gone(struct pl_db *db, const char *node, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_NODE_GONE], err);

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, node);
	return pl_db_step_done(db, st, err);
}

int pl_presence_sweep(struct pl_db *db, int window_s, int *changed, struct pl_err *err)
{
	int64_t now = pl_now_ms(), ids[500];
	size_t n = 0;
	struct pl_stmt *st;
	int step, rc = -1;

	if (changed)
		*changed = 0;
	/* A read first: the write lock only when someone is due. */
	if (!(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_STALE], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, now - (int64_t)window_s * 1000);
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step == PL_DONE)
		return 0;
	if (step != PL_ROW)
		return pl_err_internal(err, "presence sweep: %s", pl_db_last_error(db));
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_STALE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, now - (int64_t)window_s * 1000);
	while (n < 500 && (step = pl_stmt_step(st)) == PL_ROW)
		ids[n++] = pl_stmt_int64(st, 0);
	pl_db_done(st);
	for (size_t i = 0; i < n; i++) {
		if (!(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_GO_OFFLINE], err)))
			goto out;
		pl_stmt_bind_int64(st, 1, ids[i]);
		pl_stmt_bind_int64(st, 2, now);
		step = pl_stmt_step(st);
		pl_db_done(st);
		if (step != PL_DONE) {
			pl_err_internal(err, "presence sweep: %s", pl_db_last_error(db));
			goto out;
		}
		if (pl_db_changes(db) > 0 && announce(db, ids[i], 0, false, err) < 0)
			goto out;
	}
	if (n == 0) {
		pl_db_rollback(db);  /* nothing written: no commit to announce */
		return 0;
	}
	rc = 0;
out:
	if ((rc = pl_db_end(db, rc, err)) == 0 && changed)
		*changed = (int)n;
	return rc;
}

int pl_presence_list(struct pl_db *db, int64_t user_id, int64_t channel_id, int window_s,
		     cJSON **out, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *body, *arr;
	int step;

	*out = NULL;
	if (channel_id && pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &presence_stmts[channel_id ? PRESENCE_STMT_LIST_CHANNEL
								 : PRESENCE_STMT_LIST_ALL], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id ? channel_id : user_id);
	pl_stmt_bind_int64(st, 2, pl_now_ms() - (int64_t)window_s * 1000);
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "online_users");
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		/* Only online users are listed: online is always true here. */
		struct pl_presence_entry e = {
			.user_id = pl_stmt_int64(st, 0),
			.username = pl_stmt_text(st, 1),
			.channel_id = pl_stmt_int64(st, 2),
			.online = true,
			.status = pl_stmt_text(st, 3),
			.last_seen = pl_stmt_int64(st, 4),
		};
		cJSON_AddItemToArray(arr, pl_presence_view(&e));
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		return pl_err_internal(err, "presence list: %s", pl_db_last_error(db));
	}
	*out = body;
	return 0;
}

int pl_presence_typing(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	struct pl_access acc;
	cJSON *p;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MEMBER, &acc, err) < 0)
		goto out;
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "user_id", (double)user_id);
	rc = pl_event_append(db, "typing", PL_SCOPE_CHANNEL, channel_id, user_id, p, NULL, err);
	cJSON_Delete(p);
out:
	return pl_db_end(db, rc, err);
}

int pl_presence_offline_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_FORGET_USER], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	if (pl_db_step_done(db, st, err) < 0 ||
	    !(st = pl_db_prepare(db, &presence_stmts[PRESENCE_STMT_GO_OFFLINE], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	if (pl_db_changes(db) > 0)
		return announce(db, user_id, 0, false, err);
	return 0;
}
