/*
 * slots.h — bounds across processes: "at most N at once", counted by the
 * kernel's locks on slot files, so every FastCGI process of every program
 * (and every CGI run) shares them without a coordinator.
 *
 * A slot set is a directory next to the database, "<db_path>-<suffix>",
 * holding the files slot-0 .. slot-(N-1). Taking a slot for a key locks
 * one byte, at offset `key`, of one of those files with an open file
 * description lock (fcntl(2) F_OFD_SETLK, write lock); so each key has N
 * slots of its own in the same N files: key 0 bounds one thing for
 * everyone (password hashes, hashslot.h), key = a user id bounds each user
 * separately (waiting long polls, fcgi-apps/events.c) without a file per
 * user. Locks beyond the end of a file are allowed: the files stay empty.
 *
 * Invariants:
 * - An OFD lock belongs to its open file description: the kernel drops it
 *   when the descriptor is closed, also when the holder dies (even by
 *   kill -9), so a slot never leaks. Two descriptors of one process
 *   contend like two processes.
 * - The directory sits next to the database because that directory must be
 *   writable anyway (-wal, -shm; systemd StateDirectory /var/lib/parley),
 *   while /tmp is private per unit (PrivateTmp=yes).
 * - A set whose directory cannot be used (logged once per process) bounds
 *   nothing: refusing every request instead would be worse.
 * - Traditional POSIX record locks (lockf(3), Python's fcntl.lockf) on the
 *   same byte conflict with these locks; flock(2) locks do not.
 */
#ifndef PL_SLOTS_H
#define PL_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include "err.h"

#define PL_SLOTS_MAX 64       /* most slots per key */

/* One slot set; per-process settings, filled by pl_slots_init. */
struct pl_slots {
	char db[1024];            /* db_path: files made by root go to its owner */
	char dir[1100];           /* "<db_path>-<suffix>"; "" = no bound */
	int count;                /* slots per key in force, 1..PL_SLOTS_MAX */
	int wait_ms;              /* longest wait for a free slot */
	int busy_status;          /* status when every slot stays busy (429, 503) */
	int retry_after;          /* its Retry-After, seconds */
	const char *busy_message; /* its message (static string) */
	bool warned;              /* the unusable-directory error was logged */
};

/*
 * pl_slots_init: sets up `s` (caller-owned; no resources are held until a
 * slot is taken, so there is nothing to release). `db_path` (copied; may be
 * NULL): the database file; NULL, "" or ":memory:" switches the bound off.
 * `suffix` (copied): the directory is "<db_path>-<suffix>". `count`: slots
 * per key, capped at PL_SLOTS_MAX; < 1 switches the bound off. `wait_ms`:
 * how long pl_slots_acquire retries (every 2 ms) before it gives up (0 =
 * one try). `busy_status`, `retry_after`, `busy_message` (static string):
 * the error it gives up with.
 */
void pl_slots_init(struct pl_slots *s, const char *db_path, const char *suffix, int count,
		   int wait_ms, int busy_status, int retry_after, const char *busy_message);

/* pl_slots_limit: slots per key in force, or 0 when nothing is bounded. */
int pl_slots_limit(const struct pl_slots *s);

/*
 * pl_slots_acquire: takes one of `s`'s slots for `key` (>= 0; only its
 * distinctness matters). On success *slot is a handle to give back with
 * pl_slots_release, or -1 when no bound applies (off, or the directory is
 * unusable: logged once per process). Returns 0, or -1 with `err` =
 * s->busy_status and err->retry_after = s->retry_after when every slot of
 * `key` stayed taken for the whole wait.
 */
int pl_slots_acquire(struct pl_slots *s, int64_t key, int *slot, struct pl_err *err);

/* pl_slots_release: gives back a slot from pl_slots_acquire (closing its
 * descriptor drops the lock); -1 is a no-op. */
void pl_slots_release(int slot);

#endif
