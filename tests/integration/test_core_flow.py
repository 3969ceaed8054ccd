"""The [core] REST flow of shared/API.md: register, login, validate,
channels, messages, history, presence — happy paths, shapes and the rules
the contract states for each."""

import time

import pytest

from helpers import (CHANNEL_KEYS, MESSAGE_KEYS, PASSWORD, PRESENCE_KEYS,
                     USER_KEYS, assert_error, assert_json, assert_time, is_id,
                     jwt_parts, no_secret_fields, unique_channel, unique_name)


# ---------------------------------------------------------------- health

def test_health(api):
    r = api.get("/api/health")
    body = assert_json(r, 200)
    assert body.get("status") == "ok"
    assert body.get("db") == "ok"
    assert isinstance(body.get("version"), str) and body["version"]


# ---------------------------------------------------------------- register

def test_register_returns_user_without_secrets(api):
    name = unique_name("reg")
    r = api.register(name, PASSWORD, display_name="Reg Tester")
    body = assert_json(r, 201)
    assert body.get("message") == "user registered"
    user = body.get("user")
    assert isinstance(user, dict), body
    assert USER_KEYS <= set(user), "missing user keys: %s" % (USER_KEYS - set(user))
    assert is_id(user["id"])
    assert user["username"] == name
    assert user["display_name"] == "Reg Tester"
    assert_time(user["created_at"], "user.created_at")
    no_secret_fields(body)
    assert PASSWORD not in r.text
    # and the account works
    token = api.login(name, PASSWORD)
    v = assert_json(api.get("/api/auth/validate", token=token), 200)
    assert v["user_id"] == user["id"]


def test_register_duplicate_is_409_case_insensitive(api, alice):
    r = api.register(alice.username, PASSWORD)
    assert_error(r, 409, "conflict")
    r = api.register(alice.username.upper(), PASSWORD)
    assert_error(r, 409, "conflict")


@pytest.mark.parametrize("username,password", [
    ("ab", PASSWORD),                          # too short
    ("x" * 33, PASSWORD),                      # too long
    ("bad name", PASSWORD),                    # space not in [A-Za-z0-9_.-]
    (None, "short77"),                         # password 7 bytes
    (None, "p" * 1025),                        # password over 1024 bytes
], ids=["user_short", "user_long", "user_space", "pw_short", "pw_long"])
def test_register_invalid_is_400(api, username, password):
    name = username if username is not None else unique_name("inv")
    r = api.register(name, password)
    assert_error(r, 400, "bad_request")
    # nothing was created: logging in as that name fails like an unknown user
    r = api.login_resp(name, password)
    assert r.status_code in (400, 401), r.text
    assert "token" not in r.text


# ---------------------------------------------------------------- login

def test_login_shape_and_token_claims(api, alice):
    r = api.login_resp(alice.username, alice.password)
    body = assert_json(r, 200)
    for k in ("token", "access_token", "refresh_token", "token_type",
              "expires_in", "user"):
        assert k in body, "login response lacks %s: %s" % (k, body)
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert body["token"] == body["access_token"]
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["refresh_token"] != body["access_token"]
    assert body["token_type"] == "Bearer"
    exp_in = body["expires_in"]
    assert isinstance(exp_in, int) and not isinstance(exp_in, bool) and exp_in > 0
    assert body["user"]["id"] == alice.id
    assert body["user"]["username"] == alice.username
    no_secret_fields(body["user"])
    assert PASSWORD not in r.text

    header, claims = jwt_parts(body["access_token"])
    assert header.get("alg") == "HS256"
    assert str(claims.get("sub")) == str(alice.id)
    assert claims.get("name") == alice.username
    assert "sid" in claims
    assert isinstance(claims.get("iat"), int) and isinstance(claims.get("exp"), int)
    assert claims["exp"] > claims["iat"]
    assert abs((claims["exp"] - time.time()) - exp_in) < 60
    # the fresh token works
    v = assert_json(api.get("/api/auth/validate", token=body["token"]), 200)
    assert v["user_id"] == alice.id


