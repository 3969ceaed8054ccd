"""Helpers for the real-time tests (test_realtime*.py): tickets, close
codes, raw frames, and extra ws-daemon processes on a test server's
database."""

import json
import os
import socket
import pg_util
import struct
import subprocess
import time
from pathlib import Path

import websocket

REPO = Path(__file__).resolve().parents[2]
WSD = REPO / "build" / "bin" / "parley-wsd"


def ticket(api, token):
    r = api.post("/api/auth/ws-ticket", token=token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body.get("expires_in") == 30, body
    assert isinstance(body.get("ticket"), str) and len(body["ticket"]) >= 16, body
    return body["ticket"]


def upgrade_status(url, **kw):
    """The HTTP status of a refused upgrade, or 101 when it was accepted."""
    try:
        conn = websocket.create_connection(url, timeout=5, **kw)
    except websocket.WebSocketBadStatusException as e:
        return e.status_code
    conn.close()
    return 101


def wait_close(conn, timeout=10.0):
    """Reads until the server's close frame; returns its status code (None
    when the connection ended without one). Data frames are skipped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            # recv_frame, not recv_data: the latter answers a close frame
            # itself, which fails (and hides the code) once the server has
            # already hung up.
            frame = conn.recv_frame()
            op, data = frame.opcode, frame.data
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError) as e:
            print("wait_close: connection ended without a close frame: %r" % (e,))
            return None
        if op == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
    raise AssertionError("socket not closed within %.1f s" % timeout)


def sql(db_path, query, args=()):
    """One write to the server's database (what a test cannot do via the API)."""
    con = pg_util.connect(db_path, readonly=False)
    try:
        cur = con.execute(query, args)
        con.commit()
        return cur.fetchall()
    finally:
        con.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    """A parley-wsd of our own on `server`'s database (PARLEY_CONFIG of the
    server, PARLEY_WS_PORT overridden), reached directly on its port."""

    def __init__(self, server, env_extra=None):
        self.server = server
        self.port = free_port()
        self.env = dict(os.environ, PARLEY_CONFIG=os.path.join(server.var, "parley.conf"),
                        PARLEY_WS_PORT=str(self.port))
        self.env.update(env_extra or {})
        self.log_path = os.path.join(server.var, "log", "wsd-%d.log" % self.port)
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(WSD)], env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "parley-wsd exited: " + self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("parley-wsd not listening: " + self.log())

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-3000:]
        except OSError:
            return ""

    def url(self, token=None, **params):
        q = ([("token", token)] if token else []) + list(params.items())
        return "ws://127.0.0.1:%d/ws" % self.port + (
            "?" + "&".join("%s=%s" % kv for kv in q) if q else "")


def events_of(frames, type_=None):
    return [f for f in frames if "event_id" in f and (type_ is None or f.get("type") == type_)]


def json_frames(raw_frames):
    return [json.loads(r) for r in raw_frames]


def last_event_id(api, token):
    """The newest event id the long poll shows `token`'s user now (its
    pages are bounded: followed to the last)."""
    since = 0
    for _ in range(1000):
        r = api.get("/api/events", token=token, params={"since": since, "timeout": 0})
        assert r.status_code == 200, r.text
        if r.json()["last_event_id"] == since:
            return since
        since = r.json()["last_event_id"]
    raise AssertionError("the long poll never reached its end")


def polled_events(api, token, since, pred):
    """Every event after `since` the long poll returns to `token`'s user for
    which pred(event) holds, following last_event_id to the end."""
    out = []
    for _ in range(50):
        r = api.get("/api/events", token=token, params={"since": since, "timeout": 0})
        assert r.status_code == 200, r.text
        body = r.json()
        out += [e for e in body["events"] if pred(e)]
        if body["last_event_id"] == since:
            return out
        since = body["last_event_id"]
    return out
