/*
 * sms_verify.h — proving an account owns its phone number: a 6-digit
 * one-time code sent by SMS through the operator's sms_command (run as
 * mail.h runs mail_command: no shell, the text on stdin, the number as
 * the last argument), of which only a keyed hash is stored (table
 * phone_codes, schema 014, at most one code per user, a bounded number of
 * wrong entries). Also the phone and mention_mail fields of
 * PATCH /api/users/me. This module is the only one that touches
 * phone_codes and writes users.phone / phone_verified.
 *
 * Numbers are checked by strict E.164 syntax only (ITU-T E.164: "+", then
 * 8-15 digits, the first not 0); no per-country plan is checked (Debian
 * ships libphonenumber for C++ only; DECISIONS.md, issue 16).
 */
#ifndef PL_SMS_VERIFY_H
#define PL_SMS_VERIFY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "db.h"
#include "err.h"

#define PL_SMS_CODE_LEN 6   /* decimal digits of a phone verification code */

/* pl_phone_valid: whether `s` is strict E.164 syntax ("+", 8-15 digits, first not 0). */
bool pl_phone_valid(const char *s);

/* What PATCH /api/users/me may change here (pl_phone_patch_parse fills it). */
struct pl_phone_patch {
	bool set_phone;          /* "phone" present */
	const char *phone;       /* borrowed from the request; "" = clear (JSON null or "") */
	int mention_mail;        /* -1 keep, 0 off, 1 on ("mention_mail": bool) */
};

/*
 * pl_phone_patch_parse: reads "phone" (E.164 string, "" or null to clear)
 * and "mention_mail" (bool) from the request object `obj` into `p`
 * (strings borrowed from `obj`). Returns 0, or -1 with `err` = 400.
 */
int pl_phone_patch_parse(const cJSON *obj, struct pl_phone_patch *p, struct pl_err *err);

/*
 * pl_phone_patch_locked: inside the caller's open transaction, applies `p`
 * to user `user_id`: a phone different from the current one is stored
 * unverified and any pending code for the old one is dropped. Returns 0
 * or -1 (`err` = 500).
 */
int pl_phone_patch_locked(struct pl_db *db, int64_t user_id, const struct pl_phone_patch *p,
			  struct pl_err *err);

/*
 * pl_sms_verify_request: makes a 6-digit code for `given` (an E.164
 * number from the request, borrowed; NULL: the account's phone as set by
 * PATCH /api/users/me) of `user_id`,
 * counted against sms_user_limit (per user) and sms_number_limit (per
 * number) in sms_window, sends it with sms_command and only then stores
 * its keyed hash (expires after sms_code_ttl; replaces an earlier code),
 * so a failed send leaves the pending code and the counters as they were.
 * A `given` number becomes the account's (unverified when it differs) in
 * the transaction that stores the code, so a failed send changes nothing.
 * Returns 0 or -1 (`err`: 400 no phone or not E.164, 409 already verified, 429 with
 * retry_after, 503 SMS not configured or the command failed, 500).
 */
int pl_sms_verify_request(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			  const char *given, struct pl_err *err);

/*
 * pl_sms_verify_confirm: checks `code` against the pending code of
 * `user_id` (constant-time compare of keyed hashes). Right: the code is
 * consumed and the phone it went to marked verified if it is still the
 * account's; *out receives the owner's user object (caller frees with
 * cJSON_Delete). Wrong: counts an attempt, and at sms_max_attempts the
 * code is void. Returns 0, or -1 with `err` = 400 (wrong, expired, void,
 * none pending, or the number changed), 500.
 */
int pl_sms_verify_confirm(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			  const char *code, cJSON **out, struct pl_err *err);

/*
 * pl_phone_erase_locked: inside the caller's open transaction (account
 * erasure), clears the phone of `user_id` and drops its pending code.
 * Returns 0 or -1 (`err` = 500).
 */
int pl_phone_erase_locked(struct pl_db *db, int64_t user_id, struct pl_err *err);

#endif
