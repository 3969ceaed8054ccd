/*
 * accounts.c — an account's life after registration (accounts.h): the
 * rate-limited registration, the profile (GET and PATCH /api/users/me),
 * password change and deletion.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "accounts.h"
#include "apitokens.h"
#include "channels.h"
#include "direct.h"
#include "email_verify.h"
#include "json.h"
#include "log.h"
#include "password.h"
#include "ratelimit.h"
#include "session.h"
#include "sms_verify.h"
#include "user_view.h"
#include "util.h"

enum accounts_stmt {
	ACCOUNTS_STMT_PATCH,
	ACCOUNTS_STMT_SECRET,
	ACCOUNTS_STMT_SET_PASSWORD,
	ACCOUNTS_STMT_ERASE,
	ACCOUNTS_STMT__MAX
};

static const struct pl_sql accounts_stmts[ACCOUNTS_STMT__MAX] = {
	/* SET right-hand sides see the row as it was, so email_verified
	 * compares the old address with the new one. ?6 is first seen in
	 * "IS NULL", which tells PostgreSQL no type: the CAST does. */
	[ACCOUNTS_STMT_PATCH] = {
		"UPDATE users SET display_name = coalesce(?2, display_name), bio = coalesce(?3, bio), "
		"avatar_url = coalesce(?4, avatar_url), status_text = coalesce(?5, status_text), "
		"email = CASE WHEN CAST(?6 AS TEXT) IS NULL THEN email WHEN ?6 = '' THEN NULL ELSE ?6 END, "
		"email_verified = CASE WHEN ?6 IS NULL OR ?6 IS NOT DISTINCT FROM email "
		"THEN email_verified ELSE 0 END "
		"WHERE id = ?1 AND deleted_at IS NULL" },
	[ACCOUNTS_STMT_SECRET] = {
		"SELECT username, password_hash FROM users WHERE id = ?1 AND deleted_at IS NULL" },
	[ACCOUNTS_STMT_SET_PASSWORD] = {
		"UPDATE users SET password_hash = ?2 "
		"WHERE id = ?1 AND password_hash = ?3 AND deleted_at IS NULL" },
	[ACCOUNTS_STMT_ERASE] = {
		"UPDATE users SET username = '" PL_DELETED_USER_PREFIX "' || id, password_hash = '!', "
		"email = NULL, email_verified = 0, display_name = '', bio = '', avatar_url = '', "
		"status_text = '', deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL" },
};

int pl_user_register_from(struct pl_db *db, const struct pl_config *cfg, const char *remote_addr,
			  const struct pl_registration *reg, cJSON **out, struct pl_err *err)
{
	struct pl_registration r = *reg;
	struct pl_rate rate;

	*out = NULL;
	r.mode = cfg->reg_mode;  /* the server's registration mode (issue 16) */
	if (pl_user_validate_registration(&r, err) < 0)
		return -1;
	pl_rate_set(&rate, "register_addr", remote_addr, cfg->register_addr_limit, cfg->register_addr_window);
	if (pl_ratelimit_take(db, &rate, 1, pl_now_ms(), err) < 0)
		return -1;
	if (pl_user_register(db, &r, out, err) == 0)
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
	if (p->email && *p->email && pl_user_validate_email(p->email, err) < 0)
		return -1;
	return 0;
}

static void bind_opt(struct pl_stmt *st, int i, const char *v)
{
	if (v)
		pl_stmt_bind_text(st, i, v);
}

int pl_user_patch(struct pl_db *db, int64_t user_id, const cJSON *patch, cJSON **out,
		  struct pl_err *err)
{
	struct profile_patch p;
	struct pl_phone_patch pp;
	struct pl_stmt *st;
	int rc = -1;

