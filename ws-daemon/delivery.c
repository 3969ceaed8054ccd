/*
 * delivery.c — the event poller and the fan-out to sockets (delivery.h).
 *
 * New events are noticed by an inotify wake-up on the database's -wal file
 * (cfg.ws_inotify; re-checked 1 ms later when the commit is not visible
 * yet), by reading pl_db_data_version (db.h) every cfg.ws_poll_ms
 * (every WSD_INOTIFY_POLL_MS while inotify works; it changes on commits by
 * other connections), after this process's own commits (w->dirty), and at
 * least every WSD_FALLBACK_POLL_MS. Who may see an event, and what of it,
 * is read at delivery time (event_view.h: once per event for all sockets
 * of the live pass, per event for one socket catching up), so a member
 * who was removed stops receiving at once and replay shows messages as
 * they are now.
 *
 * Housekeeping (every second): drops stalled sockets, sweeps presence
 * (offline transitions), refreshes last_seen of connected users, closes
 * sockets of revoked sessions (every 5 s, code 4001; a socket that sends
 * a post or typing frame is checked at once, protocol.c), prunes old events
 * (every minute).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <sodium.h>
#include "delivery.h"
#include "event_view.h"
#include "files.h"
#include "json.h"
#include "log.h"
#include "presence.h"
#include "session.h"
#include "util.h"

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The change counter (db.h), or -1 on error (logged). */
static int64_t data_version(struct wsd *w)
{
	return pl_db_data_version(w->ctx.db);
}

/* --- frames and queues --------------------------------------------------- */

struct wsd_frame *wsd_frame_new(const cJSON *v)
{
	char *text = pl_json_print(v);
	size_t len = strlen(text);
	struct wsd_frame *f = pl_xmalloc(sizeof(*f) + LWS_PRE + len);

	f->refs = 1;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	free(text);
	return f;
}

void wsd_frame_unref(struct wsd_frame *f)
{
	if (f && --f->refs == 0)
		free(f);
}

/* Drops a socket that does not keep up: nothing more is queued for it and
 * lws closes it at its next timeout check (outside this callback). */
