"""Incoming webhooks (issue 16): made by a channel's owner or admins, a
secret URL /hooks/<secret> shown once, JSON and Slack-style form posts
delivered live as the webhook's own bot, revocation (404), the rate limit
(429 with Retry-After), and malformed bodies (400/413/415). Both engines
(PARLEY_ENGINE=postgres) and every front (PARLEY_FRONTEND)."""

import json
import urllib.parse

import pytest
import requests

from conftest import NO_WS_DAEMON, start_server
from helpers import Api, assert_error, assert_json, assert_time, make_user
from rt_util import sql

needs_ws = pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon under this front")
HOOK_KEYS = {"id", "channel_id", "name", "avatar_url", "user_id", "created_by", "created_at"}


def make_hook(api, user, channel_id, name="CI", **extra):
    r = api.post("/api/channels/%d/webhooks" % channel_id, dict(name=name, **extra), token=user.token)
    return assert_json(r, 201)


def hook_post(base, url, body=None, data=None, headers=None):
    if body is not None:
        return requests.post(base + url, json=body, timeout=15)
    return requests.post(base + url, data=data, headers=headers or {}, timeout=15)


def test_create_list_and_who_may(server, api, alice, bob, carol):
    ch = api.create_channel(alice.token, kind="private", members=[bob.id])
    hook = make_hook(api, alice, ch["id"], name="Build status", avatar_url="https://ci.example/a.png")
    assert set(hook) == HOOK_KEYS | {"url", "token"}, hook
    assert hook["url"] == "/hooks/" + hook["token"] and len(hook["token"]) == 43
    assert hook["created_by"] == alice.id and hook["channel_id"] == ch["id"]
    assert_time(hook["created_at"])
    listed = assert_json(api.get("/api/channels/%d/webhooks" % ch["id"], token=alice.token), 200)
    assert [set(h) for h in listed["webhooks"]] == [HOOK_KEYS]
    assert hook["token"] not in json.dumps(listed)
    stored = sql(server.db, "SELECT token_hash FROM webhooks WHERE id = ?", (hook["id"],))[0][0]
    assert hook["token"] not in stored and len(stored) == 64
    # its bot: a member with bot: true, named after the webhook
    members = assert_json(api.get("/api/channels/%d/members" % ch["id"], token=alice.token), 200)
    bots = [m["user"] for m in members["members"] if m["user"]["id"] == hook["user_id"]]
    assert len(bots) == 1 and bots[0]["bot"] is True and bots[0]["display_name"] == "Build status"
    # a plain member may not manage webhooks; an outsider does not see the channel
    assert_error(api.post("/api/channels/%d/webhooks" % ch["id"], {"name": "x"}, token=bob.token),
                 403, "forbidden")
    assert_error(api.get("/api/channels/%d/webhooks" % ch["id"], token=bob.token), 403, "forbidden")
    assert_error(api.post("/api/channels/%d/webhooks" % ch["id"], {"name": "x"}, token=carol.token),
                 404, "not_found")
    assert_error(api.request("DELETE", "/api/channels/%d/webhooks/%d" % (ch["id"], hook["id"]),
                             token=carol.token), 404, "not_found")


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": 3}, {"name": "x" * 65},
                                  {"name": "x", "avatar_url": "javascript:alert(1)"},
                                  {"name": "x", "avatar_url": 5}])
def test_create_refuses_bad_bodies(api, alice, body):
    ch = api.create_channel(alice.token)
    assert_error(api.post("/api/channels/%d/webhooks" % ch["id"], body, token=alice.token),
                 400, "bad_request")