	*out = NULL;
	if (parse_patch(patch, &p, err) < 0 || pl_phone_patch_parse(patch, &pp, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &accounts_stmts[ACCOUNTS_STMT_PATCH], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	bind_opt(st, 2, p.display_name);
	bind_opt(st, 3, p.bio);
	bind_opt(st, 4, p.avatar_url);
	bind_opt(st, 5, p.status_text);
	bind_opt(st, 6, p.email);
	if (pl_db_step_done(db, st, err) < 0 || pl_email_codes_drop_stale_locked(db, user_id, err) < 0 ||
	    pl_phone_patch_locked(db, user_id, &pp, err) < 0)
		goto out;
	rc = 0;
out:
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	*out = pl_user_get(db, user_id, user_id, err);
	return *out ? 0 : -1;
}

/* ---- password change and deletion ---- */

/* Checks the account's own password (rate limited; 403 when wrong) and
 * copies its current hash into `hash` and its username into `name`. */
static int check_own_password(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			      const char *password, const char *remote_addr,
			      char hash[PL_PASSWORD_HASH_LEN], char name[PL_USERNAME_MAX + 1],
			      struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &accounts_stmts[ACCOUNTS_STMT_SECRET], err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		snprintf(name, PL_USERNAME_MAX + 1, "%s", pl_stmt_text(st, 0));
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
	char name[PL_USERNAME_MAX + 1];
	size_t nlen = strlen(new_password);
	struct pl_stmt *st;
	int rc = -1;

	if (pl_password_check_length(nlen, "new_password", err) < 0)
		return -1;
	if (check_own_password(db, cfg, claims->user_id, old_password, remote_addr, old_hash, name,
			       err) < 0)
		return -1;
	/* Hash outside the transaction: ~55 ms must not hold the write lock. */
	if (pl_password_hash(new_password, nlen, new_hash, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &accounts_stmts[ACCOUNTS_STMT_SET_PASSWORD], err)))
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

/* The erasure itself, inside the caller's transaction (`name`: the
 * account's username, for its login counter). */
static int erase_locked(struct pl_db *db, int64_t user_id, const char *name, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &accounts_stmts[ACCOUNTS_STMT_ERASE], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	if (pl_db_changes(db) != 1)
		return pl_err_set(err, 401, "account no longer exists");
	/* No stored copy keeps the old identity: events hold ids only and are
	 * rendered from the rows at delivery (event_view.h), so what remains
	 * is the names of its dm channels (renamed while it is still a
	 * member) and its login counter. Then it leaves its channels
	 * (ownership handed on), every session ends and its API tokens go. */
	if (pl_channel_dm_rename_locked(db, user_id, err) < 0 ||
	    pl_channel_leave_all_locked(db, user_id, err) < 0 ||
	    pl_session_revoke_user_locked(db, user_id, 0, err) < 0 ||
	    pl_apitoken_drop_user_locked(db, user_id, err) < 0 ||
	    pl_email_codes_drop_locked(db, user_id, err) < 0 ||
	    pl_phone_erase_locked(db, user_id, err) < 0 ||
	    pl_ratelimit_forget_locked(db, "login_user", name, err) < 0)
		return -1;
	return 0;
}

int pl_user_delete(struct pl_db *db, const struct pl_config *cfg, const struct pl_claims *claims,
		   const char *password, const char *remote_addr, struct pl_err *err)
{
	char hash[PL_PASSWORD_HASH_LEN], name[PL_USERNAME_MAX + 1];
	int rc;

	if (check_own_password(db, cfg, claims->user_id, password, remote_addr, hash, name, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = erase_locked(db, claims->user_id, name, err);
	if ((rc = pl_db_end(db, rc, err)) == 0)
		pl_info_log("account %lld erased", (long long)claims->user_id);
	return rc;
}

int pl_user_erase(struct pl_db *db, int64_t user_id, const char *username, struct pl_err *err)
{
	int rc;

	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = erase_locked(db, user_id, username, err);
	if (rc < 0 && err->status == 401)
		pl_err_set(err, 404, "no such user");
	if ((rc = pl_db_end(db, rc, err)) == 0)
		pl_info_log("account %lld erased", (long long)user_id);
	return rc;
}
