/*
 * outhook_queue.c — outgoing webhooks, the worker's side: enqueue from the
 * events table, claim under a lease, finish, prune (outhook_queue.h). This
 * file owns outgoing_webhook_deliveries and outgoing_webhook_cursor.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "events.h"
#include "json.h"
#include "log.h"
#include "outhook_queue.h"
#include "util.h"

enum queue_stmt {
	Q_CURSOR,
	Q_CURSOR_SET,
	Q_ANY_EVENT,
	Q_HOOKS,
	Q_MESSAGE,
	Q_PENDING,
	Q_DROP,
	Q_INSERT,
	Q_ANY_DUE,
	Q_CLAIM,
	Q_CLAIMED,
	Q_FINISH,
	Q_PRUNE,
	Q__MAX
};

#define DELIVERIES "outgoing_webhook_deliveries"

static const struct pl_sql queue_stmts[Q__MAX] = {
	[Q_CURSOR] = { "SELECT last_event_id FROM outgoing_webhook_cursor WHERE singleton = 1" },
	[Q_CURSOR_SET] = {
		"UPDATE outgoing_webhook_cursor SET last_event_id = ?1 WHERE singleton = 1" },
	[Q_ANY_EVENT] = { "SELECT id FROM events WHERE id > ?1 ORDER BY id LIMIT 1" },
	[Q_HOOKS] = {
		"SELECT id, trigger_words FROM outgoing_webhooks WHERE channel_id = ?1 ORDER BY id" },
	[Q_MESSAGE] = {
		"SELECT m.id, m.channel_id, m.user_id, coalesce(u.username, ''), m.content, "
		"m.created_at, m.deleted, coalesce(u.is_bot, 0), c.name, c.kind "
		"FROM messages m JOIN channels c ON c.id = m.channel_id "
		"LEFT JOIN users u ON u.id = m.user_id WHERE m.id = ?1" },
	[Q_PENDING] = {
		"SELECT count(*) FROM " DELIVERIES " WHERE hook_id = ?1 AND status = 'pending'" },
	/* The oldest pending deliveries no worker holds now. */
	[Q_DROP] = {
		"UPDATE " DELIVERIES " SET status = 'failed', last_error = 'dropped: queue full', "
		"next_attempt_at = NULL WHERE id IN (SELECT id FROM " DELIVERIES " WHERE hook_id = ?1 "
		"AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < ?2) "
		"ORDER BY id LIMIT ?3)" },
	[Q_INSERT] = {
		"INSERT INTO " DELIVERIES " (hook_id, event_id, message_id, trigger_word, payload, "
		"next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
		"ON CONFLICT (hook_id, event_id) DO NOTHING" },
	[Q_ANY_DUE] = {
		"SELECT id FROM " DELIVERIES " WHERE status = 'pending' AND next_attempt_at <= ?1 "
		"AND (claimed_until IS NULL OR claimed_until < ?1) LIMIT 1" },
	/* The status and lease conditions are repeated outside the subquery:
	 * they are what makes the claim exclusive if writes ever stop being
	 * serialized (PostgreSQL rechecks them on the row it updates). */
	[Q_CLAIM] = {
		"UPDATE " DELIVERIES " SET claimed_until = ?1, claim_token = ?2, attempts = attempts + 1 "
		"WHERE status = 'pending' AND next_attempt_at <= ?3 "
		"AND (claimed_until IS NULL OR claimed_until < ?3) AND id = (SELECT id FROM " DELIVERIES
		" WHERE status = 'pending' AND next_attempt_at <= ?3 "
		"AND (claimed_until IS NULL OR claimed_until < ?3) ORDER BY next_attempt_at, id LIMIT 1)" },
	[Q_CLAIMED] = {
		"SELECT d.id, d.hook_id, d.event_id, d.message_id, d.attempts, d.trigger_word, "
		"d.payload, h.url, h.secret FROM " DELIVERIES " d "
		"JOIN outgoing_webhooks h ON h.id = d.hook_id WHERE d.claim_token = ?1" },
	[Q_FINISH] = {
		"UPDATE " DELIVERIES " SET status = ?3, last_status = ?4, last_error = ?5, "
		"next_attempt_at = ?6, delivered_at = ?7, claimed_until = NULL, claim_token = NULL "
		"WHERE id = ?1 AND claim_token = ?2" },
	[Q_PRUNE] = {
		"DELETE FROM " DELIVERIES " WHERE id IN (SELECT id FROM " DELIVERIES
		" WHERE status <> 'pending' AND created_at < ?1 ORDER BY id LIMIT ?2)" },
};

