"""The abuse matrix (issue 8): every endpoint of the contract x every hostile
input that applies to it, one test id per cell.

- token cases on every authenticated endpoint (missing, garbage, forged,
  alg none, HS512 with the real secret, expired, revoked, ...): 401;
- body cases on every endpoint that takes a JSON body (over the limit,
  wrong media type, malformed, trailing data, invalid UTF-8, \\u0000,
  duplicate keys, numbers out of range, nesting too deep, wrong types,
  SQL and header-injection strings where a field refuses them): 413 / 415
  / 400, in docs/DECISIONS.md's order route -> 413 -> 415 -> 401 -> 400;
- path parameters (non-numeric, huge, negative, `..`, `%00`, SQL): 404;
- query parameters (the same, plus limits out of range): 400;
- every path with a method it does not serve: 405 with the exact Allow.

Every request is otherwise valid (a real token, real ids of objects made by
the module fixture, a body the endpoint would accept), so a check that is
skipped shows up as a success status and as a write: after the cases,
test_zzz_every_unaltered_request_succeeds sends each endpoint's request
unaltered and requires a 2xx (and, for a write, a changed row). Each case
checks the status, the contract's JSON error, and that the database did
not change (a digest of every row of every table, and SQLite's
data_version, which moves on any commit by another connection), and
after every case that no server process died (lighttpd would respawn a
crashed FastCGI program under a new pid) and /api/health answers. The
last cases are followed by a check of the whole run (same processes,
nothing written from the first case to the last) with a normal
authenticated read and write, under conftest's autouse crash check
`still_serving`.

The endpoint table is checked against docs/openapi.yaml, the route tables
in fcgi-apps/*.c and (when present) the contract's own API.md: a route
missing here fails test_every_route_is_in_the_matrix.

The module runs its own server (a clean database that only this module
writes to); the `server` and `api` fixtures are overridden to point at it.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import sqlite3
import struct
import tempfile
import time
import urllib.parse
import zlib

import pytest
import requests

import pg_util
from conftest import REPO, start_server
from helpers import (PASSWORD, Api, assert_error, assert_json, jwt_parts,
                     make_jwt, make_user, read_secret, unique_channel,
                     unique_name)
from test_abuse import _tokens
from test_accounts import FAKE_SENDMAIL, read_code
from test_sms import FAKE_SMS, last_code, records

FRONTEND = os.environ.get("PARLEY_FRONTEND", "lighttpd")   # as conftest.py
API_MD = os.environ.get("PARLEY_API_MD", str(REPO.parent / "shared" / "API.md"))
JS = "application/json"
BIG_PAD = 100 * 1024            # over the default 64 KiB body_limit
BODY_LIMIT = 65536              # body_limit's default (README.md)
REG_USER = unique_name("mx")    # register's valid body; never created


# ------------------------------------------------------------------ server

@pytest.fixture(scope="module")
def mxsrv():
    """This module's own server. It hands mail to fake_sendmail.sh (a
    directory of .eml files), so that verify-email/request can succeed and
    verify-email has a real code to refuse or accept. The code's lifetime
    and the presence window are a day, longer than any run of the matrix:
    the ws-daemon's sweep would otherwise mark alice (present in C, so that
    presence/leave has something to end) offline in the middle of the run,
    a write no case made."""
    maildir = tempfile.mkdtemp(prefix="parley-mx-mail-")
    smsdir = tempfile.mkdtemp(prefix="parley-mx-sms-")
    conf = ("mail_command = %s %s\nmail_from = parley-mx@example.com\n"
            "verify_code_ttl = 86400\npresence_window = 86400\n"
            % (FAKE_SENDMAIL, maildir))
    # issue 16: SMS codes a day long too; exports unlimited, so that the
    # export's GET writes nothing (no rate_limits row)
    conf += "sms_command = %s %s\nsms_code_ttl = 86400\nexport_limit = 0\n" % (FAKE_SMS, smsdir)
    try:
        # No parley-hookd: its background writes (outgoing webhook
        # deliveries, their cursor) are not the cases' (test_webhooks_out.py).
        with start_server(extra_conf=conf, env_extra={"PARLEY_HOOKD_PROCS": "0"}) as srv:
            srv.maildir = maildir
            srv.smsdir = smsdir
            yield srv
    finally:
        shutil.rmtree(maildir, ignore_errors=True)
        shutil.rmtree(smsdir, ignore_errors=True)


@pytest.fixture(scope="module")
def server(mxsrv):
    """conftest's `server`, overridden: tests that use it get the autouse
    crash check `still_serving` on this module's server. The cases do not
    (it scans /proc twice per test, ~20 ms): test_abuse checks the same
    processes itself, and the last test compares them over the whole run."""
    return mxsrv


@pytest.fixture(scope="module")
def api(server):
    return Api(server.base)


class Fingerprint:
    """What 'nothing was written' means: a digest of every row of every
    table (and of the schema), read in one read transaction through a
    read-only connection of its own, plus PRAGMA data_version (moves on
    any commit by another connection, even one that leaves every row as
    it was).

    A row count or a highest rowid cannot see an UPDATE (or a DELETE plus
    an INSERT): the digest hashes each table's rows in rowid / primary key
    order, so any changed value shows. test_digest_sees_an_update_behind_
    the_apis_back proves that on the live database.

    Nothing is excluded: every table is hashed, and a case that may write
    names the tables in its `allow` (the failed-login cases: their
    rate_limits counters). Left out, because they are not stored rows of
    their own: virtual tables (messages_fts reads its content from
    messages; its index lives in the messages_fts_* shadow tables, which
    are hashed)."""

    def __init__(self, path):
        self.pg = pg_util.url_of(path) is not None
        if self.pg:
            self.con = pg_util.connect(path)
        else:
            self.con = sqlite3.connect("file:%s?mode=ro" % path, uri=True,
                                       timeout=5, isolation_level=None)
        self.rows = {}      # digest -> rows, to show what changed
        self.queries = []
        if self.pg:
            self._pg_queries()
            self.tables = [t for t, _ in self.queries]
            return
        for name, sql in self.con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                "ORDER BY name").fetchall():
            if (sql or "").upper().startswith("CREATE VIRTUAL TABLE"):
                continue
            self.queries.append((name, self._select(name)))
        self.queries.append(("sqlite_master", "SELECT type, name, tbl_name, sql "
                             "FROM sqlite_master ORDER BY type, name"))
        self.tables = [t for t, _ in self.queries]

    def _select(self, table):
        """Every row of `table`, rowid first, in a stable order."""
        q = '"%s"' % table.replace('"', '""')
        try:
            self.con.execute("SELECT rowid FROM %s LIMIT 0" % q)
            return "SELECT rowid, * FROM %s ORDER BY rowid" % q
        except sqlite3.OperationalError:        # WITHOUT ROWID
            pk = [r[1] for r in sorted(self.con.execute(
                "PRAGMA table_info(%s)" % q).fetchall(), key=lambda r: r[5])
                  if r[5] > 0]
            assert pk, "a WITHOUT ROWID table without a primary key? %s" % table
            return "SELECT * FROM %s ORDER BY %s" % (
                q, ", ".join('"%s"' % c for c in pk))

    def _pg_queries(self):
        """PostgreSQL: every table of the public schema in primary key
        order, and the schema's columns. Sequences are left out: a
        statement that fails (a 409 on a unique name) has drawn an
        identity value on PostgreSQL, which writes no row."""
        for (name,) in self.con.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "ORDER BY tablename").fetchall():
            pk = [r[0] for r in self.con.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = ?::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)", (name,)).fetchall()]
            assert pk, "a table without a primary key? %s" % name
            q = '"%s"' % name.replace('"', '""')
            self.queries.append((name, "SELECT * FROM %s ORDER BY %s" % (
                q, ", ".join('"%s"' % c for c in pk))))
        self.queries.append(("pg_schema", "SELECT table_name, column_name, data_type, "
                             "column_default FROM information_schema.columns "
                             "WHERE table_schema = 'public' ORDER BY 1, 2"))

    def read(self):
        """{table: (row count, sha256 of its rows), "data_version": n},
        all from one snapshot of the database."""
        fp = {}
        self.con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if self.pg else "BEGIN")
        try:
            for table, sql in self.queries:
                rows = tuple(self.con.execute(sql).fetchall())
                digest = hashlib.sha256(repr(rows).encode()).hexdigest()
                self.rows.setdefault(digest, rows)
                fp[table] = (len(rows), digest)
            # PostgreSQL has no data_version: the row digests do the work
            # (a rolled-back write draws a transaction id there, so the
            # next xid would flag requests that wrote nothing)
            fp["data_version"] = None if self.pg else self.con.execute(
                "PRAGMA data_version").fetchone()[0]
        finally:
            self.con.execute("COMMIT")
        return fp

    @staticmethod
    def diff(before, after, allow=()):
        """Keys that changed, ignoring the tables in `allow` (and then
        data_version, which any allowed write moves too)."""
        skip = set(allow)
        if allow:
            skip.add("data_version")
        return {k: (before.get(k), after.get(k))
                for k in set(before) | set(after)
                if k not in skip and before.get(k) != after.get(k)}

    def explain(self, changed):
        """The rows behind a diff: per changed table, rows gone and rows new."""
        out = {}
        for k, (b, a) in changed.items():
            if k == "data_version" or not b or not a:
                out[k] = (b, a)
                continue
            old, new = set(self.rows.get(b[1], ())), set(self.rows.get(a[1], ()))
            out[k] = {"gone": sorted(old - new, key=repr)[:5],
                      "new": sorted(new - old, key=repr)[:5]}
        return out


@pytest.fixture(scope="module")
def world(mxsrv):
    """Users, channels, messages and tokens every case points at, made
    once (logins are rate limited; the suite server's limits are generous
    but every token here is reused)."""
    server, api = mxsrv, Api(mxsrv.base)
    alice, bob, carol = (make_user(api, p) for p in ("mxa", "mxb", "mxc"))
    zed = make_user(api, "mxz")     # account deletion
    pat = make_user(api, "mxp")     # password change (not zed: the controls
                                    # run both, and either spoils the other)
    lou = make_user(api, "mxl")     # logout
    vic = make_user(api, "mxv")     # owns the pending email code of verify's body
    c = api.create_channel(alice.token, unique_channel("mxc"))
    d = api.create_channel(alice.token, unique_channel("mxd"))
    j = api.create_channel(bob.token, unique_channel("mxj"))   # channels/join
    k = api.create_channel(bob.token, unique_channel("mxk"))   # presence/join
    assert_json(api.post("/api/channels/%d/members" % c["id"],
                         {"user_id": bob.id}, token=alice.token), 201)
    m = api.send(alice.token, c["id"], "hello matrix")
    m2 = api.send(alice.token, c["id"], "to be deleted")
    r = api.request("PUT", "/api/messages/%d/reactions/%s" % (m["id"], THUMBS),
                    token=alice.token)
    assert r.status_code == 204, r.text
    # an unread notification of alice's (a DM from bob): notifications/
    # read's valid body would mark it read
    dm = assert_json(api.post("/api/channels/dm", {"user_ids": [alice.id]},
                              token=bob.token), 201)
    api.send(bob.token, dm["id"], "ping")
    # a file of alice's with a preview, attached to a message in D
    r = requests.post(api.base + "/api/files", files={"file": ("m.png", PNG_4x3, "image/png")},
                      headers={"Authorization": "Bearer " + alice.token}, timeout=30)
    f = assert_json(r, 201)
    assert f.get("thumbnail_url"), f
    api.send(alice.token, d["id"], "a picture", attachments=[f["id"]])
    # alice is present in C: presence/leave's valid body would end that
    assert_json(api.post("/api/presence/join", {"channel_id": c["id"]},
                         token=alice.token), 200)
    # a live refresh token for refresh's valid body
    refresh = assert_json(api.login_resp(alice.username), 200)["refresh_token"]
    lou_refresh = assert_json(api.login_resp(lou.username), 200)["refresh_token"]
    # a session of alice's that is logged out: its token is revoked. Her
    # last login (see test_revoked_token_stays_revoked_after_a_new_login).
    r = assert_json(api.login_resp(alice.username), 200)
    revoked = r["access_token"]
    assert api.post("/api/auth/logout", {}, token=revoked).status_code == 204
    assert api.get("/api/auth/validate", token=revoked).status_code == 401

    # email verification: alice has an unverified address (so that her
    # verify-email/request would send a code), vic a pending code (so that
    # verify-email with it would verify him). The code is single use: only
    # a request that should have been refused can consume it before the
    # controls at the end (see pending_code).
    for u in (alice, vic):
        assert_json(api.request("PATCH", "/api/users/me", token=u.token,
                                json_body={"email": u.username + "@example.com"}), 200)
    code = issue_code(server, api, vic)
    # server administration (alice is the server's first account: its
    # admin): dee is deactivated and reactivated, granted and revoked the
    # server admin role; E is deleted, G archived and unarchived, M3
    # deleted, INV revoked by the admin endpoints
    dee = make_user(api, "mxe")
    e_ch = api.create_channel(alice.token, unique_channel("mxe"))
    g_ch = api.create_channel(alice.token, unique_channel("mxg"))
    m3 = api.send(alice.token, g_ch["id"], "for the admin to delete")
    inv = assert_json(api.post("/api/admin/invites", {}, token=alice.token), 201)
    # phone verification (issue 16): sam has a pending SMS code, which
    # verify-sms's valid body would use
    sam = make_user(api, "mxs")
    sms_before = len(records(server.smsdir))
    r = api.post("/api/auth/verify-sms/request", {"phone": "+4915100000002"}, token=sam.token)
    assert r.status_code == 202, r.text
    sms_code = last_code(server.smsdir, "+4915100000002", sms_before)

    # an API token of alice's: tokens_delete's valid request revokes it
    tk = assert_json(api.post("/api/users/me/tokens", {"name": "mx", "scope": "read"},
                              token=alice.token), 201)
    # alice is a server admin (SQL: the admin endpoints are elsewhere) with
    # two bots, one with a token
    from rt_util import sql as rt_sql
    rt_sql(server.db, "UPDATE users SET server_role = 'admin' WHERE id = ?", (alice.id,))
    bot = assert_json(api.post("/api/bots", {"username": unique_name("mxbot")},
                               token=alice.token), 201)
    bot2 = assert_json(api.post("/api/bots", {"username": unique_name("mxbot")},
                                token=alice.token), 201)
    btk = assert_json(api.post("/api/bots/%d/tokens" % bot["id"], {"name": "mx", "scope": "read"},
                               token=alice.token), 201)
    # two webhooks in C: one to post through, one for webhooks_delete
    wh = assert_json(api.post("/api/channels/%d/webhooks" % c["id"], {"name": "mx"},
                              token=alice.token), 201)
    wh2 = assert_json(api.post("/api/channels/%d/webhooks" % c["id"], {"name": "mx2"},
                               token=alice.token), 201)
    secret = read_secret(server.var)
    users = {"alice": alice, "zed": zed, "pat": pat, "lou": lou, "sam": sam}
    tokens = {}
    for key, u in users.items():
        t = _tokens(server, u, bob)
        _, claims = jwt_parts(u.token)
        t["revoked"] = revoked
        # the user's own live session id, but someone else's user id
        t["wrong_sub"] = make_jwt(dict(claims, sub=bob.id), secret)
        tokens[key] = t
    ctx = {
        "A": alice.id, "B": bob.id, "Cr": carol.id, "C": c["id"], "D": d["id"],
        "J": j["id"], "K": k["id"], "M": m["id"], "M2": m2["id"], "REG": REG_USER,
        "REFRESH": refresh, "LOU_REFRESH": lou_refresh, "PW": PASSWORD,
        "ALICE": alice.username, "CODE": code, "F": f["id"], "SMSCODE": sms_code,
        "DE": dee.id, "E": e_ch["id"], "G": g_ch["id"], "M3": m3["id"], "INV": inv["id"],
        "TK": tk["id"], "BOT": bot["id"], "BOT2": bot2["id"], "BTK": btk["id"],
        "WH2": wh2["id"], "WHS": wh["token"],
    }
    # an outgoing webhook of C (a public numeric address: no DNS, no allow-list)
    h = assert_json(api.post("/api/channels/%d/outgoing-webhooks" % c["id"],
                             {"url": OUTHOOK_URL}, token=alice.token), 201)
    ctx["H"] = h["id"]
    # a search brings the full-text index up to date (schema/006): done
    # here, so that no valid search during the matrix has that to write
    r = api.get("/api/messages/search", token=alice.token, params={"q": "hello"})
    assert [x["id"] for x in assert_json(r, 200)["messages"]] == [m["id"]]
    procs = server.processes()
    if FRONTEND in ("lighttpd", "nginx"):   # (as CGI each request is a process)
        assert sum("/parley-" in c for c in procs.values()) >= 8, procs
    return {"users": users, "tokens": tokens, "ctx": ctx,
            "fp": Fingerprint(server.db), "procs": procs, "alice": alice,
            "vic": vic, "code_row": code_row(server, vic), "server": server,
            "api": api, "allowed": set()}


def code_row(server, user):
    """The user's pending email_codes row (None if there is none)."""
    con = pg_util.connect(server.db)
    try:
        return con.execute("SELECT * FROM email_codes WHERE user_id = ?",
                           (user.id,)).fetchone()
    finally:
        con.close()