static void drop(struct wsd_conn *c, const char *why)
{
	pl_warn_log("dropping socket of user %lld: %s (%zu frames, %zu bytes queued)",
		    (long long)c->user_id, why, c->qlen, c->qbytes);
	c->dead = true;
	wsd_queue_clear(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void wsd_queue(struct wsd_conn *c, struct wsd_frame *f)
{
	struct wsd_qitem *it;

	if (c->dead || c->close_code)
		return;
	if (!c->head)
		c->progress_ms = monotonic_ms();
	if (c->qlen + 1 > WSD_QUEUE_MAX_FRAMES || c->qbytes + f->len > WSD_QUEUE_MAX_BYTES) {
		drop(c, "outgoing queue over its bound");
		return;
	}
	it = pl_xmalloc(sizeof(*it));
	it->frame = f;
	it->next = NULL;
	f->refs++;
	if (c->tail)
		c->tail->next = it;
	else
		c->head = it;
	c->tail = it;
	c->qlen++;
	c->qbytes += f->len;
	lws_callback_on_writable(c->wsi);
}

void wsd_queue_json(struct wsd_conn *c, const cJSON *v)
{
	struct wsd_frame *f = wsd_frame_new(v);

	wsd_queue(c, f);
	wsd_frame_unref(f);
}

struct wsd_frame *wsd_queue_pop(struct wsd_conn *c)
{
	struct wsd_qitem *it = c->head;
	struct wsd_frame *f;

	if (!it)
		return NULL;
	c->head = it->next;
	if (!c->head)
		c->tail = NULL;
	f = it->frame;
	c->progress_ms = monotonic_ms();
	c->qlen--;
	c->qbytes -= f->len;
	free(it);
	return f;
}

void wsd_queue_clear(struct wsd_conn *c)
{
	struct wsd_frame *f;

	while ((f = wsd_queue_pop(c)) != NULL)
		wsd_frame_unref(f);
}

void wsd_conn_close(struct wsd_conn *c, int code)
{
	c->close_code = code;
	wsd_queue_clear(c);
	lws_callback_on_writable(c->wsi);
}

/* --- the socket list ----------------------------------------------------- */

void wsd_conn_register(struct wsd *w, struct wsd_conn *c)
{
	if (c->registered)
		return;
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	c->registered = true;
}

size_t wsd_user_sockets(const struct wsd *w, int64_t user_id)
{
	size_t n = 0;

	for (const struct wsd_conn *c = w->conns; c; c = c->next)
		if (c->user_id == user_id && !c->dead && !c->close_code)
			n++;
	return n;
}

void wsd_conn_unregister(struct wsd *w, struct wsd_conn *c)
{
	if (!c->registered)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->nconns--;
	c->registered = false;
}

/* --- fan-out ------------------------------------------------------------- */

/*
 * One event as it goes out: its view (who gets what, event_view.h) and
 * the serialized frame of each variant, made on first use, so that an
 * event nobody may see is never serialized and one many may see is
 * serialized once.
 */
struct rendered {
	struct pl_event_view view;
	struct wsd_frame *frame[3];    /* by enum pl_event_cut */
};

static void rendered_init(struct rendered *r, const struct pl_event *ev, bool many)
{
	memset(r->frame, 0, sizeof(r->frame));
	pl_event_view_init(&r->view, ev, many);
}

static void rendered_release(struct rendered *r)
{
	for (size_t i = 0; i < sizeof(r->frame) / sizeof(r->frame[0]); i++)
		wsd_frame_unref(r->frame[i]);
	pl_event_view_release(&r->view);
}

static struct wsd_frame *frame_for(struct wsd *w, struct rendered *r, enum pl_event_cut cut)
{
	const cJSON *obj;

	if (!r->frame[cut] && (obj = pl_event_view_object(w->ctx.db, &r->view, cut)))
		r->frame[cut] = wsd_frame_new(obj);
	return r->frame[cut];
}

/*
 * A frame of the live pass: written to the socket at once when nothing is
 * queued before it and lws holds no partial write of the socket
 * (lws_partial_buffered, lws-ws-state.h; lws buffers a short write itself
 * and sends the rest when the socket drains, lws-write.h "Truncated
 * Writes"). That is one send() per socket, where asking for a WRITEABLE
 * callback costs an epoll_ctl to add POLLOUT, a loop pass, the send and
 * another epoll_ctl: on this VM's costly system calls that spread the
 * fan-out of one event to 1,000 sockets over tens of milliseconds
 * (docs/BENCHMARKS.md). Otherwise the frame queues behind the others, so
 * the order never changes.
 */
static void send_live(struct wsd_conn *c, struct wsd_frame *f)
{
	if (c->head || c->close_code || c->dead || lws_partial_buffered(c->wsi)) {
		wsd_queue(c, f);
		return;
	}
	if (lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
		drop(c, "write failed");
}

/* What offer() did with an event. */
enum offered {
	OFFERED,     /* considered: queued if c may see it; c's cursor moved past it */
	NO_ROOM,     /* c's queue is full: c catches up from the table later */
	DB_FAILED    /* the database could not answer: nothing moved, ask again */
};

/*
 * Considers `ev` for socket `c`: queues what c's user gets of the event now
 * and advances c's cursor past it. Leaves the cursor where it was when c's
 * queue has no room for more events (c then catches up from the events
 * table once it has drained, wsd.h) or when the database failed while
 * deciding (the event is offered again on the next pass: an error never
 * loses an event). `live`: the live pass (typing is ephemeral: live only,
 * never replayed).
 */
static enum offered offer(struct wsd *w, struct wsd_conn *c, const struct pl_event *ev,
			  struct rendered *r, bool live)
{
	enum pl_event_cut cut;
	struct wsd_frame *f = NULL;

	if (c->dead || ev->id <= c->cursor)
		return OFFERED;
	if (c->qlen >= WSD_QUEUE_SOFT_FRAMES || c->qbytes >= WSD_QUEUE_SOFT_BYTES) {
		c->catching_up = true;
		return NO_ROOM;
	}
	if (!live && pl_event_ephemeral(ev)) {
		c->cursor = ev->id;
		return OFFERED;
	}
	cut = pl_event_view_cut(w->ctx.db, &r->view, c->user_id);
	if (cut != PL_EVENT_HIDDEN)
		f = frame_for(w, r, cut);
	if (r->view.failed)
		return DB_FAILED;
	c->cursor = ev->id;
	if (f && live)
		send_live(c, f);
	else if (f)
		wsd_queue(c, f);
	return OFFERED;
}

/* Offers one event to every socket not catching up; false when the
 * database failed (the caller stops, the event is read again). */
static bool fan_out(struct wsd *w, const struct pl_event *ev)
{
	struct rendered r;
	bool ok = true;

	/* Who may see it is read once per event, not once per socket. */
	rendered_init(&r, ev, true);
	for (struct wsd_conn *c = w->conns; c && ok; c = c->next)
		if (!c->catching_up && offer(w, c, ev, &r, true) == DB_FAILED)
			ok = false;
	rendered_release(&r);
	return ok;
}

static void close_ended_sessions(struct wsd *w, int64_t user_id);

void wsd_deliver(struct wsd *w)
{
	struct pl_err err = { 0 };
	bool failed = false;
	size_t n;

	w->dirty = false;
	w->last_read_ms = monotonic_ms();
	if (!w->conns) {
		/* Nobody to deliver to: just move the cursor to the head. */
		int64_t last = pl_event_last_id(w->ctx.db);
		if (last > w->cursor)
			w->cursor = last;
		return;
	}
	if (pl_events_after(w->ctx.db, w->cursor, WSD_LIVE_BATCH, w->live_buf, &n, &err) < 0) {
		pl_err_log("reading events after %lld: %s", (long long)w->cursor, err.message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		/* A database error stops the pass before this event: the sockets
		 * it reached have moved past it and skip it next time. */
		if (!failed && !(failed = !fan_out(w, &w->live_buf[i])))
			w->cursor = w->live_buf[i].id;
		if (!failed && strcmp(w->live_buf[i].type, "account.deactivated") == 0)
			close_ended_sessions(w, w->live_buf[i].user_id);
		pl_event_release(&w->live_buf[i]);
	}
	if (failed)
		return;
	/* One small batch per pass: sockets drain between passes, so a burst
	 * of events is not mistaken for a socket that does not keep up. The
	 * next pass (WSD_BACKLOG_POLL_MS later) reads on. */
	if (n == WSD_LIVE_BATCH)
		w->dirty = true;
}

void wsd_catch_up(struct wsd *w, struct wsd_conn *c)
{
	struct pl_err err = { 0 };
	bool full = false;
	size_t n;

	/* A few batches per call, so one long replay cannot stall the loop. */
	for (int batch = 0; batch < 8 && c->catching_up && !c->dead && !full &&
			    c->qlen < WSD_CATCHUP_LOW; batch++) {
		if (pl_events_after(w->ctx.db, c->cursor, WSD_BATCH, w->replay_buf, &n, &err) < 0) {
			pl_err_log("replaying events after %lld: %s", (long long)c->cursor, err.message);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			struct rendered r;
			rendered_init(&r, &w->replay_buf[i], false);
			/* no room, or a database error: stop here, go on later */
			if (!full && offer(w, c, &w->replay_buf[i], &r, false) != OFFERED)
				full = true;
			rendered_release(&r);
			pl_event_release(&w->replay_buf[i]);
		}
		/* A short read reached the head, which is at or past w->cursor:
		 * from here on the live pass brings everything. */
		if (n < WSD_BATCH && !full)
			c->catching_up = false;
	}
	if (c->catching_up && !c->dead)
		lws_callback_on_writable(c->wsi);  /* WRITEABLE continues the replay */
}

/* --- presence ------------------------------------------------------------ */

void wsd_presence_touch(struct wsd *w, int64_t user_id)
{
	struct pl_err err = { 0 };

	if (pl_presence_touch_many(w->ctx.db, w->node, &user_id, 1, &err) < 0)
		pl_warn_log("presence of user %lld: %s", (long long)user_id, err.message);
	w->dirty = true;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Refreshes last_seen of every distinct user holding a socket, in one
 * transaction (so they stay online however long the socket lives). */
static void presence_refresh(struct wsd *w)
{
	struct pl_err err = { 0 };
	int64_t *ids;
	size_t n = 0, m = 0;

	if (!w->nconns)
		return;
	ids = pl_xmalloc(w->nconns * sizeof(*ids));
	for (struct wsd_conn *c = w->conns; c && n < w->nconns; c = c->next)
		if (!c->dead)
			ids[n++] = c->user_id;
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[m - 1])
			ids[m++] = ids[i];
	if (pl_presence_touch_many(w->ctx.db, w->node, ids, m, &err) < 0)
		pl_warn_log("presence refresh of %zu users: %s", m, err.message);
	w->dirty = true;
	free(ids);
}

/* Users whose last_seen left the window (closed sockets, a crashed
 * daemon's stale ones, stopped heartbeats) go offline, announced once. */
static void presence_sweep(struct wsd *w)
{
	struct pl_err err = { 0 };
	int n = 0;

	if (pl_presence_sweep(w->ctx.db, w->ctx.cfg.presence_window, &n, &err) < 0)
		pl_warn_log("presence sweep: %s", err.message);
	if (n > 0)
		w->dirty = true;
}

/* Closes (4001) the sockets whose session (or API token) was revoked or
 * expired. A
 * database error is not a revocation: those sockets are kept. */
static void check_sessions(struct wsd *w)
{
	struct pl_err txerr = { 0 };
	/* One read transaction around the lookups: SQLite takes its shared
	 * lock once (two fcntl calls) instead of once per socket, which was
	 * most of the idle CPU at 10,000 sockets (docs/BENCHMARKS.md). */
	bool tx = w->conns && pl_db_exec(w->ctx.db, "BEGIN", &txerr) == 0;

	for (struct wsd_conn *c = w->conns; c; c = c->next) {
		struct pl_err err = { 0 };
		struct pl_claims who = { .user_id = c->user_id, .session_id = c->session_id,
					 .token_id = c->token_id };
		if (c->dead || c->close_code)
			continue;
		if (pl_session_check_principal(w->ctx.db, &who, &err) < 0 &&
		    err.status == 401) {
			pl_info_log("session of user %lld ended: closing its socket",
				    (long long)c->user_id);
			wsd_conn_close(c, WSD_CLOSE_REVOKED);
		}
	}
	if (tx && pl_db_exec(w->ctx.db, "COMMIT", &txerr) < 0)
		pl_warn_log("session check: %s", txerr.message);
}

/* A server admin deactivated `user_id` (lib/admin.c writes
 * account.deactivated in the same transaction): its sockets close now
 * (4001), not at the next periodic check, once the event was queued. */
static void close_ended_sessions(struct wsd *w, int64_t user_id)
{
	for (struct wsd_conn *c = w->conns; c; c = c->next) {
		struct pl_err err = { 0 };
		if (c->dead || c->close_code || c->user_id != user_id)
			continue;
		if (pl_session_check(w->ctx.db, c->session_id, c->user_id, &err) < 0 &&
		    err.status == 401) {
			pl_info_log("user %lld deactivated: closing its socket", (long long)user_id);
			wsd_conn_close(c, WSD_CLOSE_REVOKED);
		}
	}
}

/* Deletes events older than the retention, a bounded batch at a time. */
static void prune_events(struct wsd *w)
{
	struct pl_err err = { 0 };
	int64_t before = pl_now_ms() - (int64_t)w->ctx.cfg.event_retention_days * 86400 * 1000;
	int n = 0;

	if (pl_events_prune(w->ctx.db, before, 5000, &n, &err) < 0)
		pl_warn_log("pruning events: %s", err.message);
	else if (n)
		pl_info_log("pruned %d events older than %d days", n,
			    w->ctx.cfg.event_retention_days);
}

/* Collects attachments no message carries (files.h): a bounded batch,
 * never waiting for the lock (an upload or another daemon has it). */
static void prune_files(struct wsd *w)
{
	struct pl_err err = { 0 };
	int64_t rows = 0, bytes = 0;

	if (pl_files_collect(w->ctx.db, w->ctx.cfg.files_dir, PL_FILES_GRACE_S, 500, &rows, &bytes,
			     &err) < 0)
		pl_warn_log("collecting unattached files: %s", err.message);
	else if (rows)
		pl_info_log("collected %lld unattached files (%lld bytes)", (long long)rows,
			    (long long)bytes);
}

/* --- timers and setup ---------------------------------------------------- */

/* The data_version poll: every ws_poll_ms, or only as a slow floor
 * (WSD_INOTIFY_POLL_MS) while inotify wakes the loop on every commit. */
static int poll_interval_ms(const struct wsd *w)
{
	if ((w->inotify_wsi || w->listen_wsi) && w->ctx.cfg.ws_poll_ms < WSD_INOTIFY_POLL_MS)
		return WSD_INOTIFY_POLL_MS;
	return w->ctx.cfg.ws_poll_ms;
}

static void poll_cb(lws_sorted_usec_list_t *sul)
{
	struct wsd *w = lws_container_of(sul, struct wsd, poll_sul);
	int64_t v = data_version(w);
	bool changed = v < 0 || v != w->data_version;

	if (v >= 0)
		w->data_version = v;
	if (changed)
		w->wakeups_poll++;
	if (changed || w->dirty || monotonic_ms() - w->last_read_ms >= WSD_FALLBACK_POLL_MS)
		wsd_deliver(w);
	lws_sul_schedule(w->lws, 0, &w->poll_sul, poll_cb, (lws_usec_t)LWS_US_PER_MS *
			 (w->dirty ? WSD_BACKLOG_POLL_MS : poll_interval_ms(w)));
}

static void recheck_cb(lws_sorted_usec_list_t *sul);

/*
 * Asks for a re-check in 1 ms: through the timerfd when there is one. An
 * lws_sul scheduled from a descriptor's callback (the inotify wake-up) is
 * not seen by lws 4.1's libev loop until its timer next fires, up to the
 * 50 ms poll floor away: p99 ~23 ms at 100 sockets and 50 posts/s, where
 * the poll() loop had 6-7 ms (docs/BENCHMARKS.md). A timerfd wakes the
 * loop as any descriptor does.
 */
static void arm_recheck(struct wsd *w)
{
	struct itimerspec in_1ms = { .it_value = { .tv_nsec = 1000000 } };

	if (w->recheck_wsi && timerfd_settime(w->recheck_fd, 0, &in_1ms, NULL) == 0)
		return;
	lws_sul_schedule(w->lws, 0, &w->recheck_sul, recheck_cb, LWS_US_PER_MS);
}

/* A re-check after an inotify wake-up that found nothing new yet (the
 * write to the -wal file can precede the commit becoming visible). */
static void recheck(struct wsd *w)
{
	int64_t v = data_version(w);

	if (v >= 0 && v != w->data_version) {
		w->data_version = v;
		w->wakeups_inotify++;
		wsd_deliver(w);
	} else if (++w->rechecks < 5) {
		arm_recheck(w);
	}
}

static void recheck_cb(lws_sorted_usec_list_t *sul)
{
	recheck(lws_container_of(sul, struct wsd, recheck_sul));
}

void wsd_changed_on_disk(struct wsd *w)
{
	int64_t v = data_version(w);

	if (v >= 0 && v != w->data_version) {
		w->data_version = v;
		w->wakeups_inotify++;
		wsd_deliver(w);
		return;
	}
	/* Not visible yet: look again in 1 ms (a few times; the poll stays as
	 * the floor). */
	w->rechecks = 0;
	arm_recheck(w);
}

void wsd_heard(struct wsd_conn *c)
{
	c->heard_ms = monotonic_ms();
	c->ping_ms = 0;
}

/*
 * One walk over the sockets a tick: drops those that have frames queued
 * but took none for ws_stall_timeout, and keeps the others alive: a socket
 * silent for ws_ping_interval gets a ping (RFC 6455 5.5.2, sent at its
 * next WRITEABLE, protocol.c), one silent for ws_hangup is dropped. This
 * is the daemon's own keep-alive: lws's (retry_and_idle_policy) re-inserts
 * each socket's timer into one sorted list on every ping and every pong,
 * a walk of the whole list each, which made 10,000 idle sockets cost 10 %
 * of a core (docs/BENCHMARKS.md); this walk costs a few microseconds.
 */
static void check_sockets(struct wsd *w)
{
	int64_t now = monotonic_ms();
	int64_t ping = (int64_t)w->ctx.cfg.ws_ping_interval * 1000;
	int64_t hangup = (int64_t)w->ctx.cfg.ws_hangup * 1000;

	if (hangup <= ping)
		hangup = ping + 1000;
	for (struct wsd_conn *c = w->conns; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->head && now - c->progress_ms >= (int64_t)w->ctx.cfg.ws_stall_timeout * 1000)
			drop(c, "not reading");
		else if (now - c->heard_ms >= hangup)
			drop(c, "no frame or pong");
		else if (now - c->heard_ms >= ping && !c->ping_ms) {
			c->ping_due = true;
			c->ping_ms = now;
			lws_callback_on_writable(c->wsi);
		}
	}
}

/* Seconds between presence refreshes: well inside the window. */
static unsigned refresh_ticks(const struct wsd *w)
{
	int s = w->ctx.cfg.presence_window / 3;

	if (s > WSD_PRESENCE_REFRESH_S)
		s = WSD_PRESENCE_REFRESH_S;
	if (s < 1)
		s = 1;
	return (unsigned)s * 1000 / WSD_HOUSEKEEPING_MS;
}

static void housekeeping_cb(lws_sorted_usec_list_t *sul)
{
	struct wsd *w = lws_container_of(sul, struct wsd, house_sul);
	unsigned t = ++w->house_ticks;

	check_sockets(w);
	if (t % refresh_ticks(w) == 0)
		presence_refresh(w);
	presence_sweep(w);
	if (t % WSD_SESSION_TICKS == 0)
		check_sessions(w);
	if (t % WSD_PRUNE_TICKS == 1) {
		prune_events(w);
		prune_files(w);
	}
	lws_sul_schedule(w->lws, 0, &w->house_sul, housekeeping_cb,
			 (lws_usec_t)WSD_HOUSEKEEPING_MS * LWS_US_PER_MS);
}

/* This daemon's name in presence_sockets: the host, the process and a
 * random part (two containers may share a host name and a pid). */
static void node_name(struct wsd *w)
{
	char host[64] = "";

	if (gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "?");
	snprintf(w->node, sizeof(w->node), "%s/%ld/%08x", host, (long)getpid(),
		 (unsigned)randombytes_random());
}

int wsd_delivery_init(struct wsd *w, struct pl_err *err)
{
	if (w->ctx.cfg.ws_poll_ms < 1)
		w->ctx.cfg.ws_poll_ms = 1;
	w->cursor = pl_event_last_id(w->ctx.db);
	if (w->cursor < 0)
		return pl_err_set(err, 500, "cannot read the events table: %s",
				  pl_db_last_error(w->ctx.db));
	w->data_version = data_version(w);
	w->last_read_ms = monotonic_ms();
	node_name(w);
	w->live_buf = pl_xcalloc(WSD_BATCH, sizeof(*w->live_buf));
	w->replay_buf = pl_xcalloc(WSD_BATCH, sizeof(*w->replay_buf));
	return 0;
}

void wsd_delivery_release(struct wsd *w)
{
	struct pl_err err = { 0 };

	/* Its users' other daemons need not wait for these rows to go stale. */
	if (w->ctx.db && w->node[0] && pl_presence_node_gone(w->ctx.db, w->node, &err) < 0)
		pl_warn_log("presence rows of %s: %s", w->node, err.message);
	free(w->live_buf);
	free(w->replay_buf);
	w->live_buf = w->replay_buf = NULL;
}

void wsd_timers_start(struct wsd *w)
{
	lws_sul_schedule(w->lws, 0, &w->poll_sul, poll_cb,
			 (lws_usec_t)w->ctx.cfg.ws_poll_ms * LWS_US_PER_MS);
	lws_sul_schedule(w->lws, 0, &w->house_sul, housekeeping_cb,
			 (lws_usec_t)WSD_HOUSEKEEPING_MS * LWS_US_PER_MS);
}

/* --- inotify on the -wal file, LISTEN on PostgreSQL ---------------------- */

/* The listener's socket in the loop: a NOTIFY arrived, or the connection
 * was lost (then the loop's copy closes and a timer reconnects). */
static void listen_retry_cb(lws_sorted_usec_list_t *sul);

static int listen_callback(struct wsd *w, enum lws_callback_reasons reason)
{
	int n;

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		n = pl_db_listener_drain(w->listener);
		if (n > 0) {
			w->wakeups_notify++;
			wsd_changed_on_disk(w);
		}
		return n < 0 ? -1 : 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		w->listen_wsi = NULL;
		if (!w->listener)  /* stopping: wsd_listen_stop */
			return 0;
		pl_warn_log("LISTEN connection lost: polling, reconnecting");
		pl_db_listener_close(w->listener);
		w->listener = NULL;
		lws_sul_schedule(w->lws, 0, &w->listen_sul, listen_retry_cb,
				 (lws_usec_t)WSD_LISTEN_RETRY_MS * LWS_US_PER_MS);
		return 0;
	default:
		return 0;
	}
}

static void listen_retry_cb(lws_sorted_usec_list_t *sul)
{
	struct wsd *w = lws_container_of(sul, struct wsd, listen_sul);

	wsd_listen_start(w);
	/* What committed while nobody listened. */
	if (w->listen_wsi)
		wsd_deliver(w);
}

void wsd_listen_start(struct wsd *w)
{
	struct pl_err err = { 0 };
	lws_sock_file_fd_type fd;
	int rc = pl_db_listen(w->ctx.cfg.db_url, &w->listener, &err);

	if (rc == 1)
		return;
	if (rc < 0)
		goto retry;
	/* The loop closes its descriptor when done with it: give it a copy,
	 * libpq keeps the original. */
	fd.filefd = dup(pl_db_listener_fd(w->listener));
	if (fd.filefd < 0)
		goto retry;
	w->listen_wsi = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(w->lws, "default"),
						   LWS_ADOPT_RAW_FILE_DESC, fd, "parley-wal", NULL);
	if (!w->listen_wsi) {
		close(fd.filefd);
		goto retry;
	}
	pl_info_log("waking on NOTIFY parley_events (fallback poll every %d ms)", poll_interval_ms(w));
	return;
retry:
	pl_warn_log("LISTEN unavailable (%s): polling every %d ms, retrying",
		    err.message[0] ? err.message : "cannot add it to the loop", w->ctx.cfg.ws_poll_ms);
	pl_db_listener_close(w->listener);
	w->listener = NULL;
	lws_sul_schedule(w->lws, 0, &w->listen_sul, listen_retry_cb,
			 (lws_usec_t)WSD_LISTEN_RETRY_MS * LWS_US_PER_MS);
}

void wsd_listen_stop(struct wsd *w)
{
	pl_db_listener_close(w->listener);
	w->listener = NULL;
}

int wsd_wal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		     void *in, size_t len)
{
	struct wsd *w = lws_context_user(lws_get_context(wsi));
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;

	if (wsi == w->listen_wsi)
		return listen_callback(w, reason);
	if (wsi == w->recheck_wsi) {
		uint64_t expired;

		if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
			w->recheck_wsi = NULL;
			w->recheck_fd = -1;
		} else if (reason == LWS_CALLBACK_RAW_RX_FILE &&
			   read(w->recheck_fd, &expired, sizeof(expired)) == (ssize_t)sizeof(expired)) {
			recheck(w);
		}
		return 0;
	}
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		while ((n = read(w->inotify_fd, buf, sizeof(buf))) > 0)
			any = true;
		if (any)
			wsd_changed_on_disk(w);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		w->inotify_wsi = NULL;
		return 0;
	default:
		return 0;
	}
}

