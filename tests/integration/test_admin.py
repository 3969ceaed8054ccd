"""Server administration (issue 16; README "Server administration"): the
server admin role, /api/admin (users, deactivation, any message or
channel, archive, invites, audit log), registration modes, parleyctl.
Each test module server is its own: the first account on it is the admin."""
import os
import subprocess
import threading
import time

import pytest

from conftest import FRONTEND, NO_WS_DAEMON, start_server
from helpers import WS, Api, PASSWORD, assert_error, unique_name
from rt_util import wait_close

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEACTIVATED = "this account has been deactivated by a server admin"
ARCHIVED = "the channel is archived: it can be read but not changed"


def parleyctl(srv, *args, stdin=None):
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(srv.var, "parley.conf"))
    return subprocess.run([os.path.join(REPO, "build/bin/parleyctl")] + list(args), env=env,
                          input=stdin, capture_output=True, text=True, timeout=60)


class Who:
    def __init__(self, api, name):
        self.name = name
        r = api.register(name)
        assert r.status_code == 201, r.text
        self.id = r.json()["user"]["id"]
        self.server_admin = r.json()["user"].get("server_admin")
        self.login = api.login_resp(name).json()
        self.token = self.login["access_token"]


@pytest.fixture(scope="module")
def srv():
    with start_server() as s:
        yield s


@pytest.fixture(scope="module")
def aapi(srv):
    return Api(srv.base)


@pytest.fixture(scope="module")
def root(aapi):
    return Who(aapi, unique_name("root"))    # the first account: admin


@pytest.fixture(scope="module")
def joe(aapi, root):
    return Who(aapi, unique_name("joe"))


def delete(api, path, token):
    return api.request("DELETE", path, token=token)


def audit(api, token, limit=200):
    r = api.get("/api/admin/audit", token=token, params={"limit": limit})
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def test_first_account_is_server_admin(aapi, root, joe):
    assert root.server_admin is True
    me = aapi.get("/api/users/me", token=joe.token).json()
    assert me["server_admin"] is False
    r = aapi.get("/api/admin/users", token=root.token)
    assert r.status_code == 200, r.text
    users = {u["id"]: u for u in r.json()["users"]}
    assert users[root.id]["server_admin"] is True and users[joe.id]["server_admin"] is False
    assert users[joe.id]["deactivated"] is False and users[joe.id]["deactivated_at"] is None
    for k in ("email", "bot", "created_at", "last_seen_at", "username"):
        assert k in users[joe.id]
    r = aapi.get("/api/admin/users", token=root.token, params={"q": joe.name[:6], "limit": 1})
    assert [u["id"] for u in r.json()["users"]] == [joe.id]


ENDPOINTS = [
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users/1/deactivate"),
    ("POST", "/api/admin/users/1/reactivate"),
    ("PUT", "/api/admin/users/1/server-admin"),
    ("DELETE", "/api/admin/users/1/server-admin"),
    ("DELETE", "/api/admin/messages/1"),
    ("DELETE", "/api/admin/channels/1"),
    ("POST", "/api/admin/channels/1/archive"),
    ("POST", "/api/admin/channels/1/unarchive"),
    ("POST", "/api/admin/invites"),
    ("GET", "/api/admin/invites"),
    ("DELETE", "/api/admin/invites/1"),
    ("GET", "/api/admin/audit"),
]


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_non_admin_403_anonymous_401(aapi, root, joe, method, path):
    body = {} if method == "POST" else None
    r = aapi.request(method, path, token=joe.token, json_body=body)
    assert_error(r, 403, "forbidden")
    r = aapi.request(method, path, json_body=body)
    assert_error(r, 401, "unauthorized")
    # the role is read now: joe stays 'user' in the row
    assert aapi.get("/api/users/me", token=joe.token).json()["server_admin"] is False


@pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon on this front")
def test_deactivate_closes_socket_refuses_login_and_refresh(srv, aapi, root):
    vic = Who(aapi, unique_name("vic"))
    ws = WS(srv.ws_url(vic.token))
    try:
        t0 = time.monotonic()
        r = aapi.post("/api/admin/users/%d/deactivate" % vic.id, token=root.token)
        assert r.status_code == 200, r.text
        assert r.json()["deactivated"] is True and r.json()["deactivated_at"]
        assert wait_close(ws.conn, timeout=10) == 4001
        assert time.monotonic() - t0 < 4.5   # at once, not at the 5 s periodic check
    finally:
        ws.close()
    assert_error(aapi.get("/api/users/me", token=vic.token), 401, "unauthorized")
    r = aapi.login_resp(vic.name)
    assert_error(r, 403, "forbidden")
    assert r.json()["error"]["message"] == DEACTIVATED
    # a wrong password still gets the plain 401: no oracle
    assert_error(aapi.login_resp(vic.name, "wrong-password!"), 401, "unauthorized")
    r = aapi.post("/api/auth/refresh", {"refresh_token": vic.login["refresh_token"]})
    assert_error(r, 401, "unauthorized")
    # presence went offline
    rows = [e for e in audit(aapi, root.token) if e["action"] == "user.deactivate"]
    assert rows and rows[0]["target_id"] == vic.id and rows[0]["actor_id"] == root.id
    r = aapi.post("/api/admin/users/%d/reactivate" % vic.id, token=root.token)
    assert r.status_code == 200 and r.json()["deactivated"] is False, r.text
    token = aapi.login(vic.name)
    assert aapi.get("/api/users/me", token=token).status_code == 200
    # old sessions stay revoked
    assert_error(aapi.get("/api/users/me", token=vic.token), 401, "unauthorized")
    assert audit(aapi, root.token)[0]["action"] == "user.reactivate"


def test_deactivate_cgi_and_ws_free(aapi, root):
    """The REST half of deactivation, which every front runs."""
    u = Who(aapi, unique_name("dee"))
    assert aapi.post("/api/admin/users/%d/deactivate" % u.id, token=root.token).status_code == 200
    assert_error(aapi.get("/api/users/me", token=u.token), 401, "unauthorized")
    r = aapi.post("/api/auth/ws-ticket", token=u.token)
    assert_error(r, 401, "unauthorized")
    assert_error(aapi.login_resp(u.name), 403, "forbidden")
    # idempotent: a second deactivation changes nothing and logs nothing
    n = len(audit(aapi, root.token))
    assert aapi.post("/api/admin/users/%d/deactivate" % u.id, token=root.token).status_code == 200
    assert len(audit(aapi, root.token)) == n
    assert_error(aapi.post("/api/admin/users/999999/deactivate", token=root.token), 404, "not_found")


def test_self_and_last_admin_refused(aapi, root, joe):
    r = aapi.post("/api/admin/users/%d/deactivate" % root.id, token=root.token)
    assert_error(r, 403, "forbidden")
    r = delete(aapi, "/api/admin/users/%d/server-admin" % root.id, root.token)
    assert_error(r, 409, "conflict")
    # grant joe, joe revokes root, then joe is the last one
    r = aapi.request("PUT", "/api/admin/users/%d/server-admin" % joe.id, token=root.token)
    assert r.status_code == 200 and r.json()["server_admin"] is True, r.text
    r = aapi.get("/api/admin/audit", token=joe.token)
    assert r.status_code == 200
    assert r.json()["entries"][0]["action"] == "server_admin.grant"
    r = delete(aapi, "/api/admin/users/%d/server-admin" % joe.id, joe.token)
    assert r.status_code == 200 and r.json()["server_admin"] is False, r.text
    assert_error(aapi.get("/api/admin/users", token=joe.token), 403, "forbidden")
    assert audit(aapi, root.token)[0]["action"] == "server_admin.revoke"


