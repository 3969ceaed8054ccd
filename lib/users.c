/* users.c — registration and the user object (users.h). */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "channels.h"
#include "json.h"
#include "log.h"
#include "mail.h"
#include "ratelimit.h"
#include "session.h"
#include "password.h"
#include "user_view.h"
#include "users.h"
#include "util.h"

static const char sql_insert_user[] =
	"INSERT INTO users (username, password_hash, email, display_name, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5)";

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
static int valid_email(const char *e, struct pl_err *err)
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

static int validate(const struct pl_registration *reg, struct pl_err *err)
{
	size_t cps;

	if (pl_user_validate_username(reg->username, err) < 0)
		return -1;
	if (pl_password_check_length(reg->password_len, "password", err) < 0)
		return -1;
	if (reg->email && valid_email(reg->email, err) < 0)
		return -1;
	if (reg->display_name && (!pl_utf8_valid(reg->display_name, strlen(reg->display_name), &cps) || cps > 64 ||
				  pl_text_has_controls(reg->display_name, false)))
		return pl_err_set(err, 400, "display_name must be at most 64 characters");
	return 0;
}

static int insert_user(struct pl_db *db, const struct pl_registration *reg, const char *hash,
		       int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st;
	int step, rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_stmt(db, sql_insert_user, err)))
		goto out;
	pl_stmt_bind_text(st, 1, reg->username);
	pl_stmt_bind_text(st, 2, hash);
	if (reg->email)
		pl_stmt_bind_text(st, 3, reg->email);
	pl_stmt_bind_text(st, 4, reg->display_name ? reg->display_name : "");
	pl_stmt_bind_int64(st, 5, pl_now_ms());
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

/* ---- accounts: registration limits, profiles, password, deletion ---- */

int pl_user_register_from(struct pl_db *db, const struct pl_config *cfg, const char *remote_addr,
			  const struct pl_registration *reg, cJSON **out, struct pl_err *err)
{
	struct pl_rate rate;

	*out = NULL;
	if (validate(reg, err) < 0)
		return -1;
	pl_rate_set(&rate, "register_addr", remote_addr, cfg->register_addr_limit, cfg->register_addr_window);
	if (pl_ratelimit_take(db, &rate, 1, pl_now_ms(), err) < 0)
		return -1;
	if (pl_user_register(db, reg, out, err) == 0)
		return 0;
	/* 503, every hash slot busy: nothing was registered, so the attempt
	 * does not count either (as a refused login). */
	if (err->status == 503) {
		struct pl_err ignored = { 0 };
		pl_ratelimit_refund(db, &rate, 1, &ignored);
	}
	return -1;
}


cJSON *pl_user_get(struct pl_db *db, int64_t user_id, int64_t viewer_id, struct pl_err *err)
{
	struct pl_user u;
	cJSON *o = NULL;

	if (pl_user_load(db, user_id, &u, err) != 0)
		return NULL;
	if (u.deleted_at)  /* erased: as if it never was */
		pl_err_set(err, 404, "no such user");
	else
		o = pl_user_view(&u, user_id == viewer_id);
	pl_user_release(&u);
	return o;
}

/* ---- PATCH /api/users/me ---- */

struct profile_patch {
	const char *display_name, *bio, *avatar_url, *status_text, *email;  /* NULL = keep */
};

/* A text field: string or absent/null; at most `max` code points. */
static int text_field(const cJSON *obj, const char *key, size_t max, bool multiline,
		      const char **out, struct pl_err *err)
{
	size_t cps;
	int rc = pl_json_string(obj, key, false, out, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!pl_utf8_valid(*out, strlen(*out), &cps) || cps > max || pl_text_has_controls(*out, multiline))
		return pl_err_set(err, 400, "%s must be at most %zu characters without control characters",
				  key, max);
	return 0;
}

/* Whether the `len` bytes at `s` are an address of `family` (inet_pton). */
static bool is_address(int family, const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(family, buf, addr) == 1;
}

/* Host of an http(s) URL: a DNS name, an IPv4 address (checked with
 * inet_pton when the host is all digits and dots) or a bracketed IPv6
 * literal (inet_pton), then an optional :port (RFC 3986 §3.2). `h` points
 * after "//". */
