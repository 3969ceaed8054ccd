/* members.c — channel membership: join, member list, roles, leave and
 * removal (members.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "channel_common.h"
#include "member_view.h"
#include "members.h"
#include "util.h"

enum members_stmt {
	MEMBERS_STMT_LIST,
	MEMBERS_STMT_ONE,
	MEMBERS_STMT_SET_ROLE,
	MEMBERS_STMT_OWNER_COUNT,
	MEMBERS_STMT_REMOVE,
	MEMBERS_STMT_PRESENCE_GONE,
	MEMBERS_STMT_OF_USER,
	MEMBERS_STMT_SUCCESSOR,
	MEMBERS_STMT_AN_OWNER,
	MEMBERS_STMT__MAX
};

static const struct pl_sql members_stmts[MEMBERS_STMT__MAX] = {
	[MEMBERS_STMT_LIST] = {
		"SELECT user_id, role, joined_at FROM channel_members WHERE channel_id = ?1 "
		"ORDER BY joined_at, user_id" },
	[MEMBERS_STMT_ONE] = {
		"SELECT role, joined_at FROM channel_members WHERE channel_id = ?1 AND user_id = ?2" },
	[MEMBERS_STMT_SET_ROLE] = {
		"UPDATE channel_members SET role = ?3 WHERE channel_id = ?1 AND user_id = ?2" },
	[MEMBERS_STMT_OWNER_COUNT] = {
		"SELECT count(*) FROM channel_members WHERE channel_id = ?1 AND role = 'owner'" },
	[MEMBERS_STMT_REMOVE] = {
		"DELETE FROM channel_members WHERE channel_id = ?1 AND user_id = ?2" },
	/* Presence in a channel ends with the membership. */
	[MEMBERS_STMT_PRESENCE_GONE] = {
		"DELETE FROM presence WHERE channel_id = ?1 AND user_id = ?2" },
	[MEMBERS_STMT_OF_USER] = {
		"SELECT channel_id, role FROM channel_members WHERE user_id = ?1 ORDER BY channel_id" },
	/* The next owner: the longest-standing admin, else member, alive. */
	[MEMBERS_STMT_SUCCESSOR] = {
		"SELECT m.user_id FROM channel_members m JOIN users u ON u.id = m.user_id "
		"WHERE m.channel_id = ?1 AND m.user_id <> ?2 AND u.deleted_at IS NULL "
		"ORDER BY CASE WHEN m.role = 'admin' THEN 0 ELSE 1 END, m.joined_at, m.user_id "
		"LIMIT 1" },
	[MEMBERS_STMT_AN_OWNER] = {
		"SELECT m.user_id FROM channel_members m JOIN users u ON u.id = m.user_id "
		"WHERE m.channel_id = ?1 AND m.role = 'owner' AND u.deleted_at IS NULL "
		"ORDER BY m.joined_at, m.user_id LIMIT 1" },
};

/* ---- storage: struct pl_member ---- */

/* Loads the account of `m` (m->user_id set): m->found says whether its
 * row exists. */
static void member_load_user(struct pl_db *db, struct pl_member *m)
{
	m->found = pl_user_load(db, m->user_id, &m->user, NULL) == 0;
}

/* Frees what `m` owns. */
static void member_release(struct pl_member *m)
{
	pl_user_release(&m->user);
	m->found = false;
}

/* The membership rows of `channel_id`, oldest first, without their
 * accounts: *out (caller frees) holds *n members. Returns 0 or -1 (`err`
 * 500). */
