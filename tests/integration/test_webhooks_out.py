"""Outgoing webhooks (issue 16): management through /api/channels/{id}/
outgoing-webhooks, and delivery by parley-hookd to a real local receiver
(http.server in a thread): the signature, trigger words, retries with
backoff (500, 500, 200), no retry on 4xx, timeouts, the SSRF guard at
creation and at delivery, permissions, and two workers that never deliver
one delivery twice.

The module runs its own server: two parley-hookd processes
(PARLEY_HOOKD_PROCS=2), 127.0.0.1 in outgoing_webhook_allow_hosts so the
receiver can be reached, short timeouts and a 100 ms backoff.
"""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import start_server
from helpers import Api, assert_error, make_user, unique_channel
import rt_util

MAX_ATTEMPTS = 4
CONF = ("outgoing_webhook_allow_hosts = 127.0.0.1\n"
        "outgoing_webhook_backoff_ms = 100\n"
        "outgoing_webhook_timeout_ms = 1000\n"
        "outgoing_webhook_connect_timeout_ms = 1000\n"
        "outgoing_webhook_max_attempts = %d\n"
        "outgoing_webhook_poll_ms = 50\n" % MAX_ATTEMPTS)


class Receiver:
    """A local webhook receiver. Paths choose the behaviour:
    /ok/...        200
    /flaky/N/...   500 for the first N hits of each delivery, then 200
    /bad/...       400
    /slow/...      answers after 3 s (past the 1 s timeout)"""

    def __init__(self):
        self.hits = []   # (path, headers dict, raw body)
        self.lock = threading.Lock()
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with recv.lock:
                    recv.hits.append((self.path, dict(self.headers), body))
                    seen = sum(1 for p, h, _ in recv.hits if p == self.path and
                               h.get("X-Parley-Delivery") == self.headers.get("X-Parley-Delivery"))
                parts = self.path.split("/")
                status = 200
                if parts[1] == "flaky" and seen <= int(parts[2]):
                    status = 500
                elif parts[1] == "bad":
                    status = 400
                elif parts[1] == "slow":
                    time.sleep(3)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def on(self, path):
        with self.lock:
            return [(h, b) for p, h, b in self.hits if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def hsrv():
    with start_server(CONF, env_extra={"PARLEY_HOOKD_PROCS": "2"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def hapi(hsrv):
    return Api(hsrv.base)


@pytest.fixture(scope="module")
def recv():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def owner(hapi):
    return make_user(hapi, "ho")


@pytest.fixture(scope="module")
def member(hapi):
    return make_user(hapi, "hm")


def hooks_path(cid, *rest):
    return "/api/channels/%d/outgoing-webhooks" % cid + "".join("/%s" % r for r in rest)


def create_hook(api, token, cid, url, **extra):
    body = {"url": url}
    body.update(extra)
    return api.post(hooks_path(cid), body, token=token)


def deliveries(api, token, cid, wid):
    r = api.get(hooks_path(cid, wid, "deliveries"), token=token)
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]


def wait_for(fn, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.1)


def setup_hook(api, user, recv, path, **extra):
    ch = api.create_channel(user.token)
    r = create_hook(api, user.token, ch["id"], recv.url(path), **extra)
    assert r.status_code == 201, r.text
    return ch, r.json()


def test_create_list_deliver_signed(hapi, owner, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/ok/signed", name="ci bot")
    assert len(hook["secret"]) == 64 and all(c in "0123456789abcdef" for c in hook["secret"])
    assert hook["name"] == "ci bot" and hook["trigger_words"] == []
    assert hook["url"] == recv.url("/ok/signed") and hook["channel_id"] == ch["id"]
    r = hapi.get(hooks_path(ch["id"]), token=owner.token)
    assert r.status_code == 200, r.text
    listed = r.json()["outgoing_webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]

    msg = hapi.send(owner.token, ch["id"], "hello hooks")
    hits = wait_for(lambda: recv.on("/ok/signed"), what="the delivery")
    headers, body = hits[0]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Parley-Event"] == "message.created"
    expected = hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Parley-Signature"] == "sha256=" + expected
    wrong = hmac.new(b"not the secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Parley-Signature"] != "sha256=" + wrong
    p = json.loads(body)
    assert p["event"] == "message.created"
    assert p["delivery_id"] == int(headers["X-Parley-Delivery"])
    assert p["timestamp"] == int(headers["X-Parley-Timestamp"])
    assert abs(p["timestamp"] - time.time()) < 60
    assert p["webhook_id"] == hook["id"] and p["trigger_word"] is None
    m = p["message"]
    assert m["id"] == msg["id"] and m["channel_id"] == ch["id"]
    assert m["channel_name"] == ch["name"] and p["channel"]["name"] == ch["name"]
    assert m["user_id"] == owner.id and m["username"] == owner.username
    assert m["content"] == "hello hooks" and m["created_at"] == msg["created_at"]

    log = wait_for(lambda: [d for d in deliveries(hapi, owner.token, ch["id"], hook["id"])
                            if d["status"] == "delivered"], what="delivered in the log")
    d = log[0]
    assert d["message_id"] == msg["id"] and d["attempts"] == 1 and d["last_status"] == 200
    assert d["delivered_at"] and d["next_attempt_at"] is None and d["last_error"] is None

    r = hapi.request("DELETE", hooks_path(ch["id"], hook["id"]), token=owner.token)
    assert r.status_code == 204, r.text
    r = hapi.get(hooks_path(ch["id"]), token=owner.token)
    assert r.json()["outgoing_webhooks"] == []
    r = hapi.request("DELETE", hooks_path(ch["id"], hook["id"]), token=owner.token)
    assert_error(r, 404, "not_found")
    hapi.send(owner.token, ch["id"], "after delete")
    time.sleep(1.0)
    assert len(recv.on("/ok/signed")) == 1


def test_trigger_words_first_word(hapi, owner, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/ok/trigger", trigger_words=["!deploy", "hey"])
    assert hook["trigger_words"] == ["!deploy", "hey"]
    hapi.send(owner.token, ch["id"], "hello there")
    hapi.send(owner.token, ch["id"], "please !deploy now")
    hapi.send(owner.token, ch["id"], "!deploy prod")
    hapi.send(owner.token, ch["id"], "HEY you")
    hapi.send(owner.token, ch["id"], "heyyou")
    wait_for(lambda: len(recv.on("/ok/trigger")) >= 2, what="two triggered deliveries")
    time.sleep(1.0)
    hits = recv.on("/ok/trigger")
    assert len(hits) == 2, [json.loads(b)["message"]["content"] for _, b in hits]
    got = sorted((json.loads(b)["message"]["content"], json.loads(b)["trigger_word"]) for _, b in hits)
    assert got == [("!deploy prod", "!deploy"), ("HEY you", "hey")]


def test_retry_500_twice_then_delivered(hapi, owner, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/flaky/2/x")
    msg = hapi.send(owner.token, ch["id"], "flaky")
    log = wait_for(lambda: [d for d in deliveries(hapi, owner.token, ch["id"], hook["id"])
                            if d["status"] == "delivered"], what="delivered after retries")
    assert log[0]["attempts"] == 3 and log[0]["last_status"] == 200
    assert log[0]["message_id"] == msg["id"]
    hits = recv.on("/flaky/2/x")
    assert len(hits) == 3
    assert len({h["X-Parley-Delivery"] for h, _ in hits}) == 1
    assert [json.loads(b)["attempt"] for _, b in hits] == [1, 2, 3]


def test_4xx_not_retried(hapi, owner, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/bad/x")
    hapi.send(owner.token, ch["id"], "bad")
    log = wait_for(lambda: [d for d in deliveries(hapi, owner.token, ch["id"], hook["id"])
                            if d["status"] == "failed"], what="failed")
    assert log[0]["attempts"] == 1 and log[0]["last_status"] == 400
    assert "400" in log[0]["last_error"]
    time.sleep(0.8)
    assert len(recv.on("/bad/x")) == 1


def test_timeout_retried_then_failed(hapi, owner, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/slow/x")
    hapi.send(owner.token, ch["id"], "slow")
    d = wait_for(lambda: deliveries(hapi, owner.token, ch["id"], hook["id"]), what="a delivery")[0]
    d = wait_for(lambda: [x for x in deliveries(hapi, owner.token, ch["id"], hook["id"])
                          if x["attempts"] >= 1 and x["last_error"]], what="a timed-out attempt")[0]
    assert "timeout" in d["last_error"].lower() or "timed out" in d["last_error"].lower(), d
    assert d["last_status"] is None
    d = wait_for(lambda: [x for x in deliveries(hapi, owner.token, ch["id"], hook["id"])
                          if x["status"] == "failed"], timeout=30, what="gave up")[0]
    assert d["attempts"] == MAX_ATTEMPTS and d["next_attempt_at"] is None


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/",
    "http://127.0.0.2/", "http://localhost:9/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://[fd00::1]/", "http://0.0.0.0/", "http://224.0.0.1/", "http://[::ffff:127.0.0.1]/",
])
def test_ssrf_refused_at_creation(hapi, owner, url):
    ch = hapi.create_channel(owner.token)
    r = create_hook(hapi, owner.token, ch["id"], url)
    assert_error(r, 400, "bad_request")
    assert "may not reach" in r.json()["error"]["message"], r.text
    assert hapi.get(hooks_path(ch["id"]), token=owner.token).json()["outgoing_webhooks"] == []


@pytest.mark.parametrize("url", [
    "ftp://example.com/", "file:///etc/passwd", "http://user:pw@127.0.0.1/", "http://",
    "gopher://127.0.0.1:70/", "http://127.0.0.1:99999/", "http://exa mple.com/", "",
    "javascript:alert(1)", "http://127.0.0.1/#frag",
])
def test_bad_urls(hapi, owner, url):
    ch = hapi.create_channel(owner.token)
    assert_error(create_hook(hapi, owner.token, ch["id"], url), 400, "bad_request")


def test_loopback_refused_without_allow_list():
    """The same URL the module's server accepts is refused by a server
    without outgoing_webhook_allow_hosts."""
    with start_server("", env_extra={"PARLEY_HOOKD_PROCS": "0"}) as srv:
        api = Api(srv.base)
        u = make_user(api, "hs")
        ch = api.create_channel(u.token)
        r = create_hook(api, u.token, ch["id"], "http://127.0.0.1:8080/hook")
        assert_error(r, 400, "bad_request")
        assert "loopback" in r.json()["error"]["message"]


def test_refused_at_delivery_when_host_resolves_to_loopback(hsrv, hapi, owner, recv):
    """DNS may change after creation: a hook whose host now resolves to
    loopback (and is not in the allow-list) is refused at delivery."""
    ch, hook = setup_hook(hapi, owner, recv, "/ok/rebind")
    rt_util.sql(hsrv.db, "UPDATE outgoing_webhooks SET url = '%s' WHERE id = %d"
                % ("http://localhost:%d/ok/rebind" % recv.port, hook["id"]))
    hapi.send(owner.token, ch["id"], "rebind")
    d = wait_for(lambda: [x for x in deliveries(hapi, owner.token, ch["id"], hook["id"])
                          if x["status"] == "failed"], what="refused")[0]
    assert "loopback" in d["last_error"] and d["last_status"] is None, d
    assert recv.on("/ok/rebind") == []


def test_permissions(hapi, owner, member, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/ok/perm")
    r = hapi.post("/api/channels/%d/join" % ch["id"], token=member.token)
    assert r.status_code == 200, r.text
    assert_error(create_hook(hapi, member.token, ch["id"], recv.url("/ok/p2")), 403, "forbidden")
    assert_error(hapi.get(hooks_path(ch["id"]), token=member.token), 403, "forbidden")
    assert_error(hapi.get(hooks_path(ch["id"], hook["id"], "deliveries"), token=member.token),
                 403, "forbidden")
    assert_error(hapi.request("DELETE", hooks_path(ch["id"], hook["id"]), token=member.token),
                 403, "forbidden")
    # a private channel the caller cannot see: 404, like a missing one
    priv = hapi.create_channel(owner.token, kind="private")
    assert_error(hapi.get(hooks_path(priv["id"]), token=member.token), 404, "not_found")
    assert_error(create_hook(hapi, member.token, priv["id"], recv.url("/ok/p3")), 404, "not_found")
    # a hook of another channel is not reachable through this one
    other, _ = setup_hook(hapi, owner, recv, "/ok/perm2")
    assert_error(hapi.request("DELETE", hooks_path(other["id"], hook["id"]), token=owner.token),
                 404, "not_found")
    # promoted to admin: may manage
    r = hapi.post("/api/channels/%d/members" % ch["id"], {"user_id": member.id, "role": "admin"},
                  token=owner.token)
    assert r.status_code in (200, 201), r.text
    r = create_hook(hapi, member.token, ch["id"], recv.url("/ok/p4"))
    assert r.status_code == 201, r.text


def test_private_channel_hooks_and_channel_delete(hsrv, hapi, owner, recv):
    priv, hook = None, None
    priv = hapi.create_channel(owner.token, kind="private")
    r = create_hook(hapi, owner.token, priv["id"], recv.url("/ok/private"))
    assert r.status_code == 201, r.text
    hook = r.json()
    public = hapi.create_channel(owner.token)
    hapi.send(owner.token, public["id"], "elsewhere")
    hapi.send(owner.token, priv["id"], "secret plans")
    hits = wait_for(lambda: recv.on("/ok/private"), what="the private delivery")
    time.sleep(0.5)
    hits = recv.on("/ok/private")
    assert [json.loads(b)["message"]["content"] for _, b in hits] == ["secret plans"]
    r = hapi.request("DELETE", "/api/channels/%d" % priv["id"], token=owner.token)
    assert r.status_code == 204, r.text
    rows = rt_util.sql(hsrv.db, "SELECT count(*) FROM outgoing_webhooks WHERE id = %d" % hook["id"])
    assert rows[0][0] == 0


def test_two_workers_never_deliver_twice(hapi, owner, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/ok/dup")
    n = 30
    for i in range(n):
        hapi.send(owner.token, ch["id"], "m%d" % i)
    wait_for(lambda: len([d for d in deliveries(hapi, owner.token, ch["id"], hook["id"])
                          if d["status"] == "delivered"]) == n, timeout=30, what="all delivered")
    time.sleep(0.5)
    ids = [h["X-Parley-Delivery"] for h, _ in recv.on("/ok/dup")]
    assert len(ids) == n and len(set(ids)) == n
    contents = sorted(json.loads(b)["message"]["content"] for _, b in recv.on("/ok/dup"))
    assert contents == sorted("m%d" % i for i in range(n))


def test_validation(hapi, owner, recv):
    ch = hapi.create_channel(owner.token)
    for body in ({"url": 5}, {"url": recv.url("/ok/v"), "trigger_words": "x"},
                 {"url": recv.url("/ok/v"), "trigger_words": [1]},
                 {"url": recv.url("/ok/v"), "trigger_words": ["two words"]},
                 {"url": recv.url("/ok/v"), "trigger_words": [""]},
                 {"url": recv.url("/ok/v"), "trigger_words": ["w"] * 11},
                 {"url": recv.url("/ok/v"), "name": "x" * 81},
                 {"url": recv.url("/ok/v"), "name": "a\nb"}, {}):
        assert_error(hapi.post(hooks_path(ch["id"]), body, token=owner.token), 400, "bad_request")
    for i in range(10):
        assert create_hook(hapi, owner.token, ch["id"], recv.url("/ok/v%d" % i)).status_code == 201
    assert_error(create_hook(hapi, owner.token, ch["id"], recv.url("/ok/v10")), 409, "conflict")
    r = hapi.get(hooks_path(ch["id"], 1, "deliveries") + "?limit=0", token=owner.token)
    assert_error(r, 400, "bad_request")


def test_delivery_log_pages(hapi, owner, recv):
    ch, hook = setup_hook(hapi, owner, recv, "/ok/pages")
    for i in range(3):
        hapi.send(owner.token, ch["id"], "page %d" % i)
    wait_for(lambda: len(deliveries(hapi, owner.token, ch["id"], hook["id"])) == 3, what="three")
    all_ids = [d["id"] for d in deliveries(hapi, owner.token, ch["id"], hook["id"])]
    assert all_ids == sorted(all_ids, reverse=True)
    r = hapi.get(hooks_path(ch["id"], hook["id"], "deliveries") + "?limit=1", token=owner.token)
    assert [d["id"] for d in r.json()["deliveries"]] == all_ids[:1]
    r = hapi.get(hooks_path(ch["id"], hook["id"], "deliveries") + "?before=%d" % all_ids[0],
                 token=owner.token)
    assert [d["id"] for d in r.json()["deliveries"]] == all_ids[1:]
    assert_error(hapi.get(hooks_path(ch["id"], hook["id"] + 100000, "deliveries"),
                          token=owner.token), 404, "not_found")


def test_bounded_queue_drops_oldest():
    """queue_max pending deliveries per hook: a new one drops the oldest
    pending one (failed, "dropped: queue full")."""
    conf = ("outgoing_webhook_allow_hosts = 127.0.0.1\noutgoing_webhook_queue_max = 2\n"
            "outgoing_webhook_backoff_ms = 600000\noutgoing_webhook_poll_ms = 50\n")
    r = Receiver()
    try:
        with start_server(conf) as srv:
            api = Api(srv.base)
            u = make_user(api, "hq")
            ch, hook = setup_hook(api, u, r, "/flaky/1000/q")
            msgs = [api.send(u.token, ch["id"], "q%d" % i)["id"] for i in range(4)]

            def settled():
                ds = deliveries(api, u.token, ch["id"], hook["id"])
                return len(ds) == 4 and all(d["attempts"] >= 1 or d["status"] == "failed"
                                            for d in ds) and ds
            ds = wait_for(settled, what="four deliveries")
            by_msg = {d["message_id"]: d for d in ds}
            dropped = [m for m in msgs if by_msg[m]["status"] == "failed"]
            pending = [m for m in msgs if by_msg[m]["status"] == "pending"]
            assert dropped == msgs[:2] and pending == msgs[2:], ds
            assert all(by_msg[m]["last_error"] == "dropped: queue full" for m in dropped)
    finally:
        r.close()
