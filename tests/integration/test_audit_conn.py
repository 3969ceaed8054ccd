"""Security audit, connections (issue 12, items 6, 7 and 9).

6. Revocation reaches open connections at once: a WebSocket post or typing
   frame from a socket whose session ended (logout, password change,
   account deletion) stores nothing and closes the socket with 4001; a long
   poll whose session ended while it waited answers 401, not the events.
7. One user cannot starve everyone: concurrent long polls per user are
   capped across the FastCGI processes (429 rate_limited with Retry-After,
   poll_user_limit, default 2) while another user's poll is answered; the
   sockets of one user on one daemon are capped (ws_user_limit, default
   20): the next one is accepted and closed with 4008 at once.
9. The Origin check compares scheme, host and port: an https:// or x://
   origin naming the right host:port is refused (403).

The main server runs with the default settings (no new configuration
keys), so the same file shows each failure against the build before the
fixes; the settings themselves are exercised on a server and a daemon of
their own.
"""

import json
import os
import signal
import threading
import time

import pytest
import requests
import websocket

from conftest import FRONTEND, NO_WS_DAEMON, start_server
from helpers import WS, Api, PASSWORD, assert_error, jwt_parts, make_user, unique_channel
from rt_util import Daemon, sql, ticket, upgrade_status

CONF = "register_addr_limit = 100000\nlogin_addr_limit = 100000\n"
POLL_CAP = 2      # poll_user_limit's default
# the shared-host path (Apache CGI) runs no ws-daemon
needs_wsd = pytest.mark.skipif(NO_WS_DAEMON, reason="PARLEY_FRONTEND=%s runs no ws-daemon"
                               % FRONTEND)
SOCKET_CAP = 20   # ws_user_limit's default


@pytest.fixture(scope="module")
def srv():
    with start_server(extra_conf=CONF) as s:
        yield s


@pytest.fixture(scope="module")
def capi(srv):
    return Api(srv.base)


@pytest.fixture
def socks():
    opened = []
    yield opened
    for s in opened:
        s.close()


def open_ws(url, socks, **kw):
    ws = WS(url, **kw)
    socks.append(ws)
    return ws


def new_session(api, user):
    """A second, independent login of `user`: (access token, session id)."""
    token = api.login(user.username)
    return token, jwt_parts(token)[1]["sid"]


def public_room(api, owner, *members):
    ch = api.create_channel(owner.token, unique_channel("ac"))["id"]
    for m in members:
        r = api.post("/api/channels/%d/join" % ch, token=m.token)
        assert r.status_code == 200, r.text
    return ch


def contents(api, token, ch):
    r = api.history(token, ch, limit=200)
    assert r.status_code == 200, r.text
    return [m["content"] for m in r.json()]


def member_ids(api, token, ch):
    r = api.get("/api/channels/%d/members" % ch, token=token)
    assert r.status_code == 200, r.text
    return sorted(m["user"]["id"] for m in r.json()["members"])


def typing_rows(db, ch):
    return sql(db, "SELECT count(*) FROM events WHERE type = 'typing' AND channel_id = ?",
               (ch,))[0][0]


def first_frame_or_close(conn, timeout=5.0):
    """('close', code, reason) or ('text', parsed JSON): the first frame."""
    conn.settimeout(timeout)
    frame = conn.recv_frame()
    if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
        code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
        return ("close", code, frame.data[2:].decode("utf-8", "replace"))
    return ("text", json.loads(frame.data))


def until_close(conn, timeout=10.0):
    """Reads until the server's close frame: (close code or None, the JSON
    data frames read before it)."""
    frames = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            frame = conn.recv_frame()
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return None, frames
        if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
            return code, frames
        if frame.opcode == websocket.ABNF.OPCODE_TEXT:
            frames.append(json.loads(frame.data))
    raise AssertionError("socket not closed within %.1f s" % timeout)


def answers(frames, content=None):
    """The frames a post (of `content`) or typing frame caused: an ack or
    error reply, its message.created or typing event."""
    return [f for f in frames if f.get("type") in ("ack", "error", "typing") or (
        f.get("type") == "message.created" and f["message"]["content"] == content)]


def logout(api, token):
    r = api.post("/api/auth/logout", None, token=token, data=b"")
    assert r.status_code == 204, r.text


# ------------------------------------------------- 6. revocation on open connections

