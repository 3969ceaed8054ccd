"""Login flood safety (issue 8): argon2id hashing (~64 MiB, ~55 ms each) is
bounded across every FastCGI process by slots next to the database (a
lock on byte 0 of <db_path>-hashslots/slot-N, or of
<state_dir>/parley-hashslots/slot-N on PostgreSQL; lib/hashslot.h,
slots.h). A flood of logins
gets 503 (JSON error, Retry-After) beyond the bound, other endpoints keep
answering, the per-username / per-address limits (429) still answer first
without a hash, and a holder killed with kill -9 frees its slot.

Servers of their own, each with one slot (hash_concurrency = 1) and no
waiting for it (hash_wait_ms = 0): the flood server runs four processes
per FastCGI program so several logins really run at once, with the
suite's generous login limits (an attempt counts while it is in flight,
so concurrent right passwords could otherwise meet 429); the other has a
small per-username limit for the 429 tests. Those tests hold the only
slot themselves by locking byte 0 of the slot file (fcntl.lockf: a POSIX
record lock, which the server's OFD locks contend with), which makes the
busy case deterministic. No timing is asserted.
"""

import fcntl
import os
import signal
import subprocess
import sys
import threading

import pytest
import requests

from conftest import start_server
from helpers import (Api, PASSWORD, assert_error, assert_json, auth,
                     unique_name)

FLOOD_CONF = """hash_concurrency = 1
hash_wait_ms = 0
"""
LIMITED_CONF = FLOOD_CONF + """login_user_limit = 3
login_user_window = 600
"""

THREADS = 24        # concurrent logins per round
ROUNDS = 4
TIMEOUT = 60        # per request: a queued request may wait, never fail


@pytest.fixture(scope="module")
def flood():
    with start_server(extra_conf=FLOOD_CONF, env_extra={"PARLEY_PROCS": "4"}) as srv:
        srv.slot0 = os.path.join(srv.slots_base + "-hashslots", "slot-0")
        yield srv


@pytest.fixture(scope="module")
def limited():
    with start_server(extra_conf=LIMITED_CONF) as srv:
        srv.slot0 = os.path.join(srv.slots_base + "-hashslots", "slot-0")
        yield srv


def retry_busy(call, tries=50):
    """Setup steps may meet a busy slot (503) like anyone: retry them."""
    for _ in range(tries):
        r = call()
        if r.status_code != 503:
            return r
    return r


def new_user(api):
    name = unique_name("fl")
    r = retry_busy(lambda: api.register(name, PASSWORD))
    uid = assert_json(r, 201)["user"]["id"]
    r = retry_busy(lambda: api.login_resp(name, PASSWORD))
    token = assert_json(r, 200)["access_token"]
    return name, uid, token


def assert_busy(r):
    """503 with the contract's JSON error and a Retry-After in seconds."""
    assert_error(r, 503, "unavailable")
    assert int(r.headers["Retry-After"]) >= 1