void wsd_inotify_start(struct wsd *w)
{
	char path[sizeof(w->ctx.cfg.db_path) + 8];
	lws_sock_file_fd_type fd;

	w->inotify_fd = -1;
	w->recheck_fd = -1;
	if (!w->ctx.cfg.ws_inotify || !w->ctx.cfg.db_path[0])  /* no SQLite file */
		return;
	snprintf(path, sizeof(path), "%s-wal", w->ctx.cfg.db_path);
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->inotify_fd < 0 || inotify_add_watch(w->inotify_fd, path, IN_MODIFY) < 0) {
		pl_warn_log("inotify on %s unavailable: polling every %d ms only", path,
			    w->ctx.cfg.ws_poll_ms);
		goto fail;
	}
	fd.filefd = w->inotify_fd;
	w->inotify_wsi = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(w->lws, "default"),
						    LWS_ADOPT_RAW_FILE_DESC, fd, "parley-wal", NULL);
	if (!w->inotify_wsi) {
		pl_warn_log("cannot add the inotify fd to the loop: polling only");
		goto fail;
	}
	pl_info_log("waking on changes to %s (fallback poll every %d ms)", path,
		    poll_interval_ms(w));
	/* The re-checks' timer (arm_recheck); without it, an lws_sul. */
	fd.filefd = w->recheck_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->recheck_fd >= 0)
		w->recheck_wsi = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(w->lws, "default"),
							    LWS_ADOPT_RAW_FILE_DESC, fd, "parley-wal", NULL);
	if (!w->recheck_wsi && w->recheck_fd >= 0) {
		close(w->recheck_fd);
		w->recheck_fd = -1;
	}
	return;
fail:
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	w->inotify_fd = -1;
}