def test_login_wrong_password_and_unknown_user_look_the_same(api, bob):
    r1 = api.login_resp(bob.username, "not the password at all")
    e1 = assert_error(r1, 401, "unauthorized")
    r2 = api.login_resp(unique_name("ghost"), "not the password at all")
    e2 = assert_error(r2, 401, "unauthorized")
    assert e1["error"]["message"] == e2["error"]["message"]
    assert "token" not in r1.json() and "token" not in r2.json()


# ---------------------------------------------------------------- validate

def test_validate(api, alice):
    body = assert_json(api.get("/api/auth/validate", token=alice.token), 200)
    assert body.get("user_id") == alice.id, body
    assert body.get("username") == alice.username, body
    assert body.get("valid") is True, body


def test_validate_without_token_is_401(api):
    assert_error(api.get("/api/auth/validate"), 401, "unauthorized")


# ---------------------------------------------------------------- channels

def test_create_channel_defaults(api, alice):
    name = unique_channel("pub")
    r = api.post("/api/channels", {"name": name, "topic": "hello topic"},
                 token=alice.token)
    ch = assert_json(r, 201)
    assert CHANNEL_KEYS <= set(ch), "missing channel keys: %s" % (CHANNEL_KEYS - set(ch))
    assert is_id(ch["id"])
    assert ch["name"] == name
    assert ch["kind"] == "public"
    assert ch["topic"] == "hello topic"
    assert ch["created_by"] == alice.id
    assert ch["role"] == "owner"
    assert ch["member_count"] == 1
    assert ch["unread_count"] == 0
    assert_time(ch["created_at"], "channel.created_at")


def test_create_channel_duplicate_name_is_409(api, alice, bob):
    name = unique_channel("dup")
    api.create_channel(alice.token, name)
    assert_error(api.post("/api/channels", {"name": name}, token=alice.token),
                 409, "conflict")
    assert_error(api.post("/api/channels", {"name": name.upper()}, token=bob.token),
                 409, "conflict")
    names = [c["name"].lower() for c in api.channels(alice.token)]
    assert names.count(name.lower()) == 1


@pytest.mark.parametrize("body", [
    {"name": ""},
    {"name": "n" * 81},
    {},
    {"name": "PLACEHOLDER", "kind": "secret"},
    {"name": "PLACEHOLDER", "kind": "dm"},
], ids=["empty", "81_chars", "missing", "bad_kind", "kind_dm"])
def test_create_channel_invalid_is_400(api, alice, body):
    body = dict(body)
    if body.get("name") == "PLACEHOLDER":
        body["name"] = unique_channel("bad")
    before = len(api.channels(alice.token))
    assert_error(api.post("/api/channels", body, token=alice.token), 400, "bad_request")
    assert len(api.channels(alice.token)) == before


def test_channel_name_80_characters_not_bytes(api, alice):
    # 1-80 *characters*: 80 two-byte characters are fine.
    base = unique_channel("c")
    name = base + "\u00e9" * (80 - len(base))
    assert len(name) == 80 and len(name.encode()) > 80
    ch = api.create_channel(alice.token, name)
    assert ch["name"] == name


def test_channel_list(api, alice, bob):
    mine = api.create_channel(alice.token, unique_channel("lst"))
    r = api.get("/api/channels", token=alice.token)
    body = assert_json(r, 200)
    assert isinstance(body.get("channels"), list)
    found = [c for c in body["channels"] if c["id"] == mine["id"]]
    assert len(found) == 1
    c = found[0]
    assert CHANNEL_KEYS <= set(c), "missing channel keys: %s" % (CHANNEL_KEYS - set(c))
    assert c["name"] == mine["name"] and c["kind"] == "public"
    assert c["role"] == "owner"
    assert c["created_by"] == alice.id
    assert_time(c["created_at"], "channel.created_at")
    # a public channel is listed for everyone; bob is not a member
    theirs = api.channel_in_list(bob.token, mine["id"])
    assert theirs is not None
    assert theirs["role"] is None


# ---------------------------------------------------------------- messages

