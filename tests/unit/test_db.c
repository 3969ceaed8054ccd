/*
 * test_db.c — unit tests of db.h's migration runner and connection
 * settings: every schema/NNN_*.sql applied once, in numeric order, each
 * all-or-nothing; upgrades keep the data (a foundation-era database to
 * the latest schema; schema 007: ids never reused); the pragmas
 * pl_db_open sets (WAL, foreign keys); and owner-only files: the
 * database, its -wal and -shm and a backup are 0600 whatever the umask,
 * and ones left readable by others are tightened (issue 12, item 8).
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
#include "db_sqlite.h"
#include "log.h"
#include "messages.h"
#include "search.h"
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
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(env->db)) != 0);
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
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(env->db)) != 0);

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

/* Copies ./schema's migrations numbered up to `upto` into `dir`. */
static void copy_schema_upto(const char *dir, int upto)
{
	DIR *d = opendir("schema");
	struct dirent *de;

	assert_non_null(d);
	assert_int_equal(mkdir(dir, 0700), 0);
	while ((de = readdir(d))) {
		char path[1024], *text;
		FILE *f;
		long len;

		if (atoi(de->d_name) <= 0 || atoi(de->d_name) > upto)
			continue;
		snprintf(path, sizeof(path), "schema/%s", de->d_name);
		assert_non_null(f = fopen(path, "r"));
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		text = calloc(1, (size_t)len + 1);
		assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		write_file(dir, de->d_name, text);
		free(text);
	}
	closedir(d);
}

/*
 * Schema 007 on a database of schema 6 whose newest channel, message and
 * notification were deleted (issue 12): no id is given again, rows and
 * references survive, foreign keys still hold, the deleted channel's
 * events are gone, payloads keep ids only, and a presence event's channel
 * moved to its row.
 */
static void test_migrate_007_ids_never_reused(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
	struct pl_err err = { 0 };
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/upto6", env->dir);
	copy_schema_upto(dir, 6);
	assert_int_equal(pl_db_migrate(db, dir, NULL, &err), 0);
	assert_int_equal(pl_db_version(db), 6);
	assert_int_equal(unit_exec(db,
		"INSERT INTO users (id, username, password_hash, created_at) VALUES "
		"(1, 'ann', 'x', 1), (2, 'ben', 'x', 1);"
		"INSERT INTO sessions (id, user_id, refresh_hash, created_at, expires_at) VALUES "
		"(1, 1, 'h1', 1, 9), (2, 2, 'h2', 1, 9);"
		"INSERT INTO channels (id, name, kind, created_by, created_at) VALUES "
		"(1, 'kept', 'public', 1, 100), (2, 'doomed', 'private', 1, 100);"
		"INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES "
		"(1, 1, 'owner', 100), (1, 2, 'member', 100), (2, 1, 'owner', 100);"
		"INSERT INTO messages (id, channel_id, user_id, content, created_at) VALUES "
		"(1, 1, 1, 'hello', 200), (2, 2, 1, 'secret words', 200);"
		"INSERT INTO notifications (id, user_id, kind, message_id, created_at) VALUES "
		"(1, 2, 'mention', 1, 200);"
		"INSERT INTO presence (user_id, channel_id, last_seen) VALUES (1, 2, 300);"
		"INSERT INTO events (type, scope, channel_id, user_id, payload, created_at) VALUES "
		"('channel.created', 0, 2, 1, '{\"channel\":{\"id\":2,\"name\":\"doomed\"}}', 100),"
		"('message.created', 0, 2, 1, '{\"message\":{\"id\":2,\"content\":\"secret words\"}}', 200),"
		"('message.created', 0, 1, 1, '{\"message\":{\"id\":1,\"content\":\"hello\"}}', 200),"
		"('notification', 1, 1, 2, '{\"notification\":{\"id\":1,\"message\":{\"id\":1}}}', 200),"
		"('presence', 3, NULL, 1, '{\"user_id\":1,\"online\":true,\"channel_id\":1}', 250),"
		"('channel.deleted', 1, 2, 1, '{\"channel\":{\"id\":2,\"name\":\"doomed\",\"kind\":\"private\"}}', 300);"
		"DELETE FROM channels WHERE id = 2;"), 0);
	/* before: the deleted channel's id would be given again */
	assert_int_equal(unit_int(db, "SELECT coalesce(max(id), 0) + 1 FROM channels"), 2);

	assert_int_equal(pl_db_migrate(db, "schema", NULL, &err), 0);
	assert_true(pl_db_version(db) >= 7);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_int_equal(unit_int(db, "PRAGMA foreign_keys"), 1);
	/* rows kept, ids kept */
	assert_int_equal(unit_int(db, "SELECT count(*) FROM users"), 2);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM messages WHERE id = 1 AND content = 'hello'"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM notifications WHERE id = 1"), 1);
	/* never the id of the deleted channel (nor message) again */
	assert_int_equal(unit_exec(db, "INSERT INTO channels (name, kind, created_at) VALUES ('new', 'public', 400)"), 0);
	assert_int_equal(unit_int(db, "SELECT max(id) FROM channels"), 3);
	assert_int_equal(unit_exec(db, "INSERT INTO messages (channel_id, user_id, content, created_at) VALUES (1, 1, 'x', 400)"), 0);
	assert_int_equal(unit_int(db, "SELECT max(id) FROM messages"), 3);
	/* the deleted channel: its events gone but the deletion notice (id and
	 * kind only), its presence rows gone; no text left in any payload */
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE channel_id = 2"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE channel_id = 2 AND "
				      "payload = '{\"channel\":{\"id\":2,\"kind\":\"private\"}}'"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM presence WHERE channel_id = 2"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE payload LIKE '%secret%' "
				      "OR payload LIKE '%hello%' OR payload LIKE '%doomed%'"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE type = 'message.created' "
				      "AND payload = '{\"message\":{\"id\":1}}'"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE type = 'presence' AND "
				      "channel_id = 1 AND json_extract(payload, '$.channel_id') IS NULL"), 1);
	/* foreign keys act on the rebuilt tables */
	assert_int_equal(unit_exec(db, "DELETE FROM users WHERE id = 2"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM sessions WHERE user_id = 2"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM notifications"), 0);
}

