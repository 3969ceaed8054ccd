/*
 * db_pg.c — the PostgreSQL engine behind db.h (db_engine.h), on libpq
 * (https://www.postgresql.org/docs/15/libpq.html). The only file of
 * parley's programs that calls PQ*.
 *
 * Statements: the ?N parameters of a statement table's text become $N and
 * the text is prepared once per connection under a name (PQprepare);
 * parameters go as text (bytea as binary), results come as text, read a
 * row at a time by pl_stmt_step. A statement's result is fetched whole at
 * its first step (history pages and lists are bounded by their LIMITs).
 *
 * Writes: pl_db_begin opens a transaction and takes one transaction-scoped
 * advisory lock (PL_PG_WRITE_LOCK), so write transactions run one at a
 * time across every connection, as on SQLite (BEGIN IMMEDIATE). It keeps
 * the check-then-write rules of the domain code correct under READ
 * COMMITTED, and it makes event ids follow commit order: the events
 * table's trigger takes the same lock before it stamps the id, so an id is
 * drawn only by the one transaction that will commit next (FACTS.md,
 * "Sequence values commit out of order"; docs/DECISIONS.md).
 * `lock_timeout` is the busy timeout: a writer that waits longer gets
 * PL_BUSY / 503, like SQLite's busy handler.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "db.h"
#include "db_engine.h"
#include "log.h"
#include "util.h"

/*
 * libpq is loaded when the first PostgreSQL connection is opened, not
 * linked: it brings ~20 more shared libraries (OpenSSL, Kerberos, LDAP)
 * whose loading every process start would pay, and a CGI program on
 * SQLite starts once per request (docs/DECISIONS.md). The functions are
 * reached through `pq`, filled by dlsym (dlopen(3)); libpq-fe.h gives
 * their types.
 */
#define PL_PQ_FUNCS(X) \
	X(PQclear) \
	X(PQcmdStatus) \
	X(PQcmdTuples) \
	X(PQconnectdb) \
	X(PQconsumeInput) \
	X(PQerrorMessage) \
	X(PQexec) \
	X(PQexecPrepared) \
	X(PQfinish) \
	X(PQfreemem) \
	X(PQftype) \
	X(PQgetisnull) \
	X(PQgetlength) \
	X(PQgetvalue) \
	X(PQnfields) \
	X(PQnotifies) \
	X(PQntuples) \
	X(PQprepare) \
	X(PQreset) \
	X(PQresultErrorField) \
	X(PQresultErrorMessage) \
	X(PQresultStatus) \
	X(PQsetNoticeProcessor) \
	X(PQsetnonblocking) \
	X(PQsocket) \
	X(PQstatus) \
	X(PQtransactionStatus) \
	X(PQunescapeBytea)

static struct {
#define X(f) __typeof__(f) *f;
	PL_PQ_FUNCS(X)
#undef X
} pq;

/* Loads libpq once per process; false (err set) when it is missing. */
static bool pq_load(struct pl_err *err)
{
	static bool loaded;
	void *h;

	if (loaded)
		return true;
	if (!(h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL))) {
		pl_err_internal(err, "PostgreSQL needs libpq (Debian: apt-get install libpq5): %s",
				dlerror());
		return false;
	}
