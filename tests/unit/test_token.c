/*
 * test_token.c — unit tests of token.h: HS256 access tokens issued and
 * verified, and every way a token must be refused: wrong key, tampering,
 * expiry, another algorithm (none, HS384, HS512 with the same key — libjwt
 * takes alg from the token, FACTS.md), missing claims, and garbage; and
 * the time claims libjwt leaves to us (RFC 7519 §4.1.4-4.1.6): `iat` in the
 * future or `nbf` not reached (beyond PL_TOKEN_LEEWAY) is refused, and a
 * time claim that is not a JSON integer is refused.
 * Foreign tokens are built with libjwt itself, plus a control case that
 * shows the builder makes tokens pl_token_verify accepts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "token.h"

#define NOW 1700000000
#define TTL 3600

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char other_key[32] = "0123456789abcdef0123456789abcdeX";

/* Claims a token built by make_token carries. */
enum { C_SUB = 1, C_SID = 2, C_NAME = 4, C_IAT = 8, C_EXP = 16, C_ALL = 31 };

/* A token signed by libjwt with `alg` and `k`, holding the claims in
 * `mask` (sub 42, sid 7, name "alice", iat NOW, exp NOW + TTL). Caller
 * frees with free(3). */
static char *make_token(jwt_alg_t alg, const unsigned char *k, int klen, int mask)
{
	jwt_t *jwt = NULL;
	char *out;

	assert_int_equal(jwt_new(&jwt), 0);
	if (mask & C_SUB)
		assert_int_equal(jwt_add_grant_int(jwt, "sub", 42), 0);
	if (mask & C_SID)
		assert_int_equal(jwt_add_grant_int(jwt, "sid", 7), 0);
	if (mask & C_NAME)
		assert_int_equal(jwt_add_grant(jwt, "name", "alice"), 0);
	if (mask & C_IAT)
		assert_int_equal(jwt_add_grant_int(jwt, "iat", NOW), 0);
	if (mask & C_EXP)
		assert_int_equal(jwt_add_grant_int(jwt, "exp", NOW + TTL), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, k, klen), 0);
	out = jwt_encode_str(jwt);
	assert_non_null(out);
	jwt_free(jwt);
	return out;
}

/* A token signed HS256 with `key` whose claims are the JSON object
 * `claims` as written (any types). Caller frees with free(3). */
static char *make_claims(const char *claims)
{
	jwt_t *jwt = NULL;
	char *out;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS256, key, sizeof(key)), 0);
	out = jwt_encode_str(jwt);
	assert_non_null(out);
	jwt_free(jwt);
	return out;
}

/* The claims parley issues, with `iat` and `exp` as given and `extra`
 * (e.g. "\"nbf\":123,") spliced in first. Caller frees. */
static char *make_times(const char *extra, const char *iat, const char *exp)
{
	char json[512];

	snprintf(json, sizeof(json), "{%s\"sub\":42,\"name\":\"alice\",\"sid\":7%s%s%s%s}",
		 extra, iat ? ",\"iat\":" : "", iat ? iat : "", exp ? ",\"exp\":" : "", exp ? exp : "");
	return make_claims(json);
}

/* Asserts that `token` is accepted at `now`. */
static void expect_accepted_at(const char *token, int64_t now)
{
	struct pl_claims claims;
	struct pl_err err = { 0 };

	if (pl_token_verify(key, sizeof(key), token, now, &claims, &err) != 0)
		fail_msg("token refused (%d %s) but should be accepted: %.200s", err.status,
			 err.message, token);
	assert_int_equal(claims.user_id, 42);
}

/* base64url without padding of `len` bytes; caller frees. */
static char *b64url(const void *data, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);

	assert_non_null(out);
	sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* Asserts that `token` is refused with a 401 at `now`. */
static void expect_refused_at(const char *token, int64_t now)
{
	struct pl_claims claims;
	struct pl_err err = { 0 };
	int rc = pl_token_verify(key, sizeof(key), token, now, &claims, &err);

	if (rc != -1)
		fail_msg("token accepted but should be refused: %.400s", token ? token : "(null)");
	assert_int_equal(err.status, 401);
}

