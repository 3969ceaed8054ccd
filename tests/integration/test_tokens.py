"""Personal API tokens and bot accounts (issue 16): scopes over REST and
over the WebSocket, last_used_at, revocation (REST refused, sockets closed
with 4001), expiry, deactivated and erased owners, bots made by server
admins and posting with their tokens. Runs on both engines
(PARLEY_ENGINE=postgres) and under every front (PARLEY_FRONTEND)."""

import datetime
import json
import time

import pytest

from conftest import NO_WS_DAEMON
from helpers import (PASSWORD, assert_error, assert_json, assert_time, make_user,
                     no_secret_fields, unique_name)
from rt_util import sql, upgrade_status, wait_close

needs_ws = pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon under this front")

TOKEN_KEYS = {"id", "name", "scope", "created_at", "expires_at", "last_used_at"}


def make_token(api, token, scope, name=None, **extra):
    body = dict(name=name or "t-" + scope, scope=scope, **extra)
    r = api.post("/api/users/me/tokens", body, token=token)
    tok = assert_json(r, 201)
    return tok


def tokens_of(api, token):
    return assert_json(api.get("/api/users/me/tokens", token=token), 200)["tokens"]


def db_row(server, query, args=()):
    rows = sql(server.db, query, args)
    return rows[0] if rows else None


# ------------------------------------------------------------- making them

