"""The authorization matrix (issue 4): every conversation endpoint x every
role (anonymous, non-member, member, admin, owner, author) -> the expected
status, for a private and a public channel; plus the leak checks: nothing
of a private channel shows through history, get-by-id, search, reactions,
members, notifications or the channel list's unread counts."""

import uuid

import pytest

from conftest import start_server
from conv_util import CONV_CONF, Conv, emoji_path
from helpers import assert_json

ROLES = ("anon", "outsider", "member", "admin", "owner", "author")


@pytest.fixture(scope="module")
def cv():
    with start_server(extra_conf=CONV_CONF) as srv:
        yield Conv(srv, ["owner", "admin", "admin2", "member", "author", "outsider", "target"])


def fresh(cv, kind):
    """A channel of `kind` with owner, admin, member and author, and one
    message by the author (with the member's reaction)."""
    ch = cv.channel(cv.owner, kind=kind,
                    members=[cv.admin.id, cv.admin2.id, cv.member.id, cv.author.id])
    for a in (cv.admin, cv.admin2):
        r = cv.req("POST", "/api/channels/%d/members" % ch["id"], cv.owner,
                   {"user_id": a.id, "role": "admin"})
        assert r.status_code == 200, r.text
    m = cv.send(cv.author, ch["id"], "matrix message")
    assert cv.req("PUT", emoji_path(m["id"], "👀"), cv.member).status_code == 204
    return ch["id"], m["id"]


