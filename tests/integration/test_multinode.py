"""Several machines on one PostgreSQL (issue 14): two complete frontends —
each its own lighttpd, FastCGI programs, ws-daemon, port and state
directory — on one database, clients split across them.

Runs only with PARLEY_ENGINE=postgres (SQLite is one machine's engine).
"""

import json
import os
import signal
import threading
import time

import psycopg2
import pytest

import pg_util
from conftest import start_server
from helpers import WS, Api, make_user, unique_channel
from rt_util import events_of, ticket, wait_close

pytestmark = pytest.mark.skipif(pg_util.ENGINE != "postgres",
                                reason="several frontends share a PostgreSQL database only")

SECRET = "multinode-test-secret-0123456789abcdef"
CONF = "login_user_limit = 4\nlogin_user_window = 600\npresence_window = 5\n"
WRITE_LOCK = 1885434476  # lib/db_pg.c, PL_PG_WRITE_LOCK


@pytest.fixture(scope="module")
def nodes():
    env = {"PARLEY_JWT_SECRET": SECRET}
    with start_server(extra_conf=CONF, env_extra=env) as n1:
        with start_server(extra_conf=CONF, env_extra=env, db_url=n1.db_url) as n2:
            yield n1, n2


@pytest.fixture(scope="module")
def apis(nodes):
    return Api(nodes[0].base), Api(nodes[1].base)


@pytest.fixture
def socks():
    opened = []
    yield opened
    for s in opened:
        s.close()


def open_ws(url, socks):
    ws = WS(url)
    socks.append(ws)
    return ws


def room(api, owner, members):
    ch = api.create_channel(owner.token, unique_channel("mn"))
    for m in members:
        r = api.post("/api/channels/%d/join" % ch["id"], token=m.token)
        assert r.status_code in (200, 201, 204), r.text
    return ch["id"]


def created_ids(ws):
    return [f["message"]["id"] for f in events_of(ws.frames, "message.created")]


def wait_all(ws, ids, timeout=20):
    want = set(ids)
    ws.wait_for(lambda f: want <= set(created_ids(ws)), timeout=timeout,
                what="all %d messages" % len(want))


def assert_in_order_once(ws, ids):
    got = created_ids(ws)
    assert sorted(got) == sorted(ids), "each message exactly once"
    evs = [f["event_id"] for f in events_of(ws.frames)]
    assert evs == sorted(set(evs)), "event ids strictly increasing"


def test_tokens_of_one_frontend_work_on_the_other(apis):
    a1, a2 = apis
    u = make_user(a1, "mn")
    r = a2.get("/api/users/me", token=u.token)
    assert r.status_code == 200 and r.json()["id"] == u.id, r.text


