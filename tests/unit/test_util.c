/*
 * test_util.c — unit tests of util.h: owner-only files (issue 12, item 8:
 * pl_file_private creates 0600 whatever the umask and tightens what it
 * finds; db.h's files are in test_db.c), UTF-8 checks counting code
 * points, trim, id parsing, RFC 3339 time formatting.
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
#include <time.h>
#include <unistd.h>
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
		assert_int_equal(unit_mode_of(f->path), 0600);
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
		unit_make_file(f->path, modes[i]);
		for (int create = 0; create <= 1; create++) {
			assert_int_equal(chmod(f->path, modes[i]), 0);
			assert_int_equal(pl_file_private(f->path, create, &was), 0);
			assert_int_equal(unit_mode_of(f->path), modes[i] & 0700);
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
	assert_int_equal(unit_mode_of(f->path), 0755);
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

/* ---- strings, ids, times ---- */

static void test_utf8_valid(void **state)
{
	size_t cps = 99;
	(void)state;

	assert_true(pl_utf8_valid("", 0, &cps));
	assert_int_equal(cps, 0);
	assert_true(pl_utf8_valid("hello", 5, &cps));
	assert_int_equal(cps, 5);
	assert_true(pl_utf8_valid("h\xc3\xa9llo", 6, &cps));
	assert_int_equal(cps, 5);
	assert_true(pl_utf8_valid("\xf0\x9f\x91\x8d", 4, &cps));  /* U+1F44D */
	assert_int_equal(cps, 1);
	assert_true(pl_utf8_valid("\xe2\x82\xac\xe2\x82\xac", 6, &cps));  /* two euro signs */
	assert_int_equal(cps, 2);
	assert_true(pl_utf8_valid("\xf4\x8f\xbf\xbf", 4, &cps));  /* U+10FFFF */
	assert_int_equal(cps, 1);
	assert_true(pl_utf8_valid("\xed\x9f\xbf", 3, NULL));      /* U+D7FF */
	assert_true(pl_utf8_valid("\xee\x80\x80", 3, NULL));      /* U+E000 */

	assert_false(pl_utf8_valid("\xff", 1, NULL));
	assert_false(pl_utf8_valid("\xc0\xaf", 2, NULL));
	assert_false(pl_utf8_valid("\xc1\xbf", 2, NULL));
	assert_false(pl_utf8_valid("\xe0\x9f\xbf", 3, NULL));
	assert_false(pl_utf8_valid("\xf0\x8f\xbf\xbf", 4, NULL));
	assert_false(pl_utf8_valid("\xed\xa0\x80", 3, NULL));
	assert_false(pl_utf8_valid("\xed\xbf\xbf", 3, NULL));
	assert_false(pl_utf8_valid("\xf4\x90\x80\x80", 4, NULL));
	assert_false(pl_utf8_valid("\xf5\x80\x80\x80", 4, NULL));
	assert_false(pl_utf8_valid("\x80", 1, NULL));
	assert_false(pl_utf8_valid("a\xc3", 2, NULL));
	/* len bounds the check: a sequence cut by len is invalid */
	assert_false(pl_utf8_valid("h\xc3\xa9llo", 2, NULL));
	assert_true(pl_utf8_valid("h\xc3\xa9llo", 3, &cps));
	assert_int_equal(cps, 2);
}

static void expect_trim(const char *in, const char *want)
{
	char *got = pl_trim(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_trim(void **state)
{
	(void)state;
	expect_trim("  a b \t\r\n", "a b");
	expect_trim("\t\n x", "x");
	expect_trim("x", "x");
	expect_trim("", "");
	expect_trim(" \t\r\n ", "");
	expect_trim("a  \t b", "a  \t b");
	/* only ASCII space, tab, CR, LF are trimmed */
	expect_trim("\xc2\xa0x\xc2\xa0", "\xc2\xa0x\xc2\xa0");
	expect_trim(" h\xc3\xa9 ", "h\xc3\xa9");
}

static void test_parse_id(void **state)
{
	static const char *const bad[] = {
		"0", "-1", "12a", "", " 1", "1 ", "+1", "0x10", "1.0",
		"12345678901234567890",  /* 20 digits */
		"99999999999999999999",
		"9223372036854775808",   /* INT64_MAX + 1 */
		"00000000000000000001",
	};
	int64_t id = 0;
	(void)state;

	assert_int_equal(pl_parse_id("1", &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(pl_parse_id("42", &id), 0);
	assert_int_equal(id, 42);
	assert_int_equal(pl_parse_id("9223372036854775807", &id), 0);
	assert_true(id == INT64_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id = 5;
		if (pl_parse_id(bad[i], &id) != -1)
			fail_msg("pl_parse_id accepted \"%s\"", bad[i]);
		assert_int_equal(id, 5);
	}
	assert_int_equal(pl_parse_id(NULL, &id), -1);
	/* a cursor: 0 or an id, nothing else */
	assert_int_equal(pl_parse_cursor("0", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(pl_parse_cursor("17", &id), 0);
	assert_int_equal(id, 17);
	assert_int_equal(pl_parse_cursor("00", &id), -1);
	assert_int_equal(pl_parse_cursor("-0", &id), -1);
	assert_int_equal(pl_parse_cursor("", &id), -1);
}

static void test_time_format(void **state)
{
	char buf[PL_TIME_LEN];
	(void)state;

	assert_ptr_equal(pl_time_format(0, buf), buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	assert_string_equal(pl_time_format(1700000000123, buf), "2023-11-14T22:13:20.123Z");
	assert_string_equal(pl_time_format(951782400005, buf), "2000-02-29T00:00:00.005Z");
	assert_string_equal(pl_time_format(1999, buf), "1970-01-01T00:00:01.999Z");
}

static void test_time_format_before_epoch(void **state)
{
	char buf[PL_TIME_LEN];
	(void)state;

	/* int64 ms may be negative: one ms before the epoch */
	assert_string_equal(pl_time_format(-1, buf), "1969-12-31T23:59:59.999Z");
	assert_string_equal(pl_time_format(-1500, buf), "1969-12-31T23:59:58.500Z");
}

/* The fast calendar arithmetic agrees with gmtime_r over four centuries. */
static void test_time_format_matches_gmtime(void **state)
{
	char buf[PL_TIME_LEN], want[PL_TIME_LEN];
	(void)state;

	for (int64_t ms = -2208988800000LL; ms < 32503680000000LL; ms += 86399999LL + ms % 7) {
		int64_t secs = ms / 1000 - (ms % 1000 < 0);
		time_t t = (time_t)secs;
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ms - secs * 1000));
		assert_string_equal(pl_time_format(ms, buf), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_ignores_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_without_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_is_tightened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_path_fails, setup, teardown),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_format_before_epoch),
		cmocka_unit_test(test_time_format_matches_gmtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
