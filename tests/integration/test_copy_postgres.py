"""parleyctl copy-to-postgres (issue 14): a deployment that outgrew one
machine moves its SQLite database into PostgreSQL and loses nothing.

A real server on SQLite gets a history (channels of every kind, replies,
edits, deletions, reactions, mentions, read markers, a deleted message
at the top so SQLite's AUTOINCREMENT counter is past the highest id);
its file is copied into a fresh database of a real PostgreSQL cluster;
a server on that database, with the same JWT secret, must then answer
every read exactly as the SQLite server did, keep the sessions and
passwords, replay the same events, and never reuse an id.

Runs in the SQLite pass only (the copy goes from SQLite; the PostgreSQL
pass has no SQLite server to copy from)."""

import os
import subprocess

import pytest
import requests

import pg_util
from conftest import REPO, start_server
from helpers import Api, make_user, unique_channel

pytestmark = pytest.mark.skipif(pg_util.ENGINE == "postgres",
                                reason="the copy starts from a SQLite server")

SECRET = "copy-test-secret-0123456789abcdef0123"
CTL = os.environ.get("PARLEY_BIN", str(REPO / "build" / "bin")) + "/parleyctl"
TABLES = ["users", "sessions", "ws_tickets", "refresh_rotated", "rate_limits",
          "email_codes", "phone_codes", "channels", "channel_members", "messages", "reactions", "files",
          "notifications", "presence", "presence_state", "presence_sockets", "events",
          "outgoing_webhooks", "outgoing_webhook_deliveries", "outgoing_webhook_cursor",
          "audit_log", "invites", "api_tokens", "webhooks", "message_edits", "pins",
          "thread_follows"]


def ctl(server, *args):
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=120,
                          env=dict(os.environ,
                                   PARLEY_CONFIG=os.path.join(server.var, "parley.conf"),
                                   PARLEY_JWT_SECRET=SECRET))


def pg_count(url, table):
    """Rows of `table` in the PostgreSQL database `url`."""
    pg = pg_util.PgConnection(url)
    try:
        return pg.execute('SELECT count(*) FROM "%s"' % table).fetchone()[0]
    finally:
        pg.close()


def views(api, users, channel_ids):
    """Everything a client reads, per user: the channel list with unread
    counts, each channel's history (or its refusal), notifications,
    search hits, the replayed event stream from 0."""
    out = {}
    for u in users:
        v = {"channels": sorted(api.channels(u.token), key=lambda c: c["id"])}
        for ch in channel_ids:
            r = api.history(u.token, ch, limit=200)
            v["history %d" % ch] = (r.status_code, r.json())
        v["notifications"] = api.get("/api/notifications", token=u.token).json()
        r = api.get("/api/messages/search", token=u.token, params={"q": "pineapple"})
        assert r.status_code == 200, r.text
        v["search"] = [m["id"] for m in r.json()["messages"]]
        r = api.get("/api/events", token=u.token, params={"since": 0, "timeout": 0})
        assert r.status_code == 200, r.text
        v["events"] = r.json()
        v["me"] = api.get("/api/users/me", token=u.token).json()
        out[u.username] = v
    return out


def make_history(api):
    alice, bob, carol = (make_user(api, p) for p in ("cpa", "cpb", "cpc"))
    pub = api.create_channel(alice.token, unique_channel("cp"))["id"]
    priv = api.create_channel(alice.token, unique_channel("cq"), kind="private",
                              members=[bob.id])["id"]
    dm = api.post("/api/channels/dm", {"user_ids": [carol.id]}, token=bob.token).json()["id"]
    assert api.post("/api/channels/%d/join" % pub, token=carol.token).status_code == 200
    first = api.send(alice.token, pub, "pineapple for @%s" % bob.username)
    api.send(bob.token, pub, "a pineapple reply", reply_to=first["id"])
    edited = api.send(carol.token, pub, "typo here")
    assert api.request("PATCH", "/api/messages/%d" % edited["id"], token=carol.token,
                       json_body={"content": "pineapple, fixed"}).status_code == 200
    api.send(alice.token, priv, "private pineapple, not for carol")
    api.send(bob.token, dm, "hello carol 🍍")
    assert api.request("PUT", "/api/messages/%d/reactions/%%F0%%9F%%8D%%8D" % first["id"],
                       token=carol.token).status_code == 204
    assert api.post("/api/channels/%d/read" % pub, {"message_id": first["id"]},
                    token=bob.token).status_code == 204
    api.send(alice.token, pub, "more")
    # a file attached to a message (its row moves; files_dir is the
    # operator's to move: README)
    r = requests.post(api.base + "/api/files", files={"file": ("p.txt", b"pineapple notes")},
                      headers={"Authorization": "Bearer " + alice.token}, timeout=30)
    assert r.status_code == 201, r.text
    api.send(alice.token, pub, "notes attached", attachments=[r.json()["id"]])
    # an outgoing webhook (a public numeric address: no DNS); its cursor row
    r = api.post("/api/channels/%d/outgoing-webhooks" % pub, {"url": "http://93.184.216.34/cp"},
                 token=alice.token)
    assert r.status_code == 201, r.text
    gone = api.send(alice.token, pub, "deleted at the top")
    assert api.request("DELETE", "/api/messages/%d" % gone["id"],
                       token=alice.token).status_code == 204
    return [alice, bob, carol], [pub, priv, dm], gone["id"]


