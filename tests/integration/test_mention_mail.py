"""Email for missed mentions and DMs (issue 16): after mention_mail_delay
offline, one batched mail through mail_command (the fake sendmail of
tests/fixtures) listing the unread mentions/DMs, at most one per
mention_mail_interval, only to a verified address, never to an online or
opted-out user; sent by parley-hookd, or by `parleyctl send-mention-mail`."""

import email
import glob
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import start_server
from helpers import Api, assert_json, make_user, unique_channel
from rt_util import sql

REPO = Path(__file__).resolve().parents[2]
FAKE_SENDMAIL = REPO / "tests" / "fixtures" / "fake_sendmail.sh"
DELAY = 1
WAIT = 12   # seconds a mail may take: delay + parley-hookd's pass every 2 s, with margin


def mails_to(maildir, addr):
    out = []
    for f in sorted(glob.glob(os.path.join(maildir, "mail-*.eml")), key=os.path.getmtime):
        with open(f, "rb") as fh:
            msg = email.message_from_bytes(fh.read())
        if msg["To"] == addr:
            out.append(msg)
    return out


def body_of(msg):
    return msg.get_payload(decode=True).decode("utf-8")


def wait_mails(maildir, addr, n, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = mails_to(maildir, addr)
        if len(got) >= n:
            return got
        time.sleep(0.2)
    return mails_to(maildir, addr)


def with_address(srv, user, verified=True):
    addr = user.username.lower() + "@example.com"
    sql(srv.db, "UPDATE users SET email = ?, email_verified = ? WHERE id = ?",
        (addr, 1 if verified else 0, user.id))
    return addr


@pytest.fixture(scope="module")
def mm():
    maildir = tempfile.mkdtemp(prefix="parley-mm-")
    conf = ("mail_command = %s %s\nmail_from = parley-test@example.com\nmention_mail_delay = %d\n"
            "mention_mail_interval = 3600\npublic_url = https://chat.example.org\n"
            % (FAKE_SENDMAIL, maildir, DELAY))
    with start_server(extra_conf=conf) as srv:
        srv.maildir = maildir
        srv.api = Api(srv.base)
        srv.author = make_user(srv.api, "mma")
        yield srv


def channel_with(srv, *users):
    api = srv.api
    ch = api.create_channel(srv.author.token, unique_channel("mm"), kind="private")
    for u in users:
        r = api.post("/api/channels/%d/members" % ch["id"], {"user_id": u.id}, token=srv.author.token)
        assert r.status_code == 201, r.text
    return ch


def test_offline_mention_mailed_once(mm):
    api = mm.api
    bob = make_user(api, "mmb")
    addr = with_address(mm, bob)
    ch = channel_with(mm, bob)
    long_text = "hello @%s " % bob.username + "\u00e9" * 200
    m = api.send(mm.author.token, ch["id"], long_text)
    got = wait_mails(mm.maildir, addr, 1)
    assert len(got) == 1, "no mention mail"
    msg = got[0]
    assert msg["From"] == "parley-test@example.com"
    assert "1 unread mention" in msg["Subject"]
    body = body_of(msg)
    assert "mention by %s in #%s" % (mm.author.username, ch["name"]) in body
    assert "hello @%s" % bob.username in body
    assert "\u00e9" * 200 not in body and "..." in body           # trimmed, UTF-8 intact
    assert "https://chat.example.org/?channel=%d&message=%d" % (ch["id"], m["id"]) in body
    at = sql(mm.db, "SELECT mention_mail_at FROM users WHERE id = ?", (bob.id,))[0][0]
    assert at and abs(at - time.time()) < 60      # seconds since the epoch
    # a second mention within the interval: no second mail
    api.send(mm.author.token, ch["id"], "again @%s" % bob.username)
    time.sleep(DELAY + 5)
    assert len(mails_to(mm.maildir, addr)) == 1


def test_dm_is_mailed(mm):
    api = mm.api
    carol = make_user(api, "mmc")
    addr = with_address(mm, carol)
    dm = api.post("/api/channels/dm", {"user_ids": [carol.id]}, token=mm.author.token)
    assert dm.status_code in (200, 201), dm.text
    api.send(mm.author.token, dm.json()["id"], "a private word")
    got = wait_mails(mm.maildir, addr, 1)
    assert len(got) == 1
    body = body_of(got[0])
    assert "direct message from %s" % mm.author.username in body and "a private word" in body


def test_thread_replies_are_not_mailed(mm):
    """A "reply" notification (a thread the user follows) is not a missed
    mention: no mail for it, while a mention in the same thread is."""
    api = mm.api
    dan = make_user(api, "mmd")
    addr = with_address(mm, dan)
    ch = channel_with(mm, dan)
    root = api.send(dan.token, ch["id"], "my question")       # dan follows his thread
    r = api.send(mm.author.token, ch["id"], "an answer", reply_to=root["id"])
    kinds = sql(mm.db, "SELECT kind FROM notifications WHERE user_id = ? AND message_id = ?",
                (dan.id, r["id"]))
    assert kinds == [("reply",)]
    time.sleep(DELAY + 5)
    assert mails_to(mm.maildir, addr) == []
    api.send(mm.author.token, ch["id"], "@%s see above" % dan.username, reply_to=root["id"])
    got = wait_mails(mm.maildir, addr, 1)
    assert len(got) == 1 and "1 unread mention" in got[0]["Subject"]


def test_no_mail_when_opted_out_online_unverified_or_read(mm):
    api = mm.api
    control, out, online, unverified, reader = (make_user(api, p) for p in
                                                ("mmk", "mmo", "mmn", "mmu", "mmr"))
    addrs = {u.id: with_address(mm, u, verified=(u is not unverified))
             for u in (control, out, online, unverified, reader)}
    r = api.request("PATCH", "/api/users/me", token=out.token, json_body={"mention_mail": False})
    assert assert_json(r, 200)["mention_mail"] is False
    r = api.post("/api/presence/heartbeat", {}, token=online.token)
    assert r.status_code == 204, r.text
    ch = channel_with(mm, control, out, online, unverified, reader)
    api.send(mm.author.token, ch["id"], "all of you: " + " ".join(
        "@" + u.username for u in (control, out, online, unverified, reader)))
    r = api.post("/api/notifications/read", {"all": True}, token=reader.token)
    assert r.status_code == 204
    # the control gets its mail, so a pass ran after the delay
    assert len(wait_mails(mm.maildir, addrs[control.id], 1)) == 1
    time.sleep(3)
    for u in (out, online, unverified, reader):
        assert mails_to(mm.maildir, addrs[u.id]) == [], u


def test_private_channel_left_is_not_mailed(mm):
    """A mention in a channel the user was removed from before the pass
    is not listed (visibility now, lib/authz.h)."""
    api = mm.api
    dave = make_user(api, "mmd")
    addr = with_address(mm, dave)
    ch = channel_with(mm, dave)
    api.send(mm.author.token, ch["id"], "secret for @%s" % dave.username)
    r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch["id"], dave.id), token=mm.author.token)
    assert r.status_code == 204
    time.sleep(DELAY + 5)
    assert mails_to(mm.maildir, addr) == []


