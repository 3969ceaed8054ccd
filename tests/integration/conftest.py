"""Fixtures: one real parley server (scripts/serve.sh) for the whole session.

The server is started the way an operator would: `scripts/serve.sh` with
PORT, WS_PORT and PARLEY_VAR in the environment, in its own process group so
teardown can stop lighttpd, the FastCGI apps and the ws-daemon together.

PARLEY_FRONTEND=external starts nothing: the suite talks to a server that
already runs at PARLEY_BASE_URL (the container image: scripts/check-container.sh).
PARLEY_EXTERNAL_VAR is that server's data directory as seen from here (a
volume's mount point: its key, SQLite file and uploads), PARLEY_EXTERNAL_CTL
the command that runs its parleyctl, PARLEY_EXTERNAL_LOGS the one that
prints its logs; a test that needs one that is not given is skipped, and so
is every test that starts a server of its own (start_server). Run it in one
process (no -n): xdist workers would share the one server, and tests that
count rows would see each other's.
"""

import contextlib
import os
import shutil
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from helpers import Api, WS, make_user
import pg_util

REPO = Path(__file__).resolve().parents[2]
# The web server scripts/serve.sh runs (PARLEY_FRONTEND): lighttpd, nginx,
# cgi (lighttpd mod_cgi) or apache (Apache CGI as on a shared host, where
# no daemon may run: no /ws, real time through the long poll).
FRONTEND = os.environ.get("PARLEY_FRONTEND", "lighttpd")
NO_WS_DAEMON = FRONTEND == "apache"
EXTERNAL = FRONTEND == "external"
# The web server that answers requests: the frontend's own, and lighttpd in
# the container image (PARLEY_EXTERNAL_WEB_SERVER for another).
WEB_SERVER = os.environ.get("PARLEY_EXTERNAL_WEB_SERVER", "lighttpd") if EXTERNAL else FRONTEND
# PARLEY_CTL_BIN as in scripts/serve.sh (check-bundle.sh: the bundle's
# parleyctl, run in the older Debian's chroot).
CTL = os.environ.get("PARLEY_CTL_BIN") or os.path.join(
    os.environ.get("PARLEY_BIN", str(REPO / "build" / "bin")), "parleyctl")
SERVE = REPO / "scripts" / "serve.sh"
READY_TIMEOUT = 20.0


def _free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together so the
    kernel cannot hand out the same one twice)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _tail(path, n=60):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(%s: %s)" % (path, e)


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def _sanitizer_reports(var):
    out = []
    for root, _dirs, files in os.walk(var):
        for name in files:
            if not (name.endswith(".log")):
                continue
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            for line in text.splitlines():
                if any(m in line for m in SANITIZER_MARKS):
                    out.append("%s: %s" % (name, line.strip()))
    return out[:40]


def _logs_tail(var):
    out = ["--- serve.log ---", _tail(os.path.join(var, "serve.log"))]
    logdir = os.path.join(var, "log")
    if os.path.isdir(logdir):
        for name in sorted(os.listdir(logdir)):
            p = os.path.join(logdir, name)
            if os.path.isfile(p):
                out += ["--- log/%s ---" % name, _tail(p, 30)]
    return "\n".join(out)


