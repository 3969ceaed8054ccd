"""Behaviour that keeps costs bounded as data grows."""

import time

import pg_util
from helpers import unique_channel


def test_unread_count_stops_at_1000(server, api, alice, bob):
    ch = api.create_channel(alice.token, unique_channel())["id"]
    assert api.post("/api/channels/%d/join" % ch, token=bob.token).status_code == 200
    api.send(alice.token, ch, "first")
    now = int(time.time() * 1000)
    # 1,500 more messages straight into the database (the API would take
    # seconds); the read path does not care how they arrived.
    db = pg_util.connect(server.db, readonly=False)
    try:
        with db:
            db.executemany("INSERT INTO messages (channel_id, user_id, content, created_at) "
                           "VALUES (?, ?, ?, ?)",
                           [(ch, alice.id, "bulk %d" % i, now + i) for i in range(1500)])
    finally:
        db.close()
    ro = pg_util.connect(server.db)
    try:
        newest = ro.execute("SELECT max(id) FROM messages WHERE channel_id = ?", (ch,)).fetchone()[0]
    finally:
        ro.close()
    # 1,501 unread, none deleted, none bob's: the count stops at 1000
    listed = api.channel_in_list(bob.token, ch)
    assert listed["unread_count"] == 1000
    assert listed["last_message_id"] == newest
    got = api.get("/api/channels/%d" % ch, token=bob.token).json()
    assert got["unread_count"] == 1000
    assert got["last_message_id"] == newest
    # the author's own messages never count
    assert api.channel_in_list(alice.token, ch)["unread_count"] == 0
    # and do not hide others' written after them: exact below the cap
    # (schema 021; the capped walk of the first 1,000 after alice's marker
    # saw only her own and said 0)
    for i in range(3):
        api.send(bob.token, ch, "after the bulk %d" % i)
    assert api.channel_in_list(alice.token, ch)["unread_count"] == 3
    assert api.get("/api/channels/%d" % ch, token=alice.token).json()["unread_count"] == 3
