/*
 * pins.h — pinned messages (issue 17): a channel's members pin and unpin
 * its messages (or only its owner/admins, when the server's
 * pins_by_members is 0), at most PL_PINS_MAX per channel; anyone who may
 * read the channel lists them. Pinning writes `pin.added`, unpinning
 * `pin.removed` ({"message_id","user_id"}, channel-scoped like reactions),
 * only when something changed. Deleting a message drops its pin (the
 * tombstone, messages.c). A pinned message's object says "pinned": true
 * (message_view.h).
 */
#ifndef PL_PINS_H
#define PL_PINS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_PINS_MAX 100   /* pinned messages per channel */

/*
 * pl_pin_set: pins (`pin` true) or unpins message `message_id` for
 * `user_id`, idempotently; `members_may` is the pins_by_members setting.
 * Authorization: pl_authz_message PL_MSG_PIN (or PL_MSG_PIN_MANAGE when
 * members may not). Returns 0, or -1 with `err`: 403, 404, 409 (pinning a
 * deleted message, or a channel already holding PL_PINS_MAX pins), 500.
 */
int pl_pin_set(struct pl_db *db, int64_t user_id, int64_t message_id, bool pin, bool members_may,
	       struct pl_err *err);

/*
 * pl_pins_drop_locked: removes message `message_id`'s pin, if any, inside
 * its deletion's transaction (no event: message.deleted says it). Returns
 * 0 or -1 (`err` 500).
 */
int pl_pins_drop_locked(struct pl_db *db, int64_t message_id, struct pl_err *err);

/*
 * pl_pins_list: channel `channel_id`'s pins as `user_id` sees them
 * (pl_authz_channel READ: 404 otherwise), most recently pinned first
 * (API.md v2): an array of message objects, each with "pinned_by" (null
 * once that account is gone) and "pinned_at" added. *out receives the
 * array (caller frees). Returns 0 or -1 (`err` 404, 500).
 */
int pl_pins_list(struct pl_db *db, int64_t user_id, int64_t channel_id, cJSON **out,
		 struct pl_err *err);

#endif
