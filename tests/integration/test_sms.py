"""Phone verification by SMS (issue 16): PATCH /api/users/me {"phone"},
POST /api/auth/verify-sms/request and POST /api/auth/verify-sms — against
the real server with a fake SMS command (tests/fixtures/fake_sms.sh) that
records its arguments and the text it was given."""

import glob
import itertools
import os
import re
import tempfile
import time

import pytest

from conftest import start_server
from helpers import Api, PASSWORD, assert_error, assert_json, unique_name
from rt_util import sql

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE_SMS = os.path.join(REPO, "tests", "fixtures", "fake_sms.sh")
CODE_TTL = 3
# Shell metacharacters in the configured command's arguments: passed to
# the program literally, never run (no shell anywhere).
CANARY = "/tmp/parley-sms-canary-%d" % os.getpid()
META_ARGS = "$(touch %s) ;touch %s |x `id`" % (CANARY, CANARY)


def records(smsdir):
    """Every SMS sent so far, oldest first: [(args, text)]."""
    out = []
    for f in sorted(glob.glob(os.path.join(smsdir, "sms-*.txt")), key=os.path.getmtime):
        with open(f, encoding="utf-8") as fh:
            head, _, text = fh.read().partition("--\n")
        out.append(([l[4:] for l in head.splitlines()], text))
    return out


