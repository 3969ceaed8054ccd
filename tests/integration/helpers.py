"""Shared helpers for parley's integration tests.

Everything here talks to a real server over HTTP / WebSocket, or reads the
server's files (jwt secret, SQLite database) read-only. No server code is
imported: the wire contract (shared/API.md) is the only thing relied on.
"""

import base64
import datetime
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import pg_util
import string
import threading
import time

import requests
import websocket

# ---------------------------------------------------------------- constants

# RFC 3339 UTC with milliseconds, e.g. 2026-11-20T09:15:02.123Z
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

USER_KEYS = {"id", "username", "display_name", "bio", "avatar_url",
             "status_text", "created_at", "bot"}
CHANNEL_KEYS = {"id", "name", "kind", "topic", "created_by", "created_at",
                "member_count", "role", "unread_count", "last_message_id", "archived"}
MESSAGE_KEYS = {"id", "channel_id", "user_id", "username", "content",
                "created_at", "edited_at", "deleted", "reply_to",
                "client_msg_id", "reactions", "attachments",
                "pinned", "reply_count", "last_reply_at"}   # API.md v2
PRESENCE_KEYS = {"user_id", "username", "channel_id", "online", "status",
                 "last_seen"}

PASSWORD = "correct horse battery staple"

HTTP_TIMEOUT = 15


# ---------------------------------------------------------------- names

_counter = itertools.count(1)
_run_tag = "".join(random.choice(string.ascii_lowercase) for _ in range(3))


def unique_name(prefix="u"):
    """A username that no other test (or earlier run) uses.

    Counter + random suffix; always within the 3-32 char username rule and
    made only of [A-Za-z0-9_]."""
    n = next(_counter)
    suffix = "".join(random.choice(string.ascii_lowercase + string.digits)
                     for _ in range(5))
    name = "%s%s%d_%s" % (prefix, _run_tag, n, suffix)
    assert 3 <= len(name) <= 32, name
    return name


def unique_channel(prefix="ch"):
    return unique_name(prefix)


# ---------------------------------------------------------------- checks

def is_id(v):
    """IDs are positive integers (and not bools)."""
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def assert_time(value, what="time"):
    """RFC 3339 UTC with milliseconds, and close to now (same machine)."""
    assert isinstance(value, str), "%s is not a string: %r" % (what, value)
    assert TIME_RE.match(value), "%s not RFC 3339 UTC with ms: %r" % (what, value)
    t = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    skew = abs((now - t).total_seconds())
    assert skew < 600, "%s %r is %.0f s away from now" % (what, value, skew)


def assert_error(resp, status, code):
    """status plus {"error":{"code","message"}} with a JSON content type."""
    assert resp.status_code == status, (
        "expected %d %s, got %d: %s" % (status, code, resp.status_code,
                                        resp.text[:500]))
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.lower().startswith("application/json"), (
        "error content type %r, body %r" % (ctype, resp.text[:300]))
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    assert body["error"].get("code") == code, body
    msg = body["error"].get("message")
    assert isinstance(msg, str) and msg, body
    return body


def assert_json(resp, status):
    assert resp.status_code == status, (
        "expected %d, got %d: %s" % (status, resp.status_code, resp.text[:500]))
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.lower().startswith("application/json"), (
        "content type %r, body %r" % (ctype, resp.text[:300]))
    return resp.json()


