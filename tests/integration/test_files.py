"""Files (issue 15, API.md "Files"): upload (multipart and raw), limits and
quota, content sniffing, who may download, attachments on messages in REST,
WebSocket, replay and the long poll, byte ranges and ETags, and collecting
what nothing uses.

Runs on every frontend: lighttpd answers with X-Sendfile, nginx with
X-Accel-Redirect, plain CGI (lighttpd mod_cgi, Apache) streams the bytes
itself (lib/file_send.h)."""
import hashlib
import os
import signal
import socket
import struct
import subprocess
import time
import zlib

import pytest
import requests


from conftest import FRONTEND, NO_WS_DAEMON, REPO, start_server
from helpers import WS, Api, assert_error, auth, db_count, make_user
from rt_util import sql

OFFLOADED = FRONTEND in ("lighttpd", "nginx")
# PARLEY_CTL_BIN as in scripts/serve.sh (check-bundle.sh: the bundle's, run
# in the older Debian's chroot).
CTL = os.environ.get("PARLEY_CTL_BIN") or os.path.join(
    os.environ.get("PARLEY_BIN", str(REPO / "build" / "bin")), "parleyctl")


def _png(width, height, idat):
    """A PNG of width x height 8-bit grey pixels from compressed rows."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack("!I", len(data)) + body + struct.pack("!I", zlib.crc32(body))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack("!IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def png(width=3, height=2):
    """A valid PNG of width x height flat grey pixels."""
    return _png(width, height,
                zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height))))


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


def upload(srv, token, data, name="f.bin", ctype="application/octet-stream", raw=False):
    h = auth(token) if token else {}
    if raw:
        h["Content-Type"] = ctype
        return requests.post(srv.base + "/api/files", params={"name": name}, data=data,
                             headers=h, timeout=30)
    return requests.post(srv.base + "/api/files", files={"file": (name, data, ctype)},
                         headers=h, timeout=30)


def uploaded(srv, token, data, **kw):
    r = upload(srv, token, data, **kw)
    assert r.status_code == 201, "upload: %d %s" % (r.status_code, r.text)
    return r.json()


def fetch(srv, token, fid, headers=None, **params):
    h = auth(token)
    h.update(headers or {})
    return requests.get(srv.base + "/api/files/%d" % fid, headers=h, params=params, timeout=30)


def blobs(srv):
    """Every file under the server's files_dir (the lock file aside)."""
    out = []
    for root, _dirs, names in os.walk(os.path.join(srv.var, "files")):
        out += [os.path.join(root, n) for n in names if n != ".lock"]
    return sorted(out)


def file_rows(srv):
    return db_count(srv.db, "files")


@pytest.fixture(scope="module")
def api(server):
    return Api(server.base)


# ---------------------------------------------------------------- upload

def test_multipart_upload_returns_the_file_object(server, api):
    u = make_user(api, "fu")
    data = png(5, 4)
    f = uploaded(server, u.token, data, name="photo.png", ctype="image/png")
    assert f["name"] == "photo.png"
    assert f["size"] == len(data)
    assert f["sha256"] == hashlib.sha256(data).hexdigest()
    assert f["content_type"] == "image/png"
    assert f["url"] == "/api/files/%d" % f["id"]
    assert f["created_at"].endswith("Z")
    r = fetch(server, u.token, f["id"])
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"].startswith("inline;")


def test_raw_upload_with_a_name(server, api):
    u = make_user(api, "fr")
    data = b"plain words and nothing else\n" * 100
    f = uploaded(server, u.token, data, name="notes.txt", ctype="text/plain", raw=True)
    assert (f["name"], f["size"], f["content_type"]) == ("notes.txt", len(data), "text/plain")
    r = fetch(server, u.token, f["id"])
    assert r.content == data
    # not in the inline list: a download
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "notes.txt" in r.headers["Content-Disposition"]


def test_a_large_upload_arrives_whole(server, api):
    u = make_user(api, "fl")
    data = os.urandom(3 * 1024 * 1024 + 17)
    f = uploaded(server, u.token, data, name="big.bin")
    assert f["size"] == len(data)
    assert f["sha256"] == hashlib.sha256(data).hexdigest()
    r = fetch(server, u.token, f["id"])
    assert r.status_code == 200 and len(r.content) == len(data)
    assert hashlib.sha256(r.content).hexdigest() == f["sha256"]


