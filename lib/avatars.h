/*
 * avatars.h — a user's uploaded avatar: a file row of purpose "avatar"
 * (files.h; the image as upload.h resized it) that users.avatar_url names
 * as "/api/files/<id>", readable by anyone signed in (pl_authz_file). An
 * external http(s) avatar_url (PATCH /api/users/me) keeps working; an
 * avatar row no user names any more (replaced, cleared, account erased) is
 * collected by pl_files_collect.
 */
#ifndef PL_AVATARS_H
#define PL_AVATARS_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "files.h"

/*
 * pl_avatar_set: records `in` (purpose "avatar") as `user_id`'s avatar and
 * points their avatar_url at it, in one transaction. *out receives the
 * user object as its owner sees it (caller frees). Returns 0, or -1 with
 * `err` (500).
 */
int pl_avatar_set(struct pl_db *db, int64_t user_id, const struct pl_file_new *in, cJSON **out,
		  struct pl_err *err);

/*
 * pl_avatar_clear: empties `user_id`'s avatar_url (uploaded or external).
 * *out receives the user object (caller frees). Returns 0, or -1 with
 * `err` (500).
 */
int pl_avatar_clear(struct pl_db *db, int64_t user_id, cJSON **out, struct pl_err *err);

#endif