def test_archive_refuses_writes_keeps_history(srv, aapi, root, joe):
    ch = aapi.create_channel(joe.token)
    assert ch["archived"] is False
    m = aapi.send(joe.token, ch["id"], "before the archive")
    r = aapi.post("/api/admin/channels/%d/archive" % ch["id"], token=root.token)
    assert r.status_code == 200 and r.json()["archived"] is True, r.text
    assert aapi.get("/api/channels/%d" % ch["id"], token=joe.token).json()["archived"] is True
    r = aapi.post_message(joe.token, ch["id"], "after")
    assert_error(r, 403, "forbidden")
    assert r.json()["error"]["message"] == ARCHIVED
    r = aapi.request("PATCH", "/api/messages/%d" % m["id"], token=joe.token,
                     json_body={"content": "edited"})
    assert_error(r, 403, "forbidden")
    r = aapi.request("PUT", "/api/messages/%d/reactions/%s" % (m["id"], "x"), token=joe.token)
    assert_error(r, 403, "forbidden")
    other = Who(aapi, unique_name("oth"))
    assert_error(aapi.post("/api/channels/%d/join" % ch["id"], token=other.token), 403, "forbidden")
    hist = aapi.history(other.token, ch["id"]).json()
    assert [x["content"] for x in hist] == ["before the archive"]
    if not NO_WS_DAEMON:
        ws = WS(srv.ws_url(joe.token))
        try:
            ws.send({"channel_id": ch["id"], "content": "over ws", "client_msg_id": "arch-1"})
            f = ws.wait_for(lambda f: f.get("type") in ("error", "ack"), what="answer")
            assert f["type"] == "error" and f["error"]["code"] == "forbidden", f
        finally:
            ws.close()
    r = aapi.post("/api/admin/channels/%d/unarchive" % ch["id"], token=root.token)
    assert r.status_code == 200 and r.json()["archived"] is False
    assert aapi.post_message(joe.token, ch["id"], "after").status_code == 201
    acts = [e["action"] for e in audit(aapi, root.token)[:2]]
    assert acts == ["channel.unarchive", "channel.archive"]
    assert audit(aapi, root.token)[0]["detail"]["name"] == ch["name"]


def test_admin_deletes_any_message_and_channel(aapi, root, joe):
    ch = aapi.create_channel(joe.token, kind="private")
    m = aapi.send(joe.token, ch["id"], "secret")
    # root is no member: the ordinary endpoint hides it
    assert_error(delete(aapi, "/api/messages/%d" % m["id"], root.token), 404, "not_found")
    assert delete(aapi, "/api/admin/messages/%d" % m["id"], root.token).status_code == 204
    got = aapi.get("/api/messages/%d" % m["id"], token=joe.token).json()
    assert got["deleted"] is True and got["content"] == ""
    e = audit(aapi, root.token)[0]
    assert (e["action"], e["target_type"], e["target_id"]) == ("message.delete", "message", m["id"])
    assert e["detail"]["channel_id"] == ch["id"] and e["actor"] == root.name
    assert delete(aapi, "/api/admin/channels/%d" % ch["id"], root.token).status_code == 204
    assert_error(aapi.get("/api/channels/%d" % ch["id"], token=joe.token), 404, "not_found")
    assert audit(aapi, root.token)[0]["action"] == "channel.delete"
    assert_error(delete(aapi, "/api/admin/channels/%d" % ch["id"], root.token), 404, "not_found")
    assert_error(delete(aapi, "/api/admin/messages/99999999", root.token), 404, "not_found")


