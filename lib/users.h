/*
 * users.h — accounts: registration rules and the user object of the
 * contract ({"id","username","display_name","bio","avatar_url",
 * "status_text","created_at"}, plus "email"/"email_verified" for its owner).
 */
#ifndef PL_USERS_H
#define PL_USERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "db.h"
#include "err.h"
#include "token.h"

/* Usernames of erased accounts: "deleted-user-<id>"; registration refuses
 * the prefix, so such a name always means an erased account. */
#define PL_DELETED_USER_PREFIX "deleted-user-"

struct pl_registration {
	const char *username;      /* 3-32 of [A-Za-z0-9_.-] */
	const char *password;      /* 8-1024 bytes */
	size_t password_len;
	const char *email;         /* optional (NULL) */
	const char *display_name;  /* optional (NULL), <= 64 code points */
};

/*
 * pl_user_validate_username: 0 when `name` obeys the username rule, else
 * -1 with `err` = 400.
 */
int pl_user_validate_username(const char *name, struct pl_err *err);

/*
 * pl_user_register: validates `reg`, hashes the password (argon2id) and
 * stores the user. *out receives the user object as its owner sees it
 * (caller frees with cJSON_Delete). Returns 0, or -1 with `err`: 400
 * invalid, 409 username taken (case-insensitive).
 */
int pl_user_register(struct pl_db *db, const struct pl_registration *reg, cJSON **out, struct pl_err *err);

/*
 * pl_user_register_from: pl_user_register for a request from client
 * address `remote_addr`: after validation, counts the attempt against
 * register_addr_limit per register_addr_window (429 with retry_after when
 * exhausted, before any hashing). Same results as pl_user_register.
 */
int pl_user_register_from(struct pl_db *db, const struct pl_config *cfg, const char *remote_addr,
			  const struct pl_registration *reg, cJSON **out, struct pl_err *err);

/*
 * pl_user_get: the user object for `user_id` as `viewer_id` sees it
 * (owner-only fields when they are the same). Erased accounts are 404.
 * Returns a new object (caller frees) or NULL with `err` (404, 500).
 */
cJSON *pl_user_get(struct pl_db *db, int64_t user_id, int64_t viewer_id, struct pl_err *err);

/*
 * pl_user_patch: applies the profile fields present in the JSON object
 * `patch` (borrowed) to `user_id`: display_name (<= 64 code points), bio
 * (<= 500, newlines allowed), status_text (<= 100), avatar_url (http or
 * https URL with a host, <= 500 bytes), email (an address, or "" to
 * remove it; a changed address is no longer verified). "" clears a
 * field; null or absent fields stay; other keys are ignored. All fields
 * are checked before anything is written, so a bad one changes nothing.
 * *out receives the owner's view (caller frees). Returns 0 or -1
 * (`err`: 400 naming the field, 500).
 */
int pl_user_patch(struct pl_db *db, int64_t user_id, const cJSON *patch, cJSON **out,
		  struct pl_err *err);

/*
 * pl_user_change_password: checks `old_password` (a rate-limited attempt,
 * see pl_session_try_password; wrong is 403 here, since the bearer token
 * itself is fine), stores argon2id of `new_password` (8-1024 bytes, else
 * 400) and revokes every session of the user except `claims`' own.
 * Returns 0 or -1 (`err`: 400, 403, 409 when the password changed
 * meanwhile, 429, 500).
 */
int pl_user_change_password(struct pl_db *db, const struct pl_config *cfg,
			    const struct pl_claims *claims, const char *old_password,
			    const char *new_password, const char *remote_addr, struct pl_err *err);

/*
 * pl_user_delete: erases the account of `claims` after checking
 * `password` (as pl_user_change_password: 403 when wrong, 429): the
 * profile is blanked, the username becomes "deleted-user-<id>" (the old
 * name is free again), the account leaves every channel (ownership handed
 * on: pl_channel_leave_all_locked), every session is revoked and pending
 * codes and tickets go. The row stays, so messages keep their author id
 * and show that name. Returns 0 or -1 (`err`).
 */
int pl_user_delete(struct pl_db *db, const struct pl_config *cfg, const struct pl_claims *claims,
		   const char *password, const char *remote_addr, struct pl_err *err);

/*
 * pl_user_search: up to `limit` (1-200) live users whose username or
 * display name starts with `prefix` (ASCII case ignored; "" = everyone),
 * ordered by username, as {"users":[...]} (public view). Index range
 * scans, no LIKE. Returns a new object (caller frees) or NULL (`err`:
 * 400 prefix over PL_SEARCH_MAX bytes, 500).
 */
#define PL_SEARCH_MAX 100   /* longest search prefix, bytes (400 above) */
cJSON *pl_user_search(struct pl_db *db, const char *prefix, int limit, struct pl_err *err);

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
 * pl_user_find: the id of the live (not deleted) user named `username`
 * (case-insensitive) in *id. Returns 0, or -1 with `err` = 404 (500 on a
 * database error). For operator tools; the API addresses users by id.
 */
int pl_user_find(struct pl_db *db, const char *username, int64_t *id, struct pl_err *err);

/*
 * pl_user_reset_password: the operator's reset (parleyctl reset-password):
 * stores argon2id of `password` (`len` bytes, 8-1024, else 400) for
 * `user_id` without asking for the old one, and revokes every session of
 * the user. Returns 0 or -1 (`err`: 400, 404, 500).
 */
int pl_user_reset_password(struct pl_db *db, int64_t user_id, const char *password, size_t len,
			   struct pl_err *err);

#endif
