/*
 * db_engine.h — what an engine implements behind db.h (internal to db_engine.c,
 * db_sqlite.c and db_pg.c; nothing else includes it).
 *
 * A connection is an engine's own struct whose first member is a struct
 * pl_db; a statement likewise starts with a struct pl_stmt. db_engine.c
 * dispatches each db.h call through the connection's engine table and
 * implements once what is the same on every engine (pl_db_end,
 * pl_db_step_done, pl_db_step_id, the choice of a statement's text).
 */
#ifndef PL_DB_ENGINE_H
#define PL_DB_ENGINE_H

#include "db.h"

struct pl_db_engine;

struct pl_db {
	const struct pl_db_engine *eng;
	uint64_t errors;            /* failed statements so far (pl_db_error_count) */
};

struct pl_stmt {
	const struct pl_db_engine *eng;
	struct pl_db *db;           /* the connection it belongs to */
};

/* The statement cache bound, per connection and engine. */
#define PL_DB_STMT_CACHE_MAX 256

/*
 * One engine. Every member is required; each has the meaning of the db.h
 * function of the same name (prepare: the cached statement for `key`,
 * prepared from `sql` the first time).
 */
struct pl_db_engine {
	enum pl_db_kind kind;
	void (*close)(struct pl_db *db);
	struct pl_stmt *(*prepare)(struct pl_db *db, const void *key, const char *sql,
				   struct pl_err *err);
	void (*done)(struct pl_stmt *st);
	void (*bind_int64)(struct pl_stmt *st, int idx, int64_t v);
	void (*bind_text)(struct pl_stmt *st, int idx, const char *s);
	void (*bind_blob)(struct pl_stmt *st, int idx, const void *p, size_t n);
	void (*bind_null)(struct pl_stmt *st, int idx);
	int (*param_count)(struct pl_stmt *st);
	enum pl_step (*step)(struct pl_stmt *st);
	int64_t (*column_int64)(struct pl_stmt *st, int col);
	const char *(*column_text)(struct pl_stmt *st, int col);
	const void *(*column_blob)(struct pl_stmt *st, int col, size_t *n);
	bool (*column_null)(struct pl_stmt *st, int col);
	const char *(*sql)(struct pl_stmt *st);
	int64_t (*changes)(struct pl_db *db);
	int64_t (*last_id)(struct pl_db *db);
	int (*exec)(struct pl_db *db, const char *sql, struct pl_err *err);
	int (*begin)(struct pl_db *db, struct pl_err *err);
	int (*commit)(struct pl_db *db, struct pl_err *err);
	void (*rollback)(struct pl_db *db);
	int64_t (*data_version)(struct pl_db *db);
	int64_t (*size)(struct pl_db *db);
	int64_t (*sequence)(struct pl_db *db, const char *table);
	int (*migrate)(struct pl_db *db, const char *schema_dir, int *applied, struct pl_err *err);
	int (*version)(struct pl_db *db);
	int (*backup)(struct pl_db *db, const char *path, struct pl_err *err);
	const char *(*last_error)(struct pl_db *db);
};

/* The engines' openers (db_engine.c picks one by the address's form). */
int pl_db_sqlite_open(const char *path, int busy_timeout_ms, struct pl_db **out,
		      struct pl_err *err);
int pl_db_pg_open(const char *conninfo, int busy_timeout_ms, struct pl_db **out,
		  struct pl_err *err);

/* PostgreSQL's listener (db.h, pl_db_listen). */
int pl_db_pg_listen(const char *conninfo, struct pl_db_listener **out, struct pl_err *err);

/* Migration file names, shared by the engines' runners: NNN of
 * "NNN_description.sql" (NNN > 0), or -1 for any other name. */
int pl_db_migration_number(const char *name);

/* The migration files of `dir`, sorted by number (two with one number are
 * an error). On success *names (free each and the array with
 * pl_db_migration_names_free) and *n are set. Returns 0 or -1 (`err`). */
int pl_db_migration_names(const char *dir, char ***names, size_t *n, struct pl_err *err);
void pl_db_migration_names_free(char **names, size_t n);

/* The whole file at `path` as a NUL-terminated string (caller frees), or
 * NULL with `err` set. */
char *pl_db_read_file(const char *path, struct pl_err *err);

#endif
