/*
 * session.h — sign-in sessions. A session row holds the SHA-256-class hash
 * (libsodium crypto_generichash, BLAKE2b) of its current refresh token; the
 * access token (token.h) carries the session id as `sid`, so revoking the
 * session stops its access tokens at once. Refresh tokens are 32 random
 * bytes from libsodium, base64url without padding.
 */
#ifndef PL_SESSION_H
#define PL_SESSION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "config.h"
#include "token.h"
#include "err.h"

/*
 * pl_session_login: checks `username`/`password` (401 with one message for
 * an unknown user and a wrong password, in the same time), creates a
 * session and returns the contract's login body in *out:
 * {"token","access_token","refresh_token","token_type","expires_in","user"}.
 * Caller owns *out (cJSON_Delete). Returns 0 or -1 (`err`).
 */
int pl_session_login(struct pl_db *db, const struct pl_config *cfg, const char *username,
		     const char *password, cJSON **out, struct pl_err *err);

/*
 * pl_session_authenticate: the bearer check every protected path runs:
 * `authorization` is the raw header ("Bearer <jwt>"; for the WebSocket,
 * pass the bare token with `bare` true). Verifies the token (token.h), then
 * that its session is neither revoked nor expired and its user exists.
 * Fills `claims`. Returns 0, or -1 with `err` = 401.
 */
int pl_session_authenticate(struct pl_db *db, const struct pl_config *cfg,
			    const char *authorization, bool bare,
			    struct pl_claims *claims, struct pl_err *err);

/*
 * pl_session_check: 0 while session `session_id` of `user_id` is live (not
 * revoked, not expired, user not deleted); -1 with `err` = 401 otherwise
 * (500 on a database error). The ws-daemon calls it periodically to close
 * sockets of revoked sessions.
 */
int pl_session_check(struct pl_db *db, int64_t session_id, int64_t user_id, struct pl_err *err);

#define PL_WS_TICKET_TTL 30   /* seconds a WebSocket ticket stays valid */
#define PL_WS_TICKET_LEN 64   /* buffer size for a ticket (text + NUL) */

/*
 * pl_ws_ticket_issue: creates a single-use ticket for the session in
 * `claims` (already authenticated), valid PL_WS_TICKET_TTL seconds, and
 * writes its text (base64url) into `out`. Only its hash is stored.
 * Expired tickets are swept on the way. Returns 0 or -1 (`err` = 500).
 */
int pl_ws_ticket_issue(struct pl_db *db, const struct pl_claims *claims,
		       char out[PL_WS_TICKET_LEN], struct pl_err *err);

/*
 * pl_ws_ticket_redeem: consumes `ticket` (it can never be used again) and,
 * if it was valid, unexpired, and its session is still live, fills
 * `claims` (user_id, username, session_id; issued_at/expires_at 0).
 * Returns 0, or -1 with `err` = 401 (unknown, used, expired, revoked).
 */
int pl_ws_ticket_redeem(struct pl_db *db, const char *ticket, struct pl_claims *claims,
			struct pl_err *err);

#endif