bool pl_outhook_trigger(const char *words, const char *content, const char **matched, size_t *len)
{
	const char *first = content + strspn(content, " \t\r\n");
	size_t flen = strcspn(first, " \t\r\n");
	const char *w = words;

	if (matched)
		*matched = NULL;
	if (len)
		*len = 0;
	if (!*words)
		return true;
	while (*w) {
		size_t n = strcspn(w, " ");
		if (n && n == flen && !strncasecmp(w, first, n)) {
			if (matched)
				*matched = w;
			if (len)
				*len = n;
			return true;
		}
		w += n;
		w += strspn(w, " ");
	}
	return false;
}

/* A hook of the event's channel, read before any write of the pass. */
struct hook_ref {
	int64_t id;
	char *words;
};

static int load_hooks(struct pl_db *db, int64_t channel_id, struct hook_ref **out, size_t *n,
		      struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &queue_stmts[Q_HOOKS], err);
	size_t cap = 0;
	int step;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = pl_xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[*n].id = pl_stmt_int64(st, 0);
		(*out)[*n].words = pl_xstrdup(pl_stmt_text(st, 1) ? pl_stmt_text(st, 1) : "");
		(*n)++;
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "outgoing webhooks of a channel: %s", pl_db_last_error(db));
	return 0;
}

static void free_hooks(struct hook_ref *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i].words);
	free(h);
}

/* The message as a delivery carries it: {"channel":{...},"message":{...}};
 * *content receives its content (allocated). 1 when the message is gone,
 * deleted or by a bot (nothing to deliver). */
static int message_snapshot(struct pl_db *db, int64_t message_id, cJSON **out, char **content,
			    struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &queue_stmts[Q_MESSAGE], err);
	cJSON *p, *c, *m;
	int step;

	*out = NULL;
	*content = NULL;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	step = pl_stmt_step(st);
	if (step != PL_ROW) {
		pl_db_done(st);
		if (step == PL_DONE)
			return 1;
		return pl_err_internal(err, "message %lld: %s", (long long)message_id,
				       pl_db_last_error(db));
	}
	if (pl_stmt_int(st, 6) || pl_stmt_int(st, 7)) {
		pl_db_done(st);
		return 1;
	}
	p = cJSON_CreateObject();
	c = cJSON_AddObjectToObject(p, "channel");
	pl_json_add_id(c, "id", pl_stmt_int64(st, 1));
	cJSON_AddStringToObject(c, "name", pl_stmt_text(st, 8) ? pl_stmt_text(st, 8) : "");
	cJSON_AddStringToObject(c, "kind", pl_stmt_text(st, 9) ? pl_stmt_text(st, 9) : "");
	m = cJSON_AddObjectToObject(p, "message");
	pl_json_add_id(m, "id", pl_stmt_int64(st, 0));
	pl_json_add_id(m, "channel_id", pl_stmt_int64(st, 1));
	cJSON_AddStringToObject(m, "channel_name", pl_stmt_text(st, 8) ? pl_stmt_text(st, 8) : "");
	pl_json_add_id(m, "user_id", pl_stmt_int64(st, 2));
	cJSON_AddStringToObject(m, "username", pl_stmt_text(st, 3));
	cJSON_AddStringToObject(m, "content", pl_stmt_text(st, 4) ? pl_stmt_text(st, 4) : "");
	pl_json_add_time(m, "created_at", pl_stmt_int64(st, 5));
	*content = pl_xstrdup(pl_stmt_text(st, 4) ? pl_stmt_text(st, 4) : "");
	pl_db_done(st);
	*out = p;
	return 0;
}

/* Makes room in hook `hook_id`'s queue for one more. */
static int bound_queue(struct pl_db *db, int64_t hook_id, int queue_max, int64_t now,
		       struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &queue_stmts[Q_PENDING], err);
	int64_t pending = 0;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, hook_id);
	if (pl_db_step_id(db, st, &pending, err) < 0)
		return -1;
	if (pending < queue_max)
		return 0;
	if (!(st = pl_db_prepare(db, &queue_stmts[Q_DROP], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, hook_id);
	pl_stmt_bind_int64(st, 2, now);
	pl_stmt_bind_int64(st, 3, pending - queue_max + 1);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	pl_warn_log("outgoing webhook %lld: queue full (%lld pending): dropped the %lld oldest",
		    (long long)hook_id, (long long)pending, (long long)pl_db_changes(db));
	return 0;
}

static int insert_delivery(struct pl_db *db, int64_t hook_id, const struct pl_event *ev,
			   int64_t message_id, const char *trigger, const char *payload,
			   int64_t now, int *enqueued, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &queue_stmts[Q_INSERT], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, hook_id);
	pl_stmt_bind_int64(st, 2, ev->id);
	pl_stmt_bind_int64(st, 3, message_id);
	pl_stmt_bind_text(st, 4, trigger);
	pl_stmt_bind_text(st, 5, payload);
	pl_stmt_bind_int64(st, 6, now);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*enqueued += (int)pl_db_changes(db);
	return 0;
}

