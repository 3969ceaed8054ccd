"""Accounts (issue 3): sessions with refresh-token rotation, logout,
profiles, password change, account deletion, email verification and rate
limits — against the real server, happy paths and abuse.

Most tests use the shared server (generous rate limits, SUITE_CONF); the
rate-limit and mail tests start their own small servers with
start_server(extra_conf=...).
"""

import glob
import http.client
import json
import os
import re
import tempfile
import time

import pytest
import websocket

import pg_util
from conftest import NO_WS_DAEMON, start_server
from helpers import (Api, PASSWORD, USER_KEYS, assert_error, assert_json,
                     assert_time, jwt_parts, make_user, no_secret_fields,
                     unique_name)
from rt_util import upgrade_status

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE_SENDMAIL = os.path.join(REPO, "tests", "fixtures", "fake_sendmail.sh")


def login_body(api, username, password=PASSWORD):
    return assert_json(api.login_resp(username, password), 200)


def fresh_user(api, prefix="acc"):
    """A user of its own (tests below revoke, rename or delete it)."""
    return make_user(api, prefix)


def refresh(api, token):
    return api.post("/api/auth/refresh", {"refresh_token": token})


def validate(api, token):
    return api.get("/api/auth/validate", token=token)


def me(api, token):
    return api.get("/api/users/me", token=token)


def patch_me(api, token, body):
    return api.request("PATCH", "/api/users/me", token=token, json_body=body)


# ---------------------------------------------------------------- sessions

def test_access_token_lifetime_is_15_minutes(api, alice):
    body = login_body(api, alice.username)
    assert body["expires_in"] == 900
    _, claims = jwt_parts(body["access_token"])
    assert claims["exp"] - claims["iat"] == 900


def test_sessions_are_per_login(api):
    u = fresh_user(api)
    a = login_body(api, u.username)
    b = login_body(api, u.username)
    sid_a = jwt_parts(a["access_token"])[1]["sid"]
    sid_b = jwt_parts(b["access_token"])[1]["sid"]
    assert sid_a != sid_b
    # logging one out leaves the other working
    r = api.post("/api/auth/logout", None, token=a["access_token"], data=b"")
    assert r.status_code == 204, r.text
    assert_error(validate(api, a["access_token"]), 401, "unauthorized")
    assert_json(validate(api, b["access_token"]), 200)


def test_refresh_rotates(api):
    u = fresh_user(api)
    first = login_body(api, u.username)
    r = refresh(api, first["refresh_token"])
    body = assert_json(r, 200)
    for k in ("token", "access_token", "refresh_token", "token_type", "expires_in"):
        assert k in body, body
    assert body["token"] == body["access_token"]
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"] != first["refresh_token"]
    assert body["user"]["id"] == u.id
    # same session, new access token that works
    assert jwt_parts(body["access_token"])[1]["sid"] == jwt_parts(first["access_token"])[1]["sid"]
    assert_json(validate(api, body["access_token"]), 200)
    # and the new refresh token rotates again
    again = assert_json(refresh(api, body["refresh_token"]), 200)
    assert again["refresh_token"] not in (body["refresh_token"], first["refresh_token"])


def test_rotated_refresh_token_reuse_revokes_session(api):
    u = fresh_user(api)
    first = login_body(api, u.username)
    second = assert_json(refresh(api, first["refresh_token"]), 200)
    # the thief replays the first (already rotated) token
    r = refresh(api, first["refresh_token"])
    assert_error(r, 401, "unauthorized")
    # now the newest refresh token is dead too ...
    assert_error(refresh(api, second["refresh_token"]), 401, "unauthorized")
    # ... and so are the session's access tokens, old and new
    assert_error(validate(api, second["access_token"]), 401, "unauthorized")
    assert_error(validate(api, first["access_token"]), 401, "unauthorized")
    # other sessions of the user are untouched
    other = login_body(api, u.username)
    assert_json(validate(api, other["access_token"]), 200)


def test_refresh_abuse(api, alice):
    for bad in ("", "x", "A" * 43, "A" * 200, "not a token at all, clearly"):
        assert_error(refresh(api, bad), 401, "unauthorized")
    assert_error(api.post("/api/auth/refresh", {}), 400, "bad_request")
    assert_error(api.post("/api/auth/refresh", {"refresh_token": 5}), 400, "bad_request")
    # an access token is not a refresh token
    assert_error(refresh(api, alice.token), 401, "unauthorized")


