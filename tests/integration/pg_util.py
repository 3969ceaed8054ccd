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
