/* users.c — registration and the user object (users.h). */
#include <string.h>
#include "json.h"
#include "log.h"
#include "password.h"
#include "users.h"
#include "util.h"

static const char sql_insert_user[] =
	"INSERT INTO users (username, password_hash, email, display_name, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_user_by_id[] =
	"SELECT id, username, display_name, bio, avatar_url, status_text, created_at, "
	"email, email_verified, deleted_at FROM users WHERE id = ?1";

int pl_user_validate_username(const char *name, struct pl_err *err)
{
	size_t len = strlen(name);

	if (len < 3 || len > 32 ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
		return pl_err_set(err, 400, "username must be 3-32 characters of A-Z a-z 0-9 _ . -");
	return 0;
}

static int validate(const struct pl_registration *reg, struct pl_err *err)
{
	size_t cps;

	if (pl_user_validate_username(reg->username, err) < 0)
		return -1;
	if (reg->password_len < 8 || reg->password_len > 1024)
		return pl_err_set(err, 400, "password must be 8-1024 bytes");
	if (reg->email && (strlen(reg->email) > 254 || !strchr(reg->email, '@') ||
			   strpbrk(reg->email, " \t\r\n<>")))
		return pl_err_set(err, 400, "email is not a valid address");
	if (reg->display_name && (!pl_utf8_valid(reg->display_name, strlen(reg->display_name), &cps) || cps > 64))
		return pl_err_set(err, 400, "display_name must be at most 64 characters");
	return 0;
}

static int insert_user(struct pl_db *db, const struct pl_registration *reg, const char *hash,
		       int64_t *id, struct pl_err *err)
{
	sqlite3_stmt *st;
	int step, rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_stmt(db, sql_insert_user, err)))
		goto out;
	sqlite3_bind_text(st, 1, reg->username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	if (reg->email)
		sqlite3_bind_text(st, 3, reg->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reg->display_name ? reg->display_name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, pl_now_ms());
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT_UNIQUE || step == SQLITE_CONSTRAINT) {
		pl_err_set(err, 409, "username already taken");
		goto out;
	}
	if (step != SQLITE_DONE) {
		pl_err_internal(err, "insert user: %s", pl_db_last_error(db));
		goto out;
	}
	*id = sqlite3_last_insert_rowid(pl_db_handle(db));
	pl_db_done(st);
	st = NULL;
	rc = pl_db_commit(db, err);
out:
	pl_db_done(st);
	if (rc < 0)
		pl_db_rollback(db);
	return rc;
}

int pl_user_register(struct pl_db *db, const struct pl_registration *reg, cJSON **out, struct pl_err *err)
{
	char hash[PL_PASSWORD_HASH_LEN];
	int64_t id = 0;

	*out = NULL;
	if (validate(reg, err) < 0)
		return -1;
	/* Hash outside the transaction: ~55 ms must not hold the write lock. */
	if (pl_password_hash(reg->password, reg->password_len, hash, err) < 0)
		return -1;
	if (insert_user(db, reg, hash, &id, err) < 0)
		return -1;
	*out = pl_user_json(db, id, true, err);
	return *out ? 0 : -1;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

cJSON *pl_user_json(struct pl_db *db, int64_t user_id, bool self, struct pl_err *err)
{
	sqlite3_stmt *st = pl_db_stmt(db, sql_user_by_id, err);
	cJSON *u = NULL;
	int step;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, user_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		u = cJSON_CreateObject();
		cJSON_AddNumberToObject(u, "id", (double)sqlite3_column_int64(st, 0));
		cJSON_AddStringToObject(u, "username", col_text(st, 1));
		cJSON_AddStringToObject(u, "display_name", col_text(st, 2));
		cJSON_AddStringToObject(u, "bio", col_text(st, 3));
		cJSON_AddStringToObject(u, "avatar_url", col_text(st, 4));
		cJSON_AddStringToObject(u, "status_text", col_text(st, 5));
		pl_json_add_time(u, "created_at", sqlite3_column_int64(st, 6));
		if (self) {
			if (sqlite3_column_type(st, 7) == SQLITE_NULL)
				cJSON_AddNullToObject(u, "email");
			else
				cJSON_AddStringToObject(u, "email", col_text(st, 7));
			cJSON_AddBoolToObject(u, "email_verified", sqlite3_column_int(st, 8));
		}
	} else if (step == SQLITE_DONE) {
		pl_err_set(err, 404, "no such user");
	} else {
		pl_err_internal(err, "user by id: %s", pl_db_last_error(db));
	}
	pl_db_done(st);
	return u;
}
