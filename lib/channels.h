/*
 * channels.h — channels themselves: create, list, get, change, delete.
 * Who may do what is decided by authz.h. Membership (join, leave, roles,
 * the member list) is members.h, included here for the callers that join
 * a channel as part of another write; direct messages are direct.h, read
 * markers read_markers.h.
 */
#ifndef PL_CHANNELS_H
#define PL_CHANNELS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "members.h"

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
 * members, writing its channel.created event (which stands for the
 * initial joins) in the same transaction. `in` is borrowed. *out receives
 * the channel object as the creator sees it (caller frees; NULL on
 * error). Returns 0, or -1 with `err`: 400 invalid (also an unknown
 * member), 409 name taken (case-insensitive, public and private share one
 * namespace).
 */
int pl_channel_create(struct pl_db *db, int64_t user_id, const struct pl_channel_new *in,
		      cJSON **out, struct pl_err *err);

/*
 * pl_channel_json: the channel object of `channel_id` as `user_id` sees it
 * (role, unread_count, last_message_id), after pl_authz_channel READ.
 * Returns a new object (caller frees) or NULL with `err` (404, 500).
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
 * query. Returns a new array (caller frees) or NULL with `err` (500).
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
 * notifications, memberships and presence rows (owner only: 403). Writes
 * channel.deleted: to everyone for a public channel, else one USER-scoped
 * copy per member (their membership rows go with the channel). Returns 0
 * or -1 (`err`: 403, 404, 500).
 */
int pl_channel_delete(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/*
 * pl_channel_delete_locked: pl_channel_delete's writes (the
 * channel.deleted events, the rows) for `channel_id` of `kind` ("public",
 * "private", "dm") by `user_id`, inside the caller's open transaction,
 * without its owner check: the caller decided (a server admin:
 * pl_authz_channel_admin). Returns 0 or -1 (`err` 500).
 */
int pl_channel_delete_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			     const char *kind, struct pl_err *err);

/*
 * pl_channel_archive_locked: archives (`archive` true) or unarchives
 * `channel_id` of `kind` inside the caller's open transaction, by
 * `user_id`, whom the caller authorized (pl_authz_channel_admin). An
 * archived channel stays readable to whoever could read it; posts, edits,
 * reactions and joins get 403 (authz.h). A change writes channel.updated
 * (to everyone for a public channel, else to its members); *changed is
 * false when the channel already was so (nothing written). Returns 0 or
 * -1 (`err` 500).
 */
int pl_channel_archive_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			      const char *kind, bool archive, bool *changed, struct pl_err *err);

#endif
