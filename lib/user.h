/*
 * user.h — a user row as storage returns it (no JSON here: user_view.h
 * renders it). One struct, filled by pl_user_load, released with
 * pl_user_release.
 */
#ifndef PL_USER_H
#define PL_USER_H

#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

struct pl_user {
	int64_t id;
	char *username;        /* owned, never NULL once loaded */
	char *display_name;    /* owned, "" when unset */
	char *bio;             /* owned */
	char *avatar_url;      /* owned */
	char *status_text;     /* owned */
	char *email;           /* owned, NULL when none */
	bool email_verified;
	int64_t created_at;    /* ms since epoch */
	int64_t deleted_at;    /* ms since epoch, 0 while the account lives */
};

/*
 * pl_user_load: reads user `user_id` (erased accounts included: see
 * deleted_at) into `out`, whose strings it allocates. Returns 0, 1 when
 * there is no such user (`err` 404, `out` zeroed), or -1 (`err` 500).
 * Release a loaded user with pl_user_release.
 */
int pl_user_load(struct pl_db *db, int64_t user_id, struct pl_user *out, struct pl_err *err);

/* pl_user_release: frees what `u` owns and zeroes it (safe twice). */
void pl_user_release(struct pl_user *u);

#endif
