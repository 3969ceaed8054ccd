/*
 * webhooks.h — incoming webhooks (issue 16): a channel's owner or admin
 * makes one; it gets a secret URL `/hooks/<secret>` (32 random bytes from
 * libsodium, base64url; only the BLAKE2b hex is stored, schema 012) and a
 * bot user of its own (users.is_bot = 1, display name = the webhook's
 * name, username derived from it and made unique), which joins the
 * channel. `POST /hooks/<secret>` posts as that bot through
 * pl_message_post, the same path as POST /api/messages (events, mentions,
 * notifications, live delivery), rate limited per webhook.
 */
#ifndef PL_WEBHOOKS_H
#define PL_WEBHOOKS_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "config.h"
#include "db.h"
#include "err.h"

#define PL_WEBHOOK_NAME_MAX 64      /* characters */
#define PL_WEBHOOK_URL_MAX 500      /* bytes of avatar_url */
#define PL_WEBHOOK_PATH "/hooks/"

/*
 * pl_webhook_create: `caller` (owner or admin of `channel_id`) makes a
 * webhook from `in` ({"name": 1-64 characters, "avatar_url"?: http(s), at
 * most 500 bytes}). *out (caller owns) is {"id","channel_id","name",
 * "avatar_url","user_id","created_by","created_at","url","token"} — the
 * only time `url` and `token` are shown. Returns 0, or -1 with `err` = 400,
 * 403 (a member who does not manage the channel), 404 (channel not
 * visible), 500.
 */
int pl_webhook_create(struct pl_db *db, int64_t caller, int64_t channel_id, const cJSON *in,
		      cJSON **out, struct pl_err *err);

/*
 * pl_webhook_list: *out = {"webhooks":[... without url/token]} of
 * `channel_id`, oldest first, for its owner or admins. Caller owns *out.
 * Returns 0, or -1 with `err` = 403, 404, 500.
 */
int pl_webhook_list(struct pl_db *db, int64_t caller, int64_t channel_id, cJSON **out,
		    struct pl_err *err);

/*
 * pl_webhook_delete: revokes webhook `hook_id` of `channel_id` (its URL
 * answers 404 from now on; its bot and its messages stay). Returns 0, or
 * -1 with `err` = 403, 404, 500.
 */
int pl_webhook_delete(struct pl_db *db, int64_t caller, int64_t channel_id, int64_t hook_id,
		      struct pl_err *err);

/*
 * pl_webhook_post: posts `text` (borrowed) through the webhook whose
 * secret is `secret` (borrowed), as its bot, after counting one against
 * cfg->webhook_rate_limit per cfg->webhook_rate_window. Returns 0, or -1
 * with `err` = 404 (unknown or revoked secret), 429 (retry_after set),
 * 400 (bad text: empty, too long), 500.
 */
int pl_webhook_post(struct pl_db *db, const struct pl_config *cfg, const char *secret,
		    const char *text, struct pl_err *err);

#endif
