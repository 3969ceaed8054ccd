"""Hostile input against every [core] endpoint: bad tokens, bad bodies,
wrong routes and methods, injection-looking text. Each case checks the
status and error body, and that nothing was written."""

import json
import time

import pytest

from helpers import (PASSWORD, assert_error, assert_json, db_count, jwt_parts,
                     make_jwt, read_secret, unique_channel, unique_name)

# username used by every register abuse case; registered for real at the end
# (test_register_abuse_created_nothing) to prove none of them created it.
ABUSE_USER = unique_name("abuse")

DB_TABLES = ("users", "channels", "messages")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def target(api, alice):
    """Channels the abuse is aimed at: T (messages are posted into it) and
    P (bob is not a member; join attempts must not make him one)."""
    t = api.create_channel(alice.token, unique_channel("tgt"))
    api.send(alice.token, t["id"], "seed")
    p = api.create_channel(alice.token, unique_channel("pjn"))
    return {"T": t["id"], "P": p["id"]}


@pytest.fixture
def unchanged(server, api, alice, bob, target):
    """Snapshot of what abuse must not change; compared after the test."""
    def snap():
        p = api.channel_in_list(bob.token, target["P"])
        return {
            "T_messages": api.all_history_ids(alice.token, target["T"]),
            "channels": sorted(c["id"] for c in api.channels(alice.token)),
            "bob_role_in_P": p["role"],
            "P_members": p["member_count"],
            "db": {t: db_count(server.db, t) for t in DB_TABLES},
        }
    before = snap()
    yield before
    after = snap()
    assert after == before, "abuse changed state:\nbefore %r\nafter  %r" % (before, after)


# ---------------------------------------------------------------- tokens

def _tokens(server, alice, bob):
    header, claims = jwt_parts(alice.token)
    secret = read_secret(server.var)
    now = int(time.time())
    expired = dict(claims, iat=now - 7200, exp=now - 3600)
    sid = claims.get("sid")
    other_sid = 987654321 if isinstance(sid, int) else "0123456789abcdef0123456789abcdef"
    h, p, s = alice.token.split(".")
    _, bob_p, _ = bob.token.split(".")
    return {
        "missing": None,
        "garbage": "garbage-not-a-jwt",
        "forged": make_jwt(claims, b"some-other-secret"),
        "alg_none": make_jwt(claims, None, alg="none"),
        "alg_none_real_sig": make_jwt(claims, None, alg="none")
                             + s,
        "hs512_real_secret": make_jwt(claims, secret, alg="HS512"),
        "expired": make_jwt(expired, secret),
        "unknown_session": make_jwt(dict(claims, sid=other_sid), secret),
        "swapped_payload": h + "." + bob_p + "." + s,
        "basic_scheme": ("BASIC", alice.token),
    }


TOKEN_KINDS = ["missing", "garbage", "forged", "alg_none", "alg_none_real_sig",
               "hs512_real_secret", "expired", "unknown_session",
               "swapped_payload", "basic_scheme"]


def _auth_endpoints(target):
    T, P = target["T"], target["P"]
    return {
        "validate": ("GET", "/api/auth/validate", None, None),
        "channels_list": ("GET", "/api/channels", None, None),
        "channels_create": ("POST", "/api/channels", {"name": "CHNAME"}, None),
        "history": ("GET", "/api/messages/history", None, {"channel": T}),
        "messages_post": ("POST", "/api/messages",
                          {"channel_id": T, "content": "unauthorized post"}, None),
        "presence_list": ("GET", "/api/presence", None, None),
        "presence_join": ("POST", "/api/presence/join", {"channel_id": P}, None),
        "presence_leave": ("POST", "/api/presence/leave", {"channel_id": T}, None),
    }


AUTH_ENDPOINTS = ["validate", "channels_list", "channels_create", "history",
                  "messages_post", "presence_list", "presence_join",
                  "presence_leave"]


def test_resigned_real_claims_are_accepted(server, api, alice):
    """Control: alice's own claims re-signed HS256 with the secret read from
    $PARLEY_VAR/jwt_secret work, so the rejections below are about the one
    thing each case changes."""
    _, claims = jwt_parts(alice.token)
    token = make_jwt(claims, read_secret(server.var))
    body = assert_json(api.get("/api/auth/validate", token=token), 200)
    assert body["user_id"] == alice.id


