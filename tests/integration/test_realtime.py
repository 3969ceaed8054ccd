"""Real time, complete (issue 5): tickets, Origin, revocation (4001),
protocol hygiene (1007, 1009), typing, resync_required, presence
transitions and expiry, several daemons on one database, resume across a
daemon crash, slow consumers, and the long-poll fallback.

One dedicated server for the module: generous registration limit (20+
users), a 5 s presence window and a 2 s stall timeout keep it fast (the
slow-consumer test runs a daemon of its own with a long stall timeout).
"""

import json
import os
import socket
import threading
import time

import pytest
import websocket

from conftest import start_server
from helpers import WS, Api, jwt_parts, make_user, unique_channel
from rt_util import Daemon, events_of, sql, ticket, upgrade_status, wait_close

CONF = ("register_addr_limit = 100000\nlogin_addr_limit = 100000\n"
        "presence_window = 5\nws_stall_timeout = 2\n")


@pytest.fixture(scope="module")
def rt():
    with start_server(extra_conf=CONF) as srv:
        yield srv


@pytest.fixture(scope="module")
def rapi(rt):
    return Api(rt.base)


@pytest.fixture(scope="module")
def users(rapi):
    return [make_user(rapi, "rt") for _ in range(6)]


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


def room_with(rapi, owner, members, kind="public"):
    ch = rapi.create_channel(owner.token, unique_channel("rt"), kind=kind,
                             **({"members": [m.id for m in members]} if kind == "private" else {}))
    if kind == "public":
        for m in members:
            r = rapi.post("/api/channels/%d/join" % ch["id"], token=m.token)
            assert r.status_code in (200, 201, 204), r.text
    return ch["id"]


def created(mid):
    return lambda f: f.get("type") == "message.created" and f["message"]["id"] == mid


# ---------------------------------------------------------------- tickets, origin

def test_ticket_opens_socket_once(rt, rapi, users, socks):
    a = users[0]
    t = ticket(rapi, a.token)
    ws = open_ws(rt.ws + "?ticket=" + t, socks)
    assert ws.hello["type"] == "hello" and ws.hello["user_id"] == a.id
    assert upgrade_status(rt.ws + "?ticket=" + t) == 401          # reused
    assert upgrade_status(rt.ws + "?ticket=" + t[:-2] + "xx") == 401  # forged
    assert upgrade_status(rt.ws + "?ticket=") == 401


def test_expired_ticket_is_refused(rt, rapi, users):
    a = users[0]
    t = ticket(rapi, a.token)
    sql(rt.db, "UPDATE ws_tickets SET expires_at = 1 WHERE user_id = ?", (a.id,))
    assert upgrade_status(rt.ws + "?ticket=" + t) == 401


def test_tokens_and_tickets_stay_out_of_the_access_log(rt, rapi, users, socks):
    a = users[0]
    path = os.path.join(rt.var, "log", "access.log")

    def read_log():
        with open(path) as f:
            return f.read()

    before = read_log().count("GET /ws")
    t = ticket(rapi, a.token)
    for url in (rt.ws + "?ticket=" + t, rt.ws_url(a.token)):
        WS(url).close()               # lighttpd logs a request when it ends
    # wait until both of these requests are in the log
    deadline = time.monotonic() + 10
    log = read_log()
    while log.count("GET /ws") < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        log = read_log()
    assert log.count("GET /ws") >= before + 2, log[-2000:]
    assert t not in log and a.token not in log and "ticket=" not in log


def test_origin_outside_the_allow_list_is_403(rt, users, socks):
    a = users[0]
    url = rt.ws_url(a.token)
    assert upgrade_status(url, origin="http://evil.example") == 403
    assert upgrade_status(url, origin="null") == 403
    # same origin (websocket-client's default Origin) and no Origin at all pass
    assert upgrade_status(url) == 101
    assert upgrade_status(url, suppress_origin=True) == 101


# ---------------------------------------------------------------- protocol hygiene

