/* avatars.c — uploaded avatars (avatars.h). */
#include <stdio.h>
#include "accounts.h"
#include "avatars.h"

enum avatars_stmt { AVATARS_STMT_SET_URL, AVATARS_STMT__MAX };

static const struct pl_sql avatars_stmts[AVATARS_STMT__MAX] = {
	[AVATARS_STMT_SET_URL] = {
		"UPDATE users SET avatar_url = ?2 WHERE id = ?1 AND deleted_at IS NULL" },
};

static int set_url(struct pl_db *db, int64_t user_id, const char *url, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &avatars_stmts[AVATARS_STMT_SET_URL], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, url);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	return pl_db_changes(db) == 1 ? 0 : pl_err_set(err, 401, "account no longer exists");
}

int pl_avatar_set(struct pl_db *db, int64_t user_id, const struct pl_file_new *in, cJSON **out,
		  struct pl_err *err)
{
	int64_t id = 0;
	char url[64];
	int rc = -1;

	*out = NULL;
	/* One transaction: an avatar row no user names is collected at once
	 * (pl_files_collect), so none may be seen before its user names it. */
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_file_insert_locked(db, user_id, in, &id, err) == 0) {
		snprintf(url, sizeof(url), "/api/files/%lld", (long long)id);
		rc = set_url(db, user_id, url, err);
	}
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	*out = pl_user_get(db, user_id, user_id, err);
	return *out ? 0 : -1;
}

int pl_avatar_clear(struct pl_db *db, int64_t user_id, cJSON **out, struct pl_err *err)
{
	int rc;

	*out = NULL;
	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = set_url(db, user_id, "", err);
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	*out = pl_user_get(db, user_id, user_id, err);
	return *out ? 0 : -1;
}