@pytest.mark.parametrize("endpoint", AUTH_ENDPOINTS)
@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_bad_token_is_401(server, api, alice, bob, target, unchanged, endpoint, kind):
    method, path, body, params = _auth_endpoints(target)[endpoint]
    name = unique_channel("unauth")
    if body is not None:
        body = {k: (name if v == "CHNAME" else v) for k, v in body.items()}
    tok = _tokens(server, alice, bob)[kind]
    headers = {}
    if isinstance(tok, tuple):
        headers["Authorization"] = "%s %s" % tok
        tok = None
    r = api.request(method, path, token=tok, json_body=body, params=params,
                    headers=headers)
    assert_error(r, 401, "unauthorized")
    assert not any(c["name"] == name for c in api.channels(alice.token))


# ---------------------------------------------------------------- bodies

def _body_endpoints(alice, bob, dave, target):
    """name -> (path, token, valid body, name of a string field)."""
    T, P = target["T"], target["P"]
    return {
        "register": ("/api/auth/register", None,
                     {"username": ABUSE_USER, "password": PASSWORD}, "username"),
        "login": ("/api/auth/login", None,
                  {"username": dave.username, "password": dave.password}, "password"),
        "channels_create": ("/api/channels", alice.token,
                            {"name": "CHNAME"}, "name"),
        "messages_post": ("/api/messages", alice.token,
                          {"channel_id": T, "content": "abuse"}, "content"),
        "presence_join": ("/api/presence/join", bob.token,
                          {"channel_id": P}, None),
        "presence_leave": ("/api/presence/leave", alice.token,
                           {"channel_id": T}, None),
    }


BODY_ENDPOINTS = ["register", "login", "channels_create", "messages_post",
                  "presence_join", "presence_leave"]

WRONG_TYPES = {
    "register": {"username": 12345, "password": PASSWORD},
    "login": {"username": "USER", "password": ["x"]},
    "channels_create": {"name": 42},
    "messages_post": {"channel_id": "T", "content": 123},
    "presence_join": {"channel_id": True},
    "presence_leave": {"channel_id": {"id": 1}},
}


def _dump(obj):
    return json.dumps(obj).encode()


def _with_bad_utf8(body, field, bad):
    """The valid body with `bad` bytes spliced into a string value."""
    if field is None:
        body = dict(body, note="MARK")
        field = "note"
    else:
        body = dict(body, **{field: "MARK" + str(body[field])})
    return _dump(body).replace(b"MARK", bad)


def _deep(body, depth=40):
    nested = "[" * depth + "1" + "]" * depth
    raw = _dump(body)
    return raw[:-1] + b', "extra": ' + nested.encode() + b"}"


def _abuse(kind, ep, body, field, dave):
    """-> (raw body bytes, content type or None, expected status, code)."""
    js = "application/json"
    if kind == "malformed":
        return _dump(body)[:-1], js, 400, "bad_request"
    if kind == "trailing_garbage":
        return _dump(body) + b" garbage", js, 400, "bad_request"
    if kind == "trailing_object":
        return _dump(body) + b"{}", js, 400, "bad_request"
    if kind == "not_an_object":
        return _dump([body]), js, 400, "bad_request"
    if kind == "wrong_types":
        wt = {k: (dave.username if v == "USER" else v)
              for k, v in WRONG_TYPES[ep].items()}
        return _dump(wt), js, 400, "bad_request"
    if kind == "invalid_utf8":
        return _with_bad_utf8(body, field, b"\xff\xfe"), js, 400, "bad_request"
    if kind == "utf8_surrogate":
        return _with_bad_utf8(body, field, b"\xed\xa0\x80"), js, 400, "bad_request"
    if kind == "overlong_utf8":
        return _with_bad_utf8(body, field, b"\xc0\xaf"), js, 400, "bad_request"
    if kind == "nested_40":
        return _deep(body), js, 400, "bad_request"
    if kind == "too_large":
        pad = dict(body, pad="p" * (100 * 1024))
        return _dump(pad), js, 413, "payload_too_large"
    if kind == "text_plain":
        return _dump(body), "text/plain", 415, "unsupported_media_type"
    if kind == "no_content_type":
        return _dump(body), None, 415, "unsupported_media_type"
    if kind == "form_urlencoded":
        return _dump(body), "application/x-www-form-urlencoded", 415, \
            "unsupported_media_type"
    raise AssertionError(kind)


