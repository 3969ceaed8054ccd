/*
 * outhooks.h — outgoing webhooks, the management side (issue 16): a
 * channel's owner and admins register URLs that parley-hookd POSTs each
 * new message of the channel to (hookd/, outhook_queue.h), list and delete
 * them, and read their delivery log. Who may: authz.h (PL_ACT_MANAGE: 404
 * for a channel the caller cannot see, 403 for a plain member). The URL is
 * checked against SSRF here at creation (url_guard.h) and again by the
 * worker at every delivery. This file owns the outgoing_webhooks table
 * (schema/013_outgoing_webhooks.sql) and reads the delivery log.
 */
#ifndef PL_OUTHOOKS_H
#define PL_OUTHOOKS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_OUTHOOK_NAME_MAX 80        /* code points */
#define PL_OUTHOOK_TRIGGERS_MAX 10    /* trigger words per hook */
#define PL_OUTHOOK_TRIGGER_LEN 64     /* bytes of one trigger word */
#define PL_OUTHOOK_PER_CHANNEL 10     /* hooks per channel */
#define PL_OUTHOOK_SECRET_LEN 64      /* hex characters of a secret (32 bytes) */

/* What POST /api/channels/{id}/outgoing-webhooks asks for (borrowed). */
struct pl_outhook_new {
	const char *url;              /* required: http or https */
	const char *name;             /* optional, <= 80 code points, one line */
	const cJSON *trigger_words;   /* optional JSON array of strings, or NULL */
};

/*
 * pl_outhook_create: registers a hook on `channel_id` for `user_id`, who
 * must manage the channel (authz). Checks the URL (url_guard.h, with
 * `allow_hosts`, the outgoing_webhook_allow_hosts setting) and each
 * trigger word (1-64 bytes, no white space or control characters, at most
 * 10), makes a 32-byte random secret (libsodium), and in one transaction
 * inserts the row (and the workers' cursor, at the newest event, when
 * this is the first hook ever). *out receives the hook object with its
 * `secret` (the only time it is shown; caller frees). Returns 0, or -1
 * with `err`: 400 invalid (the message says what: a refused address
 * names its kind), 403 not owner/admin, 404 no such channel, 409 the
 * channel has PL_OUTHOOK_PER_CHANNEL hooks already.
 */
int pl_outhook_create(struct pl_db *db, int64_t user_id, int64_t channel_id,
		      const struct pl_outhook_new *in, const char *allow_hosts,
		      cJSON **out, struct pl_err *err);

/*
 * pl_outhook_list: {"outgoing_webhooks":[hook objects, oldest first]} of
 * `channel_id`, without secrets. Returns a new object (caller frees), or
 * NULL with `err` (403, 404, 500).
 */
cJSON *pl_outhook_list(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/*
 * pl_outhook_delete: deletes hook `hook_id` of `channel_id` and its
 * delivery log (pending deliveries are dropped: a worker holding one
 * finds it gone and sends nothing more). Returns 0, or -1 with `err`
 * (403, 404 no such channel or no such hook on it, 500).
 */
int pl_outhook_delete(struct pl_db *db, int64_t user_id, int64_t channel_id, int64_t hook_id,
		      struct pl_err *err);

/*
 * pl_outhook_deliveries: {"deliveries":[...]} of hook `hook_id`, newest
 * first, at most `limit` (1-200), with ids below `before` when it is not
 * 0. Each: id, webhook_id, event_id, message_id, trigger_word, status
 * ("pending" | "delivered" | "failed"), attempts, last_status (HTTP status
 * or null), last_error (or null), next_attempt_at, delivered_at,
 * created_at (RFC 3339 or null). Returns a new object (caller frees), or
 * NULL with `err` (403, 404, 500).
 */
cJSON *pl_outhook_deliveries(struct pl_db *db, int64_t user_id, int64_t channel_id,
			     int64_t hook_id, int limit, int64_t before, struct pl_err *err);

#endif
