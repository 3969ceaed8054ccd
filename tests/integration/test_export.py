"""Data export (issue 16): GET /api/users/me/export streams the caller's
data as a JSON attachment; parleyctl export-user / export-channel write
the same documents for operators. Checks what is in them and, as much,
what never is: other people's messages, channels the user cannot read."""

import datetime
import json
import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import requests

from conftest import start_server
from helpers import (Api, PASSWORD, assert_error, assert_json, make_user,
                     unique_channel)

REPO = Path(__file__).resolve().parents[2]
THUMBS = "\U0001F44D"


def parleyctl(srv, *args):
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(srv.var, "parley.conf"))
    return subprocess.run([str(REPO / "build/bin/parleyctl")] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def export(api, token):
    return api.get("/api/users/me/export", token=token)


def react(api, token, mid, emoji):
    r = api.request("PUT", "/api/messages/%d/reactions/%s" % (mid, urllib.parse.quote(emoji, safe="")),
                    token=token)
    assert r.status_code == 204, r.text


@pytest.fixture(scope="module")
def world():
    """A server (export limit 2 per 5 s) with: alice in a public channel and
    a private one with bob; bob alone in a private channel; alice removed
    from a second private channel after posting there; a file; reactions;
    more than one page (200) of alice's messages."""
    with start_server(extra_conf="export_limit = 2\nexport_window = 5\n") as srv:
        api = Api(srv.base)
        w = type("W", (), {})()
        w.srv, w.api = srv, api
        w.alice, w.bob = make_user(api, "exa"), make_user(api, "exb")
        w.pub = api.create_channel(w.alice.token, unique_channel("expub"))
        w.priv = api.create_channel(w.alice.token, unique_channel("expriv"), kind="private")
        r = api.post("/api/channels/%d/members" % w.priv["id"], {"user_id": w.bob.id},
                     token=w.alice.token)
        assert r.status_code == 201, r.text
        w.bobs = api.create_channel(w.bob.token, unique_channel("exbob"), kind="private")
        w.left = api.create_channel(w.bob.token, unique_channel("exleft"), kind="private")
        r = api.post("/api/channels/%d/members" % w.left["id"], {"user_id": w.alice.id},
                     token=w.bob.token)
        assert r.status_code == 201, r.text
        w.m_left = api.send(w.alice.token, w.left["id"], "alice wrote this before removal")
        # a thread there alice follows by replying: gone from her export with the channel
        w.m_left_root = api.send(w.bob.token, w.left["id"], "bob's question before removal")
        api.send(w.alice.token, w.left["id"], "alice answered before removal",
                 reply_to=w.m_left_root["id"])
        r = api.request("DELETE", "/api/channels/%d/members/%d" % (w.left["id"], w.alice.id),
                        token=w.bob.token)
        assert r.status_code == 204, r.text
        w.m_pub = [api.send(w.alice.token, w.pub["id"], "pub %d" % i) for i in range(230)]
        r = api.request("PUT", "/api/messages/%d/follow" % w.m_pub[0]["id"], token=w.alice.token)
        assert r.status_code == 204, r.text
        w.m_priv = api.send(w.alice.token, w.priv["id"], "alice private \"quoted\" \u00e9")
        w.m_bob_priv = api.send(w.bob.token, w.priv["id"], "bob in shared private")
        w.m_bob_secret = api.send(w.bob.token, w.bobs["id"], "bob secret")
        react(api, w.alice.token, w.m_bob_priv["id"], THUMBS)
        react(api, w.alice.token, w.m_pub[0]["id"], THUMBS)
        react(api, w.alice.token, w.m_pub[0]["id"], "x")
        react(api, w.bob.token, w.m_priv["id"], "y")
        r = requests.post(srv.base + "/api/files", files={"file": ("notes.txt", b"hello", "text/plain")},
                          headers={"Authorization": "Bearer " + w.alice.token}, timeout=30)
        assert r.status_code == 201, r.text
        w.file = r.json()
        w.m_att = api.send(w.alice.token, w.priv["id"], "with a file", attachments=[w.file["id"]])
        yield w


def test_user_export_contents(world):
    w = world
    r = export(w.api, w.alice.token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    disp = r.headers["Content-Disposition"]
    assert disp in ('attachment; filename="parley-export-%s-%s.json"' % (w.alice.username, d)
                    for d in (day, (datetime.datetime.now(datetime.timezone.utc)
                                    - datetime.timedelta(minutes=5)).strftime("%Y-%m-%d")))
    doc = r.json()
    assert doc["format"] == "parley-user-export/1"
    assert doc["user"]["id"] == w.alice.id and doc["user"]["username"] == w.alice.username
    assert "phone" in doc["user"]        # the owner's view
    # memberships: the channels alice is in now
    ms = {m["channel_id"]: m for m in doc["memberships"]}
    assert set(ms) == {w.pub["id"], w.priv["id"]}
    assert ms[w.priv["id"]]["name"] == w.priv["name"] and ms[w.priv["id"]]["kind"] == "private"
    assert ms[w.pub["id"]]["role"] == "owner"
    # messages: all of hers she can still read (over one internal page), with channel names
    ids = [m["id"] for m in doc["messages"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert set(ids) == {m["id"] for m in w.m_pub} | {w.m_priv["id"], w.m_att["id"]}
    by_id = {m["id"]: m for m in doc["messages"]}
    assert by_id[w.m_priv["id"]]["content"] == w.m_priv["content"]
    assert by_id[w.m_priv["id"]]["channel_name"] == w.priv["name"]
    assert by_id[w.m_pub[5]["id"]]["channel_name"] == w.pub["name"]
    # never others' messages, never a channel she cannot read (the one she was removed from)
    text = r.text
    assert "bob secret" not in text and "bob in shared private" not in text
    assert "before removal" not in text and w.bobs["name"] not in text and w.left["name"] not in text
    # reactions she made (not bob's), files she uploaded
    got = sorted((x["message_id"], x["emoji"]) for x in doc["reactions"])
    assert got == sorted([(w.m_bob_priv["id"], THUMBS), (w.m_pub[0]["id"], THUMBS),
                          (w.m_pub[0]["id"], "x")])
    assert [f["id"] for f in doc["files"]] == [w.file["id"]]
    assert doc["files"][0]["name"] == "notes.txt" and doc["files"][0]["size"] == 5
    assert doc["files"][0]["message_id"] == w.m_att["id"]
    assert isinstance(doc["notifications"], list)
    # the threads she follows, only where she can still read
    follows = {(f["message_id"], f["following"]) for f in doc["thread_follows"]}
    assert (w.m_pub[0]["id"], True) in follows
    assert w.m_left_root["id"] not in {f["message_id"] for f in doc["thread_follows"]}


def test_export_needs_auth_and_is_rate_limited(world):
    w = world
    assert_error(w.api.get("/api/users/me/export"), 401, "unauthorized")
    assert_error(w.api.get("/api/users/me/export", token="bad.token.here"), 401, "unauthorized")
    carol = make_user(w.api, "exc")
    for _ in range(2):   # export_limit = 2
        assert export(w.api, carol.token).status_code == 200
    r = export(w.api, carol.token)
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    # another user's limit is their own
    assert export(w.api, make_user(w.api, "exd").token).status_code == 200


def test_parleyctl_export_user_matches(world):
    w = world
    r = parleyctl(w.srv, "export-user", w.bob.username)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["format"] == "parley-user-export/1" and doc["user"]["id"] == w.bob.id
    ids = {m["id"] for m in doc["messages"]}
    assert ids == {w.m_bob_priv["id"], w.m_bob_secret["id"], w.m_left_root["id"]}
    assert {m["channel_id"] for m in doc["memberships"]} == {w.priv["id"], w.bobs["id"], w.left["id"]}
    api_doc = export(w.api, w.bob.token).json()
    for key in ("user", "memberships", "messages", "reactions", "files", "notifications",
                "thread_follows"):
        assert api_doc[key] == doc[key], key
    bad = parleyctl(w.srv, "export-user", "no-such-user-xyz")
    assert bad.returncode != 0 and bad.stdout == ""


def test_parleyctl_export_channel(world):
    w = world
    r = parleyctl(w.srv, "export-channel", str(w.priv["id"]))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["format"] == "parley-channel-export/1"
    assert doc["channel"]["id"] == w.priv["id"] and doc["channel"]["kind"] == "private"
    assert {(m["user_id"], m["username"]) for m in doc["members"]} == {
        (w.alice.id, w.alice.username), (w.bob.id, w.bob.username)}
    msgs = {m["id"]: m for m in doc["messages"]}
    assert set(msgs) == {w.m_priv["id"], w.m_bob_priv["id"], w.m_att["id"]}
    assert msgs[w.m_priv["id"]]["username"] == w.alice.username
    assert msgs[w.m_priv["id"]]["content"] == w.m_priv["content"]
    assert msgs[w.m_priv["id"]]["reactions"] == [{"emoji": "y", "user_id": w.bob.id,
                                                 "username": w.bob.username}]
    assert msgs[w.m_bob_priv["id"]]["reactions"][0]["username"] == w.alice.username
    assert msgs[w.m_priv["id"]]["attachments"] == []
    att = msgs[w.m_att["id"]]["attachments"]
    assert [(a["id"], a["name"], a["size"]) for a in att] == [(w.file["id"], "notes.txt", 5)]
    # over a page of messages in the public channel
    pub = json.loads(parleyctl(w.srv, "export-channel", str(w.pub["id"])).stdout)
    assert [m["id"] for m in pub["messages"]] == [m["id"] for m in w.m_pub]
    for bad in ("999999", "abc"):
        r = parleyctl(w.srv, "export-channel", bad)
        assert r.returncode != 0 and r.stdout == ""