def test_parleyctl_send_mention_mail():
    maildir = tempfile.mkdtemp(prefix="parley-mm-")
    conf = ("mail_command = %s %s\nmention_mail_delay = 0\nmention_mail = 0\n"
            % (FAKE_SENDMAIL, maildir))
    with start_server(extra_conf=conf) as srv:
        api = Api(srv.base)
        author, erin = make_user(api, "mma"), make_user(api, "mme")
        addr = with_address(srv, erin)
        srv.author = author
        srv.api = api
        ch = channel_with(srv, erin)
        api.send(author.token, ch["id"], "ping @%s" % erin.username)
        time.sleep(3)
        assert mails_to(maildir, addr) == []      # the daemon's pass is off here
        env = dict(os.environ, PARLEY_CONFIG=os.path.join(srv.var, "parley.conf"),
                   PARLEY_MENTION_MAIL="1")
        run = lambda: subprocess.run([str(REPO / "build/bin/parleyctl"), "send-mention-mail"],
                                     env=env, capture_output=True, text=True, timeout=60)
        r = run()
        assert r.returncode == 0, r.stderr
        assert "1 missed-mention mail" in r.stdout
        assert len(mails_to(maildir, addr)) == 1
        r = run()
        assert r.returncode == 0 and "0 missed-mention mail" in r.stdout
        assert len(mails_to(maildir, addr)) == 1
        off = subprocess.run([str(REPO / "build/bin/parleyctl"), "send-mention-mail"],
                             env=dict(env, PARLEY_MENTION_MAIL="0"), capture_output=True, text=True)
        assert off.returncode == 1
