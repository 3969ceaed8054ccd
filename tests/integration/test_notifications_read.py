"""Notifications that behave (issue 17): moving a read marker marks the
reader's mentions and DMs of that channel up to the marker read, in the
read marker's transaction, and a USER-scoped `notification.read` event
{"ids":[...]} tells the reader's other devices which ones: live on the
WebSocket, replayed with since=, and on the long poll. Nobody else ever
gets it. POST /api/notifications/read announces the same way. Runs on both
engines and under every front (the WebSocket cases need the daemon)."""

import pytest

from conftest import NO_WS_DAEMON
import rt_util
from helpers import WS, assert_json, make_user

needs_ws = pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon under this front")


@pytest.fixture
def trio(api):
    """alice (the reader), bob (who mentions her) and carol (a bystander
    in the same channel), a private channel of bob's with all three."""
    alice, bob, carol = (make_user(api, p) for p in ("nra", "nrb", "nrc"))
    ch = api.create_channel(bob.token, kind="private")
    for u in (alice, carol):
        r = api.post("/api/channels/%d/members" % ch["id"], {"user_id": u.id}, token=bob.token)
        assert r.status_code == 201, r.text
    return alice, bob, carol, ch


def unread(api, user):
    body = assert_json(api.get("/api/notifications?unread=1&limit=200", token=user.token), 200)
    return {n["message"]["id"]: n["id"] for n in body["notifications"]}


def last_event_id(api, user):
    return rt_util.last_event_id(api, user.token)


def polled(api, user, since, type_="notification.read"):
    """The events of `type_` the long poll returns for `user` after `since`."""
    return rt_util.polled_events(api, user.token, since, lambda e: e["type"] == type_)


def read_marker(api, user, ch, message_id, status=204):
    r = api.post("/api/channels/%d/read" % ch["id"], {"message_id": message_id}, token=user.token)
    assert r.status_code == status, r.text


def test_read_marker_marks_mentions_up_to_it(api, trio):
    alice, bob, carol, ch = trio
    m1 = api.send(bob.token, ch["id"], "@%s first" % alice.username)
    m2 = api.send(bob.token, ch["id"], "@%s second" % alice.username)
    plain = api.send(bob.token, ch["id"], "no mention")
    m3 = api.send(bob.token, ch["id"], "@%s third" % alice.username)
    before = unread(api, alice)
    assert set(before) == {m1["id"], m2["id"], m3["id"]}
    since = last_event_id(api, alice)

    read_marker(api, alice, ch, m2["id"])
    left = unread(api, alice)
    assert set(left) == {m3["id"]}
    # the long poll says which ones, exactly those
    evs = polled(api, alice, since)
    assert len(evs) == 1, evs
    assert sorted(evs[0]["ids"]) == sorted([before[m1["id"]], before[m2["id"]]])
    assert "channel_id" not in evs[0] or not evs[0]["channel_id"]
    # a marker moved further, past a message without a mention
    since = evs[0]["event_id"]
    read_marker(api, alice, ch, plain["id"])
    assert polled(api, alice, since) == []      # nothing changed, nothing said
    read_marker(api, alice, ch, m3["id"])
    assert unread(api, alice) == {}
    assert [e["ids"] for e in polled(api, alice, since)] == [[before[m3["id"]]]]
    # the list still shows them, read
    listed = assert_json(api.get("/api/notifications?limit=200", token=alice.token), 200)
    mine = [n for n in listed["notifications"] if n["message"]["channel_id"] == ch["id"]]
    assert len(mine) == 3 and all(n["read"] for n in mine)


def test_nobody_else_hears_of_it(api, trio):
    alice, bob, carol, ch = trio
    m = api.send(bob.token, ch["id"], "@%s and @%s" % (alice.username, carol.username))
    since = {u.username: last_event_id(api, u) for u in (alice, bob, carol)}
    read_marker(api, alice, ch, m["id"])
    assert len(polled(api, alice, since[alice.username])) == 1
    assert polled(api, bob, since[bob.username]) == []
    assert polled(api, carol, since[carol.username]) == []
    # carol's own mention is untouched by alice's marker
    assert m["id"] in unread(api, carol)


