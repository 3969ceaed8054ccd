/*
 * token.h — access tokens: JWTs (RFC 7519) signed with HMAC-SHA256
 * (RFC 7518 §3.2) through libjwt 1.10. The algorithm is pinned: libjwt
 * takes `alg` from the token, so verification passes the key and then
 * requires HS256, and checks `exp` itself (libjwt checks no claims;
 * FACTS.md "Tokens and passwords").
 */
#ifndef PL_TOKEN_H
#define PL_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define PL_USERNAME_MAX 32

struct pl_claims {
	int64_t user_id;                     /* sub */
	char username[PL_USERNAME_MAX + 1];  /* name */
	int64_t session_id;                  /* sid */
	int64_t issued_at;                   /* iat, seconds since epoch */
	int64_t expires_at;                  /* exp, seconds since epoch */
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
 * pl_token_verify: checks `token`'s HS256 signature under `key`, that its
 * header says HS256 (none, HS384, HS512, ... are refused), that `exp` is
 * after `now` (seconds) and that sub/name/sid are present. Fills `claims`.
 * Does not consult the session store (see pl_session_check). Returns 0, or
 * -1 with `err` = 401.
 */
int pl_token_verify(const unsigned char *key, size_t key_len, const char *token,
		    int64_t now, struct pl_claims *claims, struct pl_err *err);

#endif