def test_invites_listed_without_tokens_and_revoked(aapi, root):
    r = aapi.post("/api/admin/invites", {"max_uses": 3, "expires_in": 3600}, token=root.token)
    assert r.status_code == 201, r.text
    inv = r.json()
    assert len(inv["token"]) >= 40 and inv["max_uses"] == 3 and inv["uses_left"] == 3
    lst = aapi.get("/api/admin/invites", token=root.token).json()["invites"]
    assert inv["id"] in [i["id"] for i in lst]
    assert all("token" not in i for i in lst)
    assert_error(aapi.post("/api/admin/invites", {"max_uses": 0}, token=root.token), 400, "bad_request")
    assert_error(aapi.post("/api/admin/invites", {"expires_in": "x"}, token=root.token), 400, "bad_request")
    assert delete(aapi, "/api/admin/invites/%d" % inv["id"], root.token).status_code == 204
    assert_error(delete(aapi, "/api/admin/invites/%d" % inv["id"], root.token), 404, "not_found")
    acts = [e["action"] for e in audit(aapi, root.token)[:2]]
    assert acts == ["invite.revoke", "invite.create"]


def test_invite_mode_single_use_race():
    with start_server(extra_conf="registration = invite\n") as s:
        api = Api(s.base)
        first = Who(api, unique_name("boss"))           # empty server: no invite needed
        assert first.server_admin is True
        r = api.register(unique_name("noinv"))
        assert_error(r, 403, "forbidden")
        assert "invite" in r.json()["error"]["message"]
        assert_error(api.register(unique_name("bad"), invite="x" * 43), 403, "forbidden")
        tok = api.post("/api/admin/invites", {}, token=first.token).json()["token"]
        results = []

        def reg(name):
            results.append(Api(s.base).register(name, invite=tok).status_code)
        ts = [threading.Thread(target=reg, args=(unique_name("race"),)) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(results) == [201, 403], results
        inv = api.get("/api/admin/invites", token=first.token).json()["invites"][0]
        assert inv["uses"] == 1 and inv["uses_left"] == 0
        # parleyctl's invite works the same and is audited as parleyctl
        p = parleyctl(s, "create-invite", "--uses", "2", "--expires", "600")
        assert p.returncode == 0, p.stderr
        assert api.register(unique_name("ctl"), invite=p.stdout.strip()).status_code == 201
        e = audit(api, first.token)[0]
        assert e["action"] == "invite.create" and e["actor"] == "parleyctl" and e["actor_id"] is None


def test_closed_mode_and_parleyctl():
    with start_server(extra_conf="registration = closed\n") as s:
        api = Api(s.base)
        first = Who(api, unique_name("boss"))           # bootstrap: the first account
        assert first.server_admin is True
        r = api.register(unique_name("late"))
        assert_error(r, 403, "forbidden")
        assert r.json()["error"]["message"] == "registration is closed on this server"
        name = unique_name("ctl")
        p = parleyctl(s, "create-user", name, stdin=PASSWORD + "\n")
        assert p.returncode == 0, p.stderr
        p = parleyctl(s, "set-server-admin", name)
        assert p.returncode == 0, p.stderr
        p = parleyctl(s, "list-users", name)
        assert p.returncode == 0 and '"server_admin":true' in p.stdout, p.stdout
        p = parleyctl(s, "deactivate", name)
        assert p.returncode == 0, p.stderr
        assert_error(api.login_resp(name), 403, "forbidden")
        p = parleyctl(s, "reactivate", name)
        assert p.returncode == 0, p.stderr
        assert api.login_resp(name).status_code == 200
        p = parleyctl(s, "set-server-admin", "--revoke", name)
        assert p.returncode == 0, p.stderr
        p = parleyctl(s, "set-server-admin", "--revoke", first.name)
        assert p.returncode != 0 and "last server admin" in p.stderr
        p = parleyctl(s, "audit", "--limit", "10")
        assert p.returncode == 0, p.stderr
        lines = p.stdout.strip().splitlines()
        assert len(lines) == 4 and all('"actor":"parleyctl"' in l for l in lines), p.stdout
        assert '"action":"server_admin.revoke"' in lines[0]
        assert '"action":"server_admin.grant"' in lines[-1]
