/*
 * email_verify.h — proving an account owns its email address: a one-time
 * code mailed to it (mail.h), of which only a keyed hash is stored
 * (table email_codes, at most one code per user). This module is the only
 * one that touches email_codes.
 */
#ifndef PL_EMAIL_VERIFY_H
#define PL_EMAIL_VERIFY_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "config.h"
#include "db.h"
#include "err.h"

#define PL_VERIFY_CODE_LEN 12   /* characters of an email verification code */

/*
 * pl_user_verify_request: makes a one-time code for the email address of
 * `user_id` (60 random bits, 12 characters of an unambiguous base32
 * alphabet), stores only its keyed hash (expires after verify_code_ttl;
 * replaces any earlier code) and hands a mail with it to mail_command
 * (mail.h). Counted against verify_request_limit per user. Returns 0 or
 * -1 (`err`: 400 no address, 409 already verified, 429, 503 mail not
 * configured or failed, 500).
 */
int pl_user_verify_request(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			   struct pl_err *err);

/*
 * pl_user_verify_confirm: consumes `code` (case-insensitive; single use:
 * it is deleted whether or not it was still valid) and marks the address
 * it was sent to verified, if it is still the account's address. *out
 * receives the owner's view of the user (caller frees). Returns 0, or -1
 * with `err` = 400 (wrong, expired, used, or the address changed), 500.
 */
int pl_user_verify_confirm(struct pl_db *db, const struct pl_config *cfg, const char *code,
			   cJSON **out, struct pl_err *err);

/*
 * pl_email_codes_drop_locked: inside the caller's open transaction,
 * deletes the pending code of `user_id`, if any (the account is being
 * erased). Returns 0 or -1 (`err` = 500).
 */
int pl_email_codes_drop_locked(struct pl_db *db, int64_t user_id, struct pl_err *err);

/*
 * pl_email_codes_drop_stale_locked: inside the caller's open transaction,
 * deletes the pending code of `user_id` when it was sent to another
 * address than the account's current one (after a profile change).
 * Returns 0 or -1 (`err` = 500).
 */
int pl_email_codes_drop_stale_locked(struct pl_db *db, int64_t user_id, struct pl_err *err);

#endif