class Server:
    def __init__(self, port, ws_port, var, proc):
        self.port = port
        self.ws_port = ws_port
        self.base = "http://127.0.0.1:%d" % port
        self.ws = "ws://127.0.0.1:%d/ws" % port
        self.var = var
        self.db = os.path.join(var, "parley.db")
        self.db_url = None      # PostgreSQL: the libpq connection string
        self.proc = proc

    def alive(self):
        return self.proc.poll() is None

    @property
    def slots_base(self):
        """Where this server's slot directories go ("<base>-hashslots"):
        beside the SQLite file, or in state_dir (the var dir) on
        PostgreSQL (lib/config.h, slots_base)."""
        return os.path.join(self.var, "parley") if self.db_url else self.db

    def logs(self):
        return _logs_tail(self.var)

    def processes(self):
        """{pid: command line} of every process in the server's group
        (serve.sh, lighttpd, the FastCGI apps, the ws-daemon)."""
        out = {}
        try:
            pgid = os.getpgid(self.proc.pid)
        except ProcessLookupError:
            return out
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
                fields = stat[stat.rindex(")") + 2:].split()
                if fields[0] == "Z" or int(fields[2]) != pgid:
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, ValueError, IndexError):
                continue
            # A process on its way out (killed, not yet a zombie) has an
            # empty command line: it is not one of the server's any more.
            if cmd.strip():
                out[int(d)] = cmd.strip()
        # spawn-fcgi (nginx frontend) starts the programs in sessions of
        # their own and lists them in run/*.pid.
        run = os.path.join(self.var, "run")
        for name in os.listdir(run) if os.path.isdir(run) else []:
            if not name.endswith(".pid"):
                continue
            try:
                with open(os.path.join(run, name)) as f:
                    pids = [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                except OSError:
                    continue
                if cmd:
                    out[pid] = cmd
        # As plain CGI every request is a short-lived process: only the
        # long-lived ones (lighttpd or apache2, ws-daemon, serve.sh) are
        # tracked.
        if FRONTEND in ("cgi", "apache"):
            def short_lived(cmd):
                prog = os.path.basename(cmd.split()[0])
                return prog.startswith("parley-") and not prog.startswith("parley-wsd")
            out = {pid: cmd for pid, cmd in out.items() if cmd and not short_lived(cmd)}
        return out

    def ws_url(self, token=None, **params):
        q = []
        if token is not None:
            q.append("token=" + token)
        q += ["%s=%s" % kv for kv in params.items()]
        return self.ws + ("?" + "&".join(q) if q else "")

    def connect(self, token, timeout=5.0):
        """Open /ws?token=... and read the hello frame."""
        return WS(self.ws_url(token), timeout=timeout)


class ExternalServer(Server):
    """The server at PARLEY_BASE_URL, started by someone else (EXTERNAL)."""

    def __init__(self, base, var):
        url = urllib.parse.urlsplit(base)
        port = url.port or (443 if url.scheme == "https" else 80)
        super().__init__(port, None, var or "", None)
        self.base = base.rstrip("/")
        self.ws = ("wss" if url.scheme == "https" else "ws") + "://%s/ws" % url.netloc
        self._var = var

    @property
    def var(self):
        if not self._var:
            pytest.skip("needs the server's data directory (PARLEY_EXTERNAL_VAR)")
        return self._var

    @var.setter
    def var(self, value):
        self._var = value

    @property
    def db(self):
        return os.path.join(self.var, "parley.db")

    @db.setter
    def db(self, value):
        pass

    def alive(self):
        return True          # the suite checks /api/health after each test

    def logs(self):
        cmd = os.environ.get("PARLEY_EXTERNAL_LOGS")
        if not cmd:
            return "(PARLEY_EXTERNAL_LOGS not given: no server logs)"
        r = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=30)
        return "--- %s ---\n%s%s" % (cmd, r.stdout[-6000:], r.stderr[-6000:])

    def processes(self):
        return {}            # not visible from here