/* The deliveries of one message.created event. */
static int enqueue_event(struct pl_db *db, const struct pl_event *ev, int queue_max,
			 int *enqueued, struct pl_err *err)
{
	struct hook_ref *hooks = NULL;
	size_t nhooks = 0;
	cJSON *payload = NULL, *snap = NULL;
	const cJSON *mid;
	char *content = NULL, *text = NULL;
	int64_t now = pl_now_ms();
	int rc = -1, r;

	payload = cJSON_Parse(ev->payload);
	mid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(payload, "message"), "id");
	if (!cJSON_IsNumber(mid) || !ev->channel_id) {
		rc = 0;  /* not a message this code knows: nothing to deliver */
		goto out;
	}
	if (load_hooks(db, ev->channel_id, &hooks, &nhooks, err) < 0)
		goto out;
	rc = 0;
	if (nhooks == 0)
		goto out;
	if ((r = message_snapshot(db, (int64_t)mid->valuedouble, &snap, &content, err)) != 0) {
		rc = r < 0 ? -1 : 0;
		goto out;
	}
	text = pl_json_print(snap);
	for (size_t i = 0; i < nhooks && rc == 0; i++) {
		const char *w;
		size_t wlen;
		char *trigger;
		if (!pl_outhook_trigger(hooks[i].words, content, &w, &wlen))
			continue;
		trigger = w ? pl_xstrndup(w, wlen) : NULL;
		if (bound_queue(db, hooks[i].id, queue_max, now, err) < 0 ||
		    insert_delivery(db, hooks[i].id, ev, (int64_t)mid->valuedouble, trigger, text,
				    now, enqueued, err) < 0)
			rc = -1;
		free(trigger);
	}
out:
	free(text);
	free(content);
	cJSON_Delete(snap);
	cJSON_Delete(payload);
	free_hooks(hooks, nhooks);
	return rc;
}

/* Reads the cursor: 0 with *cursor set, 1 when there is none yet. */
static int read_cursor(struct pl_db *db, int64_t *cursor, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &queue_stmts[Q_CURSOR], err);

	if (!st)
		return -1;
	return pl_db_step_id(db, st, cursor, err);
}

/* Inside the write transaction: the pass itself. */
static int enqueue_locked(struct pl_db *db, int queue_max, int *events, int *enqueued,
			  struct pl_err *err)
{
	struct pl_event *evs = pl_xcalloc(PL_OUTHOOK_BATCH, sizeof(*evs));
	struct pl_stmt *st;
	int64_t cursor = 0;
	size_t n = 0, i;
	int rc;

	if ((rc = read_cursor(db, &cursor, err)) != 0)
		goto out;
	if ((rc = pl_events_after(db, cursor, PL_OUTHOOK_BATCH, evs, &n, err)) < 0 || n == 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++)
		if (!strcmp(evs[i].type, "message.created"))
			rc = enqueue_event(db, &evs[i], queue_max, enqueued, err);
	if (rc == 0 && (st = pl_db_prepare(db, &queue_stmts[Q_CURSOR_SET], err))) {
		pl_stmt_bind_int64(st, 1, evs[n - 1].id);
		rc = pl_db_step_done(db, st, err);
	} else if (rc == 0) {
		rc = -1;
	}
	*events = (int)n;
out:
	for (i = 0; i < n; i++)
		pl_event_release(&evs[i]);
	free(evs);
	return rc < 0 ? -1 : 0;
}

int pl_outhook_enqueue(struct pl_db *db, int queue_max, int *events, int *enqueued,
		       struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t cursor = 0, next = 0;
	int nev = 0, nenq = 0, rc;

	if (events)
		*events = 0;
	if (enqueued)
		*enqueued = 0;
	/* Cheap reads first: no write lock while there is nothing to do. */
	if ((rc = read_cursor(db, &cursor, err)) != 0)
		return rc < 0 ? -1 : 0;
	if (!(st = pl_db_prepare(db, &queue_stmts[Q_ANY_EVENT], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, cursor);
	if ((rc = pl_db_step_id(db, st, &next, err)) != 0)
		return rc < 0 ? -1 : 0;
	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = enqueue_locked(db, queue_max, &nev, &nenq, err);
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	if (events)
		*events = nev;
	if (enqueued)
		*enqueued = nenq;
	return 0;
}

static char *dup_col(struct pl_stmt *st, int col)
{
	return pl_stmt_null(st, col) ? NULL : pl_xstrdup(pl_stmt_text(st, col));
}

static int claim_locked(struct pl_db *db, int64_t now_ms, int lease_ms, struct pl_outhook_job *job,
			struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &queue_stmts[Q_CLAIM], err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, now_ms + lease_ms);
	pl_stmt_bind_text(st, 2, job->token);
	pl_stmt_bind_int64(st, 3, now_ms);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	if (pl_db_changes(db) == 0)
		return 1;
	if (!(st = pl_db_prepare(db, &queue_stmts[Q_CLAIMED], err)))
		return -1;
	pl_stmt_bind_text(st, 1, job->token);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		job->id = pl_stmt_int64(st, 0);
		job->hook_id = pl_stmt_int64(st, 1);
		job->event_id = pl_stmt_int64(st, 2);
		job->message_id = pl_stmt_int64(st, 3);
		job->attempts = pl_stmt_int(st, 4);
		job->trigger_word = dup_col(st, 5);
		job->payload = dup_col(st, 6);
		job->url = dup_col(st, 7);
		job->secret = dup_col(st, 8);
	}
	pl_db_done(st);
	if (step != PL_ROW)
		return pl_err_internal(err, "claimed delivery not found: %s", pl_db_last_error(db));
	return 0;
}

