"""The daemon's keep-alive (ws_ping_interval, ws_hangup): a silent socket gets
a WebSocket ping (RFC 6455 5.5.2); one that answers with pongs stays open,
one that answers nothing is dropped after ws_hangup. Through the public
port (lighttpd's /ws proxy), with short intervals to keep the test quick."""

import base64
import os
import socket
import time

import pytest
import websocket

from conftest import start_server
from helpers import Api, make_user

PING, HANGUP = 1, 3
CONF = ("register_addr_limit = 100000\nlogin_addr_limit = 100000\n"
        "ws_ping_interval = %d\nws_hangup = %d\n" % (PING, HANGUP))


@pytest.fixture(scope="module")
def srv():
    with start_server(extra_conf=CONF) as s:
        yield s


@pytest.fixture(scope="module")
def user(srv):
    return make_user(Api(srv.base), "keep")


def test_a_socket_that_answers_pings_stays_open(srv, user):
    ws = websocket.create_connection(srv.ws_url(user.token), timeout=2)
    try:
        pings = 0
        deadline = time.monotonic() + 3 * HANGUP
        while time.monotonic() < deadline:
            try:
                # Answers a ping with a pong (websocket-client does), and
                # returns control frames too.
                opcode, _ = ws.recv_data_frame(control_frame=True)
            except websocket.WebSocketTimeoutException:
                continue
            if opcode == websocket.ABNF.OPCODE_PING:
                pings += 1
        assert pings >= 2, "a socket silent for %d s got %d pings" % (3 * HANGUP, pings)
        # Still served after three hang-up times of silence but for pongs.
        ws.send('{"type":"ping"}')
        deadline = time.monotonic() + 5
        while True:
            assert time.monotonic() < deadline, "no pong frame after keep-alive"
            try:
                opcode, frame = ws.recv_data_frame(control_frame=True)
            except websocket.WebSocketTimeoutException:
                continue
            if opcode == websocket.ABNF.OPCODE_TEXT and b'"pong"' in frame.data:
                break
    finally:
        ws.close()


def _upgrade(srv, token):
    """A WebSocket opened by hand: it reads what comes and answers nothing."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws?token=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (token, srv.port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, "closed during the upgrade"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    return s, head.split(b"\r\n\r\n", 1)[1]


def _frames(data):
    """(opcode, payload) of the unmasked server frames in `data` (complete
    ones only; payloads here are short)."""
    out, i = [], 0
    while i + 2 <= len(data):
        op, n = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if n == 126:
            n, i = int.from_bytes(data[i:i + 2], "big"), i + 2
        elif n == 127:
            n, i = int.from_bytes(data[i:i + 8], "big"), i + 8
        if i + n > len(data):
            break
        out.append((op, data[i:i + n]))
        i += n
    return out


def test_a_socket_that_never_answers_is_dropped(srv, user):
    s, data = _upgrade(srv, user.token)
    t0 = time.monotonic()
    try:
        closed_after = None
        while time.monotonic() - t0 < HANGUP + 10:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                closed_after = time.monotonic() - t0
                break
            data += chunk
    finally:
        s.close()
    ops = [op for op, _ in _frames(data)]
    assert 0x9 in ops, "no ping before the hang-up: opcodes %r" % ops
    assert closed_after is not None, "a socket silent for %d s is still open" % (HANGUP + 10)
    assert closed_after >= HANGUP - 1, "dropped after %.1f s, before ws_hangup" % closed_after
    assert "no frame or pong" in srv.logs()
