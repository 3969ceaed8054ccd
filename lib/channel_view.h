/*
 * channel_view.h — the channel object of the contract (API.md, Objects):
 * {"id","name","kind","topic","created_by","created_at","member_count",
 * "role","unread_count","last_message_id"}, from a struct pl_channel.
 */
#ifndef PL_CHANNEL_VIEW_H
#define PL_CHANNEL_VIEW_H

#include <cjson/cJSON.h>
#include "channel.h"

/* pl_channel_view: the object for `c` (borrowed). Returns a new object
 * (caller frees). */
cJSON *pl_channel_view(const struct pl_channel *c);

#endif