def parleyctl(srv, *args, timeout=60):
    """Runs parleyctl ARGS on srv's database and returns the CompletedProcess
    (text): this tree's parleyctl with srv's parley.conf, or for the
    external server the command PARLEY_EXTERNAL_CTL names (e.g. podman exec
    CONTAINER parleyctl)."""
    if EXTERNAL:
        cmd = os.environ.get("PARLEY_EXTERNAL_CTL")
        if not cmd:
            pytest.skip("needs the server's parleyctl (PARLEY_EXTERNAL_CTL)")
        return subprocess.run(shlex.split(cmd) + list(args), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(srv.var, "parley.conf"))
    return subprocess.run([CTL] + list(args), env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def external_server():
    """The ExternalServer, once /api/health answers (READY_TIMEOUT)."""
    base = os.environ.get("PARLEY_BASE_URL")
    if not base:
        pytest.fail("PARLEY_FRONTEND=external needs PARLEY_BASE_URL", pytrace=False)
    srv = ExternalServer(base, os.environ.get("PARLEY_EXTERNAL_VAR"))
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            r = requests.get(srv.base + "/api/health", timeout=2)
            if r.status_code == 200:
                return srv
            last = "%d %s" % (r.status_code, r.text[:200])
        except requests.RequestException as e:
            last = repr(e)
        if time.monotonic() > deadline:
            pytest.fail("%s not ready after %.0f s (last: %s)\n%s"
                        % (srv.base, READY_TIMEOUT, last, srv.logs()), pytrace=False)
        time.sleep(0.2)


def _stop(proc):
    if proc.poll() is not None:
        return
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    # children (lighttpd, daemon, fcgi apps) share the group: make sure
    # none outlives the suite.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc.poll() is None:
        proc.wait(timeout=5)


# Config lines every test server gets (appended to its parley.conf through
# PARLEY_EXTRA_CONF). Rate limits are per client address and every test
# client is 127.0.0.1, so the shared server gets generous limits; a test
# of the limits themselves starts its own server with start_server().
# Generous limits, and logins that wait for a hash slot rather than get 503
# when the loaded test machine is slow (test_login_flood sets its own).
SUITE_CONF = ("login_user_limit = 100000\nlogin_addr_limit = 100000\n"
              "register_addr_limit = 100000\nverify_request_limit = 100000\n"
              "hash_wait_ms = 10000\n")


@contextlib.contextmanager
def start_server(extra_conf="", env_extra=None, db_url=None):
    """Start scripts/serve.sh on free ports with a fresh data dir, wait
    until /api/health answers, yield a Server, and stop everything after.
    `extra_conf` is appended to the generated parley.conf. `db_url`: a
    PostgreSQL database another server already uses (a second frontend on
    the same database); by default each server gets its own."""
    if EXTERNAL:
        pytest.skip("starts a server of its own (PARLEY_FRONTEND=external tests the one "
                    "at PARLEY_BASE_URL)")
    assert SERVE.exists(), "%s missing: build the server first" % SERVE
    port, ws_port = _free_ports(2)
    var = tempfile.mkdtemp(prefix="parley-it-")
    # PARLEY_ENGINE=postgres: every server gets a fresh database in the
    # suite's throwaway cluster (pg_util), named by db_url.
    if db_url is None and pg_util.ENGINE == "postgres":
        db_url = pg_util.cluster().new_database()
    engine_conf = "db_url = %s\n" % db_url if db_url else ""
    env = dict(os.environ, PORT=str(port), WS_PORT=str(ws_port), PARLEY_VAR=var,
               PARLEY_EXTRA_CONF=SUITE_CONF + engine_conf + "\n" + extra_conf)
    env.update(env_extra or {})
    log = open(os.path.join(var, "serve.log"), "wb")
    proc = subprocess.Popen(["bash", str(SERVE)], cwd=str(REPO), env=env,
                            stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(port, ws_port, var, proc)
    srv.db_url = db_url
    pg_util.register(srv.db, db_url)
    deadline = time.monotonic() + READY_TIMEOUT
    last = None
    while True:
        if proc.poll() is not None:
            _stop(proc)
            log.close()
            pytest.fail("serve.sh exited with %s before becoming ready\n%s"
                        % (proc.returncode, srv.logs()), pytrace=False)
        try:
            r = requests.get(srv.base + "/api/health", timeout=2)
            if r.status_code == 200:
                break
            last = "%d %s" % (r.status_code, r.text[:200])
        except requests.RequestException as e:
            last = repr(e)
        if time.monotonic() > deadline:
            _stop(proc)
            log.close()
            pytest.fail("server not ready after %.0f s (last: %s)\n%s"
                        % (READY_TIMEOUT, last, srv.logs()), pytrace=False)
        time.sleep(0.2)
    # PARLEY_APACHE_CHROOT (scripts/check-bundle.sh): the Apache answering
    # must be the one serve.sh started in that chroot, not one of this host.
    chroot = os.environ.get("PARLEY_APACHE_CHROOT")
    if chroot and FRONTEND == "apache":
        roots = set()
        for pid, cmd in srv.processes().items():
            if "apache2" in cmd:
                with contextlib.suppress(OSError):
                    roots.add(os.readlink("/proc/%d/root" % pid))
        if roots != {os.path.realpath(chroot)}:
            _stop(proc)
            log.close()
            pytest.fail("Apache is not running in %s: %r" % (chroot, roots), pytrace=False)
    try:
        yield srv
    finally:
        _stop(proc)
        log.close()
        reports = _sanitizer_reports(var)
        if os.environ.get("PARLEY_KEEP_VAR"):
            print("\nparley var dir kept: %s" % var)
        else:
            shutil.rmtree(var, ignore_errors=True)
    # A sanitizer build (make sanitize; PARLEY_BIN=build/san/bin) reports
    # memory errors and undefined behaviour in the logs: any is a failure.
    assert not reports, "sanitizer reports in the server logs:\n" + "\n".join(reports)


def pytest_collection_modifyitems(config, items):
    """Without a ws-daemon (the shared-host path) the WebSocket tests
    have nothing to talk to: they are skipped, and the long-poll tests
    stand in for them (scripts/check.sh runs those on every CGI server)."""
    if not NO_WS_DAEMON:
        return
    skip = pytest.mark.skip(reason="PARLEY_FRONTEND=%s runs no ws-daemon" % FRONTEND)
    for item in items:
        if item.nodeid.split("::")[0].endswith("test_websocket.py"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def server():
    if EXTERNAL:
        yield external_server()
        return
    with start_server() as srv:
        yield srv


@pytest.fixture(scope="session")
def api(server):
    return Api(server.base)


@pytest.fixture(autouse=True)
def still_serving(request):
    """After every test that used the server: no server process died or was
    replaced (lighttpd respawns a crashed FastCGI app, so a crash shows up
    as a changed pid), and it still answers /api/health."""
    if "server" not in request.fixturenames:
        yield
        return
    srv = request.getfixturevalue("server")
    before = srv.processes()
    yield
    assert srv.alive(), "serve.sh died during the test\n" + srv.logs()
    after = srv.processes()
    gone = {pid: cmd for pid, cmd in before.items() if pid not in after}
    assert not gone, "server processes died during the test: %r\n%s" % (
        gone, srv.logs())
    try:
        r = requests.get(srv.base + "/api/health", timeout=5)
    except requests.RequestException as e:
        pytest.fail("server stopped answering after the test: %r\n%s"
                    % (e, srv.logs()), pytrace=False)
    assert r.status_code == 200, "health after test: %d %s\n%s" % (
        r.status_code, r.text[:200], srv.logs())


# A small pool of users shared by the whole session. Registrations are rate
# limited per client address (30 per hour by default) and every test comes
# from 127.0.0.1, so tests share these instead of registering their own.

@pytest.fixture(scope="session")
def alice(api):
    return make_user(api, "alice")


@pytest.fixture(scope="session")
def bob(api):
    return make_user(api, "bob")


@pytest.fixture(scope="session")
def carol(api):
    return make_user(api, "carol")


@pytest.fixture(scope="session")
def dave(api):
    return make_user(api, "dave")
