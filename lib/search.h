/*
 * search.h — full-text search over message content, limited to the
 * channels the caller may read. On SQLite with FTS5
 * (https://sqlite.org/fts5.html): the index (messages_fts, schema 004) is
 * brought up to date in batches (schema 006): every PL_SEARCH_BATCH posts,
 * and before each search, so a search sees every message; edits and
 * deletes of indexed messages follow through triggers in the same
 * transaction. On PostgreSQL: the generated column messages.search_vector
 * (to_tsvector('simple', content), GIN index) matched with
 * websearch_to_tsquery('simple', ...); always current, nothing to catch up.
 */
#ifndef PL_SEARCH_H
#define PL_SEARCH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_SEARCH_Q_MAX 256     /* bytes of the user's query */
#define PL_SEARCH_TERMS_MAX 16  /* white-space separated words */
#define PL_SEARCH_BATCH 256     /* posts between two index catch-ups */

/*
 * pl_search_expr_for: turns the user's words `q` into a safe query of the
 * engine's full-text search (issue 17): each white-space separated word
 * matches as a prefix ("pine" finds "pineapple"), text between double
 * quotes as an exact phrase, all of them required. Every term is quoted
 * ("" for a quote inside), so no operator or syntax error can come from
 * user input. `pg` false: an FTS5 expression (`"pine" * "two words"`,
 * https://sqlite.org/fts5.html#fts5_strings and #fts5_prefix_queries);
 * true: a to_tsquery text (`'pine':* & 'two words'`, a quoted lexeme that
 * the parser splits becomes a phrase: PostgreSQL 15 manual 12.3.2).
 * Returns a new string (caller frees) or NULL with `err` = 400 (empty, too
 * long, invalid UTF-8, too many terms).
 */
char *pl_search_expr_for(const char *q, bool pg, struct pl_err *err);

/* pl_search_expr: pl_search_expr_for(q, false, err), the FTS5 form. */
char *pl_search_expr(const char *q, struct pl_err *err);

/*
 * pl_message_search: up to `limit` (1-200) non-deleted messages matching
 * `q`, newest first, from the channels `user_id` may read (public ones
 * and those they are a member of), or only from `channel_id` when non-zero
 * (404 when not readable). *out receives {"messages":[...]} (caller
 * frees); each message carries "snippet": an excerpt of its content with
 * every match between U+0002 and U+0003 (plain text otherwise: a client
 * splits on those two characters and builds text nodes, never HTML). Returns 0 or -1 (`err` 400/404).
 */
int pl_message_search(struct pl_db *db, int64_t user_id, const char *q, int64_t channel_id,
		      int limit, cJSON **out, struct pl_err *err);

/*
 * pl_search_catch_up: adds the messages not yet in the full-text index
 * (id above search_state.indexed_upto) and moves the mark, when at least
 * `min_pending` message ids are pending (1: whatever is pending). Must run
 * inside the caller's write transaction (pl_db_begin). Returns the number
 * of messages indexed (0 when fewer were pending, and always on
 * PostgreSQL, whose index is always current), or -1 with `err` 500.
 * FTS5 external content tables: https://sqlite.org/fts5.html#external_content_tables
 */
int pl_search_catch_up(struct pl_db *db, int64_t min_pending, struct pl_err *err);

#endif
