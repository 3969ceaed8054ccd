/*
 * outhook_queue.h — outgoing webhooks, the worker's side (parley-hookd,
 * hookd/main.c): turning message.created events into deliveries, and
 * handing deliveries to workers one at a time under a lease, so that
 * several workers (processes, or machines on one PostgreSQL database)
 * never send one delivery twice while its lease holds.
 *
 * - The cursor (outgoing_webhook_cursor) says up to which event
 *   deliveries were enqueued; pl_outhook_enqueue moves it in the same
 *   write transaction as the rows it inserts (and UNIQUE (hook_id,
 *   event_id) refuses a second copy), so every matching message is
 *   enqueued exactly once whichever worker gets there.
 * - pl_outhook_claim takes one due delivery: status 'pending',
 *   next_attempt_at reached, no live lease; it sets claimed_until and a
 *   random claim_token and counts the attempt, in one write transaction
 *   (writes are serialized on both engines: BEGIN IMMEDIATE on SQLite, the
 *   write advisory lock on PostgreSQL, db.h).
 * - pl_outhook_finish records the outcome only while the token is still
 *   the row's (the lease was not lost, the hook not deleted).
 * Delivery is at least once: a worker that dies after the receiver
 * answered but before finishing leaves the row to be sent again once its
 * lease expires; receivers deduplicate by X-Parley-Delivery.
 */
#ifndef PL_OUTHOOK_QUEUE_H
#define PL_OUTHOOK_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_OUTHOOK_BATCH 200   /* events read per enqueue pass */

/*
 * pl_outhook_enqueue: one pass: reads up to PL_OUTHOOK_BATCH events after
 * the cursor and, for each message.created whose channel has hooks, adds
 * a delivery for each hook whose trigger words match (pl_outhook_trigger)
 * with the message as it is now (deleted messages and messages by bot
 * accounts are skipped: a bot answering a hook must not trigger it
 * again). A hook with `queue_max` pending deliveries first loses its
 * oldest unleased ones (marked failed, "dropped: queue full", logged).
 * Nothing happens before the first hook is created (no cursor yet).
 * *events (may be NULL) receives how many events the pass consumed (a
 * full batch: call again), *enqueued (may be NULL) how many deliveries it
 * added. Returns 0 or -1 (`err`).
 */
int pl_outhook_enqueue(struct pl_db *db, int queue_max, int *events, int *enqueued,
		       struct pl_err *err);

/*
 * pl_outhook_trigger: whether `content` triggers a hook with the
 * space-separated `words` ("" triggers on every message): its first word
 * (white space separates words) equals one of them, ASCII case ignored.
 * *matched (may be NULL) receives a pointer into `words` and *len its
 * length, or NULL/0 for a hook without words.
 */
bool pl_outhook_trigger(const char *words, const char *content, const char **matched, size_t *len);

/* One claimed delivery (pl_outhook_claim); strings owned, released with
 * pl_outhook_job_release. */
struct pl_outhook_job {
	int64_t id, hook_id, event_id, message_id;
	int attempts;           /* including this one */
	char *trigger_word;     /* NULL when none */
	char *payload;          /* JSON: {"channel":{...},"message":{...}} */
	char *url;
	char *secret;           /* the hook's HMAC key (hex text, used as is) */
	char token[33];         /* this claim's claim_token */
};

/*
 * pl_outhook_claim: takes the due delivery with the earliest
 * next_attempt_at (now is `now_ms`), leasing it for `lease_ms`, and fills
 * `job`. Returns 0 (claimed), 1 (none due), -1 (`err`).
 */
int pl_outhook_claim(struct pl_db *db, int64_t now_ms, int lease_ms, struct pl_outhook_job *job,
		     struct pl_err *err);

void pl_outhook_job_release(struct pl_outhook_job *job);

/* What one attempt came to. */
enum pl_outhook_outcome {
	PL_OUTHOOK_DELIVERED,   /* 2xx */
	PL_OUTHOOK_RETRY,       /* network error, timeout, 5xx, 429: again at next_ms */
	PL_OUTHOOK_FAILED       /* anything else, or attempts used up: never again */
};

/*
 * pl_outhook_finish: records the attempt of `job`: the outcome,
 * `http_status` (0: none came), `error` (NULL when delivered; borrowed),
 * `next_ms` (ms since the epoch of the next attempt, for
 * PL_OUTHOOK_RETRY). Does nothing when the lease was lost or the hook
 * deleted meanwhile. Returns 0 or -1 (`err`).
 */
int pl_outhook_finish(struct pl_db *db, const struct pl_outhook_job *job,
		      enum pl_outhook_outcome outcome, int http_status, const char *error,
		      int64_t next_ms, struct pl_err *err);

/*
 * pl_outhook_backoff_ms: the delay before the attempt after attempt
 * number `attempts` (1 = the first one failed): `base_ms` times 1, 3, 12,
 * 60, 360 (the last for every later one), plus `jitter` (0..1) times a
 * fifth of that.
 */
int64_t pl_outhook_backoff_ms(int base_ms, int attempts, double jitter);

/*
 * pl_outhook_prune: deletes delivered and failed deliveries created before
 * `before_ms` (ms since the epoch), at most `max` per call. Returns the
 * count, or -1 (`err`).
 */
int pl_outhook_prune(struct pl_db *db, int64_t before_ms, int max, struct pl_err *err);

#endif
