#!/usr/bin/python3
"""gen_db.py DB USERNAME MESSAGES — fills a migrated parley database for
the REST benchmark: one public channel "bench-big" owned by USERNAME (who
must exist) holding MESSAGES messages, one "bench-small" with 1,000, and
20 more channels the user belongs to (for the channel list). Direct SQL in
large transactions: a million rows take seconds, not the API's hours.

DB is what parley.conf's db_path or db_url holds, by the server's rule: a
libpq connection string (postgresql://..., postgres://... or key=value ...)
is PostgreSQL (psycopg2, Debian's python3-psycopg2; rows by COPY, then
VACUUM ANALYZE), anything else an SQLite file (an optional sqlite: prefix).
Prints "BIG SMALL", the two channels' ids."""

import io
import sys
import time

CONTENT = "benchmark message %d with some ordinary text in it"


def is_pg(url):
    first = url.split()[0] if url.split() else ""
    return url.startswith(("postgresql://", "postgres://")) or "=" in first


class Engine:
    """The few statements below, on either engine: SQL is written with ?
    placeholders (SQLite's); insert() returns the new row's id."""

    def __init__(self, url):
        self.pg = is_pg(url)
        if self.pg:
            import psycopg2
            self.db = psycopg2.connect(url)  # one transaction until commit()
            cur = self.db.cursor()
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '256MB'")
        else:
            import sqlite3
            if url.startswith("sqlite:"):
                url = url[len("sqlite:"):]
            self.db = sqlite3.connect(url, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=OFF")
            self.db.execute("BEGIN")

    def execute(self, sql, args=()):
        if self.pg:
            cur = self.db.cursor()
            cur.execute(sql.replace("?", "%s"), args)
            return cur
        return self.db.execute(sql, args)

    def one(self, sql, args=()):
        return self.execute(sql, args).fetchone()[0]

    def insert(self, sql, args):
        if self.pg:
            return self.one(sql + " RETURNING id", args)
        return self.execute(sql, args).lastrowid

    def messages(self, rows):
        """rows: (channel_id, user_id, content, created_at) tuples."""
        if self.pg:
            # COPY's text format: tab-separated; the contents hold no tab,
            # newline or backslash. search_vector is generated, id drawn
            # from the identity.
            buf = io.StringIO("".join("%d\t%d\t%s\t%d\n" % r for r in rows))
            self.db.cursor().copy_expert(
                "COPY messages (channel_id, user_id, content, created_at) FROM STDIN", buf)
        else:
            self.db.executemany("INSERT INTO messages (channel_id, user_id, content, created_at) "
                                "VALUES (?, ?, ?, ?)", rows)

    def commit(self):
        if self.pg:
            self.db.commit()
        else:
            self.db.execute("COMMIT")

    def finish(self):
        if self.pg:
            # VACUUM, not only ANALYZE: the hint bits and visibility map
            # set now, so neither the first reads of the benchmark nor an
            # autovacuum woken by a million inserts run during it.
            self.db.autocommit = True
            self.db.cursor().execute("VACUUM (ANALYZE)")
        else:
            self.db.execute("PRAGMA optimize")
        self.db.close()


def main(url, username, count):
    db = Engine(url)
    uid = db.one("SELECT id FROM users WHERE username = ?", (username,))
    now = int(time.time() * 1000)

    def channel(name):
        cid = db.insert("INSERT INTO channels (name, kind, topic, created_by, created_at) "
                        "VALUES (?, 'public', '', ?, ?)", (name, uid, now))
        db.execute("INSERT INTO channel_members (channel_id, user_id, role, joined_at) "
                   "VALUES (?, ?, 'owner', ?)", (cid, uid, now))
        return cid

    def fill(cid, n):
        batch = 50000
        for start in range(0, n, batch):
            db.messages([(cid, uid, CONTENT % i, now + i)
                         for i in range(start, min(n, start + batch))])

    big = channel("bench-big")
    fill(big, count)
    small = channel("bench-small")
    fill(small, 1000)
    for i in range(20):
        fill(channel("bench-list-%d" % i), 50)
    if not db.pg:
        # index what was added, as the server's batches would (schema 006);
        # PostgreSQL's search column is generated, always current
        upto = db.one("SELECT indexed_upto FROM search_state")
        db.execute("INSERT INTO messages_fts (rowid, content) "
                   "SELECT id, content FROM messages WHERE id > ?", (upto,))
        db.execute("UPDATE search_state SET indexed_upto = (SELECT max(id) FROM messages)")
    db.commit()
    db.finish()
    print("%d %d" % (big, small))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
