/*
 * unit_util.h — helpers shared by the unit tests that need a database:
 * a private temporary directory, a migrated SQLite file inside it,
 * cmocka setup/teardown around them, one-line SQL helpers for setting up
 * rows and counting them, query plans, and file modes. Include it
 * after <cmocka.h>. Everything is `static inline` so a test file may use
 * any subset without unused-function warnings.
 */
#ifndef PL_UNIT_UTIL_H
#define PL_UNIT_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* cmocka setup and teardown around a struct unit_env in *state:
 * unit_env_setup migrates the database, unit_env_setup_empty does not. */
static inline int unit_env_setup_with(void **state, int migrate)
{
	struct unit_env *env = calloc(1, sizeof(*env));

	if (!env || unit_env_open(env, migrate) < 0)
		return -1;
	*state = env;
	return 0;
}

static inline int unit_env_setup(void **state)
{
	return unit_env_setup_with(state, 1);
}

static inline int unit_env_setup_empty(void **state)
{
	return unit_env_setup_with(state, 0);
}

static inline int unit_env_teardown(void **state)
{
	struct unit_env *env = *state;

	unit_env_close(env);
	free(env);
	return 0;
}

/* unit_plan: the query plan of `sql` as one string, details joined by " | ". */
static inline void unit_plan(struct pl_db *db, const char *sql, char *out, size_t len)
{
	char q[4096];
	sqlite3_stmt *st = NULL;
	size_t used = 0;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(pl_db_sqlite(db), q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, pl_db_last_error(db));
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && used < len)
		used += (size_t)snprintf(out + used, len - used, "%s | ",
					 (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
}

/* unit_expect_plan: fails unless the plan of `sql` contains `must` and
 * (when not NULL) lacks `never`. */
static inline void unit_expect_plan(struct pl_db *db, const char *sql, const char *must,
				    const char *never)
{
	char p[4096];

	unit_plan(db, sql, p, sizeof(p));
	if (!strstr(p, must))
		fail_msg("plan lacks \"%s\": %s\n(for %s)", must, p, sql);
	if (never && strstr(p, never))
		fail_msg("plan has \"%s\": %s\n(for %s)", never, p, sql);
}

/* unit_mode_of: the permission bits of `path` (which must exist). */
static inline unsigned unit_mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (unsigned)(sb.st_mode & 07777);
}

/* unit_make_file: `path` holding "x", then chmod to `mode`. */
static inline void unit_make_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

#endif
