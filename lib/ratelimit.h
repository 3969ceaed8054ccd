/*
 * ratelimit.h — rate limits kept in SQLite (table rate_limits, schema 003)
 * so they hold across every FastCGI process and the ws-daemon. Each key
 * ("login_user:alice", "login_addr:192.0.2.7", ...) has a fixed window
 * that starts at its first counted event and lasts `window_s` seconds;
 * at most `limit` events count inside it. A refused request answers 429
 * with Retry-After = seconds until the window ends (RFC 6585 §4,
 * RFC 9110 §10.2.3).
 */
#ifndef PL_RATELIMIT_H
#define PL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_RATE_KEY_LEN 128   /* longest key kept (longer ones are cut) */

/* One limit to apply. */
struct pl_rate {
	char key[PL_RATE_KEY_LEN];  /* e.g. "login_user:alice" (caller-owned) */
	int limit;                  /* events per window; 0 = unlimited */
	int window_s;               /* window length, seconds (> 0) */
};

/*
 * pl_rate_set: fills `r` with key "<scope>:<subject>" (subject lower-cased
 * for ASCII, so "Alice" and "alice" share a counter; an empty subject
 * becomes "-"), `limit` and `window_s`. Never fails.
 */
void pl_rate_set(struct pl_rate *r, const char *scope, const char *subject, int limit, int window_s);

/*
 * pl_ratelimit_take: in one BEGIN IMMEDIATE transaction, checks every one
 * of the `n` limits in `rates` at time `now_ms` (ms since the epoch) and,
 * only if none is exhausted, counts one event against each. Expired rows
 * are swept on the way. Returns 0 (counted), or -1 with `err`: 429 and
 * err->retry_after = the longest wait among the exhausted keys (seconds,
 * >= 1), or 500/503 on a database error (nothing counted then).
 * Must not be called inside an open transaction.
 */
int pl_ratelimit_take(struct pl_db *db, const struct pl_rate *rates, size_t n,
		      int64_t now_ms, struct pl_err *err);

/*
 * pl_ratelimit_refund: gives back one event to each of the `n` keys (after
 * an attempt that should not count, e.g. a successful login), never going
 * below zero and touching no other key. Returns 0 or -1 (`err`, 500).
 */
int pl_ratelimit_refund(struct pl_db *db, const struct pl_rate *rates, size_t n,
			struct pl_err *err);

/*
 * pl_ratelimit_forget_locked: drops the counter of key "<scope>:<subject>"
 * (both borrowed, as pl_rate_set makes it), inside the caller's write
 * transaction: an erased account's username leaves the table with it.
 * Returns 0 (also when there was no such counter) or -1 (`err`, 500).
 */
int pl_ratelimit_forget_locked(struct pl_db *db, const char *scope, const char *subject,
			       struct pl_err *err);

#endif