static void expect_refused(const char *token)
{
	expect_refused_at(token, NOW + 1);
}

static char *issue(void)
{
	struct pl_err err = { 0 };
	char *tok = NULL;

	assert_int_equal(pl_token_issue(key, sizeof(key), 42, "alice", 7, NOW, TTL, &tok, &err), 0);
	assert_non_null(tok);
	return tok;
}

static void test_round_trip(void **state)
{
	struct pl_claims c;
	struct pl_err err = { 0 };
	char *tok = issue();
	const char *dot1 = strchr(tok, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	(void)state;

	/* compact JWS: three non-empty base64url parts */
	assert_non_null(dot2);
	assert_null(strchr(dot2 + 1, '.'));
	assert_true(dot1 > tok && dot2 > dot1 + 1 && dot2[1] != '\0');
	assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
			 strlen(tok));

	assert_int_equal(pl_token_verify(key, sizeof(key), tok, NOW + 10, &c, &err), 0);
	assert_int_equal(c.user_id, 42);
	assert_string_equal(c.username, "alice");
	assert_int_equal(c.session_id, 7);
	assert_int_equal(c.issued_at, NOW);
	assert_int_equal(c.expires_at, NOW + TTL);
	assert_int_equal(err.status, 0);
	free(tok);
}

static void test_round_trip_long_name(void **state)
{
	struct pl_claims c;
	struct pl_err err = { 0 };
	const char *name = "abcdefghijklmnopqrstuvwxyz012345";  /* PL_USERNAME_MAX */
	char *tok = NULL;
	(void)state;

	assert_int_equal(strlen(name), PL_USERNAME_MAX);
	assert_int_equal(pl_token_issue(key, sizeof(key), 1, name, 1, NOW, TTL, &tok, &err), 0);
	assert_int_equal(pl_token_verify(key, sizeof(key), tok, NOW, &c, &err), 0);
	assert_string_equal(c.username, name);
	assert_int_equal(c.user_id, 1);
	free(tok);
}

/* The builder's tokens are accepted when nothing is wrong with them. */
static void test_libjwt_control(void **state)
{
	struct pl_claims c;
	struct pl_err err = { 0 };
	char *tok = make_token(JWT_ALG_HS256, key, sizeof(key), C_ALL);
	(void)state;

	assert_int_equal(pl_token_verify(key, sizeof(key), tok, NOW + 1, &c, &err), 0);
	assert_int_equal(c.user_id, 42);
	assert_int_equal(c.session_id, 7);
	assert_string_equal(c.username, "alice");
	free(tok);
}

static void test_wrong_key(void **state)
{
	struct pl_claims c;
	struct pl_err err = { 0 };
	char *tok = issue();
	(void)state;

	assert_int_equal(pl_token_verify(other_key, sizeof(other_key), tok, NOW + 1, &c, &err), -1);
	assert_int_equal(err.status, 401);
	memset(&err, 0, sizeof(err));
	/* a prefix of the right key is another key */
	assert_int_equal(pl_token_verify(key, sizeof(key) - 1, tok, NOW + 1, &c, &err), -1);
	assert_int_equal(err.status, 401);
	free(tok);
	/* signed elsewhere with another key */
	tok = make_token(JWT_ALG_HS256, other_key, sizeof(other_key), C_ALL);
	expect_refused(tok);
	free(tok);
}

