/*
 * email_verify.c — proving an account owns its email address with a
 * one-time code sent by mail (email_verify.h). This file owns the
 * email_codes table.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "email_verify.h"
#include "mail.h"
#include "ratelimit.h"
#include "user_view.h"
#include "util.h"

enum email_verify_stmt {
	EMAIL_VERIFY_STMT_USER_EMAIL,
	EMAIL_VERIFY_STMT_CODE_STORE,
	EMAIL_VERIFY_STMT_CODE_TAKE,
	EMAIL_VERIFY_STMT_MARK_VERIFIED,
	EMAIL_VERIFY_STMT_CODES_DROP,
	EMAIL_VERIFY_STMT_CODES_STALE,
	EMAIL_VERIFY_STMT__MAX
};

static const struct pl_sql email_verify_stmts[EMAIL_VERIFY_STMT__MAX] = {
	[EMAIL_VERIFY_STMT_USER_EMAIL] = {
		"SELECT email, email_verified FROM users WHERE id = ?1 AND deleted_at IS NULL" },
	/* One code per user (user_id is the key): a new one replaces the old.
	 * code_hash is UNIQUE too; two codes sharing a keyed hash of 60
	 * random bits does not happen, and would be refused (500), never
	 * replace another user's code. */
	[EMAIL_VERIFY_STMT_CODE_STORE] = {
		"INSERT INTO email_codes (user_id, code_hash, email, expires_at) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, "
		"email = excluded.email, expires_at = excluded.expires_at" },
	[EMAIL_VERIFY_STMT_CODE_TAKE] = {
		"DELETE FROM email_codes WHERE code_hash = ?1 RETURNING user_id, email, expires_at" },
	[EMAIL_VERIFY_STMT_MARK_VERIFIED] = {
		"UPDATE users SET email_verified = 1 WHERE id = ?1 AND email = ?2 AND deleted_at IS NULL" },
	[EMAIL_VERIFY_STMT_CODES_DROP] = { "DELETE FROM email_codes WHERE user_id = ?1" },
	[EMAIL_VERIFY_STMT_CODES_STALE] = {
		"DELETE FROM email_codes WHERE user_id = ?1 AND "
		"email IS DISTINCT FROM (SELECT email FROM users WHERE id = ?1)" },
};

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
	struct pl_stmt *st = pl_db_prepare(db, &email_verify_stmts[EMAIL_VERIFY_STMT_USER_EMAIL], err);
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
	if (!(st = pl_db_prepare(db, &email_verify_stmts[EMAIL_VERIFY_STMT_CODE_STORE], err)))
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
	struct pl_stmt *st = pl_db_prepare(db, &email_verify_stmts[EMAIL_VERIFY_STMT_CODE_TAKE], err);
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
	if (!(st = pl_db_prepare(db, &email_verify_stmts[EMAIL_VERIFY_STMT_MARK_VERIFIED], err)))
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

/* Runs the DELETE `q` of email_codes for `user_id`. */
static int drop_codes(struct pl_db *db, enum email_verify_stmt q, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &email_verify_stmts[q], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	return pl_db_step_done(db, st, err);
}

int pl_email_codes_drop_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	return drop_codes(db, EMAIL_VERIFY_STMT_CODES_DROP, user_id, err);
}

int pl_email_codes_drop_stale_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	return drop_codes(db, EMAIL_VERIFY_STMT_CODES_STALE, user_id, err);
}
