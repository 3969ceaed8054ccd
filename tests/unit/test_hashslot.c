/*
 * test_hashslot.c — unit tests of hashslot.h, the slots (slots.h: OFD
 * locks) bounding concurrent password hashes across processes, and of
 * password.h running its hashes inside them, and of per-key slots (the
 * per-user cap of long polls). OFD locks belong to open file descriptions,
 * so two acquisitions in one process contend exactly like two processes;
 * the kill -9 case forks a real second process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "config.h"
#include "hashslot.h"
#include "password.h"
#include "slots.h"
#include "unit_util.h"

struct fixture {
	char dir[256];
	char db[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || sodium_init() < 0 || unit_mkdtemp(f->dir, sizeof(f->dir)) < 0)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/parley.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pl_hashslot_configure(NULL, 0, 0);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

/* Takes a slot and expects success with a real lock (fd >= 0). */
static int take(void)
{
	struct pl_err err = { 0 };
	int slot = -2;

	assert_int_equal(pl_hashslot_acquire(&slot, &err), 0);
	assert_true(slot >= 0);
	return slot;
}

/* Expects every slot to be busy: 503 with Retry-After. */
static void expect_busy(void)
{
	struct pl_err err = { 0 };
	int slot = -2;

	assert_int_equal(pl_hashslot_acquire(&slot, &err), -1);
	assert_int_equal(slot, -1);
	assert_int_equal(err.status, 503);
	assert_int_equal(err.retry_after, PL_HASHSLOT_RETRY);
	assert_string_equal(pl_err_code(err.status), "unavailable");
}

static void test_unconfigured_is_unbounded(void **state)
{
	struct pl_err err = { 0 };
	int a = -2, b = -2;
	(void)state;

	pl_hashslot_configure(NULL, 1, 0);
	assert_int_equal(pl_hashslot_limit(), 0);
	assert_int_equal(pl_hashslot_acquire(&a, &err), 0);
	assert_int_equal(a, -1);
	pl_hashslot_configure(":memory:", 1, 0);
	assert_int_equal(pl_hashslot_limit(), 0);
	assert_int_equal(pl_hashslot_acquire(&a, &err), 0);
	assert_int_equal(pl_hashslot_acquire(&b, &err), 0);
	assert_int_equal(a, -1);
	assert_int_equal(b, -1);
	pl_hashslot_release(a);
	pl_hashslot_release(b);
}

static void test_automatic_count(void **state)
{
	struct fixture *f = *state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	pl_hashslot_configure(f->db, 0, 0);
	assert_true(pl_hashslot_limit() >= 1);
	/* one core stays free for everything else (when there are two) */
	if (cpus > 1)
		assert_int_equal(pl_hashslot_limit(), cpus - 1 > PL_HASHSLOT_MAX ? PL_HASHSLOT_MAX : cpus - 1);
	pl_hashslot_configure(f->db, 1000, 0);
	assert_int_equal(pl_hashslot_limit(), PL_HASHSLOT_MAX);
}

static void test_bound_holds(void **state)
{
	struct fixture *f = *state;
	char path[600];
	struct stat sb;
	int a, b, c;

	pl_hashslot_configure(f->db, 2, 0);
	assert_int_equal(pl_hashslot_limit(), 2);
	a = take();
	b = take();
	assert_int_not_equal(a, b);
	expect_busy();
	expect_busy();  /* a refusal leaks nothing */
	pl_hashslot_release(a);
	c = take();     /* the freed slot is free again */
	expect_busy();
	pl_hashslot_release(b);
	pl_hashslot_release(c);
	pl_hashslot_release(take());
	/* the slots are files next to the database */
	snprintf(path, sizeof(path), "%s-hashslots/slot-1", f->db);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
}

/* A child that takes a slot, tells the parent, then waits until the
 * parent writes to (or closes) *go, and exits `hold_ms` after that, which
 * frees the slot. Returns its pid. */
static pid_t child_holding(int hold_ms, int *go)
{
	int up[2], down[2];
	char byte = 0;
	pid_t pid;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pl_err err = { 0 };
		int slot = -1;

		close(up[0]);
		close(down[1]);
		if (pl_hashslot_acquire(&slot, &err) < 0 || slot < 0)
			_exit(1);
		if (write(up[1], "x", 1) != 1)
			_exit(1);
		if (read(down[0], &byte, 1) < 0)
			_exit(1);
		usleep((useconds_t)hold_ms * 1000);
		_exit(0);  /* exiting closes the slot */
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &byte, 1), 1);
	close(up[0]);
	*go = down[1];
	return pid;
}