def test_logout_revokes_access_and_refresh(api):
    u = fresh_user(api)
    s = login_body(api, u.username)
    r = api.post("/api/auth/logout", {"refresh_token": s["refresh_token"]},
                 token=s["access_token"])
    assert r.status_code == 204, r.text
    assert r.text == ""
    assert_error(validate(api, s["access_token"]), 401, "unauthorized")
    assert_error(me(api, s["access_token"]), 401, "unauthorized")
    assert_error(api.get("/api/channels", token=s["access_token"]), 401, "unauthorized")
    assert_error(refresh(api, s["refresh_token"]), 401, "unauthorized")
    # logout itself needs a live token
    assert_error(api.post("/api/auth/logout", None, token=s["access_token"], data=b""),
                 401, "unauthorized")
    assert_error(api.post("/api/auth/logout", None, data=b""), 401, "unauthorized")


def test_websocket_refuses_revoked_and_deleted_sessions(server, api):
    """The ws-daemon runs the same session check at the upgrade: a
    logged-out session's token and a deleted user's token get 401."""
    u = fresh_user(api)
    s = login_body(api, u.username)
    ws = websocket.create_connection(server.ws_url(s["access_token"]), timeout=5)
    ws.close()
    assert api.post("/api/auth/logout", None, token=s["access_token"], data=b"").status_code == 204
    with pytest.raises(websocket.WebSocketBadStatusException) as exc:
        websocket.create_connection(server.ws_url(s["access_token"]), timeout=5).close()
    assert exc.value.status_code == 401
    assert delete_me(api, u.token, PASSWORD).status_code == 204
    with pytest.raises(websocket.WebSocketBadStatusException) as exc:
        websocket.create_connection(server.ws_url(u.token), timeout=5).close()
    assert exc.value.status_code == 401


def test_logout_without_body_and_ws_ticket_after_logout(server, api):
    u = fresh_user(api)
    s = login_body(api, u.username)
    tickets = [assert_json(api.post("/api/auth/ws-ticket", None, token=s["access_token"],
                                    data=b""), 200)["ticket"] for _ in range(2)]
    assert all(tickets) and tickets[0] != tickets[1]
    if not NO_WS_DAEMON:  # control: a ticket of the live session opens /ws
        assert upgrade_status(server.ws + "?ticket=" + tickets[0]) == 101
    r = api.post("/api/auth/logout", None, token=s["access_token"], data=b"")
    assert r.status_code == 204, r.text
    assert_error(refresh(api, s["refresh_token"]), 401, "unauthorized")
    assert_error(api.post("/api/auth/ws-ticket", None, token=s["access_token"], data=b""),
                 401, "unauthorized")
    # the unused ticket minted before the logout died with its session
    if not NO_WS_DAEMON:
        assert upgrade_status(server.ws + "?ticket=" + tickets[1]) == 401


def test_logout_with_other_users_refresh_token_leaves_it(api):
    u, v = fresh_user(api), fresh_user(api)
    su = login_body(api, u.username)
    sv = login_body(api, v.username)
    r = api.post("/api/auth/logout", {"refresh_token": sv["refresh_token"]},
                 token=su["access_token"])
    assert r.status_code == 204
    assert_json(validate(api, sv["access_token"]), 200)
    assert_json(refresh(api, sv["refresh_token"]), 200)


# ---------------------------------------------------------------- profiles

def test_me_has_email_and_profile_fields(api):
    name = unique_name("prof")
    r = api.register(name, PASSWORD, email="prof@example.com", display_name="Prof")
    uid = assert_json(r, 201)["user"]["id"]
    token = api.login(name)
    body = assert_json(me(api, token), 200)
    assert USER_KEYS <= set(body), body
    assert body["id"] == uid and body["username"] == name
    assert body["email"] == "prof@example.com"
    assert body["email_verified"] is False
    assert body["display_name"] == "Prof"
    assert_time(body["created_at"])
    no_secret_fields(body)


