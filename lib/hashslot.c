/* hashslot.c — flock(2) slots bounding concurrent password hashes (hashslot.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "hashslot.h"
#include "log.h"

#define NAP_NS (2 * 1000 * 1000)   /* between two rounds of tries */

/* Per-process settings (set once from the configuration). */
static struct {
	char db[1024];       /* db_path, whose owner the slots get when made by root */
	char dir[1100];      /* "<db_path>-hashslots"; "" = no bound */
	int slots;           /* in force, 1..PL_HASHSLOT_MAX */
	int wait_ms;
	bool warned;         /* the unusable-directory error was logged */
} conf;

void pl_hashslot_configure(const char *db_path, int slots, int wait_ms)
{
	long cpus;

	conf.dir[0] = '\0';
	if (!db_path || !*db_path || strcmp(db_path, ":memory:") == 0)
		return;
	snprintf(conf.db, sizeof(conf.db), "%s", db_path);
	if ((size_t)snprintf(conf.dir, sizeof(conf.dir), "%s-hashslots", db_path) >= sizeof(conf.dir)) {
		conf.dir[0] = '\0';
		return;
	}
	if (slots <= 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN) - 1;  /* -2 when unknown */
		slots = cpus < 1 ? 1 : cpus > PL_HASHSLOT_MAX ? PL_HASHSLOT_MAX : (int)cpus;
	}
	conf.slots = slots > PL_HASHSLOT_MAX ? PL_HASHSLOT_MAX : slots;
	conf.wait_ms = wait_ms < 0 ? 0 : wait_ms;
}

int pl_hashslot_limit(void)
{
	return conf.dir[0] ? conf.slots : 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_all(int *fds, int n, int keep)
{
	for (int i = 0; i < n; i++)
		if (i != keep && fds[i] >= 0)
			close(fds[i]);
}

/* Run as root (parleyctl reset-password), what it creates goes to the
 * database's owner, or the services could not open it later (as SQLite
 * does with its -wal and -shm files). `fd` < 0: chown `path` instead. */
static void give_to_db_owner(int fd, const char *path)
{
	struct stat sb;
	int rc;

	if (geteuid() != 0 || stat(conf.db, &sb) < 0 || sb.st_uid == 0)
		return;
	rc = fd >= 0 ? fchown(fd, sb.st_uid, sb.st_gid) : chown(path, sb.st_uid, sb.st_gid);
	if (rc < 0)
		pl_warn_log("chown %s: %s", path, strerror(errno));
}

/* Opens every slot file (creating the directory once if missing). */
static int open_slots(int *fds)
{
	char path[sizeof(conf.dir) + 32];  /* "/slot-" and an int */

	for (int i = 0; i < conf.slots; i++) {
		snprintf(path, sizeof(path), "%s/slot-%d", conf.dir, i);
		fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fds[i] < 0 && errno == ENOENT && i == 0) {
			/* EEXIST: another process made it first, just as good */
			if (mkdir(conf.dir, 0700) == 0)
				give_to_db_owner(-1, conf.dir);
			fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		}
		if (fds[i] >= 0)
			give_to_db_owner(fds[i], path);
		if (fds[i] < 0) {
			if (!conf.warned)
				pl_err_log("cannot open hash slot %s: %s (password hashes unbounded)",
					   path, strerror(errno));
			conf.warned = true;
			close_all(fds, i, -1);
			return -1;
		}
	}
	return 0;
}

/* One round: the index of the slot locked, -1 all busy, -2 flock failed. */
static int try_round(const int *fds)
{
	for (int i = 0; i < conf.slots; i++) {
		int rc;

		while ((rc = flock(fds[i], LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
			;
		if (rc == 0)
			return i;
		if (errno != EWOULDBLOCK) {
			if (!conf.warned)
				pl_err_log("flock on a hash slot: %s (password hashes unbounded)", strerror(errno));
			conf.warned = true;
			return -2;
		}
	}
	return -1;
}

int pl_hashslot_acquire(int *slot, struct pl_err *err)
{
	static const struct timespec nap = { 0, NAP_NS };
	int fds[PL_HASHSLOT_MAX];
	int64_t deadline;
	int got;

	*slot = -1;
	if (!conf.dir[0] || open_slots(fds) < 0)
		return 0;
	deadline = mono_ms() + conf.wait_ms;
	while ((got = try_round(fds)) == -1 && mono_ms() < deadline)
		nanosleep(&nap, NULL);
	close_all(fds, conf.slots, got);
	if (got == -2)
		return 0;
	if (got < 0) {
		pl_err_set(err, 503, "server busy, retry later");
		if (err)
			err->retry_after = PL_HASHSLOT_RETRY;
		return -1;
	}
	*slot = fds[got];
	return 0;
}

void pl_hashslot_release(int slot)
{
	if (slot >= 0)
		close(slot);
}