#define X(f) \
	if (!(*(void **)&pq.f = dlsym(h, #f))) { \
		pl_err_internal(err, "libpq.so.5 lacks %s", #f); \
		dlclose(h); \
		return false; \
	}
	PL_PQ_FUNCS(X)
#undef X
	loaded = true;
	return true;
}

/* The advisory lock key every write transaction holds ("parl"); the
 * schema's events trigger names the same number. */
#define PL_PG_WRITE_LOCK 1885434476
/* The key migrations hold ("migr"). */
#define PL_PG_MIGRATE_LOCK 1835624306

#define BYTEAOID 17

struct pg_param {
	const char *value;  /* NULL: SQL NULL */
	int length;         /* for binary values */
	int format;         /* 0 text, 1 binary */
	char num[24];       /* an integer's text */
};

/* A cached statement; `base` first, so a struct pl_stmt * is one. */
struct pg_stmt {
	struct pl_stmt base;
	struct pg_db *db;
	const void *key;
	char name[16];
	char *sql;          /* the $N text (owned) */
	bool prepared;      /* on the current server connection */
	int nparams;
	struct pg_param *params;
	PGresult *res;
	int row, nrows;
	unsigned char *blob; /* the last decoded bytea column (owned) */
};

/* A connection; `base` first, so a struct pl_db * is one. */
struct pg_db {
	struct pl_db base;
	PGconn *conn;
	bool broken;        /* an answer said the connection is gone, though
	                     * libpq may not know yet: reconnect on next use */
	bool in_tx;         /* a transaction was open when last seen (a
	                     * connection lost then is not replaced until
	                     * the caller rolls back: see ensure_conn) */
	int busy_timeout_ms;
	int64_t changes;
	char errmsg[512];
	size_t nstmts;
	struct pg_stmt *stmts[PL_DB_STMT_CACHE_MAX];
};

static const struct pl_db_engine engine;

#define DB(db) ((struct pg_db *)(db))
#define ST(st) ((struct pg_stmt *)(st))

static void set_error(struct pg_db *db, const PGresult *res)
{
	const char *m = res ? pq.PQresultErrorMessage(res) : NULL;

	if (!m || !*m)
		m = pq.PQerrorMessage(db->conn);
	snprintf(db->errmsg, sizeof(db->errmsg), "%s", m);
	/* libpq messages end in a newline. */
	db->errmsg[strcspn(db->errmsg, "\n")] = '\0';
}

/* What an SQLSTATE means to db.h (Appendix A of the PostgreSQL manual). */
static enum pl_step step_of_state(const char *state)
{
	if (!state)
		return PL_ERROR;
	if (strcmp(state, "23505") == 0)
		return PL_UNIQUE;
	if (strncmp(state, "23", 2) == 0)
		return PL_CONSTRAINT;
	if (strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0)
		return PL_BUSY;
	return PL_ERROR;
}

/*
 * Marks the connection broken when `res` (an answer; NULL: none) says it
 * is gone: libpq lost it, or the server ended the session (SQLSTATE class
 * 08, connection exception; 57P, the server shutting down or crashed), or
 * the error came without a SQLSTATE (libpq's own, about the connection).
 */
static void note_lost(struct pg_db *db, const PGresult *res)
{
	ExecStatusType rs = pq.PQresultStatus(res);
	const char *state;

	if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK)
		return;
	state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (pq.PQstatus(db->conn) != CONNECTION_OK || !state ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		db->broken = true;
}

/* Records whether a transaction is open, after each command that reached
 * the server. */
static void note_tx(struct pg_db *db)
{
	PGTransactionStatusType t = pq.PQtransactionStatus(db->conn);

	if (pq.PQstatus(db->conn) == CONNECTION_OK)
		db->in_tx = t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/*
 * The connection is usable, reconnecting once when the server dropped it
 * (every statement is prepared again on the new connection). Never inside
 * a transaction: the transaction died with the connection, and a statement
 * (or a COMMIT) on a new one would run outside it, so the caller gets the
 * error and rolls back first (pg_rollback clears in_tx).
 */
static bool ensure_conn(struct pg_db *db)
{
	if (pq.PQstatus(db->conn) == CONNECTION_OK)
		return true;
	if (db->in_tx) {
		snprintf(db->errmsg, sizeof(db->errmsg),
			 "connection to PostgreSQL lost inside a transaction");
		return false;
	}
	pq.PQreset(db->conn);
	if (pq.PQstatus(db->conn) != CONNECTION_OK) {
		set_error(db, NULL);
		return false;
	}
	db->broken = false;
	for (size_t i = 0; i < db->nstmts; i++)
		db->stmts[i]->prepared = false;
	pl_warn_log("reconnected to PostgreSQL");
	return true;
}

/*
 * Whether a statement that just failed may simply be sent again on a new
 * connection: the connection dropped (a server restart, a killed backend:
 * found only on the next use), no transaction was open, and the statement
 * changes nothing (a read, or the BEGIN of a transaction), so running it
 * twice cannot apply anything twice. Then the caller gets its answer
 * instead of one failure per process after every restart.
 */
static bool may_resend(struct pg_db *db, bool was_in_tx, const char *sql)
{
	if (was_in_tx || !db->broken)
		return false;
	return strncmp(sql, "SELECT", 6) == 0 || strncmp(sql, "BEGIN", 5) == 0;
}

/* PQexec of `sql`, sent once more on a new connection when may_resend. */
static PGresult *exec_once_more(struct pg_db *db, const char *sql)
{
	bool was_in_tx = db->in_tx;
	PGresult *res = pq.PQexec(db->conn, sql);

	note_tx(db);
	note_lost(db, res);
	if (may_resend(db, was_in_tx, sql) && ensure_conn(db)) {
		pq.PQclear(res);
		res = pq.PQexec(db->conn, sql);
		note_tx(db);
		note_lost(db, res);
	}
	return res;
}

static int exec(struct pl_db *base, const char *sql, struct pl_err *err)
{
	struct pg_db *db = DB(base);
	PGresult *res;
	ExecStatusType rs;
	int status;

	if (!ensure_conn(db)) {
		pl_err_log("%s: %s", sql, db->errmsg);
		return pl_err_set(err, 503, "database unavailable, retry");
	}
	res = exec_once_more(db, sql);
	rs = pq.PQresultStatus(res);
	if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
		/* COMMIT of a failed transaction answers "ROLLBACK". */
		bool rolled_back = strcmp(sql, "COMMIT") == 0 && strcmp(pq.PQcmdStatus(res), "ROLLBACK") == 0;
		pq.PQclear(res);
		if (!rolled_back)
			return 0;
		snprintf(db->errmsg, sizeof(db->errmsg), "transaction was aborted");
		pl_err_log("COMMIT: %s", db->errmsg);
		return pl_err_set(err, 500, "internal server error");
	}
	set_error(db, res);
	status = step_of_state(pq.PQresultErrorField(res, PG_DIAG_SQLSTATE)) == PL_BUSY ? 503 : 500;
	pq.PQclear(res);
	pl_err_log("%.200s: %s", sql, db->errmsg);
	return pl_err_set(err, status, status == 503 ? "database busy, retry" : "internal server error");
}

/* Notices (e.g. from CREATE ... IF NOT EXISTS) are not errors. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	pl_debug_log("postgres: %s", message);
}

int pl_db_pg_open(const char *conninfo, int busy_timeout_ms, struct pl_db **out, struct pl_err *err)
{
	struct pg_db *db;
	char set[160];

	if (!pq_load(err))
		return -1;
	db = pl_xcalloc(1, sizeof(*db));
	db->base.eng = &engine;
	db->busy_timeout_ms = busy_timeout_ms;
	db->conn = pq.PQconnectdb(conninfo);
	if (pq.PQstatus(db->conn) != CONNECTION_OK) {
		set_error(db, NULL);
		pl_err_internal(err, "cannot connect to PostgreSQL: %s", db->errmsg);
		goto fail;
	}
	pq.PQsetNoticeProcessor(db->conn, on_notice, NULL);
	snprintf(set, sizeof(set), "SET TIME ZONE 'UTC'; SET lock_timeout = %d; "
		 "SET client_min_messages = warning", busy_timeout_ms > 0 ? busy_timeout_ms : 1);
	if (exec(&db->base, set, err) < 0)
		goto fail;
	*out = &db->base;
	return 0;
fail:
	engine.close(&db->base);
	return -1;
}

static void stmt_free(struct pg_stmt *st)
{
	pq.PQclear(st->res);
	pq.PQfreemem(st->blob);
	free(st->params);
	free(st->sql);
	free(st);
}

static void pg_close(struct pl_db *base)
{
	struct pg_db *db = DB(base);

	for (size_t i = 0; i < db->nstmts; i++)
		stmt_free(db->stmts[i]);
	pq.PQfinish(db->conn);
	free(db);
}

/*
 * The $N spelling of a ?N text: `?` followed by digits outside quotes and
 * comments becomes `$`. *nparams receives the highest N. Caller frees.
 */
static char *dollar_params(const char *sql, int *nparams)
{
	char *out = pl_xstrdup(sql);
	char *p = out;

	*nparams = 0;
	while (*p) {
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			while (*p && *p != q)
				p++;
			if (*p)
				p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
			int n = (int)strtol(p + 1, NULL, 10);
			*p++ = '$';
			if (n > *nparams)
				*nparams = n;
		} else {
			p++;
		}
	}
	return out;
}

/* Prepares `st` on the server; a connection found gone is replaced and the
 * prepare sent once more (it changes nothing) unless a transaction was
 * open. */
static bool server_prepare(struct pg_db *db, struct pg_stmt *st)
{
	bool was_in_tx = db->in_tx;
	PGresult *res = pq.PQprepare(db->conn, st->name, st->sql, 0, NULL);
	bool ok = pq.PQresultStatus(res) == PGRES_COMMAND_OK;

	note_lost(db, res);
	if (!ok && !was_in_tx && db->broken && ensure_conn(db)) {
		pq.PQclear(res);
		res = pq.PQprepare(db->conn, st->name, st->sql, 0, NULL);
		ok = pq.PQresultStatus(res) == PGRES_COMMAND_OK;
		note_lost(db, res);
	}
	if (!ok)
		set_error(db, res);
	pq.PQclear(res);
	st->prepared = ok;
	return ok;
}

static void reset(struct pg_stmt *st)
{
	pq.PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	pq.PQfreemem(st->blob);
	st->blob = NULL;
}

static struct pl_stmt *pg_prepare(struct pl_db *base, const void *key, const char *sql,
				  struct pl_err *err)
{
	struct pg_db *db = DB(base);
	struct pg_stmt *st = NULL;

	for (size_t i = 0; i < db->nstmts; i++) {
		if (db->stmts[i]->key == key) {
			st = db->stmts[i];
			break;
		}
	}
	if (!st) {
		if (db->nstmts == PL_DB_STMT_CACHE_MAX) {
			pl_err_internal(err, "statement cache full");
			return NULL;
		}
		st = pl_xcalloc(1, sizeof(*st));
		st->base.eng = &engine;
		st->base.db = &db->base;
		st->db = db;
		st->key = key;
		snprintf(st->name, sizeof(st->name), "pl%zu", db->nstmts);
		st->sql = dollar_params(sql, &st->nparams);
		st->params = pl_xcalloc((size_t)st->nparams + 1, sizeof(*st->params));
		st->row = -1;
		db->stmts[db->nstmts++] = st;
	}
	reset(st);
	for (int i = 0; i < st->nparams; i++)
		st->params[i].value = NULL;
	if (!st->prepared && (!ensure_conn(db) || !server_prepare(db, st))) {
		pl_err_internal(err, "prepare failed: %s: %s", db->errmsg, st->sql);
		return NULL;
	}
	return &st->base;
}

static void pg_done(struct pl_stmt *st)
{
	reset(ST(st));
}

static struct pg_param *param(struct pl_stmt *st, int idx)
{
	if (idx < 1 || idx > ST(st)->nparams)
		return NULL;
	return &ST(st)->params[idx - 1];
}

static void pg_bind_int64(struct pl_stmt *st, int idx, int64_t v)
{
	struct pg_param *p = param(st, idx);

	if (!p)
		return;
	snprintf(p->num, sizeof(p->num), "%lld", (long long)v);
	p->value = p->num;
	p->format = 0;
}

static void pg_bind_text(struct pl_stmt *st, int idx, const char *s)
{
	struct pg_param *p = param(st, idx);

	if (!p)
		return;
	p->value = s;
	p->format = 0;
}

static void pg_bind_blob(struct pl_stmt *st, int idx, const void *v, size_t n)
{
	struct pg_param *p = param(st, idx);

	if (!p)
		return;
	/* A zero-length value still needs a non-NULL pointer (NULL is SQL NULL). */
	p->value = n ? v : "";
	p->length = (int)n;
	p->format = 1;
}

static void pg_bind_null(struct pl_stmt *st, int idx)
{
	struct pg_param *p = param(st, idx);

	if (p)
		p->value = NULL;
}

static int pg_param_count(struct pl_stmt *st)
{
	return ST(st)->nparams;
}

/* Runs the bound statement; its rows (if any) are then read by step. */
static enum pl_step run(struct pg_stmt *st)
{
	struct pg_db *db = st->db;
	const char *values[st->nparams + 1];
	int lengths[st->nparams + 1], formats[st->nparams + 1];
	ExecStatusType rs;
	bool was_in_tx = db->in_tx;

	for (int i = 0; i < st->nparams; i++) {
		values[i] = st->params[i].value;
		lengths[i] = st->params[i].length;
		formats[i] = st->params[i].format;
	}
	for (int attempt = 0;; attempt++) {
		if (!ensure_conn(db) || (!st->prepared && !server_prepare(db, st)))
			return PL_ERROR;
		st->res = pq.PQexecPrepared(db->conn, st->name, st->nparams, values, lengths,
					    formats, 0);
		note_tx(db);
		note_lost(db, st->res);
		rs = pq.PQresultStatus(st->res);
		if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK || attempt > 0 ||
		    !may_resend(db, was_in_tx, st->sql))
			break;
		pq.PQclear(st->res);
		st->res = NULL;
	}
	if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
		const char *tag = pq.PQcmdStatus(st->res);
		st->nrows = pq.PQntuples(st->res);
		if (strncmp(tag, "SELECT", 6) != 0)
			db->changes = strtoll(pq.PQcmdTuples(st->res), NULL, 10);
		return PL_DONE;
	}
	set_error(db, st->res);
	return step_of_state(pq.PQresultErrorField(st->res, PG_DIAG_SQLSTATE));
}

