/* invites.c — registration invites (invites.h). */
#include <sodium.h>
#include <string.h>
#include "invites.h"
#include "json.h"
#include "util.h"

#define INVITE_BYTES 32

enum invites_stmt {
	INVITES_STMT_INSERT,
	INVITES_STMT_USE,
	INVITES_STMT_REVOKE,
	INVITES_STMT_ONE,
	INVITES_STMT_LIST,
	INVITES_STMT__MAX
};

#define INVITE_COLUMNS "SELECT id, created_by, created_at, expires_at, max_uses, uses, revoked_at FROM invites "

static const struct pl_sql invites_stmts[INVITES_STMT__MAX] = {
	[INVITES_STMT_INSERT] = {
		"INSERT INTO invites (token_hash, created_by, created_at, expires_at, max_uses) "
		"VALUES (?1, ?2, ?3, ?4, ?5)" },
	/* One use, only of a live invite with a use left: under the write
	 * lock, so the last use goes to one registration only. */
	[INVITES_STMT_USE] = {
		"UPDATE invites SET uses = uses + 1 WHERE token_hash = ?1 AND revoked_at IS NULL "
		"AND expires_at > ?2 AND uses < max_uses" },
	[INVITES_STMT_REVOKE] = {
		"UPDATE invites SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL" },
	[INVITES_STMT_ONE] = { INVITE_COLUMNS "WHERE id = ?1" },
	[INVITES_STMT_LIST] = {
		INVITE_COLUMNS "WHERE revoked_at IS NULL AND id < ?1 ORDER BY id DESC LIMIT ?2" },
};

/* hex BLAKE2b of a token (the stored form). */
static void token_hash(const char *token, char hex[65])
{
	unsigned char hash[32];

	crypto_generichash(hash, sizeof(hash), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(hex, 65, hash, sizeof(hash));
}

int pl_invite_create_locked(struct pl_db *db, int64_t created_by, int64_t max_uses,
			    int64_t expires_in, char token[PL_INVITE_TOKEN_LEN], int64_t *id,
			    struct pl_err *err)
{
	unsigned char raw[INVITE_BYTES];
	char hex[65];
	int64_t now = pl_now_ms();
	struct pl_stmt *st;

	if (max_uses < 1 || max_uses > PL_INVITE_MAX_USES)
		return pl_err_set(err, 400, "max_uses must be 1-%d", PL_INVITE_MAX_USES);
	if (expires_in < PL_INVITE_MIN_TTL || expires_in > PL_INVITE_MAX_TTL)
		return pl_err_set(err, 400, "expires_in must be %d-%d seconds", PL_INVITE_MIN_TTL,
				  PL_INVITE_MAX_TTL);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, PL_INVITE_TOKEN_LEN, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	token_hash(token, hex);
	if (!(st = pl_db_prepare(db, &invites_stmts[INVITES_STMT_INSERT], err)))
		return -1;
	pl_stmt_bind_text(st, 1, hex);
	pl_stmt_bind_id(st, 2, created_by);
	pl_stmt_bind_int64(st, 3, now);
	pl_stmt_bind_int64(st, 4, now + expires_in * 1000);
	pl_stmt_bind_int64(st, 5, max_uses);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*id = pl_db_last_id(db);
	return 0;
}

int pl_invite_use_locked(struct pl_db *db, const char *token, struct pl_err *err)
{
	struct pl_stmt *st;
	char hex[65];
	size_t len = token ? strlen(token) : 0;

	if (len < 16 || len >= PL_INVITE_TOKEN_LEN)
		return pl_err_set(err, 403, PL_INVITE_INVALID_MSG);
	token_hash(token, hex);
	if (!(st = pl_db_prepare(db, &invites_stmts[INVITES_STMT_USE], err)))
		return -1;
	pl_stmt_bind_text(st, 1, hex);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	if (pl_db_changes(db) != 1)
		return pl_err_set(err, 403, PL_INVITE_INVALID_MSG);
	return 0;
}

int pl_invite_revoke_locked(struct pl_db *db, int64_t id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &invites_stmts[INVITES_STMT_REVOKE], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	if (pl_db_changes(db) != 1)
		return pl_err_set(err, 404, "no such invite");
	return 0;
}

/* The object of the current INVITE_COLUMNS row. */
static cJSON *invite_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	int64_t max = pl_stmt_int64(st, 4), uses = pl_stmt_int64(st, 5);

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	pl_json_add_id(o, "created_by", pl_stmt_int64(st, 1));
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 2));
	pl_json_add_time(o, "expires_at", pl_stmt_int64(st, 3));
	cJSON_AddNumberToObject(o, "max_uses", (double)max);
	cJSON_AddNumberToObject(o, "uses", (double)uses);
	cJSON_AddNumberToObject(o, "uses_left", (double)(max - uses));
	cJSON_AddBoolToObject(o, "expired", pl_stmt_int64(st, 3) <= pl_now_ms());
	cJSON_AddBoolToObject(o, "revoked", !pl_stmt_null(st, 6));
	return o;
}

cJSON *pl_invite_json(struct pl_db *db, int64_t id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &invites_stmts[INVITES_STMT_ONE], err);
	cJSON *o = NULL;
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		o = invite_row(st);
	else if (step == PL_DONE)
		pl_err_set(err, 404, "no such invite");
	else
		pl_err_internal(err, "invite: %s", pl_db_last_error(db));
	pl_db_done(st);
	return o;
}

int pl_invite_list(struct pl_db *db, int limit, int64_t before, cJSON **out, struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *body, *arr;
	int step;

	*out = NULL;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (!(st = pl_db_prepare(db, &invites_stmts[INVITES_STMT_LIST], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
	pl_stmt_bind_int(st, 2, limit);
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "invites");
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, invite_row(st));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		return pl_err_internal(err, "invite list: %s", pl_db_last_error(db));
	}
	*out = body;
	return 0;
}
