/* token.c — HS256 JWT issue and verification through libjwt 1.10 (token.h). */
#include <errno.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "token.h"

int pl_token_issue(const unsigned char *key, size_t key_len, int64_t user_id,
		   const char *username, int64_t session_id, int64_t now, int ttl,
		   char **out, struct pl_err *err)
{
	jwt_t *jwt = NULL;
	int rc = -1;

	*out = NULL;
	if (jwt_new(&jwt) != 0)
		return pl_err_internal(err, "jwt_new failed");
	if (jwt_add_grant_int(jwt, "sub", (long)user_id) ||
	    jwt_add_grant(jwt, "name", username) ||
	    jwt_add_grant_int(jwt, "sid", (long)session_id) ||
	    jwt_add_grant_int(jwt, "iat", (long)now) ||
	    jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)key_len)) {
		pl_err_internal(err, "cannot build token");
		goto out;
	}
	/* jwt_encode_str returns malloc'd memory: the caller free()s it. */
	if (!(*out = jwt_encode_str(jwt))) {
		pl_err_internal(err, "jwt_encode_str failed");
		goto out;
	}
	rc = 0;
out:
	jwt_free(jwt);
	return rc;
}

static int grant_int(jwt_t *jwt, const char *name, int64_t *out)
{
	long v;

	errno = 0;
	v = jwt_get_grant_int(jwt, name);
	if (errno)
		return -1;
	*out = v;
	return 0;
}

int pl_token_verify(const unsigned char *key, size_t key_len, const char *token,
		    int64_t now, struct pl_claims *claims, struct pl_err *err)
{
	jwt_t *jwt = NULL;
	const char *name;
	int rc = -1;

	memset(claims, 0, sizeof(*claims));
	if (!token || !*token || strlen(token) > 2048)
		return pl_err_set(err, 401, "missing or invalid token");
	/* Always pass the key: libjwt accepts alg "none" when key is NULL. */
	if (jwt_decode(&jwt, token, key, (int)key_len) != 0 || !jwt) {
		pl_err_set(err, 401, "invalid token");
		goto out;
	}
	/* libjwt takes alg from the token (an HS512 token with our key would
	 * pass): pin HS256 here. */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		pl_err_set(err, 401, "invalid token");
		goto out;
	}
	if (grant_int(jwt, "sub", &claims->user_id) < 0 || claims->user_id <= 0 ||
	    grant_int(jwt, "sid", &claims->session_id) < 0 || claims->session_id <= 0 ||
	    grant_int(jwt, "exp", &claims->expires_at) < 0 ||
	    grant_int(jwt, "iat", &claims->issued_at) < 0 ||
	    !(name = jwt_get_grant(jwt, "name")) || strlen(name) > PL_USERNAME_MAX) {
		pl_err_set(err, 401, "invalid token");
		goto out;
	}
	/* libjwt checks no claims: exp is ours to enforce. */
	if (claims->expires_at <= now) {
		pl_err_set(err, 401, "token expired");
		goto out;
	}
	snprintf(claims->username, sizeof(claims->username), "%s", name);
	rc = 0;
out:
	jwt_free(jwt);
	return rc;
}