def issue_code(server, api, user):
    """A fresh verification code for `user`, read from the mail it sent."""
    r = api.post("/api/auth/verify-email/request", {}, token=user.token)
    assert r.status_code == 202, "verify-email/request: %d %s" % (r.status_code, r.text)
    return read_code(server.maildir, user.username + "@example.com")


def pending_code(world):
    """Before a verify-email case: vic's code must still be the pending
    one the fixture made. The cases never send it unaltered, so only a
    case that should have been refused can have used it; that case has
    failed already (it wrote), and a fresh code keeps the next cases
    meaningful: an accepted body must find a code to consume."""
    server, vic = world["server"], world["vic"]
    row = code_row(server, vic)
    if row is not None and row == world["code_row"] and row[3] > time.time() * 1000 + 60000:
        return
    world["ctx"]["CODE"] = issue_code(server, world["api"], vic)
    world["code_row"] = code_row(server, vic)


# ------------------------------------------------------------------ endpoints

OUTHOOK_URL = "http://93.184.216.34/hook"   # outgoing webhooks: public, numeric
THUMBS = "%F0%9F%91%8D"      # alice reacted with it in the fixture
PARTY = "%F0%9F%8E%89"       # nobody reacted with it


def E(name, method, path, user="alice", body=None, body_mode=None, query=None,
      qparams=None, wrong=None, idfield=None, strfield=None, values=(),
      unknown_id=400, upload=None, form=False):
    """One endpoint of the contract.

    user: whose token (None: open endpoint). body: a valid body (an
    accepted abuse would act). body_mode: "req" / "opt" / None. query: a
    valid query; qparams: {name: kind of value}. wrong: the body with a
    field of the wrong type. idfield: a top-level id field. strfield: a
    string field (\\u0000 and invalid UTF-8 go there). values: extra
    (case name, body, status, allowed writes) for field values that must
    be refused (SQL and header-injection strings). unknown_id: the answer
    for a well-formed id in `idfield` that names nothing. upload: (bytes,
    content type) of an upload's valid raw body (files, avatars: not JSON,
    so no body cases; test_files.py has theirs)."""
    return dict(name=name, method=method, path=path, user=user, body=body,
                body_mode=body_mode, query=query or {}, qparams=qparams or {},
                wrong=wrong, idfield=idfield, strfield=strfield, values=values,
                unknown_id=unknown_id, upload=upload, form=form)


