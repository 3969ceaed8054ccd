/* slots.c — cross-process slots: OFD locks on bytes of slot files (slots.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "slots.h"

#define NAP_NS (2 * 1000 * 1000)   /* between two rounds of tries */

void pl_slots_init(struct pl_slots *s, const char *db_path, const char *suffix, int count,
		   int wait_ms, int busy_status, int retry_after, const char *busy_message)
{
	memset(s, 0, sizeof(*s));
	s->busy_status = busy_status;
	s->retry_after = retry_after;
	s->busy_message = busy_message;
	if (!db_path || !*db_path || strcmp(db_path, ":memory:") == 0 || count < 1)
		return;
	snprintf(s->db, sizeof(s->db), "%s", db_path);
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s-%s", db_path, suffix) >= sizeof(s->dir)) {
		s->dir[0] = '\0';
		return;
	}
	s->count = count > PL_SLOTS_MAX ? PL_SLOTS_MAX : count;
	s->wait_ms = wait_ms < 0 ? 0 : wait_ms;
}

int pl_slots_limit(const struct pl_slots *s)
{
	return s->dir[0] ? s->count : 0;
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

/* Logs an unusable slot set once per process; it then bounds nothing. */
static void slots_unusable(struct pl_slots *s, const char *what, const char *path)
{
	if (!s->warned)
		pl_err_log("%s %s: %s (not bounded)", what, path, strerror(errno));
	s->warned = true;
}

/* Run as root (parleyctl reset-password), what it creates goes to the
 * database's owner, or the services could not open it later (as SQLite
 * does with its -wal and -shm files). `fd` < 0: chown `path` instead. */
static void give_to_db_owner(const struct pl_slots *s, int fd, const char *path)
{
	struct stat sb;
	int rc;

	if (geteuid() != 0 || stat(s->db, &sb) < 0 || sb.st_uid == 0)
		return;
	rc = fd >= 0 ? fchown(fd, sb.st_uid, sb.st_gid) : chown(path, sb.st_uid, sb.st_gid);
	if (rc < 0)
		pl_warn_log("chown %s: %s", path, strerror(errno));
}

/* Opens every slot file (creating the directory once if missing). */
static int open_slots(struct pl_slots *s, int *fds)
{
	char path[sizeof(s->dir) + 32];  /* "/slot-" and an int */

	for (int i = 0; i < s->count; i++) {
		snprintf(path, sizeof(path), "%s/slot-%d", s->dir, i);
		fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fds[i] < 0 && errno == ENOENT && i == 0) {
			/* EEXIST: another process made it first, just as good */
			if (mkdir(s->dir, 0700) == 0)
				give_to_db_owner(s, -1, s->dir);
			fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		}
		if (fds[i] >= 0)
			give_to_db_owner(s, fds[i], path);
		if (fds[i] < 0) {
			slots_unusable(s, "cannot open slot file", path);
			close_all(fds, i, -1);
			return -1;
		}
	}
	return 0;
}

/* One round: the index of the slot locked, -1 all busy, -2 locking failed. */
static int try_round(struct pl_slots *s, const int *fds, off_t off)
{
	for (int i = 0; i < s->count; i++) {
		struct flock fl;
		int rc;

		memset(&fl, 0, sizeof(fl));   /* l_pid must be 0 for OFD locks */
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = off;
		fl.l_len = 1;
		while ((rc = fcntl(fds[i], F_OFD_SETLK, &fl)) < 0 && errno == EINTR)
			;
		if (rc == 0)
			return i;
		if (errno != EAGAIN && errno != EACCES) {
			slots_unusable(s, "cannot lock a slot in", s->dir);
			return -2;
		}
	}
	return -1;
}

int pl_slots_acquire(struct pl_slots *s, int64_t key, int *slot, struct pl_err *err)
{
	static const struct timespec nap = { 0, NAP_NS };
	int fds[PL_SLOTS_MAX];
	int64_t deadline;
	off_t off;
	int got;

	*slot = -1;
	if (!s->dir[0] || open_slots(s, fds) < 0)
		return 0;
	/* Any byte will do as long as distinct keys get distinct bytes (a
	 * 32-bit off_t folds large keys: two users may then share slots). */
	off = (off_t)(key < 0 ? 0 : sizeof(off_t) >= 8 ? key : key & 0x3fffffff);
	deadline = mono_ms() + s->wait_ms;
	while ((got = try_round(s, fds, off)) == -1 && mono_ms() < deadline)
		nanosleep(&nap, NULL);
	close_all(fds, s->count, got);
	if (got == -2)
		return 0;
	if (got < 0) {
		pl_err_set(err, s->busy_status, "%s", s->busy_message);
		if (err)
			err->retry_after = s->retry_after;
		return -1;
	}
	*slot = fds[got];
	return 0;
}

void pl_slots_release(int slot)
{
	if (slot >= 0)
		close(slot);
}