def last_code(smsdir, number, count_before):
    """The code of the SMS to `number` sent after `count_before` records."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        recs = records(smsdir)
        if len(recs) > count_before and recs[-1][0][-1] == number:
            m = re.search(r"\b(\d{6})\b", recs[-1][1])
            assert m, recs[-1][1]
            return m.group(1)
        time.sleep(0.1)
    raise AssertionError("no SMS to %s" % number)


def patch_me(api, token, body):
    return api.request("PATCH", "/api/users/me", token=token, json_body=body)


def me(api, token):
    return assert_json(api.get("/api/users/me", token=token), 200)


def sms_request(api, token):
    return api.post("/api/auth/verify-sms/request", None, token=token, data=b"")


def sms_verify(api, token, code):
    return api.post("/api/auth/verify-sms", {"code": code}, token=token)


def new_user(api, prefix="sms"):
    name = unique_name(prefix)
    assert_json(api.register(name, PASSWORD), 201)
    return name, api.login(name)


@pytest.fixture(scope="module")
def smssrv():
    smsdir = tempfile.mkdtemp(prefix="parley-sms-")
    conf = ("sms_command = %s %s %s\nsms_code_ttl = %d\nsms_user_limit = 3\n"
            "sms_number_limit = 4\nsms_max_attempts = 3\n"
            % (FAKE_SMS, smsdir, META_ARGS, CODE_TTL))
    with start_server(extra_conf=conf) as srv:
        srv.smsdir = smsdir
        yield srv


_numbers = itertools.count(int(time.time() * 1000) % 10**7 * 10)


def number():
    """A fresh valid E.164 number."""
    return "+49151%08d" % (next(_numbers) % 10**8)


def test_phone_patch_and_e164(smssrv):
    api = Api(smssrv.base)
    _, token = new_user(api)
    for bad in ("4915112345678", "+0151123456", "+1234567", "+1234567890123456",
                "+49 151 1234567", "+49151x234567", "++4915112345", 12345, True, [], {}):
        assert_error(patch_me(api, token, {"phone": bad}), 400, "bad_request")
    assert me(api, token)["phone"] is None
    n = number()
    body = assert_json(patch_me(api, token, {"phone": n}), 200)
    assert body["phone"] == n and body["phone_verified"] is False
    # shown to the owner only
    other = Api(smssrv.base)
    oname, otoken = new_user(other, "peek")
    seen = assert_json(other.get("/api/users/%d" % body["id"], token=otoken), 200)
    assert "phone" not in seen and "phone_verified" not in seen
    # null clears it
    body = assert_json(patch_me(api, token, {"phone": None}), 200)
    assert body["phone"] is None


def test_request_wrong_and_right_code(smssrv):
    api = Api(smssrv.base)
    _, token = new_user(api)
    assert_error(sms_request(api, token), 400, "bad_request")      # no phone yet
    assert_error(api.post("/api/auth/verify-sms/request", None, data=b""), 401, "unauthorized")
    n = number()
    uid = assert_json(patch_me(api, token, {"phone": n}), 200)["id"]
    before = len(records(smssrv.smsdir))
    r = sms_request(api, token)
    assert r.status_code == 202, r.text
    code = last_code(smssrv.smsdir, n, before)
    args, text = records(smssrv.smsdir)[-1]
    # no shell: the configured arguments arrive literally, and nothing ran
    assert args[:-1] == ["$(touch", CANARY + ")", ";touch", CANARY, "|x", "`id`"]
    assert not os.path.exists(CANARY)
    assert code in text
    wrong = "000000" if code != "000000" else "111111"
    assert_error(sms_verify(api, token, wrong), 400, "bad_request")
    for bad in ("", "12345", "1234567", "12345a", code + " "):
        assert_error(sms_verify(api, token, bad), 400, "bad_request")
    assert_error(api.post("/api/auth/verify-sms", {"code": 123456}, token=token), 400, "bad_request")
    assert_error(api.post("/api/auth/verify-sms", {"code": code}), 401, "unauthorized")
    assert me(api, token)["phone_verified"] is False
    # only the code's owner can use it
    _, t2 = new_user(api)
    assert_error(sms_verify(api, t2, code), 400, "bad_request")
    body = assert_json(sms_verify(api, token, code), 200)
    assert body["phone_verified"] is True and body["phone"] == n and body["id"] == uid
    assert me(api, token)["phone_verified"] is True
    assert_error(sms_verify(api, token, code), 400, "bad_request")  # single use
    assert_error(sms_request(api, token), 409, "conflict")
    # changing the number makes it unverified again; same number keeps it
    assert assert_json(patch_me(api, token, {"phone": n}), 200)["phone_verified"] is True
    assert assert_json(patch_me(api, token, {"phone": number()}), 200)["phone_verified"] is False


def test_request_with_phone_in_body(smssrv):
    """The contract's form: POST /api/auth/verify-sms/request {"phone"}."""
    api = Api(smssrv.base)
    _, token = new_user(api)
    for bad in ("12345", "+0123456789", 4915112345678):
        assert_error(api.post("/api/auth/verify-sms/request", {"phone": bad}, token=token),
                     400, "bad_request")
    assert me(api, token)["phone"] is None
    n = number()
    before = len(records(smssrv.smsdir))
    r = api.post("/api/auth/verify-sms/request", {"phone": n}, token=token)
    assert r.status_code == 202, r.text
    code = last_code(smssrv.smsdir, n, before)
    body = me(api, token)
    assert body["phone"] == n and body["phone_verified"] is False
    assert assert_json(sms_verify(api, token, code), 200)["phone_verified"] is True
    # the verified number again: nothing to do; another one: a new code
    assert_error(api.post("/api/auth/verify-sms/request", {"phone": n}, token=token), 409, "conflict")
    n2 = number()
    assert api.post("/api/auth/verify-sms/request", {"phone": n2}, token=token).status_code == 202
    body = me(api, token)
    assert body["phone"] == n2 and body["phone_verified"] is False


def test_code_for_old_number_is_useless(smssrv):
    api = Api(smssrv.base)
    _, token = new_user(api)
    n = number()
    assert_json(patch_me(api, token, {"phone": n}), 200)
    before = len(records(smssrv.smsdir))
    assert sms_request(api, token).status_code == 202
    code = last_code(smssrv.smsdir, n, before)
    assert_json(patch_me(api, token, {"phone": number()}), 200)
    assert_error(sms_verify(api, token, code), 400, "bad_request")
    assert me(api, token)["phone_verified"] is False


