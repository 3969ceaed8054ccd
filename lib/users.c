/*
 * users.c — the user record's rules and its creation (users.h): the
 * username and email rules, registration, the operator's lookup by name
 * and password reset.
 */
#include <sodium.h>
#include <string.h>
#include <strings.h>
#include "invites.h"
#include "password.h"
#include "session.h"
#include "user_view.h"
#include "users.h"
#include "util.h"

enum users_stmt {
	USERS_STMT_INSERT,
	USERS_STMT_FIND_LIVE,
	USERS_STMT_RESET_PASSWORD,
	USERS_STMT_ANY_PERSON,
	USERS_STMT__MAX
};

static const struct pl_sql users_stmts[USERS_STMT__MAX] = {
	[USERS_STMT_INSERT] = {
		"INSERT INTO users (username, password_hash, email, display_name, created_at, server_role) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
	[USERS_STMT_FIND_LIVE] = {
		"SELECT id FROM users WHERE username = ?1 AND deleted_at IS NULL" },
	[USERS_STMT_RESET_PASSWORD] = {
		"UPDATE users SET password_hash = ?2 WHERE id = ?1 AND deleted_at IS NULL" },
	/* Whether the server has any live person (bots do not count): the
	 * first registration on an empty server becomes its admin. */
	[USERS_STMT_ANY_PERSON] = {
		"SELECT 1 FROM users WHERE deleted_at IS NULL AND is_bot = 0 LIMIT 1" },
};

int pl_user_validate_username(const char *name, struct pl_err *err)
{
	size_t len = strlen(name);

	if (len < 3 || len > 32 ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
		return pl_err_set(err, 400, "username must be 3-32 characters of A-Z a-z 0-9 _ . -");
	if (strncasecmp(name, PL_DELETED_USER_PREFIX, strlen(PL_DELETED_USER_PREFIX)) == 0)
		return pl_err_set(err, 400, "usernames starting with \"" PL_DELETED_USER_PREFIX "\" are reserved");
	return 0;
}

/*
 * An address we are willing to put in a To: header (RFC 5322 addr-spec,
 * dot-atom form only): one '@', a local part of atext and dots, a domain
 * of letters, digits, '-' and dots. No spaces, commas, quotes, angle
 * brackets or line breaks, so it can never add a recipient or a header.
 */
int pl_user_validate_email(const char *e, struct pl_err *err)
{
	static const char atext[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				    "!#$%&'*+/=?^_`{|}~.-";
	static const char dtext[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-";
	const char *at = strchr(e, '@');
	size_t len = strlen(e), local = at ? (size_t)(at - e) : 0;
	const char *dom = at ? at + 1 : "";

	if (!at || len > 254 || local == 0 || local > 64 || strspn(e, atext) != local ||
	    !*dom || strspn(dom, dtext) != strlen(dom) || dom[0] == '.' || dom[0] == '-' ||
	    dom[strlen(dom) - 1] == '.' || e[0] == '.' || at[-1] == '.')
		return pl_err_set(err, 400, "email is not a valid address");
	return 0;
}

int pl_user_validate_registration(const struct pl_registration *reg, struct pl_err *err)
{
	size_t cps;

	if (pl_user_validate_username(reg->username, err) < 0)
		return -1;
	if (pl_password_check_length(reg->password_len, "password", err) < 0)
		return -1;
	if (reg->email && pl_user_validate_email(reg->email, err) < 0)
		return -1;
	if (reg->display_name && (!pl_utf8_valid(reg->display_name, strlen(reg->display_name), &cps) || cps > 64 ||
				  pl_text_has_controls(reg->display_name, false)))
		return pl_err_set(err, 400, "display_name must be at most 64 characters");
	return 0;
}

/*
 * Inside the registration's transaction: whether this is the server's first
 * person (*first), and whether the registration mode lets `reg` in (403
 * otherwise; an invite's use is taken here).
 */
static int admit(struct pl_db *db, const struct pl_registration *reg, bool *first,
		 struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &users_stmts[USERS_STMT_ANY_PERSON], err);
	int step;

	if (!st)
		return -1;
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		return pl_err_internal(err, "any person: %s", pl_db_last_error(db));
	*first = step == PL_DONE;
	if (*first || reg->mode == PL_REG_OPEN)
		return 0;
	if (reg->mode == PL_REG_CLOSED)
		return pl_err_set(err, 403, PL_REG_CLOSED_MSG);
	return pl_invite_use_locked(db, reg->invite, err);
}

static int insert_user(struct pl_db *db, const struct pl_registration *reg, const char *hash,
		       int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = NULL;
	bool first = false;
	int step, rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (admit(db, reg, &first, err) < 0)
		goto out;
	if (!(st = pl_db_prepare(db, &users_stmts[USERS_STMT_INSERT], err)))
		goto out;
	pl_stmt_bind_text(st, 1, reg->username);
	pl_stmt_bind_text(st, 2, hash);
	if (reg->email)
		pl_stmt_bind_text(st, 3, reg->email);
	pl_stmt_bind_text(st, 4, reg->display_name ? reg->display_name : "");
	pl_stmt_bind_int64(st, 5, pl_now_ms());
	pl_stmt_bind_text(st, 6, first ? "admin" : "user");
	step = pl_stmt_step(st);
	if (step == PL_UNIQUE || step == PL_CONSTRAINT) {
		pl_err_set(err, 409, "username already taken");
		goto out;
	}
	if (step != PL_DONE) {
		pl_err_internal(err, "insert user: %s", pl_db_last_error(db));
		goto out;
	}
	*id = pl_db_last_id(db);
	pl_db_done(st);
	st = NULL;
	rc = 0;
out:
	pl_db_done(st);
	return pl_db_end(db, rc, err);
}

int pl_user_register(struct pl_db *db, const struct pl_registration *reg, cJSON **out, struct pl_err *err)
{
	char hash[PL_PASSWORD_HASH_LEN];
	int64_t id = 0;

	*out = NULL;
	if (pl_user_validate_registration(reg, err) < 0)
		return -1;
	/* Hash outside the transaction: ~55 ms must not hold the write lock. */
	if (pl_password_hash(reg->password, reg->password_len, hash, err) < 0)
		return -1;
	if (insert_user(db, reg, hash, &id, err) < 0)
		return -1;
	*out = pl_user_json(db, id, true, err);
	return *out ? 0 : -1;
}

int pl_user_find(struct pl_db *db, const char *username, int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &users_stmts[USERS_STMT_FIND_LIVE], err);
	int found;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, username);
	if ((found = pl_db_step_id(db, st, id, err)) != 1)
		return found;
	return pl_err_set(err, 404, "no such user");
}

int pl_user_reset_password(struct pl_db *db, int64_t user_id, const char *password, size_t len,
			   struct pl_err *err)
{
	char hash[PL_PASSWORD_HASH_LEN];
	struct pl_stmt *st;
	int rc = -1;

	if (pl_password_check_length(len, "password", err) < 0)
		return -1;
	if (pl_password_hash(password, len, hash, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &users_stmts[USERS_STMT_RESET_PASSWORD], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, hash);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	if (pl_db_changes(db) != 1) {
		pl_err_set(err, 404, "no such user");
		goto out;
	}
	if (pl_session_revoke_user_locked(db, user_id, 0, err) < 0)
		goto out;
	rc = 0;
out:
	rc = pl_db_end(db, rc, err);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}