def test_revoked_session_closes_socket_with_4001(rt, rapi, users):
    a = users[1]
    token = rapi.login(a.username)
    sid = jwt_parts(token)[1]["sid"]
    other = WS(rt.ws_url(a.token))        # another session of the same user
    ws = WS(rt.ws_url(token))
    try:
        sql(rt.db, "UPDATE sessions SET revoked_at = ? WHERE id = ?",
            (int(time.time() * 1000), sid))
        assert wait_close(ws.conn, timeout=15) == 4001
        other.send({"type": "ping"})
        other.wait_for(lambda f: f.get("type") == "pong", what="pong on the live session")
    finally:
        ws.close()
        other.close()


def test_invalid_utf8_closes_with_1007(rt, users):
    ws = WS(rt.ws_url(users[0].token))
    try:
        ws.conn.send(b'{"type":"ping","x":"\xff\xfe"}', opcode=websocket.ABNF.OPCODE_TEXT)
        assert wait_close(ws.conn) == 1007
    finally:
        ws.close()


def test_oversized_message_closes_with_1009(rt, users):
    ws = WS(rt.ws_url(users[0].token))
    try:
        ws.conn.send(json.dumps({"type": "ping", "pad": "x" * 70000}))
        assert wait_close(ws.conn) == 1009
    finally:
        ws.close()


# ---------------------------------------------------------------- typing, resync

def test_typing_is_delivered_live_and_never_replayed(rt, rapi, users, socks):
    a, b, c = users[0], users[1], users[2]
    room = room_with(rapi, a, [b], kind="private")
    wb = open_ws(rt.ws_url(b.token), socks)
    wc = open_ws(rt.ws_url(c.token), socks)
    since = wb.hello["last_event_id"]
    wa = open_ws(rt.ws_url(a.token), socks)
    wa.send({"type": "typing", "channel_id": room})
    t = wb.wait_for(lambda f: f.get("type") == "typing", what="typing")
    assert t["user_id"] == a.id and t["channel_id"] == room
    # carol is no member: she gets an error for typing there, and no event
    wc.send({"type": "typing", "channel_id": room})
    err = wc.wait_for(lambda f: f.get("type") == "error", what="typing error")
    assert err["error"]["code"] == "not_found"
    m = rapi.send(a.token, room, "after typing")
    wb.wait_for(created(m["id"]))
    # b heard a's typing only, once
    assert [(f["user_id"], f["channel_id"]) for f in wb.frames if f.get("type") == "typing"] \
        == [(a.id, room)]
    # resume from before the typing: the message comes again, the typing not
    again = open_ws(rt.ws_url(b.token, since=since), socks)
    again.wait_for(created(m["id"]), what="replayed message")
    assert not [f for f in again.frames if f.get("type") == "typing"]
    # carol: a public channel.created (to everyone) committed after the
    # typing reaches her in order, then a pong: every frame before was read
    marker = rapi.create_channel(a.token, unique_channel("rt"))
    wc.wait_for(lambda f: f.get("type") == "channel.created" and f["channel"]["id"] == marker["id"],
                what="channel.created after the typing")
    wc.send({"type": "ping"})
    wc.wait_for(lambda f: f.get("type") == "pong", what="pong")
    assert not [f for f in wc.frames if f.get("type") == "typing"]
    wa.send({"type": "typing"})
    assert wa.wait_for(lambda f: f.get("type") == "error")["error"]["code"] == "bad_request"


def test_since_older_than_retention_gets_resync_required(rt, rapi, users, socks):
    a = users[0]
    room = room_with(rapi, a, [])
    first = rapi.send(a.token, room, "soon pruned")
    second = rapi.send(a.token, room, "kept")
    w0 = open_ws(rt.ws_url(a.token), socks)
    last = w0.hello["last_event_id"]
    # what the daemon's retention prune does, for everything before `second`
    rows = sql(rt.db, "SELECT id, payload FROM events WHERE type = 'message.created' "
               "ORDER BY id")
    keep_from = min(i for i, p in rows if json.loads(p)["message"]["id"] == second["id"])
    assert keep_from
    sql(rt.db, "DELETE FROM events WHERE id < ?", (keep_from,))
    ws = open_ws(rt.ws_url(a.token, since=1), socks)
    f = ws.recv()
    assert f == {"type": "resync_required"}
    # a since inside the retained history replays normally
    ok = open_ws(rt.ws_url(a.token, since=keep_from - 1), socks)
    ok.wait_for(created(second["id"]), what="retained event")
    assert not [x for x in ok.frames if x.get("type") == "resync_required"]
    assert first["id"] < second["id"] and last >= keep_from
    # the replay starts at the first retained event: the pruned `first` is
    # not replayed (it would have come before `second`)
    assert [f["message"]["id"] for f in events_of(ok.frames, "message.created")] == [second["id"]]
    assert events_of(ok.frames)[0]["event_id"] == keep_from
    # the boundary: one further back, event keep_from - 1 is gone
    ws = open_ws(rt.ws_url(a.token, since=keep_from - 2), socks)
    assert ws.recv() == {"type": "resync_required"}
    # the long poll says the same
    r = rapi.get("/api/events", token=a.token, params={"since": 1, "timeout": 0})
    assert r.status_code == 200, r.text
    assert r.json()["events"] == [{"type": "resync_required"}]


