"""Conversations (issue 4): channels, DMs, membership and roles,
edit/delete/reactions/replies, read markers and unread counts, search,
mentions and notifications — against a real server of its own."""

import concurrent.futures
import uuid

import pytest

from conftest import start_server
from conv_util import CONV_CONF, Conv, emoji_path, ro_db
from helpers import CHANNEL_KEYS, MESSAGE_KEYS, assert_error, assert_json, assert_time, make_user

# lib/events.h enum pl_event_scope
SCOPE_CHANNEL, SCOPE_USER, SCOPE_ALL, SCOPE_PEERS = 0, 1, 2, 3


@pytest.fixture(scope="module")
def cv():
    with start_server(extra_conf=CONV_CONF) as srv:
        yield Conv(srv, ["owner", "admin", "member", "author", "outsider", "other"])


def db_one(cv, query, args=()):
    """One row of a read-only query on the module's database."""
    con = ro_db(cv.srv.db)
    try:
        return con.execute(query, args).fetchone()
    finally:
        con.close()


def events(cv, type_, **match):
    """Event rows of a type (read-only peek at the events table)."""
    con = ro_db(cv.srv.db)
    try:
        rows = con.execute("SELECT scope, channel_id, user_id, payload FROM events "
                           "WHERE type = ? ORDER BY id", (type_,)).fetchall()
    finally:
        con.close()
    out = []
    for scope, ch, uid, payload in rows:
        if all({"channel_id": ch, "user_id": uid, "scope": scope}[k] == v
               for k, v in match.items()):
            out.append((scope, ch, uid, payload))
    return out


# ------------------------------------------------------------ channels

def test_patch_and_delete_channel(cv):
    ch = cv.channel(cv.owner, topic="t0")
    cid = ch["id"]
    r = cv.req("POST", "/api/channels/%d/members" % cid, cv.owner,
               {"user_id": cv.admin.id, "role": "admin"})
    m = assert_json(r, 201)
    assert m["role"] == "admin" and m["user"]["id"] == cv.admin.id
    assert_time(m["joined_at"])
    # admin may rename; the new name shows; name clash 409
    r = cv.req("PATCH", "/api/channels/%d" % cid, cv.admin, {"topic": "new topic", "name": " renamed-%d " % cid})
    body = assert_json(r, 200)
    assert set(body) == CHANNEL_KEYS
    assert body["topic"] == "new topic" and body["name"] == "renamed-%d" % cid
    other = cv.channel(cv.owner)
    assert_error(cv.req("PATCH", "/api/channels/%d" % other["id"], cv.owner,
                        {"name": "RENAMED-%d" % cid}), 409, "conflict")
    assert_error(cv.req("PATCH", "/api/channels/%d" % cid, cv.owner, {"name": ""}), 400, "bad_request")
    assert_error(cv.req("PATCH", "/api/channels/%d" % cid, cv.owner, {"name": 5}), 400, "bad_request")
    assert len(events(cv, "channel.updated", channel_id=cid)) == 1
    # admin may not delete; owner may
    assert_error(cv.req("DELETE", "/api/channels/%d" % cid, cv.admin), 403, "forbidden")
    word = "doomed" + uuid.uuid4().hex[:8]
    mid = cv.send(cv.owner, cid, "%s words" % word)["id"]
    mid2 = cv.send(cv.admin, cid, "more %s words" % word)["id"]
    # positive control: the search and the database see them before the DELETE
    r = cv.req("GET", "/api/messages/search", cv.owner, params={"q": word})
    assert [m["id"] for m in assert_json(r, 200)["messages"]] == [mid2, mid]
    count_sql = "SELECT count(*) FROM messages WHERE channel_id = ?"
    assert db_one(cv, count_sql, (cid,))[0] == 2
    r = cv.req("DELETE", "/api/channels/%d" % cid, cv.owner)
    assert r.status_code == 204, r.text
    assert_error(cv.req("GET", "/api/channels/%d" % cid, cv.owner), 404, "not_found")
    assert_error(cv.req("GET", "/api/messages/%d" % mid, cv.owner), 404, "not_found")
    r = cv.req("GET", "/api/messages/search", cv.owner, params={"q": word})
    assert assert_json(r, 200)["messages"] == []
    assert db_one(cv, count_sql, (cid,))[0] == 0  # its messages went with it
    rows = events(cv, "channel.deleted", channel_id=cid)
    assert [r[0] for r in rows] == [SCOPE_ALL]  # public: one, to all