def test_concurrent_posts_on_both_reach_every_socket_once_in_order(nodes, apis, socks):
    n1, n2 = nodes
    a1, a2 = apis
    a, b = make_user(a1, "mn"), make_user(a2, "mn")
    ch = room(a1, a, [b])
    sockets = [open_ws(n1.ws_url(a.token), socks), open_ws(n2.ws_url(b.token), socks),
               open_ws(n1.ws_url(b.token), socks), open_ws(n2.ws_url(a.token), socks)]
    posted, errors = [], []
    lock = threading.Lock()

    def poster(api, user, tag):
        for i in range(25):
            r = api.post_message(user.token, ch, "%s %d" % (tag, i))
            with lock:
                if r.status_code == 201:
                    posted.append(r.json()["id"])
                else:
                    errors.append((r.status_code, r.text))

    threads = [threading.Thread(target=poster, args=(a1, a, "one")),
               threading.Thread(target=poster, args=(a2, b, "two"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    assert len(posted) == 50
    for ws in sockets:
        wait_all(ws, posted)
        assert_in_order_once(ws, posted)
    # one order everywhere, and it is REST history's order
    orders = [created_ids(ws) for ws in sockets]
    assert all(o == orders[0] for o in orders)
    assert a2.all_history_ids(b.token, ch) == orders[0]


def test_a_delayed_commit_is_not_skipped(nodes, apis, socks):
    """A transaction that drew an event id and commits late must not be
    skipped by daemons that saw a later id first: another writer waits
    for it (the write lock), so ids become visible in order."""
    n1, n2 = nodes
    a1, a2 = apis
    a, b = make_user(a1, "mn"), make_user(a1, "mn")
    ch = room(a1, a, [b])
    ws1, ws2 = open_ws(n1.ws_url(b.token), socks), open_ws(n2.ws_url(b.token), socks)
    con = psycopg2.connect(n1.db_url)
    try:
        cur = con.cursor()
        # A slow writer: a message and its event, written the way
        # lib/messages.c writes them, committed 1.5 s later.
        now = int(time.time() * 1000)
        cur.execute("INSERT INTO messages (channel_id, user_id, content, created_at) "
                    "VALUES (%s, %s, 'slow writer', %s) RETURNING id", (ch, a.id, now))
        slow_id = cur.fetchone()[0]
        cur.execute("INSERT INTO events (type, scope, channel_id, user_id, payload, created_at) "
                    "VALUES ('message.created', 0, %s, %s, %s, %s) RETURNING id",
                    (ch, a.id, json.dumps({"message": {"id": slow_id}}), now))
        slow_event = cur.fetchone()[0]
        out = {}

        def fast():
            t0 = time.monotonic()
            out["r"] = a2.post_message(a.token, ch, "fast writer")
            out["t"] = time.monotonic() - t0

        th = threading.Thread(target=fast)
        th.start()
        time.sleep(1.5)
        assert th.is_alive(), "the second writer must wait for the first to commit"
        con.commit()
        th.join(timeout=10)
        assert out["r"].status_code == 201, out["r"].text
        fast_id = out["r"].json()["id"]
    finally:
        con.close()
    for ws in (ws1, ws2):
        wait_all(ws, [slow_id, fast_id])
        evs = {f["message"]["id"]: f["event_id"] for f in events_of(ws.frames, "message.created")}
        assert evs[slow_id] == slow_event
        assert evs[slow_id] < evs[fast_id]
        assert created_ids(ws) == [slow_id, fast_id]


def test_a_ticket_from_one_frontend_opens_a_socket_at_the_other(nodes, apis, socks):
    n1, n2 = nodes
    a1, _ = apis
    u = make_user(a1, "mn")
    t = ticket(a1, u.token)
    ws = open_ws(n2.ws + "?ticket=" + t, socks)
    assert ws.hello["type"] == "hello" and ws.hello["user_id"] == u.id


def test_logout_on_one_frontend_closes_the_socket_on_the_other(nodes, apis):
    n1, n2 = nodes
    a1, a2 = apis
    u = make_user(a1, "mn")
    token = a1.login(u.username)
    ws = WS(n2.ws_url(token))
    try:
        r = a1.post("/api/auth/logout", {}, token=token)
        assert r.status_code == 204, r.text
        assert wait_close(ws.conn, timeout=15) == 4001
        assert a2.get("/api/users/me", token=token).status_code == 401
    finally:
        ws.close()


def test_failed_logins_on_both_count_against_one_limit(apis):
    a1, a2 = apis
    u = make_user(a1, "mn")
    codes = []
    for api in (a1, a2, a1, a2):
        codes.append(api.login_resp(u.username, "wrong-password-x").status_code)
    assert codes == [401] * 4, codes
    r = a2.login_resp(u.username, "wrong-password-x")
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) > 0


def test_daemon_killed_clients_resume_on_the_other_with_no_loss(nodes, apis, socks):
    n1, n2 = nodes
    a1, a2 = apis
    a, b = make_user(a1, "mn"), make_user(a1, "mn")
    ch = room(a1, a, [b])
    ws = open_ws(n1.ws_url(b.token), socks)
    first = a1.send(a.token, ch, "before the kill")["id"]
    wait_all(ws, [first])
    seen = max(f["event_id"] for f in ws.frames if "event_id" in f)
    wsd = [pid for pid, cmd in n1.processes().items() if "parley-wsd" in cmd]
    assert wsd, n1.processes()
    for pid in wsd:
        os.kill(pid, signal.SIGKILL)
    missed = [a2.send(a.token, ch, "while down %d" % i)["id"] for i in range(5)]
    again = open_ws(n2.ws_url(b.token, since=seen), socks)
    wait_all(again, missed)
    assert created_ids(again) == missed
    evs = [f["event_id"] for f in events_of(again.frames)]
    assert evs == sorted(set(evs)) and evs[0] > seen


def test_a_long_poll_on_one_frontend_sees_a_post_on_the_other(apis):
    a1, a2 = apis
    a, b = make_user(a1, "mn"), make_user(a1, "mn")
    ch = room(a1, a, [b])
    head = a1.get("/api/events", token=b.token, params={"timeout": 0}).json()["last_event_id"]
    out = {}

    def poll():
        out["r"] = a1.get("/api/events", token=b.token, params={"since": head, "timeout": 20})

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.5)
    m = a2.send(a.token, ch, "wake the other frontend's poll")
    th.join(timeout=15)
    assert not th.is_alive(), "the poll did not return"
    got = [e["message"]["id"] for e in events_of(out["r"].json()["events"], "message.created")]
    assert got == [m["id"]]


def presence_of(ws, user_id):
    return [(f["online"], f["event_id"]) for f in events_of(ws.frames, "presence")
            if f.get("user_id") == user_id]


def test_presence_across_daemons(nodes, apis, socks):
    """A user whose only socket is on one daemon stays online while the
    other daemon sweeps (each daemon keeps its own users' last_seen fresh
    in the database, every sweep reads it there), and goes offline once,
    for watchers on the other daemon too, when that socket closes."""
    n1, n2 = nodes
    a1, a2 = apis
    a, b = make_user(a1, "mn"), make_user(a2, "mn")
    room(a1, a, [b])
    wb = open_ws(n2.ws_url(b.token), socks)
    wa = WS(n1.ws_url(a.token))
    wb.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == a.id
                and f.get("online") is True, timeout=10, what="a online")
    # three presence windows (5 s) of sweeps on both daemons
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            wb.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == a.id
                        and f.get("online") is False, timeout=1, what="")
            break
        except AssertionError:
            pass
        wa.send({"type": "ping"})
    assert [o for o, _ in presence_of(wb, a.id)] == [True], "a went offline while connected"
    online = a2.get("/api/presence", token=b.token).json()["online_users"]
    assert any(p["user_id"] == a.id and p["online"] for p in online), online
    wa.close()
    wb.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == a.id
                and f.get("online") is False, timeout=15, what="a offline")
    time.sleep(3)   # more sweeps: no second offline event
    try:
        wb.wait_for(lambda f: False, timeout=1, what="")
    except AssertionError:
        pass
    assert [o for o, _ in presence_of(wb, a.id)] == [True, False]


