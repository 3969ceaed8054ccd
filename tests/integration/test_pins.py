"""Pinned messages (issue 17): PUT/DELETE /api/messages/{id}/pin (204,
idempotent) by a channel's members — or only its owner/admins when
pins_by_members = 0 — and GET /api/channels/{id}/pins for whoever may read
the channel, newest pin first. pin.added / pin.removed go to the channel's
members only: live on the WebSocket, replayed with since=, and on the long
poll; an outsider of a private channel learns nothing (404, no event).
Deleting a message drops its pin. Runs on both engines and every front."""

import pytest

from conftest import NO_WS_DAEMON, start_server
import rt_util
from helpers import WS, Api, assert_error, assert_json, make_user

needs_ws = pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon under this front")


@pytest.fixture
def room(api):
    """bob's private channel with alice and carol (plain members); dave is
    an outsider."""
    alice, bob, carol, dave = (make_user(api, p) for p in ("pna", "pnb", "pnc", "pnd"))
    ch = api.create_channel(bob.token, kind="private")
    for u in (alice, carol):
        r = api.post("/api/channels/%d/members" % ch["id"], {"user_id": u.id}, token=bob.token)
        assert r.status_code == 201, r.text
    return alice, bob, carol, dave, ch


def pin(api, user, mid, on=True):
    return api.request("PUT" if on else "DELETE", "/api/messages/%d/pin" % mid, token=user.token)


def pins(api, user, cid, status=200):
    r = api.get("/api/channels/%d/pins" % cid, token=user.token)
    if status != 200:
        assert_error(r, status, {403: "forbidden", 404: "not_found"}[status])
        return None
    body = assert_json(r, 200)
    assert isinstance(body, list), body      # API.md v2: an array of messages
    return body


def last_event_id(api, user):
    return rt_util.last_event_id(api, user.token)


def polled(api, user, since):
    return rt_util.polled_events(api, user.token, since, lambda e: e["type"].startswith("pin."))


def test_members_pin_and_everyone_who_reads_sees_them(api, room):
    alice, bob, carol, dave, ch = room
    m1 = api.send(bob.token, ch["id"], "the agenda")
    m2 = api.send(alice.token, ch["id"], "the minutes")
    since = {u.username: last_event_id(api, u) for u in (alice, carol, dave)}
    assert pin(api, alice, m1["id"]).status_code == 204        # a plain member may
    assert pin(api, alice, m1["id"]).status_code == 204        # idempotent: no second event
    assert pin(api, carol, m2["id"]).status_code == 204
    listed = pins(api, carol, ch["id"])
    assert [p["id"] for p in listed] == [m2["id"], m1["id"]]
    assert {"id", "content", "pinned", "pinned_by", "pinned_at"} <= set(listed[0])
    assert all(p["pinned"] is True for p in listed)
    assert listed[0]["pinned_by"] == carol.id and listed[1]["pinned_by"] == alice.id
    assert listed[1]["content"] == "the agenda"
    # the message objects everywhere say whether they are pinned
    got = assert_json(api.get("/api/messages/%d" % m1["id"], token=carol.token), 200)
    assert got["pinned"] is True
    hist = assert_json(api.get("/api/messages/history", token=carol.token,
                               params={"channel": ch["id"]}), 200)
    assert {m["id"]: m["pinned"] for m in hist} == {m1["id"]: True, m2["id"]: True}
    evs = polled(api, carol, since[carol.username])
    assert [(e["type"], e["message_id"], e["user_id"], e["channel_id"]) for e in evs] == [
        ("pin.added", m1["id"], alice.id, ch["id"]), ("pin.added", m2["id"], carol.id, ch["id"])]
    # the outsider: 404 for the list and the pin, and no event
    pins(api, dave, ch["id"], status=404)
    assert_error(pin(api, dave, m1["id"]), 404, "not_found")
    assert_error(pin(api, dave, m1["id"], on=False), 404, "not_found")
    assert polled(api, dave, since[dave.username]) == []
    # unpin: once announced, then a no-op
    since_a = last_event_id(api, alice)
    assert pin(api, bob, m1["id"], on=False).status_code == 204
    assert pin(api, bob, m1["id"], on=False).status_code == 204
    assert [p["id"] for p in pins(api, alice, ch["id"])] == [m2["id"]]
    got = assert_json(api.get("/api/messages/%d" % m1["id"], token=alice.token), 200)
    assert got["pinned"] is False
    assert [(e["type"], e["message_id"]) for e in polled(api, alice, since_a)] == [
        ("pin.removed", m1["id"])]


