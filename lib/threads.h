/*
 * threads.h — threads (issue 17, API.md v2): a message and its replies,
 * the messages whose reply_to names it. The root carries reply_count (its
 * replies not deleted) and last_reply_at, kept in the transaction that
 * posts or deletes a reply (schema 017). Each change writes a
 * channel-scoped `thread.updated` event {"message":{...the root...}}
 * (rendered when delivered, like message.*), so whoever sees the channel
 * sees the counts move.
 *
 * Following: posting a reply makes its author and the root's author
 * follow the thread, unless they unfollowed it before; PUT/DELETE
 * /api/messages/{id}/follow set it by hand. A reply notifies the followers
 * who may read its channel (notifications.h, kind "reply").
 */
#ifndef PL_THREADS_H
#define PL_THREADS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

/*
 * pl_thread_reply_locked: a reply `reply` (its message object, borrowed:
 * "id","user_id","channel_id" are read) to message `root_id`
 * was just stored: counts it on the root, makes the reply's author and the
 * root's author follow (unless they unfollowed), writes `thread.updated`
 * and notifies the other followers. Must run inside the reply's write
 * transaction, after pl_notify_message_locked (a mention or dm
 * notification of the same message wins). Returns 0 or -1 (`err` 500).
 */
int pl_thread_reply_locked(struct pl_db *db, const cJSON *reply, int64_t root_id,
			   struct pl_err *err);

/*
 * pl_thread_reply_gone_locked: message `id` was just deleted by `user_id`
 * (inside that transaction); when it was a reply, recounts its root and
 * writes `thread.updated`. Returns 0 or -1 (`err` 500).
 */
int pl_thread_reply_gone_locked(struct pl_db *db, int64_t user_id, int64_t id,
				struct pl_err *err);

/*
 * pl_thread_replies: the replies to message `root_id` as `user_id` sees
 * them (pl_authz_message READ: 404 for a message they cannot read), oldest
 * first (API.md): with `before` (a message id; 0 none) the newest `limit`
 * (1-200) below it, otherwise the oldest `limit` above `after` (0: from
 * the first). *out receives the array (caller frees). Returns 0 or -1
 * (`err` 400, 404, 500).
 */
int pl_thread_replies(struct pl_db *db, int64_t user_id, int64_t root_id, int64_t before,
		      int64_t after, int limit, cJSON **out, struct pl_err *err);

/*
 * pl_thread_follow: `user_id` follows (`on`) or unfollows the thread of
 * message `root_id`, idempotently; anyone who may read the message may.
 * Returns 0 or -1 (`err` 404, 500).
 */
int pl_thread_follow(struct pl_db *db, int64_t user_id, int64_t root_id, bool on,
		     struct pl_err *err);

/*
 * pl_thread_following: whether `user_id` follows the thread of message
 * `root_id` (*out), for someone who may read it. Returns 0 or -1 (`err`
 * 404, 500).
 */
int pl_thread_following(struct pl_db *db, int64_t user_id, int64_t root_id, bool *out,
			struct pl_err *err);

#endif
