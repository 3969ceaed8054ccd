"""Issue 12, the rules an outside audit found broken: presence names a
channel only to its members (item 4), and message content refuses control
and bidirectional formatting characters on every path that writes it
(item 10). Replay is in test_replay_authz.py, roles in
test_authz_matrix.py."""

import pytest

from conftest import start_server
from conv_util import CONV_CONF, Conv, ro_db
from helpers import WS, assert_error, assert_json


@pytest.fixture(scope="module")
def cv():
    with start_server(extra_conf=CONV_CONF) as srv:
        yield Conv(srv, ["alice", "bob", "carol"])


# ------------------------------------------------------------- item 4

def test_presence_names_a_channel_only_to_its_members(cv):
    # alice and bob share a public channel; alice is also in a private one
    shared = cv.channel(cv.alice)
    assert cv.req("POST", "/api/channels/%d/join" % shared["id"], cv.bob).status_code == 200
    secret = cv.channel(cv.alice, kind="private", members=[cv.carol.id])
    wb = WS(cv.srv.ws_url(cv.bob.token))
    wc = WS(cv.srv.ws_url(cv.carol.token))
    try:
        assert cv.req("POST", "/api/presence/join", cv.alice,
                      {"channel_id": secret["id"]}).status_code == 200
        # bob shares a channel with alice: he hears she is online, not where
        fb = wb.wait_for(lambda f: f.get("type") == "presence" and f["user_id"] == cv.alice.id,
                         what="alice's presence on bob's socket")
        assert "channel_id" not in fb, fb
        # carol is a member of the private channel: she is told which
        fc = wc.wait_for(lambda f: f.get("type") == "presence" and f["user_id"] == cv.alice.id
                         and "channel_id" in f, what="alice's presence on carol's socket")
        assert fc["channel_id"] == secret["id"]
    finally:
        wb.close()
        wc.close()
    # the list: bob sees alice online without the private channel's id
    rows = assert_json(cv.req("GET", "/api/presence", cv.bob), 200)["online_users"]
    mine = [r for r in rows if r["user_id"] == cv.alice.id]
    assert mine and mine[0]["channel_id"] != secret["id"], rows
    rows = assert_json(cv.req("GET", "/api/presence", cv.carol), 200)["online_users"]
    assert [r["channel_id"] for r in rows if r["user_id"] == cv.alice.id] == [secret["id"]]
    # replay and long poll say the same as live delivery
    f = WS(cv.srv.ws_url(cv.bob.token, since=0))
    try:
        f.wait_for(lambda x: x.get("type") == "presence" and x.get("user_id") == cv.alice.id,
                   what="alice's presence, replayed")
        f.send({"type": "ping"})
        f.wait_for(lambda x: x.get("type") == "pong")
        pres = [x for x in f.frames if x.get("type") == "presence"
                and x.get("user_id") == cv.alice.id]
        assert all(x.get("channel_id") != secret["id"] for x in pres), pres
    finally:
        f.close()
    polled = assert_json(cv.req("GET", "/api/events", cv.bob, params={"since": 0, "timeout": 0}),
                         200)["events"]
    assert [e for e in polled if e["type"] == "presence" and e["user_id"] == cv.alice.id]
    assert all(e.get("channel_id") != secret["id"] for e in polled), polled
    # leaving the channel ends its presence row (nothing stale stays behind)
    assert cv.req("DELETE", "/api/channels/%d/members/%d" % (secret["id"], cv.alice.id),
                  cv.alice).status_code in (204, 409)
    assert cv.req("DELETE", "/api/channels/%d/members/%d" % (secret["id"], cv.carol.id),
                  cv.alice).status_code == 204
    with ro_db(cv.srv.db) as db:
        assert db.execute("SELECT count(*) FROM presence WHERE channel_id = ? AND user_id = ?",
                          (secret["id"], cv.carol.id)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM presence WHERE channel_id = ? AND user_id = ?",
                          (secret["id"], cv.alice.id)).fetchone()[0] == 1


