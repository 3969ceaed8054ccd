/* bots.c — bot accounts (bots.h). */
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "bots.h"
#include "json.h"
#include "log.h"
#include "user.h"
#include "user_view.h"
#include "users.h"
#include "accounts.h"
#include "util.h"

enum bots_stmt {
	BOTS_STMT_INSERT,
	BOTS_STMT_ALL,
	BOTS_STMT_OWNED,
	BOTS_STMT__MAX
};

static const struct pl_sql bots_stmts[BOTS_STMT__MAX] = {
	/* "!" is no argon2id string: pl_password_check never matches it. */
	[BOTS_STMT_INSERT] = {
		"INSERT INTO users (username, password_hash, display_name, created_at, is_bot, bot_owner_id) "
		"VALUES (?1, '!', ?2, ?3, 1, ?4)" },
	[BOTS_STMT_ALL] = {
		"SELECT id FROM users WHERE is_bot = 1 AND deleted_at IS NULL ORDER BY id" },
	[BOTS_STMT_OWNED] = {
		"SELECT id FROM users WHERE is_bot = 1 AND bot_owner_id = ?1 AND deleted_at IS NULL ORDER BY id" },
};

static int read_create(const cJSON *in, const char **username, const char **display,
		       struct pl_err *err)
{
	size_t chars = 0;

	*display = "";
	if (pl_json_string(in, "username", true, username, err) < 0 ||
	    pl_user_validate_username(*username, err) < 0 ||
	    pl_json_string(in, "display_name", false, display, err) < 0)
		return -1;
	if (!pl_utf8_valid(*display, strlen(*display), &chars) || chars > PL_BOT_DISPLAY_NAME_MAX ||
	    pl_text_has_controls(*display, false))
		return pl_err_set(err, 400, "\"display_name\" must be at most %d characters without control characters",
				  PL_BOT_DISPLAY_NAME_MAX);
	return 0;
}

int pl_bot_create(struct pl_db *db, int64_t caller, const cJSON *in, cJSON **out, struct pl_err *err)
{
	const char *username, *display;
	struct pl_stmt *st;
	int64_t id = 0;
	int admin, step, rc = -1;

	*out = NULL;
	if ((admin = pl_authz_is_server_admin(db, caller, err)) < 0)
		return -1;
	if (!admin)
		return pl_err_set(err, 403, "only server admins make bots");
	if (read_create(in, &username, &display, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &bots_stmts[BOTS_STMT_INSERT], err)))
		goto end;
	pl_stmt_bind_text(st, 1, username);
	pl_stmt_bind_text(st, 2, display);
	pl_stmt_bind_int64(st, 3, pl_now_ms());
	pl_stmt_bind_int64(st, 4, caller);
	step = pl_stmt_step(st);
	if (step == PL_DONE)
		id = pl_db_last_id(db);
	pl_db_done(st);
	if (step == PL_UNIQUE || step == PL_CONSTRAINT)
		pl_err_set(err, 409, "username already taken");
	else if (step != PL_DONE)
		pl_err_internal(err, "insert bot: %s", pl_db_last_error(db));
	else
		rc = 0;
end:
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	pl_info_log("bot %lld made by user %lld", (long long)id, (long long)caller);
	*out = pl_user_json(db, id, false, err);
	return *out ? 0 : -1;
}

int pl_bot_list(struct pl_db *db, int64_t caller, cJSON **out, struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	cJSON *body, *arr;
	int admin, step, rc = -1;

	*out = NULL;
	if ((admin = pl_authz_is_server_admin(db, caller, err)) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &bots_stmts[admin ? BOTS_STMT_ALL : BOTS_STMT_OWNED], err)))
		return -1;
	if (!admin)
		pl_stmt_bind_int64(st, 1, caller);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (n == cap)
			ids = pl_xrealloc(ids, (cap = cap ? cap * 2 : 16) * sizeof(*ids));
		ids[n++] = pl_stmt_int64(st, 0);
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		free(ids);
		return pl_err_internal(err, "list bots: %s", pl_db_last_error(db));
	}
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "bots");
	for (size_t i = 0; i < n; i++) {
		cJSON *u = pl_user_json(db, ids[i], false, err);
		if (!u)
			goto out;
		cJSON_AddItemToArray(arr, u);
	}
	*out = body;
	body = NULL;
	rc = 0;
out:
	cJSON_Delete(body);
	free(ids);
	return rc;
}

int pl_bot_delete(struct pl_db *db, int64_t caller, int64_t bot_id, struct pl_err *err)
{
	struct pl_user bot;
	int rc;

	if (pl_authz_bot(db, caller, bot_id, err) < 0)
		return -1;
	if ((rc = pl_user_load(db, bot_id, &bot, err)) != 0)
		return -1;
	rc = pl_user_erase(db, bot_id, bot.username, err);
	pl_user_release(&bot);
	return rc;
}