def test_post_message_shape_and_trim(api, alice, bob):
    ch = api.create_channel(alice.token)
    r = api.post_message(alice.token, ch["id"], "  hello world \n\t")
    m = assert_json(r, 201)
    assert MESSAGE_KEYS <= set(m), "missing message keys: %s" % (MESSAGE_KEYS - set(m))
    assert is_id(m["id"])
    assert m["channel_id"] == ch["id"]
    assert m["user_id"] == alice.id
    assert m["username"] == alice.username
    assert m["content"] == "hello world"
    assert_time(m["created_at"], "message.created_at")
    assert m["edited_at"] is None
    assert m["deleted"] is False
    assert m["reply_to"] is None
    assert m["client_msg_id"] is None
    assert m["reactions"] == []
    # history shows it exactly as returned
    hist = assert_json(api.history(alice.token, ch["id"]), 200)
    assert [x["id"] for x in hist] == [m["id"]]
    assert hist[0]["content"] == "hello world"


def test_posting_in_public_channel_joins_it(api, alice, bob):
    ch = api.create_channel(alice.token)
    assert api.channel_in_list(bob.token, ch["id"])["role"] is None
    m = api.send(bob.token, ch["id"], "hi from bob")
    assert m["user_id"] == bob.id
    c = api.channel_in_list(bob.token, ch["id"])
    assert c["role"] == "member"
    assert c["member_count"] == 2


def test_post_message_reply_to(api, alice):
    ch = api.create_channel(alice.token)
    first = api.send(alice.token, ch["id"], "question?")
    reply = api.send(alice.token, ch["id"], "answer", reply_to=first["id"])
    assert reply["reply_to"] == first["id"]


@pytest.mark.parametrize("content", ["", "   \n\t ", "x" * 4001],
                         ids=["empty", "blank", "4001_chars"])
def test_post_message_invalid_content_is_400(api, alice, content):
    ch = api.create_channel(alice.token)
    api.send(alice.token, ch["id"], "seed")
    r = api.post_message(alice.token, ch["id"], content)
    assert_error(r, 400, "bad_request")
    assert len(api.all_history_ids(alice.token, ch["id"])) == 1


def test_post_message_4000_characters_is_fine(api, alice):
    ch = api.create_channel(alice.token)
    content = "\u00e9" * 4000            # 4000 chars, 8000 bytes
    m = api.send(alice.token, ch["id"], content)
    assert m["content"] == content


def test_post_message_missing_fields_is_400(api, alice):
    ch = api.create_channel(alice.token)
    assert_error(api.post("/api/messages", {"channel_id": ch["id"]}, token=alice.token),
                 400, "bad_request")
    assert_error(api.post("/api/messages", {"content": "x"}, token=alice.token),
                 400, "bad_request")
    assert api.all_history_ids(alice.token, ch["id"]) == []


def test_post_message_unknown_channel_is_404(api, alice):
    r = api.post_message(alice.token, 987654321, "into the void")
    assert_error(r, 404, "not_found")


def test_client_msg_id_is_idempotent(api, alice, bob):
    ch = api.create_channel(alice.token)
    cid = "cmid-" + unique_name("k")
    r1 = api.post_message(alice.token, ch["id"], "once", client_msg_id=cid)
    m1 = assert_json(r1, 201)
    assert m1["client_msg_id"] == cid
    r2 = api.post_message(alice.token, ch["id"], "once", client_msg_id=cid)
    m2 = assert_json(r2, 200)
    assert m2["id"] == m1["id"]
    assert m2 == m1
    # a repeat with other content still returns the first message
    r3 = api.post_message(alice.token, ch["id"], "twice?", client_msg_id=cid)
    m3 = assert_json(r3, 200)
    assert m3["id"] == m1["id"] and m3["content"] == "once"
    hist = assert_json(api.history(alice.token, ch["id"]), 200)
    assert [m["id"] for m in hist] == [m1["id"]]
    # the same client_msg_id from another user is a different message
    r4 = api.post_message(bob.token, ch["id"], "bob's", client_msg_id=cid)
    m4 = assert_json(r4, 201)
    assert m4["id"] != m1["id"] and m4["user_id"] == bob.id
    assert api.all_history_ids(alice.token, ch["id"]) == [m1["id"], m4["id"]]


# ---------------------------------------------------------------- history

N_HISTORY = 120