def no_secret_fields(obj, path="$"):
    """Recursively assert no password / hash material is present."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            lk = k.lower()
            assert "password" not in lk and "hash" not in lk, \
                "secret-looking field %s.%s" % (path, k)
            no_secret_fields(v, path + "." + k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            no_secret_fields(v, "%s[%d]" % (path, i))
    elif isinstance(obj, str):
        assert "$argon2" not in obj, "password hash leaked at %s" % path


# ---------------------------------------------------------------- HTTP

# Methods a retry cannot double: sending one twice leaves the server as
# sending it once (RFC 9110 9.2.2). POST and PATCH are never sent twice.
IDEMPOTENT = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))
# A POST or PATCH goes on a pooled kept-alive connection only if the
# connection has been idle for less than this; lighttpd closes idle ones
# after server.max-keep-alive-idle (5 s by default, checked once a second),
# and a request written as it closes one is lost without an answer.
POOLED_MAX_IDLE = 2.0


class Api:
    """Thin requests wrapper bound to one server's base URL.

    Requests share one kept-alive connection pool. A request that meets a
    connection the web server closed for idleness just as it went out
    ("Connection aborted", no response) is sent once more only if its
    method is idempotent; a POST or PATCH is never retried (it may have
    reached parley: a second one would write twice unnoticed), and to
    keep it off such a connection it is sent on a fresh one unless the
    pool's connections are known to be recent (none yet, or this Api's
    last request ended less than POOLED_MAX_IDLE seconds ago, and no two
    of its requests ever overlapped: with threads the pool can hold
    older ones)."""

    def __init__(self, base):
        self.base = base
        self.s = requests.Session()
        # registrations are rate limited per client address (30/hour by
        # default); the suite keeps count so a 429 is easy to diagnose.
        self.register_attempts = 0
        self.retried = []           # (method, path) of every request sent twice
        self.fresh_connections = 0  # POSTs and PATCHes sent on a new connection
        self._lock = threading.Lock()
        self._in_flight = 0
        self._overlapped = False    # two requests were ever in flight at once
        self._last_done = None      # time.monotonic() the last request ended

    def request(self, method, path, token=None, json_body=None, data=None,
                headers=None, params=None, timeout=HTTP_TIMEOUT):
        method = method.upper()
        h = {}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if headers:
            h.update(headers)
        if json_body is not None:
            data = json.dumps(json_body).encode()
            h.setdefault("Content-Type", "application/json")
        kw = dict(data=data, headers=h, params=params, timeout=timeout,
                  allow_redirects=False)
        url = self.base + path
        if method not in IDEMPOTENT:
            if self._pool_is_recent():
                return self._pooled(method, url, kw)
            with self._lock:
                self.fresh_connections += 1
            with requests.Session() as one:
                return one.request(method, url, **kw)
        try:
            return self._pooled(method, url, kw)
        except requests.exceptions.ConnectionError as e:
            # A kept-alive connection the web server closed for idleness
            # just as the request went out ("Connection aborted" without
            # any response). Once more, on a new connection (the pool is
            # left alone: other threads may be using it); anything else is
            # a real failure.
            if "Connection aborted" not in str(e):
                raise
            with self._lock:
                self.retried.append((method, path))
            with requests.Session() as one:
                return one.request(method, url, **kw)

    def _pool_is_recent(self):
        """No pooled connection has been idle for POOLED_MAX_IDLE: one
        request at a time, the pool holds at most the connection of the
        last request (none before the first has ended)."""
        with self._lock:
            return not self._overlapped and (
                self._last_done is None or
                time.monotonic() - self._last_done < POOLED_MAX_IDLE)

    def _pooled(self, method, url, kw):
        """One request on the shared pool, keeping track of its use."""
        with self._lock:
            self._in_flight += 1
            if self._in_flight > 1:
                self._overlapped = True
        try:
            return self.s.request(method, url, **kw)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_done = time.monotonic()

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, token=token, json_body=body, **kw)

    # -- auth
    def register(self, username, password=PASSWORD, **extra):
        self.register_attempts += 1
        body = {"username": username, "password": password}
        body.update(extra)
        return self.post("/api/auth/register", body)

    def login_resp(self, username, password=PASSWORD):
        return self.post("/api/auth/login", {"username": username,
                                             "password": password})

    def login(self, username, password=PASSWORD):
        r = self.login_resp(username, password)
        assert r.status_code == 200, "login %s: %d %s" % (username, r.status_code, r.text)
        return r.json()["access_token"]

    # -- channels / messages / presence
    def create_channel(self, token, name=None, **extra):
        body = {"name": name or unique_channel()}
        body.update(extra)
        r = self.post("/api/channels", body, token=token)
        assert r.status_code == 201, "create channel: %d %s" % (r.status_code, r.text)
        return r.json()

    def channels(self, token):
        r = self.get("/api/channels", token=token)
        assert r.status_code == 200, r.text
        return r.json()["channels"]

    def channel_in_list(self, token, channel_id):
        for c in self.channels(token):
            if c["id"] == channel_id:
                return c
        return None

    def post_message(self, token, channel_id, content, **extra):
        body = {"channel_id": channel_id, "content": content}
        body.update(extra)
        return self.post("/api/messages", body, token=token)

    def send(self, token, channel_id, content, **extra):
        r = self.post_message(token, channel_id, content, **extra)
        assert r.status_code == 201, "post message: %d %s" % (r.status_code, r.text)
        return r.json()

    def history(self, token, channel_id, **params):
        params = dict(params)
        params["channel"] = channel_id
        return self.get("/api/messages/history", token=token, params=params)

    def all_history_ids(self, token, channel_id):
        """Every message id of a channel (walks backwards with before=)."""
        ids = []
        r = self.history(token, channel_id, limit=200)
        assert r.status_code == 200, r.text
        page = r.json()
        while page:
            ids = [m["id"] for m in page] + ids
            r = self.history(token, channel_id, limit=200, before=page[0]["id"])
            assert r.status_code == 200, r.text
            page = r.json()
        return ids


def auth(token):
    """Authorization header for a bearer token."""
    return {"Authorization": "Bearer " + token}


class User:
    def __init__(self, api, username, password, uid, token):
        self.api = api
        self.username = username
        self.password = password
        self.id = uid
        self.token = token

    def __repr__(self):
        return "User(%s #%s)" % (self.username, self.id)


def make_user(api, prefix="u"):
    name = unique_name(prefix)
    r = api.register(name, PASSWORD)
    assert r.status_code == 201, "register %s: %d %s" % (name, r.status_code, r.text)
    uid = r.json()["user"]["id"]
    token = api.login(name, PASSWORD)
    return User(api, name, PASSWORD, uid, token)


# ---------------------------------------------------------------- JWT

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode())


def jwt_parts(token):
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def make_jwt(payload, key, alg="HS256", header=None):
    """Build a JWT by hand. alg: HS256, HS384, HS512 or none."""
    hdr = {"alg": alg, "typ": "JWT"}
    if header:
        hdr.update(header)
    signing_input = (b64url(json.dumps(hdr, separators=(",", ":")).encode())
                     + "." +
                     b64url(json.dumps(payload, separators=(",", ":")).encode()))
    if alg == "none":
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
              "HS512": hashlib.sha512}[alg]
    if isinstance(key, str):
        key = key.encode()
    sig = hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(sig)


def read_secret(var):
    with open(os.path.join(var, "jwt_secret"), "rb") as f:
        data = f.read()
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    return data


# ---------------------------------------------------------------- database

def db_count(db_path, table):
    """Row count of a table via a read-only connection, or None if the
    table does not exist (the schema is the server's business)."""
    con = pg_util.connect(db_path, timeout=5)
    try:
        if not pg_util.table_exists(con, table):
            return None
        return con.execute('SELECT count(*) FROM "%s"' % table).fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------- WebSocket

class WS:
    """A client socket that keeps every frame it has read.

    The constructor reads the first frame (the server's hello) into
    self.hello."""

    def __init__(self, url, timeout=5.0, read_hello=True):
        self.conn = websocket.create_connection(url, timeout=timeout)
        self.frames = []
        self.hello = self.recv(timeout) if read_hello else None

    def send(self, obj):
        self.conn.send(obj if isinstance(obj, str) else json.dumps(obj))

    def recv(self, timeout=5.0):
        """One frame, parsed as JSON; raises AssertionError on timeout."""
        self.conn.settimeout(timeout)
        try:
            raw = self.conn.recv()
        except websocket.WebSocketTimeoutException:
            raise AssertionError("no frame within %.1f s (seen: %r)" %
                                 (timeout, self.frames[-10:]))
        frame = self._parse(raw)
        self.frames.append(frame)
        return frame

    def _parse(self, raw):
        if raw in ("", b"", None):
            # websocket-client returns "" once the server sent a close frame
            raise websocket.WebSocketConnectionClosedException(
                "server closed the socket (status %r)" % (self.conn.status,))
        return json.loads(raw)

    def wait_for(self, pred, timeout=5.0, what="frame"):
        """Read frames until pred(frame) is true; return that frame.

        Frames read along the way stay in self.frames. Fails after
        `timeout` seconds listing what was seen."""
        deadline = time.monotonic() + timeout
        start = len(self.frames)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s did not arrive within %.1f s; got %r"
                                     % (what, timeout, self.frames[start:]))
            self.conn.settimeout(left)
            try:
                raw = self.conn.recv()
            except websocket.WebSocketTimeoutException:
                continue
            frame = self._parse(raw)
            self.frames.append(frame)
            if pred(frame):
                return frame

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass
