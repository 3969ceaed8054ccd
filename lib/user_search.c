/* user_search.c — finding users by name prefix (user_search.h). */
#include <stdio.h>
#include <string.h>
#include "user_search.h"
#include "user_view.h"
#include "util.h"

enum user_search_stmt { USER_SEARCH_STMT_PREFIX, USER_SEARCH_STMT__MAX };

static const struct pl_sql user_search_stmts[USER_SEARCH_STMT__MAX] = {
	/* Both halves are range scans: username on its UNIQUE NOCASE index,
	 * display_name on users_display_name (schema 003). ?2 is the prefix
	 * followed by U+10FFFF, above anything that starts with the prefix.
	 * PostgreSQL wants the subquery named (AS t); SQLite accepts it. */
	[USER_SEARCH_STMT_PREFIX] = {
		"SELECT id FROM ("
		" SELECT id, username FROM users WHERE username >= ?1 AND username < ?2 AND deleted_at IS NULL"
		" UNION"
		" SELECT id, username FROM users WHERE display_name >= ?1 COLLATE NOCASE"
		"  AND display_name < ?2 COLLATE NOCASE AND deleted_at IS NULL"
		") AS t ORDER BY username COLLATE NOCASE LIMIT ?3" },
};

cJSON *pl_user_search(struct pl_db *db, const char *prefix, int limit, struct pl_err *err)
{
	char upper[PL_SEARCH_MAX + 8];
	struct pl_stmt *st;
	int64_t ids[200];
	int n = 0, step;
	cJSON *body, *arr;

	if (strlen(prefix) > PL_SEARCH_MAX) {
		pl_err_set(err, 400, "q is too long");
		return NULL;
	}
	if (!pl_utf8_valid(prefix, strlen(prefix), NULL)) {
		pl_err_set(err, 400, "q must be UTF-8");
		return NULL;
	}
	snprintf(upper, sizeof(upper), "%s\xf4\x8f\xbf\xbf", prefix);
	if (limit < 1 || limit > 200)
		limit = 50;
	if (!(st = pl_db_prepare(db, &user_search_stmts[USER_SEARCH_STMT_PREFIX], err)))
		return NULL;
	pl_stmt_bind_text(st, 1, prefix);
	pl_stmt_bind_text(st, 2, upper);
	pl_stmt_bind_int(st, 3, limit);
	while ((step = pl_stmt_step(st)) == PL_ROW && n < limit)
		ids[n++] = pl_stmt_int64(st, 0);
	pl_db_done(st);
	if (step != PL_DONE && step != PL_ROW) {
		pl_err_internal(err, "search: %s", pl_db_last_error(db));
		return NULL;
	}
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "users");
	for (int i = 0; i < n; i++) {
		cJSON *u = pl_user_json(db, ids[i], false, err);
		if (!u) {
			cJSON_Delete(body);
			return NULL;
		}
		cJSON_AddItemToArray(arr, u);
	}
	return body;
}
