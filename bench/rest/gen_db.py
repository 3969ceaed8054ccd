#!/usr/bin/python3
"""gen_db.py DB USERNAME MESSAGES — fills a migrated parley database for
the REST benchmark: one public channel "bench-big" owned by USERNAME (who
must exist) holding MESSAGES messages, one "bench-small" with 1,000, and
20 more channels the user belongs to (for the channel list). Direct SQL in
large transactions: a million rows take seconds, not the API's hours."""

import sqlite3
import sys
import time


def main(path, username, count):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    uid = db.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()[0]
    now = int(time.time() * 1000)

    def channel(name):
        cur = db.execute("INSERT INTO channels (name, kind, topic, created_by, created_at) "
                         "VALUES (?, 'public', '', ?, ?)", (name, uid, now))
        cid = cur.lastrowid
        db.execute("INSERT INTO channel_members (channel_id, user_id, role, joined_at) "
                   "VALUES (?, ?, 'owner', ?)", (cid, uid, now))
        return cid

    def fill(cid, n):
        batch = 50000
        for start in range(0, n, batch):
            rows = [(cid, uid, "benchmark message %d with some ordinary text in it" % i, now + i)
                    for i in range(start, min(n, start + batch))]
            db.executemany("INSERT INTO messages (channel_id, user_id, content, created_at) "
                           "VALUES (?, ?, ?, ?)", rows)

    with db:
        big = channel("bench-big")
        fill(big, count)
        small = channel("bench-small")
        fill(small, 1000)
        for i in range(20):
            fill(channel("bench-list-%d" % i), 50)
        # index what was added, as the server's batches would (schema 006)
        upto = db.execute("SELECT indexed_upto FROM search_state").fetchone()[0]
        db.execute("INSERT INTO messages_fts (rowid, content) "
                   "SELECT id, content FROM messages WHERE id > ?", (upto,))
        db.execute("UPDATE search_state SET indexed_upto = (SELECT max(id) FROM messages)")
    db.execute("PRAGMA optimize")
    db.close()
    print("%d %d" % (big, small))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
