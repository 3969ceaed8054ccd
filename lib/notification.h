/*
 * notification.h — a notification row as storage returns it (no JSON
 * here: notification_view.h renders it).
 */
#ifndef PL_NOTIFICATION_H
#define PL_NOTIFICATION_H

#include <stdbool.h>
#include <stdint.h>

struct pl_notification {
	int64_t id;
	const char *kind;      /* "mention" or "dm"; borrowed from the row */
	int64_t message_id;
	int64_t created_at;    /* ms since epoch */
	bool read;
};

#endif