class HeldSlot:
    """Holds the server's only hash slot from this process (a lock on the
    byte the server's processes lock: byte 0 of the slot file)."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        # the server may be hashing right now: wait for it (blocking lock)
        fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, 0)

    def release(self):
        os.close(self.fd)


def login(base, username, password):
    return requests.post(base + "/api/auth/login",
                         json={"username": username, "password": password},
                         timeout=TIMEOUT)


def test_flood_is_bounded_and_others_keep_answering(flood):
    api = Api(flood.base)
    name, uid, token = new_user(api)
    results, probes, errors = [], [], []
    lock = threading.Lock()
    done = threading.Event()

    def one_login(i):
        # one in four is an unknown user: the dummy verification costs the
        # same hash and takes a slot the same way
        who = name if i % 4 else unique_name("nobody")
        try:
            r = login(flood.base, who, PASSWORD)
        except requests.RequestException as e:
            with lock:
                errors.append(repr(e))
            return
        with lock:
            results.append((who == name, r))

    def probe():
        # other endpoints, in other programs and in the auth program itself
        paths = ["/api/channels", "/api/auth/validate", "/api/users/me"]
        i = 0
        while not done.is_set() or i < len(paths):
            path = paths[i % len(paths)]
            i += 1
            try:
                r = requests.get(flood.base + path, headers=auth(token), timeout=TIMEOUT)
                probes.append((path, r.status_code, done.is_set(), r.text[:200]))
            except requests.RequestException as e:
                probes.append((path, repr(e), done.is_set(), ""))

    before = flood.processes()
    prober = threading.Thread(target=probe)
    prober.start()
    try:
        for rnd in range(ROUNDS):
            threads = [threading.Thread(target=one_login, args=(rnd * THREADS + k,))
                       for k in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        done.set()
        prober.join()

    # no process died (lighttpd would have respawned it under a new pid)
    gone = {pid: cmd for pid, cmd in before.items() if pid not in flood.processes()}
    assert not gone, "server processes died during the flood: %r\n%s" % (gone, flood.logs())
    assert not errors, "login requests failed at the transport: %r" % errors[:5]
    assert len(results) == THREADS * ROUNDS
    busy = ok = 0
    for known, r in results:
        # every answer is the contract's JSON, and the only 5xx is 503
        ctype = r.headers.get("Content-Type", "")
        assert ctype.lower().startswith("application/json"), (r.status_code, ctype, r.text[:200])
        if r.status_code == 503:
            assert_busy(r)
            busy += 1
        elif known:
            body = assert_json(r, 200)
            assert body["user"]["id"] == uid
            v = requests.get(flood.base + "/api/auth/validate",
                             headers=auth(body["access_token"]), timeout=TIMEOUT)
            assert assert_json(v, 200)["user_id"] == uid
            ok += 1
        else:
            assert_error(r, 401, "unauthorized")
    assert busy >= 1, "no login was refused with 503: the hash bound did not hold"
    assert ok >= 1, "no login succeeded during the flood"

    # the other endpoints answered during the flood, and every time with 200
    during = [p for p in probes if not p[2]]
    assert during, "no probe ran during the flood"
    bad = [p for p in probes if p[1] != 200]
    assert not bad, "other endpoints failed during the flood: %r" % bad[:5]

    # afterwards the right password still works (no slot leaked)
    assert_json(retry_busy(lambda: api.login_resp(name, PASSWORD)), 200)


def test_busy_slot_refuses_hashes_not_other_requests(limited):
    api = Api(limited.base)
    name, uid, token = new_user(api)
    held = HeldSlot(limited.slot0)
    try:
        # every path that hashes answers 503 while the only slot is taken
        assert_busy(api.login_resp(name, PASSWORD))
        assert_busy(api.login_resp(unique_name("nobody"), PASSWORD))
        assert_busy(api.register(unique_name("fl"), PASSWORD))
        r = api.request("PUT", "/api/users/me/password", token=token,
                        json_body={"old_password": PASSWORD, "new_password": "another password"})
        assert_busy(r)
        # what does not hash is served as usual
        assert_json(api.get("/api/auth/validate", token=token), 200)
        assert_json(api.get("/api/channels", token=token), 200)
        assert_json(api.get("/api/users/me", token=token), 200)
        # a refused attempt does not count against the username's limit (3)
        for _ in range(5):
            assert_busy(api.login_resp(name, "wrong password"))
    finally:
        held.release()
    # the password was not changed by the refused request
    body = assert_json(retry_busy(lambda: api.login_resp(name, PASSWORD)), 200)
    assert body["user"]["id"] == uid
    # the five refusals did not count: three real failures do, then 429
    for _ in range(3):
        assert_error(retry_busy(lambda: api.login_resp(name, "wrong password")),
                     401, "unauthorized")
    r = api.login_resp(name, PASSWORD)
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1


def test_refused_registrations_do_not_count():
    """A registration refused with 503 (no hash slot) registered nothing,
    so it does not count against register_addr_limit either."""
    conf = FLOOD_CONF + "register_addr_limit = 2\nregister_addr_window = 600\n"
    with start_server(extra_conf=conf) as srv:
        api = Api(srv.base)
        held = HeldSlot(os.path.join(srv.slots_base + "-hashslots", "slot-0"))
        try:
            for _ in range(4):
                assert_busy(api.register(unique_name("rr"), PASSWORD))
        finally:
            held.release()
        for _ in range(2):
            assert_json(retry_busy(lambda: api.register(unique_name("rr"), PASSWORD)), 201)
        assert_error(api.register(unique_name("rr"), PASSWORD), 429, "rate_limited")


def test_rate_limit_answers_before_the_hash(limited):
    api = Api(limited.base)
    name, _, _ = new_user(api)
    for _ in range(3):
        assert_error(retry_busy(lambda: api.login_resp(name, "wrong password")),
                     401, "unauthorized")
    held = HeldSlot(limited.slot0)
    try:
        # the limit is checked first: 429, not 503, although no slot is free
        for password in ("wrong password", PASSWORD):
            r = api.login_resp(name, password)
            assert_error(r, 429, "rate_limited")
            assert int(r.headers["Retry-After"]) >= 1
    finally:
        held.release()


HOLDER = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0)
print("held", flush=True)
time.sleep(600)
"""


def test_kill_9_of_a_holder_frees_the_slot(flood):
    api = Api(flood.base)
    name, uid, _ = new_user(api)
    os.makedirs(os.path.dirname(flood.slot0), mode=0o700, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, flood.slot0],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert_busy(api.login_resp(name, PASSWORD))
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        holder.stdout.close()
    assert holder.returncode == -signal.SIGKILL
    # nobody released it: the kernel did, when the holder died
    body = assert_json(retry_busy(lambda: api.login_resp(name, PASSWORD)), 200)
    assert body["user"]["id"] == uid
