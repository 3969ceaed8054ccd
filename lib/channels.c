/* channels.c — channels, membership and channel authorization (channels.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "channel_view.h"
#include "channels.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "user_view.h"
#include "util.h"

static const char sql_insert_channel[] =
	"INSERT INTO channels (name, kind, topic, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_insert_member[] =
	"INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4) "
	"ON CONFLICT DO NOTHING";
static const char sql_user_exists[] =
	"SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NULL";
static const char sql_update_channel[] =
	"UPDATE channels SET name = coalesce(?2, name), topic = coalesce(?3, topic) WHERE id = ?1";
static const char sql_delete_channel[] = "DELETE FROM channels WHERE id = ?1";
static const char sql_member_ids[] =
	"SELECT user_id FROM channel_members WHERE channel_id = ?1";
static const char sql_members[] =
	"SELECT user_id, role, joined_at FROM channel_members WHERE channel_id = ?1 "
	"ORDER BY joined_at, user_id";
static const char sql_member_one[] =
	"SELECT role, joined_at FROM channel_members WHERE channel_id = ?1 AND user_id = ?2";
static const char sql_set_role[] =
	"UPDATE channel_members SET role = ?3 WHERE channel_id = ?1 AND user_id = ?2";
static const char sql_owner_count[] =
	"SELECT count(*) FROM channel_members WHERE channel_id = ?1 AND role = 'owner'";
static const char sql_remove_member[] =
	"DELETE FROM channel_members WHERE channel_id = ?1 AND user_id = ?2";
/* Presence in a channel ends with the membership (or the channel). */
static const char sql_member_presence_gone[] =
	"DELETE FROM presence WHERE channel_id = ?1 AND user_id = ?2";
static const char sql_channel_presence_gone[] = "DELETE FROM presence WHERE channel_id = ?1";
static const char sql_message_channel[] = "SELECT channel_id FROM messages WHERE id = ?1";
static const char sql_mark_read[] =
	"UPDATE channel_members SET last_read_id = ?3 "
	"WHERE channel_id = ?1 AND user_id = ?2 AND last_read_id < ?3";
static const char sql_dm_by_key[] = "SELECT id FROM channels WHERE dm_key = ?1";
static const char sql_insert_dm[] =
	"INSERT INTO channels (name, kind, topic, created_by, created_at, dm_key) "
	"VALUES (?1, 'dm', '', ?2, ?3, ?4)";
static const char sql_username[] = "SELECT username FROM users WHERE id = ?1";

/*
 * One SELECT list for the channel object, as user ?1 sees it. unread_count
 * looks at no more than the first PL_UNREAD_CAP messages after the read
 * marker and counts those not deleted and not the user's own: each channel
 * costs at most that many rows, whoever wrote them, so the list stays cheap
 * in a channel of a million unread messages (clients show "999+") and in one
 * where the user wrote them all.
 */
#define PL_UNREAD_CAP_STR "1000"
#define CHANNEL_COLUMNS \
	"SELECT c.id, c.name, c.kind, c.topic, c.created_by, c.created_at, " \
	"(SELECT count(*) FROM channel_members n WHERE n.channel_id = c.id), me.role, " \
	"(SELECT max(x.id) FROM messages x WHERE x.channel_id = c.id), " \
	"CASE WHEN me.role IS NULL THEN 0 ELSE (SELECT count(*) FROM (SELECT u.user_id AS uid, " \
	"u.deleted AS del FROM messages u WHERE u.channel_id = c.id AND u.id > me.last_read_id " \
	"LIMIT " PL_UNREAD_CAP_STR ") WHERE del = 0 AND uid <> ?1) END " \
	"FROM channels c LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = ?1 "
static const char sql_channel_one[] = CHANNEL_COLUMNS "WHERE c.id = ?2";
static const char sql_channel_list[] =
	CHANNEL_COLUMNS "WHERE " PL_AUTHZ_SQL_CAN_READ("c", "me") " ORDER BY c.id";

/* Storage: the current row of a CHANNEL_COLUMNS statement (strings
 * borrowed until the next step). */
