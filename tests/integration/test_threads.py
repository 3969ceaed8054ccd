"""Threads (issue 17, API.md v2): a message and its replies (messages whose
reply_to names it). The root carries reply_count and last_reply_at, kept
when a reply is posted or deleted; GET /api/messages/{id}/replies lists the
replies oldest first (before=, after=, limit=) to exactly those who may read
the root. A channel-scoped thread.updated event carries the root with its
new counts: to the channel's members only, live on the WebSocket, replayed
with since=, and on the long poll. Replying follows the thread (its author
and the root's author); PUT/DELETE /api/messages/{id}/follow set it by hand;
followers who may read the channel get a "reply" notification. Runs on both
engines and under every front."""

import pytest

from conftest import NO_WS_DAEMON
import pg_util
import rt_util
from helpers import WS, assert_error, assert_json, assert_time, make_user
from rt_util import sql

needs_ws = pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon under this front")


@pytest.fixture
def room(api):
    """bob's private channel with alice and carol; dave is an outsider."""
    alice, bob, carol, dave = (make_user(api, p) for p in ("tha", "thb", "thc", "thd"))
    ch = api.create_channel(bob.token, kind="private")
    for u in (alice, carol):
        r = api.post("/api/channels/%d/members" % ch["id"], {"user_id": u.id}, token=bob.token)
        assert r.status_code == 201, r.text
    return alice, bob, carol, dave, ch


def reply(api, user, ch, root, content):
    return api.send(user.token, ch["id"], content, reply_to=root["id"])


def message(api, user, mid):
    return assert_json(api.get("/api/messages/%d" % mid, token=user.token), 200)


def replies(api, user, mid, status=200, **params):
    r = api.get("/api/messages/%d/replies" % mid, token=user.token, params=params)
    if status != 200:
        assert_error(r, status, {400: "bad_request", 404: "not_found"}[status])
        return None
    body = assert_json(r, 200)
    assert isinstance(body, list), body
    return body


def follow(api, user, mid, on=True):
    return api.request("PUT" if on else "DELETE", "/api/messages/%d/follow" % mid,
                       token=user.token)


def following(api, user, mid):
    return assert_json(api.get("/api/messages/%d/follow" % mid, token=user.token),
                       200)["following"]


def reply_notifications(api, user):
    body = assert_json(api.get("/api/notifications", token=user.token), 200)
    return [(n["kind"], n["message"]["id"]) for n in body["notifications"]]


def test_counts_follow_replies_and_deletions(api, room):
    alice, bob, carol, _, ch = room
    root = api.send(bob.token, ch["id"], "what's for lunch?")
    assert root["reply_count"] == 0 and root["last_reply_at"] is None
    assert root["pinned"] is False
    assert replies(api, carol, root["id"]) == []
    r1 = reply(api, alice, ch, root, "pizza")
    r2 = reply(api, carol, ch, root, "soup")
    r3 = reply(api, alice, ch, root, "both")
    assert r1["reply_to"] == root["id"] and r1["reply_count"] == 0
    now = message(api, carol, root["id"])
    assert now["reply_count"] == 3
    assert_time(now["last_reply_at"])
    assert now["last_reply_at"] == r3["created_at"]
    # the history shows the same counts
    hist = assert_json(api.history(carol.token, ch["id"]), 200)
    assert [m["reply_count"] for m in hist if m["id"] == root["id"]] == [3]
    assert [m["id"] for m in replies(api, carol, root["id"])] == [r1["id"], r2["id"], r3["id"]]
    # deleting a reply counts it out and moves last_reply_at back
    assert api.request("DELETE", "/api/messages/%d" % r3["id"],
                       token=alice.token).status_code == 204
    now = message(api, bob, root["id"])
    assert now["reply_count"] == 2 and now["last_reply_at"] == r2["created_at"]
    # a deleted reply stays in the list as a tombstone, like in history
    listed = replies(api, bob, root["id"])
    assert [(m["id"], m["deleted"]) for m in listed] == [
        (r1["id"], False), (r2["id"], False), (r3["id"], True)]
    for r in (r1, r2):
        assert api.request("DELETE", "/api/messages/%d" % r["id"],
                           token=bob.token).status_code == 204   # the owner
    now = message(api, bob, root["id"])
    assert now["reply_count"] == 0 and now["last_reply_at"] is None