def _png(width, height):
    def chunk(kind, data):
        body = kind + data
        return struct.pack("!I", len(data)) + body + struct.pack("!I", zlib.crc32(body))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack("!IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG_4x3 = _png(4, 3)
SQLI = "x'; DROP TABLE users; --"
CRLF = "a@b.example\r\nBcc: victim@evil.example"
ENDPOINTS = [
    # ---- auth
    E("register", "POST", "/api/auth/register", user=None,
      body={"username": "{REG}", "password": "{PW}"}, body_mode="req",
      wrong={"username": 12345, "password": "{PW}"}, strfield="username",
      values=[("sqli_username", {"username": SQLI, "password": "{PW}"}, 400, ()),
              ("crlf_email", {"username": "{REG}", "password": "{PW}",
                              "email": CRLF}, 400, ()),
              ("sqli_email", {"username": "{REG}", "password": "{PW}",
                              "email": "x\"; DROP TABLE users; --@b.example"}, 400, ()),
              ("crlf_display_name", {"username": "{REG}", "password": "{PW}",
                                     "display_name": "x\r\nX-Injected: 1"}, 400, ())]),
    E("login", "POST", "/api/auth/login", user=None,
      body={"username": "{ALICE}", "password": "{PW}"}, body_mode="req",
      wrong={"username": "{ALICE}", "password": ["{PW}"]}, strfield="password",
      values=[("sqli_username", {"username": "admin' OR '1'='1", "password": "' OR '1'='1"},
               401, ("rate_limits",)),
              ("sqli_password", {"username": "{ALICE}", "password": "' OR '1'='1' --"},
               401, ("rate_limits",))]),
    E("validate", "GET", "/api/auth/validate"),
    E("refresh", "POST", "/api/auth/refresh", user=None,
      body={"refresh_token": "{REFRESH}"}, body_mode="req",
      wrong={"refresh_token": 1}, strfield="refresh_token",
      values=[("sqli_token", {"refresh_token": "' OR 1=1 --"}, 401, ())]),
    E("logout", "POST", "/api/auth/logout", user="lou",
      body={"refresh_token": "{LOU_REFRESH}"}, body_mode="opt",
      wrong={"refresh_token": 7}, strfield="refresh_token"),
    E("ws_ticket", "POST", "/api/auth/ws-ticket", body={}, body_mode="opt"),
    E("verify_request", "POST", "/api/auth/verify-email/request", body={},
      body_mode="opt"),
    E("verify", "POST", "/api/auth/verify-email", user=None,
      body={"code": "{CODE}"}, body_mode="req", wrong={"code": 123456},
      strfield="code",
      values=[("sqli_code", {"code": "' OR 1=1 --"}, 400, ())]),
    # ---- users
    E("users_me", "GET", "/api/users/me"),
    E("users_patch", "PATCH", "/api/users/me", body={"display_name": "patched"},
      body_mode="req", wrong={"display_name": 5}, strfield="display_name",
      values=[("crlf_email", {"email": CRLF}, 400, ()),
              ("sqli_email", {"email": "x\"; DROP TABLE users; --@b.example"}, 400, ()),
              ("crlf_display_name", {"display_name": "x\r\nX-Injected: 1"}, 400, ()),
              ("crlf_avatar", {"avatar_url": "http://a.example/\r\nX-Injected: 1"}, 400, ()),
              ("js_avatar", {"avatar_url": "javascript:alert(1)"}, 400, ()),
              ("crlf_status_text", {"status_text": "busy\r\nX-Injected: 1"}, 400, ()),
              ("phone_not_e164", {"phone": "015112345678"}, 400, ()),
              ("crlf_phone", {"phone": "+4915112345678\r\nX-Injected: 1"}, 400, ()),
              ("phone_number", {"phone": 4915112345678}, 400, ()),
              ("mention_mail_string", {"mention_mail": "false"}, 400, ())]),
    E("users_delete", "DELETE", "/api/users/me", user="zed", body={"password": "{PW}"},
      body_mode="req", wrong={"password": True}, strfield="password"),
    E("users_password", "PUT", "/api/users/me/password", user="pat",
      body={"old_password": "{PW}", "new_password": "another horse battery"},
      body_mode="req", wrong={"old_password": "{PW}", "new_password": 12345678},
      strfield="new_password"),
    E("avatar_put", "PUT", "/api/users/me/avatar", upload=(PNG_4x3, "image/png")),
    E("avatar_delete", "DELETE", "/api/users/me/avatar"),
    E("tokens_create", "POST", "/api/users/me/tokens",
      body={"name": "mx token", "scope": "read"}, body_mode="req",
      wrong={"name": "mx token", "scope": 1}, strfield="name",
      values=[("sqli_scope", {"name": "x", "scope": "read' OR '1'='1"}, 400, ()),
              ("crlf_name", {"name": "x\r\nX-Injected: 1", "scope": "read"}, 400, ()),
              ("expires_in_string", {"name": "x", "scope": "read", "expires_in": "60"}, 400, ()),
              ("expires_in_huge", {"name": "x", "scope": "read", "expires_in": 1e300}, 400, ())]),
    E("tokens_list", "GET", "/api/users/me/tokens"),
    E("tokens_delete", "DELETE", "/api/users/me/tokens/{TK}"),
    E("users_get", "GET", "/api/users/{A}"),
    E("users_search", "GET", "/api/users", query={"q": "mx"},
      qparams={"q": "users_q", "limit": "limit"}),
    # ---- bots (alice is a server admin here)
    E("bots_create", "POST", "/api/bots", body={"username": "mx_new_bot"}, body_mode="req",
      wrong={"username": 5}, strfield="username",
      values=[("sqli_username", {"username": SQLI}, 400, ()),
              ("crlf_display_name", {"username": "mx_bot2", "display_name": "x\r\nX-Injected: 1"},
               400, ())]),
    E("bots_list", "GET", "/api/bots"),
    E("bots_delete", "DELETE", "/api/bots/{BOT2}"),
    E("bots_tokens_create", "POST", "/api/bots/{BOT}/tokens",
      body={"name": "mx bot token", "scope": "post"}, body_mode="req",
      wrong={"name": "mx", "scope": 2}, strfield="name"),
    E("bots_tokens_list", "GET", "/api/bots/{BOT}/tokens"),
    E("bots_tokens_delete", "DELETE", "/api/bots/{BOT}/tokens/{BTK}"),
    # ---- incoming webhooks
    E("webhooks_create", "POST", "/api/channels/{C}/webhooks", body={"name": "mx hook"},
      body_mode="req", wrong={"name": ["mx"]}, strfield="name",
      values=[("js_avatar", {"name": "x", "avatar_url": "javascript:alert(1)"}, 400, ()),
              ("crlf_name", {"name": "x\r\nX-Injected: 1"}, 400, ())]),
    E("webhooks_list", "GET", "/api/channels/{C}/webhooks"),
    E("webhooks_delete", "DELETE", "/api/channels/{C}/webhooks/{WH2}"),
    E("hooks_post", "POST", "/hooks/{WHS}", user=None, body={"text": "mx hook post"},
      body_mode="req", form=True, wrong={"text": 5}, strfield="text",
      values=[("empty_text", {"text": ""}, 400, ()),
              ("username_number", {"text": "x", "username": 1}, 400, ())]),
    # ---- files
    E("files_upload", "POST", "/api/files", query={"name": "matrix.txt"},
      upload=(b"a file of the matrix\n", "text/plain")),
    E("files_get", "GET", "/api/files/{F}"),
    E("files_thumbnail", "GET", "/api/files/{F}/thumbnail"),
    # ---- channels
    E("channels_list", "GET", "/api/channels"),
    E("channels_create", "POST", "/api/channels", body={"name": "mx-new-channel"},
      body_mode="req", wrong={"name": 42}, strfield="name",
      values=[("sqli_kind", {"name": "mx-new-channel", "kind": "public' OR '1'='1"}, 400, ()),
              ("members_sqli", {"name": "mx-new-channel", "members": ["1 OR 1=1"]}, 400, ()),
              ("crlf_name", {"name": "mx\r\nX-Injected: 1"}, 400, ()),
              ("crlf_topic", {"name": "mx-topic", "topic": "t\r\nX-Injected: 1"}, 400, ())]),
    E("channels_dm", "POST", "/api/channels/dm", body={"user_ids": ["{Cr}"]},
      body_mode="req", wrong={"user_ids": "{Cr}"},
      values=[("user_ids_sqli", {"user_ids": ["1; DROP TABLE channels"]}, 400, ()),
              ("user_ids_zero", {"user_ids": [0]}, 400, ()),
              ("user_ids_overflow", {"user_ids": [1e300]}, 400, ())]),
    E("channels_get", "GET", "/api/channels/{C}"),
    E("channels_patch", "PATCH", "/api/channels/{C}", body={"topic": "patched"},
      body_mode="req", wrong={"topic": ["x"]}, strfield="topic",
      values=[("bell_name", {"name": "mx\u0007bell"}, 400, ()),
              ("crlf_topic", {"topic": "t\r\nX-Injected: 1"}, 400, ())]),
    E("channels_delete", "DELETE", "/api/channels/{D}", body={}, body_mode="opt"),
    E("channels_members", "GET", "/api/channels/{C}/members"),
    E("channels_member_add", "POST", "/api/channels/{C}/members",
      body={"user_id": "{Cr}"}, body_mode="req", wrong={"user_id": "{Cr}", "role": 1},
      idfield="user_id",
      values=[("sqli_role", {"user_id": "{Cr}", "role": "admin' OR '1'='1"}, 400, ())]),
    E("channels_member_remove", "DELETE", "/api/channels/{C}/members/{B}", body={},
      body_mode="opt"),
    E("channels_join", "POST", "/api/channels/{J}/join", body={}, body_mode="opt"),
    E("channels_read", "POST", "/api/channels/{C}/read", body={"message_id": "{M}"},
      body_mode="req", wrong={"message_id": "{M}x"}, idfield="message_id"),
    E("channels_typing", "POST", "/api/channels/{C}/typing", body={}, body_mode="opt"),
    # ---- outgoing webhooks (issue 16; test_webhooks_out.py)
    E("outhooks_list", "GET", "/api/channels/{C}/outgoing-webhooks"),
    E("outhooks_create", "POST", "/api/channels/{C}/outgoing-webhooks",
      body={"url": OUTHOOK_URL, "name": "mx hook", "trigger_words": ["!mx"]}, body_mode="req",
      wrong={"url": 5}, strfield="name",
      values=[("url_loopback", {"url": "http://127.0.0.1/hook"}, 400, ()),
              ("url_metadata", {"url": "http://169.254.169.254/latest"}, 400, ()),
              ("url_ipv6_loopback", {"url": "http://[::1]/"}, 400, ()),
              ("url_file", {"url": "file:///etc/passwd"}, 400, ()),
              ("url_crlf", {"url": OUTHOOK_URL + "\r\nX-Injected: 1"}, 400, ()),
              ("url_huge", {"url": OUTHOOK_URL + "x" * 3000}, 400, ()),
              ("crlf_name", {"url": OUTHOOK_URL, "name": "a\r\nX-Injected: 1"}, 400, ()),
              ("trigger_words_type", {"url": OUTHOOK_URL, "trigger_words": [1]}, 400, ()),
              ("trigger_words_string", {"url": OUTHOOK_URL, "trigger_words": "!mx"}, 400, ()),
              ("trigger_words_space", {"url": OUTHOOK_URL, "trigger_words": ["a b"]}, 400, ())]),
    E("outhooks_deliveries", "GET", "/api/channels/{C}/outgoing-webhooks/{H}/deliveries",
      query={"limit": "10"}, qparams={"limit": "limit", "before": "id"}),
    E("outhooks_delete", "DELETE", "/api/channels/{C}/outgoing-webhooks/{H}", body={},
      body_mode="opt"),
    # ---- messages
    E("messages_history", "GET", "/api/messages/history", query={"channel": "{C}"},
      qparams={"channel": "id_required", "before": "id", "after": "id",
               "limit": "limit"}),
    E("messages_search", "GET", "/api/messages/search",
      query={"q": "hello", "channel": "{C}"},
      qparams={"q": "search_q", "channel": "id", "limit": "limit"}),
    E("messages_post", "POST", "/api/messages",
      body={"channel_id": "{C}", "content": "abuse matrix post"}, body_mode="req",
      wrong={"channel_id": "{C}", "content": 123}, idfield="channel_id",
      strfield="content", unknown_id=404,
      values=[("reply_to_sqli", {"channel_id": "{C}", "content": "x",
                                 "reply_to": "1 OR 1=1"}, 400, ()),
              ("client_msg_id_number", {"channel_id": "{C}", "content": "x",
                                        "client_msg_id": 12345}, 400, ()),
              ("client_msg_id_too_long", {"channel_id": "{C}", "content": "x",
                                          "client_msg_id": "c" * 65}, 400, ())]),
    E("messages_get", "GET", "/api/messages/{M}"),
    E("messages_edits", "GET", "/api/messages/{M}/edits", query={"limit": "10"},
      qparams={"limit": "limit", "after": "id"}),
    E("messages_replies", "GET", "/api/messages/{M}/replies", query={"limit": "10"},
      qparams={"limit": "limit", "before": "id", "after": "id"}),
    E("message_following", "GET", "/api/messages/{M}/follow"),
    E("message_follow", "PUT", "/api/messages/{M}/follow", body={}, body_mode="opt"),
    E("message_unfollow", "DELETE", "/api/messages/{M}/follow", body={}, body_mode="opt"),
    E("message_pin", "PUT", "/api/messages/{M}/pin", body={}, body_mode="opt"),
    E("message_unpin", "DELETE", "/api/messages/{M}/pin", body={}, body_mode="opt"),
    E("channels_pins", "GET", "/api/channels/{C}/pins"),
    E("messages_patch", "PATCH", "/api/messages/{M}", body={"content": "edited"},
      body_mode="req", wrong={"content": False}, strfield="content"),
    E("messages_delete", "DELETE", "/api/messages/{M2}", body={}, body_mode="opt"),
    E("reaction_put", "PUT", "/api/messages/{M}/reactions/{PARTY}", body={},
      body_mode="opt"),
    E("reaction_delete", "DELETE", "/api/messages/{M}/reactions/{THUMBS}", body={},
      body_mode="opt"),
    # ---- presence
    E("presence_list", "GET", "/api/presence", query={"channel": "{C}"},
      qparams={"channel": "id"}),
    E("presence_join", "POST", "/api/presence/join", body={"channel_id": "{K}"},
      body_mode="req", wrong={"channel_id": True}, idfield="channel_id",
      unknown_id=404),
    E("presence_leave", "POST", "/api/presence/leave", body={"channel_id": "{C}"},
      body_mode="opt", wrong={"channel_id": {"id": 1}}, idfield="channel_id",
      unknown_id=200),
    E("presence_heartbeat", "POST", "/api/presence/heartbeat", body={"status": "away"},
      body_mode="opt", wrong={"status": 1}, strfield="status",
      values=[("sqli_status", {"status": "away' OR '1'='1"}, 400, ()),
              ("crlf_status", {"status": "away\r\nX-Injected: 1"}, 400, ())]),
    # ---- notifications
    E("notifications_list", "GET", "/api/notifications", query={"unread": "1"},
      qparams={"unread": "flag", "limit": "limit"}),
    E("notifications_read", "POST", "/api/notifications/read", body={"all": True},
      body_mode="req", wrong={"all": "true"},
      values=[("ids_sqli", {"ids": ["1 OR 1=1"]}, 400, ()),
              ("ids_negative", {"ids": [-1]}, 400, ()),
              ("ids_overflow", {"ids": [1e300]}, 400, ()),
              ("ids_too_many", {"ids": list(range(1, 202))}, 400, ())]),
    # ---- server administration (alice is the server admin)
    E("admin_users", "GET", "/api/admin/users", query={"q": "mx"},
      qparams={"q": "users_q", "limit": "limit", "before": "id"}),
    E("admin_deactivate", "POST", "/api/admin/users/{DE}/deactivate", body={},
      body_mode="opt"),
    E("admin_reactivate", "POST", "/api/admin/users/{DE}/reactivate", body={},
      body_mode="opt"),
    E("admin_grant", "PUT", "/api/admin/users/{DE}/server-admin", body={}, body_mode="opt"),
    E("admin_revoke", "DELETE", "/api/admin/users/{DE}/server-admin", body={},
      body_mode="opt"),
    E("admin_message_delete", "DELETE", "/api/admin/messages/{M3}", body={},
      body_mode="opt"),
    E("admin_channel_delete", "DELETE", "/api/admin/channels/{E}", body={},
      body_mode="opt"),
    E("admin_archive", "POST", "/api/admin/channels/{G}/archive", body={},
      body_mode="opt"),
    E("admin_unarchive", "POST", "/api/admin/channels/{G}/unarchive", body={},
      body_mode="opt"),
    E("admin_invite_create", "POST", "/api/admin/invites",
      body={"max_uses": 2, "expires_in": 3600}, body_mode="opt",
      wrong={"max_uses": "2"},
      values=[("max_uses_zero", {"max_uses": 0}, 400, ()),
              ("max_uses_huge", {"max_uses": 1e300}, 400, ()),
              ("expires_in_too_long", {"expires_in": 999999999}, 400, ())]),
    E("admin_invites", "GET", "/api/admin/invites",
      qparams={"limit": "limit", "before": "id"}),
    E("admin_invite_revoke", "DELETE", "/api/admin/invites/{INV}", body={},
      body_mode="opt"),
    E("admin_audit", "GET", "/api/admin/audit", qparams={"limit": "limit", "before": "id"}),
    # ---- events, operations
    E("events", "GET", "/api/events", query={"timeout": "0"},
      qparams={"since": "since", "timeout": "timeout"}),
    E("health", "GET", "/api/health", user=None),
    # ---- issue 16: phone verification, data export
    E("verify_sms_request", "POST", "/api/auth/verify-sms/request",
      body={"phone": "+4915100000001"}, body_mode="opt", wrong={"phone": 4915100000001},
      strfield="phone",
      values=[("sqli_phone", {"phone": "+49'; DROP TABLE users; --"}, 400, ()),
              ("crlf_phone", {"phone": "+4915100000001\r\nX-Injected: 1"}, 400, ()),
              ("shell_phone", {"phone": "+49$(reboot)"}, 400, ())]),
    E("verify_sms", "POST", "/api/auth/verify-sms", user="sam",
      body={"code": "{SMSCODE}"}, body_mode="req", wrong={"code": 123456},
      strfield="code",
      values=[("sqli_code", {"code": "' OR 1=1 --"}, 400, ())]),
    E("users_export", "GET", "/api/users/me/export"),
    E("ws", "GET", "/ws"),
]
EP = {e["name"]: e for e in ENDPOINTS}
assert len(EP) == len(ENDPOINTS)


def fill(v, ctx):
    """Placeholders "{X}" -> ctx values (a whole-string placeholder keeps
    the value's type, so "{C}" becomes the integer id)."""
    if isinstance(v, str):
        m = re.fullmatch(r"\{(\w+)\}", v)
        if m and m.group(1) in ctx:
            return ctx[m.group(1)]
        return re.sub(r"\{(\w+)\}",
                      lambda mm: str(ctx.get(mm.group(1), mm.group(0))), v)
    if isinstance(v, dict):
        return {k: fill(x, ctx) for k, x in v.items()}
    if isinstance(v, list):
        return [fill(x, ctx) for x in v]
    return v


PATH_CTX = {"PARTY": PARTY, "THUMBS": THUMBS}


def slots(path):
    return re.findall(r"\{(\w+)\}", path)


# ------------------------------------------------------------------ cases

class Case:
    """One cell: how to alter the endpoint's valid request, and the
    answer the contract gives."""

    def __init__(self, ep, kind, status, code=None, *, token="valid", body=None,
                 raw=None, ctype=JS, path=None, query=None, allow=(),
                 frontend=None, xfail=None, check=None):
        self.ep = ep                # endpoint dict
        self.kind = kind
        self.status = status
        self.code = code or {400: "bad_request", 401: "unauthorized",
                             404: "not_found", 405: "method_not_allowed",
                             413: "payload_too_large",
                             415: "unsupported_media_type"}.get(status)
        self.token = token          # "valid", None, or a token kind
        self.body = body            # JSON object to send (default: the valid one)
        self.raw = raw              # function(valid body bytes) -> bytes sent
        self.ctype = ctype
        self.path = path            # (slot, raw value) to put in the path
        self.query = query          # (name, value or None to drop) to change
        self.allow = allow          # tables this case may write
        self.frontend = frontend or ()  # statuses the web server itself may answer
        self.xfail = xfail
        self.check = check          # extra check of a 2xx body

    @property
    def id(self):
        return "%s-%s" % (self.ep["name"], self.kind)

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        if self.ep["name"] == "ws" and FRONTEND == "apache":
            marks.append(pytest.mark.skip(reason="no ws-daemon behind Apache CGI"))
        return pytest.param(self, id=self.id, marks=marks)


# (test_abuse.py also tries alg none with the real signature, a swapped
# payload and the Basic scheme on the core endpoints: the same code path.)
TOKEN_KINDS = ["missing", "garbage", "forged", "alg_none", "hs512_real_secret",
               "expired", "revoked", "unknown_session", "wrong_sub"]


def dump(obj):
    return json.dumps(obj, ensure_ascii=False).encode()


def with_extra(raw, extra):
    """`raw` (a JSON object's bytes) with `extra` (bytes of `"k": v`) added."""
    raw = raw.rstrip()
    assert raw.endswith(b"}")
    inner = raw[:-1].rstrip()
    sep = b"" if inner.endswith(b"{") else b", "
    return inner + sep + extra + b"}"


def in_string(field, bad):
    """raw body -> the body with `bad` bytes inside a string value: the
    endpoint's string field when it has one (so an accepted body would be
    acted on), else an extra key."""
    def f(raw):
        if field is None:
            return with_extra(raw, b'"note": "x' + bad + b'y"')
        obj = json.loads(raw)
        obj[field] = "MARK" + str(obj[field])
        return dump(obj).replace(b"MARK", bad, 1)
    return f


def duplicate_key(ep):
    def f(raw):
        obj = json.loads(raw)
        if obj:
            k = next(iter(obj))
            return with_extra(raw, dump({k: obj[k]})[1:-1])
        return with_extra(raw, b'"x": 1, "x": 2')
    return f


def nested(depth):
    """An extra key whose value nests `depth` - 1 arrays: with the body
    object itself that is `depth` levels."""
    def f(raw):
        return with_extra(raw, b'"deep": ' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1))
    return f


