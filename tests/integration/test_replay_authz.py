"""Replay authorization (issue 12): nothing private outlives its access.

Every role replays the whole event history (`since=0`) over the WebSocket
and over the long poll, after edits, deletions, a removal, a channel
deletion and a new channel made right after it. Each replayed event must
pass the same rule as its REST counterpart now: a message is shown as
GET /api/messages/{id} shows it to that user, a notification only while
GET /api/notifications lists it (a notification.read only naming the
user's own, read), a channel event only to those who may see
the channel, a presence event names a channel only to its members. No text
that REST no longer shows (pre-edit text, deleted messages, an old topic, a
deleted channel's name) reaches anybody. Both transports agree event for
event.
"""

import json
import uuid

import pytest

from conftest import start_server
from conv_util import CONV_CONF, Conv, emoji_path, ro_db
from helpers import WS, assert_json, unique_channel

ROLES = ("owner", "admin", "member", "author", "outsider", "removed")


@pytest.fixture(scope="module")
def cv():
    with start_server(extra_conf=CONV_CONF) as srv:
        yield Conv(srv, list(ROLES) + ["marker"])


def tag(word):
    return "%s%s" % (word, uuid.uuid4().hex[:10])


def ws_replay(cv, user, marker_name):
    """Every frame a socket opened with since=0 gets, up to the public
    channel.created of `marker_name` (committed after the socket opened,
    so it comes after the whole replay)."""
    ws = WS(cv.srv.ws_url(user.token, since=0))
    try:
        cv.channel(cv.marker, name=marker_name)
        ws.wait_for(lambda f: f.get("type") == "channel.created"
                    and f["channel"]["name"] == marker_name, timeout=10, what="marker")
        return [f for f in ws.frames if "event_id" in f][:-1]
    finally:
        ws.close()


def poll_replay(cv, user, upto):
    """Every event the long poll returns from since=0 up to event `upto`."""
    since, out = 0, []
    for _ in range(200):
        r = cv.req("GET", "/api/events", user, params={"since": since, "timeout": 0})
        body = assert_json(r, 200)
        out += [e for e in body["events"] if e["event_id"] <= upto]
        if body["last_event_id"] >= upto or body["last_event_id"] == since:
            break
        since = body["last_event_id"]
    return out


def rest_message(cv, user, mid):
    r = cv.req("GET", "/api/messages/%d" % mid, user)
    return r.json() if r.status_code == 200 else None


def member_of(cv, user, cid):
    r = cv.req("GET", "/api/channels/%d" % cid, user)
    return r.status_code == 200 and r.json()["role"] is not None


def check_event(cv, user, f, notes):
    """The REST counterpart of replayed event `f` for `user`, now."""
    t, cid = f["type"], f.get("channel_id")
    where = "%s sees %s %s" % (user.username, t, json.dumps(f)[:200])
    if t.startswith("message."):
        m = rest_message(cv, user, f["message"]["id"])
        assert m is not None, where + ": REST says 404"
        for k in ("content", "deleted", "edited_at", "channel_id", "username"):
            assert f["message"][k] == m[k], where + ": %s differs from REST %r" % (k, m[k])
        assert member_of(cv, user, cid), where + ": not a member"
    elif t == "notification":
        ns = {n["id"]: n for n in notes}
        n = ns.get(f["notification"]["id"])
        assert n is not None, where + ": not in GET /api/notifications"
        assert f["notification"]["message"]["content"] == n["message"]["content"], where
    elif t == "notification.read":
        # the user's own notifications, read now (or gone with their message)
        ns = {n["id"]: n for n in notes}
        assert cid is None, where + ": names a channel"
        assert f["ids"] and all(ns[i]["read"] for i in f["ids"] if i in ns), where
    elif t in ("channel.created", "channel.updated"):
        r = cv.req("GET", "/api/channels/%d" % cid, user)
        assert r.status_code == 200, where + ": channel not visible"
        for k in ("name", "topic", "kind"):
            assert f["channel"][k] == r.json()[k], where + ": " + k
    elif t == "channel.deleted":
        assert cv.req("GET", "/api/channels/%d" % cid, user).status_code == 404, where
        assert set(f["channel"]) <= {"id", "kind"}, where + ": more than id and kind"
    elif t == "presence":
        if cid is not None:
            assert member_of(cv, user, cid), where + ": channel named to a non-member"
    elif t == "member.left" and f.get("user_id") == user.id:
        pass  # the user's own copy: told they left, whatever they may see now
    else:
        assert cid is not None and member_of(cv, user, cid), where + ": not a member"