def test_private_delete_tells_each_member(cv):
    ch = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    assert cv.req("DELETE", "/api/channels/%d" % ch["id"], cv.owner).status_code == 204
    rows = events(cv, "channel.deleted", channel_id=ch["id"])
    assert sorted(r[2] for r in rows) == sorted([cv.owner.id, cv.member.id])
    assert all(r[0] == SCOPE_USER for r in rows)


def test_dm_find_or_create(cv):
    r = cv.req("POST", "/api/channels/dm", cv.owner, {"user_ids": [cv.member.id]})
    dm = assert_json(r, 201)
    assert dm["kind"] == "dm" and dm["member_count"] == 2
    # same set, other caller, duplicates and the caller listed: the same channel
    r = cv.req("POST", "/api/channels/dm", cv.member, {"user_ids": [cv.owner.id, cv.owner.id, cv.member.id]})
    assert assert_json(r, 200)["id"] == dm["id"]
    # another set: another channel
    r = cv.req("POST", "/api/channels/dm", cv.owner, {"user_ids": [cv.member.id, cv.author.id]})
    assert assert_json(r, 201)["id"] != dm["id"]
    for bad in ([], [cv.owner.id], [999999], ["1"], None):
        assert_error(cv.req("POST", "/api/channels/dm", cv.owner, {"user_ids": bad}), 400, "bad_request")
    # 1-8 others: with 9 real users it is the limit that refuses, 8 are fine
    extra = [make_user(cv.api, "dmx") for _ in range(4)]
    others = [u.id for u in (cv.admin, cv.member, cv.author, cv.outsider, cv.other) + tuple(extra)]
    assert len(set(others)) == 9 and cv.owner.id not in others
    assert_error(cv.req("POST", "/api/channels/dm", cv.owner, {"user_ids": others}), 400, "bad_request")
    big = assert_json(cv.req("POST", "/api/channels/dm", cv.owner, {"user_ids": others[:8]}), 201)
    assert big["kind"] == "dm" and big["member_count"] == 9
    assert_error(cv.req("POST", "/api/channels/dm", cv.owner, {}), 400, "bad_request")
    # an outsider cannot see it; members cannot rename/delete/leave/add
    assert_error(cv.req("GET", "/api/channels/%d" % dm["id"], cv.outsider), 404, "not_found")
    assert_error(cv.req("PATCH", "/api/channels/%d" % dm["id"], cv.owner, {"name": "x"}), 403, "forbidden")
    assert_error(cv.req("DELETE", "/api/channels/%d/members/%d" % (dm["id"], cv.owner.id), cv.owner),
                 403, "forbidden")
    assert_error(cv.req("POST", "/api/channels/%d/join" % dm["id"], cv.outsider), 404, "not_found")


def test_dm_concurrent_creates_one(cv):
    body = {"user_ids": [cv.outsider.id, cv.other.id]}
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda _: cv.req("POST", "/api/channels/dm", cv.author, body), range(8)))
    assert all(r.status_code in (200, 201) for r in rs), [r.text for r in rs]
    assert len({r.json()["id"] for r in rs}) == 1
    assert sum(r.status_code == 201 for r in rs) == 1


