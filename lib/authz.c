/* authz.c — the only place that decides visibility (authz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "log.h"
#include "user.h"
#include "util.h"

enum authz_stmt {
	AUTHZ_STMT_ACCESS,
	AUTHZ_STMT_IS_MEMBER,
	AUTHZ_STMT_MESSAGE_OWNER,
	AUTHZ_STMT_AUDIENCE_MEMBERS,
	AUTHZ_STMT_PEER_SET,
	AUTHZ_STMT_PEERS,
	AUTHZ_STMT_SERVER_ADMIN,
	AUTHZ_STMT__MAX
};

static const struct pl_sql authz_stmts[AUTHZ_STMT__MAX] = {
	[AUTHZ_STMT_ACCESS] = {
		"SELECT c.kind, m.role, CASE WHEN c.archived_at IS NULL THEN 0 ELSE 1 END "
		"FROM channels c LEFT JOIN channel_members m "
		"ON m.channel_id = c.id AND m.user_id = ?2 WHERE c.id = ?1" },
	[AUTHZ_STMT_IS_MEMBER] = {
		"SELECT 1 FROM channel_members WHERE channel_id = ?1 AND user_id = ?2" },
	[AUTHZ_STMT_MESSAGE_OWNER] = {
		"SELECT channel_id, user_id FROM messages WHERE id = ?1" },
	[AUTHZ_STMT_AUDIENCE_MEMBERS] = {
		"SELECT user_id FROM channel_members WHERE channel_id = ?1 ORDER BY user_id" },
	[AUTHZ_STMT_PEER_SET] = {
		"SELECT DISTINCT b.user_id FROM channel_members a JOIN channel_members b "
		"ON a.channel_id = b.channel_id WHERE a.user_id = ?1 ORDER BY b.user_id" },
	/* Users sharing at least one channel with ?2 include ?1? */
	[AUTHZ_STMT_PEERS] = { "SELECT " PL_AUTHZ_SQL_SHARE_CHANNEL("?1", "?2") },
	[AUTHZ_STMT_SERVER_ADMIN] = {
		"SELECT 1 FROM users WHERE id = ?1 AND server_role = 'admin' "
		"AND deleted_at IS NULL AND deactivated_at IS NULL" },
};


enum pl_role pl_role_from_text(const char *s)
{
	if (!s)
		return PL_ROLE_NONE;
	if (strcmp(s, "owner") == 0)
		return PL_ROLE_OWNER;
	if (strcmp(s, "admin") == 0)
		return PL_ROLE_ADMIN;
	return PL_ROLE_MEMBER;
}

int pl_authz_channel(struct pl_db *db, int64_t user_id, int64_t channel_id,
		     enum pl_action action, struct pl_access *acc, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &authz_stmts[AUTHZ_STMT_ACCESS], err);
	struct pl_access a = { "", PL_ROLE_NONE, false };
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		snprintf(a.kind, sizeof(a.kind), "%s", pl_stmt_text(st, 0));
		a.role = pl_role_from_text(pl_stmt_text(st, 1));
		a.archived = pl_stmt_int(st, 2) != 0;
	}
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		return pl_err_internal(err, "channel access: %s", pl_db_last_error(db));
	if (acc)
		*acc = a;
	/* Not there, or not visible to this user: the same 404. */
	if (step == PL_DONE || (strcmp(a.kind, "public") != 0 && a.role == PL_ROLE_NONE))
		return pl_err_set(err, 404, "no such channel");
	if (action == PL_ACT_MEMBER && a.role == PL_ROLE_NONE)
		return pl_err_set(err, 403, "join the channel first");
	if (action == PL_ACT_MANAGE && a.role < PL_ROLE_ADMIN)
		return pl_err_set(err, 403, "only the channel's owner or admins may do that");
	if (action == PL_ACT_POST && a.archived)
		return pl_err_set(err, 403, PL_AUTHZ_ARCHIVED_MSG);
	return 0;
}

int pl_authz_server_admin(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &authz_stmts[AUTHZ_STMT_SERVER_ADMIN], err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step == PL_ROW)
		return 0;
	if (step != PL_DONE)
		return pl_err_internal(err, "server admin: %s", pl_db_last_error(db));
	return pl_err_set(err, 403, "server admins only");
}

