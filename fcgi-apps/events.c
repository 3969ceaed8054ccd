/*
 * events.c — the long-poll fallback, GET /api/events?since=&timeout=
 * (API.md "Long-poll fallback"), for hosts where no ws-daemon may run.
 * Its own program, so that requests held open here never take a process
 * another resource needs; works as FastCGI and as plain CGI.
 *
 * Answers {"events":[...],"last_event_id"} as soon as at least one event
 * after `since` is visible to the caller (the same pl_event_visible as the
 * daemon), or with an empty list after `timeout` seconds (default 25, max
 * 60). `last_event_id` is the cursor to pass as the next `since` (events
 * the caller may not see are skipped past). Without `since`, the poll
 * starts at the newest event (only what happens next). A `since` older
 * than the retained history answers [{"type":"resync_required"}] at once.
 * Waiting is a pl_db_data_version check every POLL_MS.
 *
 * The caller's session is checked again after every read of the events
 * (so after waiting, and whenever the database changed, a logout
 * included): a session that ended answers 401, never the events.
 *
 * A poll that waits holds this process for up to its timeout, so each user
 * may have at most cfg.poll_user_limit polls waiting at once, across every
 * process (a per-user slot: slots.h, "<db_path>-pollslots"); one more gets
 * 429 rate_limited with Retry-After. A poll that answers at once (events
 * pending, timeout=0) takes no slot.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "app.h"
#include "event_view.h"
#include "json.h"
#include "log.h"
#include "session.h"
#include "slots.h"
#include "util.h"

#define POLL_MS 20                /* pl_db_data_version check while waiting */
#define BATCH 200                 /* events read per query */
#define DEFAULT_TIMEOUT 25
#define MAX_TIMEOUT 60
#define PRUNE_EVERY_MS 3600000    /* retention prune at most hourly per process */
#define POLL_RETRY_S 5            /* Retry-After when a user has too many polls waiting */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Hosts without the daemon prune here (at most hourly per process). */
static void maybe_prune(struct pl_ctx *ctx)
{
	static int64_t last_prune_ms;  /* per process */
	struct pl_err err = { 0 };
	int64_t now = pl_now_ms();

	if (now - last_prune_ms < PRUNE_EVERY_MS)
		return;
	last_prune_ms = now;
	if (pl_events_prune(ctx->db, now - (int64_t)ctx->cfg.event_retention_days * 86400 * 1000,
			    5000, NULL, &err) < 0)
		pl_warn_log("pruning events: %s", err.message);
}

static void respond(struct pl_response *resp, cJSON *events, int64_t cursor)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddItemToObject(body, "events", events);
	cJSON_AddNumberToObject(body, "last_event_id", (double)cursor);
	pl_resp_json(resp, 200, body);
}

/* The per-user cap on waiting polls: one slot set per process, set up
 * from the configuration on first use. */
static struct pl_slots *poll_slots(struct pl_ctx *ctx)
{
	static struct pl_slots slots;
	static bool ready;

	if (!ready) {
		pl_slots_init(&slots, ctx->cfg.slots_base, "pollslots", ctx->cfg.poll_user_limit, 0,
			      429, POLL_RETRY_S, "too many long polls of this user are waiting");
		ready = true;
	}
	return &slots;
}

/* Re-checks the caller's session (it may have ended while the poll
 * waited): 0 while it lives, else answers 401 (or 500) and returns -1. */
static int session_or_reply(struct pl_ctx *ctx, const struct pl_request *req,
			    struct pl_response *resp)
{
	struct pl_err err = { 0 };

	if (pl_session_check_principal(ctx->db, &req->principal, &err) == 0)
		return 0;
	pl_resp_from_err(resp, &err);
	return -1;
}

/* Sleeps until pl_db_data_version moves from *version or `deadline`. */
static void wait_change(struct pl_ctx *ctx, int64_t *version, int64_t deadline)
{
	while (pl_now_ms() < deadline) {
		int64_t v;
		sleep_ms(POLL_MS);
		v = pl_db_data_version(ctx->db);
		if (v != *version) {
			*version = v;
			return;
		}
	}
}

/*
 * GET /api/events?since=&timeout= -> 200 {"events":[...],"last_event_id"};
 * 400 bad since/timeout; 401 (also when the session ends while waiting);
 * 429 when the user already has poll_user_limit polls waiting; 500.
 */
static void handle_events(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	char since_s[32];
	long timeout = DEFAULT_TIMEOUT;
	int64_t since = -1, last, deadline, version;
	cJSON *events = NULL;
	int rc, slot = -1;
	bool slotted = false;

	rc = pl_query_get(req, "since", since_s, sizeof(since_s));
	if (rc < 0 || (rc == 0 && pl_parse_cursor(since_s, &since) < 0)) {
		pl_resp_error(resp, 400, "since must be an event id");
		return;
	}
	if (pl_query_int(req, "timeout", 0, MAX_TIMEOUT, &timeout, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	maybe_prune(ctx);
	last = pl_event_last_id(ctx->db);
	if (last < 0) {
		pl_resp_error(resp, 500, "cannot read events");
		return;
	}
	events = cJSON_CreateArray();
	if (since < 0 || since > last)
		since = last;
	if (since < last && pl_event_since_pruned(ctx->db, since)) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "resync_required");
		cJSON_AddItemToArray(events, o);
		respond(resp, events, last);
		return;
	}
	deadline = pl_now_ms() + (int64_t)timeout * 1000;
	version = pl_db_data_version(ctx->db);
	for (;;) {
		size_t nread = 0;
		int got = pl_events_collect(ctx->db, req->principal.user_id, &since, BATCH,
					    pl_now_ms(), events, &nread, &err);
		if (got < 0) {
			pl_resp_from_err(resp, &err);
			goto out;
		}
		/* After the read: what was read committed while the session
		 * lived (a revocation is never undone). */
		if (session_or_reply(ctx, req, resp) < 0)
			goto out;
		if (cJSON_GetArraySize(events) > 0 || pl_now_ms() >= deadline)
			break;
		if (nread == BATCH)
			continue;  /* more to read before waiting */
		if (!slotted) {
			if (pl_slots_acquire(poll_slots(ctx), req->principal.user_id, &slot, &err) < 0) {
				pl_resp_from_err(resp, &err);
				goto out;
			}
			slotted = true;
		}
		wait_change(ctx, &version, deadline);
	}
	respond(resp, events, since);
	events = NULL;  /* the response owns it */
out:
	cJSON_Delete(events);
	pl_slots_release(slot);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/events", handle_events, PL_ROUTE_AUTH },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("events", routes, sizeof(routes) / sizeof(routes[0]));
}