def test_patch_me_updates_fields(api):
    u = fresh_user(api)
    body = {"display_name": "Zoë Ünïcode", "bio": "line one\nline two",
            "avatar_url": "https://cdn.example.com/a/b.png?size=64#x",
            "status_text": "out for lunch", "email": "zoe@example.org"}
    out = assert_json(patch_me(api, u.token, body), 200)
    for k, v in body.items():
        assert out[k] == v, (k, out)
    assert out["email_verified"] is False
    again = assert_json(me(api, u.token), 200)
    assert {k: again[k] for k in body} == body
    # a partial patch keeps the rest; "" clears
    out = assert_json(patch_me(api, u.token, {"status_text": ""}), 200)
    assert out["status_text"] == "" and out["bio"] == body["bio"]
    out = assert_json(patch_me(api, u.token, {}), 200)
    assert out["display_name"] == body["display_name"]
    # unknown keys are ignored, the username cannot be changed here
    out = assert_json(patch_me(api, u.token, {"username": "hijack", "id": 1}), 200)
    assert out["username"] == u.username and out["id"] == u.id
    # limits are code points: 64 of a 2-byte character is fine, and what is
    # stored comes back exactly
    edge = {"display_name": "é" * 64, "status_text": "ß" * 100, "bio": "b" * 499 + "\u00e9",
            "avatar_url": "https://example.com/" + "p" * 480}
    assert len(edge["avatar_url"]) == 500
    out = assert_json(patch_me(api, u.token, edge), 200)
    assert {k: out[k] for k in edge} == edge
    again = assert_json(me(api, u.token), 200)
    assert {k: again[k] for k in edge} == edge
    for url in ("http://127.0.0.1:8080/x.png", "HTTPS://[::1]/a", "http://[2001:db8::ff00:42:8329]:443/a.png",
                "https://cdn-2.example.com/a.png"):
        assert assert_json(patch_me(api, u.token, {"avatar_url": url}), 200)["avatar_url"] == url
        assert assert_json(me(api, u.token), 200)["avatar_url"] == url


BAD_PATCHES = [
    {"display_name": "x" * 65},
    {"bio": "b" * 501},
    {"status_text": "s" * 101},
    {"display_name": "tab\there"},
    {"status_text": "new\nline"},
    {"display_name": 5},
    {"bio": ["list"]},
    {"avatar_url": "javascript:alert(1)"},
    {"avatar_url": "ftp://example.com/a.png"},
    {"avatar_url": "data:image/png;base64,AAAA"},
    {"avatar_url": "//example.com/a.png"},
    {"avatar_url": "https://"},
    {"avatar_url": "https:///path"},
    {"avatar_url": "https://exa mple.com/a.png"},
    {"avatar_url": "https://example.com/a\".png"},
    {"avatar_url": "https://example.com/<script>"},
    {"avatar_url": "https://user:pw@example.com/a.png"},
    {"avatar_url": "https://example.com:99999/a.png"},
    {"avatar_url": "https://example.com:/a.png"},
    {"avatar_url": "https://example.com/" + "a" * 500},
    {"avatar_url": "https://exämple.com/"},
    # hosts checked with inet_pton: not an IPv6 or IPv4 address
    {"avatar_url": "http://[:::::]/a.png"},
    {"avatar_url": "http://[]/a.png"},
    {"avatar_url": "http://[fe80::1%eth0]/a.png"},
    {"avatar_url": "http://999.1.1.1/a.png"},
    {"avatar_url": "http://1.2.3/a.png"},
    {"email": "no-at-sign"},
    {"email": "a@b.com, victim@example.com"},
    {"email": "a@b.com\r\nBcc: victim@example.com"},
    {"email": "<a@b.com>"},
    {"email": "a b@c.com"},
    {"email": "@example.com"},
    {"email": "a@"},
    # one bad field spoils the whole patch
    {"display_name": "fine", "avatar_url": "gopher://x"},
]


@pytest.mark.parametrize("body", BAD_PATCHES)
def test_patch_me_bad_field_is_400_and_changes_nothing(api, bob, body):
    before = assert_json(me(api, bob.token), 200)
    assert_error(patch_me(api, bob.token, body), 400, "bad_request")
    assert assert_json(me(api, bob.token), 200) == before


def test_profiles_need_auth(api, alice):
    for method, path in (("GET", "/api/users/me"), ("PATCH", "/api/users/me"),
                         ("GET", "/api/users/%d" % alice.id), ("GET", "/api/users?q=a"),
                         ("PUT", "/api/users/me/password"), ("DELETE", "/api/users/me")):
        r = api.request(method, path, json_body={} if method in ("PATCH", "PUT", "DELETE") else None)
        assert_error(r, 401, "unauthorized")