static void channel_row(struct pl_stmt *st, struct pl_channel *c)
{
	c->id = pl_stmt_int64(st, 0);
	c->name = pl_stmt_text(st, 1);
	c->kind = pl_stmt_text(st, 2);
	c->topic = pl_stmt_text(st, 3);
	c->created_by = pl_stmt_int64(st, 4);
	c->created_at = pl_stmt_int64(st, 5);
	c->member_count = pl_stmt_int64(st, 6);
	c->role = pl_stmt_text(st, 7);
	c->last_message_id = pl_stmt_int64(st, 8);
	c->unread_count = pl_stmt_int64(st, 9);
}

/* The view of the current row. */
static cJSON *channel_from_row(struct pl_stmt *st)
{
	struct pl_channel c;

	channel_row(st, &c);
	return pl_channel_view(&c);
}

cJSON *pl_channel_json(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *c = NULL;
	int step;

	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return NULL;
	if (!(st = pl_db_stmt(db, sql_channel_one, err)))
		return NULL;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, channel_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		c = channel_from_row(st);
	else
		pl_err_internal(err, "channel %lld: %s", (long long)channel_id, pl_db_last_error(db));
	pl_db_done(st);
	return c;
}

cJSON *pl_channel_public_json(struct pl_db *db, int64_t channel_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_channel_one, err);
	cJSON *c = NULL;
	int step;

	if (!st)
		return NULL;
	/* User 0 is nobody: no role, no unread count. */
	pl_stmt_bind_int64(st, 1, 0);
	pl_stmt_bind_int64(st, 2, channel_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		c = channel_from_row(st);
	else if (step == PL_DONE)
		pl_err_set(err, 404, "no such channel");
	else
		pl_err_internal(err, "channel %lld: %s", (long long)channel_id, pl_db_last_error(db));
	pl_db_done(st);
	return c;
}

cJSON *pl_channel_list(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_channel_list, err);
	cJSON *arr;
	int step;

	if (!st)
		return NULL;
	arr = cJSON_CreateArray();
	pl_stmt_bind_int64(st, 1, user_id);
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, channel_from_row(st));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(arr);
		pl_err_internal(err, "channel list: %s", pl_db_last_error(db));
		return NULL;
	}
	return arr;
}

/* Adds a membership row and, when `announce`, its member.joined event.
 * *added says whether the row is new. Inside a write transaction. */
static int add_member(struct pl_db *db, int64_t channel_id, int64_t user_id, const char *role,
		      bool announce, bool *added, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_insert_member, err);
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
	rc = pl_event_append(db, "member.joined", PL_SCOPE_CHANNEL, channel_id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_channel_join_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			   bool *joined, struct pl_err *err)
{
	struct pl_access acc;

	*joined = false;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, &acc, err) < 0)
		return -1;
	if (acc.role != PL_ROLE_NONE)
		return 0;
	if (strcmp(acc.kind, "public") != 0)
		return pl_err_set(err, 404, "no such channel");
	return add_member(db, channel_id, user_id, "member", true, joined, err);
}

static bool user_exists(struct pl_db *db, int64_t user_id)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_user_exists, NULL);
	bool yes;

	if (!st)
		return false;
	pl_stmt_bind_int64(st, 1, user_id);
	yes = pl_stmt_step(st) == PL_ROW;
	pl_db_done(st);
	return yes;
}

/* The topic rule (creation and PATCH alike). */
static int check_topic(const char *topic, struct pl_err *err)
{
	size_t cps = 0;

	if (topic && (!pl_utf8_valid(topic, strlen(topic), &cps) || cps > PL_CHANNEL_TOPIC_MAX ||
		      pl_text_has_controls(topic, true)))
		return pl_err_set(err, 400, "topic must be at most %d characters without control characters",
				  PL_CHANNEL_TOPIC_MAX);
	return 0;
}

/* The name rule (creation and PATCH alike): *out receives the trimmed
 * name (caller frees), NULL on error. */
static int check_name(const char *name, char **out, struct pl_err *err)
{
	size_t cps = 0;

	*out = pl_trim(name);
	if (!pl_utf8_valid(*out, strlen(*out), &cps) || cps < 1 || cps > PL_CHANNEL_NAME_MAX ||
	    pl_text_has_controls(*out, false)) {
		free(*out);
		*out = NULL;
		return pl_err_set(err, 400, "name must be 1-%d characters without control characters",
				  PL_CHANNEL_NAME_MAX);
	}
	return 0;
}

