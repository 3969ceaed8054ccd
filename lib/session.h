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

#endif