def test_only_that_channel_and_only_up_to_the_marker(api, trio):
    alice, bob, carol, ch = trio
    other = api.create_channel(bob.token, kind="private")
    assert api.post("/api/channels/%d/members" % other["id"], {"user_id": alice.id},
                    token=bob.token).status_code == 201
    elsewhere = api.send(bob.token, other["id"], "@%s elsewhere" % alice.username)
    here = api.send(bob.token, ch["id"], "@%s here" % alice.username)
    later = api.send(bob.token, ch["id"], "@%s later" % alice.username)
    read_marker(api, alice, ch, here["id"])
    assert set(unread(api, alice)) == {elsewhere["id"], later["id"]}
    # a refused marker (a message of another channel) marks nothing
    read_marker(api, alice, ch, elsewhere["id"], status=400)
    assert set(unread(api, alice)) == {elsewhere["id"], later["id"]}


def test_dm_read_marker_clears_the_dm_notification(api, trio):
    alice, bob, _, _ = trio
    r = api.post("/api/channels/dm", {"user_ids": [alice.id]}, token=bob.token)
    assert r.status_code in (200, 201), r.text
    dm = r.json()
    m = api.send(bob.token, dm["id"], "psst")
    assert m["id"] in unread(api, alice)
    read_marker(api, alice, dm, m["id"])
    assert m["id"] not in unread(api, alice)


def test_explicit_read_announces_only_what_changed(api, trio):
    alice, bob, _, ch = trio
    ms = [api.send(bob.token, ch["id"], "@%s n%d" % (alice.username, i)) for i in range(3)]
    ids = unread(api, alice)
    n0, n1, n2 = (ids[m["id"]] for m in ms)
    since = last_event_id(api, alice)
    r = api.post("/api/notifications/read", {"ids": [n0, n0, 999999999]}, token=alice.token)
    assert r.status_code == 204, r.text
    r = api.post("/api/notifications/read", {"ids": [n0]}, token=alice.token)   # already read
    assert r.status_code == 204, r.text
    r = api.post("/api/notifications/read", {"all": True}, token=alice.token)
    assert r.status_code == 204, r.text
    r = api.post("/api/notifications/read", {"all": True}, token=alice.token)   # nothing left
    assert r.status_code == 204, r.text
    assert [sorted(e["ids"]) for e in polled(api, alice, since)] == [[n0], sorted([n1, n2])]


def test_someone_elses_ids_change_nothing_and_say_nothing(api, trio):
    alice, bob, carol, ch = trio
    m = api.send(bob.token, ch["id"], "@%s only" % carol.username)
    nid = unread(api, carol)[m["id"]]
    since = last_event_id(api, alice)
    r = api.post("/api/notifications/read", {"ids": [nid]}, token=alice.token)
    assert r.status_code == 204, r.text
    assert polled(api, alice, since) == []
    assert m["id"] in unread(api, carol)


@needs_ws
def test_other_device_hears_it_live_and_on_replay(server, api, trio):
    alice, bob, carol, ch = trio
    m = api.send(bob.token, ch["id"], "@%s live" % alice.username)
    nid = unread(api, alice)[m["id"]]
    device = server.connect(alice.token)
    watcher = server.connect(carol.token)
    try:
        since = device.hello["last_event_id"]
        read_marker(api, alice, ch, m["id"])
        ev = device.wait_for(lambda f: f.get("type") == "notification.read", timeout=10,
                             what="notification.read")
        assert ev["ids"] == [nid] and ev["event_id"] > since
        # carol's socket sees alice's `read` (a channel event) but never
        # her notification.read
        watcher.wait_for(lambda f: f.get("type") == "read" and f.get("user_id") == alice.id,
                         timeout=10, what="read")
        assert not [f for f in watcher.frames if f.get("type") == "notification.read"]
    finally:
        device.close()
        watcher.close()
    # a device that was away replays it
    replay = WS(server.ws_url(alice.token, since=since))
    try:
        ev = replay.wait_for(lambda f: f.get("type") == "notification.read", timeout=10,
                             what="replayed notification.read")
        assert ev["ids"] == [nid]
    finally:
        replay.close()
    # and carol's replay from the same point has no such event
    theirs = WS(server.ws_url(carol.token, since=since))
    try:
        marker = api.create_channel(bob.token)     # public: everyone gets channel.created
        theirs.wait_for(lambda f: f.get("type") == "channel.created"
                        and f["channel"]["id"] == marker["id"], timeout=10, what="marker")
        assert not [f for f in theirs.frames if f.get("type") == "notification.read"]
    finally:
        theirs.close()
