"""Presence after a socket closes (issue 17): with a long presence window,
a user who closes their last socket goes offline within the close grace
(presence_close_grace), not after the window; a socket that reconnects
within the grace (a page reload) causes no offline/online flicker; a user
with another socket stays online. Runs on the daemon as deployed."""

import time

import pytest

from conftest import start_server
from helpers import WS, Api, make_user, unique_channel

WINDOW, GRACE = 60, 2
CONF = ("register_addr_limit = 100000\nlogin_addr_limit = 100000\n"
        "presence_window = %d\npresence_close_grace = %d\n" % (WINDOW, GRACE))


@pytest.fixture(scope="module")
def srv():
    with start_server(extra_conf=CONF) as s:
        yield s


@pytest.fixture(scope="module")
def api(srv):
    return Api(srv.base)


def presence_frames(ws, uid):
    return [f for f in ws.frames if f.get("type") == "presence" and f.get("user_id") == uid]


def online_ids(api, token):
    r = api.get("/api/presence", token=token)
    assert r.status_code == 200, r.text
    return {u["user_id"] for u in r.json()["online_users"]}


def pair(api):
    """A watcher and a watched user sharing a private channel."""
    watcher, user = make_user(api, "pw"), make_user(api, "pu")
    ch = api.create_channel(watcher.token, unique_channel("pc"), kind="private",
                            members=[user.id])
    assert ch["id"]
    return watcher, user


def test_last_socket_closed_goes_offline_within_the_grace(srv, api):
    watcher, user = pair(api)
    wq = WS(srv.ws_url(watcher.token))
    try:
        u = WS(srv.ws_url(user.token))
        wq.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == user.id
                    and f["online"], what="online")
        t0 = time.monotonic()
        u.close()
        off = wq.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == user.id
                          and not f["online"], timeout=WINDOW / 2, what="offline after close")
        took = time.monotonic() - t0
        assert off["status"] == "offline"
        assert took < WINDOW / 3, "offline only after %.1f s" % took
        assert user.id not in online_ids(api, watcher.token)
    finally:
        wq.close()


def test_reload_within_the_grace_does_not_flicker(srv, api):
    watcher, user = pair(api)
    wq = WS(srv.ws_url(watcher.token))
    try:
        u = WS(srv.ws_url(user.token))
        wq.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == user.id
                    and f["online"], what="online")
        u.close()
        u = WS(srv.ws_url(user.token))  # the reloaded page, at once
        time.sleep(GRACE + 3)            # several sweeps past the grace
        wq.send({"type": "ping"})
        wq.wait_for(lambda f: f.get("type") == "pong", what="pong")
        assert [f["online"] for f in presence_frames(wq, user.id)] == [True]
        assert user.id in online_ids(api, watcher.token)
        u.close()
        wq.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == user.id
                    and not f["online"], timeout=WINDOW / 2, what="offline after the last close")
    finally:
        wq.close()


def test_another_socket_keeps_the_user_online(srv, api):
    watcher, user = pair(api)
    wq = WS(srv.ws_url(watcher.token))
    try:
        a, b = WS(srv.ws_url(user.token)), WS(srv.ws_url(user.token))
        wq.wait_for(lambda f: f.get("type") == "presence" and f.get("user_id") == user.id
                    and f["online"], what="online")
        a.close()
        time.sleep(GRACE + 3)
        b.send({"type": "ping"})
        b.wait_for(lambda f: f.get("type") == "pong", what="pong on the other socket")
        assert [f["online"] for f in presence_frames(wq, user.id)] == [True]
        assert user.id in online_ids(api, watcher.token)
        b.close()
    finally:
        wq.close()