@pytest.mark.parametrize("kind", ["private", "public"])
def test_replay_matches_rest_for_every_role(cv, kind):
    secrets = {k: tag(k) for k in ("preedit", "deleted", "oldtopic", "gonename", "gonetext",
                                   "removedmention")}
    members = [cv.admin.id, cv.member.id, cv.author.id, cv.removed.id]
    name = unique_channel("rp")
    ch = cv.channel(cv.owner, name=name, kind=kind, topic=secrets["oldtopic"],
                    **({"members": members} if kind == "private" else {}))
    c = ch["id"]
    if kind == "public":
        for u in (cv.admin, cv.member, cv.author, cv.removed):
            assert cv.req("POST", "/api/channels/%d/join" % c, u).status_code == 200
    assert cv.req("POST", "/api/channels/%d/members" % c, cv.owner,
                  {"user_id": cv.admin.id, "role": "admin"}).status_code == 200
    # every event type: edit, delete, mention, reactions, read, typing,
    # presence, topic change, removal
    m1 = cv.send(cv.author, c, "before edit %s" % secrets["preedit"])
    assert cv.req("PATCH", "/api/messages/%d" % m1["id"], cv.author,
                  {"content": "after edit"}).status_code == 200
    m2 = cv.send(cv.author, c, "to be deleted %s" % secrets["deleted"])
    assert cv.req("DELETE", "/api/messages/%d" % m2["id"], cv.admin).status_code == 204
    m3 = cv.send(cv.author, c, "hey @%s and @%s %s" % (cv.member.username, cv.removed.username,
                                                      secrets["removedmention"]))
    assert cv.req("PUT", emoji_path(m3["id"], "👀"), cv.member).status_code == 204
    assert cv.req("PUT", emoji_path(m3["id"], "🎉"), cv.member).status_code == 204
    assert cv.req("DELETE", emoji_path(m3["id"], "🎉"), cv.member).status_code == 204
    assert cv.req("POST", "/api/channels/%d/read" % c, cv.member,
                  {"message_id": m3["id"]}).status_code == 204
    assert cv.req("POST", "/api/channels/%d/typing" % c, cv.author).status_code == 204
    assert cv.req("POST", "/api/presence/join", cv.member, {"channel_id": c}).status_code == 200
    assert cv.req("PATCH", "/api/channels/%d" % c, cv.owner, {"topic": "today's topic"}).status_code == 200
    # the removed member had a notification of m3 (positive control)
    ns = assert_json(cv.req("GET", "/api/notifications", cv.removed), 200)["notifications"]
    assert m3["id"] in [n["message"]["id"] for n in ns]
    assert cv.req("DELETE", "/api/channels/%d/members/%d" % (c, cv.removed.id),
                  cv.owner).status_code == 204
    # a channel that goes away with its messages; the next one gets a new id
    gone = cv.channel(cv.owner, name=secrets["gonename"], kind=kind,
                      **({"members": members} if kind == "private" else {}))
    cv.send(cv.owner, gone["id"], "lost %s" % secrets["gonetext"])
    assert cv.req("POST", "/api/presence/join", cv.owner, {"channel_id": gone["id"]}).status_code == 200
    assert cv.req("DELETE", "/api/channels/%d" % gone["id"], cv.owner).status_code == 204
    fresh = cv.channel(cv.outsider, kind="private")
    assert fresh["id"] > gone["id"]
    with ro_db(cv.srv.db) as db:
        assert db.execute("SELECT count(*) FROM presence WHERE channel_id = ?",
                          (gone["id"],)).fetchone()[0] == 0

    failures = []
    for role in ROLES:
        user = getattr(cv, role)
        frames = ws_replay(cv, user, unique_channel("mk"))
        upto = frames[-1]["event_id"] if frames else 0
        polled = [e for e in poll_replay(cv, user, upto) if e["type"] != "typing"]
        text = json.dumps(frames) + json.dumps(polled)
        for k, s in secrets.items():
            # m3 (with the mention) is still there for the channel's members;
            # a public channel's messages are for anyone signed in to read, so
            # the removed member's notification of it stays (as in REST)
            allowed = k == "removedmention" and (
                role in ("owner", "admin", "member", "author")
                or (role == "removed" and kind == "public"))
            if s in text and not allowed:
                failures.append("%s %s: replay holds %s (%s)" % (kind, role, k, s))
        if [e["event_id"] for e in frames] != [e["event_id"] for e in polled]:
            failures.append("%s %s: WebSocket and long poll differ: %r vs %r" % (
                kind, role, [(e["event_id"], e["type"]) for e in frames],
                [(e["event_id"], e["type"]) for e in polled]))
        elif frames != polled:
            failures.append("%s %s: same events, different content" % (kind, role))
        notes = assert_json(cv.req("GET", "/api/notifications", user,
                                   params={"limit": 200}), 200)["notifications"]
        for f in frames:
            assert f["type"] != "typing", "typing is never replayed"
            try:
                check_event(cv, user, f, notes)
            except AssertionError as e:
                failures.append("%s %s: %s" % (kind, role, e))
        mine = [f for f in frames if f.get("channel_id") == c]
        types = {f["type"] for f in mine}
        # positive controls: members get the channel's history, as REST shows it now
        if role in ("owner", "admin", "member", "author"):
            edits = [f for f in mine if f["type"] == "message.created" and f["message"]["id"] == m1["id"]]
            if not edits or edits[0]["message"]["content"] != "after edit":
                failures.append("%s %s: message.created of the edited message: %r" % (kind, role, edits))
            want = {"message.created", "message.updated", "message.deleted", "reaction.added",
                    "reaction.removed", "read", "channel.updated", "member.left", "presence"}
            if not want <= types:
                failures.append("%s %s: missing %s" % (kind, role, want - types))
        if role == "member" and not [f for f in frames if f["type"] == "notification"
                                     and f["notification"]["message"]["id"] == m3["id"]]:
            failures.append("%s member: the mention's notification is not replayed" % kind)
        if role == "removed":
            left = [f for f in mine if f["type"] == "member.left" and f["user_id"] == user.id]
            if not left:
                failures.append("%s removed: own member.left missing" % kind)
            if types - {"member.left", "channel.created", "channel.updated", "presence",
                        "notification"}:
                failures.append("%s removed: still gets %s" % (kind, types))
            noted = any(f["type"] == "notification" and f["notification"]["message"]["id"] == m3["id"]
                        for f in frames)
            if noted != (kind == "public"):
                failures.append("%s removed: notification of the channel left: %s" % (kind, noted))
        if role == "outsider" and kind == "private" and mine:
            failures.append("private outsider: gets %s" % sorted(types))
        if any(f.get("channel_id") == gone["id"] and f["type"] != "channel.deleted"
               for f in frames):
            failures.append("%s %s: events of the deleted channel: %r" % (
                kind, role, [f for f in frames if f.get("channel_id") == gone["id"]]))
    assert not failures, "\n".join(failures)
