/*
 * session.h — sign-in sessions. A session row holds the SHA-256-class hash
 * (libsodium crypto_generichash, BLAKE2b) of its current refresh token; the
 * access token (token.h) carries the session id as `sid`, so revoking the
 * session stops its access tokens at once. Refresh tokens are 32 random
 * bytes from libsodium, base64url without padding, rotated on every use;
 * the hashes a session rotated away from stay in refresh_rotated (schema
 * 003) so a replayed one revokes the session (RFC 6819 §5.2.2.3).
 */
#ifndef PL_SESSION_H
#define PL_SESSION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "config.h"
#include "token.h"
#include "token_cache.h"
#include "err.h"

/* The message of the 403 a deactivated account's login gets (README
 * "Server administration" documents the body). Its sessions are revoked
 * when it is deactivated, and the bearer check, refresh and WebSocket
 * tickets refuse any session of a user whose deactivated_at is set. */
#define PL_SESSION_DEACTIVATED_MSG "this account has been deactivated by a server admin"

/*
 * pl_session_try_password: one rate-limited password attempt for
 * `username` (as typed; the counters ignore ASCII case) from client
 * address `remote_addr` (may be "" or NULL). Counts the attempt against
 * login_user_limit and login_addr_limit first (429 with retry_after when
 * either is exhausted: the password is then not even checked), verifies
 * `password` (`len` bytes) against `stored_hash` (NULL = unknown user: a
 * dummy verification of the same cost runs), and gives the attempt back
 * when it succeeded, so only failures count and no other address's
 * counter changes. The verification runs inside a hash slot
 * (hashslot.h); when every slot stays busy the answer is 503 with
 * retry_after and the attempt is given back too (the password was not
 * checked). Runs no transaction while hashing. Returns 0 on a match; -1
 * with `err` = 401 (wrong password / unknown user), 429, 503, 500.
 */
int pl_session_try_password(struct pl_db *db, const struct pl_config *cfg, const char *username,
			    const char *stored_hash, const char *password, size_t len,
			    const char *remote_addr, struct pl_err *err);

/*
 * pl_session_login: checks `username`/`password` through
 * pl_session_try_password (401 with one message for an unknown user and a
 * wrong password, in the same time; 429 when rate limited; 503 when every
 * hash slot is busy), refuses an account a server admin deactivated
 * (403 PL_SESSION_DEACTIVATED_MSG, said only after the password matched),
 * creates a session and returns the contract's login body in *out:
 * {"token","access_token","refresh_token","token_type","expires_in","user"}.
 * `remote_addr` is the client address (req->remote_addr). Caller owns *out
 * (cJSON_Delete). Returns 0 or -1 (`err`).
 */
int pl_session_login(struct pl_db *db, const struct pl_config *cfg, const char *username,
		     const char *password, const char *remote_addr, cJSON **out, struct pl_err *err);

/*
 * pl_session_refresh: rotates `refresh_token` (RFC 6749 §6, RFC 6819
 * §5.2.2.3): when it is the current token of a live session, replaces it
 * with a new one (the old hash is kept in refresh_rotated), extends the
 * session to refresh_token_ttl from now and returns the same body as
 * login in *out (caller owns it). When it is a token the session has
 * already rotated away from, the whole session is revoked (its newest
 * refresh token and its access tokens stop working) and the answer is
 * 401. Unknown, expired or revoked: 401. Returns 0 or -1 (`err`).
 */
int pl_session_refresh(struct pl_db *db, const struct pl_config *cfg, const char *refresh_token,
		       cJSON **out, struct pl_err *err);

/*
 * pl_session_logout: revokes the session of `claims` (authenticated) at
 * once; when `refresh_token` (may be NULL) names another session of the
 * same user (its current or a rotated token), that one too. Tokens of
 * other users are ignored. With an API token (claims->token_id) it
 * revokes that token instead. Returns 0 or -1 (`err` = 500).
 */
int pl_session_logout(struct pl_db *db, const struct pl_claims *claims, const char *refresh_token,
		      struct pl_err *err);

/*
 * pl_session_revoke_user_locked: inside the caller's open transaction,
 * revokes every live session of `user_id` except `keep_sid` (0 = keep
 * none) and drops their pending WebSocket tickets. Returns 0 or -1 (500).
 */
int pl_session_revoke_user_locked(struct pl_db *db, int64_t user_id, int64_t keep_sid,
				  struct pl_err *err);

/*
 * pl_session_authenticate: the bearer check every protected path runs:
 * `authorization` is the raw header ("Bearer <jwt>"; for the WebSocket,
 * pass the bare token with `bare` true). Verifies the token (token.h;
 * through `tokens`, the process's cache, when not NULL: token_cache.h), then
 * that its session is neither revoked nor expired and its user exists
 * and is not deactivated. A token with the API-token prefix ("plt_") is
 * checked by pl_apitoken_authenticate instead (claims->token_id and scope
 * set). Fills `claims`. Returns 0, or -1 with `err` = 401.
 */
int pl_session_authenticate(struct pl_db *db, const struct pl_config *cfg,
			    struct pl_token_cache *tokens, const char *authorization, bool bare,
			    struct pl_claims *claims, struct pl_err *err);

/*
 * pl_session_check_principal: pl_session_check for whatever `claims`
 * came from: an API token (claims->token_id set: pl_apitoken_check) or a
 * session. Returns 0 while it works; -1 with `err` = 401 (500 on a
 * database error).
 */
int pl_session_check_principal(struct pl_db *db, const struct pl_claims *claims, struct pl_err *err);

/*
 * pl_session_check: 0 while session `session_id` of `user_id` is live (not
 * revoked, not expired, user neither deleted nor deactivated); -1 with
 * `err` = 401 otherwise
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
 * Expired tickets are swept on the way. An API token gets none (403: it
 * opens /ws?token= itself). Returns 0 or -1 (`err` = 403, 500).
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