/* Copies ./schema/`name` into `dir`. */
static void copy_schema(const char *dir, const char *name)
{
	char src[512], dst[1024], buf[8192];
	FILE *in, *out;
	size_t n;

	snprintf(src, sizeof(src), "schema/%s", name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	in = fopen(src, "rb");
	out = fopen(dst, "wb");
	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void test_upgrade_from_foundation_keeps_data(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	char dir[512], text[256];
	int applied = 0;

	snprintf(dir, sizeof(dir), "%s/foundation", env->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	copy_schema(dir, "001_init.sql");
	copy_schema(dir, "002_ws_tickets.sql");
	assert_int_equal(pl_db_migrate(env->db, dir, &applied, &err), 0);
	assert_int_equal(pl_db_version(env->db), 2);
	/* a foundation-era database with people, channels, messages, events */
	assert_int_equal(unit_exec(env->db,
		"INSERT INTO users (id, username, password_hash, created_at) VALUES "
		"(1, 'old_alice', 'x', 1), (2, 'old_bob', 'x', 2);"
		"INSERT INTO channels (id, name, kind, created_by, created_at) VALUES "
		"(1, 'general', 'public', 1, 3), (2, 'hush', 'private', 1, 4);"
		"INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_id) VALUES "
		"(1, 1, 'owner', 5, 0), (1, 2, 'member', 6, 1), (2, 1, 'owner', 7, 0);"
		"INSERT INTO messages (id, channel_id, user_id, content, created_at, client_msg_id) VALUES "
		"(1, 1, 1, 'ancient aardvark', 8, 'c1'), (2, 1, 2, 'hello', 9, NULL), "
		"(3, 2, 1, 'secret aardvark', 10, NULL);"
		"INSERT INTO events (type, scope, channel_id, user_id, payload, created_at) VALUES "
		"('message.created', 0, 1, 1, '{}', 11);"), 0);

	assert_int_equal(pl_db_migrate(env->db, "schema", &applied, &err), 0);
	assert_true(applied >= 2);
	assert_true(pl_db_version(env->db) >= 4);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM users"), 2);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM channels WHERE dm_key IS NULL"), 2);
	assert_int_equal(unit_int(env->db, "SELECT last_read_id FROM channel_members WHERE user_id = 2"), 1);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM events"), 1);
	assert_string_equal(unit_text(env->db, "SELECT content FROM messages WHERE client_msg_id = 'c1'",
				      text, sizeof(text)), "ancient aardvark");
	/* the old messages are searchable, and the new code reads them */
	assert_int_equal(unit_int(env->db,
		"SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'aardvark'"), 2);
	{
		cJSON *out = NULL;
		assert_int_equal(pl_message_search(env->db, 2, "aardvark", 0, 10, &out, &err), 0);
		/* bob reads the public one only */
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "messages")), 1);
		cJSON_Delete(out);
		assert_int_equal(pl_message_history(env->db, 1, 1, 0, 0, 50, &out, &err), 0);
		assert_int_equal(cJSON_GetArraySize(out), 2);
		cJSON_Delete(out);
	}
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
	assert_int_equal(sqlite3_exec(pl_db_sqlite(env->db),
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

/* ---- owner-only files ---- */

/* A scratch directory; the umask is restored afterwards. */
struct fixture {
	char dir[256];
	char path[512];
	mode_t umask_before;
};

static int dir_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || unit_mkdtemp(f->dir, sizeof(f->dir)) < 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/f", f->dir);
	f->umask_before = umask(022);
	*state = f;
	return 0;
}

static int dir_teardown(void **state)
{
	struct fixture *f = *state;

	umask(f->umask_before);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

static void db_write(struct pl_db *db)
{
	assert_int_equal(sqlite3_exec(pl_db_sqlite(db), "CREATE TABLE IF NOT EXISTS t (x);"
				      "INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
}

static void expect_private(const char *dir, const char *name)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (unit_mode_of(p) != 0600)
		fail_msg("%s is mode %04o, expected 0600", p, unit_mode_of(p));
}

/* Fresh database under umask 022 and 0: it, its -wal and -shm (while
 * open) and a backup are 0600. */
static void test_db_files_private(void **state)
{
	struct fixture *f = *state;
	static const mode_t masks[] = { 022, 0 };
	char db_path[600], bk_path[600];

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct pl_db *db = NULL;
		struct pl_err err = { 0 };

		umask(masks[i]);
		snprintf(db_path, sizeof(db_path), "%s/p%zu.db", f->dir, i);
		snprintf(bk_path, sizeof(bk_path), "%s/p%zu.backup", f->dir, i);
		assert_int_equal(pl_db_open(db_path, 1000, &db, &err), 0);
		db_write(db);
		assert_int_equal(pl_db_backup(db, bk_path, &err), 0);
		snprintf(db_path, sizeof(db_path), "p%zu.db", i);
		expect_private(f->dir, db_path);
		snprintf(db_path, sizeof(db_path), "p%zu.db-wal", i);
		expect_private(f->dir, db_path);
		snprintf(db_path, sizeof(db_path), "p%zu.db-shm", i);
		expect_private(f->dir, db_path);
		snprintf(bk_path, sizeof(bk_path), "p%zu.backup", i);
		expect_private(f->dir, bk_path);
		pl_db_close(db);
	}
}

/* A database and a -wal/-shm left 0644 (by an older parley: SQLite's own
 * 0644 & ~umask) are made 0600 by the next pl_db_open; a backup over a
 * 0644 file is made 0600 before it is written. */
static void test_db_existing_tightened(void **state)
{
	struct fixture *f = *state;
	struct pl_db *db = NULL;
	struct pl_err err = { 0 };
	sqlite3 *h = NULL;
	char db_path[600], bk_path[600];

	snprintf(db_path, sizeof(db_path), "%s/old.db", f->dir);
	snprintf(bk_path, sizeof(bk_path), "%s/old.backup", f->dir);
	unit_make_file(bk_path, 0644);
	assert_int_equal(sqlite3_open(db_path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA journal_mode=WAL; CREATE TABLE t (x);"
				      "INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
	/* this connection keeps -wal and -shm, 0644 like the database */
	assert_int_equal(unit_mode_of(db_path), 0644);
	assert_int_equal(pl_db_open(db_path, 1000, &db, &err), 0);
	expect_private(f->dir, "old.db");
	expect_private(f->dir, "old.db-wal");
	expect_private(f->dir, "old.db-shm");
	assert_int_equal(pl_db_backup(db, bk_path, &err), 0);
	expect_private(f->dir, "old.backup");
	pl_db_close(db);
	sqlite3_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_empty_db, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_twice_keeps_data, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_visible_to_other_connection, unit_env_setup_empty,
						unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_broken_is_never_half, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_numeric_order_and_names, unit_env_setup_empty,
						unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_missing_dir, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_007_ids_never_reused, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_foundation_keeps_data, unit_env_setup_empty,
						unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_pragmas, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_pragmas_second_connection, unit_env_setup_empty,
						unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_unusable_path, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_db_files_private, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_db_existing_tightened, dir_setup, dir_teardown),
	};

	pl_log_init("test_db", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
