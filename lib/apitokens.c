/* apitokens.c — personal API tokens (apitokens.h). */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "apitokens.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define TOKEN_BYTES 32
#define TOKEN_TEXT_MAX 64   /* "plt_" + 43 base64url characters + NUL fits */

/* Every statement of this file; one text serves both engines. */
enum apitok_stmt {
	APITOK_STMT_INSERT,
	APITOK_STMT_COUNT,
	APITOK_STMT_USER_LIVE,
	APITOK_STMT_LIST,
	APITOK_STMT_DELETE,
	APITOK_STMT_BY_HASH,
	APITOK_STMT_TOUCH,
	APITOK_STMT_CHECK,
	APITOK_STMT_DROP_USER,
	APITOK_STMT__MAX
};

/* The condition under which a token works (?2 = now, in ms). */
#define LIVE_SQL "(t.expires_at IS NULL OR t.expires_at > ?2) " \
	"AND u.deleted_at IS NULL AND u.deactivated_at IS NULL"

static const struct pl_sql apitok_stmts[APITOK_STMT__MAX] = {
	[APITOK_STMT_INSERT] = {
		"INSERT INTO api_tokens (user_id, name, scope, token_hash, created_at, expires_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
	[APITOK_STMT_COUNT] = { "SELECT count(*) FROM api_tokens WHERE user_id = ?1" },
	[APITOK_STMT_USER_LIVE] = {
		"SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NULL AND deactivated_at IS NULL" },
	[APITOK_STMT_LIST] = {
		"SELECT id, name, scope, created_at, expires_at, last_used_at FROM api_tokens "
		"WHERE user_id = ?1 ORDER BY id DESC" },
	[APITOK_STMT_DELETE] = { "DELETE FROM api_tokens WHERE id = ?1 AND user_id = ?2" },
	[APITOK_STMT_BY_HASH] = {
		"SELECT t.id, t.user_id, t.scope, t.last_used_at, u.username "
		"FROM api_tokens t JOIN users u ON u.id = t.user_id "
		"WHERE t.token_hash = ?1 AND " LIVE_SQL },
	[APITOK_STMT_TOUCH] = {
		"UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1 "
		"AND (last_used_at IS NULL OR last_used_at <= ?3)" },
	[APITOK_STMT_CHECK] = {
		"SELECT 1 FROM api_tokens t JOIN users u ON u.id = t.user_id "
		"WHERE t.id = ?1 AND t.user_id = ?3 AND " LIVE_SQL },
	[APITOK_STMT_DROP_USER] = { "DELETE FROM api_tokens WHERE user_id = ?1" },
};

int pl_scope_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "read"))
		return PL_SCOPE_READ;
	if (!strcmp(s, "post"))
		return PL_SCOPE_POST;
	if (!strcmp(s, "admin"))
		return PL_SCOPE_ADMIN;
	return -1;
}

const char *pl_scope_name(enum pl_scope scope)
{
	switch (scope) {
	case PL_SCOPE_READ: return "read";
	case PL_SCOPE_POST: return "post";
	case PL_SCOPE_ADMIN: return "admin";
	default: return "session";
	}
}

bool pl_apitoken_is_one(const char *token)
{
	return token && strncmp(token, PL_APITOKEN_PREFIX, strlen(PL_APITOKEN_PREFIX)) == 0;
}

