/*
 * db_engine.c — db.h on any engine: picks the engine by the address's form,
 * dispatches through its table (db_engine.h), and implements once what
 * every engine shares.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "db_engine.h"
#include "util.h"

enum pl_db_kind pl_db_engine_of(const char *url)
{
	return pl_url_is_postgres(url) ? PL_DB_POSTGRES : PL_DB_SQLITE;
}

int pl_db_open(const char *url, int busy_timeout_ms, struct pl_db **out, struct pl_err *err)
{
	if (pl_db_engine_of(url) == PL_DB_POSTGRES)
		return pl_db_pg_open(url, busy_timeout_ms, out, err);
	if (strncmp(url, "sqlite:", 7) == 0)
		url += 7;
	return pl_db_sqlite_open(url, busy_timeout_ms, out, err);
}

enum pl_db_kind pl_db_kind(const struct pl_db *db)
{
	return db->eng->kind;
}

void pl_db_close(struct pl_db *db)
{
	if (db)
		db->eng->close(db);
}

uint64_t pl_db_error_count(const struct pl_db *db)
{
	return db->errors;
}

struct pl_stmt *pl_db_prepare(struct pl_db *db, const struct pl_sql *q, struct pl_err *err)
{
	const char *sql = db->eng->kind == PL_DB_POSTGRES && q->pg ? q->pg : q->sql;
	struct pl_stmt *st = db->eng->prepare(db, q, sql, err);

	if (!st)
		db->errors++;
	return st;
}

struct pl_stmt *pl_db_stmt(struct pl_db *db, const char *sql, struct pl_err *err)
{
	struct pl_stmt *st = db->eng->prepare(db, sql, sql, err);

	if (!st)
		db->errors++;
	return st;
}

void pl_db_done(struct pl_stmt *st)
{
	if (st)
		st->eng->done(st);
}

void pl_stmt_bind_int64(struct pl_stmt *st, int idx, int64_t v)
{
	st->eng->bind_int64(st, idx, v);
}

void pl_stmt_bind_int(struct pl_stmt *st, int idx, int v)
{
	st->eng->bind_int64(st, idx, v);
}

void pl_stmt_bind_id(struct pl_stmt *st, int idx, int64_t id)
{
	if (id)
		st->eng->bind_int64(st, idx, id);
	else
		st->eng->bind_null(st, idx);
}

void pl_stmt_bind_text(struct pl_stmt *st, int idx, const char *s)
{
	if (s)
		st->eng->bind_text(st, idx, s);
	else
		st->eng->bind_null(st, idx);
}

void pl_stmt_bind_blob(struct pl_stmt *st, int idx, const void *p, size_t n)
{
	st->eng->bind_blob(st, idx, p, n);
}

void pl_stmt_bind_null(struct pl_stmt *st, int idx)
{
	st->eng->bind_null(st, idx);
}

int pl_stmt_param_count(struct pl_stmt *st)
{
	return st->eng->param_count(st);
}

enum pl_step pl_stmt_step(struct pl_stmt *st)
{
	enum pl_step rc = st->eng->step(st);

	if (rc == PL_ERROR || rc == PL_BUSY)
		st->db->errors++;
	return rc;
}

int64_t pl_stmt_int64(struct pl_stmt *st, int col)
{
	return st->eng->column_int64(st, col);
}

int pl_stmt_int(struct pl_stmt *st, int col)
{
	return (int)st->eng->column_int64(st, col);
}

const char *pl_stmt_text(struct pl_stmt *st, int col)
{
	return st->eng->column_text(st, col);
}

const void *pl_stmt_blob(struct pl_stmt *st, int col, size_t *n)
{
	return st->eng->column_blob(st, col, n);
}

bool pl_stmt_null(struct pl_stmt *st, int col)
{
	return st->eng->column_null(st, col);
}

const char *pl_stmt_sql(struct pl_stmt *st)
{
	return st->eng->sql(st);
}

int64_t pl_db_changes(struct pl_db *db)
{
	return db->eng->changes(db);
}

int64_t pl_db_last_id(struct pl_db *db)
{
	return db->eng->last_id(db);
}

int pl_db_exec(struct pl_db *db, const char *sql, struct pl_err *err)
{
	int rc = db->eng->exec(db, sql, err);

	if (rc < 0)
		db->errors++;
	return rc;
}

int pl_db_step_done(struct pl_db *db, struct pl_stmt *st, struct pl_err *err)
{
	enum pl_step step = st->eng->step(st);

	st->eng->done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "step: %s: %s", pl_db_last_error(db), st->eng->sql(st));
	return 0;
}

int pl_db_step_id(struct pl_db *db, struct pl_stmt *st, int64_t *out, struct pl_err *err)
{
	enum pl_step step = st->eng->step(st);

	if (step == PL_ROW)
		*out = st->eng->column_int64(st, 0);
	st->eng->done(st);
	if (step == PL_ROW)
		return 0;
	if (step != PL_DONE)
		return pl_err_internal(err, "lookup: %s: %s", pl_db_last_error(db), st->eng->sql(st));
	return 1;
}

int pl_db_begin(struct pl_db *db, struct pl_err *err)
{
	int rc = db->eng->begin(db, err);

	if (rc < 0)
		db->errors++;
	return rc;
}

int pl_db_commit(struct pl_db *db, struct pl_err *err)
{
	if (db->eng->commit(db, err) < 0) {
		db->errors++;
		db->eng->rollback(db);
		return -1;
	}
	return 0;
}

void pl_db_rollback(struct pl_db *db)
{
	db->eng->rollback(db);
}

int pl_db_end(struct pl_db *db, int rc, struct pl_err *err)
{
	if (rc == 0)
		return pl_db_commit(db, err);
	pl_db_rollback(db);
	return -1;
}

int64_t pl_db_data_version(struct pl_db *db)
{
	return db->eng->data_version(db);
}

int64_t pl_db_size(struct pl_db *db)
{
	return db->eng->size(db);
}

int64_t pl_db_sequence(struct pl_db *db, const char *table)
{
	return db->eng->sequence(db, table);
}

int pl_db_migrate(struct pl_db *db, const char *schema_dir, int *applied, struct pl_err *err)
{
	return db->eng->migrate(db, schema_dir, applied, err);
}

int pl_db_version(struct pl_db *db)
{
	return db->eng->version(db);
}

int pl_db_backup(struct pl_db *db, const char *path, struct pl_err *err)
{
	return db->eng->backup(db, path, err);
}

const char *pl_db_last_error(struct pl_db *db)
{
	return db->eng->last_error(db);
}

int pl_db_listen(const char *url, struct pl_db_listener **out, struct pl_err *err)
{
	*out = NULL;
	if (pl_db_engine_of(url) != PL_DB_POSTGRES)
		return 1;
	return pl_db_pg_listen(url, out, err);
}

/* ---- migration files, for every engine's runner ---- */

