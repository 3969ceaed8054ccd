/*
 * delivery.h — getting events to sockets: the per-socket outgoing queue
 * (bounded; a socket is never waited for), the live pass that reads new
 * events and fans them out, the catch-up reads of a socket opened with
 * ?since= or left behind, and the timers that drive them (event poll,
 * stall check, presence refresh). See wsd.h for the cursor and queue rules.
 */
#ifndef WSD_DELIVERY_H
#define WSD_DELIVERY_H

#include <cjson/cJSON.h>
#include "wsd.h"

/*
 * wsd_delivery_init: sets up `w`'s delivery state (event buffers, live
 * cursor at the current last event, data_version). `w->ctx` must be open.
 * Returns 0, or -1 with `err`. wsd_delivery_release frees what it set up.
 */
int wsd_delivery_init(struct wsd *w, struct pl_err *err);
void wsd_delivery_release(struct wsd *w);

/* wsd_timers_start: arms the event poll (every cfg.ws_poll_ms) and the
 * housekeeping timer (stalled sockets, presence refresh); `w->lws` must
 * exist. The timers re-arm themselves. */
void wsd_timers_start(struct wsd *w);

/*
 * wsd_deliver: the live pass, now: reads the next batch of events after
 * w->cursor and queues each on every socket (not catching up) whose user
 * may see it; a full batch leaves w->dirty set so the next poll tick goes
 * on.
 * Run it after this process committed something (its own commits do not
 * change PRAGMA data_version for its connection).
 */
void wsd_deliver(struct wsd *w);

/*
 * wsd_catch_up: replays history for a socket opened with ?since= or left
 * behind by the live pass: reads events after c->cursor while its queue is
 * short, and turns it into a live socket once a read comes back short (it
 * has reached the head).
 */
void wsd_catch_up(struct wsd *w, struct wsd_conn *c);

/* wsd_conn_register / wsd_conn_unregister: put `c` on / take it off
 * w->conns (registering twice or unregistering an unregistered socket is a
 * no-op). */
void wsd_conn_register(struct wsd *w, struct wsd_conn *c);
void wsd_conn_unregister(struct wsd *w, struct wsd_conn *c);

/* wsd_user_sockets: how many sockets on w->conns belong to `user_id`,
 * leaving out those already closing or dropped. */
size_t wsd_user_sockets(const struct wsd *w, int64_t user_id);

/*
 * wsd_conn_close: closes `c` with WebSocket close code `code` (e.g.
 * WSD_CLOSE_REVOKED) at its next WRITEABLE, before any frame: its queue is
 * emptied and nothing is written but the close frame (protocol.c).
 */
void wsd_conn_close(struct wsd_conn *c, int code);

/*
 * wsd_changed_on_disk: an inotify wake-up (the -wal file was written):
 * runs a live pass if PRAGMA data_version moved, else re-checks 1 ms later
 * (the write may precede the commit becoming visible).
 */
void wsd_changed_on_disk(struct wsd *w);

/*
 * wsd_inotify_start: watches the database's -wal file (cfg.ws_inotify) and
 * adds the inotify fd to the loop (protocol "parley-wal", whose callback is
 * wsd_wal_callback); on failure logs and keeps polling. `w->lws` must exist.
 */
void wsd_inotify_start(struct wsd *w);
int wsd_wal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		     void *in, size_t len);

/*
 * wsd_listen_start: on PostgreSQL, opens a LISTEN connection
 * (pl_db_listen, db.h) and adds a dup of its socket to the loop (protocol
 * "parley-wal" too: wsd_wal_callback tells them apart), so a commit on any
 * machine wakes this daemon; a lost connection is reopened every
 * WSD_LISTEN_RETRY_MS while the poll goes on. No-op on SQLite.
 */
void wsd_listen_start(struct wsd *w);

/* wsd_listen_stop: closes the listener (at exit). */
void wsd_listen_stop(struct wsd *w);

/* wsd_presence_touch: marks `user_id` as online now (logs failures) and
 * schedules a live pass for whatever event that wrote. */
void wsd_presence_touch(struct wsd *w, int64_t user_id);

/*
 * wsd_frame_new: serializes `v` (borrowed) into a new frame holding one
 * reference, which the caller drops with wsd_frame_unref (NULL is a no-op).
 */
struct wsd_frame *wsd_frame_new(const cJSON *v);
void wsd_frame_unref(struct wsd_frame *f);

/*
 * wsd_queue: appends `f` to c's outgoing queue (taking a reference of its
 * own) and asks for a WRITEABLE callback. A socket whose queue would pass
 * WSD_QUEUE_MAX_FRAMES or WSD_QUEUE_MAX_BYTES is dropped instead: its queue
 * is emptied and the connection killed asynchronously (events never get
 * there: they stop at WSD_QUEUE_SOFT_*). Dead and closing sockets ignore
 * new frames.
 * wsd_queue_json serializes `v` (borrowed) and queues it.
 */
void wsd_queue(struct wsd_conn *c, struct wsd_frame *f);
void wsd_queue_json(struct wsd_conn *c, const cJSON *v);

/* wsd_queue_pop: removes the oldest frame and returns it (the caller now
 * owns that reference), or NULL when the queue is empty. */
struct wsd_frame *wsd_queue_pop(struct wsd_conn *c);

/* wsd_heard: records that c's peer sent a frame or a pong now (the
 * keep-alive of the housekeeping tick counts silence from here). */
void wsd_heard(struct wsd_conn *c);

/* wsd_queue_clear: drops every queued frame. */
void wsd_queue_clear(struct wsd_conn *c);

#endif
