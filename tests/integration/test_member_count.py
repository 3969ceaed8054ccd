"""A channel's member_count is kept on its row by triggers (schema 020,
issue 19) instead of counted per request: after random joins, leaves,
invitations, removals, direct messages, account deletions and a channel
deletion, every channel's member_count, as GET /api/channels and
GET /api/channels/{id} show it, equals a recount of channel_members.
Runs on both engines."""

import random

from helpers import PASSWORD, assert_json, make_user
from rt_util import sql


def recount(server):
    rows = sql(server.db, "SELECT c.id, (SELECT count(*) FROM channel_members m "
               "WHERE m.channel_id = c.id), c.member_count FROM channels c ORDER BY c.id")
    return {cid: (n, kept) for cid, n, kept in rows}


def test_member_count_never_drifts(server, api):
    rnd = random.Random(20261206)
    users = [make_user(api, "mc") for _ in range(6)]
    owner = users[0]
    public = [api.create_channel(owner.token) for _ in range(3)]
    private = [api.create_channel(owner.token, kind="private") for _ in range(2)]
    mine = {u.id: u for u in users}
    for step in range(80):
        u = rnd.choice(users[1:])
        if u.id not in mine:
            continue
        op = rnd.randrange(6)
        if op == 0:                      # join a public channel
            ch = rnd.choice(public)
            r = api.post("/api/channels/%d/join" % ch["id"], {}, token=u.token)
            assert r.status_code in (200, 201, 404), r.text
        elif op == 1:                    # leave one (may not be a member)
            ch = rnd.choice(public + private)
            r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch["id"], u.id),
                            token=u.token)
            assert r.status_code in (204, 403, 404), r.text
        elif op == 2:                    # the owner invites to a private channel
            ch = rnd.choice(private)
            r = api.post("/api/channels/%d/members" % ch["id"], {"user_id": u.id},
                         token=owner.token)
            assert r.status_code in (200, 201, 404), r.text
        elif op == 3:                    # the owner removes someone
            ch = rnd.choice(public + private)
            r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch["id"], u.id),
                            token=owner.token)
            assert r.status_code in (204, 404), r.text
        elif op == 4:                    # a direct message
            other = rnd.choice([x for x in users if x.id != u.id and x.id in mine])
            r = api.post("/api/channels/dm", {"user_ids": [other.id]}, token=u.token)
            assert r.status_code in (200, 201), r.text
        elif op == 5 and step > 60 and len(mine) > 3:   # an account goes
            r = api.request("DELETE", "/api/users/me", token=u.token,
                            json_body={"password": PASSWORD})
            assert r.status_code == 204, r.text
            del mine[u.id]
    # a channel deleted with its members
    r = api.request("DELETE", "/api/channels/%d" % public[0]["id"], token=owner.token)
    assert r.status_code == 204, r.text

    counts = recount(server)
    assert counts, "no channels"
    for cid, (n, kept) in counts.items():
        assert n == kept, "channel %d: %d members, member_count %d" % (cid, n, kept)
    # and that is what the API shows
    for ch in assert_json(api.get("/api/channels", token=owner.token), 200)["channels"]:
        assert ch["member_count"] == counts[ch["id"]][0], ch
    for ch in public[1:] + private:
        got = assert_json(api.get("/api/channels/%d" % ch["id"], token=owner.token), 200)
        assert got["member_count"] == counts[ch["id"]][0]
