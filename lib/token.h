/*
 * token.h — access tokens: JWTs (RFC 7519) signed with HMAC-SHA256
 * (RFC 7518 §3.2) through libjwt 1.10. The algorithm is pinned: libjwt
 * takes `alg` from the token, so verification passes the key and then
 * requires HS256, and checks `exp`, `iat` and `nbf` itself (libjwt checks
 * no claims; FACTS.md "Tokens and passwords").
 */
#ifndef PL_TOKEN_H
#define PL_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define PL_USERNAME_MAX 32

/*
 * PL_TOKEN_LEEWAY: seconds a token may claim to be from the future (`iat`
 * after now, `nbf` not yet reached) and still be accepted, for a clock
 * stepped back between issue and use (RFC 7519 §4.1.5 allows "some small
 * leeway"). Issuer and verifier are processes on one host sharing one
 * clock, so a minute is plenty. `exp` gets none: a token is refused from
 * its expiry second on.
 */
#define PL_TOKEN_LEEWAY 60

/*
 * What a credential may do (issue 16). A sign-in session (a JWT) may do
 * everything its user may: PL_SCOPE_SESSION. A personal API token
 * (apitokens.h) carries the scope it was made with; docs/DECISIONS.md
 * "API token scopes" has the mapping to endpoints.
 */
enum pl_scope {
	PL_SCOPE_SESSION = 0, /* a sign-in session: no limit */
	PL_SCOPE_READ = 1,    /* GET/HEAD and receiving events */
	PL_SCOPE_POST = 2,    /* read + everything a chat client does */
	PL_SCOPE_ADMIN = 3    /* everything the owner may do */
};

struct pl_claims {
	int64_t user_id;                     /* sub */
	char username[PL_USERNAME_MAX + 1];  /* name */
	int64_t session_id;                  /* sid; 0 for an API token */
	int64_t issued_at;                   /* iat, seconds since epoch */
	int64_t expires_at;                  /* exp, seconds since epoch */
	int64_t token_id;                    /* the API token's id, 0 for a session */
	enum pl_scope scope;                 /* PL_SCOPE_SESSION for a session */
};

/*
 * pl_token_issue: signs claims {sub, name, sid, iat = now, exp = now + ttl}
 * (`now` and `ttl` in seconds) with `key` (`key_len` bytes). On success
 * *out is a NUL-terminated compact JWS the caller frees with free(3).
 * Returns 0, or -1 with `err` = 500.
 */
int pl_token_issue(const unsigned char *key, size_t key_len, int64_t user_id,
		   const char *username, int64_t session_id, int64_t now, int ttl,
		   char **out, struct pl_err *err);

/*
 * pl_token_verify: checks `token` (NUL-terminated, borrowed; at most 2048
 * bytes) against `key` (`key_len` bytes) at time `now` (seconds since the
 * epoch), and fills `claims` (caller-owned; only meaningful on success).
 * Accepted only when all hold:
 * - the HS256 signature is right and the header says HS256 (none, HS384,
 *   HS512, ... are refused: libjwt takes alg from the token);
 * - sub and sid are positive JSON integers, name a string of at most
 *   PL_USERNAME_MAX bytes;
 * - exp (RFC 7519 §4.1.4) is a JSON integer after `now` (no leeway);
 * - iat (§4.1.6) is a JSON integer no later than `now` + PL_TOKEN_LEEWAY;
 * - nbf (§4.1.5), optional (parley does not issue it), when present is a
 *   JSON integer no later than `now` + PL_TOKEN_LEEWAY.
 * exp and iat are required. A time claim that is not a JSON integer (a
 * fraction, which NumericDate allows, a string, a boolean, null) is
 * refused. Does not consult the session store (see pl_session_check).
 * Returns 0, or -1 with `err` = 401.
 */
int pl_token_verify(const unsigned char *key, size_t key_len, const char *token,
		    int64_t now, struct pl_claims *claims, struct pl_err *err);

#endif
