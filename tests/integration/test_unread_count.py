"""Unread counts are kept by triggers (schema 021, issue 19): the channel's
messages not deleted (channels.message_count) and, of those, the ones each
member has read or wrote (channel_members.read_count), instead of counted
per request; the newest message id on the channel row as well. After random posts, replies, edits, deletions, read markers
moved, joins, leaves, direct messages and an account deletion — with the
programs killed by SIGKILL in the middle of it — every member's kept
counts equal a recount, and GET /api/channels shows min(recount, 1000).
Runs on both engines."""

import os
import random
import signal
import threading
import time

import pytest

from conftest import start_server
from helpers import PASSWORD, Api, assert_json, make_user
from rt_util import sql

CAP = 1000


def recount(server):
    """{(channel, user): (unread recounted, unread kept, message_count and
    read_count as kept, and recounted)} for every membership."""
    rows = sql(server.db, """
        SELECT me.channel_id, me.user_id,
          (SELECT count(*) FROM messages m WHERE m.channel_id = me.channel_id
             AND m.id > me.last_read_id AND m.deleted = 0 AND m.user_id <> me.user_id),
          c.message_count - me.read_count,
          c.message_count,
          (SELECT count(*) FROM messages m WHERE m.channel_id = me.channel_id AND m.deleted = 0),
          me.read_count,
          (SELECT count(*) FROM messages m WHERE m.channel_id = me.channel_id AND m.deleted = 0
             AND (m.id <= me.last_read_id OR m.user_id = me.user_id))
        FROM channel_members me JOIN channels c ON c.id = me.channel_id
        ORDER BY me.channel_id, me.user_id""")
    return {(r[0], r[1]): r[2:] for r in rows}


def programs(server):
    return [pid for pid, cmd in server.processes().items()
            if "/parley-messages" in cmd or "/parley-channels" in cmd]


def burst_and_kill(server, api, token, channel, n=25):
    """Posts n messages from a thread while the programs are killed with
    SIGKILL (some posts die mid-transaction); then waits until both the
    reading pool and the writer answer again."""
    done = []

    def post_all():
        for i in range(n):
            try:
                done.append(api.post_message(token, channel, "burst %d" % i).status_code)
            except Exception:  # a connection cut by the kill
                done.append(None)

    t = threading.Thread(target=post_all)
    t.start()
    time.sleep(0.05)
    killed = 0
    for pid in programs(server):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    t.join(timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        up = (api.get("/api/channels", token=token).status_code == 200
              and api.post("/api/messages", {}, token=token).status_code == 400)
        if up:
            break
        time.sleep(0.2)
    return killed


@pytest.fixture(scope="module")
def own():
    """A server of its own (not the suite's `server`, whose processes must
    outlive each test): this test kills its programs."""
    with start_server() as s:
        yield s


def test_unread_counts_never_drift(own):
    server, api = own, Api(own.base)
    rnd = random.Random(20261206)
    users = [make_user(api, "uc") for _ in range(5)]
    owner = users[0]
    chans = [api.create_channel(owner.token)["id"] for _ in range(3)]
    for u in users[1:]:
        for ch in chans[:2]:
            assert api.post("/api/channels/%d/join" % ch, {}, token=u.token).status_code in (200, 201)
    alive = {u.id: u for u in users}
    posted = {ch: [] for ch in chans}
    kills = 0
    for step in range(160):
        u = rnd.choice([x for x in users if x.id in alive])
        ch = rnd.choice(chans)
        op = rnd.randrange(10)
        if op <= 3:                                    # a post, sometimes a reply
            extra = {}
            if posted[ch] and rnd.random() < 0.3:
                extra["reply_to"] = rnd.choice(posted[ch])
            r = api.post_message(u.token, ch, "m%d" % step, **extra)
            # 409: a reply to a deleted message
            assert r.status_code in (201, 403, 404, 409), r.text
            if r.status_code == 201:
                posted[ch].append(r.json()["id"])
        elif op == 4 and posted[ch]:                   # an edit (counts stay)
            r = api.request("PATCH", "/api/messages/%d" % rnd.choice(posted[ch]),
                            token=u.token, json_body={"content": "edited %d" % step})
            assert r.status_code in (200, 403, 404, 409), r.text  # 409: deleted
        elif op == 5 and posted[ch]:                   # a deletion (own, or as owner)
            who = owner if rnd.random() < 0.5 else u
            r = api.request("DELETE", "/api/messages/%d" % rnd.choice(posted[ch]), token=who.token)
            assert r.status_code in (204, 403, 404, 409), r.text
        elif op in (6, 7) and posted[ch]:              # a read marker moved
            r = api.post("/api/channels/%d/read" % ch, {"message_id": rnd.choice(posted[ch])},
                         token=u.token)
            assert r.status_code in (200, 204, 403, 404, 409), r.text
        elif op == 8:                                  # join, or leave
            if rnd.random() < 0.6:
                r = api.post("/api/channels/%d/join" % ch, {}, token=u.token)
                assert r.status_code in (200, 201, 404), r.text
            elif u is not owner:
                r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch, u.id), token=u.token)
                assert r.status_code in (204, 403, 404), r.text
        elif op == 9:                                  # a direct message, or a kill -9
            if step % 3 == 0:
                kills += burst_and_kill(server, api, owner.token, ch)
            else:
                other = rnd.choice([x for x in users if x.id != u.id and x.id in alive])
                r = api.post("/api/channels/dm", {"user_ids": [other.id]}, token=u.token)
                assert r.status_code in (200, 201), r.text
                dm = r.json()["id"]
                assert api.post_message(u.token, dm, "dm %d" % step).status_code in (201, 502, 503)
        if step == 120:                                # an account goes, messages and all
            gone = users[-1]
            r = api.request("DELETE", "/api/users/me", token=gone.token,
                            json_body={"password": PASSWORD})
            assert r.status_code == 204, r.text
            del alive[gone.id]
    assert kills > 0, "no program was killed"
    assert any(posted.values())

    counts = recount(server)
    assert counts, "no memberships"
    newest = sql(server.db, "SELECT c.id, c.last_message_id, coalesce((SELECT max(m.id) "
                 "FROM messages m WHERE m.channel_id = c.id), 0) FROM channels c")
    for cid, kept, real in newest:
        assert kept == real, "channel %d: last_message_id %d, newest message %d" % (cid, kept, real)
    for (cid, uid), (unread, kept, mc, mc_re, rc, rc_re) in counts.items():
        assert (mc, rc) == (mc_re, rc_re), \
            "channel %d user %d: kept message_count/read_count %d/%d, recounted %d/%d" % (
                cid, uid, mc, rc, mc_re, rc_re)
        assert unread == kept, "channel %d user %d: %d unread, kept %d" % (cid, uid, unread, kept)
    # and that is what the API shows each of them
    for u in alive.values():
        for ch in assert_json(api.get("/api/channels", token=u.token), 200)["channels"]:
            if (ch["id"], u.id) in counts:
                assert ch["unread_count"] == min(CAP, counts[(ch["id"], u.id)][0]), (u.id, ch)
                one = assert_json(api.get("/api/channels/%d" % ch["id"], token=u.token), 200)
                assert one["unread_count"] == ch["unread_count"]
                assert one["last_message_id"] == ch["last_message_id"]