def test_replies_pages(api, room):
    alice, bob, carol, _, ch = room
    root = api.send(bob.token, ch["id"], "count off")
    rs = [reply(api, alice if i % 2 else carol, ch, root, "n%d" % i) for i in range(7)]
    ids = [r["id"] for r in rs]
    other = api.send(bob.token, ch["id"], "not in the thread")
    assert [m["id"] for m in replies(api, bob, root["id"], limit=3)] == ids[:3]
    assert [m["id"] for m in replies(api, bob, root["id"], limit=3, after=ids[2])] == ids[3:6]
    assert [m["id"] for m in replies(api, bob, root["id"], after=ids[5])] == ids[6:]
    assert [m["id"] for m in replies(api, bob, root["id"], limit=2, before=ids[6])] == ids[4:6]
    assert [m["id"] for m in replies(api, bob, root["id"], before=ids[0])] == []
    assert other["id"] not in [m["id"] for m in replies(api, bob, root["id"], limit=200)]
    for bad in ({"limit": "0"}, {"limit": "201"}, {"after": "x"}, {"before": "-3"}):
        replies(api, bob, root["id"], status=400, **bad)
    replies(api, bob, 999999999, status=404)


def test_who_may_read_a_thread(api, room):
    alice, bob, carol, dave, ch = room
    root = api.send(bob.token, ch["id"], "private thread")
    reply(api, alice, ch, root, "private reply")
    # an outsider learns nothing: 404 everywhere, as for the message
    replies(api, dave, root["id"], status=404)
    assert_error(follow(api, dave, root["id"]), 404, "not_found")
    assert_error(api.get("/api/messages/%d/follow" % root["id"], token=dave.token),
                 404, "not_found")
    # replying across channels is refused
    pub = api.create_channel(dave.token)
    r = api.post_message(dave.token, pub["id"], "sneaky", reply_to=root["id"])
    assert_error(r, 400, "bad_request")
    assert message(api, bob, root["id"])["reply_count"] == 1
    # a deleted message starts no thread (409, as reacting to it)
    gone = api.send(bob.token, ch["id"], "soon deleted")
    assert api.request("DELETE", "/api/messages/%d" % gone["id"], token=bob.token).status_code == 204
    assert_error(api.post_message(alice.token, ch["id"], "too late", reply_to=gone["id"]),
                 409, "conflict")
    assert message(api, bob, gone["id"])["reply_count"] == 0
    # a removed member loses the thread with the channel
    r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch["id"], carol.id),
                    token=bob.token)
    assert r.status_code == 204, r.text
    replies(api, carol, root["id"], status=404)
    # a public channel's threads are readable as its messages are
    proot = api.send(dave.token, pub["id"], "public thread")
    reply(api, dave, pub, proot, "public reply")
    assert [m["content"] for m in replies(api, carol, proot["id"])] == ["public reply"]


def following_row(server, root_id, user_id):
    rows = sql(server.db, "SELECT following FROM thread_follows WHERE message_id = ? AND user_id = ?",
               (root_id, user_id))
    return rows[0][0] if rows else None


