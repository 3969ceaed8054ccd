"""Crash consistency: nothing acknowledged is ever lost.

50 clients post with unique client_msg_ids (retrying on any error with the
same id) through lighttpd for CRASH_SECONDS (default 60) while FastCGI
programs are killed with SIGKILL every few seconds and the ws-daemon
periodically (serve.sh restarts it, as systemd would). WebSocket clients
reconnect with ?since= whenever their socket drops. Afterwards every message
that got a 2xx exists exactly once, every retry returned the original id,
PRAGMA integrity_check is ok, and each WebSocket client saw every message
event of its channel once, with no gap. On PostgreSQL (PARLEY_ENGINE=postgres)
a database backend is killed with SIGKILL every 20 s as well: the postmaster
then ends every session and recovers, and the programs reconnect.
"""

import json
import os
import random
import signal
import threading
import time

import pytest
import requests
import websocket

import pg_util
from conftest import start_server
from helpers import Api, unique_channel, unique_name

SECONDS = float(os.environ.get("CRASH_SECONDS", "60"))
CLIENTS = 50
USERS = 10
CHANNELS = 3

pytestmark = pytest.mark.slow


class Poster(threading.Thread):
    def __init__(self, base, token, channels, n, stop):
        super().__init__(daemon=True)
        self.base, self.token, self.channels, self.n, self.stop = base, token, channels, n, stop
        self.acked = {}          # client_msg_id -> (channel, id)
        self.mismatch = []       # retries that returned another id
        self.errors = 0

    def run(self):
        s = requests.Session()
        h = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
        i = 0
        while not self.stop.is_set():
            cmid = "c%d-%d" % (self.n, i)
            ch = self.channels[i % len(self.channels)]
            body = json.dumps({"channel_id": ch, "content": "crash %s" % cmid, "client_msg_id": cmid})
            first = None
            for attempt in range(200):
                try:
                    r = s.post(self.base + "/api/messages", data=body, headers=h, timeout=10)
                except requests.RequestException:
                    self.errors += 1
                    time.sleep(0.05)
                    continue
                if r.status_code in (200, 201):
                    mid = r.json()["id"]
                    if first is None:
                        first = mid
                    elif mid != first:
                        self.mismatch.append((cmid, first, mid))
                    # one confirming retry now and then proves idempotency
                    if r.status_code == 201 and attempt == 0 and i % 7 == 0:
                        continue
                    break
                self.errors += 1
                time.sleep(0.05)
            if first is not None:
                self.acked[cmid] = (ch, first)
            i += 1


class Watcher(threading.Thread):
    """A WebSocket client that reconnects with ?since= after every drop."""

    def __init__(self, ws_base, api, user, channel, stop):
        super().__init__(daemon=True)
        self.ws_base, self.api, self.user, self.channel, self.stop = ws_base, api, user, channel, stop
        self.seen = []           # message ids from message.created, in arrival order
        self.last_event = None
        self.reconnects = 0

    def connect(self):
        url = "%s?token=%s" % (self.ws_base, self.user["token"])
        if self.last_event is not None:
            url += "&since=%d" % self.last_event
        conn = websocket.create_connection(url, timeout=5)
        hello = json.loads(conn.recv())
        if self.last_event is None:
            self.last_event = hello["last_event_id"]
        return conn

    def run(self):
        conn = None
        while True:
            try:
                if conn is None:
                    conn = self.connect()
                conn.settimeout(0.5)
                raw = conn.recv()
                if not raw:
                    raise websocket.WebSocketConnectionClosedException()
                ev = json.loads(raw)
                if "event_id" in ev:
                    self.last_event = ev["event_id"]
                if ev.get("type") == "message.created" and ev.get("channel_id") == self.channel:
                    self.seen.append(ev["message"]["id"])
            except websocket.WebSocketTimeoutException:
                if self.stop.is_set():
                    break
            except Exception:
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                conn = None
                self.reconnects += 1
                time.sleep(0.2)
                if self.stop.is_set() and self.reconnects > 10000:
                    break
        if conn is not None:
            conn.close()


def _programs(srv):
    return [(pid, cmd) for pid, cmd in srv.processes().items()
            if "/parley-" in cmd and "parley-wsd" not in cmd and "parleyctl" not in cmd]


def _daemons(srv):
    return [pid for pid, cmd in srv.processes().items() if cmd.split()[0].endswith("parley-wsd")]


def _pg_backends(srv):
    """PostgreSQL: the server processes serving this parley's database."""
    if not srv.db_url:
        return []
    con = pg_util.connect(srv.db)
    try:
        return [r[0] for r in con.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchall()]
    finally:
        con.close()


def test_kill_9_loses_nothing_acknowledged():
    # PostgreSQL: a cluster of its own, since a killed backend restarts every
    # session of the cluster (the suite's other servers would feel it)
    own = pg_util.Cluster() if pg_util.ENGINE == "postgres" else None
    try:
        _crash_run(own.new_database() if own else None)
    finally:
        if own:
            own.stop()