def test_membership_and_roles(cv):
    ch = cv.channel(cv.owner, kind="private")
    cid = ch["id"]
    base = "/api/channels/%d/members" % cid
    # a plain member cannot add; an outsider cannot even see it
    assert cv.req("POST", base, cv.owner, {"user_id": cv.member.id}).status_code == 201
    assert_error(cv.req("POST", base, cv.member, {"user_id": cv.other.id}), 403, "forbidden")
    assert_error(cv.req("POST", base, cv.outsider, {"user_id": cv.outsider.id}), 404, "not_found")
    assert_error(cv.req("POST", base, cv.owner, {"user_id": cv.other.id, "role": "king"}), 400, "bad_request")
    assert_error(cv.req("POST", base, cv.owner, {"user_id": 99999999}), 400, "bad_request")
    assert cv.req("POST", base, cv.owner, {"user_id": cv.admin.id, "role": "admin"}).status_code == 201
    # an admin cannot make owners, nor remove the owner or other admins
    assert_error(cv.req("POST", base, cv.admin, {"user_id": cv.member.id, "role": "owner"}), 403, "forbidden")
    assert_error(cv.req("DELETE", base + "/%d" % cv.owner.id, cv.admin), 403, "forbidden")
    # role change of an existing member: 200
    r = cv.req("POST", base, cv.admin, {"user_id": cv.member.id, "role": "admin"})
    assert assert_json(r, 200)["role"] == "admin"
    r = cv.req("POST", base, cv.owner, {"user_id": cv.member.id, "role": "member"})
    assert assert_json(r, 200)["role"] == "member"
    members = assert_json(cv.req("GET", base, cv.member), 200)["members"]
    roles = {m["user"]["id"]: m["role"] for m in members}
    assert roles == {cv.owner.id: "owner", cv.admin.id: "admin", cv.member.id: "member"}
    for m in members:
        assert "password_hash" not in m["user"] and "email" not in m["user"]
    # the last owner cannot leave nor demote themself
    assert_error(cv.req("DELETE", base + "/%d" % cv.owner.id, cv.owner), 409, "conflict")
    assert_error(cv.req("POST", base, cv.owner, {"user_id": cv.owner.id, "role": "admin"}), 409, "conflict")
    # hand over, then leave
    assert cv.req("POST", base, cv.owner, {"user_id": cv.admin.id, "role": "owner"}).status_code == 200
    assert cv.req("DELETE", base + "/%d" % cv.owner.id, cv.owner).status_code == 204
    assert_error(cv.req("GET", "/api/channels/%d" % cid, cv.owner), 404, "not_found")
    # the new owner removes a member; the removed member gets their own member.left
    assert cv.req("DELETE", base + "/%d" % cv.member.id, cv.admin).status_code == 204
    assert_error(cv.req("DELETE", base + "/%d" % cv.member.id, cv.admin), 404, "not_found")
    left = events(cv, "member.left", channel_id=cid, user_id=cv.member.id)
    assert sorted(r[0] for r in left) == [0, 1]
    assert_error(cv.req("GET", "/api/messages/history", cv.member, params={"channel": cid}), 404, "not_found")


def test_join_public_only_and_leave(cv):
    pub = cv.channel(cv.owner)
    priv = cv.channel(cv.owner, kind="private")
    r = cv.req("POST", "/api/channels/%d/join" % pub["id"], cv.other)
    assert assert_json(r, 200)["role"] == "member"
    assert_error(cv.req("POST", "/api/channels/%d/join" % priv["id"], cv.other), 404, "not_found")
    assert cv.req("DELETE", "/api/channels/%d/members/%d" % (pub["id"], cv.other.id), cv.other).status_code == 204
    assert cv.req("GET", "/api/channels/%d" % pub["id"], cv.other).json()["role"] is None


def test_typing(cv):
    ch = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    cid = ch["id"]
    ws = cv.srv.connect(cv.member.token)
    try:
        assert cv.req("POST", "/api/channels/%d/typing" % cid, cv.owner).status_code == 204
        f = ws.wait_for(lambda f: f.get("type") == "typing", what="typing")
        assert (f["user_id"], f["channel_id"]) == (cv.owner.id, cid)
        # control: the outsider's 404 writes nothing, so nothing reaches the member
        assert_error(cv.req("POST", "/api/channels/%d/typing" % cid, cv.outsider), 404, "not_found")
        assert [r[2] for r in events(cv, "typing", channel_id=cid)] == [cv.owner.id]
        m = cv.send(cv.owner, cid, "after the typing")  # events arrive in order
        ws.wait_for(lambda f: f.get("type") == "message.created" and f["message"]["id"] == m["id"],
                    what="message.created")
        assert [(x["user_id"], x["channel_id"]) for x in ws.frames if x.get("type") == "typing"] \
            == [(cv.owner.id, cid)]
    finally:
        ws.close()


# ------------------------------------------------------------ messages