# ------------------------------------------------------------- item 10

BAD = [
    ("ESC", "colour \x1b[31mred"),
    ("BEL", "ding \x07"),
    ("DEL", "rub \x7f out"),
    ("C1 NEL", "next\u0085line"),
    ("C1 CSI", "csi \u009b31m"),
    ("RLO", "invoice \u202egnp.exe"),
    ("LRE", "left \u202a embedded"),
    ("PDF", "pop \u202c"),
    ("RLI", "isolate \u2067 right"),
    ("PDI", "end \u2069 isolate"),
]
GOOD = "tab\there\r\nnew line\nand unicode: \u00e9\u4e2d\U0001f600 \u200f RLM stays"


@pytest.mark.parametrize("name,text", BAD, ids=[b[0] for b in BAD])
def test_content_refuses_control_and_bidi_everywhere(cv, name, text):
    ch = cv.channel(cv.alice)
    with ro_db(cv.srv.db) as db:
        before = db.execute("SELECT count(*), coalesce(max(id), 0) FROM messages").fetchone()
    # REST post
    r = cv.req("POST", "/api/messages", cv.alice, {"channel_id": ch["id"], "content": text})
    assert_error(r, 400, "bad_request")
    assert "U+" in r.json()["error"]["message"]
    # edit
    m = cv.send(cv.alice, ch["id"], "plain")
    r = cv.req("PATCH", "/api/messages/%d" % m["id"], cv.alice, {"content": text})
    assert_error(r, 400, "bad_request")
    assert assert_json(cv.req("GET", "/api/messages/%d" % m["id"], cv.alice), 200)["content"] == "plain"
    # WebSocket post frame
    ws = WS(cv.srv.ws_url(cv.alice.token))
    try:
        ws.send({"channel_id": ch["id"], "content": text, "client_msg_id": "bad-" + name})
        e = ws.wait_for(lambda f: f.get("type") in ("error", "ack"), what="reply")
        assert e["type"] == "error" and e["error"]["code"] == "bad_request", e
        assert e["client_msg_id"] == "bad-" + name
    finally:
        ws.close()
    with ro_db(cv.srv.db) as db:
        after = db.execute("SELECT count(*), coalesce(max(id), 0) FROM messages").fetchone()
    assert after[0] == before[0] + 1  # the one plain message only


def test_content_keeps_tab_newline_and_carriage_return(cv):
    ch = cv.channel(cv.alice)
    m = cv.send(cv.alice, ch["id"], GOOD)
    assert m["content"] == GOOD
    r = cv.req("PATCH", "/api/messages/%d" % m["id"], cv.alice, {"content": GOOD + "!"})
    assert assert_json(r, 200)["content"] == GOOD + "!"
    ws = WS(cv.srv.ws_url(cv.alice.token))
    try:
        ws.send({"channel_id": ch["id"], "content": GOOD, "client_msg_id": "good-1"})
        a = ws.wait_for(lambda f: f.get("type") in ("error", "ack"), what="reply")
        assert a["type"] == "ack" and a["message"]["content"] == GOOD, a
    finally:
        ws.close()


def test_names_and_profiles_refuse_bidi_overrides_too(cv):
    assert_error(cv.req("POST", "/api/channels", cv.alice, {"name": "abc\u202edef"}), 400,
                 "bad_request")
    assert_error(cv.req("PATCH", "/api/users/me", cv.alice, {"display_name": "x\u2066y"}), 400,
                 "bad_request")
    assert_error(cv.req("PATCH", "/api/users/me", cv.alice, {"bio": "nel\u0085"}), 400,
                 "bad_request")
    ok = cv.req("PATCH", "/api/users/me", cv.alice, {"bio": "two\nlines\tand tab"})
    assert assert_json(ok, 200)["bio"] == "two\nlines\tand tab"
