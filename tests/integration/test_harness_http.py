"""The test harness's own HTTP client (helpers.Api): a POST or PATCH is
never sent twice, an idempotent request is retried once on a connection
closed without an answer, and a POST after an idle spell goes on a fresh
connection rather than on a kept-alive one the web server may be closing.

No parley server here: a small HTTP/1.1 server on 127.0.0.1 of this
module's own counts the connections and requests it gets and, as told,
reads a request whole and closes the connection without answering (what
a client sees when a kept-alive connection is closed under it, or when
the server died after reading the request: there is no telling which).
"""

import socket
import threading

import pytest
import requests

import helpers
from helpers import Api


class TinyServer:
    """HTTP/1.1 with keep-alive. `abort(n)` says whether to drop the
    n-th request (1-based) unanswered; `requests` lists (connection
    number, method, path) of every request read in full."""

    def __init__(self, abort=lambda n: False):
        self.abort = abort
        self.requests = []
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn, number):
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                buf = buf[length:]
                with self.lock:
                    self.requests.append((number, method, path))
                    n = len(self.requests)
                if self.abort(n):
                    return      # read whole, closed without an answer
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 2\r\n\r\n{}")

    def close(self):
        self.sock.close()


@pytest.fixture
def tiny():
    made = []

    def make(**kw):
        srv = TinyServer(**kw)
        made.append(srv)
        return srv
    yield make
    for srv in made:
        srv.close()


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_write_is_never_sent_twice(tiny, method):
    """The request reached the server, which closed the connection without
    an answer: the client must not send it again (the old retry on
    "Connection aborted" did, and a POST could write twice unnoticed)."""
    srv = tiny(abort=lambda n: True)
    api = Api(srv.base)
    with pytest.raises(requests.exceptions.ConnectionError, match="Connection aborted"):
        api.request(method, "/api/messages", json_body={"content": "once"})
    assert [r[1:] for r in srv.requests] == [(method, "/api/messages")]
    assert api.retried == []
    # the same on a kept-alive connection the pool had (the race the retry
    # was written for: the first request is answered, the next is not)
    srv = tiny(abort=lambda n: n == 2)
    api = Api(srv.base)
    assert api.get("/api/health").status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError, match="Connection aborted"):
        api.request(method, "/api/messages", json_body={"content": "once"})
    assert [r[1] for r in srv.requests] == ["GET", method]
    assert api.retried == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_idempotent_request_is_retried_once(tiny, method):
    """Sending it again cannot double anything: once, on a new
    connection, and the retry is on record."""
    srv = tiny(abort=lambda n: n == 1)
    api = Api(srv.base)
    r = api.request(method, "/api/x")
    assert r.status_code == 200
    assert [r[1:] for r in srv.requests] == [(method, "/api/x")] * 2
    assert srv.requests[0][0] != srv.requests[1][0], "retried on the same connection"
    assert api.retried == [(method, "/api/x")]
    # only once: a second failure is the test's
    srv = tiny(abort=lambda n: True)
    api = Api(srv.base)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.request(method, "/api/x")
    assert len(srv.requests) == 2


def test_a_write_after_an_idle_spell_goes_on_a_fresh_connection(tiny):
    """While the pool's connection is recent a POST reuses it; once it has
    been idle for POOLED_MAX_IDLE (the web server may be closing it) a
    POST or PATCH gets a connection of its own, and reads keep the pool;
    after two requests overlapped (threads) the pool may hold an old
    connection, so every write gets a fresh one."""
    srv = tiny()
    api = Api(srv.base)
    api.get("/a")
    api.post("/b", {})
    api.post("/c", {})
    assert [r[0] for r in srv.requests] == [1, 1, 1]
    assert api.fresh_connections == 0
    api._last_done -= helpers.POOLED_MAX_IDLE + 1      # an idle spell
    api.post("/d", {})
    api.request("PATCH", "/e", json_body={})
    assert [r[0] for r in srv.requests][3:] == [2, 3]
    assert api.fresh_connections == 2
    api.get("/f")           # a read may use the kept-alive one
    assert srv.requests[-1][0] == 1
    api.post("/g", {})      # ...and that makes it recent again
    assert srv.requests[-1][0] == 1
    # overlapping requests: from then on every write is on its own
    gate = threading.Barrier(2)

    def hold(*a, **kw):
        gate.wait(5)
        return real(*a, **kw)
    real, api.s.request = api.s.request, hold
    threads = [threading.Thread(target=api.get, args=("/h",)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    api.s.request = real
    before = srv.connections
    api.post("/i", {})
    assert srv.connections == before + 1 and srv.requests[-1][0] == srv.connections