def test_copy_to_postgres_loses_nothing():
    env = {"PARLEY_JWT_SECRET": SECRET}
    with start_server(env_extra=env) as old:
        api = Api(old.base)
        users, channels, top_deleted = make_history(api)
        login = api.post("/api/auth/login", {"username": users[0].username,
                                             "password": users[0].password}).json()
        before = views(api, users, channels)
        url = pg_util.cluster().new_database()

        r = ctl(old, "copy-to-postgres", old.db, url)
        assert r.returncode == 0, r.stdout + r.stderr
        counts = dict(line.split() for line in r.stdout.splitlines()[:-1])
        assert list(counts) == TABLES
        assert int(counts["messages"]) == 8 and int(counts["files"]) == 1 and int(counts["users"]) == 3
        assert int(counts["events"]) > 10
        assert int(counts["outgoing_webhooks"]) == 1 and int(counts["outgoing_webhook_cursor"]) == 1

        # a second copy into the same database is refused and changes nothing
        r2 = ctl(old, "copy-to-postgres", old.db, url)
        assert r2.returncode == 1 and "not empty" in r2.stderr, r2.stderr
        assert {t: pg_count(url, t) for t in TABLES} == {t: int(n) for t, n in counts.items()}

    with start_server(env_extra=env, db_url=url) as new:
        api = Api(new.base)
        # the same tokens, sessions, and answers
        assert views(api, users, channels) == before
        # passwords (argon2id strings) and refresh tokens came along
        assert api.login(users[1].username, users[1].password)
        r = api.post("/api/auth/refresh", {"refresh_token": login["refresh_token"]})
        assert r.status_code == 200, r.text
        # ids are never reused: not even the deleted message's
        msg = api.send(users[0].token, channels[0], "after the move")
        assert msg["id"] > top_deleted
        ev = api.get("/api/events", token=users[0].token,
                     params={"since": before[users[0].username]["events"]["last_event_id"],
                             "timeout": 0}).json()
        assert [e["type"] for e in ev["events"]] == ["message.created"]
        assert ev["events"][0]["message"]["id"] == msg["id"]


def test_copy_refuses_bad_targets(tmp_path):
    with start_server() as old:
        api = Api(old.base)
        make_user(api, "cpr")
        # not a PostgreSQL URL, not a readable file
        r = ctl(old, "copy-to-postgres", old.db, str(tmp_path / "x.db"))
        assert r.returncode == 1 and "usage" in r.stderr, r.stderr
        r = ctl(old, "copy-to-postgres", str(tmp_path / "missing.db"),
                pg_util.cluster().new_database())
        assert r.returncode == 1 and "cannot read" in r.stderr
        assert not (tmp_path / "missing.db").exists()
        # a table parley does not know: refused, the target left empty
        side = pg_util.connect(old.db, readonly=False)
        try:
            side.execute("CREATE TABLE my_notes (x)")
            side.commit()
        finally:
            side.close()
        url = pg_util.cluster().new_database()
        r = ctl(old, "copy-to-postgres", old.db, url)
        assert r.returncode == 1 and "my_notes" in r.stderr, r.stderr
        assert all(pg_count(url, t) == 0 for t in TABLES)