def test_same_bytes_twice_are_stored_once(server, api):
    u = make_user(api, "fd")
    data = os.urandom(4096)
    a = uploaded(server, u.token, data, name="a.bin")
    b = uploaded(server, u.token, data, name="b.bin")
    assert a["id"] != b["id"] and a["sha256"] == b["sha256"]
    named = [p for p in blobs(server) if os.path.basename(p) == a["sha256"]]
    assert len(named) == 1


def test_a_path_in_the_file_name_is_dropped(server, api):
    u = make_user(api, "fp")
    f = uploaded(server, u.token, b"x", name="C:\\Users\\me\\..\\secret.txt")
    assert f["name"] == "secret.txt"
    f = uploaded(server, u.token, b"x", name="ünïcødé 名前.txt")
    assert f["name"] == "ünïcødé 名前.txt"
    r = fetch(server, u.token, f["id"])
    assert "filename*=UTF-8''%C3%BCn%C3%AF" in r.headers["Content-Disposition"]


# ---------------------------------------------------------------- sniffing

def test_html_named_png_is_not_served_as_html_or_inline(server, api):
    u = make_user(api, "fs")
    f = uploaded(server, u.token, HTML, name="cat.png", ctype="image/png")
    assert f["content_type"] == "text/html"      # from the bytes, not the client
    r = fetch(server, u.token, f["id"])
    assert r.status_code == 200 and r.content == HTML
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    # not inline even when the client asks nothing special, and a
    # download=1 of an image is an attachment too
    p = uploaded(server, u.token, png(), name="real.png", ctype="image/png")
    r = fetch(server, u.token, p["id"], download=1)
    assert r.headers["Content-Disposition"].startswith("attachment;")


def test_svg_is_never_inline(server, api):
    u = make_user(api, "fv")
    svg = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
           b'<script>alert(1)</script></svg>')
    f = uploaded(server, u.token, svg, name="logo.svg", ctype="image/svg+xml")
    r = fetch(server, u.token, f["id"])
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in r.headers["Content-Security-Policy"]


# ---------------------------------------------------------------- abuse

def test_upload_needs_a_valid_token_and_stores_nothing_without(server, api):
    before_rows, before_blobs = file_rows(server), blobs(server)
    r = upload(server, None, b"anonymous")
    assert_error(r, 401, "unauthorized")
    r = upload(server, "not.a.token", b"forged")
    assert_error(r, 401, "unauthorized")
    assert file_rows(server) == before_rows and blobs(server) == before_blobs


