"""Security audit, connections (issue 12): item 9.

9. The Origin check compares scheme, host and port: an https:// or x://
   origin naming the right host:port is refused (403).
"""

import pytest

from conftest import FRONTEND, NO_WS_DAEMON, start_server
from helpers import Api, make_user
from rt_util import Daemon, upgrade_status

CONF = "register_addr_limit = 100000\nlogin_addr_limit = 100000\n"
# the shared-host path (Apache CGI) runs no ws-daemon
needs_wsd = pytest.mark.skipif(NO_WS_DAEMON, reason="PARLEY_FRONTEND=%s runs no ws-daemon"
                               % FRONTEND)


@pytest.fixture(scope="module")
def srv():
    with start_server(extra_conf=CONF) as s:
        yield s


@pytest.fixture(scope="module")
def capi(srv):
    return Api(srv.base)


# ------------------------------------------------- 9. Origin: scheme, host and port

@needs_wsd
def test_same_origin_compares_scheme_host_and_port(srv, capi):
    u = make_user(capi, "or")
    url = srv.ws_url(u.token)
    here = "127.0.0.1:%d" % srv.port
    # the right host:port with another scheme
    assert upgrade_status(url, origin="https://" + here) == 403
    assert upgrade_status(url, origin="x://" + here) == 403
    assert upgrade_status(url, origin="ws://" + here) == 403
    assert upgrade_status(url, origin="://" + here) == 403
    assert upgrade_status(url, origin=here) == 403
    # other host or port, or not an origin at all
    assert upgrade_status(url, origin="http://127.0.0.1") == 403           # port 80
    assert upgrade_status(url, origin="http://127.0.0.1:%d" % (srv.port + 1)) == 403
    assert upgrade_status(url, origin="http://" + here + "/") == 403
    assert upgrade_status(url, origin="http://" + here + "/ws") == 403
    assert upgrade_status(url, origin="http://user@" + here) == 403
    assert upgrade_status(url, origin="http://localhost:%d" % srv.port) == 403
    assert upgrade_status(url, origin="null") == 403
    # the client cannot claim https through lighttpd: it sets
    # X-Forwarded-Proto itself (http here)
    assert upgrade_status(url, origin="https://" + here,
                          header=["X-Forwarded-Proto: https"]) == 403
    # the right origin, as browsers send it and in other spellings of it
    assert upgrade_status(url, origin="http://" + here) == 101
    assert upgrade_status(url, origin="HTTP://" + here) == 101
    assert upgrade_status(url, suppress_origin=True) == 101
    # a Host without a port means the scheme's default port
    assert upgrade_status(url, host="chat.example", origin="http://chat.example") == 101
    assert upgrade_status(url, host="chat.example", origin="http://Chat.Example:80") == 101
    assert upgrade_status(url, host="chat.example", origin="https://chat.example") == 403
    assert upgrade_status(url, host="chat.example:80", origin="http://chat.example") == 101


@needs_wsd
def test_origin_behind_a_tls_proxy_and_the_allow_list(srv, capi):
    u = make_user(capi, "ot")
    # no allow-list: the scheme is the proxy's X-Forwarded-Proto (a daemon
    # reached directly, as from a TLS-terminating proxy)
    d = Daemon(srv).start()
    try:
        url = d.url(u.token)
        tls = ["X-Forwarded-Proto: https"]
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="https://chat.example") == 101
        assert upgrade_status(url, host="chat.example:443", header=tls,
                              origin="https://chat.example") == 101
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="https://chat.example:443") == 101
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="http://chat.example") == 403
        assert upgrade_status(url, host="chat.example", header=tls,
                              origin="https://chat.example:8443") == 403
        assert upgrade_status(url, host="chat.example",
                              origin="https://chat.example") == 403     # no header: http
        assert upgrade_status(url, host="chat.example", header=["X-Forwarded-Proto: gopher"],
                              origin="gopher://chat.example") == 403
    finally:
        d.stop()
    # an allow-list: each entry's scheme, host and port
    d = Daemon(srv, env_extra={
        "PARLEY_WS_ORIGINS": "https://chat.example, http://chat.example:8080"}).start()
    try:
        url = d.url(u.token)
        for origin, want in (("https://chat.example", 101),
                             ("HTTPS://Chat.Example", 101),
                             ("https://chat.example:443", 101),
                             ("http://chat.example:8080", 101),
                             ("http://chat.example", 403),
                             ("https://chat.example:8080", 403),
                             ("https://chat.example:8443", 403),
                             ("wss://chat.example", 403),
                             ("x://chat.example", 403),
                             ("https://chat.example.evil", 403),
                             ("https://chat.example/", 403),
                             ("null", 403)):
            assert upgrade_status(url, origin=origin) == want, origin
    finally:
        d.stop()