# ---------------------------------------------------------------- presence

PRESENCE_WINDOW = 5  # CONF


def presence_of(frames, uid):
    return [f for f in frames if f.get("type") == "presence" and f.get("user_id") == uid
            and "channel_id" not in f]


def any_presence_of(frames, uid):
    """Every presence frame of `uid`, channel-scoped or not."""
    return [f for f in frames if f.get("type") == "presence" and f.get("user_id") == uid]


def online_ids(rapi, token):
    r = rapi.get("/api/presence", token=token)
    assert r.status_code == 200, r.text
    return [u["user_id"] for u in r.json()["online_users"]]


def cut(w):
    """Ends a socket without a close frame."""
    w.conn.sock.shutdown(socket.SHUT_RDWR)
    w.conn.sock.close()


def test_presence_transitions_and_expiry(rt, rapi, socks):
    p, q, h = make_user(rapi, "pp"), make_user(rapi, "pq"), make_user(rapi, "ph")
    room_with(rapi, q, [p, h], kind="private")
    wq = open_ws(rt.ws_url(q.token), socks)
    # two sockets of p count once
    p1 = WS(rt.ws_url(p.token))
    p2 = open_ws(rt.ws_url(p.token), socks)
    wq.wait_for(lambda f: presence_of([f], p.id) and f["online"], what="p online")
    for _ in range(2):
        assert rapi.post("/api/presence/heartbeat", {}, token=p.token).status_code == 204
    assert p.id in online_ids(rapi, q.token)
    # p loses one socket (cut, no close frame): the other keeps p online
    cut(p1)
    p2.send({"type": "ping"})
    p2.wait_for(lambda f: f.get("type") == "pong", what="pong on p's other socket")
    # h has no socket at all: a heartbeat alone makes h online, for the window
    t_hb = time.monotonic()
    assert rapi.post("/api/presence/heartbeat", {}, token=h.token).status_code == 204
    listed = online_ids(rapi, q.token)
    if time.monotonic() - t_hb < PRESENCE_WINDOW - 1:
        assert h.id in listed
    wq.wait_for(lambda f: presence_of([f], h.id) and f["online"], what="h online by heartbeat")
    off_h = wq.wait_for(lambda f: presence_of([f], h.id) and not f["online"], timeout=20,
                        what="h offline after the window")
    assert time.monotonic() - t_hb >= PRESENCE_WINDOW - 1, "h went offline before the window"
    assert off_h["status"] == "offline" and h.id not in online_ids(rapi, q.token)
    # that sweep ran a window after h's heartbeat, so after p's heartbeats and
    # after p1 was cut: p is online only because p2 still is
    wq.send({"type": "ping"})
    wq.wait_for(lambda f: f.get("type") == "pong", what="pong on the watcher")
    assert [f["online"] for f in presence_of(wq.frames, p.id)] == [True]
    assert p.id in online_ids(rapi, q.token)
    # now the last one goes too
    cut(p2)
    off = wq.wait_for(lambda f: presence_of([f], p.id) and not f["online"], timeout=20,
                      what="p offline after the window")
    assert off["status"] == "offline"
    ups = presence_of(wq.frames, p.id)
    assert [f["online"] for f in ups] == [True, False], ups
    assert p.id not in online_ids(rapi, q.token)
    # a stranger never hears of p
    s = make_user(rapi, "ps")
    ws_s = open_ws(rt.ws_url(s.token), socks)
    WS(rt.ws_url(p.token)).close()
    wq.wait_for(lambda f: presence_of([f], p.id) and f["online"], what="p online again")
    # a public channel.created (to everyone) committed after p's presence
    # reaches s in order, then a pong: s has read all it would get
    marker = rapi.create_channel(q.token, unique_channel("rt"))
    ws_s.wait_for(lambda f: f.get("type") == "channel.created" and f["channel"]["id"] == marker["id"],
                  what="channel.created on the stranger's socket")
    ws_s.send({"type": "ping"})
    ws_s.wait_for(lambda f: f.get("type") == "pong")
    assert not any_presence_of(ws_s.frames, p.id)


