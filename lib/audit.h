/*
 * audit.h — the audit log of server administration (issue 16): one row per
 * administrative action (deactivate, reactivate, delete a message or a
 * channel, archive, unarchive, grant or revoke server admin, create or
 * revoke an invite), appended in the action's own transaction so that the
 * log never shows an action that was rolled back nor misses one that
 * committed. Table audit_log (schema/011_admin.sql says what each column
 * means). Read by GET /api/admin/audit and parleyctl audit.
 */
#ifndef PL_AUDIT_H
#define PL_AUDIT_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

/*
 * pl_audit_append: writes one audit row inside the caller's open write
 * transaction. `actor_id`: the server admin who acted, 0 for parleyctl
 * (then the row's actor is "parleyctl" and actor_id NULL; else the
 * actor's current username). `action` (e.g. "user.deactivate"),
 * `target_type` ("user", "message", "channel", "invite") and `target_id`
 * name what was done to what; `detail` (borrowed, may be NULL = {}) is
 * stored as JSON text. Returns 0 or -1 (`err` 500).
 */
int pl_audit_append(struct pl_db *db, int64_t actor_id, const char *action,
		    const char *target_type, int64_t target_id, const cJSON *detail,
		    struct pl_err *err);

/*
 * pl_audit_list: up to `limit` (1-200) rows with id below `before` (0: the
 * newest), newest first, as {"entries":[{"id","actor_id" (null for
 * parleyctl),"actor","action","target_type","target_id","detail" (object),
 * "created_at"}]}. No access check: the caller asked authz. *out is new
 * (caller frees). Returns 0 or -1 (`err`).
 */
int pl_audit_list(struct pl_db *db, int limit, int64_t before, cJSON **out, struct pl_err *err);

#endif
