/*
 * presence_view.h — one entry of GET /api/presence (API.md, Presence):
 * {"user_id","username","channel_id","online","status","last_seen"}, from
 * a presence row as storage returns it.
 */
#ifndef PL_PRESENCE_VIEW_H
#define PL_PRESENCE_VIEW_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct pl_presence_entry {
	int64_t user_id;
	const char *username;   /* borrowed from the row */
	int64_t channel_id;     /* 0: none the viewer may be shown */
	bool online;
	const char *status;     /* "online", "away", "dnd"; borrowed */
	int64_t last_seen;      /* ms since epoch */
};

/* pl_presence_view: the object for `e` (borrowed). Returns a new object
 * (caller frees). */
cJSON *pl_presence_view(const struct pl_presence_entry *e);

#endif