# ---------------------------------------------------------------- two daemons, crash, resume

def test_second_daemon_delivers_and_resumes_after_kill9(rt, rapi, users, socks):
    a, b = users[3], users[4]
    room = room_with(rapi, a, [b], kind="private")
    d = Daemon(rt)
    # its own Origin allow-list (comma or space separated)
    d.env["PARLEY_WS_ORIGINS"] = "https://chat.example, http://127.0.0.1:%d" % d.port
    d.start()
    try:
        assert upgrade_status(d.url(b.token), origin="https://evil.example") == 403
        assert upgrade_status(d.url(b.token), origin="https://chat.example") == 101
        assert upgrade_status(d.url(b.token), origin="https://chat.example.evil") == 403
        main = open_ws(rt.ws_url(b.token), socks)
        side = open_ws(d.url(b.token), socks, )
        m1 = rapi.send(a.token, room, "to both daemons")
        # a post over the second daemon's socket reaches the main one too
        wa = open_ws(d.url(a.token), socks)
        wa.send({"channel_id": room, "content": "posted via daemon 2", "client_msg_id": "d2-1"})
        ack = wa.wait_for(lambda f: f.get("type") in ("ack", "error"))
        assert ack["type"] == "ack", ack
        m2 = ack["message"]
        for ws in (main, side):
            ws.wait_for(created(m1["id"]))
            ws.wait_for(created(m2["id"]))
        seen = max(f["event_id"] for f in side.frames if "event_id" in f)
        d.kill9()
        missed = [rapi.send(a.token, room, "while down %d" % i)["id"] for i in range(5)]
        d.start()
        again = open_ws(d.url(b.token, since=seen), socks)
        again.wait_for(created(missed[-1]), what="last message posted while down")
        got = [f["message"]["id"] for f in events_of(again.frames, "message.created")]
        assert got == missed, got
        ids = [f["event_id"] for f in events_of(again.frames)]
        assert ids == sorted(set(ids)) and ids[0] > seen
        live = rapi.send(a.token, room, "after restart")
        again.wait_for(created(live["id"]))
        main.wait_for(created(live["id"]))
    finally:
        d.stop()


def test_crashed_daemon_does_not_leave_users_online(rt, rapi, socks):
    p, q = make_user(rapi, "cp"), make_user(rapi, "cq")
    room_with(rapi, q, [p], kind="private")
    wq = open_ws(rt.ws_url(q.token), socks)
    d = Daemon(rt).start()
    try:
        wp = WS(d.url(p.token))
        wq.wait_for(lambda f: presence_of([f], p.id) and f["online"], what="p online")
        d.kill9()
        wp.close()
        wq.wait_for(lambda f: presence_of([f], p.id) and not f["online"], timeout=20,
                    what="p offline after its daemon died")
        assert [f["online"] for f in presence_of(wq.frames, p.id)] == [True, False]
    finally:
        d.stop()


# ---------------------------------------------------------------- slow consumer

STALL_TIMEOUT = 10  # s: the slow-consumer test's own daemon