int pl_authz_channel_admin(struct pl_db *db, int64_t user_id, int64_t channel_id,
			   struct pl_access *acc, struct pl_err *err)
{
	struct pl_stmt *st;
	struct pl_access a = { "", PL_ROLE_NONE, false };
	int step;

	if (user_id != 0 && pl_authz_server_admin(db, user_id, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &authz_stmts[AUTHZ_STMT_ACCESS], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		snprintf(a.kind, sizeof(a.kind), "%s", pl_stmt_text(st, 0));
		a.role = pl_role_from_text(pl_stmt_text(st, 1));
		a.archived = pl_stmt_int(st, 2) != 0;
	}
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		return pl_err_internal(err, "channel access: %s", pl_db_last_error(db));
	if (step == PL_DONE)
		return pl_err_set(err, 404, "no such channel");
	if (acc)
		*acc = a;
	return 0;
}

bool pl_channel_is_member(struct pl_db *db, int64_t user_id, int64_t channel_id)
{
	struct pl_stmt *st = pl_db_prepare(db, &authz_stmts[AUTHZ_STMT_IS_MEMBER], NULL);
	bool yes;

	if (!st)
		return false;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, user_id);
	yes = pl_stmt_step(st) == PL_ROW;
	pl_db_done(st);
	return yes;
}

int pl_authz_message(struct pl_db *db, int64_t user_id, int64_t message_id,
		     enum pl_msg_action action, int64_t *channel_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &authz_stmts[AUTHZ_STMT_MESSAGE_OWNER], err);
	int64_t chan = 0, author = 0;
	struct pl_access acc;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		chan = pl_stmt_int64(st, 0);
		author = pl_stmt_int64(st, 1);
	}
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		return pl_err_internal(err, "message owner: %s", pl_db_last_error(db));
	if (step == PL_DONE)
		return pl_err_set(err, 404, "no such message");
	if (pl_authz_channel(db, user_id, chan, action == PL_MSG_REACT ? PL_ACT_POST :
			     action == PL_MSG_PIN || action == PL_MSG_PIN_MANAGE ? PL_ACT_MEMBER :
			     PL_ACT_READ, &acc, err) < 0) {
		if (err && err->status == 404)
			pl_err_set(err, 404, "no such message");
		return -1;
	}
	if (channel_id)
		*channel_id = chan;
	if (action == PL_MSG_EDIT && author != user_id)
		return pl_err_set(err, 403, "only the author may edit a message");
	if (action == PL_MSG_EDIT && acc.archived)
		return pl_err_set(err, 403, PL_AUTHZ_ARCHIVED_MSG);
	if ((action == PL_MSG_PIN || action == PL_MSG_PIN_MANAGE) && acc.archived)
		return pl_err_set(err, 403, PL_AUTHZ_ARCHIVED_MSG);
	if (action == PL_MSG_PIN_MANAGE && acc.role < PL_ROLE_ADMIN)
		return pl_err_set(err, 403, "only the channel's owner/admins may pin messages here");
	if (action == PL_MSG_DELETE && author != user_id && acc.role < PL_ROLE_ADMIN)
		return pl_err_set(err, 403, "only the author or the channel's owner/admins may delete a message");
	return 0;
}

int pl_authz_file(struct pl_db *db, int64_t user_id, const struct pl_file *f, struct pl_err *err)
{
	struct pl_err merr = { 0 };

	if (f->user_id == user_id || strcmp(f->purpose, "avatar") == 0)
		return 0;
	if (f->message_id > 0 &&
	    pl_authz_message(db, user_id, f->message_id, PL_MSG_READ, NULL, &merr) == 0)
		return 0;
	if (merr.status >= 500)
		return pl_err_set(err, merr.status, "%s", merr.message);
	return pl_err_set(err, 404, "no such file");
}

static bool share_channel(struct pl_db *db, int64_t a, int64_t b)
{
	struct pl_stmt *st = pl_db_prepare(db, &authz_stmts[AUTHZ_STMT_PEERS], NULL);
	bool yes;

	if (!st)
		return false;
	pl_stmt_bind_int64(st, 1, a);
	pl_stmt_bind_int64(st, 2, b);
	yes = pl_stmt_step(st) == PL_ROW && pl_stmt_int(st, 0) != 0;
	pl_db_done(st);
	return yes;
}

