/*
 * db.h — the storage boundary: the one interface every other file uses to
 * reach the database, whatever the engine. A connection per process;
 * statements prepared once per process and cached; one transaction idiom
 * (pl_db_begin ... pl_db_end); and small hooks for what differs between
 * engines (change detection, the events sequence, backup).
 *
 * Only the engine's implementation file calls the engine's library
 * (db_sqlite.c: SQLite 3.40 — one connection per process, opened with
 * WAL, synchronous=NORMAL, foreign_keys=ON and a short-sleep busy handler,
 * see ../shared/FACTS.md, SQLite; BEGIN IMMEDIATE for every write).
 *
 * SQL texts number their parameters ?1, ?2, ... and prefer what SQLite
 * 3.40 and PostgreSQL 15 both accept (ON CONFLICT ... DO NOTHING/UPDATE,
 * RETURNING, IS [NOT] DISTINCT FROM).
 */
#ifndef PL_DB_H
#define PL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

struct pl_db;

/* A prepared statement: owned by its connection (never freed by callers). */
struct pl_stmt;

/* What one step of a statement did. */
enum pl_step {
	PL_ERROR = -1,     /* any other failure (see pl_db_last_error) */
	PL_DONE = 0,       /* finished: no (more) rows */
	PL_ROW = 1,        /* a row is ready to read */
	PL_UNIQUE = 2,     /* a UNIQUE or PRIMARY KEY constraint refused the write */
	PL_CONSTRAINT = 3, /* another constraint (CHECK, FOREIGN KEY, NOT NULL) */
	PL_BUSY = 4        /* the database stayed locked past the busy timeout */
};

/* The engines. */
enum pl_db_kind {
	PL_DB_SQLITE = 1,   /* embedded: one file (db_sqlite.c) */
	PL_DB_POSTGRES = 2  /* a PostgreSQL 15 server through libpq (db_pg.c) */
};

/*
 * pl_db_engine_of: which engine the address `url` names: PL_DB_POSTGRES for
 * a libpq connection string ("postgresql://...", "postgres://...", or
 * "key=value ..." such as "host=/run/pg dbname=parley"; see
 * https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING),
 * else PL_DB_SQLITE (a file path, optionally prefixed "sqlite:").
 */
enum pl_db_kind pl_db_engine_of(const char *url);

/* pl_db_kind: the engine of an open connection. */
enum pl_db_kind pl_db_kind(const struct pl_db *db);

/*
 * pl_db_open: opens the database `url` names (pl_db_engine_of). For
 * PostgreSQL: connects (libpq), sets the session's time zone to UTC and
 * `lock_timeout` to `busy_timeout_ms`; the rest of this comment is SQLite's
 * case, which opens (creating if needed) the database at `path` and sets
 * the per-connection pragmas. `busy_timeout_ms` bounds how long a writer
 * waits for the lock. The file is created 0600 whatever the umask, so
 * SQLite's -wal and -shm (which take the database's mode) are 0600 too;
 * an existing database, -wal or -shm that group or others may access is
 * chmod'ed to its owner bits when this user owns it (or is root), with a
 * warning in the log (pl_file_private, util.h). On success *out owns the
 * handle: release it with pl_db_close(). Returns 0, or -1 with `err` set
 * (500).
 */
int pl_db_open(const char *url, int busy_timeout_ms, struct pl_db **out, struct pl_err *err);

/* pl_db_close: finalizes cached statements and closes; NULL is a no-op. */
void pl_db_close(struct pl_db *db);


/*
 * One entry of a module's statement table. Each module keeps its SQL in
 * one table near the top of its file, kcgi-style: an enum names the
 * statements, a `static const struct pl_sql` array indexed by it holds
 * them, and code prepares `&table[STMT_X]`:
 *
 *	enum stmt { STMT_GET, STMT_BUMP, STMT__MAX };
 *	static const struct pl_sql stmts[STMT__MAX] = {
 *		[STMT_GET] = { "SELECT count FROM rate_limits WHERE key = ?1" },
 *		[STMT_BUMP] = { "UPDATE ... max(count - 1, 0) ...",
 *				.pg = "UPDATE ... greatest(count - 1, 0) ..." },
 *	};
 *
 * `sql` is the text every engine runs (parameters ?1, ?2, ...); `pg`, when
 * set, is PostgreSQL's own spelling of the same statement (same parameters,
 * same columns in the same order) where the engines' dialects differ.
 */