/* hex BLAKE2b-256 of `text`. */
static void token_hash(const char *text, char hex[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, strlen(text), NULL, 0);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* Checks the create body; sets name, scope and expires_in (0 = never). */
static int read_create(const cJSON *in, const char **name, int *scope, int64_t *expires_in,
		       struct pl_err *err)
{
	const char *scope_s;
	const cJSON *exp;
	size_t chars = 0;

	if (pl_json_string(in, "name", true, name, err) < 0 ||
	    pl_json_string(in, "scope", true, &scope_s, err) < 0)
		return -1;
	if (!pl_utf8_valid(*name, strlen(*name), &chars) || chars < 1 ||
	    chars > PL_APITOKEN_NAME_MAX || pl_text_has_controls(*name, false))
		return pl_err_set(err, 400, "\"name\" must be 1-%d characters without control characters",
				  PL_APITOKEN_NAME_MAX);
	if ((*scope = pl_scope_parse(scope_s)) < 0)
		return pl_err_set(err, 400, "\"scope\" must be \"read\", \"post\" or \"admin\"");
	*expires_in = 0;
	exp = cJSON_GetObjectItemCaseSensitive(in, "expires_in");
	if (!exp || cJSON_IsNull(exp))
		return 0;
	if (!cJSON_IsNumber(exp) || exp->valuedouble != floor(exp->valuedouble) ||
	    exp->valuedouble < 60 || exp->valuedouble > (double)PL_APITOKEN_EXPIRES_MAX)
		return pl_err_set(err, 400, "\"expires_in\" must be an integer number of seconds in [60, %lld]",
				  (long long)PL_APITOKEN_EXPIRES_MAX);
	*expires_in = (int64_t)exp->valuedouble;
	return 0;
}

/* One token object (without the secret) from a LIST-shaped row. */
static cJSON *token_view(int64_t id, const char *name, const char *scope, int64_t created,
			 int64_t expires, int64_t used)
{
	cJSON *o = cJSON_CreateObject();

	pl_json_add_id(o, "id", id);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "scope", scope);
	pl_json_add_time(o, "created_at", created);
	pl_json_add_time(o, "expires_at", expires);
	pl_json_add_time(o, "last_used_at", used);
	return o;
}

/* Inside the transaction: the user lives and has room for one more. */
static int check_room(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_USER_LIVE], err);
	int64_t n = 0;
	int rc;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	if ((rc = pl_db_step_id(db, st, &n, err)) != 0)
		return rc < 0 ? -1 : pl_err_set(err, 404, "no such user");
	if (!(st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_COUNT], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	if (pl_db_step_id(db, st, &n, err) < 0)
		return -1;
	if (n >= PL_APITOKEN_MAX_PER_USER)
		return pl_err_set(err, 409, "a user may hold at most %d API tokens", PL_APITOKEN_MAX_PER_USER);
	return 0;
}

int pl_apitoken_create(struct pl_db *db, int64_t user_id, const cJSON *in, cJSON **out,
		       struct pl_err *err)
{
	unsigned char raw[TOKEN_BYTES];
	char text[TOKEN_TEXT_MAX], hex[65];
	const char *name;
	int scope = 0, rc = -1;
	int64_t expires_in = 0, now = pl_now_ms(), expires = 0, id = 0;
	struct pl_stmt *st;

	*out = NULL;
	if (read_create(in, &name, &scope, &expires_in, err) < 0)
		return -1;
	if (expires_in)
		expires = now + expires_in * 1000;
	randombytes_buf(raw, sizeof(raw));
	memcpy(text, PL_APITOKEN_PREFIX, strlen(PL_APITOKEN_PREFIX));
	sodium_bin2base64(text + strlen(PL_APITOKEN_PREFIX), sizeof(text) - strlen(PL_APITOKEN_PREFIX),
			  raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	token_hash(text, hex);
	if (pl_db_begin(db, err) < 0)
		goto out;
	if (check_room(db, user_id, err) < 0 ||
	    !(st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_INSERT], err)))
		goto end;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, name);
	pl_stmt_bind_text(st, 3, pl_scope_name(scope));
	pl_stmt_bind_text(st, 4, hex);
	pl_stmt_bind_int64(st, 5, now);
	pl_stmt_bind_id(st, 6, expires);
	if (pl_db_step_done(db, st, err) < 0)
		goto end;
	id = pl_db_last_id(db);
	rc = 0;
end:
	if ((rc = pl_db_end(db, rc, err)) == 0) {
		*out = token_view(id, name, pl_scope_name(scope), now, expires, 0);
		cJSON_AddStringToObject(*out, "token", text);
		pl_info_log("api token %lld (%s) made for user %lld", (long long)id,
			    pl_scope_name(scope), (long long)user_id);
	}
out:
	sodium_memzero(text, sizeof(text));
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

