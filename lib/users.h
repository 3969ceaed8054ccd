/*
 * users.h — the user record's rules and its creation: what a username and
 * an email address may be, registration (argon2id hash, the row), and the
 * operator's lookup by name and password reset. The account's later life
 * (profile, password change, deletion, rate-limited registration) is in
 * accounts.h, search in user_search.h, email verification in
 * email_verify.h; user_view.h renders the contract's user object.
 */
#ifndef PL_USERS_H
#define PL_USERS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "db.h"
#include "err.h"

/* Usernames of erased accounts: "deleted-user-<id>"; registration refuses
 * the prefix, so such a name always means an erased account. */
#define PL_DELETED_USER_PREFIX "deleted-user-"

/* The message of the 403 registration gets while `registration = closed`. */
#define PL_REG_CLOSED_MSG "registration is closed on this server"

struct pl_registration {
	const char *username;      /* 3-32 of [A-Za-z0-9_.-] */
	const char *password;      /* 8-1024 bytes */
	size_t password_len;
	const char *email;         /* optional (NULL) */
	const char *display_name;  /* optional (NULL), <= 64 code points */
	/* issue 16: who may register (config `registration`; PL_REG_OPEN, the
	 * zero value, for parleyctl create-user) and the invite token that
	 * PL_REG_INVITE needs (NULL when none was given). */
	enum pl_reg_mode mode;
	const char *invite;
};

/*
 * pl_user_validate_username: 0 when `name` obeys the username rule, else
 * -1 with `err` = 400.
 */
int pl_user_validate_username(const char *name, struct pl_err *err);

/*
 * pl_user_validate_email: 0 when `email` is an address we are willing to
 * put in a To: header (RFC 5322 addr-spec, dot-atom form only: one '@',
 * a local part of atext and dots, a domain of letters, digits, '-' and
 * dots, <= 254 bytes), so it can never add a recipient or a header; else
 * -1 with `err` = 400.
 */
int pl_user_validate_email(const char *email, struct pl_err *err);

/*
 * pl_user_validate_registration: 0 when every field of `reg` obeys its
 * rule (see struct pl_registration), else -1 with `err` = 400 naming the
 * field. Touches no database.
 */
int pl_user_validate_registration(const struct pl_registration *reg, struct pl_err *err);

/*
 * pl_user_register: validates `reg`, hashes the password (argon2id) and
 * stores the user. In the same write transaction, decided under its lock
 * (so two racing registrations cannot both pass): on a server without a
 * live person account the new account is accepted in any mode and becomes
 * the server admin (users.server_role); otherwise `reg->mode` applies:
 * PL_REG_CLOSED refuses (403), PL_REG_INVITE takes one use of the invite
 * `reg->invite` (pl_invite_use_locked: 403 when it is missing, unknown,
 * used up, expired or revoked). *out receives the user object as its
 * owner sees it (caller frees with cJSON_Delete). Returns 0, or -1 with
 * `err`: 400 invalid, 403 refused by the mode, 409 username taken
 * (case-insensitive).
 */
int pl_user_register(struct pl_db *db, const struct pl_registration *reg, cJSON **out, struct pl_err *err);

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