def test_create_shows_the_token_once_and_stores_only_a_hash(server, api, alice):
    tok = make_token(api, alice.token, "read", name="ci reader", expires_in=3600)
    assert set(tok) == TOKEN_KEYS | {"token"}, tok
    assert tok["token"].startswith("plt_") and len(tok["token"]) == 47, tok
    assert tok["scope"] == "read" and tok["name"] == "ci reader"
    assert_time(tok["created_at"])
    exp = datetime.datetime.strptime(tok["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    made = datetime.datetime.strptime(tok["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert (exp - made).total_seconds() == 3600
    assert tok["last_used_at"] is None
    listed = [t for t in tokens_of(api, alice.token) if t["id"] == tok["id"]]
    assert len(listed) == 1 and set(listed[0]) == TOKEN_KEYS, listed
    assert tok["token"] not in json.dumps(tokens_of(api, alice.token))
    stored = db_row(server, "SELECT token_hash FROM api_tokens WHERE id = ?", (tok["id"],))
    assert stored and tok["token"] not in stored[0] and len(stored[0]) == 64


def test_token_authenticates_as_its_owner(api, alice):
    tok = make_token(api, alice.token, "read")
    me = assert_json(api.get("/api/users/me", token=tok["token"]), 200)
    assert me["id"] == alice.id
    v = assert_json(api.get("/api/auth/validate", token=tok["token"]), 200)
    assert v["user_id"] == alice.id and v["username"] == alice.username


@pytest.mark.parametrize("body", [
    {"scope": "read"},
    {"name": "x"},
    {"name": "", "scope": "read"},
    {"name": "x" * 65, "scope": "read"},
    {"name": "a\nb", "scope": "read"},
    {"name": 5, "scope": "read"},
    {"name": "x", "scope": "root"},
    {"name": "x", "scope": ["read"]},
    {"name": "x", "scope": "read", "expires_in": 10},
    {"name": "x", "scope": "read", "expires_in": 1.5e3 + 0.5},
    {"name": "x", "scope": "read", "expires_in": "3600"},
    {"name": "x", "scope": "read", "expires_in": 10 ** 12},
])
def test_create_refuses_bad_bodies(api, alice, body):
    r = api.post("/api/users/me/tokens", body, token=alice.token)
    assert_error(r, 400, "bad_request")


def test_tokens_of_others_are_invisible(api, alice, bob):
    tok = make_token(api, alice.token, "read")
    assert all(t["id"] != tok["id"] for t in tokens_of(api, bob.token))
    r = api.request("DELETE", "/api/users/me/tokens/%d" % tok["id"], token=bob.token)
    assert_error(r, 404, "not_found")
    assert api.get("/api/users/me", token=tok["token"]).status_code == 200
    r = api.request("DELETE", "/api/users/me/tokens/abc", token=alice.token)
    assert_error(r, 404, "not_found")


def test_garbage_tokens_are_401(api):
    for bad in ["plt_", "plt_" + "A" * 43, "plt_" + "x" * 200, "plt_\u00e9"]:
        r = api.get("/api/users/me", token=bad)
        assert_error(r, 401, "unauthorized")


# ------------------------------------------------------------- scopes, REST

def test_read_scope_reads_only(api, alice):
    tok = make_token(api, alice.token, "read")["token"]
    ch = api.create_channel(alice.token)
    assert api.get("/api/channels", token=tok).status_code == 200
    assert api.get("/api/messages/history?channel=%d" % ch["id"], token=tok).status_code == 200
    assert api.request("HEAD", "/api/users/me", token=tok).status_code == 200
    for method, path, body in [
            ("POST", "/api/messages", {"channel_id": ch["id"], "content": "hi"}),
            ("POST", "/api/channels/%d/typing" % ch["id"], None),
            ("POST", "/api/presence/heartbeat", {}),
            ("POST", "/api/channels", {"name": unique_name("ch")}),
            ("PATCH", "/api/users/me", {"bio": "x"}),
            ("POST", "/api/users/me/tokens", {"name": "x", "scope": "read"}),
            ("GET", "/api/users/me/tokens", None)]:
        r = api.request(method, path, token=tok, json_body=body)
        assert_error(r, 403, "forbidden")
        assert "scope" in r.json()["error"]["message"]
    assert assert_json(api.history(alice.token, ch["id"]), 200) == []


def test_post_scope_chats_but_does_not_manage_the_account(api, alice):
    tok = make_token(api, alice.token, "post")["token"]
    ch = api.create_channel(alice.token)
    m = assert_json(api.post("/api/messages", {"channel_id": ch["id"], "content": "by token"},
                             token=tok), 201)
    assert m["user_id"] == alice.id
    assert api.request("PUT", "/api/messages/%d/reactions/%s" % (m["id"], "%F0%9F%91%8D"),
                       token=tok).status_code == 204
    assert api.post("/api/channels/%d/read" % ch["id"], {"message_id": m["id"]},
                    token=tok).status_code == 204
    assert api.request("PATCH", "/api/messages/%d" % m["id"], token=tok,
                       json_body={"content": "edited"}).status_code == 200
    for method, path, body in [
            ("PATCH", "/api/users/me", {"bio": "x"}),
            ("PUT", "/api/users/me/password", {"old_password": PASSWORD, "new_password": PASSWORD}),
            ("DELETE", "/api/users/me", {"password": PASSWORD}),
            ("POST", "/api/users/me/tokens", {"name": "x", "scope": "read"}),
            ("GET", "/api/users/me/tokens", None)]:
        r = api.request(method, path, token=tok, json_body=body)
        assert_error(r, 403, "forbidden")
    assert api.get("/api/users/me", token=alice.token).json()["bio"] != "x"


def test_admin_scope_manages_tokens_and_profile(api, alice):
    tok = make_token(api, alice.token, "admin")["token"]
    other = make_token(api, tok, "read")
    assert any(t["id"] == other["id"] for t in tokens_of(api, tok))
    r = api.request("PATCH", "/api/users/me", token=tok, json_body={"status_text": "via token"})
    assert assert_json(r, 200)["status_text"] == "via token"
    assert api.request("DELETE", "/api/users/me/tokens/%d" % other["id"],
                       token=tok).status_code == 204
    assert_error(api.get("/api/users/me", token=other["token"]), 401, "unauthorized")


def test_ws_ticket_is_not_for_tokens_and_logout_revokes_the_token(api, alice):
    tok = make_token(api, alice.token, "read")
    r = api.post("/api/auth/ws-ticket", token=tok["token"])
    assert_error(r, 403, "forbidden")
    assert api.post("/api/auth/logout", token=tok["token"]).status_code == 204
    assert_error(api.get("/api/users/me", token=tok["token"]), 401, "unauthorized")
    assert api.get("/api/users/me", token=alice.token).status_code == 200


# ------------------------------------------------------------- bookkeeping

def test_last_used_at_moves_at_most_once_a_minute(server, api, alice):
    tok = make_token(api, alice.token, "read")
    assert api.get("/api/users/me", token=tok["token"]).status_code == 200
    first = db_row(server, "SELECT last_used_at FROM api_tokens WHERE id = ?", (tok["id"],))[0]
    assert first and first > 0
    listed = [t for t in tokens_of(api, alice.token) if t["id"] == tok["id"]][0]
    assert_time(listed["last_used_at"])
    time.sleep(0.05)
    assert api.get("/api/users/me", token=tok["token"]).status_code == 200
    again = db_row(server, "SELECT last_used_at FROM api_tokens WHERE id = ?", (tok["id"],))[0]
    assert again == first, "touched twice within a minute"
    # a use more than a minute after the last one moves it
    sql(server.db, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (first - 61000, tok["id"]))
    assert api.get("/api/users/me", token=tok["token"]).status_code == 200
    later = db_row(server, "SELECT last_used_at FROM api_tokens WHERE id = ?", (tok["id"],))[0]
    assert later >= first


def test_expired_token_is_refused(server, api, alice):
    tok = make_token(api, alice.token, "read", expires_in=60)
    assert api.get("/api/users/me", token=tok["token"]).status_code == 200
    sql(server.db, "UPDATE api_tokens SET expires_at = ? WHERE id = ?",
        (int(time.time() * 1000) - 1000, tok["id"]))
    assert_error(api.get("/api/users/me", token=tok["token"]), 401, "unauthorized")


def test_deactivated_owner_token_refused_and_back_after(server, api, carol):
    tok = make_token(api, carol.token, "read")
    try:
        sql(server.db, "UPDATE users SET deactivated_at = ? WHERE id = ?",
            (int(time.time() * 1000), carol.id))
        assert_error(api.get("/api/users/me", token=tok["token"]), 401, "unauthorized")
    finally:
        sql(server.db, "UPDATE users SET deactivated_at = NULL WHERE id = ?", (carol.id,))
    assert api.get("/api/users/me", token=tok["token"]).status_code == 200


def test_password_change_keeps_tokens_erasure_deletes_them(server, api):
    u = make_user(api, "tok")
    tok = make_token(api, u.token, "read")
    r = api.request("PUT", "/api/users/me/password", token=u.token,
                    json_body={"old_password": PASSWORD, "new_password": PASSWORD + "2"})
    assert r.status_code == 204, r.text
    assert api.get("/api/users/me", token=tok["token"]).status_code == 200
    r = api.request("DELETE", "/api/users/me", token=u.token, json_body={"password": PASSWORD + "2"})
    assert r.status_code == 204, r.text
    assert_error(api.get("/api/users/me", token=tok["token"]), 401, "unauthorized")
    assert db_row(server, "SELECT count(*) FROM api_tokens WHERE user_id = ?", (u.id,))[0] == 0


# ------------------------------------------------------------- WebSocket

@needs_ws
def test_read_token_receives_but_cannot_post_over_ws(server, api, alice):
    tok = make_token(api, alice.token, "read")["token"]
    ch = api.create_channel(alice.token)
    ws = server.connect(tok)
    try:
        assert ws.hello["user_id"] == alice.id
        ws.send({"channel_id": ch["id"], "content": "nope", "client_msg_id": "r1"})
        err = ws.wait_for(lambda f: f.get("type") == "error", what="error frame")
        assert err["error"]["code"] == "forbidden" and err.get("client_msg_id") == "r1"
        ws.send({"type": "typing", "channel_id": ch["id"]})
        err = ws.wait_for(lambda f: f.get("type") == "error", what="typing error")
        assert err["error"]["code"] == "forbidden"
        api.post_message(alice.token, ch["id"], "seen by the read token")
        ev = ws.wait_for(lambda f: f.get("type") == "message.created", what="live event")
        assert ev["message"]["content"] == "seen by the read token"
        ws.send({"type": "ping"})
        ws.wait_for(lambda f: f.get("type") == "pong", what="pong")
    finally:
        ws.close()
    assert [m["content"] for m in assert_json(api.history(alice.token, ch["id"]), 200)] == \
        ["seen by the read token"]


@needs_ws
def test_post_token_posts_over_ws(server, api, alice):
    tok = make_token(api, alice.token, "post")["token"]
    ch = api.create_channel(alice.token)
    ws = server.connect(tok)
    try:
        ws.send({"channel_id": ch["id"], "content": "from a token", "client_msg_id": "p1"})
        ack = ws.wait_for(lambda f: f.get("type") == "ack", what="ack")
        assert ack["message"]["user_id"] == alice.id
    finally:
        ws.close()


@needs_ws
def test_revoking_closes_the_socket_and_refuses_rest(server, api, alice):
    tok = make_token(api, alice.token, "read")
    ws = server.connect(tok["token"])
    try:
        t0 = time.monotonic()
        assert api.request("DELETE", "/api/users/me/tokens/%d" % tok["id"],
                           token=alice.token).status_code == 204
        assert wait_close(ws.conn, timeout=10) == 4001
        assert time.monotonic() - t0 < 8
    finally:
        ws.close()
    assert_error(api.get("/api/users/me", token=tok["token"]), 401, "unauthorized")
    assert upgrade_status(server.ws_url(tok["token"])) == 401


@needs_ws
def test_deactivation_closes_token_sockets(server, api, dave):
    tok = make_token(api, dave.token, "post")["token"]
    ws = server.connect(tok)
    try:
        sql(server.db, "UPDATE users SET deactivated_at = ? WHERE id = ?",
            (int(time.time() * 1000), dave.id))
        assert wait_close(ws.conn, timeout=10) == 4001
    finally:
        sql(server.db, "UPDATE users SET deactivated_at = NULL WHERE id = ?", (dave.id,))
        ws.close()


# ------------------------------------------------------------- bots

@pytest.fixture(scope="module")
def admin(server, api):
    """A server admin: promoted with SQL (the admin endpoints are another
    part of issue 16)."""
    u = make_user(api, "adm")
    sql(server.db, "UPDATE users SET server_role = 'admin' WHERE id = ?", (u.id,))
    return u


@pytest.fixture(scope="module")
def plain(server, api):
    """A user who is no server admin (the first account is one:
    docs/DECISIONS.md "Server administration")."""
    u = make_user(api, "pln")
    sql(server.db, "UPDATE users SET server_role = 'user' WHERE id = ?", (u.id,))
    return u


def make_bot(api, admin, **extra):
    r = api.post("/api/bots", dict(username=unique_name("bot"), **extra), token=admin.token)
    return assert_json(r, 201)


def test_only_server_admins_make_bots(api, plain):
    r = api.post("/api/bots", {"username": unique_name("bot")}, token=plain.token)
    assert_error(r, 403, "forbidden")
    assert assert_json(api.get("/api/bots", token=plain.token), 200) == {"bots": []}


def test_bot_creation_and_listing(server, api, admin):
    bot = make_bot(api, admin, display_name="Build Bot")
    assert bot["bot"] is True and bot["display_name"] == "Build Bot"
    assert "email" not in bot
    row = db_row(server, "SELECT is_bot, bot_owner_id, password_hash FROM users WHERE id = ?",
                 (bot["id"],))
    assert row[0] == 1 and row[1] == admin.id and not row[2].startswith("$argon2")
    assert any(b["id"] == bot["id"] for b in assert_json(api.get("/api/bots", token=admin.token),
                                                         200)["bots"])
    # no password sign-in, whatever is tried
    r = api.login_resp(bot["username"], PASSWORD)
    assert_error(r, 401, "unauthorized")
    r = api.login_resp(bot["username"], "!")
    assert r.status_code in (400, 401), r.text
    # the same username again
    r = api.post("/api/bots", {"username": bot["username"]}, token=admin.token)
    assert_error(r, 409, "conflict")


@pytest.mark.parametrize("body", [{}, {"username": "a"}, {"username": 5},
                                  {"username": "ok_name", "display_name": 7},
                                  {"username": "ok_name", "display_name": "x" * 65}])
def test_bot_bad_bodies(api, admin, body):
    assert_error(api.post("/api/bots", body, token=admin.token), 400, "bad_request")


def test_bot_posts_with_its_token_and_needs_membership(server, api, admin, alice, plain):
    bot = make_bot(api, admin)
    tok = assert_json(api.post("/api/bots/%d/tokens" % bot["id"], {"name": "ci", "scope": "post"},
                               token=admin.token), 201)
    assert tok["token"].startswith("plt_")
    listed = assert_json(api.get("/api/bots/%d/tokens" % bot["id"], token=admin.token), 200)
    assert [t["id"] for t in listed["tokens"]] == [tok["id"]]
    priv = api.create_channel(alice.token, kind="private")
    r = api.post("/api/messages", {"channel_id": priv["id"], "content": "hello"}, token=tok["token"])
    assert_error(r, 404, "not_found")
    assert api.post("/api/channels/%d/members" % priv["id"], {"user_id": bot["id"]},
                    token=alice.token).status_code == 201
    m = assert_json(api.post("/api/messages", {"channel_id": priv["id"], "content": "build green"},
                             token=tok["token"]), 201)
    assert m["user_id"] == bot["id"] and m["username"] == bot["username"]
    # others may not manage it; a non-bot id is no bot
    assert_error(api.get("/api/bots/%d/tokens" % bot["id"], token=plain.token), 403, "forbidden")
    assert_error(api.get("/api/bots/%d/tokens" % alice.id, token=admin.token), 404, "not_found")
    assert_error(api.request("DELETE", "/api/bots/%d" % bot["id"], token=plain.token),
                 403, "forbidden")
    # revoke the bot's token, then delete the bot: erased like an account
    tok2 = assert_json(api.post("/api/bots/%d/tokens" % bot["id"], {"name": "b", "scope": "read"},
                                token=admin.token), 201)
    assert api.request("DELETE", "/api/bots/%d/tokens/%d" % (bot["id"], tok["id"]),
                       token=admin.token).status_code == 204
    assert_error(api.get("/api/users/me", token=tok["token"]), 401, "unauthorized")
    assert api.request("DELETE", "/api/bots/%d" % bot["id"], token=admin.token).status_code == 204
    assert_error(api.get("/api/users/me", token=tok2["token"]), 401, "unauthorized")
    assert_error(api.request("DELETE", "/api/bots/%d" % bot["id"], token=admin.token),
                 404, "not_found")
    hist = assert_json(api.history(alice.token, priv["id"]), 200)
    assert [x["content"] for x in hist] == ["build green"]


def test_admin_scope_token_of_a_server_admin_makes_bots(api, admin):
    post = make_token(api, admin.token, "post")["token"]
    assert_error(api.post("/api/bots", {"username": unique_name("bot")}, token=post),
                 403, "forbidden")
    adm = make_token(api, admin.token, "admin")["token"]
    assert assert_json(api.post("/api/bots", {"username": unique_name("bot")}, token=adm),
                       201)["bot"] is True