def test_following_and_reply_notifications(server, api, room):
    alice, bob, carol, dave, ch = room
    root = api.send(bob.token, ch["id"], "release plan")
    for u in (alice, bob, carol):
        assert following(api, u, root["id"]) is False
    r1 = reply(api, alice, ch, root, "I'll tag it")
    # replying follows: the author and the root's author
    assert following(api, alice, root["id"]) is True
    assert following(api, bob, root["id"]) is True
    assert following(api, carol, root["id"]) is False
    assert ("reply", r1["id"]) in reply_notifications(api, bob)
    assert not [n for n in reply_notifications(api, alice) if n[1] == r1["id"]]
    assert not [n for n in reply_notifications(api, carol) if n[1] == r1["id"]]
    # following by hand (idempotent) brings the next reply
    assert follow(api, carol, root["id"]).status_code == 204
    assert follow(api, carol, root["id"]).status_code == 204
    r2 = reply(api, bob, ch, root, "thanks")
    assert ("reply", r2["id"]) in reply_notifications(api, alice)
    assert ("reply", r2["id"]) in reply_notifications(api, carol)
    assert not [n for n in reply_notifications(api, bob) if n[1] == r2["id"]]
    # unfollowing sticks, even when they reply again later
    assert follow(api, bob, root["id"], on=False).status_code == 204
    assert following(api, bob, root["id"]) is False
    r3 = reply(api, alice, ch, root, "tagged")
    assert not [n for n in reply_notifications(api, bob) if n[1] == r3["id"]]
    reply(api, bob, ch, root, "one more from bob")
    assert following(api, bob, root["id"]) is False
    # a mention in a reply is one notification, a mention
    r4 = reply(api, alice, ch, root, "@%s please check" % carol.username)
    assert [n for n in reply_notifications(api, carol) if n[1] == r4["id"]] == [
        ("mention", r4["id"])]
    # a follower who can no longer read the channel is not notified
    r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch["id"], carol.id),
                    token=bob.token)
    assert r.status_code == 204, r.text
    since = rt_util.last_event_id(api, carol.token)
    r5 = reply(api, alice, ch, root, "after carol left")
    assert not [n for n in reply_notifications(api, carol) if n[1] == r5["id"]]
    assert rt_util.polled_events(api, carol.token, since, lambda e: True) == []
    # not merely hidden while she is out: none was made (she still follows,
    # and back in the channel she does not find it)
    assert following_row(server, root["id"], carol.id) == 1
    r = api.post("/api/channels/%d/members" % ch["id"], {"user_id": carol.id}, token=bob.token)
    assert r.status_code == 201, r.text
    assert not [n for n in reply_notifications(api, carol) if n[1] == r5["id"]]
    r6 = reply(api, alice, ch, root, "welcome back")
    assert ("reply", r6["id"]) in reply_notifications(api, carol)
    # the outsider never follows or hears
    assert not [n for n in reply_notifications(api, dave) if n[0] == "reply"]


def test_thread_updated_on_the_long_poll_to_members_only(api, room):
    alice, bob, carol, dave, ch = room
    root = api.send(bob.token, ch["id"], "poll me")
    since = {u.username: rt_util.last_event_id(api, u.token) for u in (carol, dave)}
    r1 = reply(api, alice, ch, root, "first")

    def thread(e):
        return e["type"] == "thread.updated"
    evs = rt_util.polled_events(api, carol.token, since[carol.username], thread)
    assert [(e["channel_id"], e["message"]["id"]) for e in evs] == [(ch["id"], root["id"])]
    assert evs[0]["message"]["reply_count"] == 1
    assert evs[0]["message"]["last_reply_at"] == r1["created_at"]
    assert rt_util.polled_events(api, dave.token, since[dave.username], lambda e: True) == []


