/* channels.c — channels themselves: create, list, get, change, delete
 * (channels.h). Members, direct messages and read markers have their own
 * files (members.c, direct.c, read_markers.c). */
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "channel_common.h"
#include "channel_view.h"
#include "channels.h"
#include "util.h"

/*
 * One SELECT list for the channel object, as user ?1 sees it. unread_count
 * is the caller's messages after their read marker that are neither
 * deleted nor their own, at most PL_UNREAD_CAP (clients show "999+"): the
 * difference of two counts that triggers keep (schema 021: the channel's
 * messages, and of those the ones the member has read or wrote), so a
 * channel costs the same whatever it holds or whoever wrote it. The
 * member count and the newest message id are the channel row's, kept by
 * triggers too (schema 020, 021).
 * The same text on both engines (min/max of two values: max(a, b) in
 * SQLite, GREATEST in PostgreSQL, hence the two spellings).
 */
#define PL_UNREAD_CAP_STR "1000"
#define CHANNEL_COLUMNS_WITH(least, greatest) \
	"SELECT c.id, c.name, c.kind, c.topic, c.created_by, c.created_at, " \
	"c.member_count, me.role, " \
	"c.last_message_id, " \
	"CASE WHEN me.role IS NULL THEN 0 ELSE " least "(" PL_UNREAD_CAP_STR ", " \
	greatest "(0, c.message_count - me.read_count)) END, " \
	"CASE WHEN c.archived_at IS NULL THEN 0 ELSE 1 END " \
	"FROM channels c LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = ?1 "
#define CHANNEL_COLUMNS CHANNEL_COLUMNS_WITH("min", "max")
#define CHANNEL_COLUMNS_PG CHANNEL_COLUMNS_WITH("LEAST", "GREATEST")

enum channels_stmt {
	CHANNELS_STMT_ONE,
	CHANNELS_STMT_LIST,
	CHANNELS_STMT_INSERT,
	CHANNELS_STMT_UPDATE,
	CHANNELS_STMT_DELETE,
	CHANNELS_STMT_MEMBER_IDS,
	CHANNELS_STMT_PRESENCE_GONE,
	CHANNELS_STMT_ARCHIVE,
	CHANNELS_STMT_UNARCHIVE,
	CHANNELS_STMT__MAX
};

static const struct pl_sql channels_stmts[CHANNELS_STMT__MAX] = {
	[CHANNELS_STMT_ONE] = { CHANNEL_COLUMNS "WHERE c.id = ?2",
				.pg = CHANNEL_COLUMNS_PG "WHERE c.id = ?2" },
	[CHANNELS_STMT_LIST] = {
		CHANNEL_COLUMNS "WHERE " PL_AUTHZ_SQL_CAN_READ("c", "me") " ORDER BY c.id",
		.pg = CHANNEL_COLUMNS_PG "WHERE " PL_AUTHZ_SQL_CAN_READ("c", "me") " ORDER BY c.id" },
	[CHANNELS_STMT_INSERT] = {
		"INSERT INTO channels (name, kind, topic, created_by, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5)" },
	[CHANNELS_STMT_UPDATE] = {
		"UPDATE channels SET name = coalesce(?2, name), topic = coalesce(?3, topic) "
		"WHERE id = ?1" },
	[CHANNELS_STMT_DELETE] = { "DELETE FROM channels WHERE id = ?1" },
	[CHANNELS_STMT_MEMBER_IDS] = { "SELECT user_id FROM channel_members WHERE channel_id = ?1" },
	/* Presence rows name channels without a foreign key (0 = none): they
	 * end with the channel. */
	[CHANNELS_STMT_PRESENCE_GONE] = { "DELETE FROM presence WHERE channel_id = ?1" },
	[CHANNELS_STMT_ARCHIVE] = {
		"UPDATE channels SET archived_at = ?2 WHERE id = ?1 AND archived_at IS NULL" },
	[CHANNELS_STMT_UNARCHIVE] = {
		"UPDATE channels SET archived_at = NULL WHERE id = ?1 AND archived_at IS NOT NULL" },
};

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
	c->archived = pl_stmt_int(st, 10) != 0;
}

/* The view of the current row. */
static cJSON *channel_from_row(struct pl_stmt *st)
{
	struct pl_channel c;

	channel_row(st, &c);
	return pl_channel_view(&c);
}

/* The channel object of `channel_id` as `viewer` sees it (0: nobody), no
 * access check. NULL with `err`: 404 when there is no such channel, 500. */
static cJSON *channel_one(struct pl_db *db, int64_t viewer, int64_t channel_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &channels_stmts[CHANNELS_STMT_ONE], err);
	cJSON *c = NULL;
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, viewer);
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

cJSON *pl_channel_json(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return NULL;
	return channel_one(db, user_id, channel_id, err);
}

cJSON *pl_channel_public_json(struct pl_db *db, int64_t channel_id, struct pl_err *err)
{
	/* User 0 is nobody: no role, no unread count. */
	return channel_one(db, 0, channel_id, err);
}

