"""Operations: install from `make install`, systemd units, online backup.

These start their own servers (start_server) or none at all, so they can
run in any order with the rest of the suite.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, start_server
from helpers import Api, PASSWORD, unique_channel, unique_name

UNITS = ["parley-wsd.service", "parley-migrate.service",
         "parley-fcgi@.socket", "parley-fcgi@.service"]


@pytest.fixture(scope="module")
def installed():
    """`make install` into a temporary prefix (paths inside the installed
    files point there, so it can be started as installed)."""
    root = tempfile.mkdtemp(prefix="parley-install-")
    prefix = os.path.join(root, "usr")
    r = subprocess.run(["make", "-s", "install", "PREFIX=" + prefix,
                        "SYSCONFDIR=" + os.path.join(root, "etc"),
                        "STATEDIR=" + os.path.join(root, "var")],
                       cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    yield Path(root)
    shutil.rmtree(root, ignore_errors=True)


def test_make_install_destdir_lays_out_fhs(tmp_path):
    r = subprocess.run(["make", "-s", "install", "DESTDIR=" + str(tmp_path)],
                       cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    p = tmp_path / "usr/local"
    for f in ["bin/parleyctl", "sbin/parley-wsd", "libexec/parley/parley-auth",
              "libexec/parley/parley-channels", "libexec/parley/parley-messages",
              "libexec/parley/parley-presence", "share/parley/schema/001_init.sql",
              "share/man/man5/parley.conf.5", "share/man/man8/parleyctl.8",
              "share/doc/parley/examples/lighttpd.conf.example",
              "share/doc/parley/examples/nginx.conf.example",
              "lib/sysusers.d/parley.conf", "lib/tmpfiles.d/parley.conf"]:
        assert (p / f).is_file(), f
    for u in UNITS:
        text = (p / "lib/systemd/system" / u).read_text()
        for var in ("@BINDIR@", "@SBINDIR@", "@LIBEXECDIR@", "@DATADIR@", "@SYSCONFDIR@"):
            assert var not in text, (u, var)
    for f in ["bin/parleyctl", "sbin/parley-wsd", "libexec/parley/parley-auth"]:
        assert os.access(p / f, os.X_OK), f
    conf = (tmp_path / "etc/parley/parley.conf").read_text()
    assert "db_path = /var/lib/parley/parley.db" in conf
    assert "schema_dir = /usr/local/share/parley/schema" in conf
    # the admin's config is never overwritten by a later install
    (tmp_path / "etc/parley/parley.conf").write_text("# mine\n")
    r = subprocess.run(["make", "-s", "install", "DESTDIR=" + str(tmp_path)],
                       cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0
    assert (tmp_path / "etc/parley/parley.conf").read_text() == "# mine\n"
    # uninstall removes the programs, keeps the configuration
    r = subprocess.run(["make", "-s", "uninstall", "DESTDIR=" + str(tmp_path)],
                       cwd=str(REPO), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not (p / "bin/parleyctl").exists()
    assert not (p / "libexec/parley").exists()
    assert not (p / "lib/systemd/system/parley-wsd.service").exists()
    assert (tmp_path / "etc/parley/parley.conf").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_verify(installed, tmp_path):
    unitdir = installed / "usr/lib/systemd/system"
    # verify needs concrete instances of the templates
    for kind in ("socket", "service"):
        shutil.copy(unitdir / ("parley-fcgi@." + kind), tmp_path / ("parley-fcgi@auth." + kind))
    units = [str(unitdir / "parley-wsd.service"), str(unitdir / "parley-migrate.service"),
             str(tmp_path / "parley-fcgi@auth.socket"), str(tmp_path / "parley-fcgi@auth.service")]
    r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    wsd = (unitdir / "parley-wsd.service").read_text()
    for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                      "ReadWritePaths=/var/lib/parley", "User=parley"):
        assert hardening in wsd


def test_serves_from_installed_tree(installed):
    usr = installed / "usr"
    env = {"PARLEY_BIN": str(usr / "libexec/parley"),
           "PARLEY_WSD_BIN": str(usr / "sbin/parley-wsd"),
           "PARLEY_CTL_BIN": str(usr / "bin/parleyctl"),
           "PARLEY_SCHEMA_DIR": str(usr / "share/parley/schema"),
           "PARLEY_WWW": str(usr / "share/parley/www")}
    with start_server(env_extra=env) as srv:
        procs = " ".join(srv.processes().values())
        assert str(usr / "sbin/parley-wsd") in procs
        assert str(usr / "libexec/parley/parley-messages") in procs
        api = Api(srv.base)
        name = unique_name("inst")
        assert api.register(name).status_code == 201
        token = api.login(name)
        ch = api.create_channel(token, unique_channel())
        r = api.post_message(token, ch["id"], "from the installed tree")
        assert r.status_code == 201, r.text
        hist = api.history(token, ch["id"]).json()
        assert [m["content"] for m in hist] == ["from the installed tree"]


def _parleyctl(srv, *args):
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(srv.var, "parley.conf"))
    return subprocess.run([str(REPO / "build/bin/parleyctl")] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def test_parleyctl_migrate_is_idempotent_and_stats(server, api, alice):
    r = _parleyctl(server, "migrate")
    assert r.returncode == 0, r.stderr
    assert "0 migration(s) applied" in r.stdout
    v = _parleyctl(server, "version")
    assert v.returncode == 0 and int(v.stdout) == max(
        int(p.name[:3]) for p in (REPO / "schema").glob("[0-9][0-9][0-9]_*.sql"))
    s = _parleyctl(server, "stats")
    assert s.returncode == 0, s.stderr
    stats = dict(line.split() for line in s.stdout.splitlines())
    with sqlite3.connect("file:%s?mode=ro" % server.db, uri=True) as db:
        users = db.execute("SELECT count(*) FROM users WHERE deleted_at IS NULL").fetchone()[0]
    assert int(stats["users"]) == users >= 1
    assert int(stats["db_bytes"]) > 0
    assert _parleyctl(server, "no-such-command").returncode == 2


def test_backup_during_write_load_is_consistent(tmp_path):
    """A backup taken while messages are being posted opens, passes
    integrity_check, and holds every message acknowledged before it began."""
    with start_server() as srv:
        api = Api(srv.base)
        name = unique_name("bk")
        assert api.register(name).status_code == 201
        token = api.login(name)
        ch = api.create_channel(token, unique_channel())["id"]
        acked = []          # (time acknowledged, id)
        stop = threading.Event()

        def writer(n):
            i = 0
            while not stop.is_set():
                r = api.post_message(token, ch, "load %d-%d" % (n, i))
                if r.status_code == 201:
                    acked.append((time.monotonic(), r.json()["id"]))
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 10
            while len(acked) < 50 and time.monotonic() < deadline:
                time.sleep(0.05)
            began = time.monotonic()
            before = {i for (t, i) in list(acked) if t < began}
            out = tmp_path / "backup.db"
            r = _parleyctl(srv, "backup", str(out))
            assert r.returncode == 0, r.stderr
            time.sleep(0.3)  # keep writing after the backup
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert len(before) >= 50
        db = sqlite3.connect(str(out))
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            have = {row[0] for row in db.execute(
                "SELECT id FROM messages WHERE channel_id = ?", (ch,))}
        finally:
            db.close()
        missing = before - have
        assert not missing, "acknowledged before the backup but missing: %r" % sorted(missing)[:10]
        # and the backup does not hold more than what was committed by its end
        assert len(have) <= len(acked)


def _ctl_input(srv, stdin, *args):
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(srv.var, "parley.conf"))
    return subprocess.run([str(REPO / "build/bin/parleyctl")] + list(args), env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_parleyctl_user_admin(server, api, alice):
    name = unique_name("ctl")
    r = _ctl_input(server, "first-password-1\n", "create-user", name)
    assert r.returncode == 0, r.stderr
    token = api.login(name, "first-password-1")
    assert api.get("/api/auth/validate", token=token).status_code == 200
    # a duplicate, and a password that breaks the rules, change nothing
    assert _ctl_input(server, "first-password-1\n", "create-user", name.upper()).returncode == 1
    bad = _ctl_input(server, "short\n", "reset-password", name)
    assert bad.returncode == 1 and "8-1024" in bad.stderr
    assert api.get("/api/auth/validate", token=token).status_code == 200
    # the operator's reset signs every session out and sets the new password
    r = _ctl_input(server, "second-password-2\n", "reset-password", name)
    assert r.returncode == 0, r.stderr
    assert api.get("/api/auth/validate", token=token).status_code == 401
    assert api.login_resp(name, "first-password-1").status_code == 401
    token = api.login(name, "second-password-2")
    assert _ctl_input(server, "x-password-3\n", "reset-password", "no_such_user_x").returncode == 1
    # set-role with the channel owner's authority
    ch = api.create_channel(alice.token, unique_channel())["id"]
    uid = api.get("/api/auth/validate", token=token).json()["user_id"]
    r = _ctl_input(server, "", "set-role", str(ch), name, "admin")
    assert r.returncode == 0, r.stderr
    members = api.get("/api/channels/%d/members" % ch, token=alice.token).json()["members"]
    roles = {m["user"]["id"]: m["role"] for m in members}
    assert roles[uid] == "admin"
    assert _ctl_input(server, "", "set-role", str(ch), name, "emperor").returncode == 1
    assert _ctl_input(server, "", "set-role", "999999", name, "member").returncode == 1


def test_parleyctl_prune_events():
    # its own server: pruning the shared one would disturb resume tests
    with start_server() as server:
        api = Api(server.base)
        name = unique_name("pr")
        assert api.register(name).status_code == 201
        token = api.login(name)
        _prune_events_checks(server, api, token)


def _prune_events_checks(server, api, token):
    ch = api.create_channel(token, unique_channel())["id"]
    api.send(token, ch, "an event to age")
    db = sqlite3.connect(server.db, timeout=10)
    try:
        last = db.execute("SELECT max(id) FROM events").fetchone()[0]
        with db:   # make everything up to now look 30 days old
            db.execute("UPDATE events SET created_at = created_at - 30 * 86400000 WHERE id <= ?", (last,))
        r = _parleyctl(server, "prune-events", "7")
        assert r.returncode == 0, r.stderr
        assert db.execute("SELECT count(*) FROM events WHERE id <= ?", (last,)).fetchone()[0] == 0
        assert _parleyctl(server, "prune-events", "zero").returncode == 1
    finally:
        db.close()
    # ids are never reused after a prune
    msg = api.send(token, ch, "after the prune")
    db = sqlite3.connect("file:%s?mode=ro" % server.db, uri=True)
    try:
        newest = db.execute("SELECT max(id) FROM events").fetchone()[0]
    finally:
        db.close()
    assert newest > last and msg["content"] == "after the prune"
