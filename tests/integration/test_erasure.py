"""Erasure reaches the event log (issue 20).

After DELETE /api/users/me nothing shows the account's old username,
display name, avatar URL, bio, status text or email: not the events a
member replays from since=0 (WebSocket and long poll, searched as the raw
text the server sent), not a direct message channel's name, not the
notifications of the people it wrote to, not REST, and not any row of the
database. Its messages stay, shown as from `deleted-user-<id>` as REST
shows them.

Alice does everything a member can (profile, join, post, mention, edit,
delete, react, read, typing, presence, a role change, two direct message
channels, a socket of her own) before she deletes her account; Bob and
Carol share all of it. An upgrade renames the direct message channels of
accounts erased before it (schema 008), on either engine.
"""

import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
import websocket

import pg_util
from conftest import REPO, start_server
from conv_util import CONV_CONF, Conv, emoji_path
from helpers import PASSWORD, WS, assert_json, unique_channel

CTL = os.environ.get("PARLEY_BIN", str(REPO / "build" / "bin")) + "/parleyctl"
REPLAY_TYPES = {"message.created", "message.updated", "message.deleted", "reaction.added",
                "reaction.removed", "member.joined", "member.left", "member.updated", "read",
                "notification", "channel.created", "channel.updated"}


@pytest.fixture(scope="module")
def cv():
    with start_server(extra_conf=CONV_CONF) as srv:
        yield Conv(srv, ["alice", "bob", "carol", "marker"])


def traces_in(text, secrets):
    """The names of `secrets` ({name: string}) found in `text`, ignoring case."""
    low = text.lower()
    return sorted(k for k, s in secrets.items() if s.lower() in low)


def raw_ws_replay(cv, user, marker_name):
    """The raw text of every frame a socket opened with since=0 gets, up to
    and including the public channel.created of `marker_name` (committed
    after the socket opened, so it comes after the whole replay)."""
    conn = websocket.create_connection(cv.srv.ws_url(user.token, since=0), timeout=10)
    raw = []
    try:
        cv.channel(cv.marker, name=marker_name)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                text = conn.recv()
            except websocket.WebSocketTimeoutException:
                continue
            raw.append(text)
            f = json.loads(text)
            if f.get("type") == "channel.created" and f["channel"]["name"] == marker_name:
                return raw
        raise AssertionError("marker not replayed; got %r" % raw[-5:])
    finally:
        conn.close()


def raw_poll_replay(cv, user, upto):
    """The raw bodies of the long polls from since=0 up to event `upto`."""
    since, bodies = 0, []
    for _ in range(200):
        r = cv.req("GET", "/api/events", user, params={"since": since, "timeout": 0})
        body = assert_json(r, 200)
        bodies.append(r.text)
        if body["last_event_id"] >= upto or body["last_event_id"] == since:
            break
        since = body["last_event_id"]
    return bodies


