/* reactions.c — emoji reactions on messages (reactions.h). */
#include <string.h>
#include "authz.h"
#include "channels.h"
#include "events.h"
#include "log.h"
#include "reactions.h"
#include "util.h"

enum reactions_stmt {
	REACTIONS_STMT_ADD,
	REACTIONS_STMT_REMOVE,
	REACTIONS_STMT_IS_DELETED,
	REACTIONS_STMT__MAX
};

/* Add and remove are served by the primary key (message_id, emoji, user_id). */
static const struct pl_sql reactions_stmts[REACTIONS_STMT__MAX] = {
	[REACTIONS_STMT_ADD] = {
		"INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT DO NOTHING" },
	[REACTIONS_STMT_REMOVE] = {
		"DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3" },
	[REACTIONS_STMT_IS_DELETED] = { "SELECT deleted FROM messages WHERE id = ?1" },
};

/* Decodes one code point of valid UTF-8 at `s`; returns its length. */
static size_t utf8_next(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		*cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0) {
		*cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
		return 3;
	}
	*cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
	return 4;
}

/* White space and control characters (Unicode Cc and Zs, plus line and
 * paragraph separators and the BOM). */
static bool bad_cp(unsigned cp)
{
	return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

bool pl_reaction_emoji_valid(const char *emoji)
{
	size_t len = strlen(emoji), i = 0;
	unsigned cp;

	if (len < 1 || len > PL_EMOJI_MAX || !pl_utf8_valid(emoji, len, NULL))
		return false;
	while (i < len) {
		i += utf8_next((const unsigned char *)emoji + i, &cp);
		if (bad_cp(cp))
			return false;
	}
	return true;
}

/* 1 when deleted, 0 when not, -1 on error. */
static int is_deleted(struct pl_db *db, int64_t message_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &reactions_stmts[REACTIONS_STMT_IS_DELETED], err);
	int v = -1;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	if (pl_stmt_step(st) == PL_ROW)
		v = pl_stmt_int(st, 0) != 0;
	else
		pl_err_internal(err, "message deleted flag: %s", pl_db_last_error(db));
	pl_db_done(st);
	return v;
}

/* Inserts or deletes the row; *changed says whether anything changed. */
static int write_row(struct pl_db *db, int64_t user_id, int64_t message_id, const char *emoji,
		     bool add, bool *changed, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &reactions_stmts[add ? REACTIONS_STMT_ADD : REACTIONS_STMT_REMOVE], err);

	*changed = false;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	pl_stmt_bind_text(st, 2, emoji);
	pl_stmt_bind_int64(st, 3, user_id);
	if (add)
		pl_stmt_bind_int64(st, 4, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*changed = pl_db_changes(db) > 0;
	return 0;
}

static int announce(struct pl_db *db, int64_t user_id, int64_t message_id, int64_t channel_id,
		    const char *emoji, bool add, struct pl_err *err)
{
	cJSON *payload = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(payload, "message_id", (double)message_id);
	cJSON_AddNumberToObject(payload, "user_id", (double)user_id);
	cJSON_AddStringToObject(payload, "emoji", emoji);
	rc = pl_event_append(db, add ? "reaction.added" : "reaction.removed", PL_SCOPE_CHANNEL,
			     channel_id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_reaction_set(struct pl_db *db, int64_t user_id, int64_t message_id, const char *emoji,
		    bool add, struct pl_err *err)
{
	int64_t channel_id = 0;
	bool joined, changed;
	int del, rc = -1;

	if (!pl_reaction_emoji_valid(emoji))
		return pl_err_set(err, 400, "emoji must be 1-%d bytes of UTF-8 without spaces or control characters",
				  PL_EMOJI_MAX);
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_message(db, user_id, message_id, PL_MSG_REACT, &channel_id, err) < 0 ||
	    (del = is_deleted(db, message_id, err)) < 0)
		goto out;
	if (del) {
		pl_err_set(err, 409, "the message is deleted");
		goto out;
	}
	/* Reacting in a public channel joins it, as posting does. */
	if ((add && pl_channel_join_locked(db, user_id, channel_id, &joined, err) < 0) ||
	    write_row(db, user_id, message_id, emoji, add, &changed, err) < 0)
		goto out;
	rc = changed ? announce(db, user_id, message_id, channel_id, emoji, add, err) : 0;
out:
	return pl_db_end(db, rc, err);
}