int pl_apitoken_list(struct pl_db *db, int64_t user_id, cJSON **out, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_LIST], err);
	cJSON *body, *arr;
	int step;

	*out = NULL;
	if (!st)
		return -1;
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "tokens");
	pl_stmt_bind_int64(st, 1, user_id);
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, token_view(pl_stmt_int64(st, 0), pl_stmt_text(st, 1),
						     pl_stmt_text(st, 2), pl_stmt_int64(st, 3),
						     pl_stmt_int64(st, 4), pl_stmt_int64(st, 5)));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		return pl_err_internal(err, "list api tokens: %s", pl_db_last_error(db));
	}
	*out = body;
	return 0;
}

int pl_apitoken_delete(struct pl_db *db, int64_t user_id, int64_t token_id, struct pl_err *err)
{
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_DELETE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, token_id);
	pl_stmt_bind_int64(st, 2, user_id);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	if (pl_db_changes(db) != 1) {
		pl_err_set(err, 404, "no such token");
		goto out;
	}
	rc = 0;
out:
	if ((rc = pl_db_end(db, rc, err)) == 0)
		pl_info_log("api token %lld of user %lld revoked", (long long)token_id, (long long)user_id);
	return rc;
}

/* Moves last_used_at to `now` unless it moved within PL_APITOKEN_TOUCH_MS.
 * Its own short transaction; a failure is only logged. */
static void touch(struct pl_db *db, int64_t id, int64_t now)
{
	struct pl_err err = { 0 };
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, &err) < 0)
		goto log;
	if ((st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_TOUCH], &err))) {
		pl_stmt_bind_int64(st, 1, id);
		pl_stmt_bind_int64(st, 2, now);
		pl_stmt_bind_int64(st, 3, now - PL_APITOKEN_TOUCH_MS);
		rc = pl_db_step_done(db, st, &err);
	}
	if (pl_db_end(db, rc, &err) == 0)
		return;
log:
	pl_warn_log("api token %lld: last_used_at not updated: %s", (long long)id, err.message);
}

int pl_apitoken_authenticate(struct pl_db *db, const char *token, struct pl_claims *claims,
			     struct pl_err *err)
{
	struct pl_stmt *st;
	char hex[65];
	int64_t now = pl_now_ms(), used = 0;
	size_t len = token ? strlen(token) : 0;
	int step;

	memset(claims, 0, sizeof(*claims));
	if (!pl_apitoken_is_one(token) || len < 20 || len >= TOKEN_TEXT_MAX)
		return pl_err_set(err, 401, "invalid or revoked API token");
	token_hash(token, hex);
	if (!(st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_BY_HASH], err)))
		return -1;
	pl_stmt_bind_text(st, 1, hex);
	pl_stmt_bind_int64(st, 2, now);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		claims->token_id = pl_stmt_int64(st, 0);
		claims->user_id = pl_stmt_int64(st, 1);
		claims->scope = (enum pl_scope)pl_scope_parse(pl_stmt_text(st, 2));
		used = pl_stmt_int64(st, 3);
		snprintf(claims->username, sizeof(claims->username), "%s", pl_stmt_text(st, 4));
	}
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		return pl_err_internal(err, "api token lookup: %s", pl_db_last_error(db));
	if (step == PL_DONE || (int)claims->scope < PL_SCOPE_READ) {
		memset(claims, 0, sizeof(*claims));
		return pl_err_set(err, 401, "invalid or revoked API token");
	}
	if (used <= now - PL_APITOKEN_TOUCH_MS)
		touch(db, claims->token_id, now);
	return 0;
}

int pl_apitoken_check(struct pl_db *db, int64_t token_id, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_CHECK], err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, token_id);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	pl_stmt_bind_int64(st, 3, user_id);
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step == PL_ROW)
		return 0;
	if (step != PL_DONE)
		return pl_err_internal(err, "api token check: %s", pl_db_last_error(db));
	return pl_err_set(err, 401, "API token revoked or expired");
}

int pl_apitoken_drop_user_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &apitok_stmts[APITOK_STMT_DROP_USER], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	return pl_db_step_done(db, st, err);
}