def _crash_run(db_url):
    with start_server(db_url=db_url) as srv:
        api = Api(srv.base)
        users = []
        for _ in range(USERS):
            name = unique_name("cr")
            assert api.register(name).status_code == 201
            users.append({"name": name, "token": api.login(name)})
        owner = users[0]
        channels = [api.create_channel(owner["token"], unique_channel())["id"] for _ in range(CHANNELS)]
        for u in users[1:]:
            for ch in channels:
                assert api.post("/api/channels/%d/join" % ch, token=u["token"]).status_code == 200

        stop_posting = threading.Event()
        stop_watching = threading.Event()
        watchers = [Watcher(srv.ws, api, users[k], channels[k % CHANNELS], stop_watching)
                    for k in range(CHANNELS)]
        for w in watchers:
            w.start()
        time.sleep(1.0)  # watchers connected: their hello marks the start
        posters = [Poster(srv.base, users[k % USERS]["token"], channels, k, stop_posting)
                   for k in range(CLIENTS)]
        for p in posters:
            p.start()

        killed_programs = killed_daemons = killed_backends = 0
        end = time.monotonic() + SECONDS
        next_daemon_kill = time.monotonic() + 10
        # PostgreSQL: a backend killed with SIGKILL makes the postmaster end
        # every session and recover (the programs reconnect)
        next_backend_kill = time.monotonic() + 15
        rnd = random.Random(7)
        while time.monotonic() < end:
            time.sleep(rnd.uniform(1.5, 3.5))
            progs = _programs(srv)
            if progs:
                pid, _cmd = rnd.choice(progs)
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed_programs += 1
                except ProcessLookupError:
                    pass
            if time.monotonic() >= next_daemon_kill:
                for pid in _daemons(srv):
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed_daemons += 1
                    except ProcessLookupError:
                        pass
                next_daemon_kill = time.monotonic() + 10
            if srv.db_url and time.monotonic() >= next_backend_kill:
                backends = _pg_backends(srv)
                if backends:
                    try:
                        os.kill(rnd.choice(backends), signal.SIGKILL)
                        killed_backends += 1
                    except ProcessLookupError:
                        pass
                next_backend_kill = time.monotonic() + 20
        stop_posting.set()
        for p in posters:
            p.join(timeout=60)
        assert not any(p.is_alive() for p in posters), "a poster hung"

        # let the watchers catch up with everything that was committed
        deadline = time.monotonic() + 30
        db = pg_util.connect(srv.db)
        try:
            expected = {}
            for ch in channels:
                expected[ch] = [r[0] for r in db.execute(
                    "SELECT id FROM messages WHERE channel_id = ? ORDER BY id", (ch,))]
            while time.monotonic() < deadline:
                if all(set(expected[w.channel]) <= set(w.seen) for w in watchers):
                    break
                time.sleep(0.2)
            stop_watching.set()
            for w in watchers:
                w.join(timeout=10)

            acked = {}
            for p in posters:
                for cmid, (ch, mid) in p.acked.items():
                    acked[(p.token, cmid)] = (ch, mid)
            mismatches = [m for p in posters for m in p.mismatch]
            errors = sum(p.errors for p in posters)
            print("\ncrash test: %d acknowledged posts, %d client-side errors retried, "
                  "%d FastCGI kills, %d daemon kills, %d database backend kills, "
                  "%d ws reconnects" % (
                      len(acked), errors, killed_programs, killed_daemons, killed_backends,
                      sum(w.reconnects for w in watchers)))
            # kills are paced by a loop sharing the GIL with 50 posters: count loosely
            assert killed_programs >= max(3, SECONDS / 10)
            assert killed_daemons >= 1 if SECONDS >= 20 else True
            assert killed_backends >= 1 if srv.db_url and SECONDS >= 20 else True
            assert len(acked) > 100
            assert not mismatches, "a retry returned another id: %r" % mismatches[:5]

            # every acknowledged message exists exactly once, with its id
            rows = db.execute("SELECT id, user_id, client_msg_id, channel_id FROM messages").fetchall()
            by_id = {r[0]: r for r in rows}
            missing = [(k, v) for k, v in acked.items() if v[1] not in by_id]
            assert not missing, "acknowledged but missing: %r" % missing[:5]
            dup = db.execute("SELECT user_id, client_msg_id, count(*) FROM messages "
                             "WHERE client_msg_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1").fetchall()
            assert not dup, dup[:5]
            for (tok, cmid), (ch, mid) in acked.items():
                assert by_id[mid][2] == cmid and by_id[mid][3] == ch
            if not srv.db_url:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

            # WebSocket clients: every message event of their channel, once, in order
            for w in watchers:
                want = expected[w.channel]
                assert len(w.seen) == len(set(w.seen)), "duplicate deliveries on channel %d" % w.channel
                gap = sorted(set(want) - set(w.seen))
                assert not gap, "channel %d: %d message events never arrived: %r" % (
                    w.channel, len(gap), gap[:10])
                assert w.seen == sorted(w.seen), "out of order on channel %d" % w.channel
        finally:
            db.close()