def test_other_users_email_is_never_shown(api):
    name = unique_name("mail")
    owner_id = assert_json(api.register(name, PASSWORD, email="secret@example.net"), 201)["user"]["id"]
    owner = api.login(name)
    viewer = fresh_user(api)
    r = api.get("/api/users/%d" % owner_id, token=viewer.token)
    body = assert_json(r, 200)
    assert USER_KEYS <= set(body)
    assert "email" not in body and "email_verified" not in body
    assert "secret@example.net" not in r.text
    r = api.get("/api/users", token=viewer.token, params={"q": name})
    found = assert_json(r, 200)["users"]
    assert [u["id"] for u in found] == [owner_id]
    assert "secret@example.net" not in r.text and "email" not in found[0]
    # the owner sees it on their own id
    own = assert_json(api.get("/api/users/%d" % owner_id, token=owner), 200)
    assert own["email"] == "secret@example.net"
    # login and refresh bodies are the owner's own view
    lb = login_body(api, name)
    assert lb["user"]["email"] == "secret@example.net"


def test_get_user_by_id_404(api, alice):
    assert_error(api.get("/api/users/999999999", token=alice.token), 404, "not_found")
    assert_error(api.get("/api/users/0", token=alice.token), 404, "not_found")
    assert_error(api.get("/api/users/abc", token=alice.token), 404, "not_found")
    assert_error(api.request("POST", "/api/users/%d" % alice.id, token=alice.token,
                             json_body={}), 405, "method_not_allowed")


def test_search_by_prefix(api):
    tag = unique_name("srch")[:12]
    a = make_user(api, tag + "a")
    b = make_user(api, tag + "b")
    c = make_user(api, "zz")
    assert_json(patch_me(api, c.token, {"display_name": tag.upper() + " display"}), 200)
    r = api.get("/api/users", token=a.token, params={"q": tag})
    ids = [u["id"] for u in assert_json(r, 200)["users"]]
    assert set(ids) == {a.id, b.id, c.id}, ids
    # case-insensitive, and limit is honoured
    ids_upper = [u["id"] for u in assert_json(
        api.get("/api/users", token=a.token, params={"q": tag.upper()}), 200)["users"]]
    assert set(ids_upper) == set(ids)
    one = assert_json(api.get("/api/users", token=a.token, params={"q": tag, "limit": 1}), 200)
    assert len(one["users"]) == 1
    # a longer prefix narrows it
    r = api.get("/api/users", token=a.token, params={"q": a.username})
    assert [u["id"] for u in assert_json(r, 200)["users"]] == [a.id]
    # no match, and LIKE wildcards are plain characters
    for q in ("zzzz-nobody-" + tag, "%", "_" * 5, tag + "%"):
        assert assert_json(api.get("/api/users", token=a.token, params={"q": q}), 200)["users"] == []


def test_search_abuse(api, alice):
    for params in ({"limit": 0}, {"limit": 201}, {"limit": "x"}, {"q": "q" * 101}):
        assert_error(api.get("/api/users", token=alice.token, params=params), 400, "bad_request")
    assert_json(api.get("/api/users", token=alice.token, params={"limit": 200}), 200)


# ---------------------------------------------------------------- password

def change_password(api, token, old, new):
    return api.request("PUT", "/api/users/me/password", token=token,
                       json_body={"old_password": old, "new_password": new})


def test_password_change_revokes_other_sessions(api):
    u = fresh_user(api)
    here = login_body(api, u.username)
    other = login_body(api, u.username)
    r = change_password(api, here["access_token"], PASSWORD, "a brand new password")
    assert r.status_code == 204, r.text
    # this session goes on, every other one is gone
    assert_json(validate(api, here["access_token"]), 200)
    assert_json(refresh(api, here["refresh_token"]), 200)
    assert_error(validate(api, other["access_token"]), 401, "unauthorized")
    assert_error(validate(api, u.token), 401, "unauthorized")
    assert_error(refresh(api, other["refresh_token"]), 401, "unauthorized")
    # only the new password logs in
    assert_error(api.login_resp(u.username, PASSWORD), 401, "unauthorized")
    login_body(api, u.username, "a brand new password")


def test_password_change_wrong_old_password(api):
    u = fresh_user(api)
    r = change_password(api, u.token, "not the password", "whatever new pw")
    assert_error(r, 403, "forbidden")
    # nothing changed, the token still works
    assert_json(validate(api, u.token), 200)
    login_body(api, u.username)
    assert_error(api.login_resp(u.username, "whatever new pw"), 401, "unauthorized")