static int validate_new(const struct pl_channel_new *in, char **name, struct pl_err *err)
{
	*name = NULL;
	if (in->kind && strcmp(in->kind, "public") != 0 && strcmp(in->kind, "private") != 0)
		return pl_err_set(err, 400, "kind must be \"public\" or \"private\"");
	if (check_topic(in->topic, err) < 0)
		return -1;
	if (in->nmembers > PL_CHANNEL_INITIAL_MEMBERS_MAX)
		return pl_err_set(err, 400, "at most %d members at creation", PL_CHANNEL_INITIAL_MEMBERS_MAX);
	return check_name(in->name, name, err);
}

static int insert_channel(struct pl_db *db, int64_t user_id, const char *name, const char *kind,
			  const char *topic, int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_insert_channel, err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, name);
	pl_stmt_bind_text(st, 2, kind);
	pl_stmt_bind_text(st, 3, topic ? topic : "");
	pl_stmt_bind_int64(st, 4, user_id);
	pl_stmt_bind_int64(st, 5, pl_now_ms());
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step == PL_UNIQUE || step == PL_CONSTRAINT)
		return pl_err_set(err, 409, "a channel with that name already exists");
	if (step != PL_DONE)
		return pl_err_internal(err, "insert channel: %s", pl_db_last_error(db));
	*id = pl_db_last_id(db);
	return 0;
}

/*
 * The payload of a channel.* event: {"channel":{"id"}} (and "kind" for
 * channel.deleted, whose row is gone). channel.created and channel.updated
 * are rendered from the channel's row when delivered (event_view.h): a
 * deleted channel's never are, and nothing of its name or topic is kept.
 */
static cJSON *channel_ref(int64_t id, const char *kind)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddNumberToObject(c, "id", (double)id);
	if (kind)
		cJSON_AddStringToObject(c, "kind", kind);
	return c;
}

/* The channel.created event (it stands for the initial members' joins
 * too). */
static int announce_channel(struct pl_db *db, int64_t user_id, int64_t id, bool public,
			    struct pl_err *err)
{
	cJSON *payload = cJSON_CreateObject();
	int rc;

	cJSON_AddItemToObject(payload, "channel", channel_ref(id, NULL));

