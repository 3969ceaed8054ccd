/*
 * apitokens.h — personal API tokens (issue 16): long-lived bearer
 * credentials a user (or a bot's owner, for the bot) makes for scripts and
 * integrations. The text is "plt_" followed by 32 random bytes from
 * libsodium in base64url without padding (47 characters); only its BLAKE2b
 * hex is stored (schema/012_tokens_webhooks.sql), as for refresh tokens
 * (session.h). A token is presented as `Authorization: Bearer plt_...` or
 * `/ws?token=plt_...`; pl_session_authenticate hands it here. Each token
 * has a scope (token.h, enum pl_scope) that lib/http.c and the ws-daemon
 * enforce. A token stops working when it is deleted, when it expires, and
 * while its user is erased or deactivated; a password change does not end
 * it (it is a credential of its own, like a GitHub personal access token:
 * docs/DECISIONS.md).
 */
#ifndef PL_APITOKENS_H
#define PL_APITOKENS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "token.h"

#define PL_APITOKEN_PREFIX "plt_"
#define PL_APITOKEN_NAME_MAX 64          /* characters of a token's name */
#define PL_APITOKEN_MAX_PER_USER 100     /* live tokens one user may hold */
#define PL_APITOKEN_TOUCH_MS 60000       /* last_used_at moves at most this often */
#define PL_APITOKEN_EXPIRES_MAX (10LL * 366 * 86400) /* expires_in bound, seconds */

/* pl_scope_parse: "read" / "post" / "admin" -> the scope; -1 for anything
 * else (PL_SCOPE_SESSION has no name: it cannot be asked for). */
int pl_scope_parse(const char *s);

/* pl_scope_name: the scope's name ("read", ...; "session" for
 * PL_SCOPE_SESSION). Static string. */
const char *pl_scope_name(enum pl_scope scope);

/* pl_apitoken_is_one: whether the bearer text `token` has the shape of an
 * API token (the prefix), so the caller hands it here, not to the JWT check. */
bool pl_apitoken_is_one(const char *token);

/*
 * pl_apitoken_create: makes a token for `user_id` from the request body
 * `in` ({"name": 1-PL_APITOKEN_NAME_MAX chars, "scope": "read"|"post"|
 * "admin", "expires_in"?: seconds in [60, PL_APITOKEN_EXPIRES_MAX]}). On
 * success *out (caller owns, cJSON_Delete) is the token object with its
 * secret: {"id","name","scope","token","created_at","expires_at",
 * "last_used_at"} — the only time the text is ever shown. Returns 0, or -1
 * with `err` = 400 (bad field), 409 (PL_APITOKEN_MAX_PER_USER reached),
 * 404 (no such live user), 500.
 */
int pl_apitoken_create(struct pl_db *db, int64_t user_id, const cJSON *in, cJSON **out,
		       struct pl_err *err);

/*
 * pl_apitoken_list: *out = {"tokens":[token objects without the secret]},
 * newest first, of `user_id` (expired ones included, with expires_at in
 * the past, until deleted). Caller owns *out. Returns 0 or -1 (500).
 */
int pl_apitoken_list(struct pl_db *db, int64_t user_id, cJSON **out, struct pl_err *err);

/*
 * pl_apitoken_delete: revokes token `token_id` of `user_id` (the row goes;
 * ids are never reused). Open sockets of it close within the ws-daemon's
 * session check (4001). Returns 0, or -1 with `err` = 404 (no such token
 * of this user), 500.
 */
int pl_apitoken_delete(struct pl_db *db, int64_t user_id, int64_t token_id, struct pl_err *err);

/*
 * pl_apitoken_authenticate: checks the presented `token` text (borrowed):
 * known, unexpired, its user neither erased nor deactivated. Fills
 * `claims` (user_id, username, token_id, scope; session_id 0, times 0) and
 * moves last_used_at to now when it is older than PL_APITOKEN_TOUCH_MS (a
 * failed touch is logged, not an error). Returns 0, or -1 with `err` = 401
 * (one message for every refusal), 500.
 */
int pl_apitoken_authenticate(struct pl_db *db, const char *token, struct pl_claims *claims,
			     struct pl_err *err);

/*
 * pl_apitoken_check: 0 while token `token_id` of `user_id` still works
 * (as pl_apitoken_authenticate decides, without touching it); -1 with
 * `err` = 401 otherwise (500 on a database error). The ws-daemon's
 * periodic and per-frame check.
 */
int pl_apitoken_check(struct pl_db *db, int64_t token_id, int64_t user_id, struct pl_err *err);

/*
 * pl_apitoken_drop_user_locked: inside the caller's transaction, deletes
 * every token of `user_id` (account erasure). Returns 0 or -1 (500).
 */
int pl_apitoken_drop_user_locked(struct pl_db *db, int64_t user_id, struct pl_err *err);

#endif