static enum pl_step pg_step(struct pl_stmt *base)
{
	struct pg_stmt *st = ST(base);

	if (!st->res) {
		enum pl_step rc = run(st);
		if (rc != PL_DONE)
			return rc;
	}
	if (st->row + 1 < st->nrows) {
		st->row++;
		pq.PQfreemem(st->blob);
		st->blob = NULL;
		return PL_ROW;
	}
	st->row = st->nrows;
	return PL_DONE;
}

static bool has_value(struct pg_stmt *st, int col)
{
	return st->res && st->row >= 0 && st->row < st->nrows && col >= 0 &&
	       col < pq.PQnfields(st->res) && !pq.PQgetisnull(st->res, st->row, col);
}

static int64_t pg_column_int64(struct pl_stmt *base, int col)
{
	struct pg_stmt *st = ST(base);
	const char *v;

	if (!has_value(st, col))
		return 0;
	v = pq.PQgetvalue(st->res, st->row, col);
	/* Comparisons are boolean in PostgreSQL, integers in SQLite. */
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

static const char *pg_column_text(struct pl_stmt *base, int col)
{
	struct pg_stmt *st = ST(base);

	return has_value(st, col) ? pq.PQgetvalue(st->res, st->row, col) : NULL;
}

static const void *pg_column_blob(struct pl_stmt *base, int col, size_t *n)
{
	struct pg_stmt *st = ST(base);
	const char *v;

	*n = 0;
	if (!has_value(st, col))
		return NULL;
	v = pq.PQgetvalue(st->res, st->row, col);
	if (pq.PQftype(st->res, col) != BYTEAOID) {
		*n = (size_t)pq.PQgetlength(st->res, st->row, col);
		return v;
	}
	pq.PQfreemem(st->blob);
	st->blob = pq.PQunescapeBytea((const unsigned char *)v, n);
	return st->blob;
}

static bool pg_column_null(struct pl_stmt *base, int col)
{
	return !has_value(ST(base), col);
}

static const char *pg_sql(struct pl_stmt *st)
{
	return ST(st)->sql;
}

static int64_t pg_changes(struct pl_db *db)
{
	return DB(db)->changes;
}

/* The first column of the one-row, parameterless `sql`, or -1. */
static int64_t scalar(struct pg_db *db, const char *sql)
{
	PGresult *res;
	int64_t v = -1;

	if (!ensure_conn(db))
		return -1;
	res = exec_once_more(db, sql);
	if (pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) == 1)
		v = pq.PQgetisnull(res, 0, 0) ? 0 : strtoll(pq.PQgetvalue(res, 0, 0), NULL, 10);
	else
		set_error(db, res);
	pq.PQclear(res);
	return v;
}

