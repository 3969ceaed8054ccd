"""A throwaway PostgreSQL 15 for the integration suite (PARLEY_ENGINE=postgres).

One cluster per pytest process, started on first use: `initdb` into a temp
dir as the unprivileged `postgres` user (initdb refuses root), listening on
a unix socket in that dir only, fsync off (../shared/FACTS.md, PostgreSQL).
Every test server gets a database of its own (CREATE DATABASE, ~90 ms).
The cluster is stopped and removed when the process exits.
"""

import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
import itertools

PG_BIN = "/usr/lib/postgresql/15/bin"
ENGINE = os.environ.get("PARLEY_ENGINE", "sqlite")
_cluster = None
_names = itertools.count(1)


def _as_postgres(args, **kw):
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + args
    return subprocess.run(args, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)


class Cluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="parley-pg-")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        _as_postgres([PG_BIN + "/initdb", "--no-sync", "-A", "trust", "-U", "postgres",
                      "-E", "UTF8", "--locale=C.UTF-8", "-D", self.data])
        _as_postgres([PG_BIN + "/pg_ctl", "-D", self.data, "-w", "-l", self.log, "start",
                      "-o", "-k %s -c listen_addresses='' -c fsync=off "
                      "-c max_connections=300" % self.dir])

    def conninfo(self, dbname="postgres"):
        return "host=%s user=postgres dbname=%s" % (self.dir, dbname)

    def psql(self, sql, dbname="postgres"):
        """Runs `sql` with psql; returns its unaligned output."""
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                              "-d", self.conninfo(dbname), "-c", sql],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return out.stdout.decode()

    def new_database(self):
        """A fresh empty database; returns its libpq connection string."""
        name = "parley_%d_%d" % (os.getpid(), next(_names))
        self.psql("CREATE DATABASE %s" % name)
        return self.conninfo(name)

    def stop(self):
        try:
            _as_postgres([PG_BIN + "/pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop"])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def cluster():
    """The process's cluster, started on first use."""
    global _cluster
    if _cluster is None:
        _cluster = Cluster()
        atexit.register(_cluster.stop)
    return _cluster


# ------------------------------------------------- the server's database
#
# Tests that check what was stored (or arrange what the API cannot) open the
# server's database directly. connect() hides which engine that is: it takes
# the SQLite file path a Server carries (srv.db) and, when that server runs on
# PostgreSQL, connects to its database instead. SQL is written with SQLite's
# `?` parameters; the PostgreSQL connection rewrites them to psycopg2's %s.

_urls = {}      # srv.db path -> libpq connection string of that server


def register(db_path, db_url):
    """Remembers that the server whose srv.db is `db_path` runs on `db_url`."""
    if db_url:
        _urls[db_path] = db_url


def url_of(db_path):
    """The libpq connection string behind `db_path`, or None on SQLite."""
    return _urls.get(db_path)


def _row(row):
    """bytea arrives as memoryview (whose repr is an address): as bytes, as
    sqlite3 gives BLOBs."""
    if row is None:
        return None
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


class _PgCursor:
    def __init__(self, cur):
        self._cur = cur

    def fetchone(self):
        return _row(self._cur.fetchone())

    def fetchall(self):
        return [_row(r) for r in self._cur.fetchall()]

    def __iter__(self):
        return iter(self.fetchall())

    @property
    def rowcount(self):
        return self._cur.rowcount


class PgConnection:
    """The few sqlite3.Connection methods the tests use, on psycopg2:
    autocommit (every statement is its own transaction, as the tests'
    SQLite connections use them), `?` parameters."""

    def __init__(self, url):
        import psycopg2
        self._con = psycopg2.connect(url)
        self._con.autocommit = True

    @staticmethod
    def _sql(query):
        return query.replace("%", "%%").replace("?", "%s")

    def execute(self, query, args=()):
        cur = self._con.cursor()
        cur.execute(self._sql(query), tuple(args))
        return _PgCursor(cur) if cur.description is not None else _PgCursor(_Empty())

    def executemany(self, query, rows):
        cur = self._con.cursor()
        cur.executemany(self._sql(query), [tuple(r) for r in rows])
        return _PgCursor(_Empty())

    def commit(self):
        pass

    def close(self):
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # as sqlite3's: `with con:` ends a transaction (here every statement
        # is one already) and leaves the connection open
        return False


class _Empty:
    rowcount = -1

    def fetchone(self):
        return None

    def fetchall(self):
        return []


def connect(db_path, readonly=True, timeout=10):
    """A connection to the server's database: sqlite3 on SQLite (read-only
    when `readonly`), PgConnection when the server runs on PostgreSQL."""
    url = url_of(db_path)
    if url:
        return PgConnection(url)
    import sqlite3
    if readonly:
        return sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=timeout)
    return sqlite3.connect(db_path, timeout=timeout)


def table_exists(con, table):
    """Whether `table` exists in the database behind `con`."""
    if isinstance(con, PgConnection):
        return con.execute("SELECT to_regclass(?) IS NOT NULL", (table,)).fetchone()[0]
    return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                       (table,)).fetchone() is not None
