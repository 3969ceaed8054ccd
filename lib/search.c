/* search.c — full-text message search (search.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "log.h"
#include "message_view.h"
#include "search.h"
#include "util.h"

enum search_stmt {
	SEARCH_STMT_ALL,
	SEARCH_STMT_CHANNEL,
	SEARCH_STMT_INDEX_MARK,
	SEARCH_STMT_INDEX_ADD,
	SEARCH_STMT_INDEX_MOVE,
	SEARCH_STMT__MAX
};

/* The query ?1 (pl_search_expr for PostgreSQL: a to_tsquery text). */
#define PG_MATCH "m.search_vector @@ to_tsquery('simple', ?1)"
/* The excerpt of a hit, matches between U+0002 and U+0003 (search.h). */
#define FTS_SNIPPET "snippet(messages_fts, 0, char(2), char(3), '…', 24)"
/* ts_headline drops what its parser takes for HTML tags: '<' goes in as
 * U+0001 (content has no control characters: messages.c) and back out. */
#define PG_SNIPPET "replace(ts_headline('simple', replace(h.content, '<', chr(1)), " \
	"to_tsquery('simple', ?1), 'StartSel=' || chr(2) || ',StopSel=' || chr(3) || " \
	"',MaxWords=24,MinWords=12,ShortWord=0,MaxFragments=2,FragmentDelimiter=\" … \"'), " \
	"chr(1), '<')"

static const struct pl_sql search_stmts[SEARCH_STMT__MAX] = {
	/* Matches for ?1 among the channels ?2 may read, newest first, at
	 * most ?3. SQLite walks the FTS5 index by rowid (= message id) in
	 * descending order; PostgreSQL matches the generated tsvector column
	 * (GIN index) and orders by id. */
	[SEARCH_STMT_ALL] = {
		"SELECT m.id, " FTS_SNIPPET " FROM messages_fts f JOIN messages m ON m.id = f.rowid "
		"JOIN channels c ON c.id = m.channel_id "
		"LEFT JOIN channel_members me ON me.channel_id = m.channel_id AND me.user_id = ?2 "
		"WHERE messages_fts MATCH ?1 AND m.deleted = 0 "
		"AND " PL_AUTHZ_SQL_CAN_READ("c", "me") " "
		"ORDER BY f.rowid DESC LIMIT ?3",
		/* the excerpts made for the page only */
		.pg = "SELECT h.id, " PG_SNIPPET " FROM (SELECT m.id, m.content FROM messages m "
		"JOIN channels c ON c.id = m.channel_id "
		"LEFT JOIN channel_members me ON me.channel_id = m.channel_id AND me.user_id = ?2 "
		"WHERE " PG_MATCH " AND m.deleted = 0 "
		"AND " PL_AUTHZ_SQL_CAN_READ("c", "me") " "
		"ORDER BY m.id DESC LIMIT ?3) h ORDER BY h.id DESC" },
	/* The same within channel ?2 (its access checked by the caller). */
	[SEARCH_STMT_CHANNEL] = {
		"SELECT m.id, " FTS_SNIPPET " FROM messages_fts f JOIN messages m ON m.id = f.rowid "
		"WHERE messages_fts MATCH ?1 AND m.deleted = 0 AND m.channel_id = ?2 "
		"ORDER BY f.rowid DESC LIMIT ?3",
		.pg = "SELECT h.id, " PG_SNIPPET " FROM (SELECT m.id, m.content FROM messages m "
		"WHERE " PG_MATCH " AND m.deleted = 0 AND m.channel_id = ?2 "
		"ORDER BY m.id DESC LIMIT ?3) h ORDER BY h.id DESC" },
	/* The FTS5 catch-up (SQLite only: PostgreSQL's column is always current). */
	[SEARCH_STMT_INDEX_MARK] = {
		"SELECT indexed_upto, (SELECT coalesce(max(id), 0) FROM messages) "
		"FROM search_state WHERE id = 1" },
	[SEARCH_STMT_INDEX_ADD] = {
		"INSERT INTO messages_fts (rowid, content) "
		"SELECT id, content FROM messages WHERE id > ?1 AND id <= ?2" },
	[SEARCH_STMT_INDEX_MOVE] = { "UPDATE search_state SET indexed_upto = ?1 WHERE id = 1" },
};