@needs_wsd
@pytest.mark.parametrize("how", ["logout", "password_change"])
def test_post_frame_after_session_end_stores_nothing_and_closes_4001(srv, capi, how):
    a, b = make_user(capi, "rv"), make_user(capi, "rv")
    ch = public_room(capi, b, a)
    token, _sid = new_session(capi, a)
    ws = WS(srv.ws + "?ticket=" + ticket(capi, token))
    try:
        # control: this socket may post while its session lives
        ws.send({"channel_id": ch, "content": "while live", "client_msg_id": "rv-live"})
        ack = ws.wait_for(lambda f: f.get("type") in ("ack", "error"))
        assert ack["type"] == "ack", ack
        if how == "logout":
            logout(capi, token)
        else:
            # a.token is another session: it changes the password, which
            # revokes every other session, this socket's among them
            r = capi.request("PUT", "/api/users/me/password", token=a.token,
                             json_body={"old_password": PASSWORD,
                                        "new_password": PASSWORD + " 2"})
            assert r.status_code == 204, r.text
        t0 = time.monotonic()
        ws.send({"channel_id": ch, "content": "after the session ended",
                 "client_msg_id": "rv-dead"})
        ws.send({"type": "typing", "channel_id": ch})
        code, frames = until_close(ws.conn)
        # nothing answered (no ack, no error, no event of those frames),
        # and at once, not at the next periodic check (every 5 s)
        assert code == 4001 and not answers(frames, "after the session ended"), (
            code, frames)
        assert time.monotonic() - t0 < 2.5
    finally:
        ws.close()
    assert contents(capi, b.token, ch) == ["while live"]
    assert typing_rows(srv.db, ch) == 0


@needs_wsd
def test_typing_frame_after_logout_writes_nothing_and_closes_4001(srv, capi):
    a, b = make_user(capi, "rt"), make_user(capi, "rt")
    ch = public_room(capi, b, a)
    token, _sid = new_session(capi, a)
    ws = WS(srv.ws + "?ticket=" + ticket(capi, token))
    try:
        logout(capi, token)
        ws.send({"type": "typing", "channel_id": ch})
        code, frames = until_close(ws.conn)
        assert code == 4001 and not answers(frames), (code, frames)
    finally:
        ws.close()
    assert typing_rows(srv.db, ch) == 0


@needs_wsd
def test_deleted_account_cannot_post_or_rejoin_over_its_socket(srv, capi):
    d, b = make_user(capi, "rd"), make_user(capi, "rd")
    ch = public_room(capi, b, d)
    ws = WS(srv.ws + "?ticket=" + ticket(capi, d.token))
    try:
        r = capi.request("DELETE", "/api/users/me", token=d.token,
                         json_body={"password": PASSWORD})
        assert r.status_code == 204, r.text
        assert member_ids(capi, b.token, ch) == [b.id]   # the erasure left the room
        ws.send({"channel_id": ch, "content": "posted by a deleted account",
                 "client_msg_id": "rd-1"})
        code, frames = until_close(ws.conn)
        assert code == 4001 and not answers(frames, "posted by a deleted account"), (
            code, frames)
    finally:
        ws.close()
    assert contents(capi, b.token, ch) == []
    assert member_ids(capi, b.token, ch) == [b.id]   # not rejoined by posting


def test_long_poll_whose_session_ended_answers_401_not_events(srv, capi):
    a, b = make_user(capi, "lp"), make_user(capi, "lp")
    ch = public_room(capi, b, a)
    token, _sid = new_session(capi, a)
    head = capi.get("/api/events", token=token, params={"timeout": 0}).json()["last_event_id"]
    out = {}

    def poll():
        out["r"] = Api(srv.base).get("/api/events", token=token,
                                     params={"since": head, "timeout": 20}, timeout=30)

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.5)                      # the poll is waiting
    logout(capi, token)
    t0 = time.monotonic()
    capi.send(b.token, ch, "an event the ended session must not get")
    th.join(timeout=25)
    assert not th.is_alive()
    assert time.monotonic() - t0 < 5, "the poll kept waiting"
    assert_error(out["r"], 401, "unauthorized")
    # control: a live session's poll since the same point gets that message
    r = capi.get("/api/events", token=a.token, params={"since": head, "timeout": 5})
    assert r.status_code == 200, r.text
    assert [e["message"]["content"] for e in r.json()["events"]
            if e["type"] == "message.created"] == ["an event the ended session must not get"]


# ------------------------------------------------- 7. per-user caps

def start_poll(base, token, since, timeout, results, key):
    def run():
        try:
            results[key] = Api(base).get("/api/events", token=token,
                                         params={"since": since, "timeout": timeout},
                                         timeout=timeout + 15)
        except requests.RequestException as e:
            results[key] = e

    th = threading.Thread(target=run)
    th.start()
    return th