	rc = pl_event_append(db, "channel.created", public ? PL_SCOPE_ALL : PL_SCOPE_CHANNEL,
			     id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_channel_create(struct pl_db *db, int64_t user_id, const struct pl_channel_new *in,
		      cJSON **out, struct pl_err *err)
{
	const char *kind = in->kind ? in->kind : "public";
	char *name = NULL;
	int64_t id = 0;
	cJSON *ch = NULL;
	bool added;
	int rc = -1;

	*out = NULL;
	if (validate_new(in, &name, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		goto out;
	if (insert_channel(db, user_id, name, kind, in->topic, &id, err) < 0 ||
	    add_member(db, id, user_id, "owner", false, &added, err) < 0)
		goto out;
	for (size_t i = 0; i < in->nmembers; i++) {
		if (!user_exists(db, in->members[i])) {
			pl_err_set(err, 400, "members: no user with id %lld", (long long)in->members[i]);
			goto out;
		}
		if (add_member(db, id, in->members[i], "member", false, &added, err) < 0)
			goto out;
	}
	if (!(ch = pl_channel_json(db, user_id, id, err)) ||
	    announce_channel(db, user_id, id, strcmp(kind, "public") == 0, err) < 0)
		goto out;
	rc = 0;
out:
	if ((rc = pl_db_end(db, rc, err)) < 0) {
		cJSON_Delete(ch);
		ch = NULL;
	}
	free(name);
	*out = ch;
	return rc;
}

/* ---- small helpers ---- */

/* Runs a statement of one int64 parameter (and an optional second) to
 * completion. Returns 0 or -1 (`err` 500). */
static int exec_ids(struct pl_db *db, const char *sql, int64_t a, int64_t b, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql, err);
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

/* The first column of a one-int64-parameter query; `dflt` when no row. */
static int64_t query_id(struct pl_db *db, const char *sql, int64_t a, int64_t dflt)
{
	struct pl_stmt *st = pl_db_stmt(db, sql, NULL);
	int64_t v = dflt;

	if (!st)
		return dflt;
	pl_stmt_bind_int64(st, 1, a);
	if (pl_stmt_step(st) == PL_ROW)
		v = pl_stmt_int64(st, 0);
	pl_db_done(st);
	return v;
}

/* Appends one event whose payload is {"<key>": <borrowed item>} plus,
 * when user_key, {"user_id": subject}. */
static int event_with(struct pl_db *db, const char *type, enum pl_event_scope scope,
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

/* ---- update / delete ---- */

static int validate_patch(const char *name, const char *topic, char **tname, struct pl_err *err)
{
	*tname = NULL;
	if (check_topic(topic, err) < 0)
		return -1;
	return name ? check_name(name, tname, err) : 0;
}

static int update_row(struct pl_db *db, int64_t channel_id, const char *name, const char *topic,
		      struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_update_channel, err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	if (name)
		pl_stmt_bind_text(st, 2, name);
	if (topic)
		pl_stmt_bind_text(st, 3, topic);
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step == PL_UNIQUE || step == PL_CONSTRAINT)
		return pl_err_set(err, 409, "a channel with that name already exists");
	if (step != PL_DONE)
		return pl_err_internal(err, "update channel: %s", pl_db_last_error(db));
	return 0;
}

int pl_channel_update(struct pl_db *db, int64_t user_id, int64_t channel_id,
		      const char *name, const char *topic, cJSON **out, struct pl_err *err)
{
	struct pl_access acc;
	char *tname = NULL;
	cJSON *pub = NULL;
	int rc = -1;

	*out = NULL;
	if (validate_patch(name, topic, &tname, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		goto out;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MANAGE, &acc, err) < 0)
		goto out;
	if (strcmp(acc.kind, "dm") == 0) {
		pl_err_set(err, 403, "a direct message channel cannot be changed");
		goto out;
	}
	pub = channel_ref(channel_id, NULL);
	if (update_row(db, channel_id, tname, topic, err) < 0 ||
	    event_with(db, "channel.updated", strcmp(acc.kind, "public") == 0 ? PL_SCOPE_ALL : PL_SCOPE_CHANNEL,
		       channel_id, user_id, "channel", pub, err) < 0)
		goto out;
	rc = 0;
out:
	rc = pl_db_end(db, rc, err);
	free(tname);
	cJSON_Delete(pub);
	if (rc == 0 && !(*out = pl_channel_json(db, user_id, channel_id, err)))
		rc = -1;
	return rc;
}

/* channel.deleted for a private channel: one USER-scoped copy per member. */
static int announce_deleted_to_members(struct pl_db *db, int64_t channel_id, cJSON *pub,
				       struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_member_ids, err);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	while (pl_stmt_step(st) == PL_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			int64_t *nids = pl_xcalloc(cap, sizeof(*ids));
			if (ids)
				memcpy(nids, ids, n * sizeof(*ids));
			free(ids);
			ids = nids;
		}
		ids[n++] = pl_stmt_int64(st, 0);
	}
	pl_db_done(st);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = event_with(db, "channel.deleted", PL_SCOPE_USER, channel_id, ids[i], "channel", pub, err);
	free(ids);
	return rc;
}

int pl_channel_delete(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	struct pl_access acc;
	cJSON *pub = NULL;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, &acc, err) < 0)
		goto out;
	if (acc.role != PL_ROLE_OWNER) {
		pl_err_set(err, 403, "only the channel's owner may delete it");
		goto out;
	}
	pub = channel_ref(channel_id, acc.kind);
	if (strcmp(acc.kind, "public") == 0)
		rc = event_with(db, "channel.deleted", PL_SCOPE_ALL, channel_id, user_id, "channel", pub, err);
	else
		rc = announce_deleted_to_members(db, channel_id, pub, err);
	/* Presence rows name channels without a foreign key (0 = none). */
	if (rc == 0)
		rc = exec_ids(db, sql_delete_channel, channel_id, 0, err);
	if (rc == 0)
		rc = exec_ids(db, sql_channel_presence_gone, channel_id, 0, err);
out:
	cJSON_Delete(pub);
	return pl_db_end(db, rc, err);
}