struct pl_sql {
	const char *sql;
	const char *pg;
};

/*
 * pl_db_prepare: returns the statement for table entry `q` in this
 * connection's engine, prepared once per process and cached by the address
 * of `q` (pass entries of static tables only). The statement comes reset
 * with its bindings cleared; it stays owned by `db`. Call pl_db_done() when
 * finished so no read keeps an old snapshot open. Returns NULL (logged,
 * `err` set to 500) when preparing fails.
 */
struct pl_stmt *pl_db_prepare(struct pl_db *db, const struct pl_sql *q, struct pl_err *err);

/*
 * pl_db_stmt: like pl_db_prepare for one text every engine runs, cached by
 * the address of `sql` (pass string constants only): for tools and tests;
 * modules use their statement table.
 */
struct pl_stmt *pl_db_stmt(struct pl_db *db, const char *sql, struct pl_err *err);

/*
 * pl_db_error_count: how many statements on `db` have failed so far (a
 * prepare, a step ending in PL_ERROR or PL_BUSY, a failed exec, begin or
 * commit; constraint refusals are answers, not failures). Readers whose
 * callees turn errors into "nothing found" compare it before and after,
 * to tell an absent row from an unreadable one.
 */
uint64_t pl_db_error_count(const struct pl_db *db);

/* pl_db_done: resets `st` (NULL is a no-op). */
void pl_db_done(struct pl_stmt *st);

/*
 * Binding (parameters count from 1, as ?1 in the SQL): pl_stmt_bind_text
 * binds a NUL-terminated string that must stay valid until the statement
 * is stepped to its end or reset (no copy; NULL binds SQL NULL);
 * pl_stmt_bind_blob likewise `n` bytes; pl_stmt_bind_id binds NULL for 0
 * (an absent optional id). Bindings stay until pl_db_stmt hands the
 * statement out again.
 */
void pl_stmt_bind_int64(struct pl_stmt *st, int idx, int64_t v);
void pl_stmt_bind_int(struct pl_stmt *st, int idx, int v);
void pl_stmt_bind_id(struct pl_stmt *st, int idx, int64_t id);
void pl_stmt_bind_text(struct pl_stmt *st, int idx, const char *s);
void pl_stmt_bind_blob(struct pl_stmt *st, int idx, const void *p, size_t n);
void pl_stmt_bind_null(struct pl_stmt *st, int idx);

/* pl_stmt_param_count: the number of parameters of `st`. */
int pl_stmt_param_count(struct pl_stmt *st);

/* pl_stmt_step: runs `st` to its next row (PL_ROW) or its end (PL_DONE),
 * or reports why it could not (enum pl_step). */
enum pl_step pl_stmt_step(struct pl_stmt *st);

/*
 * Columns of the current row (counting from 0): pl_stmt_int64 / pl_stmt_int
 * (0 for NULL); pl_stmt_text (NULL for SQL NULL; borrowed until the next
 * step or reset); pl_stmt_blob (borrowed likewise, *n its size);
 * pl_stmt_null (whether the column is SQL NULL).
 */
int64_t pl_stmt_int64(struct pl_stmt *st, int col);
int pl_stmt_int(struct pl_stmt *st, int col);
const char *pl_stmt_text(struct pl_stmt *st, int col);
const void *pl_stmt_blob(struct pl_stmt *st, int col, size_t *n);
bool pl_stmt_null(struct pl_stmt *st, int col);

/* pl_stmt_sql: the statement's SQL text (borrowed), for logs. */
const char *pl_stmt_sql(struct pl_stmt *st);