@pytest.fixture(scope="module")
def long_channel(api, alice):
    ch = api.create_channel(alice.token, unique_channel("hist"))
    ids = []
    for i in range(N_HISTORY):
        m = api.send(alice.token, ch["id"], "m%03d" % i)
        ids.append(m["id"])
    return ch, ids


def test_history_ids_increase(long_channel):
    _, ids = long_channel
    assert ids == sorted(ids) and len(set(ids)) == N_HISTORY


def test_history_newest_page_oldest_first(api, alice, long_channel):
    ch, ids = long_channel
    r = api.history(alice.token, ch["id"])
    page = assert_json(r, 200)
    assert isinstance(page, list)
    assert [m["id"] for m in page] == ids[-50:]        # default limit 50
    assert [m["content"] for m in page] == ["m%03d" % i for i in range(70, 120)]
    for m in page:
        assert MESSAGE_KEYS <= set(m)
        assert m["channel_id"] == ch["id"]
        assert_time(m["created_at"])


def test_history_walk_backwards_with_before(api, alice, long_channel):
    ch, ids = long_channel
    seen = []
    page = assert_json(api.history(alice.token, ch["id"], limit=50), 200)
    sizes = []
    while page:
        pids = [m["id"] for m in page]
        assert pids == sorted(pids), "page not oldest first"
        sizes.append(len(pids))
        seen = pids + seen
        page = assert_json(api.history(alice.token, ch["id"], limit=50,
                                       before=pids[0]), 200)
    assert sizes == [50, 50, 20]
    assert seen == ids


def test_history_walk_forwards_with_after(api, alice, long_channel):
    ch, ids = long_channel
    seen = [ids[0]]
    cursor = ids[0]
    pages = 0
    while True:
        page = assert_json(api.history(alice.token, ch["id"], limit=37,
                                       after=cursor), 200)
        if not page:
            break
        pids = [m["id"] for m in page]
        assert pids == sorted(pids)
        assert len(pids) <= 37
        seen += pids
        cursor = pids[-1]
        pages += 1
        assert pages < 20, "after= never reaches the end"
    assert seen == ids
    assert pages == 4                    # 119 = 37+37+37+8


def test_history_limit_and_single_step(api, alice, long_channel):
    ch, ids = long_channel
    page = assert_json(api.history(alice.token, ch["id"], limit=1,
                                   before=ids[60]), 200)
    assert [m["id"] for m in page] == [ids[59]]
    page = assert_json(api.history(alice.token, ch["id"], limit=2,
                                   after=ids[60]), 200)
    assert [m["id"] for m in page] == [ids[61], ids[62]]
    page = assert_json(api.history(alice.token, ch["id"], limit=200), 200)
    assert [m["id"] for m in page] == ids


def test_history_unknown_channel_is_404(api, alice):
    assert_error(api.history(alice.token, 987654321), 404, "not_found")


def test_history_public_channel_readable_by_non_member(api, alice, dave, long_channel):
    ch, ids = long_channel
    page = assert_json(api.history(dave.token, ch["id"], limit=5), 200)
    assert [m["id"] for m in page] == ids[-5:]


# ---------------------------------------------------------------- presence

def _presence(api, token, channel=None):
    params = {"channel": channel} if channel is not None else None
    body = assert_json(api.get("/api/presence", token=token, params=params), 200)
    assert isinstance(body.get("online_users"), list), body
    return body["online_users"]


def test_presence_join_list(api, alice, carol):
    ch = api.create_channel(alice.token)
    r = api.post("/api/presence/join", {"channel_id": ch["id"]}, token=carol.token)
    assert assert_json(r, 200) == {"message": "user joined"}
    entries = [e for e in _presence(api, alice.token, ch["id"])
               if e.get("user_id") == carol.id]
    assert entries, "carol not listed in the channel's presence"
    e = entries[0]
    assert PRESENCE_KEYS <= set(e), "missing presence keys: %s" % (PRESENCE_KEYS - set(e))
    assert e["username"] == carol.username
    assert e["channel_id"] == ch["id"]
    assert e["online"] is True
    assert isinstance(e["status"], str) and e["status"]
    assert_time(e["last_seen"], "presence.last_seen")
    # without a channel filter carol is listed too
    assert any(x.get("user_id") == carol.id for x in _presence(api, alice.token))
    # join on a public channel made carol a member
    c = api.channel_in_list(carol.token, ch["id"])
    assert c["role"] == "member"


