/*
 * sms_verify.c — phone verification by SMS and the phone/mention_mail
 * profile fields (sms_verify.h). This file owns the phone_codes table.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "mail.h"
#include "ratelimit.h"
#include "sms_verify.h"
#include "user_view.h"
#include "util.h"

enum sms_stmt {
	SMS_STMT_USER_PHONE,
	SMS_STMT_CODE_STORE,
	SMS_STMT_CODE_GET,
	SMS_STMT_CODE_DROP,
	SMS_STMT_CODE_MISS,
	SMS_STMT_MARK_VERIFIED,
	SMS_STMT_PATCH,
	SMS_STMT_CODES_STALE,
	SMS_STMT_ERASE,
	SMS_STMT__MAX
};

static const struct pl_sql sms_stmts[SMS_STMT__MAX] = {
	[SMS_STMT_USER_PHONE] = {
		"SELECT phone, phone_verified FROM users WHERE id = ?1 AND deleted_at IS NULL" },
	[SMS_STMT_CODE_STORE] = {
		"INSERT INTO phone_codes (user_id, code_hash, phone, expires_at, attempts) "
		"VALUES (?1, ?2, ?3, ?4, 0) ON CONFLICT (user_id) DO UPDATE SET "
		"code_hash = excluded.code_hash, phone = excluded.phone, "
		"expires_at = excluded.expires_at, attempts = 0" },
	[SMS_STMT_CODE_GET] = {
		"SELECT code_hash, phone, expires_at, attempts FROM phone_codes WHERE user_id = ?1" },
	[SMS_STMT_CODE_DROP] = { "DELETE FROM phone_codes WHERE user_id = ?1" },
	[SMS_STMT_CODE_MISS] = {
		"UPDATE phone_codes SET attempts = attempts + 1 WHERE user_id = ?1" },
	[SMS_STMT_MARK_VERIFIED] = {
		"UPDATE users SET phone_verified = 1 WHERE id = ?1 AND phone = ?2 AND deleted_at IS NULL" },
	/* Right-hand sides see the old row: phone_verified compares the old
	 * number with the new one. ?2 is first seen in "IS NULL", which tells
	 * PostgreSQL no type: the CAST does. ?3: -1 keep, 0, 1. */
	[SMS_STMT_PATCH] = {
		"UPDATE users SET "
		"phone = CASE WHEN CAST(?2 AS TEXT) IS NULL THEN phone WHEN ?2 = '' THEN NULL ELSE ?2 END, "
		"phone_verified = CASE WHEN ?2 IS NULL OR ?2 IS NOT DISTINCT FROM phone "
		"THEN phone_verified ELSE 0 END, "
		"mention_mail = CASE WHEN ?3 < 0 THEN mention_mail ELSE ?3 END "
		"WHERE id = ?1 AND deleted_at IS NULL" },
	[SMS_STMT_CODES_STALE] = {
		"DELETE FROM phone_codes WHERE user_id = ?1 AND "
		"phone IS DISTINCT FROM (SELECT phone FROM users WHERE id = ?1)" },
	[SMS_STMT_ERASE] = {
		"UPDATE users SET phone = NULL, phone_verified = 0 WHERE id = ?1" },
};