static int member_rows(struct pl_db *db, int64_t channel_id, struct pl_member **out, size_t *n,
		       struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &members_stmts[MEMBERS_STMT_LIST], err);
	struct pl_member *ms = NULL;
	size_t cap = 0;
	int step;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			ms = pl_xrealloc(ms, cap * sizeof(*ms));
		}
		memset(&ms[*n], 0, sizeof(ms[*n]));
		ms[*n].user_id = pl_stmt_int64(st, 0);
		snprintf(ms[*n].role, sizeof(ms[*n].role), "%s", pl_stmt_text(st, 1));
		ms[(*n)++].joined_at = pl_stmt_int64(st, 2);
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		free(ms);
		*n = 0;
		return pl_err_internal(err, "members: %s", pl_db_last_error(db));
	}
	*out = ms;
	return 0;
}

/* The membership of `uid` in `channel_id`: its role (PL_ROLE_NONE when
 * not a member) and, when `m` is not NULL, the row (account not loaded). */
static enum pl_role member_row(struct pl_db *db, int64_t channel_id, int64_t uid,
			       struct pl_member *m)
{
	struct pl_stmt *st = pl_db_prepare(db, &members_stmts[MEMBERS_STMT_ONE], NULL);
	enum pl_role r = PL_ROLE_NONE;

	if (m)
		memset(m, 0, sizeof(*m));
	if (!st)
		return PL_ROLE_NONE;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, uid);
	if (pl_stmt_step(st) == PL_ROW) {
		r = pl_role_from_text(pl_stmt_text(st, 0));
		if (m) {
			m->user_id = uid;
			snprintf(m->role, sizeof(m->role), "%s", pl_stmt_text(st, 0));
			m->joined_at = pl_stmt_int64(st, 1);
		}
	}
	pl_db_done(st);
	return r;
}

/* ---- join, list ---- */

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
	if (acc.archived)
		return pl_err_set(err, 403, PL_AUTHZ_ARCHIVED_MSG);
	return pl_chan_add_member_locked(db, channel_id, user_id, "member", true, joined, err);
}

int pl_channel_members(struct pl_db *db, int64_t user_id, int64_t channel_id,
		       cJSON **out, struct pl_err *err)
{
	struct pl_member *ms;
	cJSON *arr, *body;
	size_t n;

	*out = NULL;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return -1;
	/* Rows first: loading each account uses a statement of its own. */
	if (member_rows(db, channel_id, &ms, &n, err) < 0)
		return -1;
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "members");
	for (size_t i = 0; i < n; i++) {
		member_load_user(db, &ms[i]);
		cJSON_AddItemToArray(arr, pl_member_view(&ms[i]));
		member_release(&ms[i]);
	}
	free(ms);
	*out = body;
	return 0;
}

/* ---- roles ---- */

static const char *role_text(enum pl_role r)
{
	return r == PL_ROLE_OWNER ? "owner" : r == PL_ROLE_ADMIN ? "admin" : "member";
}

