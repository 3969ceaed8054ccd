/*
 * test_migrate.c — unit tests of db.h's migration runner and connection
 * settings: every schema/NNN_*.sql applied once, in numeric order, each
 * all-or-nothing; and the pragmas pl_db_open sets (WAL, foreign keys).
 * Runs from the repository root (reads ./schema).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "db.h"
#include "log.h"
#include "unit_util.h"

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Counts ./schema's NNN_*.sql files and finds the highest number. */
static void scan_schema(int *count, int *highest)
{
	DIR *d = opendir("schema");
	struct dirent *de;

	assert_non_null(d);
	*count = 0;
	*highest = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), digits = strspn(de->d_name, "0123456789");
		int n;

		if (digits == 0 || de->d_name[digits] != '_' || len < 5 ||
		    strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		n = atoi(de->d_name);
		(*count)++;
		if (n > *highest)
			*highest = n;
	}
	closedir(d);
	assert_true(*count > 0);
}

static bool table_exists(struct pl_db *db, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
	return unit_int(db, sql) == 1;
}

static int env_setup(void **state)
{
	struct unit_env *env = calloc(1, sizeof(*env));

	if (!env || unit_env_open(env, 0) < 0)
		return -1;
	*state = env;
	return 0;
}

static int env_teardown(void **state)
{
	struct unit_env *env = *state;

	unit_env_close(env);
	free(env);
	return 0;
}

static void test_migrate_empty_db(void **state)
{
	static const char *const tables[] = {
		"users", "sessions", "channels", "channel_members", "messages", "presence", "events",
	};
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	int count, highest, applied = -1;

	scan_schema(&count, &highest);
	assert_int_equal(pl_db_version(env->db), 0);
	assert_int_equal(pl_db_migrate(env->db, "schema", &applied, &err), 0);
	assert_int_equal(applied, count);
	assert_int_equal(pl_db_version(env->db), highest);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!table_exists(env->db, tables[i]))
			fail_msg("table %s missing after migration", tables[i]);
	/* no transaction left open */
	assert_true(sqlite3_get_autocommit(pl_db_handle(env->db)) != 0);
}