def test_get_edit_delete_reply(cv):
    ch = cv.channel(cv.owner, members=[cv.admin.id, cv.member.id])
    r = cv.req("POST", "/api/channels/%d/members" % ch["id"], cv.owner, {"user_id": cv.admin.id, "role": "admin"})
    assert assert_json(r, 200)["role"] == "admin"  # a role change of a member: 200
    m = cv.send(cv.member, ch["id"], "first")
    r = cv.req("GET", "/api/messages/%d" % m["id"], cv.outsider)  # public: readable
    got = assert_json(r, 200)
    assert set(got) == MESSAGE_KEYS and got["content"] == "first" and got["edited_at"] is None
    reply = cv.send(cv.admin, ch["id"], "re", reply_to=m["id"])
    assert reply["reply_to"] == m["id"]
    other = cv.channel(cv.owner)
    assert_error(cv.req("POST", "/api/messages", cv.owner,
                        {"channel_id": other["id"], "content": "x", "reply_to": m["id"]}), 400, "bad_request")
    # edit: author only
    assert_error(cv.req("PATCH", "/api/messages/%d" % m["id"], cv.owner, {"content": "hijack"}), 403, "forbidden")
    assert_error(cv.req("PATCH", "/api/messages/%d" % m["id"], cv.member, {"content": "   "}), 400, "bad_request")
    assert_error(cv.req("PATCH", "/api/messages/%d" % m["id"], cv.member, {"content": "x" * 4001}), 400, "bad_request")
    r = cv.req("PATCH", "/api/messages/%d" % m["id"], cv.member, {"content": "  edited  "})
    e = assert_json(r, 200)
    assert e["content"] == "edited"
    assert_time(e["edited_at"])
    assert len(events(cv, "message.updated", channel_id=ch["id"])) == 1
    # delete: a plain member who is not the author may not; an admin may
    m2 = cv.send(cv.admin, ch["id"], "second")
    assert_error(cv.req("DELETE", "/api/messages/%d" % m2["id"], cv.member), 403, "forbidden")
    assert cv.req("DELETE", "/api/messages/%d" % m["id"], cv.admin).status_code == 204
    t = assert_json(cv.req("GET", "/api/messages/%d" % m["id"], cv.member), 200)
    assert t["deleted"] is True and t["content"] == ""
    assert cv.req("DELETE", "/api/messages/%d" % m["id"], cv.member).status_code == 204  # idempotent
    assert_error(cv.req("PATCH", "/api/messages/%d" % m["id"], cv.member, {"content": "zombie"}), 409, "conflict")
    hist = cv.api.history(cv.member.token, ch["id"]).json()
    assert [x["id"] for x in hist if x["deleted"]] == [m["id"]]
    assert len(events(cv, "message.deleted", channel_id=ch["id"])) == 1
    for bad in ("0", "abc", "99999999"):
        assert_error(cv.req("GET", "/api/messages/%s" % bad, cv.member), 404, "not_found")


def test_reactions(cv):
    ch = cv.channel(cv.owner, members=[cv.member.id])
    m = cv.send(cv.owner, ch["id"], "react to me")
    for emoji in ("👍", "+1", "🇫🇷"):
        r = cv.req("PUT", emoji_path(m["id"], emoji), cv.member)
        assert r.status_code == 204, r.text
    assert cv.req("PUT", emoji_path(m["id"], "👍"), cv.member).status_code == 204  # idempotent
    assert cv.req("PUT", emoji_path(m["id"], "👍"), cv.owner).status_code == 204
    got = cv.req("GET", "/api/messages/%d" % m["id"], cv.owner).json()["reactions"]
    assert got[0] == {"emoji": "👍", "count": 2, "me": True}
    assert {"emoji": "+1", "count": 1, "me": False} in got and len(got) == 3
    got = cv.req("GET", "/api/messages/%d" % m["id"], cv.member).json()["reactions"]
    assert got == [{"emoji": "👍", "count": 2, "me": True}, {"emoji": "+1", "count": 1, "me": True},
                   {"emoji": "🇫🇷", "count": 1, "me": True}]  # in order of first use
    hist = cv.api.history(cv.owner.token, ch["id"]).json()
    assert hist[-1]["reactions"][0] == {"emoji": "👍", "count": 2, "me": True}
    assert len(events(cv, "reaction.added", channel_id=ch["id"])) == 4
    assert cv.req("DELETE", emoji_path(m["id"], "👍"), cv.member).status_code == 204
    assert cv.req("DELETE", emoji_path(m["id"], "👍"), cv.member).status_code == 204
    assert len(events(cv, "reaction.removed", channel_id=ch["id"])) == 1
    got = cv.req("GET", "/api/messages/%d" % m["id"], cv.owner).json()["reactions"]
    assert {"emoji": "👍", "count": 1, "me": True} in got and len(got) == 3
    for bad in ("a b", "x" * 33, "%00", "%C3%28", "%09", "%E2%80%A8"):
        r = cv.api.request("PUT", "/api/messages/%d/reactions/%s" % (m["id"], bad), token=cv.member.token)
        assert r.status_code in (400, 404), (bad, r.status_code, r.text)
        assert r.status_code == 400 or bad in ("%00",), (bad, r.text)
    assert_error(cv.req("PUT", emoji_path(99999999, "👍"), cv.member), 404, "not_found")


