/*
 * hashslot.h — a bound on concurrent password hashes across processes.
 *
 * One argon2id hash costs ~64 MiB and ~55 ms of a core (password.h), and
 * parley's FastCGI programs are separate processes (several per program,
 * each spawned by the web server, or one per request as CGI), so a flood
 * of logins could run as many hashes at once as there are processes. A
 * hash runs only while its process holds one of N "slots" of a slot set
 * (slots.h): a lock on byte 0 of one of the files
 * <db_path>-hashslots/slot-0 .. slot-(N-1), an open file description lock
 * (fcntl F_OFD_SETLK). The kernel drops it when its file is closed, so a
 * process that dies in the middle of a hash — even by kill -9 — never
 * leaks a slot. The directory sits next to the database because that
 * directory must be writable anyway (-wal, -shm), also under the systemd
 * units (StateDirectory /var/lib/parley).
 *
 * The settings are per process (one bound for the whole process, like the
 * configuration they come from): pl_config_load (config.h) applies them,
 * so every program that loads its configuration is bounded. Until then —
 * and for a db_path of "" or ":memory:" — nothing is bounded.
 */
#ifndef PL_HASHSLOT_H
#define PL_HASHSLOT_H

#include "err.h"

#define PL_HASHSLOT_MAX 64    /* most slots configurable (PL_SLOTS_MAX) */
#define PL_HASHSLOT_RETRY 1   /* Retry-After (seconds) when every slot is busy */

/*
 * pl_hashslot_configure: sets this process's bound. `db_path` (copied; may
 * be NULL): the database file; the slot files live in "<db_path>-hashslots"
 * (created, mode 0700, on first use); NULL, "" or ":memory:" switches the
 * bound off. `slots`: hashes allowed at once across every process using
 * that directory; 0 = automatic: online CPUs minus one, at least 1
 * (sysconf(_SC_NPROCESSORS_ONLN)), so one core stays free for every other
 * request; capped at PL_HASHSLOT_MAX. `wait_ms`: the longest a hash waits
 * for a free slot, milliseconds (0 = one try). Never fails.
 */
void pl_hashslot_configure(const char *db_path, int slots, int wait_ms);

/* pl_hashslot_limit: the number of slots in force (after the automatic
 * choice), or 0 when no bound is configured. */
int pl_hashslot_limit(void);

/*
 * pl_hashslot_acquire: takes a slot, trying every slot file and retrying
 * every 2 ms until the configured wait has passed. On success *slot is a
 * handle to give back with pl_hashslot_release, or -1 when no bound
 * applies: not configured, or the slot directory is unusable (logged once
 * per process; failing every login instead would be worse, and each
 * FastCGI process still hashes one password at a time). Returns 0, or -1
 * with `err` = 503 and err->retry_after = PL_HASHSLOT_RETRY when every
 * slot stayed busy for the whole wait (RFC 9110 §15.6.4, §10.2.3).
 */
int pl_hashslot_acquire(int *slot, struct pl_err *err);

/* pl_hashslot_release: gives back a slot taken by pl_hashslot_acquire
 * (closing its file drops the lock); -1 is a no-op. */
void pl_hashslot_release(int slot);

#endif
