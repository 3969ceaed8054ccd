"""Issue 12, item 8: parley's files are not readable by other local users.

The database holds password hashes, emails and session hashes; its -wal
and -shm hold the same pages; a backup is a full copy; the token key lets
whoever reads it sign tokens. All of them are created owner-only (0600)
whatever the umask, an existing database left readable by an older parley
is tightened when a parley program opens it, and a token key that other
users may read is refused (docs/DECISIONS.md, "Files on disk").

The server tests start their own server (start_server) under umask 022,
the usual default; the parleyctl tests need no server at all.
"""

import base64
import contextlib
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, start_server
from helpers import Api, unique_channel, unique_name

CTL = REPO / "build/bin/parleyctl"


@contextlib.contextmanager
def umask(mask):
    """Run the block (and every process it starts) under `mask`."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_private(path, want=0o600):
    """Owner-only: no bit for group or others (and exactly `want`)."""
    m = mode(path)
    assert m & 0o077 == 0, "%s is mode %04o: readable by other users" % (path, m)
    assert m == want, "%s is mode %04o, expected %04o" % (path, m, want)


def _ctl(conf, *args, stdin=None):
    env = dict(os.environ, PARLEY_CONFIG=str(conf))
    env.pop("PARLEY_JWT_SECRET", None)
    return subprocess.run([str(CTL)] + list(args), env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def conf(tmp_path):
    """A parley.conf of its own in tmp_path (database not yet created),
    with a 0600 token key."""
    key = tmp_path / "jwt_secret"
    key.write_bytes(base64.b64encode(os.urandom(48)))
    key.chmod(0o600)
    path = tmp_path / "parley.conf"
    path.write_text("db_path = %s\nschema_dir = %s\njwt_secret_file = %s\n"
                    % (tmp_path / "parley.db", REPO / "schema", key))
    return path


# ------------------------------------------------ a server under umask 022

def test_served_files_are_private_under_umask_022(tmp_path):
    """scripts/serve.sh (make run) under umask 022: the database and its
    -wal/-shm while serving, the token key, the hash slots, the log
    directory, and a backup taken meanwhile, are the owner's only."""
    with umask(0o022), start_server() as srv:
        api = Api(srv.base)
        name = unique_name("perm")
        assert api.register(name).status_code == 201       # a password hash
        token = api.login(name)                              # a session hash
        ch = api.create_channel(token, unique_channel())["id"]
        assert api.post_message(token, ch, "held in the wal").status_code == 201
        var = Path(srv.var)
        # on PostgreSQL the database is the server's; the rest is the same
        files = ("jwt_secret",) if srv.db_url else (
            "parley.db", "parley.db-wal", "parley.db-shm", "jwt_secret")
        for f in files:
            assert (var / f).exists(), f
            assert_private(var / f)
        slots = Path(srv.slots_base + "-hashslots")
        assert_private(slots, 0o700)
        for f in slots.iterdir():
            assert_private(f)
        assert_private(var / "log", 0o700)
        if srv.db_url:
            return      # parleyctl backup is SQLite's (pg_dump on PostgreSQL)
        # parleyctl backup, under the same umask
        out = tmp_path / "backup.db"
        r = subprocess.run([str(CTL), "backup", str(out)], capture_output=True, text=True,
                           env=dict(os.environ, PARLEY_CONFIG=str(var / "parley.conf")),
                           timeout=120)
        assert r.returncode == 0, r.stderr
        assert_private(out)
        db = sqlite3.connect(str(out))
        try:
            assert db.execute("SELECT count(*) FROM users WHERE username = ?",
                              (name,)).fetchone()[0] == 1
        finally:
            db.close()


# ------------------------------------------------ parleyctl, no server