def test_malformed_multipart_is_400_and_keeps_nothing(server, api):
    u = make_user(api, "fm")
    before_rows, before_blobs = file_rows(server), blobs(server)
    h = auth(u.token)
    cases = [
        # no boundary at all
        ("multipart/form-data", b"--x\r\n\r\nabc\r\n--x--\r\n"),
        # cut short: no closing delimiter
        ("multipart/form-data; boundary=XyZ",
         b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc"),
        # no part named file
        ("multipart/form-data; boundary=XyZ",
         b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nabc\r\n--XyZ--\r\n"),
        # two files
        ("multipart/form-data; boundary=XyZ",
         b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n1\r\n"
         b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n\r\n2\r\n"
         b"--XyZ--\r\n"),
        # headers that never end
        ("multipart/form-data; boundary=XyZ", b"--XyZ\r\n" + b"X-Pad: " + b"a" * 20000),
        # headers that end, but past the 8 KiB a part's headers may take
        ("multipart/form-data; boundary=XyZ", b"--XyZ\r\n" + b"X-Pad: " + b"a" * 20000 +
         b"\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--XyZ--\r\n"),
        # a control character in the file name
        ("multipart/form-data; boundary=XyZ",
         b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\x07b\"\r\n\r\n"
         b"1\r\n--XyZ--\r\n"),
    ]
    for ctype, body in cases:
        h["Content-Type"] = ctype
        r = requests.post(server.base + "/api/files", data=body, headers=h, timeout=30)
        assert_error(r, 400, "bad_request")
    r = requests.post(server.base + "/api/files", params={"name": "x" * 300}, data=b"abc",
                      headers=dict(auth(u.token), **{"Content-Type": "text/plain"}), timeout=30)
    assert_error(r, 400, "bad_request")
    assert file_rows(server) == before_rows and blobs(server) == before_blobs
    assert requests.get(server.base + "/api/health", timeout=5).status_code == 200


def test_file_ids_that_are_not_numbers_are_404(server, api):
    u = make_user(api, "fn")
    for path in ("/api/files/abc", "/api/files/0", "/api/files/-1",
                 "/api/files/99999999999999999999", "/api/files/999999"):
        r = requests.get(server.base + path, headers=auth(u.token), timeout=10)
        assert_error(r, 404, "not_found")


# ---------------------------------------------------------------- limits

LIMIT = 200000


@pytest.fixture(scope="module")
def small():
    """A server whose uploads stop at LIMIT bytes, with a quota of 2.5 of them."""
    with start_server(extra_conf="file_quota_bytes = %d\n" % (LIMIT * 5 // 2),
                      env_extra={"FILE_MAX_BYTES": str(LIMIT)}) as srv:
        yield srv


def test_over_the_size_limit_is_413_and_nothing_stays(small):
    api = Api(small.base)
    u = make_user(api, "fz")
    ok = uploaded(small, u.token, os.urandom(LIMIT), name="exact.bin")
    assert ok["size"] == LIMIT
    rows, files = file_rows(small), blobs(small)
    # by Content-Length, raw and multipart
    for raw in (True, False):
        r = upload(small, u.token, os.urandom(LIMIT + 1), raw=raw)
        assert_error(r, 413, "payload_too_large")
    # chunked: no Content-Length, refused while reading
    def gen():
        for _ in range(LIMIT // 10000 + 2):
            yield os.urandom(10000)
    r = requests.post(small.base + "/api/files", params={"name": "chunked.bin"}, data=gen(),
                      headers=dict(auth(u.token), **{"Content-Type": "application/octet-stream"}),
                      timeout=30)
    if FRONTEND in ("lighttpd", "cgi"):
        # lighttpd cannot stream a body of unknown length to a program
        # (FastCGI and CGI need CONTENT_LENGTH): 411, as JSON
        assert_error(r, 411, "length_required")
    else:
        assert_error(r, 413, "payload_too_large")
    # far over: the web server's own limit answers first, still 413
    r = upload(small, u.token, os.urandom(LIMIT * 3), raw=True)
    assert_error(r, 413, "payload_too_large")
    assert file_rows(small) == rows and blobs(small) == files


def test_quota_is_413_and_nothing_stays(small):
    api = Api(small.base)
    u = make_user(api, "fq")
    uploaded(small, u.token, os.urandom(LIMIT), name="one.bin")
    uploaded(small, u.token, os.urandom(LIMIT), name="two.bin")
    rows, files = file_rows(small), blobs(small)
    r = upload(small, u.token, os.urandom(LIMIT), name="three.bin")
    assert_error(r, 413, "payload_too_large")
    assert "quota" in r.json()["error"]["message"]
    assert file_rows(small) == rows and blobs(small) == files
    # what is left of the quota still fits
    uploaded(small, u.token, os.urandom(LIMIT // 2 - 1000), name="half.bin")
    # another user has a quota of their own
    v = make_user(api, "fq")
    uploaded(small, v.token, os.urandom(LIMIT), name="theirs.bin")


def _partial_upload(srv, token, declared, sent):
    """Sends `sent` of `declared` body bytes and returns the open socket."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(("POST /api/files?name=cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\nContent-Type: application/octet-stream\r\n"
               "Content-Length: %d\r\n\r\n" % (token, declared)).encode())
    s.sendall(os.urandom(sent))
    return s


def test_an_interrupted_upload_leaves_no_file_and_no_row(small):
    api = Api(small.base)
    u = make_user(api, "fk")
    rows, files = file_rows(small), blobs(small)
    s = _partial_upload(small, u.token, LIMIT - 10, LIMIT // 2)
    time.sleep(0.5)
    s.close()
    time.sleep(1.0)
    assert file_rows(small) == rows and blobs(small) == files
    assert requests.get(small.base + "/api/health", timeout=5).status_code == 200
    uploaded(small, u.token, b"after", name="after.txt")


@pytest.mark.skipif(FRONTEND != "lighttpd", reason="kills lighttpd's FastCGI parley-files")
def test_a_killed_upload_program_leaves_no_file_and_no_row(small):
    api = Api(small.base)
    u = make_user(api, "fk")
    rows, files = file_rows(small), blobs(small)
    s = _partial_upload(small, u.token, LIMIT - 10, LIMIT // 2)
    time.sleep(0.5)
    pids = [pid for pid, cmd in small.processes().items() if "parley-files" in cmd]
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    s.close()
    time.sleep(1.0)
    assert file_rows(small) == rows and blobs(small) == files
    # lighttpd starts it again
    deadline = time.monotonic() + 10
    while True:
        r = upload(small, u.token, b"again", name="again.txt")
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- access

def _private_channel(api, owner, *members):
    return api.create_channel(owner.token, kind="private", members=[m.id for m in members])


def test_unattached_file_is_the_uploaders_only(server, api):
    a, b = make_user(api, "fa"), make_user(api, "fa")
    f = uploaded(server, a.token, b"mine")
    assert fetch(server, a.token, f["id"]).status_code == 200
    assert_error(fetch(server, b.token, f["id"]), 404, "not_found")


def test_private_channel_file_is_404_to_non_members_even_after_removal(server, api):
    owner, member, outsider = (make_user(api, "fo") for _ in range(3))
    ch = _private_channel(api, owner, member)
    f = uploaded(server, owner.token, png(), name="plan.png", ctype="image/png")
    m = api.send(owner.token, ch["id"], "the plan", attachments=[f["id"]])
    assert [x["id"] for x in m["attachments"]] == [f["id"]]
    assert m["attachments"][0]["sha256"] == f["sha256"]
    assert fetch(server, member.token, f["id"]).status_code == 200
    r = fetch(server, outsider.token, f["id"])
    assert_error(r, 404, "not_found")
    assert f["sha256"] not in r.text
    # the member is removed: the file goes with the channel
    r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch["id"], member.id),
                    token=owner.token)
    assert r.status_code == 204
    assert_error(fetch(server, member.token, f["id"]), 404, "not_found")
    assert fetch(server, owner.token, f["id"]).status_code == 200


def test_public_channel_file_is_readable_by_anyone_signed_in(server, api):
    a, b = make_user(api, "fb"), make_user(api, "fb")
    ch = api.create_channel(a.token)
    f = uploaded(server, a.token, b"public notes", name="notes.txt")
    api.send(a.token, ch["id"], "see notes", attachments=[f["id"]])
    assert fetch(server, b.token, f["id"]).content == b"public notes"
    assert requests.get(server.base + "/api/files/%d" % f["id"], timeout=10).status_code == 401


def test_deleting_the_message_detaches_its_files(server, api):
    a, b = make_user(api, "fx"), make_user(api, "fx")
    ch = api.create_channel(a.token)
    f = uploaded(server, a.token, b"gone soon")
    m = api.send(a.token, ch["id"], "temp", attachments=[f["id"]])
    assert fetch(server, b.token, f["id"]).status_code == 200
    r = api.request("DELETE", "/api/messages/%d" % m["id"], token=a.token)
    assert r.status_code == 204
    assert_error(fetch(server, b.token, f["id"]), 404, "not_found")
    r = api.get("/api/messages/%d" % m["id"], token=a.token)
    assert r.json()["attachments"] == []
    # the uploader may attach it again
    m2 = api.send(a.token, ch["id"], "again", attachments=[f["id"]])
    assert [x["id"] for x in m2["attachments"]] == [f["id"]]


def test_attach_rules(server, api):
    a, b = make_user(api, "ft"), make_user(api, "ft")
    ch = api.create_channel(a.token)
    theirs = uploaded(server, b.token, b"b's file")
    mine = uploaded(server, a.token, b"a's file")
    count = len(api.all_history_ids(a.token, ch["id"]))
    # someone else's file, a missing one, a repeat, too many, wrong types
    for att in ([theirs["id"]], [999999999], [mine["id"], mine["id"]], list(range(1, 12)),
                ["1"], mine["id"], [1.5]):
        r = api.post_message(a.token, ch["id"], "with files", attachments=att)
        assert_error(r, 400, "bad_request")
    assert len(api.all_history_ids(a.token, ch["id"])) == count
    # a refused post attached nothing: the file is still free
    m = api.send(a.token, ch["id"], "", attachments=[mine["id"]])
    assert m["content"] == "" and [x["id"] for x in m["attachments"]] == [mine["id"]]
    # attached once only
    r = api.post_message(a.token, ch["id"], "again", attachments=[mine["id"]])
    assert_error(r, 400, "bad_request")
    # no text and no files is still refused
    r = api.post_message(a.token, ch["id"], "  ")
    assert_error(r, 400, "bad_request")


def test_attachments_in_history_websocket_replay_and_long_poll(server, api):
    a, b, c = (make_user(api, "fw") for _ in range(3))
    ch = _private_channel(api, a, b)
    f = uploaded(server, a.token, png(), name="w.png", ctype="image/png")
    r = api.get("/api/events", token=b.token, params={"since": 0, "timeout": 0})
    since = r.json()["last_event_id"]
    ws_b = ws_c = None
    if not NO_WS_DAEMON:
        ws_b, ws_c = server.connect(b.token), server.connect(c.token)
    m = api.send(a.token, ch["id"], "live", attachments=[f["id"]])

    def has_file(ev):
        msg = ev.get("message") or {}
        return msg.get("id") == m["id"] and [x["id"] for x in msg.get("attachments", [])] == [f["id"]]

    page = api.history(b.token, ch["id"]).json()
    assert any(x["id"] == m["id"] and x["attachments"][0]["id"] == f["id"] for x in page)
    # long poll: the member gets it with its file, the outsider nothing of it
    r = api.get("/api/events", token=b.token, params={"since": since, "timeout": 5})
    assert any(has_file(e) for e in r.json()["events"]), r.text
    r = api.get("/api/events", token=c.token, params={"since": since, "timeout": 1})
    assert f["sha256"] not in r.text
    if ws_b:
        ws_b.wait_for(lambda fr: fr.get("type") == "message.created" and has_file(fr),
                      what="message.created with its file")
        # replay from before it
        rp = WS(server.ws_url(b.token, since=since))
        rp.wait_for(lambda fr: fr.get("type") == "message.created" and has_file(fr),
                    what="replayed message.created with its file")
        rp.close()
        ws_c.send({"type": "ping"})
        ws_c.wait_for(lambda fr: fr.get("type") == "pong", what="pong")
        assert not any(f["sha256"] in str(fr) for fr in ws_c.frames)
        ws_b.close()
        ws_c.close()


@pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon")
def test_post_with_attachments_over_websocket(server, api):
    a = make_user(api, "fy")
    ch = api.create_channel(a.token)
    f = uploaded(server, a.token, b"via socket")
    ws = server.connect(a.token)
    ws.send({"channel_id": ch["id"], "content": "frame", "client_msg_id": "fy-1",
             "attachments": [f["id"]]})
    ack = ws.wait_for(lambda fr: fr.get("type") == "ack", what="ack")
    assert [x["id"] for x in ack["message"]["attachments"]] == [f["id"]]
    ws.close()


# ---------------------------------------------------------------- HTTP

def test_range_etag_and_head(server, api):
    u = make_user(api, "fh")
    data = bytes(range(256)) * 40
    f = uploaded(server, u.token, data, name="r.bin")
    r = fetch(server, u.token, f["id"], headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == data[100:200]
    assert r.headers["Content-Range"] == "bytes 100-199/%d" % len(data)
    r = fetch(server, u.token, f["id"], headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == data[-10:]
    r = fetch(server, u.token, f["id"], headers={"Range": "bytes=%d-" % (len(data) + 5)})
    assert_error(r, 416, "range_not_satisfiable")
    if FRONTEND != "lighttpd":   # (lighttpd's own 416 names no Content-Range)
        assert r.headers["Content-Range"] == "bytes */%d" % len(data)
    r = fetch(server, u.token, f["id"])
    etag = r.headers["ETag"]
    r = fetch(server, u.token, f["id"], headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    r = requests.head(server.base + "/api/files/%d" % f["id"], headers=auth(u.token), timeout=10)
    assert r.status_code == 200 and r.content == b""
    # (Apache drops a CGI's Content-Length on HEAD)
    assert int(r.headers.get("Content-Length", len(data))) == len(data)
    assert r.headers["ETag"] == etag


def test_who_sends_the_bytes(server, api):
    """lighttpd and nginx send the file (their static path adds
    Last-Modified, and the offload header never reaches the client);
    under plain CGI the program streams it."""
    u = make_user(api, "fo")
    f = uploaded(server, u.token, b"offloaded?")
    r = fetch(server, u.token, f["id"])
    assert r.content == b"offloaded?"
    assert "X-Sendfile" not in r.headers and "X-Accel-Redirect" not in r.headers
    assert ("Last-Modified" in r.headers) == OFFLOADED, dict(r.headers)
    assert r.headers["Cache-Control"].startswith("private")


# ---------------------------------------------------------------- collecting

def test_prune_files_collects_unattached_files_only(small):
    api = Api(small.base)
    a = make_user(api, "fc")
    ch = api.create_channel(a.token)
    keep = uploaded(small, a.token, b"kept: attached " + os.urandom(8))
    drop = uploaded(small, a.token, b"dropped: never attached " + os.urandom(8))
    api.send(a.token, ch["id"], "keeper", attachments=[keep["id"]])
    # a blob no row names, as a crash between link and insert leaves it
    orphan = os.path.join(small.var, "files", "ab", "ab" + "0" * 62)
    os.makedirs(os.path.dirname(orphan), exist_ok=True)
    with open(orphan, "wb") as fh:
        fh.write(b"orphan")
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(small.var, "parley.conf"))
    # a fresh upload is within the grace period: nothing goes
    out = subprocess.run([CTL, "prune-files"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "0 unattached" in out.stdout
    assert fetch(small, a.token, drop["id"]).status_code == 200
    out = subprocess.run([CTL, "prune-files", "0"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert_error(fetch(small, a.token, drop["id"]), 404, "not_found")
    assert fetch(small, a.token, keep["id"]).status_code == 200
    names = {os.path.basename(p) for p in blobs(small)}
    assert keep["sha256"] in names and drop["sha256"] not in names
    assert not os.path.exists(orphan)


# ---------------------------------------------------------------- previews

def grey_png(width, height):
    """A PNG of width x height pixels with some texture."""
    raw = b"".join(b"\x00" + bytes((x * 7 + y) % 256 for x in range(width)) for y in range(height))
    return _png(width, height, zlib.compress(raw))


def bomb_png(side=30000):
    """A decompression bomb: side x side grey pixels (900 M for 30000,
    ~1.8 GB decoded at GraphicsMagick's 16 bits a sample) in under 1 MB."""
    co = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    return _png(side, side, b"".join(co.compress(row) for _ in range(side)) + co.flush())


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack("!II", data[16:24])


def test_an_image_gets_its_size_and_a_preview(server, api):
    owner, member, outsider = (make_user(api, "fi") for _ in range(3))
    data = grey_png(1000, 700)
    f = uploaded(server, owner.token, data, name="wide.png", ctype="image/png")
    assert (f["width"], f["height"]) == (1000, 700)
    assert f["thumbnail_url"] == "/api/files/%d/thumbnail" % f["id"]
    r = requests.get(server.base + f["thumbnail_url"], headers=auth(owner.token), timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert png_size(r.content) == (320, 224)
    # the preview follows the file's visibility
    ch = _private_channel(api, owner, member)
    api.send(owner.token, ch["id"], "look", attachments=[f["id"]])
    r = requests.get(server.base + f["thumbnail_url"], headers=auth(member.token), timeout=30)
    assert r.status_code == 200 and png_size(r.content) == (320, 224)
    r = requests.get(server.base + f["thumbnail_url"], headers=auth(outsider.token), timeout=30)
    assert_error(r, 404, "not_found")
    # a small image is not enlarged; a file that is no image has no preview
    s = uploaded(server, owner.token, grey_png(40, 30), name="small.png", ctype="image/png")
    r = requests.get(server.base + s["thumbnail_url"], headers=auth(owner.token), timeout=30)
    assert png_size(r.content) == (40, 30)
    t = uploaded(server, owner.token, b"just text\n", name="t.txt")
    assert "thumbnail_url" not in t and "width" not in t
    r = requests.get(server.base + "/api/files/%d/thumbnail" % t["id"], headers=auth(owner.token),
                     timeout=30)
    assert_error(r, 404, "not_found")


def test_a_decompression_bomb_gets_no_preview_and_harms_nothing(server, api):
    u = make_user(api, "fb")
    bomb = bomb_png()
    assert len(bomb) < 2 * 1024 * 1024
    f = uploaded(server, u.token, bomb, name="bomb.png", ctype="image/png")
    # refused from its header: no preview, and the program answers on
    assert "thumbnail_url" not in f
    assert fetch(server, u.token, f["id"]).content == bomb
    # an image that claims to be one type and is another is not previewed
    # as what it claims; a truncated image stores, without a preview
    cut = grey_png(200, 200)[:60]
    c = uploaded(server, u.token, cut, name="cut.png", ctype="image/png")
    assert "thumbnail_url" not in c
    assert requests.get(server.base + "/api/health", timeout=5).status_code == 200
    uploaded(server, u.token, grey_png(10, 10), name="after.png", ctype="image/png")


# ---------------------------------------------------------------- avatars

def put_avatar(srv, token, data, ctype="image/png", multipart=False):
    h = auth(token)
    if multipart:
        return requests.put(srv.base + "/api/users/me/avatar", files={"file": ("me.png", data, ctype)},
                            headers=h, timeout=30)
    h["Content-Type"] = ctype
    return requests.put(srv.base + "/api/users/me/avatar", data=data, headers=h, timeout=30)


def test_avatar_upload_is_resized_and_readable_by_anyone_signed_in(server, api):
    a, b = make_user(api, "fa"), make_user(api, "fa")
    r = put_avatar(server, a.token, grey_png(900, 600))
    assert r.status_code == 200, r.text
    url = r.json()["avatar_url"]
    assert url.startswith("/api/files/")
    assert api.get("/api/users/me", token=a.token).json()["avatar_url"] == url
    assert api.get("/api/users/%d" % a.id, token=b.token).json()["avatar_url"] == url
    r = requests.get(server.base + url, headers=auth(b.token), timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert png_size(r.content) == (256, 170)
    assert r.headers["Content-Disposition"].startswith("inline;")
    r = requests.get(server.base + url + "/thumbnail", headers=auth(b.token), timeout=30)
    assert png_size(r.content) == (64, 42)
    assert requests.get(server.base + url, timeout=10).status_code == 401
    # multipart too; the old one is no longer named and gets collected
    r = put_avatar(server, a.token, grey_png(100, 100), multipart=True)
    assert r.status_code == 200, r.text
    new = r.json()["avatar_url"]
    assert new != url
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(server.var, "parley.conf"))
    out = subprocess.run([CTL, "prune-files"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert_error(requests.get(server.base + url, headers=auth(b.token), timeout=30), 404, "not_found")
    assert requests.get(server.base + new, headers=auth(b.token), timeout=30).status_code == 200
    # cleared
    r = api.request("DELETE", "/api/users/me/avatar", token=a.token)
    assert r.status_code == 200 and r.json()["avatar_url"] == ""
    # an external URL still works
    r = api.request("PATCH", "/api/users/me", token=a.token,
                    json_body={"avatar_url": "https://example.org/me.png"})
    assert r.status_code == 200 and r.json()["avatar_url"] == "https://example.org/me.png"


def test_avatar_must_be_a_readable_image(server, api):
    u = make_user(api, "fn")
    for data, ctype in ((HTML, "image/png"), (b"%PDF-1.4\n", "application/pdf"),
                        (grey_png(50, 50)[:60], "image/png"), (bomb_png(), "image/png")):
        r = put_avatar(server, u.token, data, ctype)
        assert_error(r, 400, "bad_request")
    assert api.get("/api/users/me", token=u.token).json()["avatar_url"] == ""
    r = requests.put(server.base + "/api/users/me/avatar", data=grey_png(5, 5), timeout=10,
                     headers={"Content-Type": "image/png"})
    assert_error(r, 401, "unauthorized")


def test_an_erased_accounts_avatar_goes(server, api):
    a, b = make_user(api, "fe"), make_user(api, "fe")
    r = put_avatar(server, a.token, grey_png(64, 64))
    assert r.status_code == 200, r.text
    url = r.json()["avatar_url"]
    assert requests.get(server.base + url, headers=auth(b.token), timeout=30).status_code == 200
    r = api.request("DELETE", "/api/users/me", token=a.token, json_body={"password": a.password})
    assert r.status_code == 204, r.text
    assert api.get("/api/users/%d" % a.id, token=b.token).json().get("avatar_url", "") == ""
    env = dict(os.environ, PARLEY_CONFIG=os.path.join(server.var, "parley.conf"))
    out = subprocess.run([CTL, "prune-files"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert_error(requests.get(server.base + url, headers=auth(b.token), timeout=30), 404, "not_found")
    fid = int(url.rsplit("/", 1)[1])
    assert sql(server.db, "SELECT count(*) FROM files WHERE id = %d" % fid) == [(0,)]
