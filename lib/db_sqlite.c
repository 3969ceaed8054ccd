/*
 * db_sqlite.c — the SQLite engine behind db.h (db_engine.h): connection, statement cache,
 * statements, transactions, migrations, backup. The only file of parley's
 * programs that calls sqlite3_* (db_sqlite.h exposes the handle to tests).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include "db.h"
#include "db_engine.h"
#include "db_sqlite.h"
#include "log.h"
#include "util.h"

/* A cached statement; `base` first, so a struct pl_stmt * is one. */
struct stmt_slot {
	struct pl_stmt base;
	const void *key;   /* the caller's table entry or constant: cached by address */
	sqlite3_stmt *st;
};

/* A connection; `base` first, so a struct pl_db * is one. */
struct sq_db {
	struct pl_db base;
	sqlite3 *h;
	int busy_timeout_ms;
	int64_t busy_started_ms;
	size_t nstmts;
	struct stmt_slot stmts[PL_DB_STMT_CACHE_MAX];
};

static const struct pl_db_engine engine;
static void sq_close(struct pl_db *base);

#define DB(db) ((struct sq_db *)(db))
#define ST(st) (((struct stmt_slot *)(st))->st)

/*
 * Busy handler: short sleeps (~100-200 us) instead of SQLite's 1-100 ms
 * steps keep the p99 of contended writes low (FACTS.md, SQLite).
 */