/* The id the last INSERT drew from its table's sequence (this session's
 * lastval(); every INSERT whose id is read this way draws exactly one). */
static int64_t pg_last_id(struct pl_db *db)
{
	return scalar(DB(db), "SELECT lastval()");
}

static int pg_begin(struct pl_db *db, struct pl_err *err)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%d)", PL_PG_WRITE_LOCK);
	if (exec(db, sql, err) < 0) {
		engine.rollback(db);
		return -1;
	}
	return 0;
}

static int pg_commit(struct pl_db *db, struct pl_err *err)
{
	return exec(db, "COMMIT", err);
}

static void pg_rollback(struct pl_db *base)
{
	struct pg_db *db = DB(base);

	if (pq.PQstatus(db->conn) == CONNECTION_OK && pq.PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		pq.PQclear(pq.PQexec(db->conn, "ROLLBACK"));
	db->in_tx = false;
}

/* The newest committed event id: it moves with every committed change
 * (each writes an event), which is what the pollers want to know. */
static int64_t pg_data_version(struct pl_db *db)
{
	return scalar(DB(db), "SELECT max(id) FROM events");
}

static int64_t pg_size(struct pl_db *db)
{
	return scalar(DB(db), "SELECT pg_database_size(current_database())");
}

/*
 * The highest id `table`'s sequence ever gave. For events the value must
 * be committed (a reader starts after it): a shared hold of the write lock
 * waits out the one transaction that may have drawn an id and not
 * committed yet.
 */
static int64_t pg_sequence(struct pl_db *base, const char *table)
{
	struct pg_db *db = DB(base);
	bool own_tx;
	char sql[256];
	int64_t v;

	if (strspn(table, "abcdefghijklmnopqrstuvwxyz_") != strlen(table))
		return -1;
	/* On a dropped connection the transaction status is unknown: connect
	 * first, or the lock below would be taken (and let go) in a statement
	 * of its own and guard nothing. */
	if (!ensure_conn(db)) {
		pl_err_log("sequence of %s: %s", table, db->errmsg);
		return -1;
	}
	own_tx = pq.PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	if (own_tx && exec(base, "BEGIN", NULL) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock_shared(%d)", PL_PG_WRITE_LOCK);
	if (exec(base, sql, NULL) < 0) {
		v = -1;
	} else {
		snprintf(sql, sizeof(sql),
			 "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('%s', 'id')), 0)",
			 table);
		v = scalar(db, sql);
	}
	if (own_tx)
		pg_rollback(base);
	return v;
}

static int pg_version(struct pl_db *db)
{
	return (int)scalar(DB(db), "SELECT CASE WHEN to_regclass('parley_schema') IS NULL THEN 0 "
			   "ELSE (SELECT coalesce(max(version), 0) FROM parley_schema) END");
}

static int apply_one(struct pl_db *db, const char *path, int number, bool *ran, struct pl_err *err)
{
	char sql[160];
	char *text = pl_db_read_file(path, err);
	int rc = -1;

	*ran = false;
	if (!text)
		return -1;
	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%d); "
		 "CREATE TABLE IF NOT EXISTS parley_schema (version integer PRIMARY KEY, "
		 "applied_at bigint NOT NULL)", PL_PG_MIGRATE_LOCK);
	if (exec(db, sql, err) < 0)
		goto out;
	/* Re-check under the lock: another process may have won. */
	if (pg_version(db) >= number) {
		rc = pl_db_commit(db, err);
		goto out;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO parley_schema (version, applied_at) VALUES (%d, %lld)",
		 number, (long long)pl_now_ms());
	if (exec(db, text, err) < 0 || exec(db, sql, err) < 0) {
		pg_rollback(db);
		pl_err_internal(err, "migration %s failed", path);
		goto out;
	}
	if ((rc = pl_db_commit(db, err)) == 0) {
		*ran = true;
		pl_info_log("applied migration %s", path);
	}
out:
	free(text);
	return rc;
}

