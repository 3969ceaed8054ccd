"""Operations: install from `make install`, systemd units, online backup,
and the README's three deployment paths from the installed or shipped
files (a VM with lighttpd; a VM with nginx and systemd socket activation,
emulated; a shared host with Apache CGI and the shipped .htaccess).

These start their own servers (start_server) or none at all, so they can
run in any order with the rest of the suite.
"""

import base64
import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import pg_util
from conftest import REPO, start_server
from helpers import Api, PASSWORD, unique_channel, unique_name

UNITS = ["parley-wsd.service", "parley-migrate.service",
         "parley-fcgi@.socket", "parley-fcgi@.service", "parley-hookd.service"]


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
    for f in ["bin/parleyctl", "sbin/parley-wsd", "sbin/parley-hookd", "libexec/parley/parley-auth",
              "libexec/parley/parley-channels", "libexec/parley/parley-messages",
              "libexec/parley/parley-presence", "share/parley/schema/001_init.sql",
              "share/parley/schema/postgres/007_initial.sql",
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


def _build_env():
    """The environment minus the outer make's (make check's) variables, so
    the make below is a top-level make with its own jobs."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES",
                         "CFLAGS", "CPPFLAGS", "LDFLAGS")}


# A whole build of libparley and one program (~10-20 s on 2 cores): slow,
# so the sanitizer pass, which would only repeat it, leaves it out.
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("dpkg-buildflags") is None or shutil.which("readelf") is None,
                    reason="needs dpkg-buildflags (dpkg-dev) and readelf (binutils)")
def test_debian_hardening_flags_reach_compile_and_link(tmp_path):
    """Debian's hardening flags, given as make CFLAGS= CPPFLAGS= LDFLAGS=
    (dpkg-buildflags with hardening=+all, as a package build would), are
    on every compile and link line, build with warnings as errors, and
    show in the program: stack protector (CFLAGS), fortified calls
    (CPPFLAGS: _FORTIFY_SOURCE), RELRO and BIND_NOW (LDFLAGS; Debian's
    linker makes RELRO by itself, BIND_NOW only with -z now)."""
    env = dict(_build_env(), DEB_BUILD_MAINT_OPTIONS="hardening=+all")
    flags = {}
    for var in ("CFLAGS", "CPPFLAGS", "LDFLAGS"):
        r = subprocess.run(["dpkg-buildflags", "--get", var], cwd=str(REPO), env=env,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        flags[var] = r.stdout.strip()
    assert "-fstack-protector-strong" in flags["CFLAGS"]
    assert "-D_FORTIFY_SOURCE=2" in flags["CPPFLAGS"]
    assert "-Wl,-z,now" in flags["LDFLAGS"]
    b = tmp_path / "build"
    prog = b / "bin/parleyctl"
    r = subprocess.run(["make", "-j2", "B=" + str(b), "WERROR=1", str(prog)]
                       + ["%s=%s" % kv for kv in flags.items()],
                       cwd=str(REPO), env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "warning:" not in r.stderr, r.stderr
    lines = r.stdout.splitlines()
    compiles = [ln.split() for ln in lines if " -c " in ln]
    links = [ln.split() for ln in lines if ("-o " + str(prog)) in ln]
    assert len(compiles) > 10 and len(links) == 1, r.stdout
    for words in compiles:
        for flag in (flags["CFLAGS"] + " " + flags["CPPFLAGS"]).split():
            assert flag in words, (flag, " ".join(words))
    for flag in (flags["CFLAGS"] + " " + flags["LDFLAGS"]).split():
        assert flag in links[0], (flag, " ".join(links[0]))

    def readelf(*args):
        out = subprocess.run(["readelf", "-W"] + list(args) + [str(prog)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout
    assert "GNU_RELRO" in readelf("-l")
    assert re.search(r"\(FLAGS\).*BIND_NOW", readelf("-d"))
    syms = readelf("--dyn-syms")
    assert "__stack_chk_fail" in syms
    assert re.search(r"__\w+_chk\b", syms.replace("__stack_chk_fail", ""))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_verify(installed, tmp_path):
    unitdir = installed / "usr/lib/systemd/system"
    # verify needs concrete instances of the templates
    for kind in ("socket", "service"):
        shutil.copy(unitdir / ("parley-fcgi@." + kind), tmp_path / ("parley-fcgi@auth." + kind))
    units = [str(unitdir / "parley-wsd.service"), str(unitdir / "parley-migrate.service"),
             str(unitdir / "parley-hookd.service"),
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
           "PARLEY_HOOKD_BIN": str(usr / "sbin/parley-hookd"),
           "PARLEY_CTL_BIN": str(usr / "bin/parleyctl"),
           "PARLEY_SCHEMA_DIR": str(usr / "share/parley/schema"),
           "PARLEY_WWW": str(usr / "share/parley/www")}
    with start_server(env_extra=env) as srv:
        procs = " ".join(srv.processes().values())
        assert str(usr / "sbin/parley-wsd") in procs
        assert str(usr / "sbin/parley-hookd") in procs
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
    assert v.returncode == 0, v.stderr
    fields = dict(line.split() for line in v.stdout.splitlines())
    assert fields["version"] == (REPO / "VERSION").read_text().strip()
    assert int(fields["schema_version"]) == max(
        int(p.name[:3]) for p in (REPO / "schema").glob("[0-9][0-9][0-9]_*.sql"))
    s = _parleyctl(server, "stats")
    assert s.returncode == 0, s.stderr
    stats = dict(line.split() for line in s.stdout.splitlines())
    with pg_util.connect(server.db) as db:
        users = db.execute("SELECT count(*) FROM users WHERE deleted_at IS NULL").fetchone()[0]
    assert int(stats["users"]) == users >= 1
    assert int(stats["db_bytes"]) > 0
    assert _parleyctl(server, "no-such-command").returncode == 2


@pytest.mark.skipif(pg_util.ENGINE == "postgres",
                    reason="parleyctl backup is SQLite's online backup (pg_dump on PostgreSQL)")
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
    db = pg_util.connect(server.db, readonly=False)
    try:
        last = db.execute("SELECT max(id) FROM events").fetchone()[0]
        with db:   # make everything up to now look 30 days old
            db.execute("UPDATE events SET created_at = created_at - ? WHERE id <= ?",
                       (30 * 86400000, last))
        r = _parleyctl(server, "prune-events", "7")
        assert r.returncode == 0, r.stderr
        assert db.execute("SELECT count(*) FROM events WHERE id <= ?", (last,)).fetchone()[0] == 0
        assert _parleyctl(server, "prune-events", "zero").returncode == 1
    finally:
        db.close()
    # ids are never reused after a prune
    msg = api.send(token, ch, "after the prune")
    db = pg_util.connect(server.db)
    try:
        newest = db.execute("SELECT max(id) FROM events").fetchone()[0]
    finally:
        db.close()
    assert newest > last and msg["content"] == "after the prune"


# ------------------------------------------------- the VM paths, from `make install`
#
# No systemd runs as PID 1 in the test container, so the units cannot be
# started for real. These tests do what systemd (and the README's steps)
# would with the INSTALLED files of a `make install DESTDIR=` tree, and
# nothing more: they parse the units, run parley-migrate.service's
# ExecStart first and parley-wsd.service's as the daemon, with only the
# unit's Environment=; for nginx they bind each parley-fcgi@.socket
# ListenStream socket (relocated under the staging tree) with its
# SocketMode/SocketGroup and run the service's ExecStart with that
# listening socket as standard input (StandardInput=socket: libfcgi accepts
# on fd 0). systemd-socket-activate is not used: it hands the socket over
# as fd 3 with LISTEN_FDS, which is not what StandardInput=socket does.
# The web servers run the installed lighttpd.conf.example and
# nginx.conf.example with their paths relocated and free ports. User= is
# not applied to parley's own processes (the tests run as root and no
# "parley" user exists here); the web servers' workers do drop to
# www-data, so the socket and directory permissions are exercised.

RELOCATED = ("/usr/local/", "/etc/parley", "/etc/nginx", "/var/lib/parley",
             "/run/parley", "/run/lighttpd.pid", "/var/log/nginx", "/var/log/parley",
             "/var/cache/parley")


def _relocate(text, dest):
    """Prefix every absolute path of the installed tree with `dest`."""
    pat = re.compile(r"(?<![\w./-])(%s)" % "|".join(re.escape(p) for p in RELOCATED))
    return pat.sub(lambda m: dest + m.group(1), text)


def _parse_unit(path, instance=None):
    """{(section, key): [values]} of a systemd unit file, %i expanded.
    Fails on any other specifier (this emulation does not know it)."""
    out = {}
    section = None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, value = (x.strip() for x in line.split("=", 1))
        if instance is not None:
            value = value.replace("%i", instance)
        assert "%" not in value, "unsupported specifier in %s: %s=%s" % (path, key, value)
        out.setdefault((section, key), []).append(value)
    return out


def _one(unit, section, key, default=None):
    v = unit.get((section, key))
    if v is None:
        assert default is not None, "%s= missing in [%s]" % (key, section)
        return default
    return v[-1]


def _wait_port(port, proc, what, logf, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "%s exited: %s" % (what, Path(logf).read_text()[-2000:])
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("%s not listening on %d" % (what, port))


class Staged:
    """`make install DESTDIR=<tmp>` plus the README's common steps for a VM
    (data directory, token key, tmpfiles.d), paths relocated into the
    staging tree, ws_port set to a free port. `owner` (a user name) gets
    the data, the key and read access to the config, as the README tells
    for the user the FastCGI programs run as."""

    def __init__(self, owner=None):
        from conftest import _free_ports
        self.root = tempfile.mkdtemp(prefix="parley-vm-")
        os.chmod(self.root, 0o711)      # the web servers' workers traverse it
        self.procs = []
        r = subprocess.run(["make", "-s", "install", "DESTDIR=" + self.root],
                           cwd=str(REPO), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        root = Path(self.root)
        self.usr = root / "usr/local"
        self.units = self.usr / "lib/systemd/system"
        self.examples = self.usr / "share/doc/parley/examples"
        self.logs = root / "var/log"
        self.logs.mkdir(parents=True)
        self.port, self.ws_port = _free_ports(2)
        self.state = root / "var/lib/parley"          # StateDirectory=parley
        self.state.mkdir(parents=True, mode=0o750)
        etc = root / "etc/parley"
        secret = etc / "jwt_secret"
        secret.write_bytes(base64.b64encode(os.urandom(48)))
        secret.chmod(0o600)
        conf_path = etc / "parley.conf"
        conf = _relocate(conf_path.read_text(), self.root)
        conf = re.sub(r"(?m)^ws_port = .*$", "ws_port = %d" % self.ws_port, conf)
        assert ("db_path = %s/var/lib/parley/parley.db" % self.root) in conf
        conf_path.write_text(conf)
        # the "parley" user and group: `owner` stands in for them, or root
        pw = pwd.getpwnam(owner or "root")

        def ids(user, group):
            return (pw.pw_uid if user == "parley" else pwd.getpwnam(user).pw_uid,
                    pw.pw_gid if group == "parley" else grp.getgrnam(group).gr_gid)

        for line in (self.usr / "lib/tmpfiles.d/parley.conf").read_text().splitlines():
            f = line.split()
            if f and f[0] == "d":
                d = Path(_relocate(f[1], self.root))
                assert d != Path(f[1]), "tmpfiles path not relocated: " + f[1]
                d.mkdir(parents=True, exist_ok=True)
                os.chmod(d.parent, 0o755)
                os.chmod(d, int(f[2], 8))
                os.chown(d, *ids(f[3], f[4]))
        if owner:
            for p in (self.state, secret):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chown(conf_path, 0, pw.pw_gid)       # chgrp parley parley.conf
        # parley-migrate.service (oneshot) before anything else
        migrate = _parse_unit(self.units / "parley-migrate.service")
        assert _one(migrate, "Service", "Type") == "oneshot"
        argv, env = self.unit_exec(migrate)
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert (self.state / "parley.db").is_file()
        if owner:
            os.chown(self.state / "parley.db", pw.pw_uid, pw.pw_gid)

    def unit_exec(self, unit):
        """(argv, env) of a service's ExecStart= and Environment=, relocated:
        the environment holds only what the unit sets, as under systemd."""
        argv = [_relocate(a, self.root) for a in
                shlex.split(_one(unit, "Service", "ExecStart"))]
        assert os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK), argv
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        for line in unit.get(("Service", "Environment"), []):
            for assignment in shlex.split(line):
                k, v = assignment.split("=", 1)
                env[k] = _relocate(v, self.root)
        return argv, env

    def spawn(self, argv, log_name, kill_mode="control-group", **kw):
        """Start a process in a group of its own; stop() ends it the way
        systemd's KillMode= says (control-group: SIGTERM to every process;
        mixed: to the main process only), SIGKILL to all after 10 s."""
        with open(self.logs / log_name, "wb") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, **kw)
        assert kill_mode in ("control-group", "mixed"), kill_mode
        p.kill_mode = kill_mode
        self.procs.append(p)
        return p

    def start_wsd(self):
        """parley-wsd.service"""
        argv, env = self.unit_exec(_parse_unit(self.units / "parley-wsd.service"))
        p = self.spawn(argv, "wsd.log", env=env, stdin=subprocess.DEVNULL)
        _wait_port(self.ws_port, p, "parley-wsd", self.logs / "wsd.log")

    def programs(self):
        return sorted(p.name[len("parley-"):] for p in (self.usr / "libexec/parley").iterdir())

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def stop(self):
        """Stop everything; returns the processes that needed SIGKILL."""
        for p in self.procs:
            try:
                if p.kill_mode == "mixed":
                    os.kill(p.pid, signal.SIGTERM)
                else:
                    os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        killed = []
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                killed.append(p.args)
            try:
                os.killpg(p.pid, signal.SIGKILL)   # what is left of the group
            except ProcessLookupError:
                pass
            p.wait(timeout=5)
        return killed


def _drive_vm(vm, access_log):
    """register -> login -> channel -> post -> WebSocket delivery -> history
    through the web server; every program answers; no process died; then,
    with everything stopped (lighttpd buffers its log), no token in the
    access log."""
    port = vm.port
    from helpers import WS
    api = Api("http://127.0.0.1:%d" % port)
    r = api.get("/api/health")
    assert r.status_code == 200 and r.json()["db"] == "ok", (r.status_code, r.text[:300])
    names = [unique_name("vm"), unique_name("vm")]
    for n in names:
        r = api.register(n)
        assert r.status_code == 201, r.text
    alice, bob = (api.login(n) for n in names)
    ch = api.create_channel(alice, unique_channel())["id"]
    assert api.post("/api/channels/%d/join" % ch, token=bob).status_code in (200, 201, 204)
    ws = WS("ws://127.0.0.1:%d/ws?token=%s" % (port, bob))
    try:
        assert ws.hello["type"] == "hello"
        msg = api.send(alice, ch, "through the installed tree")
        got = ws.wait_for(lambda f: f.get("type") == "message.created"
                          and f["message"]["id"] == msg["id"], timeout=10)
        assert got["message"]["content"] == "through the installed tree"
    finally:
        ws.close()
    hist = api.history(alice, ch).json()
    assert [m["content"] for m in hist] == ["through the installed tree"]
    # every program answers through its own socket
    for path in ("/api/users/me", "/api/channels", "/api/presence?channel=%d" % ch,
                 "/api/events?timeout=0", "/api/notifications"):
        r = api.get(path, token=bob)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
    r = api.get("/api/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    # long polls wait side by side: while two wait, a third request to the
    # same program is answered (a single process per program would hold it
    # until both timed out)
    head = api.get("/api/events", token=bob, params={"timeout": 0}).json()["last_event_id"]
    polls = [threading.Thread(target=api.get, args=("/api/events",),
                              kwargs={"token": t, "params": {"since": head, "timeout": 20}})
             for t in (alice, bob)]
    for th in polls:
        th.start()
    time.sleep(0.5)
    r = api.get("/api/events", token=bob, params={"timeout": 0})
    waiting = [th.is_alive() for th in polls]
    api.send(alice, ch, "ends the polls")
    for th in polls:
        th.join(timeout=25)
    assert r.status_code == 200 and waiting == [True, True], \
        "a request to /api/events waited behind two long polls"
    dead = [p.args for p in vm.procs if p.poll() is not None]
    assert not dead, dead
    killed = vm.stop()
    assert not killed, "did not stop on SIGTERM: %r" % killed
    access = Path(access_log).read_text()
    assert "/ws" in access and bob not in access and "token=" not in access


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nginx") is None,
                    reason="needs root (nginx workers as www-data) and nginx")
def test_vm_nginx_with_systemd_socket_activation():
    vm = Staged()
    try:
        example = (vm.examples / "nginx.conf.example").read_text()
        m = re.search(r"location ~ \^/api/\(([a-z|]+)\)", example)
        # parley-hooks serves the incoming webhooks' /hooks/<secret> (no /api/)
        routed = m.group(1).split("|") if m else []
        routed += ["hooks"] if re.search(r"(?m)^\s*location /hooks/ \{", example) else []
        assert sorted(routed) == vm.programs(), \
            "nginx.conf.example must route every installed program"
        # `systemctl enable --now parley-fcgi@<program>.socket` for each
        for prog in vm.programs():
            sock_unit = _parse_unit(vm.units / "parley-fcgi@.socket", prog)
            svc = _parse_unit(vm.units / "parley-fcgi@.service", prog)
            assert _one(svc, "Service", "StandardInput") == "socket"
            assert _one(sock_unit, "Socket", "Accept", "no") == "no"
            path = _relocate(_one(sock_unit, "Socket", "ListenStream"), vm.root)
            assert os.path.isabs(path) and os.path.isdir(os.path.dirname(path)), path
            ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            ls.bind(path)
            os.chmod(path, int(_one(sock_unit, "Socket", "SocketMode", "0666"), 8))
            group = _one(sock_unit, "Socket", "SocketGroup", "root")
            os.chown(path, 0, grp.getgrnam(group).gr_gid)
            ls.listen(socket.SOMAXCONN)
            argv, env = vm.unit_exec(svc)
            vm.spawn(argv, "fcgi-%s.log" % prog, env=env, stdin=ls.fileno(),
                     kill_mode=_one(svc, "Service", "KillMode", "control-group"))
            ls.close()
        vm.start_wsd()
        # Debian's nginx.conf in miniature, with the installed example as
        # sites-enabled/parley (paths relocated, ports free).
        ngx = Path(vm.root) / "etc/nginx"
        (ngx / "sites-enabled").mkdir(parents=True)
        (vm.logs / "nginx").mkdir(parents=True)
        (Path(vm.root) / "var/lib/nginx").mkdir(parents=True)
        for f in ("mime.types", "fastcgi_params"):
            shutil.copy("/etc/nginx/" + f, ngx / f)
        site = _relocate(example, vm.root)
        site = site.replace("listen 127.0.0.1:8080;", "listen 127.0.0.1:%d;" % vm.port)
        site = site.replace("server 127.0.0.1:8081;", "server 127.0.0.1:%d;" % vm.ws_port)
        assert ("127.0.0.1:%d" % vm.port) in site and ("127.0.0.1:%d" % vm.ws_port) in site
        (ngx / "sites-enabled/parley").write_text(site)
        (ngx / "nginx.conf").write_text(
            "user www-data;\nworker_processes 1;\npid %(r)s/run/nginx.pid;\n"
            "error_log %(r)s/var/log/nginx/error.log;\nevents { worker_connections 256; }\n"
            "http {\n    include mime.types;\n"
            "    client_body_temp_path %(r)s/var/lib/nginx/body;\n"
            "    fastcgi_temp_path %(r)s/var/lib/nginx/fastcgi;\n"
            "    proxy_temp_path %(r)s/var/lib/nginx/proxy;\n"
            "    uwsgi_temp_path %(r)s/var/lib/nginx/uwsgi;\n"
            "    scgi_temp_path %(r)s/var/lib/nginx/scgi;\n"
            "    include sites-enabled/*;\n}\n" % {"r": vm.root})
        nginx = ["nginx", "-c", str(ngx / "nginx.conf"), "-p", str(ngx), "-g", "daemon off;"]
        r = subprocess.run(nginx[:1] + ["-t", "-q"] + nginx[1:], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        p = vm.spawn(nginx, "nginx/stderr.log", stdin=subprocess.DEVNULL)
        _wait_port(vm.port, p, "nginx", vm.logs / "nginx/stderr.log")
        _drive_vm(vm, vm.logs / "nginx/parley.access.log")
    finally:
        vm.close()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("lighttpd") is None,
                    reason="needs root (lighttpd drops to its user) and lighttpd")
def test_vm_lighttpd_from_installed_example():
    # the README's lighttpd section: lighttpd runs as "parley" (here
    # www-data stands in for it: no parley user exists on this machine)
    vm = Staged(owner="www-data")
    try:
        example = (vm.examples / "lighttpd.conf.example").read_text()
        routed = set(re.findall(r'"/api/([a-z]+)" =>', example))
        routed |= {"hooks"} if '"/hooks/" =>' in example else set()
        assert routed == set(vm.programs()), \
            "lighttpd.conf.example must route every installed program"
        vm.start_wsd()
        conf = _relocate(example, vm.root)
        conf = conf.replace("server.port          = 8080", "server.port          = %d" % vm.port)
        conf = conf.replace('"port" => 8081', '"port" => %d' % vm.ws_port)
        conf = re.sub(r'(server\.(user|group)name\s*=\s*)"parley"', r'\1"www-data"', conf)
        assert ("= %d" % vm.port) in conf and ("=> %d" % vm.ws_port) in conf
        assert 'server.username      = "www-data"' in conf
        path = Path(vm.root) / "etc/lighttpd/lighttpd.conf"
        path.parent.mkdir(parents=True)
        path.write_text(conf)
        r = subprocess.run(["lighttpd", "-tt", "-f", str(path)], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        p = vm.spawn(["lighttpd", "-D", "-f", str(path)], "lighttpd-stderr.log",
                     stdin=subprocess.DEVNULL)
        _wait_port(vm.port, p, "lighttpd", vm.logs / "lighttpd-stderr.log")
        _drive_vm(vm, vm.logs / "parley/access.log")
    finally:
        vm.close()


# ------------------------------------------------- shared host: Apache + CGI

def test_htaccess_example_routes_every_program():
    """cgi-bin/htaccess.example names the programs one by one: a new
    fcgi-apps/<name>.c must be added there (and to nginx.conf.example)."""
    text = (REPO / "cgi-bin/htaccess.example").read_text()
    m = re.search(r"(?m)^RewriteRule \^api/\(([a-z|]+)\)", text)
    assert m, "no per-program RewriteRule in htaccess.example"
    programs = sorted(p.stem for p in (REPO / "fcgi-apps").glob("*.c"))
    routed = m.group(1).split("|")
    # parley-hooks serves the incoming webhooks' /hooks/<secret> (no /api/)
    routed += ["hooks"] if re.search(r"(?m)^RewriteRule \^hooks/ cgi-bin/parley-hooks\.cgi", text) else []
    assert sorted(routed) == programs
    assert re.search(r"(?m)^SetEnv PARLEY_CONFIG /", text)
    assert re.search(r"(?m)^CGIPassAuth On$", text)


@pytest.mark.skipif(shutil.which("apache2") is None or os.geteuid() != 0,
                    reason="needs apache2 (scripts/deps.sh) and root")
def test_shared_host_apache_layout():
    """The document root laid out as cgi-bin/README.md says, under a real
    Apache that grants only AllowOverride: the .htaccess turns on CGI,
    routing and the Authorization header, and hides what must not be
    served; no daemon runs, and the long poll carries real time."""
    import requests
    with start_server(env_extra={"PARLEY_FRONTEND": "apache"}) as srv:
        htdocs = Path(srv.var) / "htdocs"
        assert (htdocs / ".htaccess").is_file()
        assert os.access(htdocs / "cgi-bin/parley-events.cgi", os.X_OK)
        procs = " ".join(srv.processes().values())
        assert "apache2" in procs and "parley-wsd" not in procs
        assert requests.get(srv.base + "/ws").status_code == 404
        # misplaced secrets in the web root are refused, as is the .htaccess
        for name in ("parley.db", "parley.db-wal", "parley.conf", "jwt_secret"):
            (htdocs / name).write_text("secret")
            r = requests.get(srv.base + "/" + name)
            assert r.status_code == 403 and "secret" not in r.text, name
        assert requests.get(srv.base + "/.htaccess").status_code == 403
        assert requests.get(srv.base + "/cgi-bin/").status_code == 403    # -Indexes
        r = requests.get(srv.base + "/")
        assert r.status_code == 200 and "<html" in r.text.lower()
        # CGIPassAuth: the Authorization header reaches the programs
        api = Api(srv.base)
        names = [unique_name("cgi"), unique_name("cgi")]
        for n in names:
            assert api.register(n).status_code == 201
        alice, bob = (api.login(n) for n in names)
        assert api.get("/api/auth/validate", token=bob).json()["username"] == names[1]
        assert api.get("/api/auth/validate", token="x" + bob).status_code == 401
        # unknown /api/ paths get parley's JSON 404, not Apache's page
        r = api.get("/api/nope")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        # real time by long poll: a waiting poll wakes on another client's post
        ch = api.create_channel(alice, unique_channel())["id"]
        assert api.post("/api/channels/%d/join" % ch, token=bob).status_code in (200, 201, 204)
        head = api.get("/api/events", token=bob, params={"timeout": 0}).json()["last_event_id"]
        out = {}

        def poll():
            out["r"] = api.get("/api/events", token=bob, params={"since": head, "timeout": 30})

        th = threading.Thread(target=poll)
        th.start()
        time.sleep(0.5)
        msg = api.send(alice, ch, "to the waiting poll")
        th.join(timeout=25)
        assert not th.is_alive() and out["r"].status_code == 200, out
        got = [e for e in out["r"].json()["events"] if e["type"] == "message.created"]
        assert [e["message"]["id"] for e in got] == [msg["id"]]
        # no token in Apache's access log
        access = (Path(srv.var) / "log/access.log").read_text()
        assert "/api/events" in access and bob not in access


def _readme_block(path, first_line):
    """The ```sh block of a README that starts with `first_line`."""
    text = Path(path).read_text()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        if block.startswith(first_line):
            return block
    raise AssertionError("no sh block starting with %r in %s" % (first_line, path))


@pytest.mark.skipif(shutil.which("apache2") is None or os.geteuid() != 0,
                    reason="needs apache2 (scripts/deps.sh) and root")
def test_shared_host_readme_steps():
    """cgi-bin/README.md's host-side commands, run as written by the site
    user (www-data here, as suEXEC runs CGI as the site's owner) in a fresh
    home, then Apache (scripts/apache.conf.in) serving that ~/public_html."""
    import requests
    from conftest import _free_ports
    root = Path(tempfile.mkdtemp(prefix="parley-host-"))
    os.chmod(root, 0o711)
    apache = None
    try:
        www = pwd.getpwnam("www-data")
        home = root / "home"
        home.mkdir(mode=0o711)
        os.chown(home, www.pw_uid, www.pw_gid)
        # the upload: what `make cgi` puts in cgi-bin/, and the rest
        up = root / "upload"
        (up / "cgi-bin").mkdir(parents=True)
        os.chmod(up, 0o755)
        os.chmod(up / "cgi-bin", 0o755)
        for prog in sorted((REPO / "fcgi-apps").glob("*.c")):
            shutil.copy(REPO / "build/bin" / ("parley-" + prog.stem),
                        up / "cgi-bin" / ("parley-%s.cgi" % prog.stem))
        shutil.copy(REPO / "cgi-bin/htaccess.example", up / "cgi-bin")
        shutil.copytree(REPO / "www", up / "www")
        shutil.copytree(REPO / "schema", up / "schema")
        shutil.copy(REPO / "build/bin/parleyctl", up / "parleyctl")
        for d, _dirs, files in os.walk(up):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o755)
        steps = _readme_block(REPO / "cgi-bin/README.md", "mkdir -p ~/parley")
        steps = "\n".join(l for l in steps.splitlines() if not l.startswith("curl "))
        r = subprocess.run(["runuser", "-u", "www-data", "--", "env", "-i", "HOME=" + str(home),
                            "PATH=/usr/bin:/bin", "bash", "-euc", steps],
                           cwd=str(up), capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert oct((home / "parley/jwt_secret").stat().st_mode & 0o777) == "0o600"
        assert "SetEnv PARLEY_CONFIG %s/parley/parley.conf" % home in \
            (home / "public_html/.htaccess").read_text()
        # Apache as in make check, serving that web root
        port = _free_ports(1)[0]
        var = root / "apache"
        (var / "run").mkdir(parents=True)
        (var / "log").mkdir()
        conf = (REPO / "scripts/apache.conf.in").read_text()
        for k, v in {"@PORT@": str(port), "@VAR@": str(var),
                     "@HTDOCS@": str(home / "public_html"),
                     "@APACHE_USER@": "www-data", "@APACHE_GROUP@": "www-data",
                     "@MPM_LOAD@": "LoadModule mpm_prefork_module "
                                   "/usr/lib/apache2/modules/mod_mpm_prefork.so",
                     "@CGI_LOAD@": "LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so"
                     }.items():
            conf = conf.replace(k, v)
        assert "@" not in re.sub(r"#.*", "", conf), "unfilled template key"
        (var / "apache2.conf").write_text(conf)
        log = open(var / "log/stderr.log", "wb")
        apache = subprocess.Popen(["apache2", "-DFOREGROUND", "-f", str(var / "apache2.conf")],
                                  stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        _wait_port(port, apache, "apache2", var / "log/stderr.log")
        base = "http://127.0.0.1:%d" % port
        r = requests.get(base + "/api/health", timeout=10)
        assert r.status_code == 200 and r.json()["db"] == "ok", r.text[:300]
        assert requests.get(base + "/").status_code == 200
        api = Api(base)
        name = unique_name("host")
        assert api.register(name).status_code == 201
        token = api.login(name)
        assert api.get("/api/auth/validate", token=token).json()["username"] == name
        ch = api.create_channel(token, unique_channel())["id"]
        head = api.get("/api/events", token=token, params={"timeout": 0}).json()["last_event_id"]
        msg = api.send(token, ch, "from a shared host")
        r = api.get("/api/events", token=token, params={"since": head, "timeout": 5})
        assert msg["id"] in [e["message"]["id"] for e in r.json()["events"]
                             if e["type"] == "message.created"]
        # the database is the site user's, in ~/parley, outside the web root
        assert (home / "parley/parley.db").stat().st_uid == www.pw_uid
        assert requests.get(base + "/parley.db").status_code == 403   # FilesMatch
    finally:
        if apache is not None:
            os.killpg(apache.pid, signal.SIGTERM)
            try:
                apache.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(apache.pid, signal.SIGKILL)
                apache.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)