def test_one_user_cannot_hold_every_long_poll_process(srv, capi):
    u, v = make_user(capi, "pc"), make_user(capi, "pc")
    ch = public_room(capi, u)
    head = capi.get("/api/events", token=u.token, params={"timeout": 0}).json()["last_event_id"]
    results = {}
    held = [start_poll(srv.base, u.token, head, 30, results, i) for i in range(POLL_CAP)]
    try:
        time.sleep(1.0)                  # both are waiting
        assert not results, results
        # one more of the same user: refused at once
        t0 = time.monotonic()
        try:
            r = capi.get("/api/events", token=u.token,
                         params={"since": head, "timeout": 30}, timeout=5)
        except requests.exceptions.Timeout:
            pytest.fail("the extra long poll of one user waited behind its own polls")
        assert time.monotonic() - t0 < 2
        assert_error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1
        # a poll that does not wait needs no slot: timeout=0 still answers
        r = capi.get("/api/events", token=u.token, params={"timeout": 0}, timeout=5)
        assert r.status_code == 200, r.text
        # another user's waiting poll is answered promptly (after its timeout)
        t0 = time.monotonic()
        r = capi.get("/api/events", token=v.token, params={"since": head, "timeout": 1},
                     timeout=5)
        assert r.status_code == 200, r.text
        assert time.monotonic() - t0 < 3
    finally:
        capi.send(u.token, ch, "ends the held polls")
        for th in held:
            th.join(timeout=30)
    for i in range(POLL_CAP):
        assert results[i].status_code == 200, results[i]
    # the slots came back: a waiting poll of u is allowed again
    r = capi.get("/api/events", token=u.token, params={"timeout": 1}, timeout=10)
    assert r.status_code == 200, r.text


def _events_pids(srv):
    return [pid for pid, cmd in srv.processes().items()
            if cmd and os.path.basename(cmd.split()[0]) == "parley-events"]


@pytest.mark.skipif(FRONTEND != "lighttpd",
                    reason="kills every parley-events process: needs lighttpd to start new ones")
def test_kill_9_of_a_waiting_poll_frees_its_slot(srv, capi):
    u = make_user(capi, "pk")
    head = capi.get("/api/events", token=u.token, params={"timeout": 0}).json()["last_event_id"]
    results = {}
    held = [start_poll(srv.base, u.token, head, 30, results, i) for i in range(POLL_CAP)]
    time.sleep(1.0)
    r = capi.get("/api/events", token=u.token, params={"since": head, "timeout": 30}, timeout=5)
    assert_error(r, 429, "rate_limited")
    pids = _events_pids(srv)
    assert len(pids) >= POLL_CAP, srv.processes()
    for pid in pids:                     # the web server starts new ones
        os.kill(pid, signal.SIGKILL)
    for th in held:
        th.join(timeout=30)
    # nobody gave the slots back: the kernel did, when the holders died
    deadline = time.monotonic() + 15
    while True:
        r = capi.get("/api/events", token=u.token, params={"since": head, "timeout": 1},
                     timeout=10)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        assert r.status_code in (500, 502, 503), (r.status_code, r.text)
        time.sleep(0.2)
    assert r.status_code == 200, r.text


@needs_wsd
def test_socket_cap_per_user_closes_the_next_with_4008(srv, capi, socks):
    s, other = make_user(capi, "sc"), make_user(capi, "sc")
    for _ in range(SOCKET_CAP):
        ws = open_ws(srv.ws_url(s.token), socks)
        assert ws.hello["type"] == "hello"
    extra = websocket.create_connection(srv.ws_url(s.token), timeout=5)   # 101
    try:
        kind = first_frame_or_close(extra)
        assert kind[0] == "close", "the socket over the cap was served: %r" % (kind,)
        assert kind[1] == 4008, kind
        assert "too many" in kind[2], kind
    finally:
        extra.close()
    # another user is not affected
    w = open_ws(srv.ws_url(other.token), socks)
    assert w.hello["type"] == "hello"
    # the sockets under the cap still work
    socks[0].send({"type": "ping"})
    socks[0].wait_for(lambda f: f.get("type") == "pong")
    # closing one makes room for a new one
    socks[0].close()
    deadline = time.monotonic() + 5
    while True:
        conn = websocket.create_connection(srv.ws_url(s.token), timeout=5)
        kind = first_frame_or_close(conn)
        if kind[0] == "text" or time.monotonic() > deadline:
            break
        conn.close()
        time.sleep(0.1)
    try:
        assert kind[0] == "text" and kind[1]["type"] == "hello", kind
    finally:
        conn.close()


# ------------------------------------------------- 7. the settings