/* ---- members ---- */

static cJSON *member_json(struct pl_db *db, int64_t uid, const char *role, int64_t joined_at)
{
	cJSON *m = cJSON_CreateObject();
	cJSON *u = pl_user_json(db, uid, false, NULL);

	if (!u) {  /* an erased account: what is left of it */
		u = cJSON_CreateObject();
		cJSON_AddNumberToObject(u, "id", (double)uid);
		cJSON_AddStringToObject(u, "username", "");
	}
	cJSON_AddItemToObject(m, "user", u);
	cJSON_AddStringToObject(m, "role", role);
	pl_json_add_time(m, "joined_at", joined_at);
	return m;
}

int pl_channel_members(struct pl_db *db, int64_t user_id, int64_t channel_id,
		       cJSON **out, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *arr, *body;
	int64_t *ids = NULL, *times = NULL;
	char (*roles)[8] = NULL;
	size_t n = 0, cap = 0;
	int step;

	*out = NULL;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return -1;
	if (!(st = pl_db_stmt(db, sql_members, err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	/* Collect first: pl_user_json uses its own statement. */
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = pl_xrealloc(ids, cap * sizeof(*ids));
			times = pl_xrealloc(times, cap * sizeof(*times));
			roles = pl_xrealloc(roles, cap * sizeof(*roles));
		}
		ids[n] = pl_stmt_int64(st, 0);
		snprintf(roles[n], sizeof(roles[n]), "%s", pl_stmt_text(st, 1));
		times[n++] = pl_stmt_int64(st, 2);
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		free(ids), free(times), free(roles);
		return pl_err_internal(err, "members: %s", pl_db_last_error(db));
	}
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "members");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, member_json(db, ids[i], roles[i], times[i]));
	free(ids), free(times), free(roles);
	*out = body;
	return 0;
}

/* The member's role (PL_ROLE_NONE when not a member) and joined_at. */
static enum pl_role member_role(struct pl_db *db, int64_t channel_id, int64_t uid, int64_t *joined)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_member_one, NULL);
	enum pl_role r = PL_ROLE_NONE;

	if (!st)
		return PL_ROLE_NONE;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, uid);
	if (pl_stmt_step(st) == PL_ROW) {
		r = pl_role_from_text(pl_stmt_text(st, 0));
		if (joined)
			*joined = pl_stmt_int64(st, 1);
	}
	pl_db_done(st);
	return r;
}

static const char *role_text(enum pl_role r)
{
	return r == PL_ROLE_OWNER ? "owner" : r == PL_ROLE_ADMIN ? "admin" : "member";
}

/*
 * Checks who may give `target` (now `cur`) the role `want`: owners and
 * admins add members and admins; only an owner grants or takes away
 * ownership, and only an owner changes another admin's role (an admin
 * could otherwise demote an admin, then remove them, which admins may not
 * do). An admin may step down themself.
 */
static int check_role_change(struct pl_db *db, int64_t channel_id, const struct pl_access *acc,
			     bool self, enum pl_role cur, enum pl_role want, struct pl_err *err)
{
	if (strcmp(acc->kind, "dm") == 0)
		return pl_err_set(err, 403, "direct message membership is fixed");
	if ((want == PL_ROLE_OWNER || cur == PL_ROLE_OWNER) && acc->role != PL_ROLE_OWNER)
		return pl_err_set(err, 403, "only an owner may grant or take away ownership");
	if (cur == PL_ROLE_ADMIN && want != PL_ROLE_ADMIN && acc->role != PL_ROLE_OWNER && !self)
		return pl_err_set(err, 403, "only an owner may change an admin's role");
	if (cur == PL_ROLE_OWNER && want != PL_ROLE_OWNER &&
	    query_id(db, sql_owner_count, channel_id, 0) <= 1)
		return pl_err_set(err, 409, "the channel would be left without an owner");
	return 0;
}

