/*
 * unit_util.h — helpers shared by the unit tests that need a database:
 * a private temporary directory, a migrated SQLite file inside it, and
 * one-line SQL helpers for setting up rows and counting them. Include it
 * after <cmocka.h>. Everything is `static inline` so a test file may use
 * any subset without unused-function warnings.
 */
#ifndef PL_UNIT_UTIL_H
#define PL_UNIT_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "db.h"
#include "db_sqlite.h"

/* A scratch directory and the database opened in it. */
struct unit_env {
	char dir[256];
	char path[512];
	struct pl_db *db;
};

/* unit_mkdtemp: creates a fresh directory under $TMPDIR (or /tmp) into
 * `dir` (`len` bytes). Returns 0 or -1. */
static inline int unit_mkdtemp(char *dir, size_t len)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, len, "%s/parley-unit-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

/* unit_rmtree: removes `dir` and everything below it. */
static inline void unit_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[1024];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p))
			continue;
		if (unlink(p) < 0)
			unit_rmtree(p);  /* a directory */
	}
	closedir(d);
	rmdir(dir);
}

/* unit_env_open: scratch dir + database file "test.db", opened with
 * pl_db_open and, when `migrate`, migrated from ./schema (the tests run
 * from the repository root). Returns 0 or -1 (printed). */
static inline int unit_env_open(struct unit_env *env, int migrate)
{
	struct pl_err err = { 0 };
	int applied = 0;

	memset(env, 0, sizeof(*env));
	if (unit_mkdtemp(env->dir, sizeof(env->dir)) < 0)
		return -1;
	snprintf(env->path, sizeof(env->path), "%s/test.db", env->dir);
	if (pl_db_open(env->path, 5000, &env->db, &err) < 0) {
		fprintf(stderr, "pl_db_open: %d %s\n", err.status, err.message);
		return -1;
	}
	if (migrate && pl_db_migrate(env->db, "schema", &applied, &err) < 0) {
		fprintf(stderr, "pl_db_migrate: %d %s\n", err.status, err.message);
		return -1;
	}
	return 0;
}

/* unit_env_close: closes the database and removes the scratch dir. */
static inline void unit_env_close(struct unit_env *env)
{
	pl_db_close(env->db);
	env->db = NULL;
	if (env->dir[0])
		unit_rmtree(env->dir);
	env->dir[0] = '\0';
}

/* unit_exec: runs `sql` (no rows expected); 0 or -1 (printed). */
static inline int unit_exec(struct pl_db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(pl_db_sqlite(db), sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sql failed: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* unit_int: the first column of the first row of `sql` as an integer,
 * or -999 when there is no row or the statement fails. */
static inline int64_t unit_int(struct pl_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -999;

	if (sqlite3_prepare_v2(pl_db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "prepare failed: %s: %s\n", sql, pl_db_last_error(db));
		return v;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* unit_text: the first column of the first row of `sql` copied into
 * `out` (`len` bytes); "" when there is no row. Returns `out`. */
static inline char *unit_text(struct pl_db *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (sqlite3_prepare_v2(pl_db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
		return out;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* unit_add_user: inserts a user row directly (no password hashing: the
 * hash is a placeholder nobody can log in with). Returns its id or -1. */
static inline int64_t unit_add_user(struct pl_db *db, const char *username)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO users (username, password_hash, created_at) "
		 "VALUES ('%s', 'x', 1)", username);  /* test-only names */
	if (unit_exec(db, sql) < 0)
		return -1;
	return sqlite3_last_insert_rowid(pl_db_sqlite(db));
}

#endif