def db_rows_holding(db_path, secrets):
    """{table: [secret names]} for every table of the server's database
    with a row that holds one of `secrets` (any column, ignoring case)."""
    con = pg_util.connect(db_path)
    found = {}
    try:
        if isinstance(con, pg_util.PgConnection):
            tables = [r[0] for r in con.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        else:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            text = "\n".join(repr(row) for row in con.execute('SELECT * FROM "%s"' % t))
            hits = traces_in(text, secrets)
            if hits:
                found[t] = hits
    finally:
        con.close()
    return found


def ok(r, *codes):
    assert r.status_code in codes, "%s %s: %d %s" % (r.request.method, r.request.url,
                                                     r.status_code, r.text[:300])
    return r


def test_erased_account_leaves_no_trace_in_replay_dm_names_notifications(cv):
    alice, bob, carol = cv.alice, cv.bob, cv.carol
    tag = uuid.uuid4().hex[:10]
    profile = {"display_name": "Alice Liddell %s" % tag, "bio": "bio of %s, to go" % tag,
               "status_text": "status %s" % tag,
               "avatar_url": "https://avatars.example/%s.png" % tag,
               "email": "alice.%s@mail.example" % tag}
    secrets = dict(profile, username=alice.username)
    gone = "deleted-user-%d" % alice.id
    assert_json(cv.req("PATCH", "/api/users/me", alice, profile), 200)

    # Alice's own socket (presence online, then offline once it closes).
    alice_ws = WS(cv.srv.ws_url(alice.token))
    # Bob's live socket, open across the deletion.
    bob_ws = WS(cv.srv.ws_url(bob.token))

    # A public channel she joins and writes in, a private one where she
    # becomes admin.
    pub = cv.channel(bob, name=unique_channel("pub"))["id"]
    for u in (alice, carol):
        ok(cv.req("POST", "/api/channels/%d/join" % pub, u), 200)
    priv = cv.channel(bob, name=unique_channel("prv"), kind="private",
                      members=[alice.id, carol.id])["id"]
    ok(cv.req("POST", "/api/channels/%d/members" % priv, bob,
              {"user_id": alice.id, "role": "admin"}), 200, 201)
    m1 = cv.send(alice, pub, "hello @%s, a mention" % bob.username)
    assert_json(cv.req("PATCH", "/api/messages/%d" % m1["id"], alice,
                       {"content": "hello again @%s" % bob.username}), 200)
    m2 = cv.send(alice, pub, "a slip, deleted")
    ok(cv.req("DELETE", "/api/messages/%d" % m2["id"], alice), 204)
    m3 = cv.send(bob, pub, "hi there")
    for e in ("👍", "🎉"):
        ok(cv.req("PUT", emoji_path(m3["id"], e), alice), 204)
    ok(cv.req("DELETE", emoji_path(m3["id"], "🎉"), alice), 204)
    ok(cv.req("POST", "/api/channels/%d/read" % pub, alice, {"message_id": m3["id"]}), 204)
    ok(cv.req("POST", "/api/channels/%d/typing" % pub, alice), 204)
    ok(cv.req("POST", "/api/presence/join", alice, {"channel_id": pub}), 200)
    ok(cv.req("POST", "/api/presence/heartbeat", alice, {"status": "away"}), 204)
    cv.send(alice, priv, "in private")
    # Direct messages: one she opens with Bob, one Bob opens with both.
    dm = assert_json(cv.req("POST", "/api/channels/dm", alice, {"user_ids": [bob.id]}), 201)
    group = assert_json(cv.req("POST", "/api/channels/dm", bob,
                               {"user_ids": [alice.id, carol.id]}), 201)
    assert alice.username in dm["name"] and alice.username in group["name"]  # control
    cv.send(alice, dm["id"], "psst")
    cv.send(alice, group["id"], "hello both")
    cv.send(bob, dm["id"], "yes?")

    notes = assert_json(cv.req("GET", "/api/notifications", bob), 200)["notifications"]
    assert {n["kind"] for n in notes} == {"mention", "dm"}, notes
    bob_ws.wait_for(lambda f: f.get("type") == "message.created"
                    and f["message"]["content"] == "yes?", timeout=10)
    assert traces_in(json.dumps(bob_ws.frames), secrets), "control: live frames named her"

    r = cv.req("DELETE", "/api/users/me", alice, {"password": PASSWORD})
    assert r.status_code == 204, r.text
    alice_ws.close()

    # Live: the direct message channels are renamed at once.
    names = {}
    for _ in range(2):
        f = bob_ws.wait_for(lambda f: f.get("type") == "channel.updated"
                            and f["channel"]["id"] in (dm["id"], group["id"])
                            and f["channel"]["id"] not in names, timeout=10,
                            what="channel.updated of a dm")
        names[f["channel"]["id"]] = f["channel"]["name"]
    bob_ws.close()
    ids = sorted([alice.id, bob.id])
    assert names[dm["id"]] == ", ".join(gone if i == alice.id else bob.username for i in ids)
    people = {alice.id: gone, bob.id: bob.username, carol.id: carol.username}
    assert names[group["id"]] == ", ".join(people[i] for i in sorted(people))

    # Replay from since=0, over both transports, as Bob and as Carol.
    for user in (bob, carol):
        raw = raw_ws_replay(cv, user, unique_channel("mk"))
        frames = [json.loads(t) for t in raw]
        events = [f for f in frames if "event_id" in f][:-1]
        upto = events[-1]["event_id"]
        bodies = raw_poll_replay(cv, user, upto)
        polled = [e for b in bodies for e in json.loads(b)["events"] if e["event_id"] <= upto]
        where = "%s's replay" % user.username
        assert traces_in("\n".join(raw), secrets) == [], where + " over WebSocket"
        assert traces_in("\n".join(bodies), secrets) == [], where + " over the long poll"
        assert [e["event_id"] for e in events] == [e["event_id"] for e in polled
                                                   if e["type"] != "typing"], where
        # controls: her events are all there, shown as from the erased account
        types = {e["type"] for e in events}
        assert REPLAY_TYPES - {"notification"} <= types, (where, REPLAY_TYPES - types)
        hers = [e for e in events if e["type"].startswith("message.")
                and e["message"]["user_id"] == alice.id]
        assert hers and {e["message"]["username"] for e in hers} == {gone}, where
        assert any(e["type"] == "member.joined" and e["user_id"] == alice.id for e in events)
        assert any(e["type"] == "reaction.added" and e["user_id"] == alice.id for e in events)
        # (her presence events are not among them: presence goes to those
        # who share a channel with her now, and she shares none)
        dm_names = {e["channel"]["name"] for e in events
                    if e["type"].startswith("channel.") and e["channel"]["kind"] == "dm"}
        assert dm_names and all(gone in n for n in dm_names), (where, dm_names)
        if user is bob:
            noted = [e for e in events if e["type"] == "notification"]
            assert {e["notification"]["kind"] for e in noted} == {"mention", "dm"}, where
            assert {e["notification"]["message"]["username"] for e in noted} == {gone}, where

    # The direct message channels' names, in REST too.
    for user, cid in ((bob, dm["id"]), (bob, group["id"]), (carol, group["id"])):
        c = assert_json(cv.req("GET", "/api/channels/%d" % cid, user), 200)
        assert "alice" not in c["name"].lower() and gone in c["name"], c
        assert c["name"] == names[cid]
    # Bob's notifications: still there, from the erased account.
    r = cv.req("GET", "/api/notifications", bob)
    notes = assert_json(r, 200)["notifications"]
    assert traces_in(r.text, secrets) == [], "GET /api/notifications"
    assert {n["kind"] for n in notes} == {"mention", "dm"}
    assert {n["message"]["username"] for n in notes} == {gone}
    # REST agrees everywhere Bob looks.
    for path in ["/api/channels", "/api/presence", "/api/users?q=alice",
                 "/api/users?q=" + alice.username[:8]] + [
            "/api/messages/history?channel=%d" % c for c in (pub, priv, dm["id"], group["id"])] + [
            "/api/channels/%d/members" % c for c in (pub, priv, dm["id"], group["id"])]:
        r = cv.req("GET", path, bob)
        assert_json(r, 200)
        assert traces_in(r.text, secrets) == [], path
    assert cv.req("GET", "/api/users/%d" % alice.id, bob).status_code == 404
    kept = assert_json(cv.req("GET", "/api/messages/%d" % m1["id"], bob), 200)
    assert (kept["user_id"], kept["username"], kept["content"]) == (
        alice.id, gone, "hello again @%s" % bob.username)
    # Nor does any row of the database hold them.
    assert db_rows_holding(cv.srv.db, secrets) == {}


def test_control_live_account_is_found_everywhere(cv):
    """The searches above can fail: a live account's username is in its
    dm's name, in a member's replay and in the database."""
    bob, carol = cv.bob, cv.carol
    secrets = {"username": carol.username}
    r = cv.req("POST", "/api/channels/dm", bob, {"user_ids": [carol.id]})
    assert r.status_code in (200, 201), r.text
    assert carol.username in r.json()["name"]
    raw = raw_ws_replay(cv, bob, unique_channel("mk"))
    assert traces_in("\n".join(raw), secrets) == ["username"]
    assert "channels" in db_rows_holding(cv.srv.db, secrets)


def test_upgrade_renames_dms_of_accounts_erased_before(tmp_path):
    """Schema 008 on a database of schema 7 where ann (id 1) was erased
    before erasure renamed dm channels: her dms are named after
    deleted-user-1, the others and a public channel named like her stay."""
    old = tmp_path / "schema"
    (old / "postgres").mkdir(parents=True)
    for f in sorted((REPO / "schema").glob("00[1-7]_*.sql")):
        shutil.copy(f, old)
    shutil.copy(REPO / "schema" / "postgres" / "007_initial.sql", old / "postgres")
    env = dict(os.environ, PARLEY_JWT_SECRET="erasure-test-secret-0123456789abcdef")
    env.pop("PARLEY_CONFIG", None)
    if pg_util.ENGINE == "postgres":
        url = env["PARLEY_DB_URL"] = pg_util.cluster().new_database()
        con = pg_util.PgConnection(url)
    else:
        path = str(tmp_path / "parley.db")
        env["PARLEY_DB_PATH"] = path
        con = None

    def ctl(*args):
        r = subprocess.run([CTL] + list(args), env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    assert "schema version 7" in ctl("migrate", str(old))
    if con is None:
        import sqlite3
        con = sqlite3.connect(path)
    try:
        con.execute("INSERT INTO users (id, username, password_hash, created_at, deleted_at) "
                    "VALUES (1, 'deleted-user-1', '!', 1, 5), (2, 'ben', 'x', 1, NULL), "
                    "(3, 'cat', 'x', 1, NULL), (10, 'Zed', 'x', 1, NULL)")
        con.execute("INSERT INTO channels (id, name, kind, created_at, dm_key) VALUES "
                    "(1, 'ann, ben', 'dm', 1, '1,2'), (2, 'ann, ben, cat', 'dm', 1, '1,2,3'), "
                    "(3, 'ben, cat', 'dm', 1, '2,3'), (4, 'ann', 'public', 1, NULL), "
                    "(5, 'ben, Zed', 'dm', 1, '2,10')")
        con.commit()
        # 8 and whatever came after it
        out = ctl("migrate", str(REPO / "schema"))
        assert int(re.search(r"schema version (\d+)", out).group(1)) >= 8, out
        names = dict(con.execute("SELECT id, name FROM channels ORDER BY id").fetchall())
    finally:
        con.close()
    assert names == {1: "deleted-user-1, ben", 2: "deleted-user-1, ben, cat", 3: "ben, cat",
                     4: "ann", 5: "ben, Zed"}
