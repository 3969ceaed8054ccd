/* ratelimit.c — fixed-window counters in the database (ratelimit.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "ratelimit.h"

enum stmt { STMT_SWEEP, STMT_GET, STMT_BUMP, STMT_REFUND, STMT_FORGET, STMT__MAX };

static const struct pl_sql stmts[STMT__MAX] = {
	[STMT_SWEEP] = { "DELETE FROM rate_limits WHERE expires_at <= ?1" },
	[STMT_GET] = { "SELECT count, expires_at FROM rate_limits WHERE key = ?1" },
	[STMT_BUMP] = {
		"INSERT INTO rate_limits (key, count, expires_at) VALUES (?1, 1, ?2) "
		"ON CONFLICT (key) DO UPDATE SET count = rate_limits.count + 1" },
	[STMT_REFUND] = {
		"UPDATE rate_limits SET count = max(count - 1, 0) WHERE key = ?1",
		.pg = "UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key = ?1" },
	[STMT_FORGET] = { "DELETE FROM rate_limits WHERE key = ?1" },
};

void pl_rate_set(struct pl_rate *r, const char *scope, const char *subject, int limit, int window_s)
{
	size_t i;

	snprintf(r->key, sizeof(r->key), "%s:%s", scope, subject && *subject ? subject : "-");
	for (i = strlen(scope) + 1; r->key[i]; i++)
		r->key[i] = (char)tolower((unsigned char)r->key[i]);
	r->limit = limit;
	r->window_s = window_s > 0 ? window_s : 1;
}


/* Seconds left in `r`'s window when it is exhausted, 0 when not, -1 on error. */
static int64_t exhausted(struct pl_db *db, const struct pl_rate *r, int64_t now_ms, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &stmts[STMT_GET], err);
	int64_t wait = 0;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, r->key);
	step = pl_stmt_step(st);
	if (step == PL_ROW && pl_stmt_int64(st, 0) >= r->limit) {
		int64_t left = pl_stmt_int64(st, 1) - now_ms;
		wait = left <= 0 ? 1 : (left + 999) / 1000;
	}
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		return pl_err_internal(err, "rate limit: %s", pl_db_last_error(db));
	return wait;
}

static int bump(struct pl_db *db, const struct pl_rate *r, int64_t now_ms, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &stmts[STMT_BUMP], err);

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, r->key);
	pl_stmt_bind_int64(st, 2, now_ms + (int64_t)r->window_s * 1000);
	return pl_db_step_done(db, st, err);
}

int pl_ratelimit_take(struct pl_db *db, const struct pl_rate *rates, size_t n,
		      int64_t now_ms, struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t wait = 0, w;
	size_t i;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &stmts[STMT_SWEEP], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, now_ms);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (rates[i].limit <= 0)
			continue;
		if ((w = exhausted(db, &rates[i], now_ms, err)) < 0)
			goto out;
		if (w > wait)
			wait = w;
	}
	if (wait > 0) {
		pl_err_set(err, 429, "too many attempts, retry later");
		err->retry_after = wait > 86400 * 30 ? 86400 * 30 : (int)wait;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (rates[i].limit > 0 && bump(db, &rates[i], now_ms, err) < 0)
			goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_ratelimit_refund(struct pl_db *db, const struct pl_rate *rates, size_t n,
			struct pl_err *err)
{
	struct pl_stmt *st;
	size_t i;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rates[i].limit <= 0)
			continue;
		if (!(st = pl_db_prepare(db, &stmts[STMT_REFUND], err)))
			goto out;
		pl_stmt_bind_text(st, 1, rates[i].key);
		if (pl_db_step_done(db, st, err) < 0)
			goto out;
	}
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_ratelimit_forget_locked(struct pl_db *db, const char *scope, const char *subject,
			       struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &stmts[STMT_FORGET], err);
	struct pl_rate r;

	if (!st)
		return -1;
	pl_rate_set(&r, scope, subject, 0, 1);
	pl_stmt_bind_text(st, 1, r.key);
	return pl_db_step_done(db, st, err);
}
