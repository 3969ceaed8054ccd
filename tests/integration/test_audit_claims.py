"""Issue 12, item 11: the time claims of access tokens (RFC 7519 §4.1.4-6).

libjwt 1.10 checks no claims; parley refuses a token whose `iat` is later
than now + 60 s (PL_TOKEN_LEEWAY) or whose `nbf` is not reached (beyond the
same leeway), a token without `exp` or `iat`, and a time claim that is not
a JSON integer: 401 on REST and on the WebSocket upgrade with ?token=.
Tokens are alice's own claims re-signed with the server's key (read from
its var dir, as test_abuse.py does), so each case differs from a token
that works in one claim only.
"""

import time

import pytest
import websocket

from conftest import NO_WS_DAEMON
from helpers import WS, assert_error, assert_json, jwt_parts, make_jwt, read_secret

LEEWAY = 60


def _claims(alice, **changes):
    """alice's claims with `changes` (None removes a claim)."""
    _, claims = jwt_parts(alice.token)
    claims = dict(claims)
    for k, v in changes.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


def _cases(alice):
    now = int(time.time())
    far = now + 7200   # exp, so expiry is never the reason
    return {
        # refused
        "iat_future": _claims(alice, iat=now + 3600, exp=far),
        "iat_past_leeway": _claims(alice, iat=now + LEEWAY + 30, exp=far),
        "nbf_future": _claims(alice, nbf=now + 3600, exp=far),
        "nbf_past_leeway": _claims(alice, nbf=now + LEEWAY + 30, exp=far),
        "no_exp": _claims(alice, exp=None),
        "no_iat": _claims(alice, iat=None),
        "iat_string": _claims(alice, iat=str(now)),
        "iat_fraction": _claims(alice, iat=now + 0.5),
        "nbf_string": _claims(alice, nbf=str(now + 3600)),
        "nbf_fraction": _claims(alice, nbf=now - 10.5),
        "nbf_null": dict(_claims(alice), nbf=None),
        "exp_fraction": _claims(alice, exp=far + 0.5),
        # accepted
        "iat_within_leeway": _claims(alice, iat=now + 20),
        "nbf_reached": _claims(alice, nbf=now - 10),
        "nbf_within_leeway": _claims(alice, nbf=now + 20),
    }


REFUSED = ["iat_future", "iat_past_leeway", "nbf_future", "nbf_past_leeway",
           "no_exp", "no_iat", "iat_string", "iat_fraction", "nbf_string",
           "nbf_fraction", "nbf_null", "exp_fraction"]
ACCEPTED = ["iat_within_leeway", "nbf_reached", "nbf_within_leeway"]


def _token(server, alice, kind):
    return make_jwt(_cases(alice)[kind], read_secret(server.var))


@pytest.mark.parametrize("kind", REFUSED)
def test_rest_refuses(server, api, alice, kind):
    token = _token(server, alice, kind)
    assert_error(api.get("/api/auth/validate", token=token), 401, "unauthorized")
    assert_error(api.get("/api/channels", token=token), 401, "unauthorized")


@pytest.mark.parametrize("kind", ACCEPTED)
def test_rest_accepts(server, api, alice, kind):
    token = _token(server, alice, kind)
    body = assert_json(api.get("/api/auth/validate", token=token), 200)
    assert body["user_id"] == alice.id


@pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon on this frontend")
@pytest.mark.parametrize("kind", ["iat_future", "nbf_future", "no_iat",
                                  "iat_string", "nbf_fraction"])
def test_websocket_upgrade_refuses(server, alice, kind):
    url = server.ws_url(_token(server, alice, kind))
    with pytest.raises(websocket.WebSocketBadStatusException) as exc:
        conn = websocket.create_connection(url, timeout=5)
        conn.close()
    assert exc.value.status_code == 401


@pytest.mark.skipif(NO_WS_DAEMON, reason="no ws-daemon on this frontend")
@pytest.mark.parametrize("kind", ACCEPTED)
def test_websocket_upgrade_accepts(server, alice, kind):
    ws = WS(server.ws_url(_token(server, alice, kind)))
    try:
        assert ws.hello.get("type") == "hello"
        assert ws.hello.get("user_id") == alice.id
    finally:
        ws.close()