def test_wrong_attempts_void_the_code(smssrv):
    api = Api(smssrv.base)
    _, token = new_user(api)
    n = number()
    assert_json(patch_me(api, token, {"phone": n}), 200)
    before = len(records(smssrv.smsdir))
    assert sms_request(api, token).status_code == 202
    code = last_code(smssrv.smsdir, n, before)
    wrong = [c for c in ("000000", "111111", "222222", "333333") if c != code][:3]
    for w in wrong:  # sms_max_attempts = 3
        assert_error(sms_verify(api, token, w), 400, "bad_request")
    assert_error(sms_verify(api, token, code), 400, "bad_request")
    assert me(api, token)["phone_verified"] is False


def test_code_expires(smssrv):
    api = Api(smssrv.base)
    _, token = new_user(api)
    n = number()
    assert_json(patch_me(api, token, {"phone": n}), 200)
    before = len(records(smssrv.smsdir))
    sent = time.monotonic()
    assert sms_request(api, token).status_code == 202
    code = last_code(smssrv.smsdir, n, before)
    time.sleep(max(0.0, sent + CODE_TTL + 0.5 - time.monotonic()))
    assert_error(sms_verify(api, token, code), 400, "bad_request")
    assert me(api, token)["phone_verified"] is False


def test_limits_per_user_and_per_number(smssrv):
    api = Api(smssrv.base)
    _, token = new_user(api)
    assert_json(patch_me(api, token, {"phone": number()}), 200)
    for _ in range(3):  # sms_user_limit = 3
        assert sms_request(api, token).status_code == 202
    r = sms_request(api, token)
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    # another number does not help: the limit is the user's
    assert_json(patch_me(api, token, {"phone": number()}), 200)
    assert_error(sms_request(api, token), 429, "rate_limited")
    # per number: 4 codes to one number, whoever asks (2 users x 2)
    shared = number()
    tokens = [new_user(api)[1] for _ in range(3)]
    for t in tokens:
        assert_json(patch_me(api, t, {"phone": shared}), 200)
    for t in tokens[:2]:
        for _ in range(2):
            assert sms_request(api, t).status_code == 202
    assert_error(sms_request(api, tokens[2]), 429, "rate_limited")


def test_erasure_clears_phone_and_codes(smssrv):
    api = Api(smssrv.base)
    _, token = new_user(api)
    n = number()
    uid = assert_json(patch_me(api, token, {"phone": n}), 200)["id"]
    assert sms_request(api, token).status_code == 202
    assert sql(smssrv.db, "SELECT count(*) FROM phone_codes WHERE user_id = ?", (uid,))[0][0] == 1
    r = api.request("DELETE", "/api/users/me", token=token, json_body={"password": PASSWORD})
    assert r.status_code == 204, r.text
    assert sql(smssrv.db, "SELECT count(*) FROM phone_codes WHERE user_id = ?", (uid,))[0][0] == 0
    assert sql(smssrv.db, "SELECT phone, phone_verified FROM users WHERE id = ?", (uid,))[0] == (None, 0)


def test_sms_command_failure_is_503_and_changes_nothing():
    with start_server(extra_conf="sms_command = %s FAIL\nsms_user_limit = 1\n" % FAKE_SMS) as srv:
        api = Api(srv.base)
        _, token = new_user(api)
        uid = assert_json(patch_me(api, token, {"phone": number()}), 200)["id"]
        for _ in range(3):  # a failed send is not counted against the limit
            assert_error(sms_request(api, token), 503, "unavailable")
        old = me(api, token)["phone"]
        assert_error(api.post("/api/auth/verify-sms/request", {"phone": number()}, token=token),
                     503, "unavailable")
        assert me(api, token)["phone"] == old  # the given number was not kept
        assert sql(srv.db, "SELECT count(*) FROM phone_codes WHERE user_id = ?", (uid,))[0][0] == 0
        assert me(api, token)["phone_verified"] is False
        assert api.get("/api/health").status_code == 200


def test_sms_not_configured(api):
    _, token = new_user(api)
    assert_json(patch_me(api, token, {"phone": number()}), 200)
    assert_error(sms_request(api, token), 503, "unavailable")
