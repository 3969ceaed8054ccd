/*
 * db.h — parley's SQLite access: one connection per process, opened with
 * WAL, synchronous=NORMAL, foreign_keys=ON and a short-sleep busy handler
 * (see ../shared/FACTS.md, SQLite); prepared statements cached for the life
 * of the process; BEGIN IMMEDIATE for every write; and the migration runner.
 */
#ifndef PL_DB_H
#define PL_DB_H

#include <sqlite3.h>
#include <stdint.h>
#include "err.h"

struct pl_db;

/*
 * pl_db_open: opens (creating if needed) the database at `path` and sets
 * the per-connection pragmas. `busy_timeout_ms` bounds how long a writer
 * waits for the lock. The file is created 0600 whatever the umask, so
 * SQLite's -wal and -shm (which take the database's mode) are 0600 too;
 * an existing database, -wal or -shm that group or others may access is
 * chmod'ed to its owner bits when this user owns it (or is root), with a
 * warning in the log (pl_file_private, util.h). On success *out owns the
 * handle: release it with pl_db_close(). Returns 0, or -1 with `err` set
 * (500).
 */
int pl_db_open(const char *path, int busy_timeout_ms, struct pl_db **out, struct pl_err *err);

/* pl_db_close: finalizes cached statements and closes; NULL is a no-op. */
void pl_db_close(struct pl_db *db);

/* pl_db_handle: the raw sqlite3 handle (borrowed, owned by `db`). */
sqlite3 *pl_db_handle(struct pl_db *db);

/*
 * pl_db_stmt: returns the statement for `sql`, prepared once per process
 * and cached by the address of `sql` (pass string constants only). The
 * statement comes reset with its bindings cleared; it stays owned by `db`.
 * Call pl_db_done() when finished so no read keeps an old snapshot open.
 * Returns NULL (logged, `err` set to 500) when preparing fails.
 */
sqlite3_stmt *pl_db_stmt(struct pl_db *db, const char *sql, struct pl_err *err);

/* pl_db_done: resets `st` (NULL is a no-op). */
void pl_db_done(sqlite3_stmt *st);

/*
 * pl_db_step_done: steps a bound write (or any statement expected to
 * return no row) once and resets it. Returns 0 on SQLITE_DONE, else -1
 * with `err` = 500 (the SQLite message is logged, never returned).
 */
int pl_db_step_done(struct pl_db *db, sqlite3_stmt *st, struct pl_err *err);

/*
 * pl_db_step_id: steps a bound lookup whose first column is an id and
 * resets it. Returns 0 with *out set when a row came, 1 when none did
 * (*out untouched), -1 with `err` = 500 on a database error.
 */
int pl_db_step_id(struct pl_db *db, sqlite3_stmt *st, int64_t *out, struct pl_err *err);

/*
 * pl_db_begin: BEGIN IMMEDIATE (takes the write lock now, waiting up to
 * the busy timeout; see FACTS.md on deferred BEGIN). pl_db_commit:
 * COMMIT. pl_db_rollback: ROLLBACK, safe to call when no transaction is
 * open. Each returns 0, or -1 with `err` set (500; 503 when busy).
 */
int pl_db_begin(struct pl_db *db, struct pl_err *err);
int pl_db_commit(struct pl_db *db, struct pl_err *err);
void pl_db_rollback(struct pl_db *db);

/*
 * pl_db_migrate: applies every schema/NNN_*.sql file in `schema_dir` whose
 * number is above PRAGMA user_version, in order, each inside one
 * BEGIN IMMEDIATE transaction that also sets user_version = NNN; so a
 * migration runs once and never half, even with processes racing.
 * *applied (may be NULL) receives how many ran. Returns 0 or -1 (`err`).
 */
int pl_db_migrate(struct pl_db *db, const char *schema_dir, int *applied, struct pl_err *err);

/* pl_db_version: PRAGMA user_version, or -1 on error. */
int pl_db_version(struct pl_db *db);

/*
 * pl_db_backup: writes a consistent copy of the live database to `path`
 * (created or overwritten) with the SQLite online backup API
 * (https://sqlite.org/backup.html), in one step inside one read
 * transaction: in WAL mode writers go on meanwhile, and the copy holds
 * exactly what was committed when it began. The copy holds every secret
 * the database does: `path` is created 0600, or an existing file of this
 * user's made 0600, before anything is written; when that fails (another
 * user's file that others may read) nothing is written. Returns 0 or -1
 * (`err`).
 */
int pl_db_backup(struct pl_db *db, const char *path, struct pl_err *err);

/* pl_db_last_error: sqlite3_errmsg of the connection (borrowed). */
const char *pl_db_last_error(struct pl_db *db);

#endif
