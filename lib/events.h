/*
 * events.h — the events table: every change a client may care about is a
 * row written in the same transaction as the change (API.md "Events"),
 * with a strictly increasing id (AUTOINCREMENT: never reused). Readers
 * (the ws-daemon, the long-poll endpoint) fetch rows after a cursor and ask
 * event_view.h what a user gets of each (who: authz.h).
 */
#ifndef PL_EVENTS_H
#define PL_EVENTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

/* Who receives an event. */
enum pl_event_scope {
	PL_SCOPE_CHANNEL = 0, /* members of channel_id */
	PL_SCOPE_USER = 1,    /* only user_id */
	PL_SCOPE_ALL = 2,     /* every signed-in user (public channel.created) */
	PL_SCOPE_PEERS = 3    /* users sharing a channel with user_id */
};

struct pl_event {
	int64_t id;
	char type[32];             /* "message.created", ... */
	enum pl_event_scope scope;
	int64_t channel_id;        /* 0 when none */
	int64_t user_id;           /* subject or recipient, 0 when none */
	int64_t created_at;        /* ms since epoch */
	char *payload;             /* owned JSON text: the whole event object
				      without event_id; free with pl_event_release */
};

/*
 * pl_event_append: writes one event row; must be called inside the write
 * transaction of the change it announces. `payload` (borrowed) is the event
 * object without "type"/"event_id"/"channel_id": those are added when the
 * event is rendered. *id (may be NULL) receives the new event id. Returns
 * 0 or -1 (`err` = 500).
 */
int pl_event_append(struct pl_db *db, const char *type, enum pl_event_scope scope,
		    int64_t channel_id, int64_t user_id, const cJSON *payload,
		    int64_t *id, struct pl_err *err);

/*
 * pl_events_after: reads up to `max` events with id > `after_id`, in id
 * order, into `out` (caller-provided array of `max`). *n receives the
 * count. Each filled event owns its payload: call pl_event_release on
 * every one. Returns 0 or -1 (`err`).
 */
int pl_events_after(struct pl_db *db, int64_t after_id, size_t max,
		    struct pl_event *out, size_t *n, struct pl_err *err);

/* pl_event_release: frees what `ev` owns (not `ev` itself). */
void pl_event_release(struct pl_event *ev);

/* pl_event_last_id: the highest event id ever written (still stored or
 * pruned), 0 when none, -1 on error. */
int64_t pl_event_last_id(struct pl_db *db);

/*
 * pl_event_since_pruned: whether a reader that has seen every event up to
 * `since` missed some that retention already deleted (then it must reload
 * by REST: "resync_required"). False on a database error (logged).
 */
bool pl_event_since_pruned(struct pl_db *db, int64_t since);

/*
 * pl_events_prune: deletes events created before `before_ms` (ms since
 * epoch), at most `max` rows per call (one short transaction). *deleted
 * (may be NULL) receives the count. Ids are never reused (AUTOINCREMENT).
 * Returns 0 or -1 (`err`).
 */
int pl_events_prune(struct pl_db *db, int64_t before_ms, int max, int *deleted,
		    struct pl_err *err);

/* pl_event_ephemeral: events delivered live only, never replayed on resume
 * or returned by a long poll once stale (typing). */
bool pl_event_ephemeral(const struct pl_event *ev);

#define PL_EVENT_TYPING_STALE_MS 10000 /* a long poll skips typing older than this */

/*
 * pl_event_render: the wire object {"type","event_id","channel_id"?,...
 * payload} for `ev` as stored. Payloads that name a message, notification
 * or channel by id are completed from the current rows by event_view.h:
 * deliver through that, not this. Returns a new object (caller frees) or
 * NULL when the stored payload is unreadable.
 */
cJSON *pl_event_render(const struct pl_event *ev);

#endif
