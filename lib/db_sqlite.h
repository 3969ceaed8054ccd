/*
 * db_sqlite.h — what only SQLite-specific code may know of a db.h
 * connection: its sqlite3 handle. For the unit tests and tools that check
 * SQLite itself (autocommit state, pragmas); parley's programs use db.h.
 */
#ifndef PL_DB_SQLITE_H
#define PL_DB_SQLITE_H

#include <sqlite3.h>
#include "db.h"

/* pl_db_sqlite: the raw sqlite3 handle of `db` (borrowed, owned by `db`). */
sqlite3 *pl_db_sqlite(struct pl_db *db);

#endif