def test_presence_leave(api, alice, carol):
    ch = api.create_channel(alice.token)
    api.post("/api/presence/join", {"channel_id": ch["id"]}, token=carol.token)
    assert any(e.get("user_id") == carol.id
               for e in _presence(api, alice.token, ch["id"]))
    r = api.post("/api/presence/leave", {"channel_id": ch["id"]}, token=carol.token)
    assert assert_json(r, 200) == {"message": "user left"}
    assert not any(e.get("user_id") == carol.id and e.get("channel_id") == ch["id"]
                   for e in _presence(api, alice.token, ch["id"]))


def test_presence_leave_without_body(api, carol):
    r = api.request("POST", "/api/presence/leave", token=carol.token)
    assert assert_json(r, 200) == {"message": "user left"}


def test_presence_join_invalid(api, alice):
    assert_error(api.post("/api/presence/join", {}, token=alice.token),
                 400, "bad_request")
    assert_error(api.post("/api/presence/join", {"channel_id": 987654321},
                          token=alice.token), 404, "not_found")


# ---------------------------------------------------------------- private

def test_private_channel_is_invisible_to_non_members(api, alice, bob, carol):
    name = unique_channel("priv")
    r = api.post("/api/channels", {"name": name, "kind": "private",
                                   "members": [bob.id]}, token=alice.token)
    ch = assert_json(r, 201)
    assert ch["kind"] == "private" and ch["role"] == "owner"
    assert ch["member_count"] == 2
    m = api.send(alice.token, ch["id"], "for members only")

    # bob (a member) sees, reads and posts
    c = api.channel_in_list(bob.token, ch["id"])
    assert c is not None and c["role"] == "member"
    assert [x["id"] for x in assert_json(api.history(bob.token, ch["id"]), 200)] == [m["id"]]
    api.send(bob.token, ch["id"], "bob was here")

    # carol (not a member) sees nothing of it
    assert api.channel_in_list(carol.token, ch["id"]) is None
    assert_error(api.history(carol.token, ch["id"]), 404, "not_found")
    assert_error(api.post_message(carol.token, ch["id"], "let me in"), 404, "not_found")
    assert_error(api.post("/api/presence/join", {"channel_id": ch["id"]},
                          token=carol.token), 404, "not_found")
    assert api.channel_in_list(carol.token, ch["id"]) is None
    # a private name still conflicts (names are unique), but nothing leaks
    # beyond that; and nothing carol sent was stored
    hist = assert_json(api.history(alice.token, ch["id"]), 200)
    assert [x["content"] for x in hist] == ["for members only", "bob was here"]


def test_private_channel_presence_does_not_leak(api, alice, bob, carol):
    ch = assert_json(api.post("/api/channels", {"name": unique_channel("pp"),
                                                "kind": "private",
                                                "members": [bob.id]},
                              token=alice.token), 201)
    r = api.post("/api/presence/join", {"channel_id": ch["id"]}, token=bob.token)
    assert assert_json(r, 200) == {"message": "user joined"}
    assert any(e.get("user_id") == bob.id for e in _presence(api, alice.token, ch["id"]))
    # carol, not a member, learns no more than for a channel that does not exist
    r_priv = api.get("/api/presence", token=carol.token, params={"channel": ch["id"]})
    r_none = api.get("/api/presence", token=carol.token, params={"channel": 987654321})
    assert r_priv.status_code == r_none.status_code, (r_priv.text, r_none.text)
    if r_priv.status_code == 200:
        assert r_priv.json() == r_none.json() == {"online_users": []}
    else:
        assert_error(r_priv, 404, "not_found")
    # nor in the unfiltered list
    assert not any(e.get("channel_id") == ch["id"] for e in _presence(api, carol.token))


def test_presence_bad_channel_query_is_400(api, alice):
    assert_error(api.get("/api/presence", token=alice.token, params={"channel": "abc"}),
                 400, "bad_request")