def test_idempotent_post_concurrent(cv):
    ch = cv.channel(cv.owner)
    cmid = uuid.uuid4().hex
    body = {"channel_id": ch["id"], "content": "once", "client_msg_id": cmid}
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda _: cv.req("POST", "/api/messages", cv.owner, body), range(16)))
    assert all(r.status_code in (200, 201) for r in rs), [r.text for r in rs]
    assert sum(r.status_code == 201 for r in rs) == 1
    assert len({r.json()["id"] for r in rs}) == 1
    con = ro_db(cv.srv.db)
    try:
        n = con.execute("SELECT count(*) FROM messages WHERE client_msg_id = ?", (cmid,)).fetchone()[0]
    finally:
        con.close()
    assert n == 1


def test_pagination_walk(cv):
    ch = cv.channel(cv.owner)
    ids = [cv.send(cv.owner, ch["id"], "m%d" % i)["id"] for i in range(300)]
    other = cv.channel(cv.owner)
    cv.send(cv.owner, other["id"], "interleaved")  # must never show up
    # backwards
    seen = []
    page = cv.api.history(cv.owner.token, ch["id"], limit=37).json()
    while page:
        assert [m["id"] for m in page] == sorted(m["id"] for m in page)
        seen = [m["id"] for m in page] + seen
        page = cv.api.history(cv.owner.token, ch["id"], limit=37, before=page[0]["id"]).json()
    assert seen == ids
    # forwards, from the first message (after= must be a positive id: the
    # first message may be id 1)
    seen, after = [ids[0]], ids[0]
    while True:
        page = assert_json(cv.api.history(cv.owner.token, ch["id"], limit=41, after=after), 200)
        if not page:
            break
        seen += [m["id"] for m in page]
        after = page[-1]["id"]
    assert seen == ids
    assert_error(cv.api.history(cv.owner.token, ch["id"], limit=201), 400, "bad_request")
    assert_error(cv.api.history(cv.owner.token, ch["id"], limit=0), 400, "bad_request")


def test_history_around(cv):
    """around=<id> (issue 17): a page centred on the message, oldest
    first, filled from the older side near the channel's end; only the
    channel's own messages; refused with before/after; 404 for a channel
    the caller cannot read."""
    ch = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    ids = [cv.send(cv.owner, ch["id"], "a%d" % i)["id"] for i in range(60)]
    other = cv.channel(cv.owner)
    cv.send(cv.owner, other["id"], "elsewhere")  # between none of them, still never shown

    def around(mid, **kw):
        return [m["id"] for m in assert_json(
            cv.api.history(cv.member.token, ch["id"], around=mid, **kw), 200)]

    assert around(ids[30], limit=10) == ids[26:36]      # 5 up to and with it, 5 after
    assert around(ids[30], limit=9) == ids[26:35]       # 5 with it, 4 after
    assert around(ids[2], limit=10) == ids[0:10]        # few older: the newer side fills
    assert around(ids[58], limit=10) == ids[50:60]      # few newer: the older side fills
    assert around(ids[0], limit=1) == [ids[0]]
    assert around(ids[30]) == ids[6:56]                 # default limit 50: 25 and 25
    # an id that is not one of the channel's still centres on its place
    assert around(ids[59] + 5, limit=4) == ids[56:60]
    page = assert_json(cv.api.history(cv.member.token, ch["id"], around=ids[10], limit=3), 200)
    assert [m["content"] for m in page] == ["a9", "a10", "a11"]
    for bad in ({"before": ids[5]}, {"after": ids[5]}):
        assert_error(cv.api.history(cv.member.token, ch["id"], around=ids[10], **bad),
                     400, "bad_request")
    for bad in ("x", "-3", "0", "1e3"):
        assert_error(cv.api.history(cv.member.token, ch["id"], around=bad), 400, "bad_request")
    assert_error(cv.api.history(cv.outsider.token, ch["id"], around=ids[10]), 404, "not_found")


