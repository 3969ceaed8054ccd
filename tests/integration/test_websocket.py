"""The [core] WebSocket: /ws?token=<access token> through the one public port."""

import json
import time

import pytest
import websocket

from helpers import (MESSAGE_KEYS, WS, assert_json, is_id, jwt_parts, make_jwt,
                     read_secret, unique_channel, unique_name)


@pytest.fixture(scope="module")
def room(api, alice, bob, carol):
    """A public channel alice owns; bob and carol are members (via
    presence/join, the reference design's way to start listening)."""
    ch = api.create_channel(alice.token, unique_channel("ws"))
    for u in (bob, carol):
        r = api.post("/api/presence/join", {"channel_id": ch["id"]}, token=u.token)
        assert r.status_code == 200, r.text
    return ch["id"]


@pytest.fixture
def sockets():
    """Opened sockets, closed after the test."""
    opened = []
    yield opened
    for s in opened:
        s.close()


def connect(server, user, sockets):
    ws = server.connect(user.token)
    sockets.append(ws)
    return ws


def is_created(message_id):
    return lambda f: (f.get("type") == "message.created"
                      and isinstance(f.get("message"), dict)
                      and f["message"].get("id") == message_id)


# ---------------------------------------------------------------- upgrade

def _bad_tokens(server, alice):
    _, claims = jwt_parts(alice.token)
    secret = read_secret(server.var)
    expired = dict(claims, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    return {
        "missing": None,
        "empty": "",
        "garbage": "garbage-not-a-jwt",
        "forged": make_jwt(claims, b"some-other-secret"),
        "alg_none": make_jwt(claims, None, alg="none"),
        "hs512": make_jwt(claims, secret, alg="HS512"),
        "expired": make_jwt(expired, secret),
    }


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "forged",
                                  "alg_none", "hs512", "expired"])
def test_upgrade_with_bad_token_is_401(server, alice, kind):
    token = _bad_tokens(server, alice)[kind]
    url = server.ws_url(token)
    with pytest.raises(websocket.WebSocketBadStatusException) as exc:
        conn = websocket.create_connection(url, timeout=5)
        conn.close()
    assert exc.value.status_code == 401


def test_upgrade_with_resigned_real_claims_works(server, alice, sockets):
    """Control for the test above: the same claims signed HS256 with the real
    secret are accepted, so the 401s are about the signature/alg/exp."""
    _, claims = jwt_parts(alice.token)
    token = make_jwt(claims, read_secret(server.var))
    ws = WS(server.ws_url(token))
    sockets.append(ws)
    assert ws.hello.get("type") == "hello"
    assert ws.hello.get("user_id") == alice.id


# ---------------------------------------------------------------- frames

def test_hello_is_first_frame(server, alice, sockets):
    ws = connect(server, alice, sockets)
    hello = ws.hello
    assert hello.get("type") == "hello", hello
    assert hello.get("user_id") == alice.id
    lei = hello.get("last_event_id")
    assert isinstance(lei, int) and not isinstance(lei, bool) and lei >= 0


def test_ping_pong(server, alice, sockets):
    ws = connect(server, alice, sockets)
    ws.send({"type": "ping"})
    f = ws.wait_for(lambda f: f.get("type") == "pong", what="pong")
    assert f["type"] == "pong"


def test_rest_message_arrives_on_members_socket(server, api, alice, bob, room, sockets):
    ws_b = connect(server, bob, sockets)
    content = "rest->ws " + unique_name("m")
    m = api.send(alice.token, room, content)
    ev = ws_b.wait_for(is_created(m["id"]), what="message.created on bob's socket")
    assert is_id(ev.get("event_id"))
    assert ev["event_id"] > ws_b.hello["last_event_id"]
    assert ev.get("channel_id") == room
    msg = ev["message"]
    assert MESSAGE_KEYS <= set(msg), "missing keys: %s" % (MESSAGE_KEYS - set(msg))
    assert msg["content"] == content
    assert msg["user_id"] == alice.id
    assert msg["channel_id"] == room
    assert msg == m