@pytest.mark.parametrize("mask", [0o022, 0o002, 0o000])
def test_new_database_and_backup_are_0600_whatever_the_umask(conf, tmp_path, mask):
    with umask(mask):
        r = _ctl(conf, "migrate")
        assert r.returncode == 0, r.stderr
        assert_private(tmp_path / "parley.db")
        # while a connection holds the database in WAL mode, its -wal and
        # -shm exist: SQLite gives them the database's mode
        held = sqlite3.connect(str(tmp_path / "parley.db"))
        try:
            held.execute("CREATE TABLE IF NOT EXISTS t (x)")
            held.execute("INSERT INTO t VALUES (1)")
            held.commit()
            r = _ctl(conf, "stats")
            assert r.returncode == 0, r.stderr
            for f in ("parley.db-wal", "parley.db-shm"):
                assert_private(tmp_path / f)
        finally:
            held.close()
        r = _ctl(conf, "backup", str(tmp_path / "b.db"))
        assert r.returncode == 0, r.stderr
        assert_private(tmp_path / "b.db")
        assert not (tmp_path / "b.db-journal").exists()


def test_backup_over_a_readable_file_makes_it_private(conf, tmp_path):
    """Overwriting an existing copy (yesterday's name reused, or a file an
    older parley wrote 0644): the file that receives the secrets is made
    0600 first."""
    with umask(0o022):
        assert _ctl(conf, "migrate").returncode == 0
        out = tmp_path / "old-backup.db"
        out.write_bytes(b"")
        out.chmod(0o644)
        r = _ctl(conf, "backup", str(out))
        assert r.returncode == 0, r.stderr
        assert_private(out)
        out.chmod(0o664)
        assert _ctl(conf, "backup", str(out)).returncode == 0
        assert_private(out)


def test_existing_readable_database_is_tightened(conf, tmp_path):
    """A database (and a -wal/-shm beside it) left 0644 by an older parley
    is made 0600 when a parley program opens it, with a warning in the
    log; its contents are untouched."""
    db = tmp_path / "parley.db"
    with umask(0o022):
        assert _ctl(conf, "migrate").returncode == 0
        db.chmod(0o644)
        # another connection keeps -wal and -shm in place, made while the
        # database was 0644 (so they are 0644 too, as an old parley left them)
        held = sqlite3.connect(str(db))
        try:
            held.execute("CREATE TABLE IF NOT EXISTS t (x)")
            held.execute("INSERT INTO t VALUES (1)")
            held.commit()
            for f in ("parley.db-wal", "parley.db-shm"):
                assert mode(tmp_path / f) == 0o644, f
            r = _ctl(conf, "version")
            assert r.returncode == 0, r.stderr
            for f in ("parley.db", "parley.db-wal", "parley.db-shm"):
                assert_private(tmp_path / f)
            assert "parley.db" in r.stderr and "0644" in r.stderr, r.stderr
            assert held.execute("SELECT count(*) FROM t").fetchone()[0] == 1
        finally:
            held.close()
        # once private, nothing more is said
        r = _ctl(conf, "version")
        assert r.returncode == 0 and "0644" not in r.stderr, r.stderr


@pytest.mark.parametrize("key_mode", [0o644, 0o604, 0o602])
def test_token_key_open_to_other_users_is_refused(conf, tmp_path, key_mode):
    """Whoever reads the key signs tokens for any account; whoever writes
    it replaces it. The programs refuse to start with such a key (500 at
    startup, the reason in the log) instead of serving with it."""
    (tmp_path / "jwt_secret").chmod(key_mode)
    r = _ctl(conf, "version")
    assert r.returncode != 0
    assert "jwt_secret" in r.stderr and "chmod" in r.stderr, r.stderr
    assert not (tmp_path / "parley.db").exists()


@pytest.mark.parametrize("key_mode", [0o600, 0o400, 0o640])
def test_token_key_private_or_group_is_accepted(conf, tmp_path, key_mode):
    """0600 (what serve.sh and the README make), 0400, and 0640 for a key
    owned by root and readable by the service's group."""
    (tmp_path / "jwt_secret").chmod(key_mode)
    r = _ctl(conf, "version")
    assert r.returncode == 0, r.stderr