bool pl_event_visible(struct pl_db *db, int64_t user_id, const struct pl_event *ev)
{
	switch (ev->scope) {
	case PL_SCOPE_CHANNEL:
		return pl_channel_is_member(db, user_id, ev->channel_id);
	case PL_SCOPE_USER:
		return ev->user_id == user_id;
	case PL_SCOPE_ALL:
		return true;
	case PL_SCOPE_PEERS:
		return ev->user_id == user_id || share_channel(db, user_id, ev->user_id);
	}
	return false;
}

void pl_event_audience_init(struct pl_event_audience *a, const struct pl_event *ev)
{
	memset(a, 0, sizeof(*a));
	a->ev = ev;
}

/* Reads the sorted user ids of statement `q` bound to `id` into a->ids. */
static void load_ids(struct pl_db *db, struct pl_event_audience *a, enum authz_stmt q, int64_t id)
{
	struct pl_stmt *st = pl_db_prepare(db, &authz_stmts[q], NULL);
	size_t cap = 0;

	if (!st)
		return;
	pl_stmt_bind_int64(st, 1, id);
	while (pl_stmt_step(st) == PL_ROW) {
		if (a->n == cap) {
			cap = cap ? cap * 2 : 64;
			a->ids = pl_xrealloc(a->ids, cap * sizeof(*a->ids));
		}
		a->ids[a->n++] = pl_stmt_int64(st, 0);
	}
	pl_db_done(st);
}

static void audience_load(struct pl_db *db, struct pl_event_audience *a)
{
	const struct pl_event *ev = a->ev;

	a->loaded = true;
	switch (ev->scope) {
	case PL_SCOPE_CHANNEL:
		load_ids(db, a, AUTHZ_STMT_AUDIENCE_MEMBERS, ev->channel_id);
		break;
	case PL_SCOPE_PEERS:
		load_ids(db, a, AUTHZ_STMT_PEER_SET, ev->user_id);
		break;
	case PL_SCOPE_ALL:
		a->all = true;
		break;
	case PL_SCOPE_USER:
		break;
	}
}

void pl_event_audience_init_channel(struct pl_event_audience *a, int64_t channel_id)
{
	memset(a, 0, sizeof(*a));
	a->own.scope = PL_SCOPE_CHANNEL;
	a->own.channel_id = channel_id;
	a->ev = &a->own;
}

bool pl_event_audience_has(struct pl_db *db, struct pl_event_audience *a, int64_t user_id)
{
	size_t lo = 0, hi;

	if (a->ev->scope == PL_SCOPE_USER)
		return a->ev->user_id == user_id;
	if (a->ev->scope == PL_SCOPE_PEERS && a->ev->user_id == user_id)
		return true;
	if (!a->loaded)
		audience_load(db, a);
	if (a->all)
		return true;
	hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->ids[mid] == user_id)
			return true;
		if (a->ids[mid] < user_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void pl_event_audience_release(struct pl_event_audience *a)
{
	free(a->ids);
	a->ids = NULL;
	a->n = 0;
	a->loaded = false;
}

int pl_authz_is_server_admin(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_user u;
	int rc = pl_user_load(db, user_id, &u, err);

	if (rc < 0)
		return -1;
	rc = rc == 0 && u.server_admin && !u.deleted_at && !u.deactivated_at;
	pl_user_release(&u);
	return rc;
}

int pl_authz_bot(struct pl_db *db, int64_t user_id, int64_t bot_id, struct pl_err *err)
{
	struct pl_user bot;
	int rc = pl_user_load(db, bot_id, &bot, err), admin;

	if (rc < 0)
		return -1;
	if (rc == 1 || !bot.is_bot || bot.deleted_at) {
		pl_user_release(&bot);
		return pl_err_set(err, 404, "no such bot");
	}
	rc = bot.bot_owner_id == user_id;
	pl_user_release(&bot);
	if (rc)
		return 0;
	if ((admin = pl_authz_is_server_admin(db, user_id, err)) < 0)
		return -1;
	return admin ? 0 : pl_err_set(err, 403, "only the bot's owner or a server admin may do this");
}