static void test_tampered_payload(void **state)
{
	char *tok = issue();
	char *dot1 = strchr(tok, '.'), *dot2 = strchr(dot1 + 1, '.');
	char *mid = dot1 + 1 + (dot2 - dot1 - 1) / 2;
	char *forged, *payload;
	size_t len;
	const char *claims = "{\"sub\":1,\"name\":\"root\",\"sid\":7,\"iat\":1700000000,\"exp\":1700003600}";
	(void)state;

	/* one character flipped in the middle segment */
	*mid = *mid == 'A' ? 'B' : 'A';
	expect_refused(tok);
	*mid = *mid == 'A' ? 'B' : 'A';

	/* a well-formed payload with other claims under the original signature */
	payload = b64url(claims, strlen(claims));
	len = (size_t)(dot1 - tok) + 1 + strlen(payload) + strlen(dot2) + 1;
	forged = malloc(len);
	assert_non_null(forged);
	snprintf(forged, len, "%.*s.%s%s", (int)(dot1 - tok), tok, payload, dot2);
	expect_refused(forged);
	free(forged);
	free(payload);
	free(tok);
}

static void test_tampered_signature(void **state)
{
	char *tok = issue();
	char *sig = strrchr(tok, '.') + 1;
	size_t n = strlen(sig);
	char saved;
	(void)state;

	/* a character in the middle of the signature (every bit of it counts) */
	sig[n / 2] = sig[n / 2] == 'A' ? 'B' : 'A';
	expect_refused(tok);
	sig[n / 2] = sig[n / 2] == 'A' ? 'B' : 'A';
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	expect_refused(tok);
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	/* truncated, and empty */
	saved = sig[n - 4];
	sig[n - 4] = '\0';
	expect_refused(tok);
	sig[n - 4] = saved;
	sig[0] = '\0';
	expect_refused(tok);
	free(tok);
}

static void test_expired(void **state)
{
	struct pl_claims c;
	struct pl_err err = { 0 };
	char *tok = NULL;
	(void)state;

	/* issued in the past: exp = NOW - 1000 + 60 */
	assert_int_equal(pl_token_issue(key, sizeof(key), 42, "alice", 7, NOW - 1000, 60, &tok, &err), 0);
	expect_refused_at(tok, NOW);
	free(tok);

	/* the boundary: valid just before exp, refused at exp */
	tok = issue();
	assert_int_equal(pl_token_verify(key, sizeof(key), tok, NOW + TTL - 1, &c, &err), 0);
	expect_refused_at(tok, NOW + TTL);
	expect_refused_at(tok, NOW + TTL + 1);
	free(tok);

	/* ttl 0: expired at once */
	assert_int_equal(pl_token_issue(key, sizeof(key), 42, "alice", 7, NOW, 0, &tok, &err), 0);
	expect_refused_at(tok, NOW);
	free(tok);
}

static void test_alg_none(void **state)
{
	const char *header = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
	const char *claims = "{\"sub\":42,\"name\":\"alice\",\"sid\":7,\"iat\":1700000000,\"exp\":1700003600}";
	char *h = b64url(header, strlen(header)), *p = b64url(claims, strlen(claims));
	char tok[512], *lib;
	(void)state;

	/* hand-made "alg":"none" with an empty signature */
	snprintf(tok, sizeof(tok), "%s.%s.", h, p);
	expect_refused(tok);
	/* the same with a (meaningless) signature part */
	snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
	expect_refused(tok);
	/* and the one libjwt itself makes */
	lib = make_token(JWT_ALG_NONE, NULL, 0, C_ALL);
	expect_refused(lib);
	free(lib);
	free(h);
	free(p);
}

static void test_other_algs_same_key(void **state)
{
	char *tok;
	(void)state;

	tok = make_token(JWT_ALG_HS512, key, sizeof(key), C_ALL);
	expect_refused(tok);
	free(tok);
	tok = make_token(JWT_ALG_HS384, key, sizeof(key), C_ALL);
	expect_refused(tok);
	free(tok);
}

