/*
 * notifications.h — per-user notifications: "mention" (a message naming
 * the user as @username while they are a member of its channel), "dm"
 * (a message in a dm channel, for its other members) and "reply" (a reply
 * in a thread the user follows, threads.h; an addition to API.md). Object:
 * {"id","kind","message","created_at","read"}.
 */
#ifndef PL_NOTIFICATIONS_H
#define PL_NOTIFICATIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_MENTIONS_MAX 50   /* distinct @names looked at per message */

/*
 * pl_notify_message_locked: creates the notifications a newly stored
 * message `msg` (its message object, borrowed) causes in a channel of
 * `kind` ("public", "private", "dm"), each with a USER-scoped
 * `notification` event. Never notifies the author; at most one
 * notification per user per message (dm wins over mention). Must run
 * inside the message's write transaction. Returns 0 or -1 (`err` 500).
 */
int pl_notify_message_locked(struct pl_db *db, const cJSON *msg, const char *kind, struct pl_err *err);

/*
 * pl_notify_thread_locked: a "reply" notification of the newly stored
 * reply `msg` (borrowed) for each follower of the thread of message
 * `root_id` (threads.h) other than its author who may read its channel
 * now (pl_authz_channel READ), unless the message already notified them
 * (mention, dm). Must run inside the reply's write transaction. Returns 0
 * or -1 (`err` 500).
 */
int pl_notify_thread_locked(struct pl_db *db, const cJSON *msg, int64_t root_id,
			    struct pl_err *err);

/*
 * pl_mention_next: finds the next "@name" in `s` from *pos (a byte
 * offset, advanced past it): '@' at the start or after a character that
 * cannot be part of a username, then 1-32 of [A-Za-z0-9_.-] with trailing
 * '.' and '-' dropped (sentence punctuation). Copies the name into `out`
 * (33 bytes). Returns true when one was found.
 */
bool pl_mention_next(const char *s, size_t *pos, char out[33]);

/*
 * pl_notifications_list: `user_id`'s notifications, newest first, at most
 * `limit` (1-200), only unread ones when `unread_only`; notifications of
 * messages in channels the user can no longer read are left out. *out
 * receives {"notifications":[...]} (caller frees). Returns 0 or -1.
 */
int pl_notifications_list(struct pl_db *db, int64_t user_id, bool unread_only, int limit,
			  cJSON **out, struct pl_err *err);

/*
 * pl_notification_json: notification `id` of `user_id` as
 * pl_notifications_list shows it, or NULL when it is not theirs, is gone,
 * or its message is in a channel they can no longer read (`err` 404), or
 * on a database error (500). Returns a new object (caller frees).
 */
cJSON *pl_notification_json(struct pl_db *db, int64_t user_id, int64_t id, struct pl_err *err);

/*
 * pl_notifications_read: marks `user_id`'s notifications with the `n`
 * ids read, or all of them when `all`, in one transaction. Ids that are
 * not the user's are ignored (no error, nothing revealed). When any
 * changed, writes a USER-scoped `notification.read` event {"ids":[...]}
 * naming exactly those (the user's other devices clear them). Returns 0
 * or -1 (`err` 500).
 */
int pl_notifications_read(struct pl_db *db, int64_t user_id, const int64_t *ids, size_t n,
			  bool all, struct pl_err *err);

/*
 * pl_notifications_read_through_locked: marks read `user_id`'s unread
 * notifications of messages in `channel_id` with ids up to `message_id`
 * (what a read marker moved there has read, read_markers.h), with one
 * `notification.read` event as above when any changed. Must run inside
 * the caller's write transaction (the read marker's). Returns 0 or -1
 * (`err` 500).
 */
int pl_notifications_read_through_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
					 int64_t message_id, struct pl_err *err);

#endif