static int parse_role(const char *role, enum pl_role *out, struct pl_err *err)
{
	if (!role || strcmp(role, "member") == 0)
		*out = PL_ROLE_MEMBER;
	else if (strcmp(role, "admin") == 0)
		*out = PL_ROLE_ADMIN;
	else if (strcmp(role, "owner") == 0)
		*out = PL_ROLE_OWNER;
	else
		return pl_err_set(err, 400, "role must be \"member\", \"admin\" or \"owner\"");
	return 0;
}

static int set_member(struct pl_db *db, int64_t channel_id, int64_t target, enum pl_role cur,
		      enum pl_role want, bool *created, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *payload;
	int rc;

	if (cur == PL_ROLE_NONE)
		return add_member(db, channel_id, target, role_text(want), true, created, err);
	if (cur == want)
		return 0;
	if (!(st = pl_db_stmt(db, sql_set_role, err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, target);
	pl_stmt_bind_text(st, 3, role_text(want));
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	payload = cJSON_CreateObject();
	cJSON_AddNumberToObject(payload, "user_id", (double)target);
	cJSON_AddStringToObject(payload, "role", role_text(want));
	rc = pl_event_append(db, "member.updated", PL_SCOPE_CHANNEL, channel_id, target, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_channel_member_set(struct pl_db *db, int64_t user_id, int64_t channel_id, int64_t target,
			  const char *role, bool *created, cJSON **out, struct pl_err *err)
{
	struct pl_access acc;
	enum pl_role want = PL_ROLE_MEMBER, cur;
	int64_t joined = 0;
	int rc = -1;

	*out = NULL;
	*created = false;
	if (parse_role(role, &want, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MANAGE, &acc, err) < 0)
		goto out;
	if (!user_exists(db, target)) {
		pl_err_set(err, 400, "no user with id %lld", (long long)target);
		goto out;
	}
	cur = member_role(db, channel_id, target, NULL);
	if (check_role_change(db, channel_id, &acc, target == user_id, cur, want, err) < 0 ||
	    set_member(db, channel_id, target, cur, want, created, err) < 0)
		goto out;
	member_role(db, channel_id, target, &joined);
	*out = member_json(db, target, role_text(want), joined);
	rc = 0;
out:
	rc = pl_db_end(db, rc, err);
	if (rc < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		*created = false;
	}
	return rc;
}

/* Who may remove `target` (role `tr`) from the channel. */
static int check_remove(struct pl_db *db, int64_t user_id, int64_t channel_id, int64_t target,
			const struct pl_access *acc, enum pl_role tr, struct pl_err *err)
{
	if (strcmp(acc->kind, "dm") == 0)
		return pl_err_set(err, 403, "direct message membership is fixed");
	if (target != user_id) {
		if (acc->role < PL_ROLE_ADMIN)
			return pl_err_set(err, 403, "only the channel's owner or admins may remove members");
		if (tr == PL_ROLE_NONE)
			return pl_err_set(err, 404, "not a member of this channel");
		if (tr >= PL_ROLE_ADMIN && acc->role != PL_ROLE_OWNER)
			return pl_err_set(err, 403, "only an owner may remove an owner or admin");
		return 0;
	}
	if (tr == PL_ROLE_NONE)
		return pl_err_set(err, 404, "not a member of this channel");
	if (tr == PL_ROLE_OWNER && query_id(db, sql_owner_count, channel_id, 0) <= 1)
		return pl_err_set(err, 409, "the last owner cannot leave: make someone else owner first");
	return 0;
}

int pl_channel_member_remove(struct pl_db *db, int64_t user_id, int64_t channel_id,
			     int64_t target, struct pl_err *err)
{
	struct pl_access acc;
	enum pl_role tr;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, &acc, err) < 0)
		goto out;
	tr = member_role(db, channel_id, target, NULL);
	if (check_remove(db, user_id, channel_id, target, &acc, tr, err) < 0)
		goto out;
	if (exec_ids(db, sql_remove_member, channel_id, target, err) < 0 ||
	    exec_ids(db, sql_member_presence_gone, channel_id, target, err) < 0 ||
	    event_with(db, "member.left", PL_SCOPE_CHANNEL, channel_id, target, NULL, NULL, err) < 0 ||
	    event_with(db, "member.left", PL_SCOPE_USER, channel_id, target, NULL, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

static const char sql_memberships[] =
	"SELECT channel_id, role FROM channel_members WHERE user_id = ?1 ORDER BY channel_id";
static const char sql_successor[] =
	"SELECT m.user_id FROM channel_members m JOIN users u ON u.id = m.user_id "
	"WHERE m.channel_id = ?1 AND m.user_id <> ?2 AND u.deleted_at IS NULL "
	"ORDER BY m.role = 'admin' DESC, m.joined_at, m.user_id LIMIT 1";

/* Hands ownership of `channel_id` on when `leaving` is its last owner. */
static int hand_over(struct pl_db *db, int64_t channel_id, int64_t leaving, struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t next = 0;
	bool created;

	int64_t owners = 0;

	/* Errors fail the whole erasure: no channel is left ownerless by one. */
	if (!(st = pl_db_stmt(db, sql_owner_count, err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	if (pl_db_step_id(db, st, &owners, err) < 0)
		return -1;
	if (owners > 1)
		return 0;
	if (!(st = pl_db_stmt(db, sql_successor, err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, leaving);
	if (pl_db_step_id(db, st, &next, err) < 0)
		return -1;
	if (!next)
		return 0; /* nobody remains: the channel stays, without members */
	return set_member(db, channel_id, next, member_role(db, channel_id, next, NULL),
			  PL_ROLE_OWNER, &created, err);
}

int pl_channel_leave_all_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_memberships, err);
	int64_t *ids = NULL;
	bool *owner = NULL;
	size_t n = 0, cap = 0;
	int step, rc = -1;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	/* Collect first: the changes below use statements of their own. */
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = pl_xrealloc(ids, cap * sizeof(*ids));
			owner = pl_xrealloc(owner, cap * sizeof(*owner));
		}
		ids[n] = pl_stmt_int64(st, 0);
		owner[n++] = pl_role_from_text(pl_stmt_text(st, 1)) == PL_ROLE_OWNER;
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		pl_err_internal(err, "memberships: %s", pl_db_last_error(db));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((owner[i] && hand_over(db, ids[i], user_id, err) < 0) ||
		    exec_ids(db, sql_remove_member, ids[i], user_id, err) < 0 ||
		    exec_ids(db, sql_member_presence_gone, ids[i], user_id, err) < 0 ||
		    event_with(db, "member.left", PL_SCOPE_CHANNEL, ids[i], user_id, NULL, NULL, err) < 0 ||
		    event_with(db, "member.left", PL_SCOPE_USER, ids[i], user_id, NULL, NULL, err) < 0)
			goto out;
	}
	rc = (int)n;
out:
	free(ids);
	free(owner);
	return rc;
}

/* ---- read markers ---- */

/* Moves the marker forward; *moved says whether it did. */
static int move_marker(struct pl_db *db, int64_t channel_id, int64_t user_id, int64_t message_id,
		       bool *moved, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_mark_read, err);

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

int pl_channel_mark_read(struct pl_db *db, int64_t user_id, int64_t channel_id,
			 int64_t message_id, struct pl_err *err)
{
	struct pl_access acc;
	cJSON *payload;
	bool moved;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MEMBER, &acc, err) < 0)
		goto out;
	if (query_id(db, sql_message_channel, message_id, 0) != channel_id) {
		pl_err_set(err, 400, "message_id must be a message of this channel");
		goto out;
	}
	if (move_marker(db, channel_id, user_id, message_id, &moved, err) < 0)
		goto out;
	rc = 0;
	if (moved) {
		payload = cJSON_CreateObject();
		cJSON_AddNumberToObject(payload, "user_id", (double)user_id);
		cJSON_AddNumberToObject(payload, "message_id", (double)message_id);
		rc = pl_event_append(db, "read", PL_SCOPE_CHANNEL, channel_id, user_id, payload, NULL, err);
		cJSON_Delete(payload);
	}
out:
	return pl_db_end(db, rc, err);
}

/* ---- direct messages ---- */

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sorted, distinct ids of the caller plus `others`, each an existing
 * user; *n receives the count. Caller frees. */
static int64_t *dm_people(struct pl_db *db, int64_t user_id, const int64_t *others, size_t n_in,
			  size_t *n, struct pl_err *err)
{
	int64_t *ids = pl_xcalloc(n_in + 1, sizeof(*ids));
	size_t k = 0;

	ids[k++] = user_id;
	for (size_t i = 0; i < n_in; i++)
		ids[k++] = others[i];
	qsort(ids, k, sizeof(*ids), cmp_id);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || ids[*n - 1] != ids[i])
			ids[(*n)++] = ids[i];
	if (*n < 2 || *n > 9) {
		free(ids);
		pl_err_set(err, 400, "user_ids must name 1-8 other users");
		return NULL;
	}
	for (size_t i = 0; i < *n; i++)
		if (!user_exists(db, ids[i])) {
			pl_err_set(err, 400, "user_ids: no user with id %lld", (long long)ids[i]);
			free(ids);
			return NULL;
		}
	return ids;
}

/* Key "3,8,12" and name "alice, bob, carol" of the sorted ids. */
static void dm_key_name(struct pl_db *db, const int64_t *ids, size_t n, char *key, size_t klen,
			char *name, size_t nlen)
{
	size_t ku = 0, nu = 0;

	key[0] = name[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct pl_stmt *st = pl_db_stmt(db, sql_username, NULL);
		const char *u = "";

		ku += (size_t)snprintf(key + ku, klen - ku, "%s%lld", i ? "," : "", (long long)ids[i]);
		if (st) {
			pl_stmt_bind_int64(st, 1, ids[i]);
			if (pl_stmt_step(st) == PL_ROW)
				u = pl_stmt_text(st, 0);
			if (nu < nlen)
				nu += (size_t)snprintf(name + nu, nlen - nu, "%s%s", i ? ", " : "", u);
			pl_db_done(st);
		}
	}
}

static int create_dm(struct pl_db *db, int64_t user_id, const int64_t *ids, size_t n,
		     const char *key, const char *name, int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_insert_dm, err);
	bool added;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, name);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_int64(st, 3, pl_now_ms());
	pl_stmt_bind_text(st, 4, key);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*id = pl_db_last_id(db);
	for (size_t i = 0; i < n; i++)
		if (add_member(db, *id, ids[i], "member", false, &added, err) < 0)
			return -1;
	return announce_channel(db, user_id, *id, false, err);
}

int pl_channel_dm(struct pl_db *db, int64_t user_id, const int64_t *others, size_t n_in,
		  bool *created, cJSON **out, struct pl_err *err)
{
	char key[9 * 21 + 1], name[9 * 34 + 1];
	int64_t *ids = NULL, id = 0;
	size_t n;
	int rc = -1;

	*out = NULL;
	*created = false;
	if (n_in < 1 || n_in > 8)
		return pl_err_set(err, 400, "user_ids must name 1-8 other users");
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(ids = dm_people(db, user_id, others, n_in, &n, err)))
		goto out;
	dm_key_name(db, ids, n, key, sizeof(key), name, sizeof(name));
	{
		struct pl_stmt *st = pl_db_stmt(db, sql_dm_by_key, err);
		if (!st)
			goto out;
		pl_stmt_bind_text(st, 1, key);
		id = pl_stmt_step(st) == PL_ROW ? pl_stmt_int64(st, 0) : 0;
		pl_db_done(st);
	}
	if (id == 0) {
		if (create_dm(db, user_id, ids, n, key, name, &id, err) < 0)
			goto out;
		*created = true;
	}
	rc = 0;
out:
	free(ids);
	rc = pl_db_end(db, rc, err);
	if (rc == 0 && !(*out = pl_channel_json(db, user_id, id, err)))
		rc = -1;
	if (rc < 0)
		*created = false;
	return rc;
}

static const char sql_an_owner[] =
	"SELECT m.user_id FROM channel_members m JOIN users u ON u.id = m.user_id "
	"WHERE m.channel_id = ?1 AND m.role = 'owner' AND u.deleted_at IS NULL "
	"ORDER BY m.joined_at, m.user_id LIMIT 1";

int pl_channel_an_owner(struct pl_db *db, int64_t channel_id, int64_t *owner, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_an_owner, err);
	int found;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	if ((found = pl_db_step_id(db, st, owner, err)) != 1)
		return found;
	return pl_err_set(err, 404, "no such channel, or it has no owner");
}