def test_closing_one_of_two_daemons_sockets_keeps_the_user_online(socks):
    """A user with sockets on both daemons closes the one on the first: the
    first daemon sees its last socket of theirs go, but the second still
    holds one (presence_sockets), so they stay online — no offline/online
    pair while the second daemon's refresh is still seconds away. Closing
    the other socket too makes them offline after the grace, once."""
    conf = "presence_window = 30\npresence_close_grace = 1\n"
    env = {"PARLEY_JWT_SECRET": SECRET}
    with start_server(extra_conf=conf, env_extra=env) as n1:
        with start_server(extra_conf=conf, env_extra=env, db_url=n1.db_url) as n2:
            a1, a2 = Api(n1.base), Api(n2.base)
            a, b = make_user(a1, "mp"), make_user(a2, "mp")
            room(a1, a, [b])
            wb = open_ws(n2.ws_url(b.token), socks)
            wa1 = WS(n1.ws_url(a.token))
            wa2 = open_ws(n2.ws_url(a.token), socks)
            wb.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == a.id
                        and f.get("online") is True, timeout=10, what="a online")
            wa2.send({"type": "ping"})
            wa2.wait_for(lambda f: f.get("type") == "pong", timeout=10, what="pong")
            wa1.close()
            # grace 1 s, sweeps every second on both daemons: 5 s is plenty
            time.sleep(5)
            assert [o for o, _ in presence_of(wb, a.id)] == [True], "a went offline"
            online = a2.get("/api/presence", token=b.token).json()["online_users"]
            assert any(p["user_id"] == a.id and p["online"] for p in online), online
            wa2.close()
            wb.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == a.id
                        and f.get("online") is False, timeout=10, what="a offline")
            assert [o for o, _ in presence_of(wb, a.id)] == [True, False]