def test_password_change_bad_bodies(api):
    u = fresh_user(api)
    for body in ({"old_password": PASSWORD}, {"new_password": "long enough"},
                 {"old_password": PASSWORD, "new_password": "short"},
                 {"old_password": PASSWORD, "new_password": "x" * 1025},
                 {"old_password": 1, "new_password": "long enough"}):
        r = api.request("PUT", "/api/users/me/password", token=u.token, json_body=body)
        assert_error(r, 400, "bad_request")
    login_body(api, u.username)


# ---------------------------------------------------------------- deletion

def delete_me(api, token, password):
    return api.request("DELETE", "/api/users/me", token=token, json_body={"password": password})


def users_rows_holding(db_path, email, bio):
    """Ids of users rows that hold `email` or `bio` (read-only peek)."""
    con = pg_util.connect(db_path)
    try:
        return [r[0] for r in con.execute(
            "SELECT id FROM users WHERE email = ? COLLATE NOCASE OR bio = ?", (email, bio))]
    finally:
        con.close()


def test_delete_account(server, api, alice):
    u = fresh_user(api, "del")
    other_session = login_body(api, u.username)
    ch = api.create_channel(alice.token)
    api.post("/api/channels/%d/join" % ch["id"], None, token=u.token, data=b"")
    m = api.send(u.token, ch["id"], "my last words")
    # a profile worth erasing, visible and findable before
    email, bio = u.username + "@erase.example", "bio of %s, to be erased" % u.username
    profile = {"email": email, "bio": bio, "display_name": "Del " + u.username,
               "status_text": "leaving", "avatar_url": "https://cdn.example/%s.png" % u.username}
    assert_json(patch_me(api, u.token, profile), 200)
    assert assert_json(api.get("/api/users/%d" % u.id, token=alice.token), 200)["bio"] == bio
    found = assert_json(api.get("/api/users", token=alice.token, params={"q": u.username}), 200)
    assert [x["id"] for x in found["users"]] == [u.id]
    assert users_rows_holding(server.db, email, bio) == [u.id]

    assert_error(delete_me(api, u.token, "wrong password!"), 403, "forbidden")
    assert_json(validate(api, u.token), 200)
    assert_error(api.request("DELETE", "/api/users/me", token=u.token, json_body={}),
                 400, "bad_request")

    r = delete_me(api, u.token, PASSWORD)
    assert r.status_code == 204, r.text
    # every token of the deleted user is dead
    for t in (u.token, other_session["access_token"]):
        assert_error(validate(api, t), 401, "unauthorized")
        assert_error(me(api, t), 401, "unauthorized")
        assert_error(api.post_message(t, ch["id"], "from beyond"), 401, "unauthorized")
    assert_error(refresh(api, other_session["refresh_token"]), 401, "unauthorized")
    assert_error(api.login_resp(u.username, PASSWORD), 401, "unauthorized")
    # profile gone, not findable
    assert_error(api.get("/api/users/%d" % u.id, token=alice.token), 404, "not_found")
    found = assert_json(api.get("/api/users", token=alice.token, params={"q": u.username}), 200)
    assert found["users"] == []
    found = assert_json(api.get("/api/users", token=alice.token,
                                params={"q": profile["display_name"]}), 200)
    assert found["users"] == []
    # erased in the database, not only hidden
    assert users_rows_holding(server.db, email, bio) == []
    # the message stays, shown as from a deleted user
    hist = assert_json(api.history(alice.token, ch["id"]), 200)
    kept = [x for x in hist if x["id"] == m["id"]]
    assert kept and kept[0]["content"] == "my last words"
    assert kept[0]["user_id"] == u.id
    assert kept[0]["username"] == "deleted-user-%d" % u.id
    # the name is free again, for a different account
    r = api.register(u.username, "another password")
    assert assert_json(r, 201)["user"]["id"] != u.id


def _members(api, token, cid):
    body = assert_json(api.get("/api/channels/%d/members" % cid, token=token), 200)
    return {m["user"]["id"]: m["role"] for m in body["members"]}


