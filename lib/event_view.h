/*
 * event_view.h — what a user is shown of an event, decided when it is
 * delivered (live, replayed after ?since=, or answered to a long poll),
 * never when it was written. The one place both transports ask.
 *
 * Rules (docs/DECISIONS.md, "Replay"):
 * - Who: pl_event_visible / pl_event_audience (authz.h) at delivery.
 * - What: message.*, notification, channel.created and channel.updated
 *   events keep ids only; they are rendered from the current rows, as
 *   GET /api/messages/{id}, GET /api/notifications and the channel object
 *   show them now. So an edit or a deletion shows on replay too, a
 *   notification of a channel the user left is never replayed, and an event
 *   whose subject is gone (a deleted channel and its messages) is shown to
 *   nobody. channel.deleted carries only the channel's id and kind.
 * - A presence event names a channel only to that channel's members;
 *   everyone else who shares a channel with the user gets it without.
 *
 * Written once per event, read per user: a view renders each variant at
 * most once, so one event fans out to many sockets for one query.
 */
#ifndef PL_EVENT_VIEW_H
#define PL_EVENT_VIEW_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "authz.h"
#include "events.h"

/* What one user gets of an event. */
enum pl_event_cut {
	PL_EVENT_HIDDEN = 0,     /* nothing */
	PL_EVENT_FULL = 1,       /* the whole event */
	PL_EVENT_NO_CHANNEL = 2  /* without "channel_id" (presence, non-member) */
};

struct pl_event_view {
	const struct pl_event *ev;          /* borrowed */
	bool many;                          /* asked for many users: load sets */
	struct pl_event_audience audience;  /* who may see it (when many) */
	struct pl_event_audience members;   /* members of ev->channel_id (presence, when many) */
	cJSON *cut[3];                      /* rendered variants by pl_event_cut (owned) */
	bool rendered, gone;                /* the current state was read; its subject is gone */
	bool failed;                        /* a database error while asking: the
	                                     * answers are not to be trusted (retry) */
};

/*
 * pl_event_view_init: prepares `v` for `ev` (borrowed; must outlive `v`).
 * `many`: the view will be asked about many users (the live fan-out):
 * the audience is then read once as a set; otherwise each question is a
 * point query. Release with pl_event_view_release.
 */
void pl_event_view_init(struct pl_event_view *v, const struct pl_event *ev, bool many);

/*
 * pl_event_view_cut: what `user_id` gets of the event now. Reads the
 * subject's current state on first use (shared by later questions).
 * A database error hides the event (logged) and sets v->failed: a caller
 * that moves a cursor must then stop before this event and ask again
 * later, or the event would be lost to that reader.
 */
enum pl_event_cut pl_event_view_cut(struct pl_db *db, struct pl_event_view *v, int64_t user_id);

/*
 * pl_event_view_object: the wire object {"type","event_id","channel_id"?,
 * ...payload} for `cut` (FULL or NO_CHANNEL), rendered on first use and
 * owned by `v` (borrowed: do not free or keep past the release). NULL
 * for PL_EVENT_HIDDEN, or when the subject is gone or unreadable (then
 * v->failed is set).
 */
const cJSON *pl_event_view_object(struct pl_db *db, struct pl_event_view *v, enum pl_event_cut cut);

/* pl_event_view_release: frees what `v` owns (not `v`, nor its event). */
void pl_event_view_release(struct pl_event_view *v);

/*
 * pl_events_collect: one long-poll read for `user_id`: reads up to `max`
 * events after *cursor, appends what the user gets of each now (copies)
 * to `out` (a cJSON array, borrowed), and moves *cursor to the last event
 * read (shown or not), so the next call goes on from there. A typing
 * event older than PL_EVENT_TYPING_STALE_MS at `now_ms` is skipped
 * (ephemeral). *read_n (may be NULL) receives how many rows were read.
 * Returns the number appended, or -1 (`err`).
 */
int pl_events_collect(struct pl_db *db, int64_t user_id, int64_t *cursor, size_t max,
		      int64_t now_ms, cJSON *out, size_t *read_n, struct pl_err *err);

#endif
