/*
 * search.h — full-text search over message content with SQLite FTS5
 * (https://sqlite.org/fts5.html), limited to the channels the caller may
 * read. The index (messages_fts, schema 004) follows every post, edit and
 * delete through triggers in the same transaction.
 */
#ifndef PL_SEARCH_H
#define PL_SEARCH_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_SEARCH_Q_MAX 256     /* bytes of the user's query */
#define PL_SEARCH_TERMS_MAX 16  /* white-space separated words */

/*
 * pl_search_expr: turns the user's words `q` into a safe FTS5 expression:
 * each white-space separated word becomes a quoted string ("" for a quote
 * inside), all of them required (implicit AND), so no FTS5 operator or
 * syntax error can come from user input. Returns a new string (caller
 * frees) or NULL with `err` = 400 (empty, too long, invalid UTF-8, too
 * many words).
 */
char *pl_search_expr(const char *q, struct pl_err *err);

/*
 * pl_message_search: up to `limit` (1-200) non-deleted messages matching
 * `q`, newest first, from the channels `user_id` may read (public ones
 * and those they are a member of), or only from `channel_id` when non-zero
 * (404 when not readable). *out receives {"messages":[...]} (caller
 * frees). Returns 0 or -1 (`err` 400/404).
 */
int pl_message_search(struct pl_db *db, int64_t user_id, const char *q, int64_t channel_id,
		      int limit, cJSON **out, struct pl_err *err);

#endif