bool pl_phone_valid(const char *s)
{
	size_t n;

	if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	n = strlen(s + 1);
	return n >= 8 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

int pl_phone_patch_parse(const cJSON *obj, struct pl_phone_patch *p, struct pl_err *err)
{
	const cJSON *ph = cJSON_GetObjectItemCaseSensitive(obj, "phone");
	const cJSON *mm = cJSON_GetObjectItemCaseSensitive(obj, "mention_mail");

	memset(p, 0, sizeof(*p));
	p->mention_mail = -1;
	if (ph && cJSON_IsNull(ph)) {
		p->set_phone = true;
		p->phone = "";
	} else if (ph && cJSON_IsString(ph)) {
		p->set_phone = true;
		p->phone = ph->valuestring;
		if (*p->phone && !pl_phone_valid(p->phone))
			return pl_err_set(err, 400, "phone must be an E.164 number: \"+\" then 8-15 digits, "
					  "the first not 0 (e.g. \"+4915112345678\"), or null");
	} else if (ph)
		return pl_err_set(err, 400, "phone must be a string or null");
	if (mm && !cJSON_IsNull(mm)) {
		if (!cJSON_IsBool(mm))
			return pl_err_set(err, 400, "mention_mail must be a boolean");
		p->mention_mail = cJSON_IsTrue(mm) ? 1 : 0;
	}
	return 0;
}

/* Runs `q` bound to `user_id` alone, as a write. */
static int run_user(struct pl_db *db, enum sms_stmt q, int64_t user_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &sms_stmts[q], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	return pl_db_step_done(db, st, err);
}

int pl_phone_patch_locked(struct pl_db *db, int64_t user_id, const struct pl_phone_patch *p,
			  struct pl_err *err)
{
	struct pl_stmt *st;

	if (!p->set_phone && p->mention_mail < 0)
		return 0;
	if (!(st = pl_db_prepare(db, &sms_stmts[SMS_STMT_PATCH], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	if (p->set_phone)
		pl_stmt_bind_text(st, 2, p->phone);
	pl_stmt_bind_int(st, 3, p->mention_mail);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	return run_user(db, SMS_STMT_CODES_STALE, user_id, err);
}

int pl_phone_erase_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	if (run_user(db, SMS_STMT_ERASE, user_id, err) < 0)
		return -1;
	return run_user(db, SMS_STMT_CODE_DROP, user_id, err);
}

/* Keyed BLAKE2b of a code and the user it belongs to; the key derives
 * from the JWT secret, so a copy of the database alone does not let
 * anyone try the 10^6 codes offline. */
static void code_hash(const struct pl_config *cfg, int64_t user_id, const char *code,
		      unsigned char out[32])
{
	static const char label[] = "parley phone verification code v1";
	unsigned char key[32];
	char msg[64];
	size_t klen = cfg->jwt_secret_len > 64 ? 64 : cfg->jwt_secret_len;

	crypto_generichash(key, sizeof(key), (const unsigned char *)label, sizeof(label) - 1,
			   cfg->jwt_secret, klen);
	snprintf(msg, sizeof(msg), "%lld:%s", (long long)user_id, code);
	crypto_generichash(out, 32, (const unsigned char *)msg, strlen(msg), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(msg, sizeof(msg));
}

/* 0 = the code may go to `phone`: the account's unverified number, or a
 * `given` one (copied to `phone`) other than its verified number; -1
 * error (400 no number, 409 already verified, 401, 500). */
static int user_phone(struct pl_db *db, int64_t user_id, const char *given, char phone[32],
		      struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &sms_stmts[SMS_STMT_USER_PHONE], err);
	int step, rc = -1;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW && given && (!pl_stmt_int(st, 1) || pl_stmt_null(st, 0) ||
					strcmp(given, pl_stmt_text(st, 0)) != 0)) {
		snprintf(phone, 32, "%s", given);
		rc = 0;
	} else if (step == PL_ROW && pl_stmt_null(st, 0))
		pl_err_set(err, 400, "the account has no phone number: send {\"phone\"} or set one "
			   "with PATCH /api/users/me");
	else if (step == PL_ROW && pl_stmt_int(st, 1))
		pl_err_set(err, 409, "the phone number is already verified");
	else if (step == PL_ROW) {
		snprintf(phone, 32, "%s", pl_stmt_text(st, 0));
		rc = 0;
	} else if (step == PL_DONE)
		pl_err_set(err, 401, "account no longer exists");
	else
		pl_err_internal(err, "user phone: %s", pl_db_last_error(db));
	pl_db_done(st);
	return rc;
}

/* Stores the code (and a `given` number as the account's, unverified
 * when it changes) in one transaction. */
static int store_code(struct pl_db *db, int64_t user_id, const unsigned char hash[32],
		      const char *phone, bool given, int64_t expires, struct pl_err *err)
{
	struct pl_phone_patch p = { .set_phone = true, .phone = phone, .mention_mail = -1 };
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (given && pl_phone_patch_locked(db, user_id, &p, err) < 0)
		goto out;
	if (!(st = pl_db_prepare(db, &sms_stmts[SMS_STMT_CODE_STORE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_blob(st, 2, hash, 32);
	pl_stmt_bind_text(st, 3, phone);
	pl_stmt_bind_int64(st, 4, expires);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_sms_verify_request(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			  const char *given, struct pl_err *err)
{
	char phone[32], code[PL_SMS_CODE_LEN + 1], msg[256], subject[32];
	unsigned char hash[32];
	struct pl_rate rates[2];
	struct pl_err ignored = { 0 };
	int status, run, rc = -1;

	if (given && !pl_phone_valid(given))
		return pl_err_set(err, 400, "phone must be an E.164 number: \"+\" then 8-15 digits, "
				  "the first not 0 (e.g. \"+4915112345678\")");
	if (user_phone(db, user_id, given, phone, err) < 0)
		return -1;
	if (!cfg->sms_command[0])
		return pl_err_set(err, 503, "SMS delivery is not configured on this server");
	snprintf(subject, sizeof(subject), "%lld", (long long)user_id);
	pl_rate_set(&rates[0], "sms_user", subject, cfg->sms_user_limit, cfg->sms_window);
	pl_rate_set(&rates[1], "sms_number", phone, cfg->sms_number_limit, cfg->sms_window);
	if (pl_ratelimit_take(db, rates, 2, pl_now_ms(), err) < 0)
		return -1;
	snprintf(code, sizeof(code), "%06u", (unsigned)randombytes_uniform(1000000));
	snprintf(msg, sizeof(msg),
		 "Your parley verification code is %s. It is valid for %d minutes.\n",
		 code, (cfg->sms_code_ttl + 59) / 60);
	run = pl_command_run(cfg->sms_command, phone, msg, &status);
	if (run != 0 || status != 0) {
		/* Nothing was sent: the attempt does not count, no code is stored. */
		pl_ratelimit_refund(db, rates, 2, &ignored);
		pl_err_set(err, 503, "SMS delivery failed, retry later");
		goto out;
	}
	code_hash(cfg, user_id, code, hash);
	rc = store_code(db, user_id, hash, phone, given != NULL,
			pl_now_ms() + (int64_t)cfg->sms_code_ttl * 1000, err);
out:
	sodium_memzero(msg, sizeof(msg));
	sodium_memzero(code, sizeof(code));
	return rc;
}

/* Outcome of checking a code inside the transaction. */
enum check { CHECK_OK, CHECK_WRONG, CHECK_VOID };

/* Reads the pending code of `user_id` and compares; on CHECK_OK `phone`
 * holds the number it went to. -1 on a database error. */
static int check_code(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
		      const char *code, char phone[32], struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &sms_stmts[SMS_STMT_CODE_GET], err);
	unsigned char want[32];
	const void *have;
	size_t n = 0;
	int step, rc = CHECK_VOID;

	if (!st)
		return -1;
	code_hash(cfg, user_id, code, want);
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		have = pl_stmt_blob(st, 0, &n);
		if (pl_stmt_int64(st, 2) <= pl_now_ms() || pl_stmt_int(st, 3) >= cfg->sms_max_attempts)
			rc = CHECK_VOID;
		else if (n == 32 && sodium_memcmp(have, want, 32) == 0) {
			snprintf(phone, 32, "%s", pl_stmt_text(st, 1));
			rc = CHECK_OK;
		} else
			rc = pl_stmt_int(st, 3) + 1 >= cfg->sms_max_attempts ? CHECK_VOID : CHECK_WRONG;
	} else if (step != PL_DONE)
		rc = pl_err_internal(err, "phone code: %s", pl_db_last_error(db));
	pl_db_done(st);
	return rc;
}

/* 6 ASCII digits. */
static bool code_syntax(const char *code)
{
	return strlen(code) == PL_SMS_CODE_LEN && strspn(code, "0123456789") == PL_SMS_CODE_LEN;
}

int pl_sms_verify_confirm(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			  const char *code, cJSON **out, struct pl_err *err)
{
	char phone[32] = "";
	struct pl_stmt *st;
	int check, rc = -1, verified = 0;

	*out = NULL;
	if (!code_syntax(code))
		return pl_err_set(err, 400, "wrong or expired verification code");
	if (pl_db_begin(db, err) < 0)
		return -1;
	if ((check = check_code(db, cfg, user_id, code, phone, err)) < 0)
		goto out;
	/* A wrong code counts an attempt; the last allowed one, an expired
	 * or a used-up code removes it. Either way this commits. */
	if (check == CHECK_WRONG && run_user(db, SMS_STMT_CODE_MISS, user_id, err) < 0)
		goto out;
	if (check != CHECK_WRONG && run_user(db, SMS_STMT_CODE_DROP, user_id, err) < 0)
		goto out;
	if (check == CHECK_OK) {
		if (!(st = pl_db_prepare(db, &sms_stmts[SMS_STMT_MARK_VERIFIED], err)))
			goto out;
		pl_stmt_bind_int64(st, 1, user_id);
		pl_stmt_bind_text(st, 2, phone);
		if (pl_db_step_done(db, st, err) < 0)
			goto out;
		verified = pl_db_changes(db) == 1;
	}
	rc = 0;
out:
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	if (!verified)
		return pl_err_set(err, 400, "wrong or expired verification code");
	*out = pl_user_json(db, user_id, true, err);
	return *out ? 0 : -1;
}