# ------------------------------------------------------------ read markers

def test_read_markers_and_unread(cv):
    ch = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    cid = ch["id"]
    ids = [cv.send(cv.owner, cid, "u%d" % i)["id"] for i in range(5)]
    mine = cv.send(cv.member, cid, "mine")  # own messages never count
    c = cv.api.channel_in_list(cv.member.token, cid)
    assert c["unread_count"] == 5 and c["last_message_id"] == mine["id"]
    assert cv.req("POST", "/api/channels/%d/read" % cid, cv.member, {"message_id": ids[2]}).status_code == 204
    assert cv.api.channel_in_list(cv.member.token, cid)["unread_count"] == 2
    # never backwards
    assert cv.req("POST", "/api/channels/%d/read" % cid, cv.member, {"message_id": ids[0]}).status_code == 204
    assert cv.req("GET", "/api/channels/%d" % cid, cv.member).json()["unread_count"] == 2
    assert len(events(cv, "read", channel_id=cid)) == 1
    # deleted messages do not count
    cv.req("DELETE", "/api/messages/%d" % ids[4], cv.owner)
    assert cv.req("GET", "/api/channels/%d" % cid, cv.member).json()["unread_count"] == 1
    other = cv.channel(cv.owner)
    om = cv.send(cv.owner, other["id"], "elsewhere")
    assert_error(cv.req("POST", "/api/channels/%d/read" % cid, cv.member, {"message_id": om["id"]}), 400, "bad_request")
    assert_error(cv.req("POST", "/api/channels/%d/read" % cid, cv.member, {"message_id": "1"}), 400, "bad_request")
    assert_error(cv.req("POST", "/api/channels/%d/read" % cid, cv.outsider, {"message_id": ids[0]}), 404, "not_found")
    assert_error(cv.req("POST", "/api/channels/%d/read" % other["id"], cv.outsider, {"message_id": om["id"]}),
                 403, "forbidden")


# ------------------------------------------------------------ search

