/*
 * channel.h — a channel row as storage returns it, as one user sees it
 * (role, unread count); no JSON here: channel_view.h renders it.
 */
#ifndef PL_CHANNEL_H
#define PL_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

struct pl_channel {
	int64_t id;
	const char *name;         /* borrowed (from the statement row) */
	const char *kind;         /* "public", "private", "dm"; borrowed */
	const char *topic;        /* borrowed */
	const char *role;         /* the viewer's role, NULL when not a member; borrowed */
	int64_t created_by;       /* 0 when the creator is gone */
	int64_t created_at;       /* ms since epoch */
	int64_t member_count;
	int64_t unread_count;     /* at most PL_UNREAD_CAP (channels.c) */
	int64_t last_message_id;  /* 0 when none */
	bool archived;            /* a server admin archived it (issue 16) */
};

#endif