def sized(total, tail=b""):
    """raw body -> the body padded (an extra string) to exactly `total`
    bytes, `tail` included."""
    def f(raw):
        base = with_extra(raw, b'"pad": ""') + tail
        pad = total - len(base)
        assert pad >= 0
        return with_extra(raw, b'"pad": "' + b"p" * pad + b'"') + tail
    return f


def body_cases(ep):
    out = []
    auth = ep["user"] is not None
    add = out.append
    add(Case(ep, "body_too_large", 413,
             raw=lambda raw: with_extra(raw, b'"pad": "' + b"p" * BIG_PAD + b'"')))
    # the limit's edge: one byte over is 413; at the limit the body is read
    # and parsed (here: refused for its trailing byte, so nothing acts)
    add(Case(ep, "body_limit_plus_1", 413, raw=sized(BODY_LIMIT + 1)))
    add(Case(ep, "body_at_limit_parsed", 400, raw=sized(BODY_LIMIT, b"x")))
    add(Case(ep, "ctype_text_plain", 415, ctype="text/plain"))
    add(Case(ep, "ctype_missing", 415, ctype=None))
    if ep.get("form"):
        # /hooks/ also takes Slack's form body, payload=<json>: a JSON body
        # sent as a form has no payload field (400); and broken forms
        form = "application/x-www-form-urlencoded"
        add(Case(ep, "ctype_form", 400, ctype=form))
        add(Case(ep, "form_bad_escape", 400, ctype=form, raw=lambda raw: b"payload=%ZZ"))
        add(Case(ep, "form_bad_json", 400, ctype=form, raw=lambda raw: b"payload=%7Bnope"))
        add(Case(ep, "form_nul", 400, ctype=form, raw=lambda raw: b"payload=%00"))
        add(Case(ep, "form_wrong_type", 400, ctype=form,
                 raw=lambda raw: b"payload=" + urllib.parse.quote_plus('{"text":5}').encode()))
        add(Case(ep, "form_huge", 413, ctype=form,
                 raw=lambda raw: b"payload=" + b"x" * BIG_PAD))
    else:
        add(Case(ep, "ctype_form", 415, ctype="application/x-www-form-urlencoded"))
    add(Case(ep, "ctype_lookalike", 415, ctype="application/json-seq"))
    if auth:
        # the order of checks: 413 and 415 before 401, 401 before 400
        add(Case(ep, "order_413_before_401", 413, token=None,
                 raw=lambda raw: with_extra(raw, b'"pad": "' + b"p" * BIG_PAD + b'"')))
        add(Case(ep, "order_415_before_401", 415, token=None, ctype="text/plain"))
        add(Case(ep, "order_401_before_400", 401, token="garbage",
                 raw=lambda raw: raw[:-1]))
    add(Case(ep, "json_malformed", 400, raw=lambda raw: raw[:-1]))
    add(Case(ep, "json_trailing_garbage", 400, raw=lambda raw: raw + b" garbage"))
    add(Case(ep, "json_second_value", 400, raw=lambda raw: raw + b"{}"))
    add(Case(ep, "json_not_object", 400, raw=lambda raw: b"[" + raw + b"]"))
    if ep["body_mode"] == "req":
        add(Case(ep, "json_empty", 400, raw=lambda raw: b""))
    sf = ep["strfield"]
    add(Case(ep, "utf8_invalid", 400, raw=in_string(sf, b"\xff\xfe")))
    add(Case(ep, "utf8_surrogate", 400, raw=in_string(sf, b"\xed\xa0\x80")))
    add(Case(ep, "utf8_overlong", 400, raw=in_string(sf, b"\xc0\xaf")))
    add(Case(ep, "escape_u0000", 400, raw=in_string(sf, b"\\u0000")))
    add(Case(ep, "raw_nul_byte", 400, raw=in_string(sf, b"\x00")))
    add(Case(ep, "raw_control_char", 400, raw=in_string(sf, b"\x01")))
    add(Case(ep, "duplicate_key", 400, raw=duplicate_key(ep)))
    add(Case(ep, "number_1e400", 400, raw=lambda raw: with_extra(raw, b'"n": 1e400')))
    add(Case(ep, "number_leading_zero", 400, raw=lambda raw: with_extra(raw, b'"n": 01')))
    add(Case(ep, "nesting_33", 400, raw=nested(33)))
    if ep["wrong"] is not None:
        add(Case(ep, "wrong_type", 400, body=ep["wrong"]))
    if ep["idfield"]:
        f = ep["idfield"]
        for kind, v in (("zero", b"0"), ("negative", b"-1"), ("fraction", b"1.5"),
                        ("2p53_plus_2", b"9007199254740994"), ("2p64", b"18446744073709551616"),
                        ("1e400", b"1e400"), ("string", b'"1"'), ("bool", b"true"),
                        ("sqli", b'"1 OR 1=1"')):
            add(Case(ep, "id_%s" % kind, 400, raw=set_field(f, v)))
        add(Case(ep, "id_2p53_plus_1", 400, raw=set_field(f, b"9007199254740993")))
    for kind, body, status, allow, *xfail in ep["values"]:
        add(Case(ep, kind, status, body=body, allow=allow,
                 xfail=xfail[0] if xfail else None))
    return out