@needs_wsd
def test_caps_are_configurable(capi, socks):
    with start_server(extra_conf=CONF + "poll_user_limit = 1\nws_user_limit = 2\n") as s2:
        api2 = Api(s2.base)
        u = make_user(api2, "cf")
        head = api2.get("/api/events", token=u.token,
                        params={"timeout": 0}).json()["last_event_id"]
        results = {}
        th = start_poll(s2.base, u.token, head, 2, results, 0)
        time.sleep(0.7)
        r = api2.get("/api/events", token=u.token, params={"since": head, "timeout": 2},
                     timeout=5)
        assert_error(r, 429, "rate_limited")
        th.join(timeout=10)
        assert results[0].status_code == 200
        for _ in range(2):
            assert open_ws(s2.ws_url(u.token), socks).hello["type"] == "hello"
        conn = websocket.create_connection(s2.ws_url(u.token), timeout=5)
        try:
            assert first_frame_or_close(conn)[:2] == ("close", 4008)
        finally:
            conn.close()
        for w in socks:
            w.close()
        socks.clear()
        # 0 = no cap (a daemon of its own, set through the environment)
        d = Daemon(s2, env_extra={"PARLEY_WS_USER_LIMIT": "0"}).start()
        try:
            for _ in range(4):
                assert open_ws(d.url(u.token), socks).hello["type"] == "hello"
        finally:
            for w in socks:
                w.close()
            socks.clear()
            d.stop()


# ------------------------------------------------- 9. Origin: scheme, host and port

@needs_wsd
def test_same_origin_compares_scheme_host_and_port(srv, capi):
    u = make_user(capi, "or")
    url = srv.ws_url(u.token)
    here = "127.0.0.1:%d" % srv.port
    # the right host:port with another scheme
    assert upgrade_status(url, origin="https://" + here) == 403
    assert upgrade_status(url, origin="x://" + here) == 403
    assert upgrade_status(url, origin="ws://" + here) == 403
    assert upgrade_status(url, origin="://" + here) == 403
    assert upgrade_status(url, origin=here) == 403
    # other host or port, or not an origin at all
    assert upgrade_status(url, origin="http://127.0.0.1") == 403           # port 80
    assert upgrade_status(url, origin="http://127.0.0.1:%d" % (srv.port + 1)) == 403
    assert upgrade_status(url, origin="http://" + here + "/") == 403
    assert upgrade_status(url, origin="http://" + here + "/ws") == 403
    assert upgrade_status(url, origin="http://user@" + here) == 403
    assert upgrade_status(url, origin="http://localhost:%d" % srv.port) == 403
    assert upgrade_status(url, origin="null") == 403
    # the client cannot claim https through lighttpd: it sets
    # X-Forwarded-Proto itself (http here)
    assert upgrade_status(url, origin="https://" + here,
                          header=["X-Forwarded-Proto: https"]) == 403
    # the right origin, as browsers send it and in other spellings of it
    assert upgrade_status(url, origin="http://" + here) == 101
    assert upgrade_status(url, origin="HTTP://" + here) == 101
    assert upgrade_status(url, suppress_origin=True) == 101
    # a Host without a port means the scheme's default port
    assert upgrade_status(url, host="chat.example", origin="http://chat.example") == 101
    assert upgrade_status(url, host="chat.example", origin="http://Chat.Example:80") == 101
    assert upgrade_status(url, host="chat.example", origin="https://chat.example") == 403
    assert upgrade_status(url, host="chat.example:80", origin="http://chat.example") == 101


@needs_wsd
def test_origin_behind_a_tls_proxy_and_the_allow_list(srv, capi):
    u = make_user(capi, "ot")
    # no allow-list: the scheme is the proxy's X-Forwarded-Proto (a daemon
    # reached directly, as from a TLS-terminating proxy)
    d = Daemon(srv).start()
    try:
        url = d.url(u.token)
        tls = ["X-Forwarded-Proto: https"]
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="https://chat.example") == 101
        assert upgrade_status(url, host="chat.example:443", header=tls,
                              origin="https://chat.example") == 101
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="https://chat.example:443") == 101
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="http://chat.example") == 403
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="https://chat.example:8443") == 403
        assert upgrade_status(url, host="chat.example",
                              origin="https://chat.example") == 403     # no header: http
        assert upgrade_status(url, host="chat.example", header=["X-Forwarded-Proto: gopher"],
                              origin="gopher://chat.example") == 403
    finally:
        d.stop()
    # an allow-list: each entry's scheme, host and port
    d = Daemon(srv, env_extra={
        "PARLEY_WS_ORIGINS": "https://chat.example, http://chat.example:8080"}).start()
    try:
        url = d.url(u.token)
        for origin, want in (("https://chat.example", 101),
                             ("HTTPS://Chat.Example", 101),
                             ("https://chat.example:443", 101),
                             ("http://chat.example:8080", 101),
                             ("http://chat.example", 403),
                             ("https://chat.example:8080", 403),
                             ("https://chat.example:8443", 403),
                             ("wss://chat.example", 403),
                             ("x://chat.example", 403),
                             ("https://chat.example.evil", 403),
                             ("https://chat.example/", 403),
                             ("null", 403)):
            assert upgrade_status(url, origin=origin) == want, origin
    finally:
        d.stop()
