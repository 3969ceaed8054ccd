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

/*
 * An integer claim. libjwt 1.10's jwt_get_grant_int reads a fraction, a
 * string, a boolean, null, an array or an object as 0 without an error, so
 * the type is checked on the claim's JSON text: an optional minus and
 * digits only, within int64. Returns 0 with *out set; 1 when the claim is
 * absent; -1 when it is anything but a JSON integer.
 */
static int grant_int(jwt_t *jwt, const char *name, int64_t *out)
{
	const char *digits;
	char *text, *end;
	long long v;
	int rc = -1;

	errno = 0;
	jwt_get_grant_int(jwt, name);
	if (errno == ENOENT)
		return 1;
	/* malloc'd by libjwt (jansson's json_dumps): released with free(3) */
	if (!(text = jwt_get_grants_json(jwt, name)))
		return -1;
	digits = text + (text[0] == '-');
	if (*digits && strspn(digits, "0123456789") == strlen(digits)) {
		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0') {
			*out = v;
			rc = 0;
		}
	}
	free(text);
	return rc;
}

/*
 * The time claims, RFC 7519 §4.1.4-4.1.6 (libjwt checks none): exp after
 * now; iat and, when present, nbf no later than now + PL_TOKEN_LEEWAY.
 * Returns 0, or -1 with `err` = 401.
 */
static int check_times(jwt_t *jwt, struct pl_claims *claims, int64_t now, struct pl_err *err)
{
	int64_t nbf = 0;
	int nbf_rc;   /* grant_int: 0 present, 1 absent */

	if (grant_int(jwt, "exp", &claims->expires_at) != 0 ||
	    grant_int(jwt, "iat", &claims->issued_at) != 0 ||
	    (nbf_rc = grant_int(jwt, "nbf", &nbf)) < 0)
		return pl_err_set(err, 401, "invalid token");
	if (claims->expires_at <= now)
		return pl_err_set(err, 401, "token expired");
	if (claims->issued_at > now + PL_TOKEN_LEEWAY || (nbf_rc == 0 && nbf > now + PL_TOKEN_LEEWAY))
		return pl_err_set(err, 401, "token not valid yet");
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
	if (grant_int(jwt, "sub", &claims->user_id) != 0 || claims->user_id <= 0 ||
	    grant_int(jwt, "sid", &claims->session_id) != 0 || claims->session_id <= 0 ||
	    !(name = jwt_get_grant(jwt, "name")) || strlen(name) > PL_USERNAME_MAX) {
		pl_err_set(err, 401, "invalid token");
		goto out;
	}
	if (check_times(jwt, claims, now, err) < 0)
		goto out;
	snprintf(claims->username, sizeof(claims->username), "%s", name);
	rc = 0;
out:
	jwt_free(jwt);
	return rc;
}