def test_public_channel_rules(api, room):
    alice, bob, _, dave, _ = room
    pub = api.create_channel(bob.token)
    m = api.send(bob.token, pub["id"], "welcome")
    # readable, so listed; not joined, so no pinning (403 like typing)
    assert pins(api, dave, pub["id"]) == []
    assert_error(pin(api, dave, m["id"]), 403, "forbidden")
    assert api.post("/api/channels/%d/join" % pub["id"], {}, token=dave.token).status_code == 200
    assert pin(api, dave, m["id"]).status_code == 204
    assert [p["id"] for p in pins(api, alice, pub["id"])] == [m["id"]]


def test_deleting_the_message_drops_its_pin(api, room):
    alice, bob, carol, _, ch = room
    m = api.send(alice.token, ch["id"], "pinned then deleted")
    assert pin(api, carol, m["id"]).status_code == 204
    assert api.request("DELETE", "/api/messages/%d" % m["id"], token=alice.token).status_code == 204
    assert pins(api, bob, ch["id"]) == []
    # a deleted message cannot be pinned again
    assert_error(pin(api, carol, m["id"]), 409, "conflict")
    assert_error(pin(api, carol, 999999999), 404, "not_found")


def test_at_most_100_pins_and_repinning_stays_204(server, api, room):
    alice, bob, _, _, ch = room
    ms = [api.send(bob.token, ch["id"], "p%d" % i) for i in range(101)]
    for m in ms[:100]:
        assert pin(api, alice, m["id"]).status_code == 204
    since = last_event_id(api, alice)
    assert_error(pin(api, alice, ms[100]["id"]), 409, "conflict")
    assert pin(api, alice, ms[0]["id"]).status_code == 204      # already pinned: no change
    assert len(pins(api, alice, ch["id"])) == 100
    assert ms[100]["id"] not in [p["id"] for p in pins(api, alice, ch["id"])]
    assert polled(api, alice, since) == []                      # the refused pin said nothing
    assert pin(api, alice, ms[0]["id"], on=False).status_code == 204
    assert pin(api, alice, ms[100]["id"]).status_code == 204    # room again


def test_only_owner_and_admins_when_members_may_not():
    with start_server(extra_conf="pins_by_members = 0\n") as srv:
        api = Api(srv.base)
        owner, member = make_user(api, "pno"), make_user(api, "pnm")
        ch = api.create_channel(owner.token, kind="private")
        assert api.post("/api/channels/%d/members" % ch["id"], {"user_id": member.id},
                        token=owner.token).status_code == 201
        m = api.send(member.token, ch["id"], "only admins pin here")
        assert_error(pin(api, member, m["id"]), 403, "forbidden")
        assert pin(api, owner, m["id"]).status_code == 204
        assert_error(pin(api, member, m["id"], on=False), 403, "forbidden")
        assert [p["id"] for p in pins(api, member, ch["id"])] == [m["id"]]


@needs_ws
def test_pin_events_live_and_replayed_to_members_only(server, api, room):
    alice, bob, carol, dave, ch = room
    m = api.send(bob.token, ch["id"], "live pin")
    member = server.connect(carol.token)
    outsider = server.connect(dave.token)
    try:
        since = member.hello["last_event_id"]
        assert pin(api, alice, m["id"]).status_code == 204
        ev = member.wait_for(lambda f: f.get("type") == "pin.added", timeout=10, what="pin.added")
        assert ev["message_id"] == m["id"] and ev["channel_id"] == ch["id"]
        # a public channel.created reaches everyone, after the pin: the
        # outsider's socket has seen no pin event by then
        marker = api.create_channel(bob.token)
        outsider.wait_for(lambda f: f.get("type") == "channel.created"
                          and f["channel"]["id"] == marker["id"], timeout=10, what="marker")
        assert not [f for f in outsider.frames if str(f.get("type", "")).startswith("pin.")]
    finally:
        member.close()
        outsider.close()
    replay = WS(server.ws_url(carol.token, since=since))
    try:
        ev = replay.wait_for(lambda f: f.get("type") == "pin.added", timeout=10, what="replay")
        assert ev["message_id"] == m["id"]
    finally:
        replay.close()
    theirs = WS(server.ws_url(dave.token, since=since))
    try:
        marker = api.create_channel(bob.token)
        theirs.wait_for(lambda f: f.get("type") == "channel.created"
                        and f["channel"]["id"] == marker["id"], timeout=10, what="marker")
        assert not [f for f in theirs.frames if str(f.get("type", "")).startswith("pin.")]
    finally:
        theirs.close()