def set_field(field, value):
    def f(raw):
        obj = json.loads(raw)
        obj[field] = "MARK"
        return dump(obj).replace(b'"MARK"', value)
    return f


def token_cases(ep):
    return [Case(ep, "token_" + k, 401, token=k) for k in TOKEN_KINDS]


# Values for an id in a path: none is a positive integer, so 404. The
# frontend column: lighttpd itself refuses URLs with encoded control
# characters or invalid UTF-8 (400), and encoded-slash traversals that its
# normalization moves out of /api/<resource> reach its static files (404;
# nginx: 405 for methods other than GET), before parley sees them
# (docs/DECISIONS.md).
CTRL_FE = (400,)
TRAVERSAL_FE = (404, 405)
PATH_IDS = [
    ("abc", "abc", None), ("zero", "0", None), ("negative", "-1", None),
    ("fraction", "1.5", None), ("huge", "99999999999999999999", None),
    ("int64_overflow", "9223372036854775808", None),
    ("sqli", "1%20OR%201=1;DROP%20TABLE%20users", None),
    ("dotdot", "..", None), ("traversal", "..%2F..%2Fusers%2Fme", TRAVERSAL_FE),
    ("traversal_dotenc", "%2E%2E", None),
    ("nul", "%00", CTRL_FE), ("crlf", "1%0D%0AX-Injected:%201", CTRL_FE),
    ("bad_utf8", "%FF", CTRL_FE),
]
# The emoji segment: 1-32 bytes of UTF-8 without white space or controls;
# "." and ".." are dot segments (404, docs/DECISIONS.md).
PATH_EMOJI = [
    ("space", "a%20b", 400, None), ("tab", "a%09b", 400, CTRL_FE),
    ("too_long", THUMBS * 9, 400, None), ("sqli", "'%20OR%201=1", 400, None),
    ("nul", "%00", 400, CTRL_FE), ("crlf", "x%0D%0AX-Injected:%201", 400, CTRL_FE),
    ("bad_utf8", "%FF", 400, CTRL_FE), ("dot", ".", 404, None), ("dotdot", "..", 404, None),
    ("dotdot_encoded", "%2e%2E", 404, None),
    ("traversal", "..%2F..%2F..%2Fetc%2Fpasswd", 404, TRAVERSAL_FE),
]


