/*
 * user_search.h — finding live users by the start of their username or
 * display name (GET /api/users?q=).
 */
#ifndef PL_USER_SEARCH_H
#define PL_USER_SEARCH_H

#include <cjson/cJSON.h>
#include "db.h"
#include "err.h"

/*
 * pl_user_search: up to `limit` (1-200) live users whose username or
 * display name starts with `prefix` (ASCII case ignored; "" = everyone),
 * ordered by username, as {"users":[...]} (public view). Index range
 * scans, no LIKE. Returns a new object (caller frees) or NULL (`err`:
 * 400 prefix over PL_SEARCH_MAX bytes, 500).
 */
#define PL_SEARCH_MAX 100   /* longest search prefix, bytes (400 above) */
cJSON *pl_user_search(struct pl_db *db, const char *prefix, int limit, struct pl_err *err);

#endif
