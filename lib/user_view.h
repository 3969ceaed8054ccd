/*
 * user_view.h — the user object of the contract, rendered from a
 * struct pl_user (user.h): {"id","username","display_name","bio",
 * "avatar_url","status_text","created_at","bot"}, plus "email",
 * "email_verified", "phone", "phone_verified", "mention_mail" and
 * "server_admin" for its owner only (API.md, Objects; the additions of
 * issue 16 are in docs/DECISIONS.md, "Integrations and administration").
 */
#ifndef PL_USER_VIEW_H
#define PL_USER_VIEW_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "user.h"

/* pl_user_view: the object for `u` (borrowed); `self` adds the owner-only
 * fields. Returns a new object (caller frees). */
cJSON *pl_user_view(const struct pl_user *u, bool self);

/*
 * pl_user_json: loads user `user_id` and renders it (pl_user_load, then
 * pl_user_view). Returns a new object (caller frees) or NULL with `err`
 * (404 no such user, 500).
 */
cJSON *pl_user_json(struct pl_db *db, int64_t user_id, bool self, struct pl_err *err);

#endif