def path_cases(ep):
    out = []
    for slot in slots(ep["path"]):
        if slot in ("PARTY", "THUMBS"):
            for kind, v, status, fe in PATH_EMOJI:
                out.append(Case(ep, "emoji_%s" % kind, status, path=(slot, v),
                                frontend=fe))
            continue
        pre = slot.lower() + "_"
        for kind, v, fe in PATH_IDS:
            if ep["path"].startswith("/hooks/") and kind in ("dotdot", "traversal_dotenc",
                                                             "traversal"):
                # /hooks/.. is "/" once the web server removes dot
                # segments: the static site (lighttpd answers a POST to a
                # static file 200, nginx 405), never parley-hooks
                fe = (200, 404, 405)
            out.append(Case(ep, "path_%s%s" % (pre, kind), 404, path=(slot, v),
                            frontend=fe))
        out.append(Case(ep, "path_%smissing_object" % pre, 404,
                        path=(slot, "9223372036854775807")))
        if ep["user"]:
            out.append(Case(ep, "order_401_before_404_%s" % slot.lower(), 401,
                            token=None, path=(slot, "abc")))
    return out


Q_ID = [("abc", "abc"), ("zero", "0"), ("negative", "-1"), ("fraction", "1.5"),
        ("huge", "99999999999999999999"), ("empty", ""), ("sqli", "1 OR 1=1"),
        ("sqli_drop", "1; DROP TABLE messages"), ("traversal", "../../etc/passwd")]
Q_LIMIT = [("zero", "0"), ("negative", "-1"), ("over_max", "201"), ("abc", "abc"),
           ("huge", "99999999999999999999"), ("fraction", "1.5"), ("sqli", "1 OR 1=1")]
# Encoded NUL, CR LF and invalid UTF-8: 400 from parley, or lighttpd's own
# 400. A CR LF inside a search text is white space there (a word
# separator): 200 with nothing found; it never reaches a header.
Q_FRONTEND = [("nul", "1\x00"), ("crlf", "1\r\nX-Injected: 1"), ("bad_utf8", b"\xff")]


def empty_list(key):
    def check(body):
        assert body[key] == [], "injection-looking query found something: %r" % body
    return check


def query_cases(ep):
    out = []
    add = out.append
    for name, kind in ep["qparams"].items():
        pre = "query_%s_" % name
        if kind in ("id", "id_required"):
            for k, v in Q_ID:
                add(Case(ep, pre + k, 400, query=(name, v)))
            if kind == "id_required":
                add(Case(ep, pre + "absent", 400, query=(name, None)))
        elif kind == "limit":
            for k, v in Q_LIMIT:
                add(Case(ep, pre + k, 400, query=(name, v)))
        elif kind == "flag":
            for k, v in (("two", "2"), ("negative", "-1"), ("abc", "abc"),
                         ("true", "true")):
                add(Case(ep, pre + k, 400, query=(name, v)))
        elif kind == "since":
            for k, v in (("abc", "abc"), ("negative", "-1"), ("fraction", "1.5"),
                         ("huge", "99999999999999999999"), ("sqli", "1 OR 1=1")):
                add(Case(ep, pre + k, 400, query=(name, v)))
        elif kind == "timeout":
            for k, v in (("negative", "-1"), ("over_max", "61"), ("abc", "abc"),
                         ("huge", "99999999999999999999")):
                add(Case(ep, pre + k, 400, query=(name, v)))
        elif kind == "users_q":
            add(Case(ep, pre + "too_long", 400, query=(name, "a" * 101)))
            for k, v in (("sqli", "' OR 1=1 --"), ("like_percent", "%"),
                         ("like_underscore", "_"), ("traversal", "../../etc/passwd")):
                add(Case(ep, pre + k, 200, query=(name, v), check=empty_list("users")))
        elif kind == "search_q":
            add(Case(ep, pre + "absent", 400, query=(name, None)))
            add(Case(ep, pre + "empty", 400, query=(name, "")))
            add(Case(ep, pre + "too_long", 400, query=(name, "a" * 257)))
            add(Case(ep, pre + "too_many_words", 400,
                     query=(name, " ".join(["w"] * 17))))
            for k, v in (("sqli", "' OR 1=1 --"), ("fts_or", 'nothing" OR "hello'),
                         ("fts_prefix", "hello*x"), ("fts_near", "NEAR(hello matrix)"),
                         ("fts_column", "content:hello"),
                         ("fts_not", "hello NOT matrix")):
                add(Case(ep, pre + k, 200, query=(name, v),
                         check=empty_list("messages")))
        for k, v in Q_FRONTEND:
            if k == "crlf" and kind in ("users_q", "search_q"):
                add(Case(ep, pre + k, 200, query=(name, v), frontend=CTRL_FE,
                         check=empty_list("users" if kind == "users_q" else "messages")))
            else:
                add(Case(ep, pre + k, 400, query=(name, v), frontend=CTRL_FE))
    if ep["qparams"]:
        bad = next(iter(ep["qparams"]))
        add(Case(ep, "order_401_before_400_query", 401, token=None, query=(bad, "abc")))
    return out


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def methods_serving(path):
    """Methods of every route whose pattern matches the concrete `path`
    (GET /api/channels/dm is GET /api/channels/{id} with id "dm")."""
    return {e["method"] for e in ENDPOINTS if e["name"] != "ws" and
            re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(e["path"])), path)}