static bool valid_authority(const char *h, size_t len)
{
	static const char name[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-";
	size_t hl;

	if (len > 0 && h[0] == '[') {
		const char *close = memchr(h, ']', len);
		if (!close)
			return false;
		hl = (size_t)(close - h) + 1;
		if (!is_address(AF_INET6, h + 1, hl - 2))
			return false;
	} else {
		hl = strspn(h, name);
		if (hl > len)
			hl = len;
		if (hl == 0 || h[0] == '.' || h[0] == '-' || h[hl - 1] == '-')
			return false;
		if (strspn(h, "0123456789.") >= hl && !is_address(AF_INET, h, hl))
			return false;
	}
	if (hl == len)
		return true;
	if (h[hl] != ':' || len - hl < 2 || len - hl > 6)
		return false;
	for (size_t i = hl + 1; i < len; i++)
		if (h[i] < '0' || h[i] > '9')
			return false;
	return atoi(h + hl + 1) >= 1 && atoi(h + hl + 1) <= 65535;
}

/* avatar_url: "" or an absolute http/https URL of printable ASCII URI
 * characters (RFC 3986 §2), with a host and no userinfo, <= 500 bytes. */
static int valid_avatar_url(const char *u, struct pl_err *err)
{
	static const char uric[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				   "-._~:/?#[]@!$&'()*+,;=%";
	size_t len = strlen(u), skip, alen;

	if (len == 0)
		return 0;
	if (strncasecmp(u, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		skip = 7;
	else
		return pl_err_set(err, 400, "avatar_url must be an http or https URL");
	alen = strcspn(u + skip, "/?#");
	if (len > 500 || strspn(u, uric) != len || memchr(u + skip, '@', alen) ||
	    !valid_authority(u + skip, alen))
		return pl_err_set(err, 400, "avatar_url must be an http or https URL with a host, at most 500 bytes");
	return 0;
}

static int parse_patch(const cJSON *obj, struct profile_patch *p, struct pl_err *err)
{
	memset(p, 0, sizeof(*p));
	if (text_field(obj, "display_name", 64, false, &p->display_name, err) < 0 ||
	    text_field(obj, "bio", 500, true, &p->bio, err) < 0 ||
	    text_field(obj, "status_text", 100, false, &p->status_text, err) < 0 ||
	    pl_json_string(obj, "avatar_url", false, &p->avatar_url, err) < 0 ||
	    pl_json_string(obj, "email", false, &p->email, err) < 0)
		return -1;
	if (p->avatar_url && valid_avatar_url(p->avatar_url, err) < 0)
		return -1;
	if (p->email && *p->email && valid_email(p->email, err) < 0)
		return -1;
	return 0;
}

/* SET right-hand sides see the row as it was, so email_verified compares
 * the old address with the new one. */
static const char sql_patch_user[] =
	"UPDATE users SET display_name = coalesce(?2, display_name), bio = coalesce(?3, bio), "
	"avatar_url = coalesce(?4, avatar_url), status_text = coalesce(?5, status_text), "
	"email = CASE WHEN ?6 IS NULL THEN email WHEN ?6 = '' THEN NULL ELSE ?6 END, "
	"email_verified = CASE WHEN ?6 IS NULL OR ?6 IS email THEN email_verified ELSE 0 END "
	"WHERE id = ?1 AND deleted_at IS NULL";
static const char sql_codes_stale[] =
	"DELETE FROM email_codes WHERE user_id = ?1 AND "
	"email IS NOT (SELECT email FROM users WHERE id = ?1)";

static void bind_opt(struct pl_stmt *st, int i, const char *v)
{
	if (v)
		pl_stmt_bind_text(st, i, v);
}


int pl_user_patch(struct pl_db *db, int64_t user_id, const cJSON *patch, cJSON **out,
		  struct pl_err *err)
{
	struct profile_patch p;
	struct pl_stmt *st;
	int rc = -1;

	*out = NULL;
	if (parse_patch(patch, &p, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_stmt(db, sql_patch_user, err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	bind_opt(st, 2, p.display_name);
	bind_opt(st, 3, p.bio);
	bind_opt(st, 4, p.avatar_url);
	bind_opt(st, 5, p.status_text);
	bind_opt(st, 6, p.email);
	if (pl_db_step_done(db, st, err) < 0 || !(st = pl_db_stmt(db, sql_codes_stale, err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	rc = 0;
out:
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	*out = pl_user_get(db, user_id, user_id, err);
	return *out ? 0 : -1;
}

/* ---- password change and deletion ---- */

static const char sql_user_secret[] =
	"SELECT username, password_hash FROM users WHERE id = ?1 AND deleted_at IS NULL";
static const char sql_set_password[] =
	"UPDATE users SET password_hash = ?2 WHERE id = ?1 AND password_hash = ?3 AND deleted_at IS NULL";
static const char sql_erase_user[] =
	"UPDATE users SET username = '" PL_DELETED_USER_PREFIX "' || id, password_hash = '!', "
	"email = NULL, email_verified = 0, display_name = '', bio = '', avatar_url = '', "
	"status_text = '', deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL";
static const char sql_codes_drop[] = "DELETE FROM email_codes WHERE user_id = ?1";

/* Checks the account's own password (rate limited; 403 when wrong) and
 * copies its current hash into `hash`. */
static int check_own_password(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			      const char *password, const char *remote_addr,
			      char hash[PL_PASSWORD_HASH_LEN], struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_user_secret, err);
	char name[PL_USERNAME_MAX + 1];
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		snprintf(name, sizeof(name), "%s", pl_stmt_text(st, 0));
		snprintf(hash, PL_PASSWORD_HASH_LEN, "%s", pl_stmt_text(st, 1));
	}
	pl_db_done(st);
	if (step == PL_DONE)
		return pl_err_set(err, 401, "account no longer exists");
	if (step != PL_ROW)
		return pl_err_internal(err, "user secret: %s", pl_db_last_error(db));
	if (pl_session_try_password(db, cfg, name, hash, password, strlen(password), remote_addr, err) < 0) {
		if (err && err->status == 401)
			pl_err_set(err, 403, "password is incorrect");
		return -1;
	}
	return 0;
}

int pl_user_change_password(struct pl_db *db, const struct pl_config *cfg,
			    const struct pl_claims *claims, const char *old_password,
			    const char *new_password, const char *remote_addr, struct pl_err *err)
{
	char old_hash[PL_PASSWORD_HASH_LEN], new_hash[PL_PASSWORD_HASH_LEN];
	size_t nlen = strlen(new_password);
	struct pl_stmt *st;
	int rc = -1;

	if (pl_password_check_length(nlen, "new_password", err) < 0)
		return -1;
	if (check_own_password(db, cfg, claims->user_id, old_password, remote_addr, old_hash, err) < 0)
		return -1;
	/* Hash outside the transaction: ~55 ms must not hold the write lock. */
	if (pl_password_hash(new_password, nlen, new_hash, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_stmt(db, sql_set_password, err)))
		goto out;
	pl_stmt_bind_int64(st, 1, claims->user_id);
	pl_stmt_bind_text(st, 2, new_hash);
	pl_stmt_bind_text(st, 3, old_hash);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	if (pl_db_changes(db) != 1) {
		pl_err_set(err, 409, "the password was changed meanwhile");
		goto out;
	}
	if (pl_session_revoke_user_locked(db, claims->user_id, claims->session_id, err) < 0)
		goto out;
	rc = 0;
out:
	rc = pl_db_end(db, rc, err);
	sodium_memzero(new_hash, sizeof(new_hash));
	return rc;
}

int pl_user_delete(struct pl_db *db, const struct pl_config *cfg, const struct pl_claims *claims,
		   const char *password, const char *remote_addr, struct pl_err *err)
{
	char hash[PL_PASSWORD_HASH_LEN];
	struct pl_stmt *st;
	int rc = -1;

	if (check_own_password(db, cfg, claims->user_id, password, remote_addr, hash, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_stmt(db, sql_erase_user, err)))
		goto out;
	pl_stmt_bind_int64(st, 1, claims->user_id);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	if (pl_db_changes(db) != 1) {
		pl_err_set(err, 401, "account no longer exists");
		goto out;
	}
	/* The erased account leaves its channels (ownership handed on) and
	 * every session ends. */
	if (pl_channel_leave_all_locked(db, claims->user_id, err) < 0 ||
	    pl_session_revoke_user_locked(db, claims->user_id, 0, err) < 0 ||
	    !(st = pl_db_stmt(db, sql_codes_drop, err)))
		goto out;
	pl_stmt_bind_int64(st, 1, claims->user_id);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	rc = 0;
out:
	if ((rc = pl_db_end(db, rc, err)) == 0)
		pl_info_log("account %lld erased", (long long)claims->user_id);
	return rc;
}

/* ---- search ---- */

/* Both halves are range scans: username on its UNIQUE NOCASE index,
 * display_name on users_display_name (schema 003). ?2 is the prefix
 * followed by U+10FFFF, above anything that starts with the prefix. */
static const char sql_search[] =
	"SELECT id FROM ("
	" SELECT id, username FROM users WHERE username >= ?1 AND username < ?2 AND deleted_at IS NULL"
	" UNION"
	" SELECT id, username FROM users WHERE display_name >= ?1 COLLATE NOCASE"
	"  AND display_name < ?2 COLLATE NOCASE AND deleted_at IS NULL"
	") ORDER BY username COLLATE NOCASE LIMIT ?3";

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
	if (!(st = pl_db_stmt(db, sql_search, err)))
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

/* ---- email verification ---- */

static const char sql_user_email[] =
	"SELECT email, email_verified FROM users WHERE id = ?1 AND deleted_at IS NULL";
static const char sql_code_store[] =
	"INSERT OR REPLACE INTO email_codes (user_id, code_hash, email, expires_at) VALUES (?1, ?2, ?3, ?4)";
static const char sql_code_take[] =
	"DELETE FROM email_codes WHERE code_hash = ?1 RETURNING user_id, email, expires_at";
static const char sql_mark_verified[] =
	"UPDATE users SET email_verified = 1 WHERE id = ?1 AND email = ?2 AND deleted_at IS NULL";

/* Crockford-like base32 without 0/O/1/I: 32 symbols, 5 bits each. */
static const char code_alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/* Keyed BLAKE2b of a code; the key derives from the JWT secret, so a copy
 * of the database alone does not let anyone test codes offline. */
static void code_hash(const struct pl_config *cfg, const char *code, unsigned char out[32])
{
	static const char label[] = "parley email verification code v1";
	unsigned char key[32];
	size_t klen = cfg->jwt_secret_len > 64 ? 64 : cfg->jwt_secret_len;

	crypto_generichash(key, sizeof(key), (const unsigned char *)label, sizeof(label) - 1,
			   cfg->jwt_secret, klen);
	crypto_generichash(out, 32, (const unsigned char *)code, strlen(code), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
}

/* 1 = the user has an unverified address (copied), 0 = none, -1 error. */
static int user_email(struct pl_db *db, int64_t user_id, char email[256], struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_user_email, err);
	int step, rc = -1;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW && pl_stmt_null(st, 0))
		rc = pl_err_set(err, 400, "the account has no email address; set one with PATCH /api/users/me");
	else if (step == PL_ROW && pl_stmt_int(st, 1))
		rc = pl_err_set(err, 409, "the email address is already verified");
	else if (step == PL_ROW) {
		snprintf(email, 256, "%s", pl_stmt_text(st, 0));
		rc = 1;
	} else if (step == PL_DONE)
		rc = pl_err_set(err, 401, "account no longer exists");
	else
		pl_err_internal(err, "user email: %s", pl_db_last_error(db));
	pl_db_done(st);
	return rc;
}

static int store_code(struct pl_db *db, int64_t user_id, const unsigned char hash[32],
		      const char *email, int64_t expires, struct pl_err *err)
{
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_stmt(db, sql_code_store, err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_blob(st, 2, hash, 32);
	pl_stmt_bind_text(st, 3, email);
	pl_stmt_bind_int64(st, 4, expires);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_user_verify_request(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			   struct pl_err *err)
{
	char email[256], code[PL_VERIFY_CODE_LEN + 1], msg[1024], subject[32];
	unsigned char hash[32];
	struct pl_rate rate;
	int rc;

	if (user_email(db, user_id, email, err) < 0)
		return -1;
	if (!cfg->mail_command[0])
		return pl_err_set(err, 503, "email delivery is not configured on this server");
	snprintf(subject, sizeof(subject), "%lld", (long long)user_id);
	pl_rate_set(&rate, "verify_user", subject, cfg->verify_request_limit, cfg->verify_request_window);
	if (pl_ratelimit_take(db, &rate, 1, pl_now_ms(), err) < 0)
		return -1;
	for (int i = 0; i < PL_VERIFY_CODE_LEN; i++)
		code[i] = code_alphabet[randombytes_uniform(32)];
	code[PL_VERIFY_CODE_LEN] = '\0';
	code_hash(cfg, code, hash);
	if (store_code(db, user_id, hash, email, pl_now_ms() + (int64_t)cfg->verify_code_ttl * 1000, err) < 0)
		return -1;
	/* The address passed valid_email (no CR, LF, comma or brackets), so it
	 * cannot add headers or recipients; mail_from comes from the operator. */
	snprintf(msg, sizeof(msg),
		 "To: %s\nFrom: %s\nSubject: Your parley verification code\n"
		 "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
		 "Your parley verification code is: %s\n\n"
		 "It is valid for %d minutes and can be used once.\n"
		 "If you did not ask for it, ignore this message.\n",
		 email, cfg->mail_from, code, (cfg->verify_code_ttl + 59) / 60);
	rc = pl_mail_send(cfg->mail_command, msg, err);
	sodium_memzero(msg, sizeof(msg));
	sodium_memzero(code, sizeof(code));
	return rc;
}

/* Upper-cases `in` into `out`; -1 unless it is PL_VERIFY_CODE_LEN
 * characters of the code alphabet. */
static int normalize_code(const char *in, char out[PL_VERIFY_CODE_LEN + 1])
{
	size_t i;

	if (strlen(in) != PL_VERIFY_CODE_LEN)
		return -1;
	for (i = 0; i < PL_VERIFY_CODE_LEN; i++) {
		char c = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 'a' + 'A') : in[i];
		if (!c || !strchr(code_alphabet, c))
			return -1;
		out[i] = c;
	}
	out[i] = '\0';
	return 0;
}

/* Deletes the code row for `hash`: 0 found (fields set), 1 none. */
static int take_code(struct pl_db *db, const unsigned char hash[32], int64_t *uid,
		     char email[256], int64_t *expires, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_code_take, err);
	int step, rc = 1;

	if (!st)
		return -1;
	pl_stmt_bind_blob(st, 1, hash, 32);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		*uid = pl_stmt_int64(st, 0);
		snprintf(email, 256, "%s", pl_stmt_text(st, 1));
		*expires = pl_stmt_int64(st, 2);
		rc = 0;
		step = pl_stmt_step(st);
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "take code: %s", pl_db_last_error(db));
	return rc;
}

int pl_user_verify_confirm(struct pl_db *db, const struct pl_config *cfg, const char *code,
			   cJSON **out, struct pl_err *err)
{
	char norm[PL_VERIFY_CODE_LEN + 1], email[256];
	unsigned char hash[32];
	int64_t uid = 0, expires = 0;
	struct pl_stmt *st;
	int found, rc = -1;

	*out = NULL;
	if (normalize_code(code, norm) < 0)
		return pl_err_set(err, 400, "wrong or expired verification code");
	code_hash(cfg, norm, hash);
	/* Lookup is by keyed hash (an index compare of hashes, never of the
	 * code itself); deleting under the write lock makes it single use. */
	if (pl_db_begin(db, err) < 0)
		return -1;
	if ((found = take_code(db, hash, &uid, email, &expires, err)) < 0)
		goto out;
	if (found == 1 || expires <= pl_now_ms()) {
		if (pl_db_commit(db, err) == 0)
			pl_err_set(err, 400, "wrong or expired verification code");
		goto out;
	}
	if (!(st = pl_db_stmt(db, sql_mark_verified, err)))
		goto out;
	pl_stmt_bind_int64(st, 1, uid);
	pl_stmt_bind_text(st, 2, email);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	if (pl_db_changes(db) != 1) {
		pl_err_set(err, 400, "wrong or expired verification code");
		goto out;
	}
	rc = 0;
out:
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	*out = pl_user_json(db, uid, true, err);
	return *out ? 0 : -1;
}

static const char sql_find_live[] =
	"SELECT id FROM users WHERE username = ?1 AND deleted_at IS NULL";
static const char sql_reset_password[] =
	"UPDATE users SET password_hash = ?2 WHERE id = ?1 AND deleted_at IS NULL";

int pl_user_find(struct pl_db *db, const char *username, int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_stmt(db, sql_find_live, err);
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
	if (!(st = pl_db_stmt(db, sql_reset_password, err)))
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