def test_event_ids_strictly_increase(server, api, alice, bob, room, sockets):
    ws_b = connect(server, bob, sockets)
    sent = [api.send(alice.token, room, "seq %d" % i)["id"] for i in range(5)]
    ws_b.wait_for(is_created(sent[-1]), what="last of five messages")
    evs = [f for f in ws_b.frames if "event_id" in f]
    got = [f["message"]["id"] for f in evs if f.get("type") == "message.created"]
    assert got == sent, "messages out of order or missing: %r" % got
    eids = [f["event_id"] for f in evs]
    assert eids == sorted(eids) and len(set(eids)) == len(eids)


def test_frame_post_gets_ack_and_is_delivered(server, api, alice, bob, room, sockets):
    ws_a = connect(server, alice, sockets)
    ws_b = connect(server, bob, sockets)
    cid = "ws-" + unique_name("c")
    content = "ws frame " + cid
    ws_a.send({"channel_id": room, "content": "  " + content + "  ",
               "client_msg_id": cid})
    ack = ws_a.wait_for(lambda f: f.get("type") in ("ack", "error")
                        and f.get("client_msg_id") == cid, what="ack")
    assert ack["type"] == "ack", ack
    msg = ack.get("message")
    assert isinstance(msg, dict) and MESSAGE_KEYS <= set(msg), ack
    assert is_id(msg["id"])
    assert msg["content"] == content          # trimmed like REST
    assert msg["client_msg_id"] == cid
    assert msg["user_id"] == alice.id and msg["channel_id"] == room
    ev = ws_b.wait_for(is_created(msg["id"]), what="bob's copy")
    assert ev["message"]["content"] == content
    # REST sees it once
    ids = api.all_history_ids(alice.token, room)
    assert ids.count(msg["id"]) == 1

    # the same client_msg_id again: the first message, nothing new
    ws_a.send({"channel_id": room, "content": content, "client_msg_id": cid})
    ack2 = ws_a.wait_for(lambda f: f.get("type") in ("ack", "error")
                         and f.get("client_msg_id") == cid, what="second ack")
    assert ack2["type"] == "ack" and ack2["message"]["id"] == msg["id"]
    assert api.all_history_ids(alice.token, room) == ids


@pytest.mark.parametrize("frame", [
    "this is not json {",
    "[1, 2, 3]",
    {"channel_id": "ROOM"},                              # no content
    {"content": "no channel"},
    {"channel_id": "ROOM", "content": "   "},            # blank after trim
    {"channel_id": "ROOM", "content": "x" * 4001, "client_msg_id": "too-long"},
    {"channel_id": "ROOM", "content": 42},
    {"type": "no-such-frame-type"},
    {"channel_id": 987654321, "content": "nowhere", "client_msg_id": "nowhere"},
], ids=["not_json", "array", "no_content", "no_channel", "blank", "too_long",
        "content_not_string", "unknown_type", "unknown_channel"])
def test_invalid_frame_gets_error_and_socket_stays_open(server, api, alice, room,
                                                        sockets, frame):
    before = api.all_history_ids(alice.token, room)
    ws = connect(server, alice, sockets)
    if isinstance(frame, dict):
        frame = {k: (room if v == "ROOM" else v) for k, v in frame.items()}
    ws.send(frame)
    err = ws.wait_for(lambda f: f.get("type") in ("error", "ack"), what="error frame")
    assert err["type"] == "error", err
    assert isinstance(err.get("error"), dict), err
    assert isinstance(err["error"].get("code"), str) and err["error"]["code"]
    if isinstance(frame, dict) and "client_msg_id" in frame:
        assert err.get("client_msg_id") == frame["client_msg_id"]
    # still open and serving
    ws.send({"type": "ping"})
    ws.wait_for(lambda f: f.get("type") == "pong", what="pong after error")
    assert api.all_history_ids(alice.token, room) == before