def method_cases():
    """Per path, one method it does not serve: 405 with the exact Allow."""
    seen = set()
    out = []
    for e in ENDPOINTS:
        concrete = re.sub(r"\{\w+\}", "1", e["path"])
        if e["name"] == "ws" or concrete in seen:
            continue
        seen.add(concrete)
        served = methods_serving(concrete)
        assert e["method"] in served, (e["name"], served)
        wrong = next(m for m in METHODS if m not in served)
        c = Case(e, "method_%s" % wrong.lower(), 405, token="valid")
        c.method = wrong
        c.allowed = served
        out.append(c)
    return out


def all_cases():
    out = []
    for ep in ENDPOINTS:
        if ep["user"]:
            out += token_cases(ep)
        if ep["body_mode"]:
            out += body_cases(ep)
        out += path_cases(ep)
        out += query_cases(ep)
    out += method_cases()
    ws = EP["ws"]
    out += [Case(ws, "ticket_garbage", 401, token=None, query=("ticket", "garbage")),
            Case(ws, "ticket_is_access_token", 401, token=None,
                 query=("ticket", "{ALICE_TOKEN}")),
            Case(ws, "since_abc", 400, query=("since", "abc")),
            Case(ws, "since_negative", 400, query=("since", "-1")),
            Case(ws, "since_sqli", 400, query=("since", "1 OR 1=1"))]
    ids = [c.id for c in out]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, dup
    return out


CASES = all_cases()


# ------------------------------------------------------------------ requests

def build(world, case):
    """-> (method, raw path + query, headers, body bytes or None)."""
    ep, ctx = case.ep, world["ctx"]
    method = getattr(case, "method", ep["method"])
    # path
    pctx = dict(PATH_CTX, **{k: str(v) for k, v in ctx.items()})
    if case.path:
        pctx[case.path[0]] = case.path[1]
    path = re.sub(r"\{(\w+)\}", lambda m: pctx[m.group(1)], ep["path"])
    # query
    q = {k: str(fill(v, ctx)) for k, v in ep["query"].items()}
    if case.query:
        name, v = case.query
        if v is None:
            q.pop(name, None)
        else:
            q[name] = v.replace("{ALICE_TOKEN}", world["alice"].token) \
                if isinstance(v, str) else v
    headers = {}
    # token
    user = ep["user"]
    if case.token is not None and user is None and case.token != "valid":
        raise AssertionError("token case on an open endpoint")
    tok = None
    if case.token == "valid" and user:
        tok = world["users"][user].token
    elif case.token not in (None, "valid"):
        tok = world["tokens"][user][case.token]
    if ep["name"] == "ws":
        if tok is not None:
            q["token"] = tok
        headers.update({"Connection": "Upgrade", "Upgrade": "websocket",
                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                        "Sec-WebSocket-Version": "13"})
    elif isinstance(tok, tuple):
        headers["Authorization"] = "%s %s" % tok
    elif tok is not None:
        headers["Authorization"] = "Bearer " + tok
    if q:
        path += "?" + "&".join(
            "%s=%s" % (k, urllib.parse.quote(v.encode() if isinstance(v, str) else v, safe=""))
            for k, v in q.items())
    # body
    data = None
    if method in ("POST", "PUT", "PATCH", "DELETE") and getattr(case, "method", None) is None:
        if ep["body_mode"] or case.body is not None:
            data = dump(fill(case.body if case.body is not None else ep["body"], ctx))
            if case.raw:
                data = case.raw(data)
            if case.ctype:
                headers["Content-Type"] = case.ctype
        elif ep["upload"]:
            data, headers["Content-Type"] = ep["upload"]
    if method in ("POST", "PUT", "PATCH", "DELETE") and data is None:
        data = b""
    return method, path, headers, data


def send(server, method, path, headers, data):
    """One request exactly as given (no URL normalization: http.client
    sends the path as is), on a fresh connection."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        body = r.read() if r.status != 101 else b""
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def check_error(status, headers, body, case):
    """The contract's {"error":{"code","message"}} with a JSON type."""
    ctype = headers.get("content-type", "")
    assert ctype.lower().startswith(JS), (
        "%s: error content type %r, body %r" % (case.id, ctype, body[:300]))
    obj = json.loads(body)
    assert isinstance(obj, dict) and isinstance(obj.get("error"), dict), obj
    assert obj["error"].get("code") == case.code, obj
    msg = obj["error"].get("message")
    assert isinstance(msg, str) and msg, obj
    assert set(obj) == {"error"}, "extra keys next to the error: %r" % obj
    if status == 405:
        assert headers.get("allow"), "405 without Allow"


# ------------------------------------------------------------------ tests

