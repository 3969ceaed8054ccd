/*
 * notification_view.h — the notification object of the contract (API.md,
 * Notifications): {"id","kind","message","created_at","read"}.
 */
#ifndef PL_NOTIFICATION_VIEW_H
#define PL_NOTIFICATION_VIEW_H

#include <cjson/cJSON.h>
#include "notification.h"

/* pl_notification_view: the object for `n` (borrowed) with `message`, the
 * message object (taken: owned by the result from here on). Returns a new
 * object (caller frees). */
cJSON *pl_notification_view(const struct pl_notification *n, cJSON *message);

#endif