/* Whether this engine's full-text index is FTS5, filled in batches
 * (SQLite); PostgreSQL's generated column needs no catching up. */
static bool batched_index(struct pl_db *db)
{
	return pl_db_kind(db) == PL_DB_SQLITE;
}

int pl_search_catch_up(struct pl_db *db, int64_t min_pending, struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t upto = 0, last = 0;
	int changes;

	if (!batched_index(db))
		return 0;
	if (!(st = pl_db_prepare(db, &search_stmts[SEARCH_STMT_INDEX_MARK], err)))
		return -1;
	if (pl_stmt_step(st) == PL_ROW) {
		upto = pl_stmt_int64(st, 0);
		last = pl_stmt_int64(st, 1);
	}
	pl_db_done(st);
	if (last - upto < min_pending || last <= upto)
		return 0;
	if (!(st = pl_db_prepare(db, &search_stmts[SEARCH_STMT_INDEX_ADD], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, upto);
	pl_stmt_bind_int64(st, 2, last);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	changes = pl_db_changes(db);
	if (!(st = pl_db_prepare(db, &search_stmts[SEARCH_STMT_INDEX_MOVE], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, last);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	return changes;
}

/* Indexes whatever is pending in a short write transaction of its own
 * (nothing is written when nothing is pending). */
static int catch_up_now(struct pl_db *db, struct pl_err *err)
{
	struct pl_stmt *st;
	bool pending = false;

	if (!batched_index(db))
		return 0;
	if (!(st = pl_db_prepare(db, &search_stmts[SEARCH_STMT_INDEX_MARK], err)))
		return -1;
	if (pl_stmt_step(st) == PL_ROW)
		pending = pl_stmt_int64(st, 1) > pl_stmt_int64(st, 0);
	pl_db_done(st);
	if (!pending)
		return 0;
	if (pl_db_begin(db, err) < 0)
		return -1;
	return pl_db_end(db, pl_search_catch_up(db, 1, err) < 0 ? -1 : 0, err);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Appends `n` bytes of `t` to out[*o] as an FTS5 string ("" for ") or a
 * to_tsquery lexeme ('' for ', \\ for \). */
static void put_quoted(char *out, size_t *o, const char *t, size_t n, bool pg)
{
	out[(*o)++] = pg ? '\'' : '"';
	for (size_t i = 0; i < n; i++) {
		if (!pg && t[i] == '"')
			out[(*o)++] = '"';
		if (pg && (t[i] == '\'' || t[i] == '\\'))
			out[(*o)++] = t[i];
		out[(*o)++] = t[i];
	}
	out[(*o)++] = pg ? '\'' : '"';
}

char *pl_search_expr_for(const char *q, bool pg, struct pl_err *err)
{
	size_t len = strlen(q), terms = 0, o = 0;
	char *out;

	if (len > PL_SEARCH_Q_MAX || !pl_utf8_valid(q, len, NULL))
		return pl_err_set(err, 400, "q must be at most %d bytes of UTF-8", PL_SEARCH_Q_MAX), NULL;
	/* each byte doubled at worst, plus quotes, " *" or ":*" and " & " */
	out = pl_xmalloc(len * 2 + PL_SEARCH_TERMS_MAX * 8 + 1);
	for (size_t i = 0; i < len;) {
		const char *t;
		size_t n = 0;
		bool phrase;

		while (i < len && is_space(q[i]))
			i++;
		if (i == len)
			break;
		if (++terms > PL_SEARCH_TERMS_MAX) {
			free(out);
			return pl_err_set(err, 400, "at most %d words", PL_SEARCH_TERMS_MAX), NULL;
		}
		phrase = q[i] == '"';
		if (phrase) {  /* "a phrase": up to the next quote or the end */
			t = q + ++i;
			while (i < len && q[i] != '"')
				i++, n++;
			if (i < len)
				i++;
		} else {       /* a word: its prefix */
			t = q + i;
			while (i < len && !is_space(q[i]))
				i++, n++;
		}
		if (pg && n == 0)
			continue;  /* '' is a tsquery syntax error; FTS5's "" matches nothing */
		if (o)
			o += (size_t)sprintf(out + o, pg ? " & " : " ");
		put_quoted(out, &o, t, n, pg);
		if (!phrase)
			o += (size_t)sprintf(out + o, pg ? ":*" : " *");
	}
	out[o] = '\0';
	if (terms == 0) {
		free(out);
		return pl_err_set(err, 400, "q must contain a word"), NULL;
	}
	return out;
}

char *pl_search_expr(const char *q, struct pl_err *err)
{
	return pl_search_expr_for(q, false, err);
}

/* A copy of the excerpt at column 1 of `st`, or NULL. */
static char *snippet_of(struct pl_stmt *st)
{
	const char *t = pl_stmt_text(st, 1);

	return t ? pl_xstrdup(t) : NULL;
}

/* Collects matching ids (at most `limit`); -1 with `err` on failure. */
static int match_ids(struct pl_db *db, int64_t user_id, const char *expr, int64_t channel_id,
		     int limit, int64_t *ids, char **snippets, int *n, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &search_stmts[channel_id ? SEARCH_STMT_CHANNEL
									  : SEARCH_STMT_ALL], err);
	int step;

	*n = 0;
	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, expr);
	pl_stmt_bind_int64(st, 2, channel_id ? channel_id : user_id);
	pl_stmt_bind_int(st, 3, limit);
	while ((step = pl_stmt_step(st)) == PL_ROW && *n < limit) {
		snippets[*n] = snippet_of(st);
		ids[(*n)++] = pl_stmt_int64(st, 0);
	}
	pl_db_done(st);
	/* An FTS5 query error: the user's input (websearch_to_tsquery on
	 * PostgreSQL accepts any text, so an error there is the server's). */
	if (step == PL_ERROR && batched_index(db))
		return pl_err_set(err, 400, "q is not a searchable text");
	if (step != PL_DONE && step != PL_ROW)
		return pl_err_internal(err, "search: %s", pl_db_last_error(db));
	return 0;
}

int pl_message_search(struct pl_db *db, int64_t user_id, const char *q, int64_t channel_id,
		      int limit, cJSON **out, struct pl_err *err)
{
	int64_t *ids;
	char *expr, **snippets;
	cJSON *body, *arr;
	int n = 0;

	*out = NULL;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (channel_id && pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return -1;
	if (!(expr = pl_search_expr_for(q, !batched_index(db), err)))
		return -1;
	if (catch_up_now(db, err) < 0) {
		free(expr);
		return -1;
	}
	ids = pl_xcalloc((size_t)limit, sizeof(*ids));
	snippets = pl_xcalloc((size_t)limit, sizeof(*snippets));
	if (match_ids(db, user_id, expr, channel_id, limit, ids, snippets, &n, err) < 0) {
		for (int i = 0; i < n; i++)
			free(snippets[i]);
		free(snippets);
		free(ids);
		free(expr);
		return -1;
	}
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "messages");
	for (int i = 0; i < n; i++) {
		cJSON *m = pl_message_json(db, user_id, ids[i], NULL);
		if (m) {
			if (snippets[i])
				cJSON_AddStringToObject(m, "snippet", snippets[i]);
			cJSON_AddItemToArray(arr, m);
		}
		free(snippets[i]);
	}
	free(snippets);
	free(ids);
	free(expr);
	*out = body;
	return 0;
}