def test_every_route_is_in_the_matrix():
    """The table above covers every route of docs/openapi.yaml, of the
    programs' route tables (fcgi-apps/*.c) and of the contract (API.md,
    when this checkout sits next to it), and nothing more than those."""
    def norm(p):
        return re.sub(r"\{\w+\}", "{}", p)

    table = {(e["method"], norm(e["path"])) for e in ENDPOINTS}
    spec = set()
    cur = None
    with open(REPO / "docs" / "openapi.yaml") as f:
        in_paths = False
        for line in f:
            if re.match(r"^paths:\s*$", line):
                in_paths = True
                continue
            if in_paths and re.match(r"^\S", line):
                in_paths = False
            if not in_paths:
                continue
            m = re.match(r"^  (/\S*):\s*$", line)
            if m:
                cur = m.group(1)
                continue
            m = re.match(r"^    (get|post|put|patch|delete|head|options):\s*$", line)
            if m and cur:
                spec.add((m.group(1).upper(), norm(cur)))
    assert len(spec) > 40, "could not read the paths of docs/openapi.yaml"
    missing = spec - table
    assert not missing, "routes in docs/openapi.yaml missing from the matrix: %s" % sorted(missing)
    extra = table - spec
    assert not extra, "matrix routes docs/openapi.yaml does not describe: %s" % sorted(extra)

    code = set()
    for p in (REPO / "fcgi-apps").glob("*.c"):
        for m in re.finditer(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(/(?:api|hooks)/[^"]*)"',
                             p.read_text()):
            code.add((m.group(1), norm(m.group(2))))
    code.add(("GET", "/api/health"))      # PL_HEALTH_ROUTE, in every program
    code.add(("GET", "/ws"))              # the ws-daemon
    assert len(code) > 40
    assert not code - table, "served routes missing from the matrix: %s" % sorted(code - table)
    assert not table - code, "matrix routes nothing serves: %s" % sorted(table - code)

    if os.path.exists(API_MD):
        with open(API_MD) as f:
            text = f.read()
        # The "v2 additions" list routes of issues still open: each joins
        # this check through the served routes above once it is built (the
        # matrix must cover whatever the programs serve).
        text = text.split("## v2 additions")[0]
        contract = set()
        for m in re.finditer(r"(GET|POST|PUT|PATCH|DELETE) `(/(?:api|ws)[^`?]*)", text):
            contract.add((m.group(1), norm(m.group(2))))
        contract.add(("GET", "/ws"))
        assert len(contract) > 40, "could not read the routes of %s" % API_MD
        assert not contract - table, "API.md routes missing: %s" % sorted(contract - table)


def test_valid_requests_pass_the_checks(world, server):
    """Controls: the unaltered read-only requests of the table succeed with
    the real token (and write nothing), so each case's failure is about the
    one thing it changes (the writing ones would act, which is what cases
    must not)."""
    fp = world["fp"]
    for e in ENDPOINTS:
        if e["method"] != "GET" or e["name"] == "ws":
            continue
        c = Case(e, "control", 200)
        before = fp.read()
        status, headers, body = send(server, *build(world, c))
        assert status == 200, "%s: %d %s" % (e["name"], status, body[:300])
        assert not Fingerprint.diff(before, fp.read()), e["name"]
    # and the forging helpers make a token that works when nothing is wrong
    alice = world["alice"]
    _, claims = jwt_parts(alice.token)
    good = make_jwt(claims, read_secret(server.var))
    assert send(server, "GET", "/api/auth/validate",
                {"Authorization": "Bearer " + good}, None)[0] == 200


def test_digest_sees_an_update_behind_the_apis_back(world, server):
    """The check can fail: an UPDATE that keeps every row count, highest
    rowid and AUTOINCREMENT counter (all the old fingerprint looked at)
    made through a connection of our own is seen by the same comparison
    test_abuse makes, and named by table, even for a case that may write
    elsewhere (data_version is not compared then). Put back afterwards,
    the digest is what it was: the cases start from the world as made."""
    fp, ctx = world["fp"], world["ctx"]

    def counts():
        con = pg_util.connect(server.db)
        pg = pg_util.url_of(server.db) is not None
        try:
            out = {t: con.execute('SELECT count(*), max(%s) FROM "%s"'
                                  % ("id" if pg else "rowid", t)).fetchone()
                   for t in ("users", "channels", "messages", "sessions")}
            out["seq"] = con.execute(
                "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1" if pg else
                "SELECT * FROM sqlite_sequence ORDER BY name").fetchall()
            return out
        finally:
            con.close()

    con = pg_util.connect(server.db, readonly=False)
    if isinstance(con, sqlite3.Connection):
        con.isolation_level = None
    try:
        old_topic = con.execute("SELECT topic FROM channels WHERE id = ?",
                                (ctx["C"],)).fetchone()[0]
        before, shape = fp.read(), counts()
        con.execute("UPDATE channels SET topic = 'behind your back' WHERE id = ?", (ctx["C"],))
        after = fp.read()
        assert counts() == shape, "the UPDATE was meant to keep counts and ids"
        for allow in ((), ("rate_limits",)):
            changed = written(world, before, after, allow)
            assert set(changed) - {"data_version"} == {"channels"}, changed
            new = changed["channels"]["new"]
            assert [r for r in new if "behind your back" in r], changed
        con.execute("UPDATE channels SET topic = ? WHERE id = ?", (old_topic, ctx["C"]))
        assert written(world, before, fp.read(), ("rate_limits",)) == {}
    finally:
        con.close()


def assert_serving(world):
    """No server process died (lighttpd respawns a crashed FastCGI
    program under a new pid) and /api/health answers."""
    for pid, cmd in world["procs"].items():
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "gone"
        assert state not in ("gone", "Z", "X"), "%s (pid %d) died\n%s" % (
            cmd, pid, world["server"].logs())
    status, _, body = send(world["server"], "GET", "/api/health", {}, None)
    assert status == 200, "health: %d %r" % (status, body[:200])


def written(world, before, after, allow=()):
    """What a case wrote: the tables whose rows changed (outside `allow`)
    and data_version, with the rows behind each change."""
    fp = world["fp"]
    return fp.explain(Fingerprint.diff(before, after, allow))


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_abuse(world, case):
    assert "spent" not in world, "the controls ran before this case: the world is spent"
    fp, server = world["fp"], world["server"]
    if case.ep["name"] == "verify":
        pending_code(world)
    method, path, headers, data = build(world, case)
    before = fp.read()
    status, rh, body = send(server, method, path, headers, data)
    after = fp.read()
    changed = written(world, before, after, case.allow)
    world.setdefault("first", before)
    world["last"] = after
    world["allowed"].update(case.allow)
    if case.xfail:      # a known bug may write: excused in the run's total
        world.setdefault("excused", set()).update(changed)
    assert_serving(world)
    what = "%s %s -> %d %r" % (method, path[:120], status, body[:300])
    assert not changed, "%s wrote to the database: %r" % (what, changed)
    for h in rh:
        assert not h.startswith("x-injected"), "header injection: %r" % rh
    if (status in case.frontend and "x-request-id" not in rh
            and not rh.get("content-type", "").startswith(JS)):
        return   # refused by the web server before parley saw it (DECISIONS.md)
    assert status == case.status, "expected %d: %s" % (case.status, what)
    if status >= 400:
        check_error(status, rh, body, case)
    if status == 405:
        allow = {m.strip() for m in rh["allow"].split(",")}
        assert allow == case.allowed, "Allow %r, expected %r" % (allow, case.allowed)
    if case.check:
        case.check(json.loads(body))


def test_request_id_is_echoed_only_when_harmless(world, server):
    """X-Request-Id is the one request header parley copies into its
    answer: only a short [A-Za-z0-9_-] value comes back."""
    ok = send(server, "GET", "/api/health", {"X-Request-Id": "abc-123_X"}, None)[1]
    assert ok["x-request-id"] == "abc-123_X"
    for bad in ("a b", "<script>alert(1)</script>", "x;Set-Cookie:a=b", "y" * 40,
                "x%0d%0aX-Injected:1"):
        h = send(server, "GET", "/api/health", {"X-Request-Id": bad}, None)[1]
        assert re.fullmatch(r"[0-9a-f]{16}", h["x-request-id"]), (bad, h)
        assert not any(k.startswith("x-injected") or k == "set-cookie" for k in h), h


def test_revoked_token_stays_revoked_after_a_new_login(world, server, api):
    """A logged-out session's access token must stay dead (API.md: "the
    session's access and refresh tokens stop working at once"), whatever
    the user does next."""
    u = make_user(api, "mxr")
    gone = assert_json(api.login_resp(u.username), 200)["access_token"]
    assert api.post("/api/auth/logout", {}, token=gone).status_code == 204
    assert_error(api.get("/api/auth/validate", token=gone), 401, "unauthorized")
    api.login(u.username)   # the same user signs in again, elsewhere
    assert_error(api.get("/api/auth/validate", token=gone), 401, "unauthorized")


def test_zz_still_serving_after_the_matrix(world, server, api):
    """After every case: the same processes (no FastCGI program crashed and
    was respawned), /api/health, a normal authenticated read and write, and
    the database holds what the fixture made plus this test's message."""
    gone = {p: c for p, c in world["procs"].items() if p not in server.processes()}
    assert not gone, "processes died during the matrix: %r\n%s" % (gone, server.logs())
    r = api.get("/api/health")
    assert assert_json(r, 200)["status"] == "ok"
    alice, ctx = world["alice"], world["ctx"]
    me = assert_json(api.get("/api/users/me", token=alice.token), 200)
    assert me["id"] == alice.id and me["display_name"] != "patched"
    if "first" in world:    # from the first case to the last: every
        # table but those a case was allowed to write (rate_limits, by the
        # failed logins) or a known bug wrote
        excused = set(world.get("excused", ())) - {"data_version"}
        changed = written(world, world["first"], world["last"],
                          world["allowed"] | excused)
        assert not changed, "the matrix as a whole wrote: %r" % (changed,)
    m = api.send(alice.token, ctx["C"], "still here")
    assert m["id"] > ctx["M2"]
    hist = assert_json(api.history(alice.token, ctx["C"]), 200)
    assert [x["id"] for x in hist] == [ctx["M"], ctx["M2"], m["id"]]
    assert hist[0]["content"] == "hello matrix" and not hist[1]["deleted"]
    # the register cases never created their user
    assert assert_json(api.get("/api/users", token=alice.token,
                               params={"q": REG_USER}), 200)["users"] == []


def test_zzz_every_unaltered_request_succeeds(world, server):
    """The controls of every endpoint, reads and writes alike: its request
    unaltered (the real token, the world's ids, the valid body) succeeds,
    so each case above was refused for the one thing it altered and not
    by a broken baseline (a refused baseline once hid that verify-email's
    body cases proved nothing). A write that succeeds must have written.

    They run last, on the very world the cases used (test_zz showed it
    unchanged from the first case to the last), one after the other; no
    control changes what a later one needs: zed is deleted, pat's password
    changes, lou logs out, vic's code is used, D and M2 are deleted, J is
    joined and K joined by presence, each by its own endpoint only, and
    what else they change (C's topic and members, alice's name, M's text
    and reactions) no later control depends on."""
    world["spent"] = True
    fp = world["fp"]
    for e in ENDPOINTS:
        method, path, headers, data = build(world, Case(e, "control", 200))
        before = fp.read()
        status, rh, body = send(server, method, path, headers, data)
        # (rate_limits: login and verify-email/request count their uses)
        wrote = set(Fingerprint.diff(before, fp.read(), ("rate_limits",)))
        what = "%s %s unaltered -> %d %r" % (method, path[:100], status, body[:300])
        if e["name"] == "ws":
            assert status == 101, what
            continue
        assert 200 <= status < 300, what
        # (that reads write nothing test_valid_requests_pass_the_checks
        # showed on the untouched world: here the search would index the
        # messages the writes before it posted)
        if e["method"] != "GET":
            assert wrote - {"data_version"}, "%s but wrote nothing" % what
        if e["name"] == "verify":
            out = json.loads(body)
            assert out["id"] == world["vic"].id and out["email_verified"] is True, out
        if e["name"] == "verify_request":
            alice = world["alice"]
            assert read_code(server.maildir, alice.username + "@example.com")