ABUSE_KINDS = ["malformed", "trailing_garbage", "trailing_object", "not_an_object",
               "wrong_types", "invalid_utf8", "utf8_surrogate", "overlong_utf8",
               "nested_40", "too_large", "text_plain", "no_content_type",
               "form_urlencoded"]


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS)
@pytest.mark.parametrize("kind", ABUSE_KINDS)
def test_bad_body(api, alice, bob, dave, target, unchanged, endpoint, kind):
    # login abuse uses dave's valid credentials: were a bad body accepted,
    # the login would succeed (200) and the test fail.
    path, token, body, field = _body_endpoints(alice, bob, dave, target)[endpoint]
    name = unique_channel("bb")
    body = {k: (name if v == "CHNAME" else v) for k, v in body.items()}
    raw, ctype, status, code = _abuse(kind, endpoint, body, field, dave)
    headers = {"Content-Type": ctype} if ctype else {}
    r = api.request("POST", path, token=token, data=raw, headers=headers)
    assert_error(r, status, code)
    assert "token" not in r.json()
    assert not any(c["name"] == name for c in api.channels(alice.token))


def test_deep_nesting_limit_is_not_too_strict(api, alice, target, unchanged):
    """Nesting well under 32 is fine (so the 400s above are about depth):
    an unknown field holding 10 levels is ignored or rejected as a field,
    never as unparseable JSON crashing anything."""
    raw = _dump({"channel_id": target["T"]})[:-1] + b', "extra": ' + \
        b"[" * 10 + b"1" + b"]" * 10 + b"}"
    r = api.request("POST", "/api/presence/leave", token=alice.token, data=raw,
                    headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json() == {"message": "user left"}


def test_register_abuse_created_nothing(api):
    """None of the register abuse cases above created ABUSE_USER."""
    r = api.register(ABUSE_USER, PASSWORD)
    assert_json(r, 201)


def test_json_charset_parameter_is_accepted(api, alice, target):
    raw = _dump({"channel_id": target["T"], "content": "with charset"})
    r = api.request("POST", "/api/messages", token=alice.token, data=raw,
                    headers={"Content-Type": "application/json; charset=utf-8"})
    m = assert_json(r, 201)
    assert m["content"] == "with charset"


# ---------------------------------------------------------------- check order

def test_order_size_before_auth(api, target, unchanged):
    raw = _dump({"channel_id": target["T"], "content": "x" * (100 * 1024)})
    r = api.request("POST", "/api/messages", data=raw,
                    headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_order_media_type_before_auth(api, target, unchanged):
    raw = _dump({"channel_id": target["T"], "content": "x"})
    r = api.request("POST", "/api/messages", data=raw,
                    headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


def test_order_auth_before_json(api, target, unchanged):
    r = api.request("POST", "/api/messages", data=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert_error(r, 401, "unauthorized")


# ---------------------------------------------------------------- routes

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/nope"),
    ("POST", "/api/nope"),
    ("GET", "/api/auth/nope"),
    ("GET", "/api/presence/nowhere"),
    ("GET", "/api/messages/history/extra/bits"),
    ("GET", "/api/channelsx"),
])
@pytest.mark.parametrize("with_token", [False, True], ids=["anon", "auth"])
def test_unknown_route_is_404_json(api, alice, method, path, with_token):
    tok = alice.token if with_token else None
    r = api.request(method, path, token=tok)
    assert_error(r, 404, "not_found")


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/api/auth/register", {"POST"}),
    ("GET", "/api/auth/login", {"POST"}),
    ("POST", "/api/auth/validate", {"GET"}),
    ("DELETE", "/api/channels", {"GET", "POST"}),
    ("PUT", "/api/messages/history", {"GET"}),
    ("GET", "/api/messages", {"POST"}),
    ("GET", "/api/presence/join", {"POST"}),
    ("GET", "/api/presence/leave", {"POST"}),
    ("DELETE", "/api/presence", {"GET"}),
    ("POST", "/api/health", {"GET"}),
])
def test_wrong_method_is_405_with_allow(api, method, path, allowed):
    r = api.request(method, path)
    assert_error(r, 405, "method_not_allowed")
    allow = r.headers.get("Allow")
    assert allow, "405 without an Allow header"
    methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
    assert allowed <= methods, "Allow %r lacks %r" % (allow, allowed)
    assert method not in methods


