/*
 * read_markers.h — each member's read marker in a channel: the newest
 * message they have read, which only moves forward. Unread counts are
 * computed from it by the channel queries (channels.h).
 */
#ifndef PL_READ_MARKERS_H
#define PL_READ_MARKERS_H

#include <stdint.h>
#include "db.h"
#include "err.h"

/*
 * pl_channel_mark_read: moves `user_id`'s read marker in `channel_id` to
 * `message_id` (a message of that channel: 400 otherwise) if that is
 * forward; never back. The caller must be a member (404 not visible, 403
 * a public channel not joined). Writes a `read` event to the channel
 * when the marker moved, and in the same transaction marks the user's
 * mentions and DMs of this channel up to `message_id` read
 * (notifications.h: a `notification.read` event to the user's devices).
 * Returns 0 or -1 (`err`: 400, 403, 404, 500).
 */
int pl_channel_mark_read(struct pl_db *db, int64_t user_id, int64_t channel_id,
			 int64_t message_id, struct pl_err *err);

#endif