def test_non_member_does_not_receive_private_messages(server, api, alice, bob, carol,
                                                      room, sockets):
    priv = api.post("/api/channels", {"name": unique_channel("wspriv"),
                                      "kind": "private"}, token=bob.token)
    priv = assert_json(priv, 201)
    ws_c = connect(server, carol, sockets)
    secret = "private-" + unique_name("s")
    pm = api.send(bob.token, priv["id"], secret)
    marker = api.send(bob.token, room, "marker " + unique_name("mk"))
    ws_c.wait_for(is_created(marker["id"]), what="marker in the public room")
    for f in ws_c.frames:
        assert f.get("channel_id") != priv["id"], "private event leaked: %r" % f
        assert secret not in json.dumps(f), "private content leaked: %r" % f
    assert pm["channel_id"] == priv["id"]


def test_non_member_cannot_post_to_private_over_ws(server, api, bob, carol, sockets):
    priv = assert_json(api.post("/api/channels", {"name": unique_channel("wsp2"),
                                                  "kind": "private"},
                                token=bob.token), 201)
    ws_c = connect(server, carol, sockets)
    cid = "intrude-" + unique_name("x")
    ws_c.send({"channel_id": priv["id"], "content": "let me in", "client_msg_id": cid})
    f = ws_c.wait_for(lambda f: f.get("client_msg_id") == cid, what="reply to intrusion")
    assert f["type"] == "error", f
    assert f["error"].get("code") == "not_found", f
    assert api.all_history_ids(bob.token, priv["id"]) == []


def test_join_then_listen(server, api, alice, dave, sockets):
    """Reference-design flow: a non-member gets nothing; after
    presence/join the channel's messages arrive."""
    ch = api.create_channel(alice.token)
    other = api.create_channel(alice.token)
    r = api.post("/api/presence/join", {"channel_id": other["id"]}, token=dave.token)
    assert r.status_code == 200, r.text
    ws_d = connect(server, dave, sockets)
    before = api.send(alice.token, ch["id"], "before dave joined")
    marker = api.send(alice.token, other["id"], "marker")
    ws_d.wait_for(is_created(marker["id"]), what="marker")
    assert not any(f.get("type") == "message.created"
                   and f["message"]["id"] == before["id"] for f in ws_d.frames)
    r = api.post("/api/presence/join", {"channel_id": ch["id"]}, token=dave.token)
    assert r.status_code == 200, r.text
    after = api.send(alice.token, ch["id"], "after dave joined")
    ws_d.wait_for(is_created(after["id"]), what="message after join")


def test_rest_and_ws_share_client_msg_id(server, api, alice, room, sockets):
    ws = connect(server, alice, sockets)
    cid = "both-" + unique_name("b")
    ws.send({"channel_id": room, "content": "via ws", "client_msg_id": cid})
    ack = ws.wait_for(lambda f: f.get("client_msg_id") == cid
                      and f.get("type") in ("ack", "error"), what="ack")
    assert ack["type"] == "ack", ack
    r = api.post_message(alice.token, room, "via rest", client_msg_id=cid)
    m = assert_json(r, 200)
    assert m["id"] == ack["message"]["id"] and m["content"] == "via ws"


def test_large_valid_frame_is_reassembled(server, api, alice, bob, room, sockets):
    """4000 two-byte characters (8 KB): bigger than one read buffer."""
    ws_a = connect(server, alice, sockets)
    ws_b = connect(server, bob, sockets)
    content = "\u00e9" * 3990 + unique_name("z")[:10]
    content = content[:4000]
    cid = "big-" + unique_name("g")
    ws_a.send({"channel_id": room, "content": content, "client_msg_id": cid})
    ack = ws_a.wait_for(lambda f: f.get("client_msg_id") == cid
                        and f.get("type") in ("ack", "error"), what="ack")
    assert ack["type"] == "ack", ack
    assert ack["message"]["content"] == content
    ev = ws_b.wait_for(is_created(ack["message"]["id"]), what="bob's copy")
    assert ev["message"]["content"] == content
    # exactly one ack: the frame was not handled piecewise
    time.sleep(0.3)
    ws_a.send({"type": "ping"})
    ws_a.wait_for(lambda f: f.get("type") == "pong", what="pong")
    replies = [f for f in ws_a.frames if f.get("type") in ("ack", "error")]
    assert len(replies) == 1, replies