static int busy_handler(void *arg, int count)
{
	struct sq_db *db = arg;
	struct timespec ts = { 0, 100000 + (count % 8) * 15000 };
	int64_t now = pl_now_ms();

	if (count == 0)
		db->busy_started_ms = now;
	if (now - db->busy_started_ms >= db->busy_timeout_ms)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

static int exec(struct pl_db *db, const char *sql, struct pl_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(DB(db)->h, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int status = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? 503 : 500;
		pl_err_log("%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return pl_err_set(err, status, status == 503 ? "database busy, retry" : "internal server error");
	}
	return 0;
}

/*
 * The database holds password hashes, emails and session hashes. SQLite
 * creates it 0644 & ~umask, but gives -wal, -shm (and -journal) exactly
 * the database's mode: made 0600 before SQLite opens it, all of them are
 * owner-only. A -wal or -shm an older parley left readable is tightened
 * too. Best effort: whatever stops it also stops SQLite, which reports it.
 * In-memory, temporary ("") and URI ("file:") databases are left alone.
 */
static void make_private(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char name[4096];
	unsigned was;

	if (!*path || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s%s", path, suffixes[i]) >= sizeof(name))
			return;
		if (pl_file_private(name, i == 0, &was) < 0)
			pl_warn_log("%s may be open to other users: %s", name, strerror(errno));
		else if (was)
			pl_warn_log("%s was open to other users (mode %04o): made %04o",
				    name, was, was & 0700);
	}
}

int pl_db_sqlite_open(const char *path, int busy_timeout_ms, struct pl_db **out, struct pl_err *err)
{
	struct sq_db *db = pl_xcalloc(1, sizeof(*db));
	int rc;

	db->base.eng = &engine;
	db->busy_timeout_ms = busy_timeout_ms;
	make_private(path);
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		pl_err_internal(err, "cannot open %s: %s", path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_handler(db->h, busy_handler, db);
	sqlite3_extended_result_codes(db->h, 1);
	/* journal_mode is stored in the file; the others are per connection. */
	if (exec(&db->base, "PRAGMA journal_mode=WAL", err) < 0 ||
	    exec(&db->base, "PRAGMA synchronous=NORMAL", err) < 0 ||
	    exec(&db->base, "PRAGMA foreign_keys=ON", err) < 0)
		goto fail;
	*out = &db->base;
	return 0;
fail:
	sq_close(&db->base);
	return -1;
}

static void sq_close(struct pl_db *base)
{
	struct sq_db *db = DB(base);

	for (size_t i = 0; i < db->nstmts; i++)
		sqlite3_finalize(db->stmts[i].st);
	sqlite3_close(db->h);
	free(db);
}

sqlite3 *pl_db_sqlite(struct pl_db *db)
{
	return db->eng == &engine ? DB(db)->h : NULL;
}

static struct pl_stmt *sq_prepare(struct pl_db *base, const void *key, const char *sql,
				  struct pl_err *err)
{
	struct sq_db *db = DB(base);
	struct stmt_slot *slot;
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < db->nstmts; i++) {
		if (db->stmts[i].key == key) {
			st = db->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return &db->stmts[i].base;
		}
	}
	if (db->nstmts == PL_DB_STMT_CACHE_MAX) {
		/* Cannot happen with the statement tables we have. */
		pl_err_internal(err, "statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		pl_err_internal(err, "prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	slot = &db->stmts[db->nstmts++];
	slot->base.eng = &engine;
	slot->base.db = &db->base;
	slot->key = key;
	slot->st = st;
	return &slot->base;
}

static void sq_done(struct pl_stmt *st)
{
	sqlite3_reset(ST(st));
}

static void sq_bind_int64(struct pl_stmt *st, int idx, int64_t v)
{
	sqlite3_bind_int64(ST(st), idx, v);
}

static void sq_bind_text(struct pl_stmt *st, int idx, const char *s)
{
	sqlite3_bind_text(ST(st), idx, s, -1, SQLITE_STATIC);
}

static void sq_bind_blob(struct pl_stmt *st, int idx, const void *p, size_t n)
{
	sqlite3_bind_blob64(ST(st), idx, p, (sqlite3_uint64)n, SQLITE_STATIC);
}

static void sq_bind_null(struct pl_stmt *st, int idx)
{
	sqlite3_bind_null(ST(st), idx);
}

static int sq_param_count(struct pl_stmt *st)
{
	return sqlite3_bind_parameter_count(ST(st));
}

static enum pl_step sq_step(struct pl_stmt *st)
{
	int rc = sqlite3_step(ST(st));

	switch (rc) {
	case SQLITE_ROW:
		return PL_ROW;
	case SQLITE_DONE:
		return PL_DONE;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return PL_UNIQUE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return PL_BUSY;
	default:
		return (rc & 0xff) == SQLITE_CONSTRAINT ? PL_CONSTRAINT : PL_ERROR;
	}
}

static int64_t sq_column_int64(struct pl_stmt *st, int col)
{
	return sqlite3_column_int64(ST(st), col);
}

static const char *sq_column_text(struct pl_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(ST(st), col);
}

static const void *sq_column_blob(struct pl_stmt *st, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(ST(st), col);

	*n = (size_t)sqlite3_column_bytes(ST(st), col);
	return p;
}

static bool sq_column_null(struct pl_stmt *st, int col)
{
	return sqlite3_column_type(ST(st), col) == SQLITE_NULL;
}

static const char *sq_sql(struct pl_stmt *st)
{
	return sqlite3_sql(ST(st));
}

static int64_t sq_changes(struct pl_db *db)
{
	return sqlite3_changes64(DB(db)->h);
}

static int64_t sq_last_id(struct pl_db *db)
{
	return sqlite3_last_insert_rowid(DB(db)->h);
}

static int sq_begin(struct pl_db *db, struct pl_err *err)
{
	return exec(db, "BEGIN IMMEDIATE", err);
}

static int sq_commit(struct pl_db *db, struct pl_err *err)
{
	return exec(db, "COMMIT", err);
}

static void sq_rollback(struct pl_db *db)
{
	if (!sqlite3_get_autocommit(DB(db)->h))
		sqlite3_exec(DB(db)->h, "ROLLBACK", NULL, NULL, NULL);
}

/* The first column of the one-row `sql` (cached), or -1. */
static int64_t scalar(struct pl_db *db, const char *sql, const char *param)
{
	struct pl_stmt *st = sq_prepare(db, sql, sql, NULL);
	int64_t v = -1;
	int step;

	if (!st)
		return -1;
	if (param)
		sqlite3_bind_text(ST(st), 1, param, -1, SQLITE_STATIC);
	step = sqlite3_step(ST(st));
	if (step == SQLITE_ROW)
		v = sqlite3_column_int64(ST(st), 0);
	else if (step == SQLITE_DONE && param)
		v = 0;
	else
		pl_err_log("%s: %s", sql, sqlite3_errmsg(DB(db)->h));
	sqlite3_reset(ST(st));
	return v;
}

static int64_t sq_data_version(struct pl_db *db)
{
	static const char sql[] = "PRAGMA data_version";

	return scalar(db, sql, NULL);
}

static int64_t sq_size(struct pl_db *db)
{
	static const char sql[] =
		"SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";

	return scalar(db, sql, NULL);
}

static int64_t sq_sequence(struct pl_db *db, const char *table)
{
	static const char sql[] = "SELECT seq FROM sqlite_sequence WHERE name = ?1";

	return scalar(db, sql, table);
}

static int sq_version(struct pl_db *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(DB(db)->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *sq_last_error(struct pl_db *db)
{
	return sqlite3_errmsg(DB(db)->h);
}

/* Counts the rows of PRAGMA foreign_key_check (each one a broken
 * reference), or -1 when the check cannot run. */
static int foreign_key_violations(struct pl_db *db)
{
	sqlite3_stmt *st;
	int n = 0, step;

	if (sqlite3_prepare_v2(DB(db)->h, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? n : -1;
}

/*
 * A migration whose first line is PL_MIGRATION_FK_OFF rebuilds tables
 * (https://sqlite.org/lang_altertable.html#otheralter): it runs with
 * foreign key enforcement off, or DROP TABLE would cascade into every
 * referencing table, and must leave no broken reference behind
 * (PRAGMA foreign_key_check, inside the same transaction). The pragma is a
 * no-op inside a transaction, so it is switched before BEGIN and back after.
 */
#define PL_MIGRATION_FK_OFF "-- parley: foreign_keys=off"

static int apply_one(struct pl_db *db, const char *path, int number, bool *ran, struct pl_err *err)
{
	char setv[64];
	char *sql = pl_db_read_file(path, err);
	bool fk_off;
	int rc = -1;

	*ran = false;
	if (!sql)
		return -1;
	fk_off = strncmp(sql, PL_MIGRATION_FK_OFF, strlen(PL_MIGRATION_FK_OFF)) == 0;
	if (fk_off && exec(db, "PRAGMA foreign_keys=OFF", err) < 0)
		goto out;
	if (sq_begin(db, err) < 0)
		goto out;
	/* Re-check under the write lock: another process may have won. */
	if (sq_version(db) >= number) {
		rc = pl_db_commit(db, err);
		goto out;
	}
	snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", number);
	if (exec(db, sql, err) < 0 || exec(db, setv, err) < 0) {
		sq_rollback(db);
		pl_err_internal(err, "migration %s failed", path);
		goto out;
	}
	if (fk_off && foreign_key_violations(db) != 0) {
		sq_rollback(db);
		pl_err_internal(err, "migration %s failed: it would break foreign keys", path);
		goto out;
	}
	if ((rc = pl_db_commit(db, err)) == 0) {
		*ran = true;
		pl_info_log("applied migration %s", path);
	}
out:
	if (fk_off && exec(db, "PRAGMA foreign_keys=ON", rc < 0 ? NULL : err) < 0)
		rc = -1;
	free(sql);
	return rc;
}

static int sq_migrate(struct pl_db *db, const char *schema_dir, int *applied, struct pl_err *err)
{
	char **names;
	size_t n;
	int rc = 0, count = 0;

	if (pl_db_migration_names(schema_dir, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[2048];
		int number = pl_db_migration_number(names[i]);
		bool ran;

		if (sq_version(db) >= number)
			continue;
		snprintf(path, sizeof(path), "%s/%s", schema_dir, names[i]);
		rc = apply_one(db, path, number, &ran, err);
		count += ran;
	}
	pl_db_migration_names_free(names, n);
	if (applied)
		*applied = count;
	return rc;
}

static int sq_backup(struct pl_db *db, const char *path, struct pl_err *err)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc;

	/* The copy holds every secret the database does: it is made 0600
	 * (an existing file too) before a byte goes in, or not written. */
	if (pl_file_private(path, true, NULL) < 0)
		return pl_err_internal(err, "backup file %s cannot be made private (mode 0600): %s",
				       path, strerror(errno));
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		pl_err_internal(err, "cannot open backup file %s: %s", path, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	if (!(b = sqlite3_backup_init(dst, "main", DB(db)->h, "main"))) {
		pl_err_internal(err, "backup init: %s", sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	/* -1: every page in one step, so the source snapshot cannot change
	 * under the copy (a stepwise backup restarts on every write). */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(5);
	} while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		pl_err_internal(err, "backup to %s failed: %s", path, sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	/* The copy is a standalone file: no WAL beside it. */
	rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	sqlite3_close(dst);
	return rc == SQLITE_OK ? 0 : pl_err_internal(err, "backup journal mode: %s", sqlite3_errstr(rc));
}

static const struct pl_db_engine engine = {
	.kind = PL_DB_SQLITE,
	.close = sq_close,
	.prepare = sq_prepare,
	.done = sq_done,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_blob = sq_bind_blob,
	.bind_null = sq_bind_null,
	.param_count = sq_param_count,
	.step = sq_step,
	.column_int64 = sq_column_int64,
	.column_text = sq_column_text,
	.column_blob = sq_column_blob,
	.column_null = sq_column_null,
	.sql = sq_sql,
	.changes = sq_changes,
	.last_id = sq_last_id,
	.exec = exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.data_version = sq_data_version,
	.size = sq_size,
	.sequence = sq_sequence,
	.migrate = sq_migrate,
	.version = sq_version,
	.backup = sq_backup,
	.last_error = sq_last_error,
};