# ---------------------------------------------------------------- queries

@pytest.mark.parametrize("params", [
    {},
    {"channel": "abc"},
    {"channel": "1 OR 1=1"},
    {"channel": "T", "limit": "abc"},
    {"channel": "T", "before": "xyz"},
    {"channel": "T", "after": "1; DROP TABLE messages"},
], ids=["no_channel", "channel_abc", "channel_sqli", "limit_abc", "before_xyz",
        "after_sqli"])
def test_history_bad_query_is_400(api, alice, target, unchanged, params):
    params = {k: (target["T"] if v == "T" else v) for k, v in params.items()}
    r = api.get("/api/messages/history", token=alice.token, params=params)
    assert_error(r, 400, "bad_request")


def test_overlong_query_and_path_are_refused_not_cut(api, alice, target, unchanged):
    """A query or path longer than parley's buffers is refused, never cut
    short (cut, `limit=5<padding>` would read as `limit=5`)."""
    ok = {"channel": target["T"], "limit": "5"}
    assert isinstance(assert_json(api.get("/api/messages/history", token=alice.token,
                                          params=ok), 200), list)
    # fits: 2047 bytes of query in all are still served
    base = "channel=%d&limit=5&pad=" % target["T"]
    r = api.get("/api/messages/history?" + base + "x" * (2047 - len(base)), token=alice.token)
    assert isinstance(assert_json(r, 200), list)
    # one byte more is 400, not a silently shortened query
    r = api.get("/api/messages/history?" + base + "x" * (2048 - len(base)), token=alice.token)
    assert_error(r, 400, "bad_request")
    # the 400 still comes after the token check (route -> 401 -> 400)
    r = api.get("/api/messages/history?" + base + "x" * 3000)
    assert_error(r, 401, "unauthorized")
    # a path that cannot fit names nothing
    r = api.get("/api/channels/" + "1" * 1100, token=alice.token)
    assert_error(r, 404, "not_found")


# ---------------------------------------------------------------- injection

INJECTIONS = [
    "'; DROP TABLE messages; --",
    "Robert'); DELETE FROM users; --",
    "\" OR \"\"=\"",
    "1' OR '1'='1",
    "%s %d %n \\ \\\\ \\' \\\"",
    "<script>alert(1)</script>",
    "x\" , \"user_id\": 1, \"y\": \"",
    # (bidi overrides such as U+202E are refused: test_audit_rules.py)
    "emoji \U0001F600 and \u200f rtl mark",
]


def test_injection_strings_are_stored_verbatim(server, api, alice, bob):
    before = {t: db_count(server.db, t) for t in ("users",)}
    name = "x'); DROP TABLE channels;-- " + unique_name("")
    topic = "' OR 1=1 --"
    ch = assert_json(api.post("/api/channels", {"name": name, "topic": topic},
                              token=alice.token), 201)
    assert ch["name"] == name and ch["topic"] == topic
    listed = api.channel_in_list(bob.token, ch["id"])
    assert listed["name"] == name and listed["topic"] == topic
    posted = []
    for s in INJECTIONS:
        m = api.send(alice.token, ch["id"], s)
        assert m["content"] == s
        posted.append(m["id"])
    hist = assert_json(api.history(bob.token, ch["id"]), 200)
    assert [m["content"] for m in hist] == INJECTIONS
    assert [m["id"] for m in hist] == posted
    assert all(m["user_id"] == alice.id for m in hist)
    # everything else still there
    assert assert_json(api.get("/api/auth/validate", token=bob.token), 200)["valid"]
    assert api.login(bob.username, bob.password)
    assert {t: db_count(server.db, t) for t in ("users",)} == before