/* PostgreSQL's migrations live in schema_dir/postgres, numbered like
 * SQLite's, so one number means one schema on both engines. */
static int pg_migrate(struct pl_db *db, const char *schema_dir, int *applied, struct pl_err *err)
{
	char dir[2048];
	char **names;
	size_t n;
	int rc = 0, count = 0;

	snprintf(dir, sizeof(dir), "%s/postgres", schema_dir);
	if (pl_db_migration_names(dir, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[4096];
		int number = pl_db_migration_number(names[i]);
		bool ran;

		if (pg_version(db) >= number)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = apply_one(db, path, number, &ran, err);
		count += ran;
	}
	pl_db_migration_names_free(names, n);
	if (applied)
		*applied = count;
	return rc;
}

static int pg_backup(struct pl_db *db, const char *path, struct pl_err *err)
{
	(void)db;
	(void)path;
	return pl_err_set(err, 400, "on PostgreSQL, back up with pg_dump (see the README)");
}

static const char *pg_last_error(struct pl_db *db)
{
	return DB(db)->errmsg;
}

/* ---- the listener (db.h, pl_db_listen) ---- */

struct pl_db_listener {
	PGconn *conn;
};

int pl_db_pg_listen(const char *conninfo, struct pl_db_listener **out, struct pl_err *err)
{
	struct pl_db_listener *l;
	PGresult *res = NULL;

	if (!pq_load(err))
		return -1;
	l = pl_xcalloc(1, sizeof(*l));
	l->conn = pq.PQconnectdb(conninfo);
	if (pq.PQstatus(l->conn) != CONNECTION_OK) {
		pl_err_internal(err, "listener: cannot connect to PostgreSQL: %s", pq.PQerrorMessage(l->conn));
		goto fail;
	}
	res = pq.PQexec(l->conn, "LISTEN parley_events");
	if (pq.PQresultStatus(res) != PGRES_COMMAND_OK) {
		pl_err_internal(err, "LISTEN: %s", pq.PQresultErrorMessage(res));
		goto fail;
	}
	pq.PQclear(res);
	if (pq.PQsetnonblocking(l->conn, 1) != 0) {
		pl_err_internal(err, "listener: %s", pq.PQerrorMessage(l->conn));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	pq.PQclear(res);
	pl_db_listener_close(l);
	return -1;
}

int pl_db_listener_fd(const struct pl_db_listener *l)
{
	return pq.PQsocket(l->conn);
}

int pl_db_listener_drain(struct pl_db_listener *l)
{
	PGnotify *n;
	int count = 0;

	if (!pq.PQconsumeInput(l->conn) || pq.PQstatus(l->conn) != CONNECTION_OK)
		return -1;
	while ((n = pq.PQnotifies(l->conn))) {
		count++;
		pq.PQfreemem(n);
	}
	return count;
}

void pl_db_listener_close(struct pl_db_listener *l)
{
	if (!l)
		return;
	pq.PQfinish(l->conn);
	free(l);
}

static const struct pl_db_engine engine = {
	.kind = PL_DB_POSTGRES,
	.close = pg_close,
	.prepare = pg_prepare,
	.done = pg_done,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.param_count = pg_param_count,
	.step = pg_step,
	.column_int64 = pg_column_int64,
	.column_text = pg_column_text,
	.column_blob = pg_column_blob,
	.column_null = pg_column_null,
	.sql = pg_sql,
	.changes = pg_changes,
	.last_id = pg_last_id,
	.exec = exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.data_version = pg_data_version,
	.size = pg_size,
	.sequence = pg_sequence,
	.migrate = pg_migrate,
	.version = pg_version,
	.backup = pg_backup,
	.last_error = pg_last_error,
};
