/*
 * delivery.c — the event poller and the fan-out to sockets (delivery.h).
 *
 * New events are noticed by stepping a prepared PRAGMA data_version every
 * cfg.ws_poll_ms (it changes on commits by other connections), after this
 * process's own commits (w->dirty), and at least every WSD_FALLBACK_POLL_MS.
 * Visibility is asked of lib (pl_event_visible) at delivery time, so a
 * member who was removed stops receiving at once.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "delivery.h"
#include "json.h"
#include "log.h"
#include "presence.h"
#include "util.h"

static const char sql_data_version[] = "PRAGMA data_version";

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* PRAGMA data_version, or -1 on error (logged). */
static int64_t data_version(struct wsd *w)
{
	struct pl_err err = { 0 };
	sqlite3_stmt *st = pl_db_stmt(w->ctx.db, sql_data_version, &err);
	int64_t v = -1;

	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		pl_err_log("data_version: %s", pl_db_last_error(w->ctx.db));
	pl_db_done(st);
	return v;
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

	if (c->dead)
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
 * A rendered event, made on first use so that an event nobody may see is
 * never serialized. `bad` remembers an unreadable payload (logged once).
 */
struct rendered {
	struct wsd_frame *frame;
	bool bad;
};

static struct wsd_frame *render(struct rendered *r, const struct pl_event *ev)
{
	cJSON *obj;

	if (r->frame || r->bad)
		return r->frame;
	obj = pl_event_render(ev);
	if (!obj) {
		pl_err_log("event %lld (%s) has an unreadable payload: skipped",
			   (long long)ev->id, ev->type);
		r->bad = true;
		return NULL;
	}
	r->frame = wsd_frame_new(obj);
	cJSON_Delete(obj);
	return r->frame;
}

/*
 * Considers `ev` for socket `c`: advances its cursor and queues the event
 * if c's user may see it. Returns false, leaving the cursor where it was,
 * when c's queue has no room for more events: c then catches up from the
 * events table once it has drained (wsd.h).
 */
static bool offer(struct wsd *w, struct wsd_conn *c, const struct pl_event *ev,
		  struct rendered *r)
{
	struct wsd_frame *f;

	if (c->dead || ev->id <= c->cursor)
		return true;
	if (c->qlen >= WSD_QUEUE_SOFT_FRAMES || c->qbytes >= WSD_QUEUE_SOFT_BYTES) {
		c->catching_up = true;
		return false;
	}
	c->cursor = ev->id;
	if (!pl_event_visible(w->ctx.db, c->user_id, ev))
		return true;
	f = render(r, ev);
	if (f)
		wsd_queue(c, f);
	return true;
}

static void fan_out(struct wsd *w, const struct pl_event *ev)
{
	struct rendered r = { NULL, false };

	for (struct wsd_conn *c = w->conns; c; c = c->next)
		if (!c->catching_up)
			offer(w, c, ev, &r);
	wsd_frame_unref(r.frame);
}

void wsd_deliver(struct wsd *w)
{
	struct pl_err err = { 0 };
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
		fan_out(w, &w->live_buf[i]);
		w->cursor = w->live_buf[i].id;
		pl_event_release(&w->live_buf[i]);
	}
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
			struct rendered r = { NULL, false };
			if (!full && !offer(w, c, &w->replay_buf[i], &r))
				full = true;
			wsd_frame_unref(r.frame);
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

	if (pl_presence_touch(w->ctx.db, user_id, NULL, &err) < 0)
		pl_warn_log("presence of user %lld: %s", (long long)user_id, err.message);
	w->dirty = true;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Touches every distinct user holding a socket, once each. */
static void presence_refresh(struct wsd *w)
{
	int64_t *ids;
	size_t n = 0;

	if (!w->nconns)
		return;
	ids = pl_xmalloc(w->nconns * sizeof(*ids));
	for (struct wsd_conn *c = w->conns; c && n < w->nconns; c = c->next)
		if (!c->dead)
			ids[n++] = c->user_id;
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			wsd_presence_touch(w, ids[i]);
	free(ids);
}

/* --- timers and setup ---------------------------------------------------- */

static void poll_cb(lws_sorted_usec_list_t *sul)
{
	struct wsd *w = lws_container_of(sul, struct wsd, poll_sul);
	int64_t v = data_version(w);
	bool changed = v < 0 || v != w->data_version;

	if (v >= 0)
		w->data_version = v;
	if (changed || w->dirty || monotonic_ms() - w->last_read_ms >= WSD_FALLBACK_POLL_MS)
		wsd_deliver(w);
	lws_sul_schedule(w->lws, 0, &w->poll_sul, poll_cb, (lws_usec_t)LWS_US_PER_MS *
			 (w->dirty ? WSD_BACKLOG_POLL_MS : w->ctx.cfg.ws_poll_ms));
}

/* Drops sockets that have frames queued but took none for WSD_STALL_MS. */
static void drop_stalled(struct wsd *w)
{
	int64_t now = monotonic_ms();

	for (struct wsd_conn *c = w->conns; c; c = c->next)
		if (!c->dead && c->head && now - c->progress_ms >= WSD_STALL_MS)
			drop(c, "not reading");
}

static void housekeeping_cb(lws_sorted_usec_list_t *sul)
{
	struct wsd *w = lws_container_of(sul, struct wsd, house_sul);

	drop_stalled(w);
	if (++w->house_ticks % WSD_PRESENCE_TICKS == 0)
		presence_refresh(w);
	lws_sul_schedule(w->lws, 0, &w->house_sul, housekeeping_cb,
			 (lws_usec_t)WSD_HOUSEKEEPING_S * LWS_US_PER_SEC);
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
	w->live_buf = pl_xcalloc(WSD_BATCH, sizeof(*w->live_buf));
	w->replay_buf = pl_xcalloc(WSD_BATCH, sizeof(*w->replay_buf));
	return 0;
}

void wsd_delivery_release(struct wsd *w)
{
	free(w->live_buf);
	free(w->replay_buf);
	w->live_buf = w->replay_buf = NULL;
}

void wsd_timers_start(struct wsd *w)
{
	lws_sul_schedule(w->lws, 0, &w->poll_sul, poll_cb,
			 (lws_usec_t)w->ctx.cfg.ws_poll_ms * LWS_US_PER_MS);
	lws_sul_schedule(w->lws, 0, &w->house_sul, housekeeping_cb,
			 (lws_usec_t)WSD_HOUSEKEEPING_S * LWS_US_PER_SEC);
}