@needs_ws
def test_thread_updated_live_and_replayed_to_members_only(server, api, room):
    alice, bob, carol, dave, ch = room
    root = api.send(bob.token, ch["id"], "live thread")
    member = server.connect(carol.token)
    outsider = server.connect(dave.token)
    try:
        since = member.hello["last_event_id"]
        reply(api, alice, ch, root, "live reply")
        ev = member.wait_for(lambda f: f.get("type") == "thread.updated", timeout=10,
                             what="thread.updated")
        assert ev["message"]["id"] == root["id"] and ev["message"]["reply_count"] == 1
        marker = api.create_channel(bob.token)
        outsider.wait_for(lambda f: f.get("type") == "channel.created"
                          and f["channel"]["id"] == marker["id"], timeout=10, what="marker")
        assert not [f for f in outsider.frames if f.get("type") in (
            "thread.updated", "message.created", "notification")]
    finally:
        member.close()
        outsider.close()
    replay = WS(server.ws_url(carol.token, since=since))
    try:
        ev = replay.wait_for(lambda f: f.get("type") == "thread.updated", timeout=10,
                             what="replay")
        assert ev["message"]["id"] == root["id"]
    finally:
        replay.close()
    theirs = WS(server.ws_url(dave.token, since=since))
    try:
        marker = api.create_channel(bob.token)
        theirs.wait_for(lambda f: f.get("type") == "channel.created"
                        and f["channel"]["id"] == marker["id"], timeout=10, what="marker")
        assert not [f for f in theirs.frames if f.get("type") == "thread.updated"]
    finally:
        theirs.close()


@pytest.mark.skipif(pg_util.ENGINE == "postgres", reason="a SQLite file's migration")
def test_migration_017_counts_existing_replies(tmp_path):
    """A database made before threads (schema 016) with replies, a deleted
    reply and a deleted notification: 017 counts the replies, follows for
    their authors and the roots', and keeps notification ids unused."""
    import os
    import shutil
    import sqlite3
    import subprocess
    from conftest import REPO

    ctl = os.environ.get("PARLEY_BIN", str(REPO / "build" / "bin")) + "/parleyctl"
    old = tmp_path / "schema16"
    old.mkdir()
    for f in sorted((REPO / "schema").glob("0*.sql")):
        if f.name < "017":
            shutil.copy(f, old / f.name)
    secret = tmp_path / "jwt"
    secret.write_text("migration-test-secret-0123456789abcdef")
    secret.chmod(0o600)
    conf = tmp_path / "parley.conf"
    conf.write_text("db_path = %s\njwt_secret_file = %s\n" % (tmp_path / "p.db", secret))
    env = dict(os.environ, PARLEY_CONFIG=str(conf))

    def migrate(schema):
        r = subprocess.run([ctl, "migrate", str(schema)], env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr

    migrate(old)
    db = sqlite3.connect(str(tmp_path / "p.db"))
    db.executescript("""
        INSERT INTO users (username, password_hash, created_at) VALUES ('a', 'x', 1), ('b', 'x', 1);
        INSERT INTO channels (name, kind, created_at) VALUES ('c', 'public', 1);
        INSERT INTO messages (channel_id, user_id, content, created_at) VALUES (1, 1, 'root', 10);
        INSERT INTO messages (channel_id, user_id, content, created_at, reply_to)
            VALUES (1, 2, 'r1', 20, 1), (1, 2, 'r2', 30, 1);
        INSERT INTO messages (channel_id, user_id, content, created_at, reply_to, deleted)
            VALUES (1, 1, '', 40, 1, 1);
        INSERT INTO notifications (user_id, kind, message_id, created_at)
            VALUES (1, 'mention', 2, 5), (1, 'dm', 3, 6);
        DELETE FROM notifications WHERE id = 2;
    """)
    db.commit()
    db.close()
    migrate(REPO / "schema")
    db = sqlite3.connect(str(tmp_path / "p.db"))
    try:
        assert db.execute("SELECT reply_count, last_reply_at FROM messages WHERE id = 1"
                          ).fetchone() == (2, 30)
        assert db.execute("SELECT count(*) FROM messages WHERE reply_count <> 0").fetchone() == (1,)
        assert db.execute("SELECT message_id, user_id, following FROM thread_follows "
                          "ORDER BY user_id").fetchall() == [(1, 1, 1), (1, 2, 1)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        db.execute("INSERT INTO notifications (user_id, kind, message_id, created_at) "
                   "VALUES (2, 'reply', 2, 7)")
        assert db.execute("SELECT id, kind FROM notifications ORDER BY id").fetchall() == [
            (1, "mention"), (3, "reply")]     # id 2 was used once: never again
    finally:
        db.close()
