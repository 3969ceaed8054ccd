/*
 * members.h — channel membership: joining, the member list, adding
 * members and changing roles, leaving and removal, and an account's
 * departure from every channel. Who may do what is decided by authz.h;
 * member objects are rendered by member_view.h.
 */
#ifndef PL_MEMBERS_H
#define PL_MEMBERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

/*
 * pl_channel_join_locked: makes `user_id` a member of public channel
 * `channel_id` if not already, with its member.joined event. Must run
 * inside a write transaction (pl_db_begin). Sets *joined when a row was
 * added. Returns 0 or -1 (`err`: 404 no such channel, or not public).
 */
int pl_channel_join_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			   bool *joined, struct pl_err *err);

/*
 * pl_channel_members: {"members":[{"user","role","joined_at"}]} of
 * `channel_id`, oldest member first, after pl_authz_channel READ.
 * *out is new (caller frees; NULL on error). Returns 0 or -1 (`err` 404,
 * 500).
 */
int pl_channel_members(struct pl_db *db, int64_t user_id, int64_t channel_id,
		       cJSON **out, struct pl_err *err);

/*
 * pl_channel_member_set: adds `target` to `channel_id` with `role`
 * (borrowed: "member" when NULL, "admin", or "owner"), or changes the
 * role of a member already there. Needs owner/admin (403); only an owner
 * may grant or take away "owner" (403); dm membership is fixed (403).
 * Writes member.joined (new member) or member.updated (role change).
 * *created says which; *out receives {"user","role","joined_at"} (caller
 * frees; NULL on error). Returns 0, or -1 with `err`: 400 (bad role,
 * unknown user), 403, 404, 409 (the change would leave the channel
 * without an owner).
 */
int pl_channel_member_set(struct pl_db *db, int64_t user_id, int64_t channel_id, int64_t target,
			  const char *role, bool *created, cJSON **out, struct pl_err *err);

/*
 * pl_channel_an_owner: the id of one owner of `channel_id` (the longest-
 * standing) in *owner, for operator tools acting with the channel's own
 * authority. Returns 0, or -1 with `err` = 404 (no such channel, or no
 * owner left), 500.
 */
int pl_channel_an_owner(struct pl_db *db, int64_t channel_id, int64_t *owner, struct pl_err *err);

/*
 * pl_channel_leave_all_locked: for an account being erased — `user_id`
 * leaves every channel it belongs to (dm ones included: its messages stay,
 * as from a deleted user), inside the caller's write transaction. Where it
 * was the last owner and anyone remains, the longest-standing admin (else
 * the longest-standing member) becomes owner (member.updated). Writes
 * member.left to each channel and a USER-scoped copy. Returns the number
 * of channels left, or -1 with `err` (500).
 */
int pl_channel_leave_all_locked(struct pl_db *db, int64_t user_id, struct pl_err *err);

/*
 * pl_channel_member_remove: `target` leaves (target == user_id) or is
 * removed by an owner/admin (403 otherwise; admins cannot remove owners or
 * other admins). The last owner cannot leave while anyone else remains:
 * 409 until ownership is handed over (pl_channel_member_set "owner").
 * dm membership is fixed (403). Ends the target's presence in the
 * channel. Writes member.left to the channel and a USER-scoped copy to
 * `target`. Returns 0 or -1 (`err`: 403, 404, 409, 500).
 */
int pl_channel_member_remove(struct pl_db *db, int64_t user_id, int64_t channel_id,
			     int64_t target, struct pl_err *err);

#endif