static void test_missing_claims(void **state)
{
	static const struct { int mask; const char *what; } cases[] = {
		{ C_ALL & ~C_SID, "sid" },
		{ C_ALL & ~C_NAME, "name" },
		{ C_ALL & ~C_SUB, "sub" },
		{ C_ALL & ~C_EXP, "exp" },
		{ C_ALL & ~C_IAT, "iat" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *tok = make_token(JWT_ALG_HS256, key, sizeof(key), cases[i].mask);
		struct pl_claims c;
		struct pl_err err = { 0 };

		if (pl_token_verify(key, sizeof(key), tok, NOW + 1, &c, &err) != -1)
			fail_msg("token without %s accepted", cases[i].what);
		assert_int_equal(err.status, 401);
		free(tok);
	}
}

static void test_bad_claim_values(void **state)
{
	struct pl_err err = { 0 };
	char *tok = NULL;
	(void)state;

	/* ids must be positive */
	assert_int_equal(pl_token_issue(key, sizeof(key), 0, "alice", 7, NOW, TTL, &tok, &err), 0);
	expect_refused(tok);
	free(tok);
	assert_int_equal(pl_token_issue(key, sizeof(key), 42, "alice", -1, NOW, TTL, &tok, &err), 0);
	expect_refused(tok);
	free(tok);
	/* ids (and a name) of the wrong JSON type: libjwt 1.10 reads a
	 * non-integer as 0 without an error; refused either way */
	static const char *const not_ints[] = {
		"{\"sub\":42.0,\"sid\":7,\"name\":\"alice\",\"iat\":1700000000,\"exp\":1700003600}",
		"{\"sub\":\"42\",\"sid\":7,\"name\":\"alice\",\"iat\":1700000000,\"exp\":1700003600}",
		"{\"sub\":42,\"sid\":true,\"name\":\"alice\",\"iat\":1700000000,\"exp\":1700003600}",
		"{\"sub\":42,\"sid\":[7],\"name\":\"alice\",\"iat\":1700000000,\"exp\":1700003600}",
		"{\"sub\":42,\"sid\":7,\"name\":5,\"iat\":1700000000,\"exp\":1700003600}",
	};
	for (size_t i = 0; i < sizeof(not_ints) / sizeof(not_ints[0]); i++) {
		tok = make_claims(not_ints[i]);
		expect_refused(tok);
		free(tok);
	}
	/* a name longer than any username */
	assert_int_equal(pl_token_issue(key, sizeof(key), 42, "abcdefghijklmnopqrstuvwxyz0123456",
				       7, NOW, TTL, &tok, &err), 0);
	expect_refused(tok);
	free(tok);
}

static void test_garbage(void **state)
{
	char *big = malloc(5001);
	(void)state;

	assert_non_null(big);
	memset(big, 'a', 5000);
	big[5000] = '\0';
	expect_refused(NULL);
	expect_refused("");
	expect_refused("a.b");
	expect_refused("a.b.c");
	expect_refused("..");
	expect_refused("...");
	expect_refused("Bearer x.y.z");
	expect_refused("eyJhbGciOiJIUzI1NiJ9");
	expect_refused("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9");
	expect_refused(big);
	memcpy(big + 1000, ".", 1);
	memcpy(big + 2000, ".", 1);
	expect_refused(big);
	free(big);
}

/* RFC 7519 §4.1.6: iat is when the token was issued. parley's issuer and
 * verifier share one clock, so a token issued later than now (beyond the
 * leeway for a clock stepped back) was not made by this server's issue path. */
static void test_iat_in_future(void **state)
{
	char iat[32], exp[32];
	char *tok;
	(void)state;

	snprintf(exp, sizeof(exp), "%d", NOW + 2 * TTL);
	/* beyond the leeway: refused, however far */
	snprintf(iat, sizeof(iat), "%d", NOW + PL_TOKEN_LEEWAY + 1);
	tok = make_times("", iat, exp);
	expect_refused_at(tok, NOW);
	expect_accepted_at(tok, NOW + 1);   /* ...until the clock catches up */
	free(tok);
	snprintf(iat, sizeof(iat), "%d", NOW + TTL);
	tok = make_times("", iat, exp);
	expect_refused_at(tok, NOW);
	free(tok);
	tok = make_times("", "4000000000", "4000003600");
	expect_refused_at(tok, NOW);
	free(tok);
	/* within the leeway, now, and long ago: accepted */
	snprintf(iat, sizeof(iat), "%d", NOW + PL_TOKEN_LEEWAY);
	tok = make_times("", iat, exp);
	expect_accepted_at(tok, NOW);
	free(tok);
	snprintf(iat, sizeof(iat), "%d", NOW);
	tok = make_times("", iat, exp);
	expect_accepted_at(tok, NOW);
	free(tok);
	tok = make_times("", "0", exp);
	expect_accepted_at(tok, NOW);
	free(tok);
}

/* RFC 7519 §4.1.5: nbf is the time before which the token must not be
 * accepted. parley does not issue it; when present it is honoured. */
static void test_nbf(void **state)
{
	char nbf[64], iat[32], exp[32];
	char *tok;
	(void)state;

	snprintf(iat, sizeof(iat), "%d", NOW);
	snprintf(exp, sizeof(exp), "%d", NOW + TTL);
	/* not reached (beyond the leeway): refused */
	snprintf(nbf, sizeof(nbf), "\"nbf\":%d,", NOW + PL_TOKEN_LEEWAY + 1);
	tok = make_times(nbf, iat, exp);
	expect_refused_at(tok, NOW);
	expect_accepted_at(tok, NOW + 1);
	free(tok);
	snprintf(nbf, sizeof(nbf), "\"nbf\":%d,", NOW + 600);
	tok = make_times(nbf, iat, exp);
	expect_refused_at(tok, NOW);
	expect_refused_at(tok, NOW + 600 - PL_TOKEN_LEEWAY - 1);
	expect_accepted_at(tok, NOW + 600 - PL_TOKEN_LEEWAY);
	free(tok);
	/* reached, or in the past, or within the leeway: accepted */
	static const int offsets[] = { PL_TOKEN_LEEWAY, 1, 0, -1, -TTL };
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		snprintf(nbf, sizeof(nbf), "\"nbf\":%d,", NOW + offsets[i]);
		tok = make_times(nbf, iat, exp);
		expect_accepted_at(tok, NOW);
		free(tok);
	}
	/* nbf never rescues an expired token */
	snprintf(nbf, sizeof(nbf), "\"nbf\":%d,", NOW - 10);
	tok = make_times(nbf, iat, exp);
	expect_refused_at(tok, NOW + TTL);
	free(tok);
}