@needs_ws
def test_json_and_form_posts_arrive_live_as_the_bot(server, api, alice, bob):
    ch = api.create_channel(alice.token, kind="private", members=[bob.id])
    hook = make_hook(api, alice, ch["id"], name="Deploys")
    ws = server.connect(bob.token)
    try:
        r = hook_post(server.base, hook["url"], {"text": "deploy 42 done @%s" % bob.username,
                                                 "username": "other", "icon_url": "https://x.example/i.png"})
        assert r.status_code == 200 and r.json() == {"ok": True}, r.text
        ev = ws.wait_for(lambda f: f.get("type") == "message.created", what="json post")
        assert ev["message"]["user_id"] == hook["user_id"]
        assert ev["message"]["content"] == "deploy 42 done @%s" % bob.username
        form = "payload=" + urllib.parse.quote_plus(json.dumps({"text": "form post & more"}))
        r = hook_post(server.base, hook["url"], data=form,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 200, r.text
        ev = ws.wait_for(lambda f: f.get("type") == "message.created", what="form post")
        assert ev["message"]["content"] == "form post & more"
        assert ev["message"]["user_id"] == hook["user_id"]
    finally:
        ws.close()
    # the mention notified bob, as any post does
    ns = assert_json(api.get("/api/notifications", token=bob.token), 200)["notifications"]
    assert any(n["kind"] == "mention" and n["message"]["channel_id"] == ch["id"] for n in ns)


def test_posts_without_a_socket_and_revocation(server, api, alice):
    ch = api.create_channel(alice.token)
    hook = make_hook(api, alice, ch["id"])
    assert hook_post(server.base, hook["url"], {"text": "one"}).status_code == 200
    hist = assert_json(api.history(alice.token, ch["id"]), 200)
    assert [(m["content"], m["user_id"]) for m in hist] == [("one", hook["user_id"])]
    assert api.request("DELETE", "/api/channels/%d/webhooks/%d" % (ch["id"], hook["id"]),
                       token=alice.token).status_code == 204
    r = hook_post(server.base, hook["url"], {"text": "two"})
    assert_error(r, 404, "not_found")
    assert_error(hook_post(server.base, "/hooks/" + "A" * 43, {"text": "x"}), 404, "not_found")
    assert len(assert_json(api.history(alice.token, ch["id"]), 200)) == 1
    assert_error(api.request("DELETE", "/api/channels/%d/webhooks/%d" % (ch["id"], hook["id"]),
                             token=alice.token), 404, "not_found")


@pytest.mark.parametrize("case", ["empty_text", "no_text", "text_number", "malformed", "not_object",
                                  "form_no_payload", "form_bad_escape", "form_bad_json",
                                  "text_plain", "huge", "username_number"])
def test_malformed_posts(server, api, alice, case):
    ch = api.create_channel(alice.token)
    hook = make_hook(api, alice, ch["id"])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    js = {"Content-Type": "application/json"}
    data, headers, status = {
        "empty_text": ('{"text":"   "}', js, 400),
        "no_text": ('{"username":"x"}', js, 400),
        "text_number": ('{"text":5}', js, 400),
        "malformed": ('{"text":', js, 400),
        "not_object": ('["text"]', js, 400),
        "form_no_payload": ("text=hello", form, 400),
        "form_bad_escape": ("payload=%ZZ", form, 400),
        "form_bad_json": ("payload=%7Bnope", form, 400),
        "text_plain": ("hello", {"Content-Type": "text/plain"}, 415),
        "huge": ('{"text":"' + "x" * (70 * 1024) + '"}', js, 413),
        "username_number": ('{"text":"x","username":1}', js, 400),
    }[case]
    r = hook_post(server.base, hook["url"], data=data.encode(), headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] in ("bad_request", "payload_too_large", "unsupported_media_type")
    assert assert_json(api.history(alice.token, ch["id"]), 200) == []


def test_rate_limit_per_webhook():
    with start_server(extra_conf="webhook_rate_limit = 2\nwebhook_rate_window = 600\n") as srv:
        api = Api(srv.base)
        u = make_user(api, "rl")
        ch = api.create_channel(u.token)
        a, b = make_hook(api, u, ch["id"], "a"), make_hook(api, u, ch["id"], "b")
        for _ in range(2):
            assert hook_post(srv.base, a["url"], {"text": "ok"}).status_code == 200
        r = hook_post(srv.base, a["url"], {"text": "too many"})
        assert_error(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 600
        # another webhook has its own counter
        assert hook_post(srv.base, b["url"], {"text": "ok"}).status_code == 200
        assert len(assert_json(api.history(u.token, ch["id"]), 200)) == 3
