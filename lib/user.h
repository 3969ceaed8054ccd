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
	/* issue 16 (schema/010_integrations_users.sql says what each means) */
	bool is_bot;           /* a bot account: `bot` in user objects */
	int64_t bot_owner_id;  /* who made the bot, 0 when none */
	bool server_admin;     /* server_role = 'admin' */
	int64_t deactivated_at;/* set while deactivated by an admin, else 0 */
	char *phone;           /* owned, E.164, NULL when none */
	bool phone_verified;
	bool mention_mail;     /* mail of missed mentions and DMs wanted */
	int64_t mention_mail_at; /* when the last such mail went, 0 never */
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