def test_login_injection_is_refused(api, unchanged):
    r = api.login_resp("admin' OR '1'='1", "' OR '1'='1")
    assert r.status_code in (400, 401), r.text
    assert r.status_code != 200 and "token" not in r.text
    r = api.login_resp("x\" OR 1=1 --", "anything-at-all")
    assert r.status_code in (400, 401), r.text


# ---------------------------------------------------------------- edges

@pytest.mark.parametrize("channel_id", [
    0, -1, 1.5, "1e400", 2 ** 63, 2 ** 64 + 1, 2 ** 53 + 1,
], ids=["zero", "negative", "fraction", "inf", "2p63", "2p64+1", "2p53+1"])
def test_numeric_edge_channel_ids(api, alice, target, unchanged, channel_id):
    """Out-of-range or non-integer ids never reach another channel."""
    raw = b'{"channel_id": %s, "content": "edge"}' % str(channel_id).encode()
    r = api.request("POST", "/api/messages", token=alice.token, data=raw,
                    headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 404), r.text
    assert_error(r, r.status_code, "bad_request" if r.status_code == 400 else "not_found")


def test_nul_in_content_is_not_silently_truncated(api, alice):
    ch = api.create_channel(alice.token)
    content = "before\u0000after"
    r = api.post_message(alice.token, ch["id"], content)
    if r.status_code == 201:
        assert r.json()["content"] == content
        hist = assert_json(api.history(alice.token, ch["id"]), 200)
        assert hist[-1]["content"] == content
    else:
        assert_error(r, 400, "bad_request")
        assert api.all_history_ids(alice.token, ch["id"]) == []


def test_media_type_is_case_insensitive(api, alice, target):
    raw = _dump({"channel_id": target["T"], "content": "upper-case media type"})
    r = api.request("POST", "/api/messages", token=alice.token, data=raw,
                    headers={"Content-Type": "Application/JSON"})
    assert assert_json(r, 201)["content"] == "upper-case media type"


def _chunks(data, size=8192):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_chunked_body_is_accepted(api, alice, target):
    raw = _dump({"channel_id": target["T"], "content": "chunked body"})
    r = api.request("POST", "/api/messages", token=alice.token, data=_chunks(raw, 7),
                    headers={"Content-Type": "application/json"})
    assert assert_json(r, 201)["content"] == "chunked body"


def test_chunked_body_over_limit_is_413(api, alice, target, unchanged):
    raw = _dump({"channel_id": target["T"], "content": "y" * (100 * 1024)})
    r = api.request("POST", "/api/messages", token=alice.token, data=_chunks(raw),
                    headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_concurrent_same_client_msg_id_stores_one(api, alice):
    import concurrent.futures
    import requests as rq
    ch = api.create_channel(alice.token)
    cid = "race-" + unique_name("r")
    body = _dump({"channel_id": ch["id"], "content": "race", "client_msg_id": cid})

    def post(_):
        return rq.post(api.base + "/api/messages", data=body, timeout=15,
                       headers={"Content-Type": "application/json",
                                "Authorization": "Bearer " + alice.token})
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(post, range(16)))
    codes = sorted(r.status_code for r in rs)
    assert codes.count(201) == 1 and codes.count(200) == 15, codes
    assert len({r.json()["id"] for r in rs}) == 1
    assert len(api.all_history_ids(alice.token, ch["id"])) == 1


def test_concurrent_same_channel_name_creates_one(api, alice, bob):
    import concurrent.futures
    import requests as rq
    name = unique_channel("race")

    def create(i):
        tok = (alice, bob)[i % 2].token
        return rq.post(api.base + "/api/channels", data=_dump({"name": name}),
                       timeout=15, headers={"Content-Type": "application/json",
                                            "Authorization": "Bearer " + tok})
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(create, range(12)))
    codes = sorted(r.status_code for r in rs)
    assert codes.count(201) == 1 and codes.count(409) == 11, codes
    assert [c["name"] for c in api.channels(alice.token)].count(name) == 1