def test_deleted_account_leaves_its_channels(server, api, alice):
    """An erased account leaves every channel; where it was the last owner,
    the longest-standing admin (else member) becomes owner; a channel it
    shared with nobody stays, empty; the messages stay."""
    u, v, w = fresh_user(api, "dlo"), fresh_user(api, "dlv"), fresh_user(api, "dlw")
    owned = api.create_channel(u.token, kind="private", members=[v.id])["id"]
    r = api.post("/api/channels/%d/members" % owned, {"user_id": w.id, "role": "admin"},
                 token=u.token)
    assert r.status_code in (200, 201), r.text
    joined = api.create_channel(alice.token)["id"]
    assert api.post("/api/channels/%d/join" % joined, None, token=u.token,
                    data=b"").status_code == 200
    alone = api.create_channel(u.token, kind="private")["id"]
    dm = assert_json(api.post("/api/channels/dm", {"user_ids": [v.id]}, token=u.token), 201)["id"]
    kept = api.send(u.token, dm, "before I go")["id"]
    assert _members(api, v.token, owned) == {u.id: "owner", v.id: "member", w.id: "admin"}
    with pg_util.connect(server.db) as db:
        last_event = db.execute("SELECT max(id) FROM events").fetchone()[0]

    assert delete_me(api, u.token, PASSWORD).status_code == 204
    # the admin (not the earlier member) now owns it; u is gone everywhere
    assert _members(api, v.token, owned) == {v.id: "member", w.id: "owner"}
    assert u.id not in _members(api, alice.token, joined)
    assert _members(api, v.token, dm) == {v.id: "member"}
    ch = assert_json(api.get("/api/channels/%d" % owned, token=w.token), 200)
    assert ch["member_count"] == 2 and ch["role"] == "owner"
    # the new owner can manage it
    r = api.request("PATCH", "/api/channels/%d" % owned, token=w.token, json_body={"topic": "mine"})
    assert_json(r, 200)
    # the dm history stays readable, as from a deleted user
    hist = assert_json(api.history(v.token, dm), 200)
    assert [(m["id"], m["username"]) for m in hist] == [(kept, "deleted-user-%d" % u.id)]
    # events: member.left for each of the four channels, one hand-over
    with pg_util.connect(server.db) as db:
        rows = db.execute("SELECT type, channel_id, payload FROM events WHERE id > ?",
                          (last_event,)).fetchall()
    left = sorted({c for t, c, p in rows if t == "member.left" and json.loads(p)["user_id"] == u.id})
    assert left == sorted([owned, joined, alone, dm])
    handed = [(c, json.loads(p)) for t, c, p in rows if t == "member.updated"]
    assert handed == [(owned, {"user_id": w.id, "role": "owner"})]
    with pg_util.connect(server.db) as db:
        assert db.execute("SELECT count(*) FROM channel_members WHERE user_id = ?",
                          (u.id,)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM channels WHERE id = ?", (alone,)).fetchone()[0] == 1


def test_reserved_deleted_user_prefix(api):
    assert_error(api.register("deleted-user-1", PASSWORD), 400, "bad_request")
    assert_error(api.register("Deleted-User-77x", PASSWORD), 400, "bad_request")


# ---------------------------------------------------------------- rate limits

CODE_TTL = 3  # seconds: a fresh code is used at once, an expired one after

LIMITED_CONF = """
login_user_limit = 3
login_user_window = 2
login_addr_limit = 12
login_addr_window = 60
register_addr_limit = 3
register_addr_window = 600
"""


@pytest.fixture(scope="module")
def limited():
    """A server with small limits (and verification codes that live
    CODE_TTL seconds, 2 mails per user), two of its 3 registrations used:
    srv.users = [victim, bystander]."""
    maildir = tempfile.mkdtemp(prefix="parley-mail-")
    conf = LIMITED_CONF + ("mail_command = %s %s\nverify_code_ttl = %d\nverify_request_limit = 2\n"
                           % (FAKE_SENDMAIL, maildir, CODE_TTL))
    with start_server(extra_conf=conf) as srv:
        srv.maildir = maildir
        api = Api(srv.base)
        srv.users = []
        for _ in range(2):
            name = unique_name("rl")
            assert_json(api.register(name, PASSWORD), 201)
            srv.users.append(name)
        yield srv


def wait_until(pred, timeout=10.0, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            return got
        time.sleep(step)


def register_from(srv, source, body):
    """POST /api/auth/register from another loopback source address;
    `body` a dict (sent as JSON) or bytes (sent as is). Returns the status."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15,
                                      source_address=(source, 0))
    try:
        data = body if isinstance(body, bytes) else json.dumps(body)
        conn.request("POST", "/api/auth/register", body=data,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def test_rate_limits(limited):
    api = Api(limited.base)
    # a fresh address: invalid registrations first, more than the limit of
    # them; they are refused before they count, so all 3 valid ones pass
    fresh = "127.0.0.3"
    for bad in ({"username": "x", "password": PASSWORD},
                {"username": "no spaces here", "password": PASSWORD},
                {"username": unique_name("rl"), "password": "short"},
                {"username": unique_name("rl")},
                b'{"username": "broken json",'):
        assert register_from(limited, fresh, bad) == 400, bad
    for _ in range(3):
        assert register_from(limited, fresh, {"username": unique_name("rf"),
                                              "password": PASSWORD}) == 201
    assert register_from(limited, fresh, {"username": unique_name("rf"),
                                          "password": PASSWORD}) == 429
    # registrations per address: 3 per window here, then 429
    # (the fixture made 2) ...
    assert_json(api.register(unique_name("rl"), PASSWORD), 201)
    r = api.register(unique_name("rl"), PASSWORD)
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    # invalid registrations are refused before they count (400, not 429)
    assert_error(api.register("x", PASSWORD), 400, "bad_request")

    victim, bystander = limited.users
    # failed logins per username: 3 count, the 4th is refused even with
    # the right password
    for _ in range(3):
        assert_error(api.login_resp(victim, "wrong password"), 401, "unauthorized")
    r = api.login_resp(victim, PASSWORD)
    assert_error(r, 429, "rate_limited")
    ra = int(r.headers["Retry-After"])
    assert 1 <= ra <= 2
    # the name is counted case-insensitively
    assert_error(api.login_resp(victim.upper(), PASSWORD), 429, "rate_limited")
    # another user from the same address is not locked by that
    assert api.login_resp(bystander, PASSWORD).status_code == 200
    # once the window is over the right password works again
    ok = wait_until(lambda: api.login_resp(victim, PASSWORD).status_code == 200)
    assert ok, "login still refused after the window"
    # and successful logins did not count: many in a row are fine
    for _ in range(5):
        assert api.login_resp(victim, PASSWORD).status_code == 200


def login_from(srv, source, username, password=PASSWORD):
    """POST /api/auth/login from another loopback source address (the
    server sees it as REMOTE_ADDR). Returns (status, Retry-After or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15,
                                      source_address=(source, 0))
    try:
        conn.request("POST", "/api/auth/login",
                     body=json.dumps({"username": username, "password": password}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After")
    finally:
        conn.close()


def test_rate_limit_per_address(limited):
    api = Api(limited.base)
    real = limited.users[1]
    other = "127.0.0.2"
    # 11 failures from one address, each with a new name (no name reaches 3)
    for _ in range(11):
        assert login_from(limited, other, unique_name("spray"), "wrong password")[0] == 401
    # successes elsewhere and here do not reset that address's counter
    assert api.login_resp(real, PASSWORD).status_code == 200
    assert login_from(limited, other, real)[0] == 200
    assert login_from(limited, other, unique_name("spray"), "wrong password")[0] == 401
    status, retry = login_from(limited, other, real)
    assert status == 429 and int(retry) >= 1
    # the address limit is per address: 127.0.0.1 still logs in
    assert api.login_resp(real, PASSWORD).status_code == 200


# ---------------------------------------------------------------- email

def read_code(maildir, to, timeout=10.0):
    """The code in the newest mail to `to` (checks the headers too)."""
    def newest():
        files = sorted(glob.glob(os.path.join(maildir, "mail-*.eml")), key=os.path.getmtime)
        for f in reversed(files):
            with open(f, encoding="utf-8") as fh:
                text = fh.read()
            if re.search(r"^To: %s$" % re.escape(to), text, re.M):
                return text
        return None
    text = wait_until(newest, timeout)
    assert text, "no mail to %s in %s" % (to, maildir)
    head, _, body = text.partition("\n\n")
    assert re.search(r"^Subject: .+", head, re.M), head
    assert re.search(r"^From: .+", head, re.M), head
    m = re.search(r"code is: ([A-Z0-9]{12})", body)
    assert m, body
    return m.group(1)


@pytest.fixture(scope="module")
def mailsrv():
    maildir = tempfile.mkdtemp(prefix="parley-mail-")
    conf = "mail_command = %s %s\nmail_from = parley-test@example.com\n" % (FAKE_SENDMAIL, maildir)
    with start_server(extra_conf=conf) as srv:
        srv.maildir = maildir
        yield srv


def verify_request(api, token):
    return api.post("/api/auth/verify-email/request", None, token=token, data=b"")


def verify(api, code):
    return api.post("/api/auth/verify-email", {"code": code})


def test_email_verification(mailsrv):
    api = Api(mailsrv.base)
    name = unique_name("ver")
    addr = name + "@example.com"
    assert_json(api.register(name, PASSWORD, email=addr), 201)
    token = api.login(name)
    # wrong codes first (no code pending yet, then a pending one)
    assert_error(verify(api, "ABCDEFGHJKLM"), 400, "bad_request")
    r = verify_request(api, token)
    assert r.status_code == 202, r.text
    code = read_code(mailsrv.maildir, addr)
    wrong = "A" * 12 if code != "A" * 12 else "B" * 12
    assert_error(verify(api, wrong), 400, "bad_request")
    for bad in ("", "short", code + "X", code[:-1] + "!"):
        assert_error(verify(api, bad), 400, "bad_request")
    assert_error(api.post("/api/auth/verify-email", {"code": 123456}), 400, "bad_request")
    assert assert_json(me(api, token), 200)["email_verified"] is False
    # the right one (any case) verifies, once
    body = assert_json(verify(api, code.lower()), 200)
    assert body["email_verified"] is True and body["email"] == addr
    assert assert_json(me(api, token), 200)["email_verified"] is True
    assert_error(verify(api, code), 400, "bad_request")
    # already verified: nothing to send
    assert_error(verify_request(api, token), 409, "conflict")
    # a new address is unverified again; a code sent to the old one is useless
    new_addr = "new-" + addr
    out = assert_json(patch_me(api, token, {"email": new_addr}), 200)
    assert out["email_verified"] is False
    assert verify_request(api, token).status_code == 202
    code2 = read_code(mailsrv.maildir, new_addr)
    assert_json(patch_me(api, token, {"email": "third-" + addr}), 200)
    assert_error(verify(api, code2), 400, "bad_request")
    assert assert_json(me(api, token), 200)["email_verified"] is False


def test_email_verification_needs_address_and_auth(mailsrv):
    api = Api(mailsrv.base)
    name = unique_name("noaddr")
    assert_json(api.register(name, PASSWORD), 201)
    token = api.login(name)
    assert_error(verify_request(api, token), 400, "bad_request")
    assert_error(api.post("/api/auth/verify-email/request", None, data=b""), 401, "unauthorized")


def test_email_code_expires_and_requests_are_limited(limited):
    api = Api(limited.base)
    name = limited.users[0]
    addr = name + "@example.com"
    token = api.login(name)
    # control: a fresh code verifies at once
    assert_json(patch_me(api, token, {"email": addr}), 200)
    assert verify_request(api, token).status_code == 202
    body = assert_json(verify(api, read_code(limited.maildir, addr)), 200)
    assert body["email_verified"] is True and body["email"] == addr
    # a code older than its TTL does not
    addr2 = "two-" + addr
    assert assert_json(patch_me(api, token, {"email": addr2}), 200)["email_verified"] is False
    assert verify_request(api, token).status_code == 202
    sent = time.monotonic()  # the code's clock started before this
    code = read_code(limited.maildir, addr2)
    time.sleep(max(0.0, sent + CODE_TTL + 0.5 - time.monotonic()))
    assert_error(verify(api, code), 400, "bad_request")
    assert assert_json(me(api, token), 200)["email_verified"] is False
    # 2 requests per window per user: the third is refused
    r = verify_request(api, token)
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1


def test_mail_command_failure_is_503():
    with start_server(extra_conf="mail_command = %s FAIL\n" % FAKE_SENDMAIL) as srv:
        api = Api(srv.base)
        name = unique_name("mf")
        assert_json(api.register(name, PASSWORD, email=name + "@example.com"), 201)
        assert_error(verify_request(api, api.login(name)), 503, "unavailable")


def test_mail_not_configured(api):
    name = unique_name("nomail")
    assert_json(api.register(name, PASSWORD, email=name + "@example.com"), 201)
    assert_error(verify_request(api, api.login(name)), 503, "unavailable")
