/* db_copy.c — SQLite to PostgreSQL, row by row through db.h (db_copy.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "db_copy.h"
#include "err.h"
#include "util.h"

/*
 * parley's tables in an order that satisfies every foreign key (a row is
 * inserted after the rows it references; messages.reply_to points at an
 * older message, so messages go in id order). `order` is the column the
 * source is read in (NULL: any order). The texts of the per-table
 * statements are built once (names are ours, never input) and kept for
 * the life of the process: the statement cache is keyed by their address.
 */
struct copy_table {
	const char *name;
	const char *order;
	struct pl_sql select, insert, src_count, dst_count;
	int ncols;
	int id_col;                 /* index of column "id", -1 if none */
	bool blob[32];              /* column i is bytea on the target */
};

static struct copy_table tables[] = {
	{ .name = "users", .order = "id" },
	{ .name = "sessions", .order = "id" },
	{ .name = "ws_tickets" },
	{ .name = "refresh_rotated" },
	{ .name = "rate_limits" },
	{ .name = "email_codes" },
	{ .name = "phone_codes" },
	{ .name = "channels", .order = "id" },
	{ .name = "channel_members" },
	{ .name = "messages", .order = "id" },
	{ .name = "reactions" },
	{ .name = "files", .order = "id" },
	{ .name = "notifications", .order = "id" },
	{ .name = "presence" },
	{ .name = "presence_state" },
	{ .name = "presence_sockets" },
	{ .name = "events", .order = "id" },
	{ .name = "outgoing_webhooks", .order = "id" },
	{ .name = "outgoing_webhook_deliveries", .order = "id" },
	{ .name = "outgoing_webhook_cursor" },
	{ .name = "audit_log", .order = "id" },
	{ .name = "invites", .order = "id" },
	{ .name = "api_tokens", .order = "id" },
	{ .name = "webhooks", .order = "id" },
	{ .name = "message_edits", .order = "id" },
	{ .name = "pins" },
	{ .name = "thread_follows" },
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* Tables of the source that are not rows of their own (see db_copy.h). */
static bool skipped(const char *name)
{
	return !strcmp(name, "sqlite_sequence") || !strcmp(name, "search_state") ||
	       !strncmp(name, "messages_fts", 12);
}

static bool known(const char *name)
{
	for (size_t i = 0; i < NTABLES; i++)
		if (!strcmp(tables[i].name, name))
			return true;
	return skipped(name);
}

enum copy_stmt {
	COPY_STMT_SRC_TABLES, COPY_STMT_SRC_NCOLS, COPY_STMT_DST_COLUMNS,
	COPY_STMT_SETVAL, COPY_STMT_RECOUNT_MEMBERS, COPY_STMT_RECOUNT_MESSAGES,
	COPY_STMT_RECOUNT_READ, COPY_STMT__MAX
};

static const struct pl_sql copy_stmts[COPY_STMT__MAX] = {
	[COPY_STMT_SRC_TABLES] = {
		"SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name" },
	[COPY_STMT_SRC_NCOLS] = { "SELECT count(*) FROM pragma_table_info(?1)" },
	/* the target's columns a row carries (generated ones are computed) */
	[COPY_STMT_DST_COLUMNS] = {
		"SELECT column_name, data_type FROM information_schema.columns "
		"WHERE table_schema = current_schema() AND table_name = ?1 "
		"AND is_generated = 'NEVER' ORDER BY ordinal_position" },
	[COPY_STMT_SETVAL] = {
		"SELECT setval(pg_get_serial_sequence(?1, 'id'), ?2)" },
	/* channel_members' trigger (schema 020) counted the copied members on
	 * top of the copied counts: count them once more, from the rows. */
	[COPY_STMT_RECOUNT_MEMBERS] = {
		"UPDATE channels SET member_count = "
		"(SELECT count(*) FROM channel_members m WHERE m.channel_id = channels.id)" },
	/* The same for the unread counts' triggers (schema 021): the copied
	 * messages and members were counted again on arrival, in whatever
	 * order the tables came. */
	[COPY_STMT_RECOUNT_MESSAGES] = {
		"UPDATE channels SET message_count = (SELECT count(*) FROM messages m "
		"WHERE m.channel_id = channels.id AND m.deleted = 0), last_message_id = "
		"coalesce((SELECT max(m.id) FROM messages m WHERE m.channel_id = channels.id), 0)" },
	[COPY_STMT_RECOUNT_READ] = {
		"UPDATE channel_members SET read_count = (SELECT count(*) FROM messages m "
		"WHERE m.channel_id = channel_members.channel_id AND m.deleted = 0 AND "
		"(m.id <= channel_members.last_read_id OR m.user_id = channel_members.user_id))" },
};

static int64_t count_of(struct pl_db *db, const struct pl_sql *q, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, q, err);
	int64_t n = -1;

	if (!st)
		return -1;
	if (pl_stmt_step(st) == PL_ROW)
		n = pl_stmt_int64(st, 0);
	else
		pl_err_internal(err, "%s: %s", q->sql, pl_db_last_error(db));
	pl_db_done(st);
	return n;
}