static void test_kill_9_frees_the_slot(void **state)
{
	struct fixture *f = *state;
	int status = 0, go;
	pid_t pid;

	pl_hashslot_configure(f->db, 1, 0);
	pid = child_holding(0, &go);
	expect_busy();  /* the child holds the only slot until it dies */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(go);
	pl_hashslot_release(take());
}

static void test_waits_for_a_slot(void **state)
{
	struct fixture *f = *state;
	int status = 0, slot, go;
	pid_t pid;

	pl_hashslot_configure(f->db, 1, 0);
	pid = child_holding(100, &go);
	expect_busy();
	/* the child lets go ~100 ms from now; a long wait outlasts it: no 503 */
	pl_hashslot_configure(f->db, 1, 10000);
	close(go);
	slot = take();
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pl_hashslot_release(slot);
}

static void test_unusable_dir_fails_open(void **state)
{
	struct fixture *f = *state;
	struct pl_err err = { 0 };
	char file[600], db[700];
	FILE *fp;
	int slot = -2;

	/* a database "inside" a regular file: the slot dir cannot exist */
	snprintf(file, sizeof(file), "%s/plain", f->dir);
	assert_non_null(fp = fopen(file, "w"));
	fclose(fp);
	snprintf(db, sizeof(db), "%s/parley.db", file);
	pl_hashslot_configure(db, 1, 0);
	assert_int_equal(pl_hashslot_acquire(&slot, &err), 0);
	assert_int_equal(slot, -1);
	assert_int_equal(err.status, 0);
}

/* Run as root (parleyctl), the slots go to the database's owner. */
static void test_root_gives_slots_to_db_owner(void **state)
{
	struct fixture *f = *state;
	char path[600];
	struct stat sb;
	FILE *fp;

	if (geteuid() != 0)
		skip();
	assert_non_null(fp = fopen(f->db, "w"));
	fclose(fp);
	assert_int_equal(chown(f->db, 65534, 65534), 0);
	pl_hashslot_configure(f->db, 1, 0);
	pl_hashslot_release(take());
	snprintf(path, sizeof(path), "%s-hashslots", f->db);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_uid, 65534);
	snprintf(path, sizeof(path), "%s-hashslots/slot-0", f->db);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_uid, 65534);
	assert_int_equal(sb.st_gid, 65534);
}

static void test_password_runs_inside_a_slot(void **state)
{
	struct fixture *f = *state;
	static const char pw[] = "correct horse battery staple";
	char hash[PL_PASSWORD_HASH_LEN];
	struct pl_err err = { 0 };
	int held;

	pl_hashslot_configure(f->db, 1, 0);
	held = take();
	assert_int_equal(pl_password_hash(pw, strlen(pw), hash, &err), -1);
	assert_int_equal(err.status, 503);
	assert_int_equal(err.retry_after, PL_HASHSLOT_RETRY);
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_password_check(NULL, pw, strlen(pw), &err), -1);
	assert_int_equal(err.status, 503);
	pl_hashslot_release(held);

	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_password_hash(pw, strlen(pw), hash, &err), 0);
	assert_int_equal(pl_password_check(hash, pw, strlen(pw), &err), 0);
	assert_int_equal(pl_password_check(hash, "wrong password", 14, &err), 1);
	assert_int_equal(pl_password_check(NULL, pw, strlen(pw), &err), 1);
	assert_int_equal(err.status, 0);
	/* each call gave its slot back */
	pl_hashslot_release(take());
}

