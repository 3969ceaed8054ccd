/* message.c — message rows and reaction summaries from storage (message.h). */
#include "log.h"
#include "message.h"

enum message_stmt { MESSAGE_STMT_BY_ID, MESSAGE_STMT_REACTIONS, MESSAGE_STMT__MAX };

static const struct pl_sql message_stmts[MESSAGE_STMT__MAX] = {
	[MESSAGE_STMT_BY_ID] = { PL_MESSAGE_COLUMNS "WHERE m.id = ?1" },
	/* Per emoji: how many, whether ?2 is among them, in order of first use. */
	[MESSAGE_STMT_REACTIONS] = {
		"SELECT emoji, count(*), max(CASE WHEN user_id = ?2 THEN 1 ELSE 0 END), "
		"min(created_at) AS first FROM reactions "
		"WHERE message_id = ?1 GROUP BY emoji ORDER BY first, emoji" },
};

void pl_message_row(struct pl_stmt *st, struct pl_message *m)
{
	m->id = pl_stmt_int64(st, 0);
	m->channel_id = pl_stmt_int64(st, 1);
	m->user_id = pl_stmt_int64(st, 2);
	m->username = pl_stmt_text(st, 3);
	m->content = pl_stmt_text(st, 4);
	m->created_at = pl_stmt_int64(st, 5);
	m->edited_at = pl_stmt_int64(st, 6);
	m->deleted = pl_stmt_int(st, 7) != 0;
	m->reply_to = pl_stmt_int64(st, 8);
	m->client_msg_id = pl_stmt_text(st, 9);
	m->has_reactions = pl_stmt_int(st, 11) != 0;
	m->has_attachments = pl_stmt_int(st, 12) != 0;
	m->pinned = pl_stmt_int(st, 13) != 0;
	m->reply_count = pl_stmt_int64(st, 14);
	m->last_reply_at = pl_stmt_int64(st, 15);
}

struct pl_stmt *pl_message_find(struct pl_db *db, int64_t id, struct pl_message *m,
				struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &message_stmts[MESSAGE_STMT_BY_ID], err);
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		pl_message_row(st, m);
		return st;
	}
	if (step == PL_DONE)
		pl_err_set(err, 404, "no such message");
	else
		pl_err_internal(err, "message %lld: %s", (long long)id, pl_db_last_error(db));
	pl_db_done(st);
	return NULL;
}

int pl_message_reactions(struct pl_db *db, int64_t message_id, int64_t viewer,
			 void (*fn)(void *arg, const struct pl_reaction *r), void *arg)
{
	struct pl_stmt *st = pl_db_prepare(db, &message_stmts[MESSAGE_STMT_REACTIONS], NULL);
	struct pl_reaction r;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	pl_stmt_bind_int64(st, 2, viewer);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		r.emoji = pl_stmt_text(st, 0);
		r.count = pl_stmt_int64(st, 1);
		r.me = pl_stmt_int(st, 2) != 0;
		fn(arg, &r);
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		pl_err_log("reactions of message %lld: %s", (long long)message_id, pl_db_last_error(db));
		return -1;
	}
	return 0;
}
