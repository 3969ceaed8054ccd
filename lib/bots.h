/*
 * bots.h — bot accounts (issue 16): users with users.is_bot = 1, made by a
 * server admin (users.bot_owner_id = that admin), with an unusable
 * password hash ("!": password sign-in can never succeed). A bot acts
 * through its personal API tokens (apitokens.h), which its owner or a
 * server admin manage; it posts like any user (a member of a private
 * channel only once someone adds it). Who may do what: authz.h
 * (pl_authz_is_server_admin, pl_authz_bot).
 */
#ifndef PL_BOTS_H
#define PL_BOTS_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_BOT_DISPLAY_NAME_MAX 64   /* characters */

/*
 * pl_bot_create: `caller` (a server admin) makes a bot from `in`
 * ({"username": as for registration, "display_name"?: at most
 * PL_BOT_DISPLAY_NAME_MAX characters}). *out (caller owns) is its user
 * object (`bot: true`). Returns 0, or -1 with `err` = 400 (bad field), 403
 * (not a server admin), 409 (username taken), 500.
 */
int pl_bot_create(struct pl_db *db, int64_t caller, const cJSON *in, cJSON **out, struct pl_err *err);

/*
 * pl_bot_list: *out = {"bots":[user objects]}, oldest first: every live
 * bot for a server admin, else the bots `caller` owns. Caller owns *out.
 * Returns 0 or -1 (500).
 */
int pl_bot_list(struct pl_db *db, int64_t caller, cJSON **out, struct pl_err *err);

/*
 * pl_bot_delete: erases bot `bot_id` like an account deletion (its
 * messages stay as from a deleted user; its tokens and sockets end).
 * Returns 0, or -1 with `err` = 404 (no such bot), 403 (not its owner or a
 * server admin), 500.
 */
int pl_bot_delete(struct pl_db *db, int64_t caller, int64_t bot_id, struct pl_err *err);

#endif