static void test_config_keys(void **state)
{
	struct fixture *f = *state;
	struct pl_config cfg;
	struct pl_err err = { 0 };

	setenv("PARLEY_JWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
	setenv("PARLEY_DB_PATH", f->db, 1);
	setenv("PARLEY_HASH_CONCURRENCY", "3", 1);
	setenv("PARLEY_HASH_WAIT_MS", "0", 1);
	unsetenv("PARLEY_CONFIG");
	assert_int_equal(pl_config_load(&cfg, &err), 0);
	assert_int_equal(cfg.hash_concurrency, 3);
	assert_int_equal(cfg.hash_wait_ms, 0);
	assert_int_equal(pl_hashslot_limit(), 3);

	setenv("PARLEY_HASH_CONCURRENCY", "65", 1);
	assert_int_equal(pl_config_load(&cfg, &err), -1);
	setenv("PARLEY_HASH_CONCURRENCY", "-1", 1);
	assert_int_equal(pl_config_load(&cfg, &err), -1);
	unsetenv("PARLEY_HASH_CONCURRENCY");
	unsetenv("PARLEY_HASH_WAIT_MS");
	assert_int_equal(pl_config_load(&cfg, &err), 0);
	assert_int_equal(cfg.hash_concurrency, 0);  /* automatic */
	assert_int_equal(cfg.hash_wait_ms, 200);
	assert_true(pl_hashslot_limit() >= 1);
	/* the per-user caps: defaults, 0 = none, poll slots at most 64 */
	assert_int_equal(cfg.poll_user_limit, 2);
	assert_int_equal(cfg.ws_user_limit, 20);
	setenv("PARLEY_POLL_USER_LIMIT", "0", 1);
	setenv("PARLEY_WS_USER_LIMIT", "0", 1);
	assert_int_equal(pl_config_load(&cfg, &err), 0);
	assert_int_equal(cfg.poll_user_limit, 0);
	assert_int_equal(cfg.ws_user_limit, 0);
	setenv("PARLEY_POLL_USER_LIMIT", "65", 1);
	assert_int_equal(pl_config_load(&cfg, &err), -1);
	unsetenv("PARLEY_POLL_USER_LIMIT");
	unsetenv("PARLEY_WS_USER_LIMIT");
	unsetenv("PARLEY_DB_PATH");
	unsetenv("PARLEY_JWT_SECRET");
}

/* Per-key slots (the per-user cap of waiting long polls): each key has
 * its own N slots in the same N files; a refusal carries the set's own
 * status; the holder's death frees its slot. */
static void test_keys_are_bounded_separately(void **state)
{
	struct fixture *f = *state;
	struct pl_slots s;
	struct pl_err err = { 0 };
	int a, b, c, d, e = -2, status = 0;
	char path[600];
	struct stat sb;
	pid_t pid;

	pl_slots_init(&s, f->db, "pollslots", 2, 0, 429, 5, "too many");
	assert_int_equal(pl_slots_limit(&s), 2);
	assert_int_equal(pl_slots_acquire(&s, 7, &a, &err), 0);
	assert_int_equal(pl_slots_acquire(&s, 7, &b, &err), 0);
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(pl_slots_acquire(&s, 7, &e, &err), -1);
	assert_int_equal(e, -1);
	assert_int_equal(err.status, 429);
	assert_int_equal(err.retry_after, 5);
	assert_string_equal(err.message, "too many");
	/* other keys are not touched, key 1 << 40 included */
	assert_int_equal(pl_slots_acquire(&s, 8, &c, &err), 0);
	assert_int_equal(pl_slots_acquire(&s, (int64_t)1 << 40, &d, &err), 0);
	pl_slots_release(c);
	pl_slots_release(d);
	pl_slots_release(a);
	assert_int_equal(pl_slots_acquire(&s, 7, &a, &err), 0);
	pl_slots_release(a);
	pl_slots_release(b);
	/* a child holding both slots of key 9 dies by kill -9: both free */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int x, y;
		if (pl_slots_acquire(&s, 9, &x, NULL) < 0 || pl_slots_acquire(&s, 9, &y, NULL) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	for (int i = 0; i < 30000; i++) {  /* until the child holds both (a loaded machine: up to ~30 s) */
		memset(&err, 0, sizeof(err));
		if (pl_slots_acquire(&s, 9, &a, &err) < 0)
			break;
		pl_slots_release(a);
		usleep(1000);
	}
	assert_int_equal(err.status, 429);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(pl_slots_acquire(&s, 9, &a, &err), 0);
	assert_int_equal(pl_slots_acquire(&s, 9, &b, &err), 0);
	pl_slots_release(a);
	pl_slots_release(b);
	snprintf(path, sizeof(path), "%s-pollslots/slot-1", f->db);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);   /* locks past the end: files stay empty */
	/* 0 slots: no bound */
	pl_slots_init(&s, f->db, "pollslots", 0, 0, 429, 5, "too many");
	assert_int_equal(pl_slots_limit(&s), 0);
	assert_int_equal(pl_slots_acquire(&s, 7, &a, &err), 0);
	assert_int_equal(a, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unconfigured_is_unbounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_automatic_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_9_frees_the_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_a_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_dir_fails_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_gives_slots_to_db_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_runs_inside_a_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_are_bounded_separately, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
