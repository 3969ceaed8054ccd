/* db_copy.h — moving a deployment from SQLite to PostgreSQL (issue 14). */
#ifndef PL_DB_COPY_H
#define PL_DB_COPY_H

#include <stdint.h>
#include <stdio.h>
#include "db.h"
#include "err.h"

/*
 * pl_db_copy_to_postgres: copies every row of the SQLite database `src`
 * into the PostgreSQL database `dst`, ids as they are, in one transaction
 * on `dst` (under its write lock) read from one snapshot of `src`.
 *
 * `dst` must be migrated to the same schema version as `src` and hold no
 * rows (the search_state row its migration made aside); otherwise nothing
 * is written and -1 comes back with `err` 409 saying why. Every table of
 * `src` must be one parley knows (an unknown table is refused: nothing is
 * dropped silently); SQLite's own search index (messages_fts*) and
 * sqlite_sequence are not rows of their own: PostgreSQL's search column
 * is generated, and each identity sequence is set past the highest id
 * SQLite ever gave (so ids are never reused after the move either).
 * After the copy the row count of every table is compared on both sides
 * within the transaction; a difference rolls everything back.
 *
 * `report`, when not NULL, receives one line per table ("users 12\n").
 * Returns 0 or -1 (`err` set: 409 for a refused target, 500 otherwise).
 * Neither handle is closed.
 */
int pl_db_copy_to_postgres(struct pl_db *src, struct pl_db *dst, FILE *report,
			   struct pl_err *err);

#endif
