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
#include "db.h"
#include "err.h"

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
 * pl_user_json: the user object for `user_id`; `self` adds the owner-only
 * fields. Returns a new object (caller frees) or NULL with `err` = 404.
 */
cJSON *pl_user_json(struct pl_db *db, int64_t user_id, bool self, struct pl_err *err);

#endif