/* Refuses a source with a table this code does not know. */
static int check_source_tables(struct pl_db *src, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(src, &copy_stmts[COPY_STMT_SRC_TABLES], err);
	int step, rc = 0;

	if (!st)
		return -1;
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		const char *name = pl_stmt_text(st, 0);
		if (!known(name)) {
			rc = pl_err_set(err, 409, "the SQLite database has a table parley "
					"does not know (%s): nothing copied", name);
			break;
		}
	}
	if (rc == 0 && step != PL_DONE)
		rc = pl_err_internal(err, "listing tables: %s", pl_db_last_error(src));
	pl_db_done(st);
	return rc;
}

/* A malloc'd printf (caller frees); aborts on out of memory. */
static char *format(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *out;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	out = pl_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}

static char *quoted_list(char *const *cols, int n, bool params)
{
	size_t len = 1;
	char *out, *p;

	for (int i = 0; i < n; i++)
		len += strlen(cols[i]) + 16;
	p = out = pl_xmalloc(len);
	for (int i = 0; i < n; i++)
		p += params ? sprintf(p, "%s?%d", i ? ", " : "", i + 1)
			    : sprintf(p, "%s\"%s\"", i ? ", " : "", cols[i]);
	*p = '\0';
	return out;
}

/*
 * Builds table `t`'s statements from the target's columns and checks that
 * the source has exactly as many (a column only SQLite has would be lost).
 */
static int prepare_table(struct pl_db *src, struct pl_db *dst, struct copy_table *t,
			 struct pl_err *err)
{
	struct pl_stmt *st;
	char *cols[32], *list = NULL, *params = NULL;
	int n = 0, step, rc = -1;
	int64_t src_cols;

	if (t->select.sql)
		return 0;       /* built by an earlier call in this process */
	if (!(st = pl_db_prepare(dst, &copy_stmts[COPY_STMT_DST_COLUMNS], err)))
		return -1;
	pl_stmt_bind_text(st, 1, t->name);
	t->id_col = -1;
	while ((step = pl_stmt_step(st)) == PL_ROW && n < 32) {
		cols[n] = pl_xstrdup(pl_stmt_text(st, 0));
		if (!strcmp(cols[n], "id"))
			t->id_col = n;
		t->blob[n] = !strcmp(pl_stmt_text(st, 1), "bytea");
		n++;
	}
	pl_db_done(st);
	if (step != PL_DONE || n == 0) {
		pl_err_set(err, 409, "the PostgreSQL database has no table %s (or over 32 columns): "
			   "is it migrated?", t->name);
		goto out;
	}
	if (!(st = pl_db_prepare(src, &copy_stmts[COPY_STMT_SRC_NCOLS], err)))
		goto out;
	pl_stmt_bind_text(st, 1, t->name);
	src_cols = pl_stmt_step(st) == PL_ROW ? pl_stmt_int64(st, 0) : -1;
	pl_db_done(st);
	if (src_cols != n) {
		pl_err_set(err, 409, "table %s has %lld columns on SQLite and %d on PostgreSQL: "
			   "migrate both to the same version", t->name, (long long)src_cols, n);
		goto out;
	}
	list = quoted_list(cols, n, false);
	params = quoted_list(cols, n, true);
	t->ncols = n;
	t->select.sql = format("SELECT %s FROM \"%s\"%s%s", list, t->name,
				     t->order ? " ORDER BY " : "", t->order ? t->order : "");
	t->insert.sql = format("INSERT INTO \"%s\" (%s) VALUES (%s)", t->name, list, params);
	t->src_count.sql = format("SELECT count(*) FROM \"%s\"", t->name);
	t->dst_count.sql = t->src_count.sql;
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(cols[i]);
	free(list);
	free(params);
	return rc;
}

/* Copies `t`'s rows; *copied counts them, *max_id is the highest id. */
static int copy_rows(struct pl_db *src, struct pl_db *dst, struct copy_table *t,
		     int64_t *copied, int64_t *max_id, struct pl_err *err)
{
	struct pl_stmt *in = pl_db_prepare(src, &t->select, err), *out;
	int step;

	*copied = *max_id = 0;
	if (!in)
		return -1;
	if (!(out = pl_db_prepare(dst, &t->insert, err))) {
		pl_db_done(in);
		return -1;
	}
	while ((step = pl_stmt_step(in)) == PL_ROW) {
		for (int c = 0; c < t->ncols; c++) {
			if (pl_stmt_null(in, c)) {
				pl_stmt_bind_null(out, c + 1);
			} else if (t->blob[c]) {
				size_t len;
				const void *p = pl_stmt_blob(in, c, &len);
				pl_stmt_bind_blob(out, c + 1, p, len);
			} else {
				pl_stmt_bind_text(out, c + 1, pl_stmt_text(in, c));
			}
		}
		if (t->id_col >= 0 && pl_stmt_int64(in, t->id_col) > *max_id)
			*max_id = pl_stmt_int64(in, t->id_col);
		if (pl_db_step_done(dst, out, err) < 0)
			break;
		(*copied)++;
	}
	pl_db_done(in);
	if (step == PL_ROW)
		return -1;      /* the insert failed: err says why */
	if (step != PL_DONE)
		return pl_err_internal(err, "reading %s: %s", t->name, pl_db_last_error(src));
	return 0;
}

