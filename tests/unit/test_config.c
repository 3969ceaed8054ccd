/*
 * test_config.c — unit tests of config.h: every setting of the one table
 * (config_keys.h) gets its default when nothing sets it, its bounds are
 * enforced from the environment, and the sources apply in order
 * (defaults, the file named by PARLEY_CONFIG, then PARLEY_<KEY>).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "unit_util.h"

#define SECRET "0123456789abcdef0123456789abcdef-unit"

/* The table again, as data the tests can loop over. */
struct row {
	const char *key;
	int is_str;
	long def, lo, hi;
	const char *def_str;
};

#define PL_SETTING_STR(n, f, d, doc) { n, 1, 0, 0, 0, d },
#define PL_SETTING_INT(n, f, d, lo, hi, doc) { n, 0, d, lo, hi, NULL },
#define PL_SETTING_SIZE(n, f, d, lo, hi, doc) { n, 0, d, lo, hi, NULL },
static const struct row rows[] = {
#include "config_keys.h"
};
#undef PL_SETTING_STR
#undef PL_SETTING_INT
#undef PL_SETTING_SIZE
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void env_name(const char *key, char *out, size_t len)
{
	snprintf(out, len, "PARLEY_%s", key);
	for (char *p = out + 7; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

/* No PARLEY_<KEY> and no PARLEY_CONFIG; the key itself inline. */
static int clean_env(void **state)
{
	char name[64];

	(void)state;
	for (size_t i = 0; i < NROWS; i++) {
		env_name(rows[i].key, name, sizeof(name));
		unsetenv(name);
	}
	unsetenv("PARLEY_CONFIG");
	setenv("PARLEY_JWT_SECRET", SECRET, 1);
	return 0;
}

static int restore_env(void **state)
{
	clean_env(state);
	unsetenv("PARLEY_JWT_SECRET");
	return 0;
}

/* Nothing set: every field holds the default config_keys.h names. */
static void test_defaults_come_from_the_table(void **state)
{
	struct pl_config cfg;
	struct pl_err err = { 0 };

	(void)state;
	assert_int_equal(pl_config_load(&cfg, &err), 0);
	/* db_url is the one derived on load: empty becomes db_path (below) */
#define PL_SETTING_STR(n, f, d, doc) \
	if (strcmp(n, "db_url") != 0) \
		assert_string_equal(cfg.f, d);
#define PL_SETTING_INT(n, f, d, lo, hi, doc) assert_int_equal(cfg.f, d);
#define PL_SETTING_SIZE(n, f, d, lo, hi, doc) assert_int_equal(cfg.f, d);
#include "config_keys.h"
#undef PL_SETTING_STR
#undef PL_SETTING_INT
#undef PL_SETTING_SIZE
	/* a few spelled out, so a wrong table cannot agree with itself */
	assert_int_equal(cfg.access_ttl, 900);
	assert_int_equal(cfg.refresh_ttl, 30 * 86400);
	assert_int_equal(cfg.body_limit, 65536);
	assert_string_equal(cfg.db_path, "var/parley.db");
	assert_string_equal(cfg.db_url, "var/parley.db");   /* empty: db_path */
	assert_string_equal(cfg.mail_from, "parley@localhost");
	assert_int_equal(cfg.poll_user_limit, 2);
	assert_int_equal(cfg.jwt_secret_len, strlen(SECRET));
}

/* Every number accepts its bounds and refuses one beyond each. */
static void test_bounds_from_the_environment(void **state)
{
	struct pl_config cfg;
	char name[64], v[32];

	(void)state;
	for (size_t i = 0; i < NROWS; i++) {
		const long probe[4] = { rows[i].lo, rows[i].hi, rows[i].lo - 1, rows[i].hi + 1 };

		if (rows[i].is_str)
			continue;
		env_name(rows[i].key, name, sizeof(name));
		for (int j = 0; j < 4; j++) {
			struct pl_err err = { 0 };

			snprintf(v, sizeof(v), "%ld", probe[j]);
			setenv(name, v, 1);
			if (j < 2) {
				assert_int_equal(pl_config_load(&cfg, &err), 0);
			} else {
				assert_int_equal(pl_config_load(&cfg, &err), -1);
				assert_non_null(strstr(err.message, rows[i].key));
			}
		}
		unsetenv(name);
	}
}

/* The file wins over the defaults, the environment over the file; an
 * unknown key in the file is an error naming its line. */
static void test_file_then_environment(void **state)
{
	struct pl_config cfg;
	struct pl_err err = { 0 };
	char dir[256], path[512];
	FILE *f;

	(void)state;
	assert_int_equal(unit_mkdtemp(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/parley.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("# a comment\naccess_token_ttl = 1000\nmail_from = x@example.com  # trailing\n", f);
	fclose(f);
	setenv("PARLEY_CONFIG", path, 1);
	setenv("PARLEY_ACCESS_TOKEN_TTL", "2000", 1);
	assert_int_equal(pl_config_load(&cfg, &err), 0);
	assert_int_equal(cfg.access_ttl, 2000);
	assert_string_equal(cfg.mail_from, "x@example.com");
	assert_int_equal(cfg.refresh_ttl, 30 * 86400);
	unsetenv("PARLEY_ACCESS_TOKEN_TTL");

	assert_non_null(f = fopen(path, "a"));
	fputs("no_such_key = 1\n", f);
	fclose(f);
	assert_int_equal(pl_config_load(&cfg, &err), -1);
	assert_non_null(strstr(err.message, "parley.conf:4: unknown key no_such_key"));
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_come_from_the_table, clean_env, restore_env),
		cmocka_unit_test_setup_teardown(test_bounds_from_the_environment, clean_env, restore_env),
		cmocka_unit_test_setup_teardown(test_file_then_environment, clean_env, restore_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