# (name, method, path(c, m, cv), body(c, m, cv), {role: status} for private, for public)
E = [
    ("get channel", "GET", "/api/channels/{c}", None,
     dict(anon=401, outsider=404, member=200, admin=200, owner=200, author=200),
     dict(anon=401, outsider=200, member=200, admin=200, owner=200, author=200)),
    ("patch channel", "PATCH", "/api/channels/{c}", {"topic": "t"},
     dict(anon=401, outsider=404, member=403, admin=200, owner=200, author=403),
     dict(anon=401, outsider=403, member=403, admin=200, owner=200, author=403)),
    ("delete channel", "DELETE", "/api/channels/{c}", None,
     dict(anon=401, outsider=404, member=403, admin=403, owner=204, author=403),
     dict(anon=401, outsider=403, member=403, admin=403, owner=204, author=403)),
    ("members", "GET", "/api/channels/{c}/members", None,
     dict(anon=401, outsider=404, member=200, admin=200, owner=200, author=200),
     dict(anon=401, outsider=200, member=200, admin=200, owner=200, author=200)),
    ("join", "POST", "/api/channels/{c}/join", None,
     dict(anon=401, outsider=404, member=200, admin=200, owner=200, author=200),
     dict(anon=401, outsider=200, member=200, admin=200, owner=200, author=200)),
    ("add member", "POST", "/api/channels/{c}/members", {"user_id": "{target}"},
     dict(anon=401, outsider=404, member=403, admin=201, owner=201, author=403),
     dict(anon=401, outsider=403, member=403, admin=201, owner=201, author=403)),
    ("remove member", "DELETE", "/api/channels/{c}/members/{member}", None,
     dict(anon=401, outsider=404, member=204, admin=204, owner=204, author=403),
     dict(anon=401, outsider=403, member=204, admin=204, owner=204, author=403)),
    # only an owner changes an admin's role (an admin demoting an admin could
    # then remove them, which admins may not do); the admin may step down
    ("demote admin", "POST", "/api/channels/{c}/members", {"user_id": "{admin}", "role": "member"},
     dict(anon=401, outsider=404, member=403, admin=200, owner=200, author=403),
     dict(anon=401, outsider=403, member=403, admin=200, owner=200, author=403)),
    ("demote other admin", "POST", "/api/channels/{c}/members", {"user_id": "{admin2}", "role": "member"},
     dict(anon=401, outsider=404, member=403, admin=403, owner=200, author=403),
     dict(anon=401, outsider=403, member=403, admin=403, owner=200, author=403)),
    ("remove other admin", "DELETE", "/api/channels/{c}/members/{admin2}", None,
     dict(anon=401, outsider=404, member=403, admin=403, owner=204, author=403),
     dict(anon=401, outsider=403, member=403, admin=403, owner=204, author=403)),
    ("remove owner", "DELETE", "/api/channels/{c}/members/{owner}", None,
     dict(anon=401, outsider=404, member=403, admin=403, owner=409, author=403),
     dict(anon=401, outsider=403, member=403, admin=403, owner=409, author=403)),
    ("read marker", "POST", "/api/channels/{c}/read", {"message_id": "{m}"},
     dict(anon=401, outsider=404, member=204, admin=204, owner=204, author=204),
     dict(anon=401, outsider=403, member=204, admin=204, owner=204, author=204)),
    # acting as a member of a visible channel one has not joined: 403, the
    # same for read markers and typing (one status policy: authz.h)
    ("typing", "POST", "/api/channels/{c}/typing", None,
     dict(anon=401, outsider=404, member=204, admin=204, owner=204, author=204),
     dict(anon=401, outsider=403, member=204, admin=204, owner=204, author=204)),
    ("history", "GET", "/api/messages/history?channel={c}", None,
     dict(anon=401, outsider=404, member=200, admin=200, owner=200, author=200),
     dict(anon=401, outsider=200, member=200, admin=200, owner=200, author=200)),
    ("post", "POST", "/api/messages", {"channel_id": "{c}", "content": "hi"},
     dict(anon=401, outsider=404, member=201, admin=201, owner=201, author=201),
     dict(anon=401, outsider=201, member=201, admin=201, owner=201, author=201)),
    ("reply", "POST", "/api/messages", {"channel_id": "{c}", "content": "re", "reply_to": "{m}"},
     dict(anon=401, outsider=404, member=201, admin=201, owner=201, author=201),
     dict(anon=401, outsider=201, member=201, admin=201, owner=201, author=201)),
    ("get message", "GET", "/api/messages/{m}", None,
     dict(anon=401, outsider=404, member=200, admin=200, owner=200, author=200),
     dict(anon=401, outsider=200, member=200, admin=200, owner=200, author=200)),
    ("edit message", "PATCH", "/api/messages/{m}", {"content": "changed"},
     dict(anon=401, outsider=404, member=403, admin=403, owner=403, author=200),
     dict(anon=401, outsider=403, member=403, admin=403, owner=403, author=200)),
    ("delete message", "DELETE", "/api/messages/{m}", None,
     dict(anon=401, outsider=404, member=403, admin=204, owner=204, author=204),
     dict(anon=401, outsider=403, member=403, admin=204, owner=204, author=204)),
    ("react", "PUT", "/api/messages/{m}/reactions/%F0%9F%91%8D", None,
     dict(anon=401, outsider=404, member=204, admin=204, owner=204, author=204),
     dict(anon=401, outsider=204, member=204, admin=204, owner=204, author=204)),
    ("unreact", "DELETE", "/api/messages/{m}/reactions/%F0%9F%91%80", None,
     dict(anon=401, outsider=404, member=204, admin=204, owner=204, author=204),
     dict(anon=401, outsider=204, member=204, admin=204, owner=204, author=204)),
    ("search in channel", "GET", "/api/messages/search?q=matrix&channel={c}", None,
     dict(anon=401, outsider=404, member=200, admin=200, owner=200, author=200),
     dict(anon=401, outsider=200, member=200, admin=200, owner=200, author=200)),
    # outgoing webhooks (issue 16): channel management, owner/admin only
    ("list outgoing webhooks", "GET", "/api/channels/{c}/outgoing-webhooks", None,
     dict(anon=401, outsider=404, member=403, admin=200, owner=200, author=403),
     dict(anon=401, outsider=403, member=403, admin=200, owner=200, author=403)),
    ("create outgoing webhook", "POST", "/api/channels/{c}/outgoing-webhooks",
     {"url": "http://93.184.216.34/authz"},
     dict(anon=401, outsider=404, member=403, admin=201, owner=201, author=403),
     dict(anon=401, outsider=403, member=403, admin=201, owner=201, author=403)),
    ("outgoing webhook deliveries", "GET", "/api/channels/{c}/outgoing-webhooks/{w}/deliveries", None,
     dict(anon=401, outsider=404, member=403, admin=200, owner=200, author=403),
     dict(anon=401, outsider=403, member=403, admin=200, owner=200, author=403)),
    ("delete outgoing webhook", "DELETE", "/api/channels/{c}/outgoing-webhooks/{w}", None,
     dict(anon=401, outsider=404, member=403, admin=204, owner=204, author=403),
     dict(anon=401, outsider=403, member=403, admin=204, owner=204, author=403)),
]


