"""The web client's files as the web server serves them (issue 17,
"Serving"): compressed when the browser accepts it (brotli or gzip under
lighttpd, gzip under nginx), never the API; revalidated on every use
(Cache-Control: no-cache, then a 304 for the ETag), so a new release shows
at once; a favicon. Runs under every front that serves the client."""

import gzip
import struct
from pathlib import Path

import pytest
import requests

from conftest import FRONTEND

WWW = Path(__file__).resolve().parents[2] / "www"
# external: the container image (contrib/container/lighttpd.conf), lighttpd;
# apache: cgi-bin/htaccess.example (mod_deflate, mod_headers)
COMPRESSING = FRONTEND in ("lighttpd", "nginx", "external", "apache")
BROTLI = FRONTEND in ("lighttpd", "external")


def raw_get(base, path, **headers):
    # stream=True and .raw: the bytes as sent, not decoded by requests
    r = requests.get(base + path, headers=headers, stream=True, timeout=10)
    body = r.raw.read()
    return r, body


@pytest.mark.skipif(not COMPRESSING, reason="compression is configured for lighttpd and nginx")
@pytest.mark.parametrize("path,file", [("/", "index.html"), ("/app.js", "app.js"),
                                       ("/style.css", "style.css")])
def test_client_files_are_compressed_when_accepted(server, path, file):
    want = (WWW / file).read_bytes()
    r, body = raw_get(server.base, path, **{"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("Content-Encoding") == "gzip", r.headers
    assert "Accept-Encoding" in r.headers.get("Vary", "")
    assert gzip.decompress(body) == want
    assert len(body) < len(want)
    # a client that accepts nothing gets the bytes as they are
    r, body = raw_get(server.base, path, **{"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert body == want


@pytest.mark.skipif(not BROTLI, reason="brotli: lighttpd's mod_deflate")
def test_brotli_when_preferred(server):
    r, body = raw_get(server.base, "/app.js", **{"Accept-Encoding": "br, gzip"})
    assert r.status_code == 200 and r.headers.get("Content-Encoding") == "br", r.headers
    assert 0 < len(body) < len((WWW / "app.js").read_bytes())


@pytest.mark.skipif(not COMPRESSING, reason="compression is configured for lighttpd and nginx")
def test_the_api_is_not_compressed_or_cached(server, alice):
    r = requests.get(server.base + "/api/channels", timeout=10,
                     headers={"Authorization": "Bearer " + alice.token, "Accept-Encoding": "gzip, br"})
    assert r.status_code == 200
    assert "Content-Encoding" not in r.headers
    assert r.headers.get("Cache-Control") == "no-store"


@pytest.mark.skipif(not COMPRESSING, reason="caching headers are configured for lighttpd and nginx")
def test_client_files_are_revalidated(server):
    # identity: the ETag of the bytes themselves (Apache's compressed ETags
    # carry "-gzip" and never match again: its bug 45023)
    r = requests.get(server.base + "/app.js", headers={"Accept-Encoding": "identity"}, timeout=10)
    assert r.status_code == 200
    assert r.headers.get("Cache-Control") == "no-cache"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    etag = r.headers.get("ETag")
    assert etag
    again = requests.get(server.base + "/app.js", timeout=10,
                         headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b""


def test_favicon(server):
    r = requests.get(server.base + "/favicon.ico", timeout=10)
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("image/")
    assert r.content == (WWW / "favicon.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", r.content[:6])
    assert (reserved, kind) == (0, 1) and count >= 1