static int64_t owner_count(struct pl_db *db, int64_t channel_id)
{
	return pl_chan_query_id(db, &members_stmts[MEMBERS_STMT_OWNER_COUNT], channel_id, 0);
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
	if (cur == PL_ROLE_OWNER && want != PL_ROLE_OWNER && owner_count(db, channel_id) <= 1)
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
		return pl_chan_add_member_locked(db, channel_id, target, role_text(want), true,
						 created, err);
	if (cur == want)
		return 0;
	if (!(st = pl_db_prepare(db, &members_stmts[MEMBERS_STMT_SET_ROLE], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, target);
	pl_stmt_bind_text(st, 3, role_text(want));
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	payload = cJSON_CreateObject();
	cJSON_AddNumberToObject(payload, "user_id", (double)target);
	cJSON_AddStringToObject(payload, "role", role_text(want));
	rc = pl_event_append(db, "member.updated", PL_SCOPE_CHANNEL, channel_id, target, payload,
			     NULL, err);
	cJSON_Delete(payload);
	return rc;
}

/* The member object of `target` in `channel_id` as it now stands. */
static cJSON *member_json(struct pl_db *db, int64_t channel_id, int64_t target)
{
	struct pl_member m;
	cJSON *o;

	member_row(db, channel_id, target, &m);
	m.user_id = target;
	member_load_user(db, &m);
	o = pl_member_view(&m);
	member_release(&m);
	return o;
}

int pl_channel_member_set(struct pl_db *db, int64_t user_id, int64_t channel_id, int64_t target,
			  const char *role, bool *created, cJSON **out, struct pl_err *err)
{
	struct pl_access acc;
	enum pl_role want = PL_ROLE_MEMBER, cur;
	int rc = -1;

	*out = NULL;
	*created = false;
	if (parse_role(role, &want, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_MANAGE, &acc, err) < 0)
		goto out;
	if (!pl_chan_user_exists(db, target)) {
		pl_err_set(err, 400, "no user with id %lld", (long long)target);
		goto out;
	}
	cur = member_row(db, channel_id, target, NULL);
	if (check_role_change(db, channel_id, &acc, target == user_id, cur, want, err) < 0 ||
	    set_member(db, channel_id, target, cur, want, created, err) < 0)
		goto out;
	*out = member_json(db, channel_id, target);
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

int pl_channel_an_owner(struct pl_db *db, int64_t channel_id, int64_t *owner, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &members_stmts[MEMBERS_STMT_AN_OWNER], err);
	int found;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	if ((found = pl_db_step_id(db, st, owner, err)) != 1)
		return found;
	return pl_err_set(err, 404, "no such channel, or it has no owner");
}

/* ---- leaving ---- */

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
	if (tr == PL_ROLE_OWNER && owner_count(db, channel_id) <= 1)
		return pl_err_set(err, 409, "the last owner cannot leave: make someone else owner first");
	return 0;
}

/* `target` leaves `channel_id`: the row, its presence there, and
 * member.left to the channel and to `target`. Inside a write transaction. */
static int leave(struct pl_db *db, int64_t channel_id, int64_t target, struct pl_err *err)
{
	if (pl_chan_exec(db, &members_stmts[MEMBERS_STMT_REMOVE], channel_id, target, err) < 0 ||
	    pl_chan_exec(db, &members_stmts[MEMBERS_STMT_PRESENCE_GONE], channel_id, target, err) < 0 ||
	    pl_chan_event(db, "member.left", PL_SCOPE_CHANNEL, channel_id, target, NULL, NULL, err) < 0 ||
	    pl_chan_event(db, "member.left", PL_SCOPE_USER, channel_id, target, NULL, NULL, err) < 0)
		return -1;
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
	tr = member_row(db, channel_id, target, NULL);
	if (check_remove(db, user_id, channel_id, target, &acc, tr, err) < 0 ||
	    leave(db, channel_id, target, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

/* Hands ownership of `channel_id` on when `leaving` is its last owner. */
static int hand_over(struct pl_db *db, int64_t channel_id, int64_t leaving, struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t next = 0, owners = 0;
	bool created;

	/* Errors fail the whole erasure: no channel is left ownerless by one. */
	if (!(st = pl_db_prepare(db, &members_stmts[MEMBERS_STMT_OWNER_COUNT], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	if (pl_db_step_id(db, st, &owners, err) < 0)
		return -1;
	if (owners > 1)
		return 0;
	if (!(st = pl_db_prepare(db, &members_stmts[MEMBERS_STMT_SUCCESSOR], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, leaving);
	if (pl_db_step_id(db, st, &next, err) < 0)
		return -1;
	if (!next)
		return 0; /* nobody remains: the channel stays, without members */
	return set_member(db, channel_id, next, member_row(db, channel_id, next, NULL),
			  PL_ROLE_OWNER, &created, err);
}

int pl_channel_leave_all_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &members_stmts[MEMBERS_STMT_OF_USER], err);
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
	for (size_t i = 0; i < n; i++)
		if ((owner[i] && hand_over(db, ids[i], user_id, err) < 0) ||
		    leave(db, ids[i], user_id, err) < 0)
			goto out;
	rc = (int)n;
out:
	free(ids);
	free(owner);
	return rc;
}
