/*
 * message.h — a message row as storage returns it (no JSON here:
 * message_view.h renders it), and the reactions of a message grouped by
 * emoji. Strings are borrowed from the statement row: valid until the
 * statement steps again or is reset.
 */
#ifndef PL_MESSAGE_H
#define PL_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

struct pl_message {
	int64_t id, channel_id, user_id;
	const char *username;       /* "" when the author row is gone; borrowed */
	const char *content;        /* as stored ("" once deleted); borrowed */
	const char *client_msg_id;  /* NULL when none; borrowed */
	int64_t created_at;         /* ms since epoch */
	int64_t edited_at;          /* 0 when never edited */
	int64_t reply_to;           /* 0 when none */
	bool deleted;
	bool has_reactions;         /* any reaction row (a cheap probe) */
	bool has_attachments;       /* any file attached (a cheap probe) */
	bool pinned;                /* pinned in its channel (pins.h) */
	int64_t reply_count;        /* replies not deleted (threads.h) */
	int64_t last_reply_at;      /* ms since epoch of the newest; 0 when none */
};

/* The SELECT list every statement read by pl_message_row starts with
 * (append WHERE / ORDER BY); "m" is the messages row. */
#define PL_MESSAGE_COLUMNS \
	"SELECT m.id, m.channel_id, m.user_id, coalesce(u.username, ''), m.content, " \
	"m.created_at, m.edited_at, m.deleted, m.reply_to, m.client_msg_id, u.deleted_at, " \
	"EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = m.id), " \
	"EXISTS (SELECT 1 FROM files f WHERE f.message_id = m.id), " \
	"EXISTS (SELECT 1 FROM pins p WHERE p.message_id = m.id), m.reply_count, m.last_reply_at " \
	"FROM messages m LEFT JOIN users u ON u.id = m.user_id "

/* pl_message_row: fills `m` from the current row of `st`, a statement of
 * PL_MESSAGE_COLUMNS. */
void pl_message_row(struct pl_stmt *st, struct pl_message *m);

/*
 * pl_message_find: reads message `id` into `m`. Returns the statement
 * positioned on its row (the strings of `m` live until pl_db_done on it,
 * which the caller must call), or NULL with `err` (404 no such message,
 * 500).
 */
struct pl_stmt *pl_message_find(struct pl_db *db, int64_t id, struct pl_message *m,
				struct pl_err *err);

/* One emoji's reactions on a message. */
struct pl_reaction {
	const char *emoji;   /* borrowed */
	int64_t count;
	bool me;             /* the viewer is among them */
};

/*
 * pl_message_reactions: calls `fn(arg, r)` for each emoji on `message_id`,
 * in the order each first appeared, "me" for `viewer`. Returns 0, or -1
 * on a database error (logged).
 */
int pl_message_reactions(struct pl_db *db, int64_t message_id, int64_t viewer,
			 void (*fn)(void *arg, const struct pl_reaction *r), void *arg);

#endif