def test_oversized_frame_gets_one_error(server, api, alice, room, sockets):
    before = api.all_history_ids(alice.token, room)
    ws = connect(server, alice, sockets)
    cid = "huge-" + unique_name("h")
    ws.send({"channel_id": room, "content": "q" * 20000, "client_msg_id": cid})
    err = ws.wait_for(lambda f: f.get("type") in ("ack", "error"), what="error")
    assert err["type"] == "error", err
    ws.send({"type": "ping"})
    ws.wait_for(lambda f: f.get("type") == "pong", what="pong")
    replies = [f for f in ws.frames if f.get("type") in ("ack", "error")]
    assert len(replies) == 1, replies
    assert api.all_history_ids(alice.token, room) == before


def test_invalid_utf8_frame_stores_nothing(server, api, alice, room, sockets):
    """RFC 6455 lets the server fail the connection (1007) on invalid UTF-8
    in a text frame; the contract asks for an error frame. Either way
    nothing is stored and the server keeps serving."""
    before = api.all_history_ids(alice.token, room)
    ws = connect(server, alice, sockets)
    raw = b'{"channel_id": %d, "content": "bad \xff\xfe bytes"}' % room
    ws.conn.send(raw, opcode=websocket.ABNF.OPCODE_TEXT)
    try:
        f = ws.wait_for(lambda f: f.get("type") in ("ack", "error"), what="reply")
        assert f["type"] == "error", f
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass
    assert api.all_history_ids(alice.token, room) == before


def test_posting_over_ws_joins_public_channel(server, api, alice, dave, sockets):
    ch = api.create_channel(alice.token)
    assert api.channel_in_list(dave.token, ch["id"])["role"] is None
    ws = connect(server, dave, sockets)
    cid = "join-" + unique_name("j")
    ws.send({"channel_id": ch["id"], "content": "hello by ws", "client_msg_id": cid})
    ack = ws.wait_for(lambda f: f.get("client_msg_id") == cid
                      and f.get("type") in ("ack", "error"), what="ack")
    assert ack["type"] == "ack", ack
    assert api.channel_in_list(dave.token, ch["id"])["role"] == "member"
    # and now dave receives the channel's messages
    m = api.send(alice.token, ch["id"], "welcome dave")
    ws.wait_for(is_created(m["id"]), what="message after joining by posting")


def test_every_socket_of_every_member_gets_the_event(server, api, alice, bob, carol,
                                                     room, sockets):
    socks = []
    for u in (alice, bob, carol) * 8:            # 24 sockets, several per user
        socks.append(connect(server, u, sockets))
    m = api.send(alice.token, room, "fan-out " + unique_name("f"))
    for ws in socks:
        ws.wait_for(is_created(m["id"]), timeout=10, what="fan-out copy")


def test_a_client_that_does_not_read_blocks_no_one(server, api, alice, bob, room, sockets):
    import socket as so
    # bob's stalled socket: tiny receive buffer and never read from
    stalled = websocket.create_connection(
        server.ws_url(bob.token), timeout=5,
        sockopt=((so.SOL_SOCKET, so.SO_RCVBUF, 4096),))
    try:
        reader = connect(server, alice, sockets)
        big = "b" * 3900
        last = None
        t0 = time.monotonic()
        for i in range(150):                    # ~600 KB of events
            last = api.send(alice.token, room, "%03d %s" % (i, big))["id"]
        reader.wait_for(is_created(last), timeout=20, what="last of 150 messages")
        got = [f["message"]["id"] for f in reader.frames
               if f.get("type") == "message.created"]
        assert len(got) == 150 and got == sorted(got)
        assert time.monotonic() - t0 < 30
    finally:
        stalled.close()
