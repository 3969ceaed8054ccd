/* user.c — a user row from storage (user.h). */
#include <stdlib.h>
#include <string.h>
#include "user.h"
#include "util.h"

enum user_stmt { USER_STMT_BY_ID, USER_STMT__MAX };

static const struct pl_sql user_stmts[USER_STMT__MAX] = {
	[USER_STMT_BY_ID] = {
		"SELECT id, username, display_name, bio, avatar_url, status_text, created_at, "
		"email, email_verified, deleted_at, is_bot, bot_owner_id, server_role = 'admin', "
		"deactivated_at, phone, phone_verified, mention_mail, mention_mail_at "
		"FROM users WHERE id = ?1" },
};

/* A copy of column `i` (NULL as "" unless `keep_null`). */
static char *dup_col(struct pl_stmt *st, int i, bool keep_null)
{
	const char *t = pl_stmt_text(st, i);

	if (!t)
		return keep_null ? NULL : pl_xstrdup("");
	return pl_xstrdup(t);
}

int pl_user_load(struct pl_db *db, int64_t user_id, struct pl_user *out, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &user_stmts[USER_STMT_BY_ID], err);
	int step, rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		out->id = pl_stmt_int64(st, 0);
		out->username = dup_col(st, 1, false);
		out->display_name = dup_col(st, 2, false);
		out->bio = dup_col(st, 3, false);
		out->avatar_url = dup_col(st, 4, false);
		out->status_text = dup_col(st, 5, false);
		out->created_at = pl_stmt_int64(st, 6);
		out->email = dup_col(st, 7, true);
		out->email_verified = pl_stmt_int(st, 8) != 0;
		out->deleted_at = pl_stmt_int64(st, 9);
		out->is_bot = pl_stmt_int(st, 10) != 0;
		out->bot_owner_id = pl_stmt_int64(st, 11);
		out->server_admin = pl_stmt_int(st, 12) != 0;
		out->deactivated_at = pl_stmt_int64(st, 13);
		out->phone = dup_col(st, 14, true);
		out->phone_verified = pl_stmt_int(st, 15) != 0;
		out->mention_mail = pl_stmt_int(st, 16) != 0;
		out->mention_mail_at = pl_stmt_int64(st, 17);
		rc = 0;
	} else if (step == PL_DONE) {
		rc = 1;
		pl_err_set(err, 404, "no such user");
	} else {
		rc = pl_err_internal(err, "user by id: %s", pl_db_last_error(db));
	}
	pl_db_done(st);
	return rc;
}

void pl_user_release(struct pl_user *u)
{
	free(u->username);
	free(u->display_name);
	free(u->bio);
	free(u->avatar_url);
	free(u->status_text);
	free(u->email);
	free(u->phone);
	memset(u, 0, sizeof(*u));
}
