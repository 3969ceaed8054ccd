/*
 * channel_common.h — what the channel modules share (channels.c,
 * members.c, direct.c, read_markers.c): adding a membership row, the
 * channel.created event, small statement runners. Internal to those
 * files: everyone else uses channels.h, members.h, direct.h and
 * read_markers.h.
 */
#ifndef PL_CHANNEL_COMMON_H
#define PL_CHANNEL_COMMON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "events.h"

/*
 * pl_chan_exec: binds `a` to ?1 (and `b` to ?2 when the statement has a
 * second parameter) and runs table entry `q` to completion; rows, if any,
 * are ignored. Returns 0 or -1 (`err` 500).
 */
int pl_chan_exec(struct pl_db *db, const struct pl_sql *q, int64_t a, int64_t b,
		 struct pl_err *err);

/*
 * pl_chan_query_id: the first column of the first row of table entry `q`
 * with `a` bound to ?1; `dflt` when there is no row or on error (logged).
 */
int64_t pl_chan_query_id(struct pl_db *db, const struct pl_sql *q, int64_t a, int64_t dflt);

/*
 * pl_chan_event: appends one event of `type` and `scope` for `channel_id`
 * and subject `user_id`, inside the caller's write transaction. The
 * payload is {"<key>": item} when both are given (`item` borrowed), else
 * {"user_id": user_id}. Returns 0 or -1 (`err` 500).
 */
int pl_chan_event(struct pl_db *db, const char *type, enum pl_event_scope scope,
		  int64_t channel_id, int64_t user_id, const char *key, cJSON *item,
		  struct pl_err *err);

/* pl_chan_user_exists: whether `user_id` names a live (not erased)
 * account. False on error. */
bool pl_chan_user_exists(struct pl_db *db, int64_t user_id);

/*
 * pl_chan_add_member_locked: adds `user_id` to `channel_id` with `role`
 * ("owner", "admin", "member"; borrowed) unless already a member, inside
 * the caller's write transaction, and when `announce` writes its
 * member.joined event. *added says whether a row was added. Returns 0 or
 * -1 (`err` 500).
 */
int pl_chan_add_member_locked(struct pl_db *db, int64_t channel_id, int64_t user_id,
			      const char *role, bool announce, bool *added, struct pl_err *err);

/*
 * pl_chan_ref: the payload item of a channel.* event, {"id"} plus "kind"
 * when `kind` (borrowed) is not NULL: channel.created and channel.updated
 * are rendered from the channel's row when delivered (event_view.h); a
 * deleted channel's never are, and nothing of its name or topic is kept.
 * Returns a new object (caller frees).
 */
cJSON *pl_chan_ref(int64_t channel_id, const char *kind);

/*
 * pl_chan_announce_created: writes channel.created for `channel_id`
 * (it stands for the initial members' joins too), to everyone when
 * `public`, else to its members, inside the caller's write transaction.
 * Returns 0 or -1 (`err` 500).
 */
int pl_chan_announce_created(struct pl_db *db, int64_t user_id, int64_t channel_id, bool public,
			     struct pl_err *err);

#endif