def test_slow_consumer_is_dropped_and_blocks_no_one(rt, rapi, users, socks):
    a, b = users[0], users[5]
    room = room_with(rapi, a, [b])
    # A daemon of its own with a long stall timeout: one that waited for the
    # stalled socket would hold the others back until it drops it, i.e. for
    # STALL_TIMEOUT s; a healthy one delivers to them at once.
    # Straight to the daemon: lighttpd in between adds its own buffers
    # (bounded by the kernel's socket buffer limits, i.e. megabytes), which
    # only delays the drop; tests/integration/test_websocket.py checks that
    # a stalled client behind lighttpd blocks no one.
    d = Daemon(rt, env_extra={"PARLEY_WS_STALL_TIMEOUT": str(STALL_TIMEOUT)}).start()
    stalled = websocket.create_connection(
        d.url(b.token), timeout=5, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    try:
        reader = open_ws(d.url(a.token), socks)
        arrived, stop = {}, threading.Event()

        def read_all():  # arrival time of each message on the reader
            while not stop.is_set():
                try:
                    f = reader.recv(timeout=0.5)
                except AssertionError:
                    continue
                if f.get("type") == "message.created":
                    arrived[f["message"]["id"]] = time.monotonic()

        th = threading.Thread(target=read_all, daemon=True)
        th.start()
        big = "s" * 3900
        posted = {}
        for i in range(120):
            mid = rapi.send(a.token, room, "%03d %s" % (i, big))["id"]
            posted[mid] = time.monotonic()
        last = max(posted)
        deadline = time.monotonic() + 30
        while last not in arrived and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        th.join(timeout=5)
        assert not th.is_alive()
        got = [f["message"]["id"] for f in events_of(reader.frames, "message.created")]
        assert got == sorted(posted), "missing %s" % sorted(set(posted) - set(got))
        late = {mid: round(arrived[mid] - t, 2) for mid, t in posted.items()
                if arrived[mid] - t >= STALL_TIMEOUT / 2}
        assert not late, "the stalled socket held the reader back (s late): %r" % late
        # the stalled socket is dropped (without reading it: any read is progress)
        wsd_log = d.log_path
        needle = "dropping socket of user %d" % b.id
        deadline = time.monotonic() + STALL_TIMEOUT + 20
        while time.monotonic() < deadline:
            with open(wsd_log) as f:
                if needle in f.read():
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the socket that did not read was not dropped\n" + d.log())
        # and reading it now ends in a closed connection, not an endless stream
        deadline = time.monotonic() + 20
        closed = False
        while time.monotonic() < deadline and not closed:
            stalled.settimeout(2)
            try:
                op, _ = stalled.recv_data(control_frame=True)
                closed = op == websocket.ABNF.OPCODE_CLOSE
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
                closed = True
        assert closed
    finally:
        stalled.close()
        d.stop()


# ---------------------------------------------------------------- long poll

def test_long_poll(rt, rapi, users):
    a, b, c = users[0], users[1], users[2]
    room = room_with(rapi, a, [b], kind="private")
    r = rapi.get("/api/events", token=b.token, params={"timeout": 0})
    assert r.status_code == 200, r.text
    head = r.json()["last_event_id"]
    assert r.json()["events"] == []
    m = rapi.send(a.token, room, "for the long poll")
    t0 = time.monotonic()
    r = rapi.get("/api/events", token=b.token, params={"since": head, "timeout": 20})
    assert time.monotonic() - t0 < 10, "pending events must return at once"
    body = r.json()
    assert created(m["id"])(events_of(body["events"], "message.created")[0])
    ids = [e["event_id"] for e in body["events"]]
    assert ids == sorted(set(ids)) and ids[0] > head
    assert body["last_event_id"] == ids[-1]
    # carol may not see the private channel: nothing of it for her (m was
    # posted in it since head), after the timeout
    t0 = time.monotonic()
    r = rapi.get("/api/events", token=c.token, params={"since": head, "timeout": 1})
    assert r.status_code == 200

    def of_room(e):
        return room in (e.get("channel_id"), (e.get("channel") or {}).get("id"),
                        (e.get("message") or {}).get("channel_id"))

    assert [e for e in r.json()["events"] if of_room(e)] == []
    assert [e for e in body["events"] if of_room(e)], "control: b's poll had events of the room"
    assert time.monotonic() - t0 >= 0.9
    # a waiting poll returns as soon as something visible commits
    out = {}

    def poll():
        out["r"] = rapi.get("/api/events", token=b.token,
                            params={"since": body["last_event_id"], "timeout": 30})

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.3)
    m2 = rapi.send(a.token, room, "wake the poll")
    th.join(timeout=20)
    assert not th.is_alive()
    got = events_of(out["r"].json()["events"], "message.created")
    assert [e["message"]["id"] for e in got] == [m2["id"]]
    # bad input
    assert rapi.get("/api/events", params={"timeout": 0}).status_code == 401
    for bad in ({"since": "x"}, {"since": "-1"}, {"timeout": 61}, {"timeout": "x"}):
        r = rapi.get("/api/events", token=b.token, params=dict(bad))
        assert r.status_code == 400, (bad, r.status_code, r.text)
        assert r.json()["error"]["code"] == "bad_request"


