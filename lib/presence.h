/*
 * presence.h — who is online. A user is online while the ws-daemon holds
 * a socket for them (it refreshes last_seen) or they sent a heartbeat or
 * presence call within the configured window (presence_window seconds).
 * Rows: (user_id, channel_id) with channel_id 0 meaning "no channel".
 */
#ifndef PL_PRESENCE_H
#define PL_PRESENCE_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

/*
 * pl_presence_join: marks `user_id` present in `channel_id` now; joins a
 * public channel the user is not yet a member of (so that clients of the
 * reference design receive its messages); writes a presence event.
 * Returns 0 or -1 (`err`: 404 channel not visible).
 */
int pl_presence_join(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/* pl_presence_leave: removes presence in `channel_id` (0: everywhere) and
 * writes a presence event — only when there was such a presence: leaving
 * where the caller was not present writes nothing. Returns 0 or -1
 * (`err`). */
int pl_presence_leave(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/*
 * pl_presence_touch: refreshes `user_id`'s last_seen (channel 0) with
 * `status` ("online", "away", "dnd"; NULL keeps the current one), in its
 * own write transaction; a user who was offline becomes online with one
 * `presence` event (transitions only: not one per heartbeat). Used by the
 * heartbeat endpoint and by the ws-daemon when a socket opens.
 * Returns 0 or -1 (`err`: 400 bad status).
 */
int pl_presence_touch(struct pl_db *db, int64_t user_id, const char *status, struct pl_err *err);

/*
 * pl_presence_touch_many: pl_presence_touch(status NULL) for `n` user ids
 * (borrowed array) in one write transaction: the ws-daemon's periodic
 * refresh of users holding a socket. With `node` (the daemon's name, see
 * pl_presence_socket_gone; NULL: none) each user's row in
 * presence_sockets is refreshed too, and rows nobody refreshed for
 * PL_PRESENCE_SOCKETS_STALE_MS (daemons that died) are deleted. Returns 0
 * or -1 (`err`).
 */
#define PL_PRESENCE_SOCKETS_STALE_MS (24LL * 3600 * 1000)

int pl_presence_touch_many(struct pl_db *db, const char *node, const int64_t *user_ids, size_t n,
			   struct pl_err *err);

/*
 * pl_presence_socket_gone: `user_id` closed their last socket on daemon
 * `node`: its presence_sockets row goes, and unless another daemon
 * refreshed a row of theirs within `window_s` (they still hold a socket
 * there), their last_seen moves back so that the sweep
 * (pl_presence_sweep with the same `window_s`) finds them offline
 * `grace_s` seconds from now unless something touches them first (a new
 * socket, a heartbeat). Nothing moves when grace_s >= window_s or their
 * last_seen is already older. Issue 17: a closed window no longer shows
 * online for the whole window. Returns 0 or -1 (`err`).
 */
int pl_presence_socket_gone(struct pl_db *db, const char *node, int64_t user_id, int window_s,
			    int grace_s, struct pl_err *err);

/*
 * pl_presence_node_gone: daemon `node` is stopping: its presence_sockets
 * rows go (their users' presence is left to the window: they may be
 * reconnecting to another daemon). Returns 0 or -1 (`err`).
 */
int pl_presence_node_gone(struct pl_db *db, const char *node, struct pl_err *err);

/*
 * pl_presence_sweep: every user announced online whose last_seen is older
 * than `window_s` seconds becomes offline, with one `presence` event each,
 * decided inside one write transaction (two daemons sweeping at once
 * announce each transition once). *changed (may be NULL) receives the
 * count. Returns 0 or -1 (`err`).
 */
int pl_presence_sweep(struct pl_db *db, int window_s, int *changed, struct pl_err *err);

/*
 * pl_presence_list: users seen within `window_s` seconds, filtered to
 * `channel_id` when non-zero (which must be readable by `user_id`), as
 * {"online_users":[{"user_id","username","channel_id","online","status",
 * "last_seen"}]}. *out is new (caller frees). Returns 0 or -1 (`err`).
 */
int pl_presence_list(struct pl_db *db, int64_t user_id, int64_t channel_id, int window_s,
		     cJSON **out, struct pl_err *err);

/*
 * pl_presence_typing: announces that `user_id` is typing in `channel_id`
 * with a `typing` event to the channel's members. The caller must be a
 * member (404 otherwise, as for any channel it may not post in). Typing is
 * ephemeral: readers deliver it live and never replay it on resume.
 * Returns 0 or -1 (`err`).
 */
int pl_presence_typing(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/*
 * pl_presence_offline_locked: inside the caller's open transaction, forgets
 * every presence row of `user_id` and, when they were announced online,
 * announces them offline (one `presence` event): a deactivated account
 * goes offline at once, not after presence_window. Returns 0 or -1
 * (`err`).
 */
int pl_presence_offline_locked(struct pl_db *db, int64_t user_id, struct pl_err *err);

#endif