int pl_db_migration_number(const char *name)
{
	int n = 0, digits = 0;
	size_t len = strlen(name);

	while (name[digits] >= '0' && name[digits] <= '9' && digits < 6)
		n = n * 10 + (name[digits++] - '0');
	if (digits == 0 || name[digits] != '_' || len < 5 || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	return n;
}

static int cmp_names(const void *a, const void *b)
{
	return pl_db_migration_number(*(char *const *)a) - pl_db_migration_number(*(char *const *)b);
}

void pl_db_migration_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int pl_db_migration_names(const char *dir, char ***out, size_t *nout, struct pl_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return pl_err_internal(err, "cannot open schema dir %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (pl_db_migration_number(de->d_name) <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = pl_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = pl_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 1; i < n; i++) {
		if (pl_db_migration_number(names[i - 1]) == pl_db_migration_number(names[i])) {
			pl_err_internal(err, "two migrations numbered %d", pl_db_migration_number(names[i]));
			pl_db_migration_names_free(names, n);
			return -1;
		}
	}
	*out = names;
	*nout = n;
	return 0;
}

char *pl_db_read_file(const char *path, struct pl_err *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f) {
		pl_err_internal(err, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = pl_xmalloc((size_t)len + 1);
		if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else {
			buf[len] = '\0';
		}
	}
	fclose(f);
	if (!buf)
		pl_err_internal(err, "cannot read %s", path);
	return buf;
}
