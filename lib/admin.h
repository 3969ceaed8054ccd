/*
 * admin.h — server administration (issue 16): what a server admin (or the
 * operator through parleyctl) may do to any account, message or channel,
 * and the invites of invite-only registration. Every function takes the
 * acting user as `actor_id`: a user id, checked with pl_authz_server_admin
 * (403 for anyone else), or 0 for parleyctl (the operator, trusted; the
 * audit log names it "parleyctl"). Every action writes its rows, its
 * event (where clients must hear of it) and its audit row (audit.h) in one
 * transaction.
 */
#ifndef PL_ADMIN_H
#define PL_ADMIN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

/*
 * pl_admin_users: live accounts (erased ones are gone) whose username or
 * display name starts with `q` ("" for all), newest first, up to `limit`
 * (1-200) with id below `before` (0: the newest), as {"users":[{"id",
 * "username","display_name","email","email_verified","bot",
 * "server_admin","deactivated","deactivated_at","created_at",
 * "last_seen_at"}]} (last_seen_at: presence, null when never seen).
 * Returns 0 or -1 (`err`: 400, 403).
 */
int pl_admin_users(struct pl_db *db, int64_t actor_id, const char *q, int limit, int64_t before,
		   cJSON **out, struct pl_err *err);

/*
 * pl_admin_set_active: deactivates (`active` false) or reactivates user
 * `target`. Deactivation revokes every session (and so every bearer
 * token, refresh token and WebSocket ticket: session.h refuses a
 * deactivated user's sessions, whatever authenticates them), takes them
 * offline (a presence event) and writes `account.deactivated` (scope: the
 * user), on which parley-wsd closes their sockets with 4001 at once.
 * Reactivation lets them sign in again (old sessions stay revoked). Doing
 * what is already so changes nothing and logs nothing. *out (may be NULL)
 * receives the admin view of the user (caller frees). Returns 0 or -1
 * (`err`: 403 not an admin, or deactivating oneself; 404 no such user;
 * 409 the last server admin).
 */
int pl_admin_set_active(struct pl_db *db, int64_t actor_id, int64_t target, bool active,
			cJSON **out, struct pl_err *err);

/*
 * pl_admin_set_server_admin: grants (`grant`) or revokes the server admin
 * role of `target`. Revoking the last live server admin is refused (409).
 * *out (may be NULL) as pl_admin_set_active. Returns 0 or -1 (`err`: 403,
 * 404, 409).
 */
int pl_admin_set_server_admin(struct pl_db *db, int64_t actor_id, int64_t target, bool grant,
			      cJSON **out, struct pl_err *err);

/* pl_admin_delete_message: deletes message `id` wherever it is (the same
 * tombstone and message.deleted event as its author's delete). Returns 0
 * or -1 (`err`: 403, 404). */
int pl_admin_delete_message(struct pl_db *db, int64_t actor_id, int64_t id, struct pl_err *err);

/* pl_admin_delete_channel: deletes channel `id` of any kind with its
 * messages (channel.deleted as for its owner's delete). Returns 0 or -1
 * (`err`: 403, 404). */
int pl_admin_delete_channel(struct pl_db *db, int64_t actor_id, int64_t id, struct pl_err *err);

/* pl_admin_archive_channel: archives or unarchives channel `id`
 * (channels.h pl_channel_archive_locked); *out (may be NULL) receives the
 * channel object as the actor sees it. Returns 0 or -1 (`err`: 403, 404). */
int pl_admin_archive_channel(struct pl_db *db, int64_t actor_id, int64_t id, bool archive,
			     cJSON **out, struct pl_err *err);

/* pl_admin_invite_create: a new invite (invites.h) with the token in
 * "token" of *out (shown this once). Returns 0 or -1 (`err`: 400, 403). */
int pl_admin_invite_create(struct pl_db *db, int64_t actor_id, int64_t max_uses,
			   int64_t expires_in, cJSON **out, struct pl_err *err);

/* pl_admin_invite_revoke: revokes invite `id`. Returns 0 or -1 (`err`:
 * 403, 404). */
int pl_admin_invite_revoke(struct pl_db *db, int64_t actor_id, int64_t id, struct pl_err *err);

/* pl_admin_invites / pl_admin_audit: pl_invite_list / pl_audit_list for a
 * server admin. Return 0 or -1 (`err`: 400, 403). */
int pl_admin_invites(struct pl_db *db, int64_t actor_id, int limit, int64_t before,
		     cJSON **out, struct pl_err *err);
int pl_admin_audit(struct pl_db *db, int64_t actor_id, int limit, int64_t before,
		   cJSON **out, struct pl_err *err);

#endif