# ---------------------------------------------------------------- many sockets

def make_dm(rapi, a, b):
    r = rapi.post("/api/channels/dm", {"user_ids": [b.id]}, token=a.token)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "dm" and body["member_count"] == 2, body
    return body["id"]


def test_many_sockets_each_get_exactly_what_they_may_see(rt, rapi, socks):
    n_users, per_user = 20, 10
    us = [make_user(rapi, "fan") for _ in range(n_users)]
    everyone = room_with(rapi, us[0], us[1:])                       # public, all 20
    pub = room_with(rapi, us[1], us[2:10])                          # public, users 1-9
    priv1 = room_with(rapi, us[5], us[6:15], kind="private")        # users 5-14
    priv2 = room_with(rapi, us[15], us[16:20] + [us[0]], kind="private")  # 15-19 and 0
    dm1, dm2 = make_dm(rapi, us[1], us[2]), make_dm(rapi, us[3], us[17])
    members = {everyone: set(range(20)), pub: set(range(1, 10)), priv1: set(range(5, 15)),
               priv2: set(range(15, 20)) | {0}, dm1: {1, 2}, dm2: {3, 17}}
    sockets = []                                   # (user index, WS)
    for i, u in enumerate(us):
        for _ in range(per_user):
            sockets.append((i, open_ws(rt.ws_url(u.token), socks)))
    # 4 concurrent posters, 2 over REST and 2 over their own WS, each posting
    # in every channel its user belongs to
    plan = [(1, "rest"), (5, "rest"), (17, "ws"), (2, "ws")]
    posted, errors = [], []
    lock = threading.Lock()

    def poster(ui, how):
        u = us[ui]
        chans = [c for c, m in members.items() if ui in m]
        try:
            ws = WS(rt.ws_url(u.token)) if how == "ws" else None
            for k in range(6):
                for c in chans:
                    text = "%s %d %d %d" % (how, ui, c, k)
                    if ws:
                        cmid = "m-%d-%d-%d" % (ui, c, k)
                        ws.send({"channel_id": c, "content": text, "client_msg_id": cmid})
                        ack = ws.wait_for(lambda f: f.get("client_msg_id") == cmid, timeout=15)
                        assert ack["type"] == "ack", ack
                        m = ack["message"]
                    else:
                        m = Api(rt.base).send(u.token, c, text)
                    with lock:
                        posted.append((m["id"], c))
            if ws:
                ws.close()
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=poster, args=p) for p in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not [t for t in threads if t.is_alive()], "a poster is still running"
    assert not errors, errors
    sentinel = rapi.send(us[0].token, everyone, "sentinel")["id"]
    for i, ws in sockets:
        ws.wait_for(created(sentinel), timeout=20, what="sentinel on a socket of user %d" % i)
        got = [f["message"]["id"] for f in events_of(ws.frames, "message.created")]
        want = sorted(mid for mid, c in posted if i in members[c]) + [sentinel]
        assert got == want, "user %d: missing %s, extra %s" % (
            i, sorted(set(want) - set(got)), sorted(set(got) - set(want)))
        ids = [f["event_id"] for f in events_of(ws.frames)]
        assert ids == sorted(set(ids)), "user %d: event ids out of order or repeated" % i
        for f in events_of(ws.frames):
            c = f.get("channel_id")
            if c in members and f["type"].startswith(("message.", "typing", "reaction.")):
                assert i in members[c], (i, f)