/* Sets `t`'s identity sequence past every id SQLite ever gave (its
 * AUTOINCREMENT counter, and at least the highest id copied). */
static int set_sequence(struct pl_db *src, struct pl_db *dst, const struct copy_table *t,
			int64_t max_id, struct pl_err *err)
{
	struct pl_stmt *st;
	int64_t seq;

	if (t->id_col < 0)
		return 0;
	seq = pl_db_sequence(src, t->name);
	if (seq < 0)
		return pl_err_internal(err, "sequence of %s: %s", t->name, pl_db_last_error(src));
	if (max_id > seq)
		seq = max_id;
	if (seq == 0)
		return 0;       /* never drew an id: the identity starts at 1 */
	if (!(st = pl_db_prepare(dst, &copy_stmts[COPY_STMT_SETVAL], err)))
		return -1;
	pl_stmt_bind_text(st, 1, t->name);
	pl_stmt_bind_int64(st, 2, seq);
	if (pl_stmt_step(st) != PL_ROW) {
		pl_db_done(st);
		return pl_err_internal(err, "setval %s: %s", t->name, pl_db_last_error(dst));
	}
	pl_db_done(st);
	return 0;
}

/* The counts triggers keep (schema 020, 021), from the copied rows. */
static int recount_members(struct pl_db *dst, struct pl_err *err)
{
	static const enum copy_stmt recounts[] = {
		COPY_STMT_RECOUNT_MEMBERS, COPY_STMT_RECOUNT_MESSAGES, COPY_STMT_RECOUNT_READ,
	};

	for (size_t i = 0; i < sizeof(recounts) / sizeof(recounts[0]); i++) {
		struct pl_stmt *st = pl_db_prepare(dst, &copy_stmts[recounts[i]], err);

		if (!st || pl_db_step_done(dst, st, err) < 0)
			return -1;
	}
	return 0;
}

static int copy_all(struct pl_db *src, struct pl_db *dst, FILE *report, struct pl_err *err)
{
	int64_t n, copied[NTABLES], max_id;
	size_t i;

	for (i = 0; i < NTABLES; i++) {
		if (prepare_table(src, dst, &tables[i], err) < 0)
			return -1;
		if ((n = count_of(dst, &tables[i].dst_count, err)) < 0)
			return -1;
		if (n > 0)
			return pl_err_set(err, 409, "the PostgreSQL database is not empty (%s has %lld "
					  "rows): copy into a new database", tables[i].name,
					  (long long)n);
	}
	for (i = 0; i < NTABLES; i++)
		if (copy_rows(src, dst, &tables[i], &copied[i], &max_id, err) < 0 ||
		    set_sequence(src, dst, &tables[i], max_id, err) < 0)
			return -1;
	if (recount_members(dst, err) < 0)
		return -1;
	for (i = 0; i < NTABLES; i++) {
		int64_t a = count_of(src, &tables[i].src_count, err);
		int64_t b = count_of(dst, &tables[i].dst_count, err);
		if (a < 0 || b < 0)
			return -1;
		if (a != b || b != copied[i])
			return pl_err_internal(err, "%s: %lld rows on SQLite, %lld copied, %lld on "
					       "PostgreSQL", tables[i].name, (long long)a,
					       (long long)copied[i], (long long)b);
		if (report)
			fprintf(report, "%s %lld\n", tables[i].name, (long long)b);
	}
	return 0;
}

int pl_db_copy_to_postgres(struct pl_db *src, struct pl_db *dst, FILE *report,
			   struct pl_err *err)
{
	int rc;

	if (pl_db_kind(src) != PL_DB_SQLITE || pl_db_kind(dst) != PL_DB_POSTGRES)
		return pl_err_set(err, 400, "copy goes from a SQLite file to a PostgreSQL database");
	if (pl_db_version(src) != pl_db_version(dst))
		return pl_err_set(err, 409, "schema versions differ (SQLite %d, PostgreSQL %d): "
				  "migrate both first", pl_db_version(src), pl_db_version(dst));
	if (check_source_tables(src, err) < 0)
		return -1;
	/* one snapshot of the source: a read transaction around every read */
	if (pl_db_exec(src, "BEGIN", err) < 0)
		return -1;
	if (pl_db_begin(dst, err) < 0) {
		pl_db_exec(src, "COMMIT", NULL);
		return -1;
	}
	rc = copy_all(src, dst, report, err);
	rc = pl_db_end(dst, rc, err);
	pl_db_exec(src, "COMMIT", NULL);
	return rc;
}