/* RFC 7519 §2 NumericDate may have a fraction; parley issues whole seconds
 * and takes nothing else: a time claim that is not a JSON integer (a
 * fraction, a string, a boolean, null, an array, an object) is refused,
 * whichever of exp, iat and nbf it is. Absent exp or iat: refused (above);
 * absent nbf: fine. */
static void test_time_claim_types(void **state)
{
	static const char *const bad[] = {
		"1700000000.5", "1700000000.0", "1.7e9", "\"1700000000\"", "\"\"", "true",
		"false", "null", "[1700000000]", "{}", "-1.5",
	};
	char iat[32], exp[32], nbf[64];
	char *tok;
	(void)state;

	snprintf(iat, sizeof(iat), "%d", NOW);
	snprintf(exp, sizeof(exp), "%d", NOW + TTL);
	/* control: integers everywhere */
	snprintf(nbf, sizeof(nbf), "\"nbf\":%d,", NOW);
	tok = make_times(nbf, iat, exp);
	expect_accepted_at(tok, NOW + 1);
	free(tok);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tok = make_times("", bad[i], exp);
		expect_refused_at(tok, NOW + 1);
		free(tok);
		tok = make_times("", iat, bad[i]);
		expect_refused_at(tok, NOW + 1);
		free(tok);
		snprintf(nbf, sizeof(nbf), "\"nbf\":%s,", bad[i]);
		tok = make_times(nbf, iat, exp);
		expect_refused_at(tok, NOW + 1);
		free(tok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_long_name),
		cmocka_unit_test(test_libjwt_control),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tampered_payload),
		cmocka_unit_test(test_tampered_signature),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_other_algs_same_key),
		cmocka_unit_test(test_missing_claims),
		cmocka_unit_test(test_bad_claim_values),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_iat_in_future),
		cmocka_unit_test(test_nbf),
		cmocka_unit_test(test_time_claim_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
