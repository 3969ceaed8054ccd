/*
 * test_util.c — unit tests of owner-only files (issue 12, item 8):
 * pl_file_private (util.h) under several umasks, and pl_db_open /
 * pl_db_backup (db.h) leaving the database, its -wal and -shm and a backup
 * readable by their owner only. SQLite gives -wal and -shm the database's
 * mode, which is why the database itself must start 0600.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "db.h"
#include "db_sqlite.h"
#include "util.h"
#include "unit_util.h"

struct fixture {
	char dir[256];
	char path[512];
	mode_t umask_before;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || unit_mkdtemp(f->dir, sizeof(f->dir)) < 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/f", f->dir);
	f->umask_before = umask(022);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	umask(f->umask_before);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

static unsigned mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (unsigned)(sb.st_mode & 07777);
}

static void make_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* Created exactly 0600 whatever the umask (open(2) alone would give
 * 0600 & ~umask, and SQLite 0644 & ~umask). */
static void test_create_ignores_umask(void **state)
{
	struct fixture *f = *state;
	static const mode_t masks[] = { 0, 022, 002, 077, 0277 };
	unsigned was = 1;

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		umask(masks[i]);
		unlink(f->path);
		assert_int_equal(pl_file_private(f->path, true, &was), 0);
		assert_int_equal(mode_of(f->path), 0600);
		assert_int_equal(was, 0);
	}
}

static void test_missing_without_create(void **state)
{
	struct fixture *f = *state;
	unsigned was = 1;

	assert_int_equal(pl_file_private(f->path, false, &was), 0);
	assert_int_equal(was, 0);
	assert_int_equal(access(f->path, F_OK), -1);
}

/* An existing file keeps its contents and owner bits, loses the rest. */
static void test_existing_is_tightened(void **state)
{
	struct fixture *f = *state;
	static const mode_t modes[] = { 0644, 0666, 0640, 0604, 0602, 0620, 0755, 0400 | 044 };
	char c = 0;
	unsigned was;
	int fd;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		make_file(f->path, modes[i]);
		for (int create = 0; create <= 1; create++) {
			assert_int_equal(chmod(f->path, modes[i]), 0);
			assert_int_equal(pl_file_private(f->path, create, &was), 0);
			assert_int_equal(mode_of(f->path), modes[i] & 0700);
			assert_int_equal(was, modes[i]);
		}
		/* already private: nothing done, nothing to report */
		assert_int_equal(pl_file_private(f->path, true, &was), 0);
		assert_int_equal(was, 0);
	}
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, &c, 1), 1);
	close(fd);
	assert_int_equal(c, 'x');
}

/* A directory (or anything else not a regular file) is not parley's to chmod. */
static void test_directory_left_alone(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->path, 0755), 0);
	assert_int_equal(chmod(f->path, 0755), 0);
	assert_int_equal(pl_file_private(f->path, true, NULL), 0);
	assert_int_equal(mode_of(f->path), 0755);
	assert_int_equal(rmdir(f->path), 0);
}

static void test_unreachable_path_fails(void **state)
{
	struct fixture *f = *state;
	char path[600];

	snprintf(path, sizeof(path), "%s/no-such-dir/f", f->dir);
	errno = 0;
	assert_int_equal(pl_file_private(path, true, NULL), -1);
	assert_int_equal(errno, ENOENT);
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
	if (mode_of(p) != 0600)
		fail_msg("%s is mode %04o, expected 0600", p, mode_of(p));
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
	make_file(bk_path, 0644);
	assert_int_equal(sqlite3_open(db_path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA journal_mode=WAL; CREATE TABLE t (x);"
				      "INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
	/* this connection keeps -wal and -shm, 0644 like the database */
	assert_int_equal(mode_of(db_path), 0644);
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
		cmocka_unit_test_setup_teardown(test_create_ignores_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_without_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_is_tightened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_path_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_files_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_existing_tightened, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