def test_search(cv):
    pub = cv.channel(cv.owner)
    priv = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    word = "zebra" + uuid.uuid4().hex[:8]
    a = cv.send(cv.owner, pub["id"], "a %s in public" % word)
    b = cv.send(cv.owner, priv["id"], "a %s in private" % word)
    c = cv.send(cv.member, priv["id"], "another %s there" % word)

    def search(user, q, **p):
        p["q"] = q
        return cv.req("GET", "/api/messages/search", user, params=p)

    got = [m["id"] for m in assert_json(search(cv.member, word), 200)["messages"]]
    assert got == [c["id"], b["id"], a["id"]]  # newest first
    got = [m["id"] for m in assert_json(search(cv.outsider, word), 200)["messages"]]
    assert got == [a["id"]]  # nothing of the private channel
    assert_error(search(cv.outsider, word, channel=priv["id"]), 404, "not_found")
    got = [m["id"] for m in assert_json(search(cv.member, word, channel=priv["id"], limit=1), 200)["messages"]]
    assert got == [c["id"]]
    assert [m["id"] for m in search(cv.member, "%s private" % word).json()["messages"]] == [b["id"]]
    # edits and deletes follow
    cv.req("PATCH", "/api/messages/%d" % c["id"], cv.member, {"content": "nothing here"})
    cv.req("DELETE", "/api/messages/%d" % a["id"], cv.owner)
    got = [m["id"] for m in search(cv.member, word).json()["messages"]]
    assert got == [b["id"]]
    # FTS syntax in the user's words is never an error: every word is
    # searched as plain text (punctuation separates words, as in the index)
    assert [m["id"] for m in assert_json(search(cv.member, word + '"'), 200)["messages"]] == [b["id"]]
    fts = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    s1 = cv.send(cv.owner, fts["id"], "and a or near col x")["id"]
    s2 = cv.send(cv.owner, fts["id"], "x marks the spot")["id"]
    cv.send(cv.owner, fts["id"], "nothing relevant")
    expect = {'"': [], 'AND': [s1], 'a OR': [s1], 'NEAR(': [s1], '*': [], '^x': [s2, s1],
              'col:x': [s1], 'x:col': [], '(': [], ')))': [], "'": [], '-x': [s2, s1],
              'x OR nothing': [], 'NOT near': []}
    for q, want in expect.items():
        got = [m["id"] for m in assert_json(search(cv.member, q, channel=fts["id"]), 200)["messages"]]
        assert got == want, (q, got, want)
    for q in ("", "   ", "x" * 300):
        assert_error(search(cv.member, q), 400, "bad_request")
    assert_error(cv.req("GET", "/api/messages/search", cv.member), 400, "bad_request")
    # issue 17: words match as prefixes, quoted text as a phrase, and each
    # hit carries a snippet with the matches between U+0002 and U+0003
    px = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    tag = "q" + uuid.uuid4().hex[:6]
    p1 = cv.send(cv.owner, px["id"], "%sapple pie for <b>everyone</b>" % tag)["id"]
    p2 = cv.send(cv.owner, px["id"], "everyone likes pie %sapple" % tag)["id"]
    p3 = cv.send(cv.owner, px["id"], "%sbanana" % tag)["id"]

    def ids(q):
        return [m["id"] for m in assert_json(search(cv.member, q, channel=px["id"]), 200)["messages"]]

    assert ids(tag) == [p3, p2, p1]
    assert ids(tag + "app") == [p2, p1]
    assert ids(tag + "app pi") == [p2, p1]
    assert ids('"pie for"') == [p1]
    assert ids('"for pie"') == []
    assert ids('"pie %sapple"' % tag) == [p2]
    assert ids('"pi %sapple"' % tag) == []       # a phrase is exact, no prefix
    assert ids('"unclosed pie for') == []        # to the end: "unclosed pie for"
    hit = assert_json(search(cv.member, tag + "app ever", channel=px["id"]), 200)["messages"]
    first = [m for m in hit if m["id"] == p1][0]
    assert "\x02%sapple\x03" % tag in first["snippet"], first["snippet"]
    assert "\x02everyone\x03" in first["snippet"], first["snippet"]
    assert "<b>" in first["snippet"] and first["content"].startswith(tag)  # plain text, as written
    assert_error(search(cv.outsider, tag, channel=px["id"]), 404, "not_found")
    assert ids(tag + "x") == []


# ------------------------------------------------------------ notifications

