/*
 * invites.h — registration invites (issue 16): while the server's
 * `registration` setting is `invite`, POST /api/auth/register needs
 * "invite": a token a server admin made (POST /api/admin/invites,
 * parleyctl create-invite). A token is 32 random bytes (base64url, 43
 * characters), shown once; the table (invites, schema/011_admin.sql) keeps
 * only its BLAKE2b hash, how many registrations it allows and made, when
 * it expires and whether it was revoked. A use is taken in the
 * registration's own transaction, so two registrations racing for the last
 * use of an invite cannot both succeed.
 */
#ifndef PL_INVITES_H
#define PL_INVITES_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_INVITE_TOKEN_LEN 64          /* room for a token and its NUL */
#define PL_INVITE_MAX_USES 10000        /* "max_uses" at most */
#define PL_INVITE_DEFAULT_TTL (7 * 86400) /* "expires_in" default, seconds */
#define PL_INVITE_MAX_TTL (365 * 86400) /* "expires_in" at most, seconds */
#define PL_INVITE_MIN_TTL 60            /* "expires_in" at least, seconds */

/* The message of the 403 an invite-only registration without a usable
 * invite gets (missing, unknown, used up, expired or revoked: one text,
 * so that the answer tells nothing about which). */
#define PL_INVITE_INVALID_MSG "registration needs a valid invite"

/*
 * pl_invite_create_locked: a new invite by `created_by` (0: parleyctl)
 * allowing `max_uses` (1-PL_INVITE_MAX_USES) registrations for
 * `expires_in` seconds (PL_INVITE_MIN_TTL-PL_INVITE_MAX_TTL), inside the
 * caller's open write transaction. `token` receives the token (give it to
 * the admin once; it is not stored), *id the invite's id. Returns 0 or -1
 * (`err`: 400 out of bounds, 500).
 */
int pl_invite_create_locked(struct pl_db *db, int64_t created_by, int64_t max_uses,
			    int64_t expires_in, char token[PL_INVITE_TOKEN_LEN], int64_t *id,
			    struct pl_err *err);

/*
 * pl_invite_use_locked: takes one use of the invite whose token is `token`
 * (NULL: none given), inside the registration's open write transaction.
 * Returns 0, or -1 with `err` 403 PL_INVITE_INVALID_MSG when there is no
 * such live invite with a use left, 500 on a database error.
 */
int pl_invite_use_locked(struct pl_db *db, const char *token, struct pl_err *err);

/*
 * pl_invite_revoke_locked: revokes invite `id` inside the caller's open
 * write transaction (it can never be used again; the row stays). Returns
 * 0 or -1 (`err`: 404 no such invite or already revoked, 500).
 */
int pl_invite_revoke_locked(struct pl_db *db, int64_t id, struct pl_err *err);

/*
 * pl_invite_json: invite `id` as {"id","created_by","created_at",
 * "expires_at","max_uses","uses","uses_left","expired","revoked"} (never
 * its token). NULL with `err` (404, 500). Caller frees.
 */
cJSON *pl_invite_json(struct pl_db *db, int64_t id, struct pl_err *err);

/*
 * pl_invite_list: the invites not revoked, newest first, up to `limit`
 * (1-200) with id below `before` (0: the newest), as {"invites":[...]}
 * (objects as pl_invite_json). *out is new (caller frees). Returns 0 or -1.
 */
int pl_invite_list(struct pl_db *db, int limit, int64_t before, cJSON **out, struct pl_err *err);

#endif
