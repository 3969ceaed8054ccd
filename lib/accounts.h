/*
 * accounts.h — an account's life after registration: registration counted
 * per client address, the profile (GET and PATCH /api/users/me), password
 * change and deletion. The user object is the contract's
 * ({"id","username","display_name","bio","avatar_url","status_text",
 * "created_at"}, plus "email"/"email_verified" for its owner).
 */
#ifndef PL_ACCOUNTS_H
#define PL_ACCOUNTS_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "config.h"
#include "db.h"
#include "err.h"
#include "token.h"
#include "users.h"

/*
 * pl_user_register_from: pl_user_register for a request from client
 * address `remote_addr`: after validation, counts the attempt against
 * register_addr_limit per register_addr_window (429 with retry_after when
 * exhausted, before any hashing), under the server's registration mode
 * (cfg->reg_mode; `reg->mode` is ignored). Same results as
 * pl_user_register.
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
 * name is free again), its dm channels are named after that name
 * (pl_channel_dm_rename_locked, with channel.updated), the account leaves
 * every channel (ownership handed on: pl_channel_leave_all_locked), every
 * session is revoked, pending codes and tickets go and so does its
 * username's login counter; all in one transaction. The row stays, so
 * messages keep their author id and show that name; events hold ids and
 * are rendered from the current rows (event_view.h), so a replay shows it
 * too. Returns 0 or -1 (`err`).
 */
int pl_user_delete(struct pl_db *db, const struct pl_config *cfg, const struct pl_claims *claims,
		   const char *password, const char *remote_addr, struct pl_err *err);

/*
 * pl_user_erase: erases account `user_id` (whose username is `username`)
 * as pl_user_delete does, without a password: for a bot's deletion by its
 * owner or a server admin (the caller checked that through authz). Returns
 * 0, or -1 with `err` = 404 (no such live account), 500.
 */
int pl_user_erase(struct pl_db *db, int64_t user_id, const char *username, struct pl_err *err);

#endif