def test_mentions_and_dm_notifications(cv):
    ch = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    # @member (a member) is notified; @outsider (not a member) and the author are not
    m = cv.send(cv.owner, ch["id"], "hi @%s and @%s and @%s." % (cv.member.username.upper(),
                                                                 cv.outsider.username, cv.owner.username))
    r = cv.req("GET", "/api/notifications", cv.member, params={"unread": 1})
    ns = assert_json(r, 200)["notifications"]
    assert ns and ns[0]["kind"] == "mention" and ns[0]["message"]["id"] == m["id"]
    assert ns[0]["read"] is False and set(ns[0]) == {"id", "kind", "message", "created_at", "read"}
    assert_time(ns[0]["created_at"])
    assert not [n for n in cv.req("GET", "/api/notifications", cv.outsider).json()["notifications"]
                if n["message"]["id"] == m["id"]]
    assert not [n for n in cv.req("GET", "/api/notifications", cv.owner).json()["notifications"]
                if n["message"]["id"] == m["id"]]
    ev = events(cv, "notification", user_id=cv.member.id)
    assert ev and all(e[0] == SCOPE_USER for e in ev)
    # a DM notifies the others
    dm = cv.req("POST", "/api/channels/dm", cv.author, {"user_ids": [cv.member.id]}).json()
    d = cv.send(cv.author, dm["id"], "psst @%s" % cv.member.username)
    ns = cv.req("GET", "/api/notifications", cv.member, params={"unread": 1}).json()["notifications"]
    assert ns[0]["kind"] == "dm" and ns[0]["message"]["id"] == d["id"]
    assert len([n for n in ns if n["message"]["id"] == d["id"]]) == 1
    # mark one read, then all
    r = cv.req("POST", "/api/notifications/read", cv.member, {"ids": [ns[0]["id"]]})
    assert r.status_code == 204
    left = cv.req("GET", "/api/notifications", cv.member, params={"unread": 1}).json()["notifications"]
    assert ns[0]["id"] not in [n["id"] for n in left]
    allns = cv.req("GET", "/api/notifications", cv.member).json()["notifications"]
    assert [n["read"] for n in allns if n["id"] == ns[0]["id"]] == [True]
    mention = [n["id"] for n in left if n["message"]["id"] == m["id"]]
    assert len(mention) == 1  # the other one stays unread
    # someone else's ids are ignored
    assert cv.req("POST", "/api/notifications/read", cv.outsider, {"ids": mention}).status_code == 204
    still = cv.req("GET", "/api/notifications", cv.member, params={"unread": 1}).json()["notifications"]
    assert mention[0] in [n["id"] for n in still]
    assert cv.req("POST", "/api/notifications/read", cv.member, {"all": True}).status_code == 204
    assert cv.req("GET", "/api/notifications", cv.member, params={"unread": 1}).json()["notifications"] == []
    for bad in ({}, {"all": False}, {"ids": []}, {"ids": "1"}, {"ids": [0]}, {"all": True, "ids": [1]}, {"all": 1}):
        assert_error(cv.req("POST", "/api/notifications/read", cv.member, bad), 400, "bad_request")
    for p in ({"unread": 2}, {"limit": 0}, {"limit": 201}, {"unread": "x"}):
        assert_error(cv.req("GET", "/api/notifications", cv.member, params=p), 400, "bad_request")
    assert_error(cv.req("GET", "/api/notifications"), 401, "unauthorized")


# ------------------------------------------------------------ events, end to end

def test_events_reach_members_over_websocket(cv):
    ch = cv.channel(cv.owner, kind="private", members=[cv.member.id])
    cid = ch["id"]
    ws = cv.srv.connect(cv.member.token)
    try:
        m = cv.send(cv.owner, cid, "watch me")
        ws.wait_for(lambda f: f.get("type") == "message.created" and f["message"]["id"] == m["id"],
                    what="message.created")
        cv.req("PATCH", "/api/messages/%d" % m["id"], cv.owner, {"content": "watched"})
        f = ws.wait_for(lambda f: f.get("type") == "message.updated", what="message.updated")
        assert f["message"]["content"] == "watched" and f["channel_id"] == cid
        cv.req("PUT", emoji_path(m["id"], "🎉"), cv.owner)
        f = ws.wait_for(lambda f: f.get("type") == "reaction.added", what="reaction.added")
        assert (f["message_id"], f["user_id"], f["emoji"]) == (m["id"], cv.owner.id, "🎉")
        cv.send(cv.owner, cid, "ping @%s" % cv.member.username)
        f = ws.wait_for(lambda f: f.get("type") == "notification", what="notification")
        assert f["notification"]["kind"] == "mention"
        # removed: the member still hears that they left, and nothing after
        assert cv.req("DELETE", "/api/channels/%d/members/%d" % (cid, cv.member.id), cv.owner).status_code == 204
        f = ws.wait_for(lambda f: f.get("type") == "member.left", what="member.left")
        assert f["user_id"] == cv.member.id
        secret = cv.send(cv.owner, cid, "after you left")
        marker = cv.channel(cv.owner, kind="private", members=[cv.member.id])
        assert cv.req("DELETE", "/api/channels/%d" % marker["id"], cv.owner).status_code == 204
        f = ws.wait_for(lambda f: f.get("type") == "channel.deleted", what="channel.deleted")
        assert f["channel"]["id"] == marker["id"]
        assert not [x for x in ws.frames if x.get("type") == "message.created"
                    and x["message"]["id"] == secret["id"]]
    finally:
        ws.close()