/* pl_db_changes: rows changed by the last INSERT/UPDATE/DELETE. */
int64_t pl_db_changes(struct pl_db *db);

/* pl_db_last_id: the id the last INSERT on this connection gave its row
 * (SQLite: last_insert_rowid). */
int64_t pl_db_last_id(struct pl_db *db);

/*
 * pl_db_exec: runs `sql` (one or more statements, no parameters, no rows
 * wanted: migrations, pragmas). Returns 0, or -1 with `err` (503 when the
 * database is busy, else 500; the engine's message is logged).
 */
int pl_db_exec(struct pl_db *db, const char *sql, struct pl_err *err);

/*
 * pl_db_step_done: steps a bound write (or any statement expected to
 * return no row) once and resets it. Returns 0 on PL_DONE, else -1
 * with `err` = 500 (the SQLite message is logged, never returned).
 */
int pl_db_step_done(struct pl_db *db, struct pl_stmt *st, struct pl_err *err);

/*
 * pl_db_step_id: steps a bound lookup whose first column is an id and
 * resets it. Returns 0 with *out set when a row came, 1 when none did
 * (*out untouched), -1 with `err` = 500 on a database error.
 */
int pl_db_step_id(struct pl_db *db, struct pl_stmt *st, int64_t *out, struct pl_err *err);

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
 * pl_db_end: ends the transaction pl_db_begin opened: commits when `rc` is
 * 0, else rolls back. Returns 0 when committed, -1 otherwise (`err` set by
 * the failed commit, or left as the caller's failure set it). The one
 * tail of every write:
 *
 *	if (pl_db_begin(db, err) < 0)
 *		return -1;
 *	rc = do_the_writes(...);
 *	return pl_db_end(db, rc, err);
 */
int pl_db_end(struct pl_db *db, int rc, struct pl_err *err);

/*
 * pl_db_data_version: a number that changes whenever another connection
 * commits (SQLite: PRAGMA data_version), for readers that poll for news
 * (the ws-daemon, the long poll). -1 on error (logged).
 */
int64_t pl_db_data_version(struct pl_db *db);

/* pl_db_size: the database's size in bytes (SQLite: pages x page size,
 * without the -wal file), -1 on error. */
int64_t pl_db_size(struct pl_db *db);

/*
 * pl_db_sequence: the highest id `table` (an AUTOINCREMENT table) ever
 * gave, even when that row is gone (SQLite: sqlite_sequence); 0 when none,
 * -1 on error.
 */
int64_t pl_db_sequence(struct pl_db *db, const char *table);

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

/*
 * A listener: what tells a process about other connections' commits
 * without polling. On PostgreSQL, a connection of its own that LISTENs on
 * "parley_events" (the schema's events trigger NOTIFYs at every commit
 * that wrote an event; https://www.postgresql.org/docs/15/sql-notify.html).
 * A notification is a hint to read the events table, never the data:
 * NOTIFYs sent while the listener was disconnected are lost, so callers
 * keep a slow poll as the floor.
 *
 * pl_db_listen: opens one for the database `url` names. Returns 0 with *out
 * set (release it with pl_db_listener_close), 1 when the engine has no such
 * thing (SQLite: watch the -wal file instead), -1 with `err` set when it
 * cannot connect.
 * pl_db_listener_fd: the descriptor that turns readable when something
 * arrived (owned by the listener: poll it, never close it).
 * pl_db_listener_drain: reads what arrived without blocking; returns how
 * many notifications (0 none), -1 when the connection is lost (close the
 * listener and open a new one).
 */
struct pl_db_listener;
int pl_db_listen(const char *url, struct pl_db_listener **out, struct pl_err *err);
int pl_db_listener_fd(const struct pl_db_listener *l);
int pl_db_listener_drain(struct pl_db_listener *l);
void pl_db_listener_close(struct pl_db_listener *l);

/* pl_db_last_error: the engine's message for the last failure (borrowed). */
const char *pl_db_last_error(struct pl_db *db);

#endif