static void test_migrate_twice_keeps_data(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	int count, highest, applied = -1;

	scan_schema(&count, &highest);
	assert_int_equal(pl_db_migrate(env->db, "schema", &applied, &err), 0);
	assert_int_equal(applied, count);
	assert_true(unit_add_user(env->db, "survivor") > 0);

	applied = -1;
	assert_int_equal(pl_db_migrate(env->db, "schema", &applied, &err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(pl_db_version(env->db), highest);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM users WHERE username = 'survivor'"), 1);

	/* `applied` may be NULL */
	assert_int_equal(pl_db_migrate(env->db, "schema", NULL, &err), 0);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM users"), 1);
}

/* A second connection sees the migrated schema (it is committed). */
static void test_migrate_visible_to_other_connection(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	struct pl_db *other = NULL;
	int count, highest, applied = 0;

	scan_schema(&count, &highest);
	assert_int_equal(pl_db_migrate(env->db, "schema", &applied, &err), 0);
	assert_int_equal(pl_db_open(env->path, 5000, &other, &err), 0);
	assert_int_equal(pl_db_version(other), highest);
	assert_int_equal(pl_db_migrate(other, "schema", &applied, &err), 0);
	assert_int_equal(applied, 0);
	pl_db_close(other);
}

static void test_migrate_broken_is_never_half(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	char dir[512];
	int applied = -1;

	snprintf(dir, sizeof(dir), "%s/mig", env->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, "001_a.sql", "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n");
	write_file(dir, "002_b.sql",
		   "CREATE TABLE b_partial (y INTEGER);\n"
		   "INSERT INTO a VALUES (2);\n"
		   "CREATE TABLE oops (;\n"
		   "CREATE TABLE b_after (z INTEGER);\n");
	write_file(dir, "003_c.sql", "CREATE TABLE c (z INTEGER);\n");

	assert_int_equal(pl_db_migrate(env->db, dir, &applied, &err), -1);
	assert_true(err.status >= 500);
	assert_int_equal(applied, 1);
	assert_int_equal(pl_db_version(env->db), 1);
	assert_true(table_exists(env->db, "a"));
	assert_false(table_exists(env->db, "b_partial"));  /* DDL before the error: undone */
	assert_false(table_exists(env->db, "b_after"));
	assert_false(table_exists(env->db, "c"));          /* nothing after a failure runs */
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM a"), 1);  /* 002's insert undone */
	assert_true(sqlite3_get_autocommit(pl_db_handle(env->db)) != 0);

	/* failing again changes nothing */
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_db_migrate(env->db, dir, &applied, &err), -1);
	assert_int_equal(applied, 0);
	assert_int_equal(pl_db_version(env->db), 1);

	/* once fixed, 002 and 003 run, 001 does not run again */
	write_file(dir, "002_b.sql", "CREATE TABLE b_partial (y INTEGER);\n");
	assert_int_equal(pl_db_migrate(env->db, dir, &applied, &err), 0);
	assert_int_equal(applied, 2);
	assert_int_equal(pl_db_version(env->db), 3);
	assert_true(table_exists(env->db, "b_partial"));
	assert_true(table_exists(env->db, "c"));
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM a"), 1);
}

static void test_migrate_numeric_order_and_names(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	char dir[512];
	int applied = -1;

	snprintf(dir, sizeof(dir), "%s/mig", env->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	/* 10 needs 9's table: by name "10_" sorts before "9_" */
	write_file(dir, "9_base.sql", "CREATE TABLE base (x INTEGER);\n");
	write_file(dir, "10_index.sql", "CREATE INDEX base_x ON base(x);\n");
	/* not migrations: ignored */
	write_file(dir, "README.md", "CREATE TABLE readme (x);\n");
	write_file(dir, "abc.sql", "CREATE TABLE abc (x);\n");
	write_file(dir, "11-dash.sql", "CREATE TABLE dash (x);\n");
	write_file(dir, "12_notsql.txt", "CREATE TABLE notsql (x);\n");

	assert_int_equal(pl_db_migrate(env->db, dir, &applied, &err), 0);
	assert_int_equal(applied, 2);
	assert_int_equal(pl_db_version(env->db), 10);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM sqlite_master WHERE name = 'base_x'"), 1);
	assert_false(table_exists(env->db, "readme"));
	assert_false(table_exists(env->db, "abc"));
	assert_false(table_exists(env->db, "dash"));
	assert_false(table_exists(env->db, "notsql"));
}

static void test_migrate_missing_dir(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/no-such-dir", env->dir);
	assert_int_equal(pl_db_migrate(env->db, dir, NULL, &err), -1);
	assert_int_equal(err.status, 500);
	assert_int_equal(pl_db_version(env->db), 0);
}

static void test_open_pragmas(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	char mode[32];

	assert_string_equal(unit_text(env->db, "PRAGMA journal_mode", mode, sizeof(mode)), "wal");
	assert_int_equal(unit_int(env->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(unit_int(env->db, "PRAGMA synchronous"), 1);  /* NORMAL */

	/* foreign keys are enforced, not just declared */
	assert_int_equal(pl_db_migrate(env->db, "schema", NULL, &err), 0);
	assert_int_equal(sqlite3_exec(pl_db_handle(env->db),
				      "INSERT INTO sessions (user_id, refresh_hash, created_at, expires_at) "
				      "VALUES (12345, 'h', 1, 2)", NULL, NULL, NULL) & 0xff,
			 SQLITE_CONSTRAINT);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM sessions"), 0);
}

/* foreign_keys is per connection: a second connection gets it too. */
static void test_open_pragmas_second_connection(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	struct pl_db *other = NULL;
	char mode[32];

	assert_int_equal(pl_db_open(env->path, 5000, &other, &err), 0);
	assert_string_equal(unit_text(other, "PRAGMA journal_mode", mode, sizeof(mode)), "wal");
	assert_int_equal(unit_int(other, "PRAGMA foreign_keys"), 1);
	pl_db_close(other);
}

static void test_open_unusable_path(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	struct pl_db *db = (struct pl_db *)0x1;
	char path[600];

	snprintf(path, sizeof(path), "%s/no-such-dir/x.db", env->dir);
	assert_int_equal(pl_db_open(path, 5000, &db, &err), -1);
	assert_int_equal(err.status, 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_empty_db, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_twice_keeps_data, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_visible_to_other_connection, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_broken_is_never_half, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_numeric_order_and_names, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_missing_dir, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_open_pragmas, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_open_pragmas_second_connection, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_open_unusable_path, env_setup, env_teardown),
	};

	pl_log_init("test_migrate", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