cJSON *pl_channel_list(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &channels_stmts[CHANNELS_STMT_LIST], err);
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

/* ---- create ---- */

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
	struct pl_stmt *st = pl_db_prepare(db, &channels_stmts[CHANNELS_STMT_INSERT], err);
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

/* The creator as owner, then the initial members (each must exist). */
static int add_initial_members(struct pl_db *db, int64_t user_id, int64_t id,
			       const struct pl_channel_new *in, struct pl_err *err)
{
	bool added;

	if (pl_chan_add_member_locked(db, id, user_id, "owner", false, &added, err) < 0)
		return -1;
	for (size_t i = 0; i < in->nmembers; i++) {
		if (!pl_chan_user_exists(db, in->members[i]))
			return pl_err_set(err, 400, "members: no user with id %lld",
					  (long long)in->members[i]);
		if (pl_chan_add_member_locked(db, id, in->members[i], "member", false, &added, err) < 0)
			return -1;
	}
	return 0;
}

int pl_channel_create(struct pl_db *db, int64_t user_id, const struct pl_channel_new *in,
		      cJSON **out, struct pl_err *err)
{
	const char *kind = in->kind ? in->kind : "public";
	char *name = NULL;
	int64_t id = 0;
	cJSON *ch = NULL;
	int rc = -1;

	*out = NULL;
	if (validate_new(in, &name, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		goto out;
	if (insert_channel(db, user_id, name, kind, in->topic, &id, err) < 0 ||
	    add_initial_members(db, user_id, id, in, err) < 0 ||
	    !(ch = pl_channel_json(db, user_id, id, err)) ||
	    pl_chan_announce_created(db, user_id, id, strcmp(kind, "public") == 0, err) < 0)
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
	struct pl_stmt *st = pl_db_prepare(db, &channels_stmts[CHANNELS_STMT_UPDATE], err);
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
	pub = pl_chan_ref(channel_id, NULL);
	if (update_row(db, channel_id, tname, topic, err) < 0 ||
	    pl_chan_event(db, "channel.updated",
			  strcmp(acc.kind, "public") == 0 ? PL_SCOPE_ALL : PL_SCOPE_CHANNEL,
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
	struct pl_stmt *st = pl_db_prepare(db, &channels_stmts[CHANNELS_STMT_MEMBER_IDS], err);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int step, rc = 0;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	/* Collect first: the events use statements of their own. */
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = pl_xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = pl_stmt_int64(st, 0);
	}
	pl_db_done(st);
	if (step != PL_DONE)
		rc = pl_err_internal(err, "channel members: %s", pl_db_last_error(db));
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = pl_chan_event(db, "channel.deleted", PL_SCOPE_USER, channel_id, ids[i],
				   "channel", pub, err);
	free(ids);
	return rc;
}

int pl_channel_delete_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			     const char *kind, struct pl_err *err)
{
	cJSON *pub = pl_chan_ref(channel_id, kind);
	int rc;

	if (strcmp(kind, "public") == 0)
		rc = pl_chan_event(db, "channel.deleted", PL_SCOPE_ALL, channel_id, user_id,
				   "channel", pub, err);
	else
		rc = announce_deleted_to_members(db, channel_id, pub, err);
	if (rc == 0)
		rc = pl_chan_exec(db, &channels_stmts[CHANNELS_STMT_DELETE], channel_id, 0, err);
	if (rc == 0)
		rc = pl_chan_exec(db, &channels_stmts[CHANNELS_STMT_PRESENCE_GONE], channel_id, 0, err);
	cJSON_Delete(pub);
	return rc;
}

int pl_channel_delete(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	struct pl_access acc;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, &acc, err) < 0)
		goto out;
	if (acc.role != PL_ROLE_OWNER) {
		pl_err_set(err, 403, "only the channel's owner may delete it");
		goto out;
	}
	rc = pl_channel_delete_locked(db, user_id, channel_id, acc.kind, err);
out:
	return pl_db_end(db, rc, err);
}

int pl_channel_archive_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			      const char *kind, bool archive, bool *changed, struct pl_err *err)
{
	enum channels_stmt q = archive ? CHANNELS_STMT_ARCHIVE : CHANNELS_STMT_UNARCHIVE;
	cJSON *pub;
	int rc;

	*changed = false;
	if (pl_chan_exec(db, &channels_stmts[q], channel_id, pl_now_ms(), err) < 0)
		return -1;
	if (pl_db_changes(db) == 0)
		return 0;  /* already so: nothing to announce */
	*changed = true;
	pub = pl_chan_ref(channel_id, NULL);
	rc = pl_chan_event(db, "channel.updated",
			   strcmp(kind, "public") == 0 ? PL_SCOPE_ALL : PL_SCOPE_CHANNEL,
			   channel_id, user_id, "channel", pub, err);
	cJSON_Delete(pub);
	return rc;
}