def outhook(cv, c):
    """An outgoing webhook of channel `c`, made by its owner."""
    r = cv.req("POST", "/api/channels/%d/outgoing-webhooks" % c, cv.owner,
               {"url": "http://93.184.216.34/authz"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def fill(v, c, m, cv):
    if isinstance(v, str):
        for k, x in (("{c}", c), ("{m}", m), ("{target}", cv.target.id),
                     ("{member}", cv.member.id), ("{owner}", cv.owner.id),
                     ("{admin2}", cv.admin2.id), ("{admin}", cv.admin.id)):
            if v == k:
                return x
            v = v.replace(k, str(x))
        return v
    if isinstance(v, dict):
        return {k: fill(x, c, m, cv) for k, x in v.items()}
    return v


@pytest.mark.parametrize("kind", ["private", "public"])
def test_matrix(cv, kind):
    failures = []
    for name, method, path, body, priv, pub in E:
        expected = priv if kind == "private" else pub
        for role in ROLES:
            c, m = fresh(cv, kind)
            user = None if role == "anon" else getattr(cv, role)
            p = path.replace("{w}", str(outhook(cv, c))) if "{w}" in path else path
            r = cv.req(method, fill(p, c, m, cv), user, fill(body, c, m, cv))
            if r.status_code != expected[role]:
                failures.append("%s %s as %s: %d (want %d) %s" % (
                    kind, name, role, r.status_code, expected[role], r.text[:120]))
            elif r.status_code >= 400:
                err = r.json().get("error", {})
                if not err.get("code") or not err.get("message"):
                    failures.append("%s %s as %s: bad error body %s" % (kind, name, role, r.text))
    assert not failures, "\n".join(failures)


def test_private_channel_leaks_nothing(cv):
    word = "leak" + uuid.uuid4().hex[:10]
    c, m = fresh(cv, "private")
    cv.send(cv.member, c, "%s @%s" % (word, cv.outsider.username))
    o = cv.outsider
    # the channel list: not there at all (no unread count, no last id)
    assert c not in [x["id"] for x in cv.api.channels(o.token)]
    # search: nothing, with or without naming the channel
    r = cv.req("GET", "/api/messages/search", o, params={"q": word})
    assert assert_json(r, 200)["messages"] == []
    assert cv.req("GET", "/api/messages/search", o, params={"q": word, "channel": c}).status_code == 404
    # history, message, members, reactions: the same 404 as for nothing at all
    missing = 10 ** 9
    for path in ("/api/messages/history?channel=%d", "/api/channels/%d", "/api/channels/%d/members"):
        a, b = cv.req("GET", path % c, o), cv.req("GET", path % missing, o)
        assert a.status_code == b.status_code == 404
        assert a.json() == b.json(), (path, a.text, b.text)
    a, b = cv.req("GET", "/api/messages/%d" % m, o), cv.req("GET", "/api/messages/%d" % missing, o)
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    a, b = (cv.req("PUT", emoji_path(m, "👍"), o), cv.req("PUT", emoji_path(missing, "👍"), o))
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    # a mention of a non-member notifies nobody
    ns = cv.req("GET", "/api/notifications", o).json()["notifications"]
    assert all(n["message"]["channel_id"] != c for n in ns)
    # a removed member loses it all at once, notifications included
    cv.send(cv.author, c, "hey @%s %s" % (cv.member.username, word))
    ns = cv.req("GET", "/api/notifications", cv.member).json()["notifications"]
    assert any(n["message"]["channel_id"] == c for n in ns)
    assert cv.req("DELETE", "/api/channels/%d/members/%d" % (c, cv.member.id), cv.owner).status_code == 204
    ns = cv.req("GET", "/api/notifications", cv.member).json()["notifications"]
    assert all(n["message"]["channel_id"] != c for n in ns)
    assert cv.req("GET", "/api/messages/search", cv.member, params={"q": word}).json()["messages"] == []
    assert cv.req("GET", "/api/messages/history?channel=%d" % c, cv.member).status_code == 404
    # the data export (issue 16) follows the same rule: the outsider's holds
    # nothing of the channel; the removed member's not even their own
    # message, reaction or notification there
    for u in (o, cv.member):
        r = cv.req("GET", "/api/users/me/export", u)
        assert r.status_code == 200, r.text
        assert word not in r.text
        doc = r.json()
        assert all(x["channel_id"] != c for x in doc["messages"] + doc["notifications"] + doc["reactions"])
        assert c not in [x["channel_id"] for x in doc["memberships"]]
    # control: a member still in the channel gets their message there
    cv.send(cv.admin, c, "admin says %s" % word)
    doc = assert_json(cv.req("GET", "/api/users/me/export", cv.admin), 200)
    assert any(x["channel_id"] == c and word in x["content"] for x in doc["messages"])


# Server administration (issue 16): the server-wide role beside the channel
# roles. The module's first account (cv.owner) is the server admin; a
# channel admin, member, author or outsider is not one: 403 on every
# /api/admin endpoint that touches a channel or message; anonymous 401.
# An outsider made server admin acts on a private channel it cannot see
# through the ordinary endpoints (404 there).
ADMIN_E = [
    ("admin delete message", "DELETE", "/api/admin/messages/{m}", 204),
    ("admin archive", "POST", "/api/admin/channels/{c}/archive", 200),
    ("admin unarchive", "POST", "/api/admin/channels/{c}/unarchive", 200),
    ("admin delete channel", "DELETE", "/api/admin/channels/{c}", 204),
]


@pytest.mark.parametrize("kind", ["private", "public"])
def test_server_admin_role(cv, kind):
    failures = []
    for name, method, path, ok in ADMIN_E:
        for role in ("anon", "outsider", "member", "admin", "author"):
            c, m = fresh(cv, kind)
            user = None if role == "anon" else getattr(cv, role)
            r = cv.req(method, fill(path, c, m, cv), user)
            want = 401 if role == "anon" else 403
            if r.status_code != want:
                failures.append("%s %s as %s: %d (want %d)" % (kind, name, role, r.status_code, want))
    assert not failures, "\n".join(failures)
    grant = "/api/admin/users/%d/server-admin" % cv.outsider.id
    assert cv.req("PUT", grant, cv.owner).status_code == 200
    try:
        for name, method, path, ok in ADMIN_E:
            c, m = fresh(cv, kind)
            if kind == "private":
                assert cv.req("DELETE", "/api/messages/%d" % m, cv.outsider).status_code == 404
            r = cv.req(method, fill(path, c, m, cv), cv.outsider)
            assert r.status_code == ok, "%s %s as server admin: %d %s" % (kind, name, r.status_code, r.text)
    finally:
        assert cv.req("DELETE", grant, cv.owner).status_code == 200


@pytest.mark.parametrize("kind", ["private", "public"])
def test_archived_channel_matrix(cv, kind):
    """Archived: every role still reads what it could; posts, edits,
    reactions and joins are 403 for those who may see it (404 stays 404)."""
    c, m = fresh(cv, kind)
    assert cv.req("POST", "/api/admin/channels/%d/archive" % c, cv.owner).status_code == 200
    for role in ("outsider", "member", "admin", "owner", "author"):
        u = getattr(cv, role)
        sees = kind == "public" or role != "outsider"
        r = cv.req("GET", "/api/messages/history?channel=%d" % c, u)
        assert r.status_code == (200 if sees else 404), (role, r.text)
        r = cv.req("POST", "/api/messages", u, {"channel_id": c, "content": "x"})
        assert r.status_code == (403 if sees else 404), (role, r.text)
        r = cv.req("PUT", emoji_path(m, "🎉"), u)
        assert r.status_code == (403 if sees else 404), (role, r.text)
    r = cv.req("PATCH", "/api/messages/%d" % m, cv.author, {"content": "edit"})
    assert r.status_code == 403, r.text
    r = cv.req("POST", "/api/channels/%d/join" % c, cv.outsider)
    assert r.status_code == (403 if kind == "public" else 404), r.text


# ---------------------------------------------------------------- API token scopes
# (issue 16; docs/DECISIONS.md "API token scopes"): endpoint x credential of
# the channel's owner -> status. "session" is a sign-in session (no limit);
# read/post/admin are personal API tokens of that scope. "outsider" is a
# non-member's admin-scope token: a scope never widens what its user may
# see (a private channel stays 404).

SCOPES = ("session", "read", "post", "admin", "outsider")

# (name, method, path, body, {credential: status}) on a private channel
SCOPE_E = [
    ("get channel", "GET", "/api/channels/{c}", None,
     dict(session=200, read=200, post=200, admin=200, outsider=404)),
    ("history", "GET", "/api/messages/history?channel={c}", None,
     dict(session=200, read=200, post=200, admin=200, outsider=404)),
    ("long poll", "GET", "/api/events?timeout=0", None,
     dict(session=200, read=200, post=200, admin=200, outsider=200)),
    ("post message", "POST", "/api/messages", {"channel_id": "{c}", "content": "scoped"},
     dict(session=201, read=403, post=201, admin=201, outsider=404)),
    ("react", "PUT", "/api/messages/{m}/reactions/%F0%9F%91%8D", None,
     dict(session=204, read=403, post=204, admin=204, outsider=404)),
    ("typing", "POST", "/api/channels/{c}/typing", None,
     dict(session=204, read=403, post=204, admin=204, outsider=404)),
    ("read marker", "POST", "/api/channels/{c}/read", {"message_id": "{m}"},
     dict(session=204, read=403, post=204, admin=204, outsider=404)),
    ("patch channel", "PATCH", "/api/channels/{c}", {"topic": "t"},
     dict(session=200, read=403, post=200, admin=200, outsider=404)),
    ("add member", "POST", "/api/channels/{c}/members", {"user_id": "{target}"},
     dict(session=201, read=403, post=201, admin=201, outsider=404)),
    ("heartbeat", "POST", "/api/presence/heartbeat", {},
     dict(session=204, read=403, post=204, admin=204, outsider=204)),
    ("me", "GET", "/api/users/me", None,
     dict(session=200, read=200, post=200, admin=200, outsider=200)),
    ("patch me", "PATCH", "/api/users/me", {"status_text": "scoped"},
     dict(session=200, read=403, post=403, admin=200, outsider=200)),
    ("list tokens", "GET", "/api/users/me/tokens", None,
     dict(session=200, read=403, post=403, admin=200, outsider=200)),
    ("make token", "POST", "/api/users/me/tokens", {"name": "m", "scope": "read"},
     dict(session=201, read=403, post=403, admin=201, outsider=201)),
    ("make webhook", "POST", "/api/channels/{c}/webhooks", {"name": "w"},
     dict(session=201, read=403, post=403, admin=201, outsider=404)),
    ("list webhooks", "GET", "/api/channels/{c}/webhooks", None,
     dict(session=200, read=403, post=403, admin=200, outsider=404)),
    ("list outgoing webhooks", "GET", "/api/channels/{c}/outgoing-webhooks", None,
     dict(session=200, read=403, post=403, admin=200, outsider=404)),
    ("make outgoing webhook", "POST", "/api/channels/{c}/outgoing-webhooks",
     {"url": "http://127.0.0.1:9/x"},
     dict(session=400, read=403, post=403, admin=400, outsider=404)),
    ("admin audit", "GET", "/api/admin/audit", None,
     dict(session=200, read=403, post=403, admin=200, outsider=403)),
    ("admin users", "GET", "/api/admin/users", None,
     dict(session=200, read=403, post=403, admin=200, outsider=403)),
    ("list bots", "GET", "/api/bots", None,
     dict(session=200, read=403, post=403, admin=200, outsider=200)),
    ("ws ticket", "POST", "/api/auth/ws-ticket", None,
     dict(session=200, read=403, post=403, admin=403, outsider=403)),
]


class _Cred:
    def __init__(self, token):
        self.token = token


def _api_token(cv, user, scope):
    r = cv.req("POST", "/api/users/me/tokens", user, {"name": "mx-" + scope, "scope": scope})
    return _Cred(assert_json(r, 201)["token"])


def test_token_scope_matrix(cv):
    creds = {"session": cv.owner}
    creds.update({s: _api_token(cv, cv.owner, s) for s in ("read", "post", "admin")})
    creds["outsider"] = _api_token(cv, cv.outsider, "admin")
    failures = []
    for name, method, path, body, expected in SCOPE_E:
        for cred in SCOPES:
            c, m = fresh(cv, "private")
            r = cv.req(method, fill(path, c, m, cv), creds[cred], fill(body, c, m, cv))
            if r.status_code != expected[cred]:
                failures.append("%s with %s: %d (want %d) %s" % (
                    name, cred, r.status_code, expected[cred], r.text[:120]))
            elif r.status_code == 403:
                err = r.json().get("error", {})
                if err.get("code") != "forbidden" or not err.get("message"):
                    failures.append("%s with %s: bad error body %s" % (name, cred, r.text))
    assert not failures, "\n".join(failures)
