/*
 * channels.h — channels and membership: create, list, change, delete,
 * members and roles, direct messages, read markers, typing. Who may do
 * what is decided by authz.h.
 */
#ifndef PL_CHANNELS_H
#define PL_CHANNELS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "authz.h"
#include "db.h"
#include "err.h"

#define PL_CHANNEL_NAME_MAX 80             /* code points, after trimming */
#define PL_CHANNEL_TOPIC_MAX 250           /* code points */
#define PL_CHANNEL_INITIAL_MEMBERS_MAX 100 /* "members" at creation */

struct pl_channel_new {
	const char *name;      /* 1-80 code points after trimming */
	const char *kind;      /* "public" (default when NULL) or "private" */
	const char *topic;     /* optional, <= 250 code points */
	const int64_t *members;/* optional extra member ids */
	size_t nmembers;       /* <= 100 */
};

/*
 * pl_channel_create: creates a channel owned by `user_id` with the extra
 * members, writing channel.created and member.joined events in the same
 * transaction. *out receives the channel object as the creator sees it
 * (caller frees). Returns 0, or -1 with `err`: 400 invalid, 409 name
 * taken (case-insensitive, public and private share one namespace).
 */
int pl_channel_create(struct pl_db *db, int64_t user_id, const struct pl_channel_new *in,
		      cJSON **out, struct pl_err *err);

/*
 * pl_channel_join_locked: makes `user_id` a member of public channel
 * `channel_id` if not already, with its member.joined event. Must run
 * inside a write transaction (pl_db_begin). Sets *joined when a row was
 * added. Returns 0 or -1 (`err`).
 */
int pl_channel_join_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			   bool *joined, struct pl_err *err);

/*
 * pl_channel_json: the channel object of `channel_id` as `user_id` sees it
 * (role, unread_count, last_message_id), after pl_authz_channel READ.
 * Returns a new object (caller frees) or NULL with `err` (404).
 */
cJSON *pl_channel_json(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/*
 * pl_channel_public_json: the channel object of `channel_id` as nobody in
 * particular sees it ("role" null, "unread_count" 0), with no access
 * check: for event payloads, whose audience is decided elsewhere
 * (events.h). Returns a new object (caller frees) or NULL with `err`
 * (404 when there is no such channel, 500).
 */
cJSON *pl_channel_public_json(struct pl_db *db, int64_t channel_id, struct pl_err *err);

/*
 * pl_channel_list: every public channel plus every channel `user_id` is a
 * member of, as an array of channel objects with unread counts, in one
 * query. Returns a new array (caller frees) or NULL with `err`.
 */
cJSON *pl_channel_list(struct pl_db *db, int64_t user_id, struct pl_err *err);

/*
 * pl_channel_update: renames and/or re-topics `channel_id` (owner/admin:
 * 403 otherwise; dm channels cannot be changed: 403). `name` and `topic`
 * (borrowed, either may be NULL) follow pl_channel_create's rules. Writes
 * channel.updated. *out receives the channel object (caller frees).
 * Returns 0, or -1 with `err`: 400, 403, 404, 409 name taken.
 */
int pl_channel_update(struct pl_db *db, int64_t user_id, int64_t channel_id,
		      const char *name, const char *topic, cJSON **out, struct pl_err *err);

/*
 * pl_channel_delete: deletes `channel_id` with its messages, reactions,
 * notifications and memberships (owner only: 403). Writes channel.deleted:
 * to everyone for a public channel, else one USER-scoped copy per member
 * (their membership rows go with the channel). Returns 0 or -1 (`err`).
 */
int pl_channel_delete(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/*
 * pl_channel_members: {"members":[{"user","role","joined_at"}]} of
 * `channel_id`, oldest member first, after pl_authz_channel READ.
 * *out is new (caller frees). Returns 0 or -1 (`err` 404).
 */
int pl_channel_members(struct pl_db *db, int64_t user_id, int64_t channel_id,
		       cJSON **out, struct pl_err *err);

/*
 * pl_channel_member_set: adds `target` to `channel_id` with `role`
 * ("member" when NULL, "admin", or "owner"), or changes the role of a
 * member already there. Needs owner/admin (403); only an owner may grant
 * or take away "owner" (403); dm membership is fixed (403). Writes
 * member.joined (new member) or member.updated (role change).
 * *created says which; *out receives {"user","role","joined_at"}.
 * Returns 0, or -1 with `err`: 400 (bad role, unknown user), 403, 404,
 * 409 (the change would leave the channel without an owner).
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
 * dm membership is fixed (403). Writes member.left to the channel and a
 * USER-scoped copy to `target`. Returns 0 or -1 (`err`: 403, 404, 409).
 */
int pl_channel_member_remove(struct pl_db *db, int64_t user_id, int64_t channel_id,
			     int64_t target, struct pl_err *err);

/*
 * pl_channel_mark_read: moves `user_id`'s read marker in `channel_id` to
 * `message_id` (a message of that channel: 400 otherwise) if that is
 * forward; never back. The caller must be a member (404 not visible, 403
 * a public channel not joined). Writes a USER-scoped `read` event when the
 * marker moved. Returns 0 or -1 (`err`).
 */
int pl_channel_mark_read(struct pl_db *db, int64_t user_id, int64_t channel_id,
			 int64_t message_id, struct pl_err *err);

/*
 * pl_channel_dm: finds or creates the dm channel of exactly `user_id` plus
 * the `n` users in `others` (1-8 distinct other users after dropping
 * duplicates and the caller; each must exist: 400). The set's canonical key
 * (sorted ids) is unique in the database, so concurrent calls cannot
 * create two. *created says whether it is new; *out receives the channel
 * object (caller frees). Returns 0 or -1 (`err` 400).
 */
int pl_channel_dm(struct pl_db *db, int64_t user_id, const int64_t *others, size_t n,
		  bool *created, cJSON **out, struct pl_err *err);

#endif
