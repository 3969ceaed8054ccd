"""Edit history (issue 17): every edit that changes a message's text keeps
the text it replaced; GET /api/messages/{id}/edits shows it, oldest
version first (API.md v2), paged with after= and limit=, to exactly those who may read the
message (the same answer as GET /api/messages/{id}); deleting the message
deletes its history. Runs on both engines and under every front."""

import pytest

from helpers import assert_error, assert_json, assert_time, make_user
from rt_util import sql


@pytest.fixture
def room(api):
    """bob's private channel with alice (who writes) and carol (who reads);
    dave is an outsider."""
    alice, bob, carol, dave = (make_user(api, p) for p in ("eha", "ehb", "ehc", "ehd"))
    ch = api.create_channel(bob.token, kind="private")
    for u in (alice, carol):
        r = api.post("/api/channels/%d/members" % ch["id"], {"user_id": u.id}, token=bob.token)
        assert r.status_code == 201, r.text
    return alice, bob, carol, dave, ch


def edit(api, user, mid, content):
    return assert_json(api.request("PATCH", "/api/messages/%d" % mid, token=user.token,
                                   json_body={"content": content}), 200)


def edits(api, user, mid, status=200, **params):
    r = api.get("/api/messages/%d/edits" % mid, token=user.token, params=params)
    if status != 200:
        assert_error(r, status, "not_found" if status == 404 else "bad_request")
        return None
    body = assert_json(r, 200)
    assert isinstance(body, list), body
    return body


def test_each_edit_keeps_the_text_it_replaced(api, room):
    alice, _, carol, _, ch = room
    m = api.send(alice.token, ch["id"], "v1 frist draft")
    assert edits(api, alice, m["id"]) == []
    e1 = edit(api, alice, m["id"], "v2 first draft")
    e2 = edit(api, alice, m["id"], "v2 first draft")     # the same text: no new row
    e3 = edit(api, alice, m["id"], "v3 final")
    hist = edits(api, carol, m["id"])
    assert [h["content"] for h in hist] == ["v1 frist draft", "v2 first draft"]
    assert set(hist[0]) == {"id", "content", "edited_at", "written_at", "replaced_at"}
    assert hist[0]["id"] < hist[1]["id"]
    for h in hist:
        assert_time(h["written_at"])
        assert_time(h["replaced_at"])
    # the oldest text was written when the message was (edited_at null, as
    # the message showed it then) and replaced by the first edit; the next
    # text was last set by the edit that repeated it
    assert hist[0]["edited_at"] is None
    assert hist[0]["written_at"] == m["created_at"]
    assert hist[0]["replaced_at"] == e1["edited_at"]
    assert hist[1]["edited_at"] == e2["edited_at"] == hist[1]["written_at"]
    assert hist[1]["replaced_at"] == e3["edited_at"]
    # the message itself has the newest text
    now = assert_json(api.get("/api/messages/%d" % m["id"], token=carol.token), 200)
    assert now["content"] == "v3 final"


def test_an_edit_that_repeats_the_text_still_dates_the_version(api, room):
    """edited_at of a version is the message's edited_at while it was the
    text: an edit to the same text (no history row) sets it, so the oldest
    version is not necessarily "never edited"."""
    alice, _, carol, _, ch = room
    m = api.send(alice.token, ch["id"], "same")
    e1 = edit(api, alice, m["id"], "same")
    edit(api, alice, m["id"], "different")
    hist = edits(api, carol, m["id"])
    assert [h["content"] for h in hist] == ["same"]
    assert hist[0]["edited_at"] == e1["edited_at"] == hist[0]["written_at"]
    assert e1["edited_at"] is not None


def test_who_may_read_the_history(api, room):
    alice, bob, carol, dave, ch = room
    m = api.send(alice.token, ch["id"], "before")
    edit(api, alice, m["id"], "after")
    for u in (alice, bob, carol):
        assert [h["content"] for h in edits(api, u, m["id"])] == ["before"]
    # an outsider learns nothing, not even that the message exists
    edits(api, dave, m["id"], status=404)
    assert api.get("/api/messages/%d" % m["id"], token=dave.token).status_code == 404
    edits(api, dave, 999999999, status=404)
    # a removed member loses it with the channel
    r = api.request("DELETE", "/api/channels/%d/members/%d" % (ch["id"], carol.id), token=bob.token)
    assert r.status_code == 204, r.text
    edits(api, carol, m["id"], status=404)
    # a public channel's history is readable as its messages are
    pub = api.create_channel(bob.token)
    pm = api.send(bob.token, pub["id"], "public before")
    edit(api, bob, pm["id"], "public after")
    assert api.get("/api/messages/%d" % pm["id"], token=dave.token).status_code == 200
    assert [h["content"] for h in edits(api, dave, pm["id"])] == ["public before"]


def test_deleting_the_message_deletes_its_history(server, api, room):
    alice, bob, carol, _, ch = room
    m = api.send(alice.token, ch["id"], "secret one")
    edit(api, alice, m["id"], "secret two")
    edit(api, alice, m["id"], "harmless")
    assert len(edits(api, carol, m["id"])) == 2
    r = api.request("DELETE", "/api/messages/%d" % m["id"], token=bob.token)   # the owner
    assert r.status_code == 204, r.text
    rows = sql(server.db, "SELECT count(*) FROM message_edits WHERE message_id = ?", (m["id"],))
    assert rows[0][0] == 0
    got = api.get("/api/messages/%d/edits" % m["id"], token=carol.token)
    assert got.status_code in (200, 404), got.text
    if got.status_code == 200:
        assert got.json() == []
    # a deleted message cannot be edited into a new history either
    r = api.request("PATCH", "/api/messages/%d" % m["id"], token=alice.token,
                    json_body={"content": "back"})
    assert r.status_code in (404, 409), r.text
    assert sql(server.db, "SELECT count(*) FROM message_edits WHERE message_id = ?",
               (m["id"],))[0][0] == 0


def test_pages_oldest_first(api, room):
    alice, _, carol, _, ch = room
    m = api.send(alice.token, ch["id"], "t0")
    for i in range(1, 6):
        edit(api, alice, m["id"], "t%d" % i)
    page1 = edits(api, carol, m["id"], limit=2)
    assert [h["content"] for h in page1] == ["t0", "t1"]
    page2 = edits(api, carol, m["id"], limit=2, after=page1[-1]["id"])
    assert [h["content"] for h in page2] == ["t2", "t3"]
    page3 = edits(api, carol, m["id"], limit=2, after=page2[-1]["id"])
    assert [h["content"] for h in page3] == ["t4"]
    assert edits(api, carol, m["id"], after=page3[-1]["id"]) == []
    for bad in ({"limit": "0"}, {"limit": "201"}, {"after": "abc"}, {"after": "-1"}):
        edits(api, carol, m["id"], status=400, **bad)