int pl_outhook_claim(struct pl_db *db, int64_t now_ms, int lease_ms, struct pl_outhook_job *job,
		     struct pl_err *err)
{
	unsigned char raw[16];
	struct pl_stmt *st;
	int64_t any = 0;
	int rc;

	memset(job, 0, sizeof(*job));
	if (!(st = pl_db_prepare(db, &queue_stmts[Q_ANY_DUE], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, now_ms);
	if ((rc = pl_db_step_id(db, st, &any, err)) != 0)
		return rc;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(job->token, sizeof(job->token), raw, sizeof(raw));
	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = claim_locked(db, now_ms, lease_ms, job, err);
	if (pl_db_end(db, rc < 0 ? -1 : 0, err) < 0) {
		pl_outhook_job_release(job);
		return -1;
	}
	if (rc != 0)
		pl_outhook_job_release(job);
	return rc;
}

void pl_outhook_job_release(struct pl_outhook_job *job)
{
	free(job->trigger_word);
	free(job->payload);
	free(job->url);
	if (job->secret)
		sodium_memzero(job->secret, strlen(job->secret));
	free(job->secret);
	job->trigger_word = job->payload = job->url = job->secret = NULL;
}

int pl_outhook_finish(struct pl_db *db, const struct pl_outhook_job *job,
		      enum pl_outhook_outcome outcome, int http_status, const char *error,
		      int64_t next_ms, struct pl_err *err)
{
	static const char *const status[] = {
		[PL_OUTHOOK_DELIVERED] = "delivered",
		[PL_OUTHOOK_RETRY] = "pending",
		[PL_OUTHOOK_FAILED] = "failed",
	};
	struct pl_stmt *st;
	int rc;

	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = (st = pl_db_prepare(db, &queue_stmts[Q_FINISH], err)) ? 0 : -1;
	if (rc == 0) {
		pl_stmt_bind_int64(st, 1, job->id);
		pl_stmt_bind_text(st, 2, job->token);
		pl_stmt_bind_text(st, 3, status[outcome]);
		pl_stmt_bind_id(st, 4, http_status);
		pl_stmt_bind_text(st, 5, outcome == PL_OUTHOOK_DELIVERED ? NULL : error);
		pl_stmt_bind_id(st, 6, outcome == PL_OUTHOOK_RETRY ? next_ms : 0);
		pl_stmt_bind_id(st, 7, outcome == PL_OUTHOOK_DELIVERED ? pl_now_ms() : 0);
		rc = pl_db_step_done(db, st, err);
	}
	return pl_db_end(db, rc, err);
}

int64_t pl_outhook_backoff_ms(int base_ms, int attempts, double jitter)
{
	static const int factor[] = { 1, 3, 12, 60, 360 };
	int i = attempts < 1 ? 0 : attempts - 1;
	int64_t d;

	if (i > 4)
		i = 4;
	d = (int64_t)base_ms * factor[i];
	if (jitter < 0)
		jitter = 0;
	if (jitter > 1)
		jitter = 1;
	return d + (int64_t)((double)d / 5 * jitter);
}

int pl_outhook_prune(struct pl_db *db, int64_t before_ms, int max, struct pl_err *err)
{
	struct pl_stmt *st;
	int rc, n = 0;

	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = (st = pl_db_prepare(db, &queue_stmts[Q_PRUNE], err)) ? 0 : -1;
	if (rc == 0) {
		pl_stmt_bind_int64(st, 1, before_ms);
		pl_stmt_bind_int(st, 2, max);
		rc = pl_db_step_done(db, st, err);
		n = (int)pl_db_changes(db);
	}
	if (pl_db_end(db, rc, err) < 0)
		return -1;
	return n;
}
