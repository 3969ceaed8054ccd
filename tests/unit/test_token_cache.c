/*
 * test_token_cache.c — unit tests of token_cache.h: a token verified once
 * is answered from the cache with the same claims; the clock is applied
 * again on every hit (expired, or issued in the future after the clock
 * went back); a refused token (another key, tampered) is never cached;
 * distinct tokens beyond the slots (evictions) still verify; a NULL cache
 * is a plain pl_token_verify.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "token_cache.h"
#include "util.h"

#define NOW 1700000000
#define TTL 900

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char other_key[32] = "0123456789abcdef0123456789abcdeX";

static char *issue(const unsigned char *k, int64_t user, const char *name, int64_t now)
{
	struct pl_err err = { 0 };
	char *tok = NULL;

	assert_int_equal(pl_token_issue(k, sizeof(key), user, name, user + 100, now, TTL, &tok, &err), 0);
	return tok;
}

static int verify(struct pl_token_cache *c, const char *tok, int64_t now, struct pl_claims *cl,
		  bool *hit, int *status)
{
	struct pl_err err = { 0 };
	int rc = pl_token_verify_cached(c, key, sizeof(key), tok, now, cl, hit, &err);

	*status = rc < 0 ? err.status : 200;
	return rc;
}

static void test_second_use_is_a_hit_with_the_same_claims(void **state)
{
	struct pl_token_cache *c = pl_token_cache_new();
	char *tok = issue(key, 42, "alice", NOW);
	struct pl_claims first, again;
	bool hit = true;
	int status;

	assert_int_equal(verify(c, tok, NOW, &first, &hit, &status), 0);
	assert_false(hit);
	assert_int_equal(verify(c, tok, NOW + 10, &again, &hit, &status), 0);
	assert_true(hit);
	assert_memory_equal(&first, &again, sizeof(first));
	assert_int_equal(again.user_id, 42);
	assert_int_equal(again.session_id, 142);
	assert_string_equal(again.username, "alice");
	free(tok);
	pl_token_cache_free(c);
}

static void test_the_clock_applies_to_hits(void **state)
{
	struct pl_token_cache *c = pl_token_cache_new();
	char *tok = issue(key, 7, "bob", NOW);
	struct pl_claims cl;
	bool hit;
	int status;

	assert_int_equal(verify(c, tok, NOW, &cl, &hit, &status), 0);
	/* expired: refused although cached */
	assert_int_equal(verify(c, tok, NOW + TTL, &cl, &hit, &status), -1);
	assert_int_equal(status, 401);
	assert_int_equal(cl.user_id, 0);
	/* the clock went back past iat + leeway: not valid yet */
	assert_int_equal(verify(c, tok, NOW - PL_TOKEN_LEEWAY - 1, &cl, &hit, &status), -1);
	assert_int_equal(status, 401);
	/* and still fine inside its lifetime */
	assert_int_equal(verify(c, tok, NOW + TTL - 1, &cl, &hit, &status), 0);
	assert_true(hit);
	free(tok);
	pl_token_cache_free(c);
}

static void test_refused_tokens_are_never_cached(void **state)
{
	struct pl_token_cache *c = pl_token_cache_new();
	char *foreign = issue(other_key, 9, "mallory", NOW);
	char *tok = issue(key, 9, "carol", NOW);
	char *tampered = pl_xstrdup(tok);
	struct pl_claims cl;
	bool hit;
	int status;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(verify(c, foreign, NOW, &cl, &hit, &status), -1);
		assert_false(hit);
		assert_int_equal(status, 401);
	}
	assert_int_equal(verify(c, tok, NOW, &cl, &hit, &status), 0);
	/* one byte of the signature changed: not the cached token */
	tampered[strlen(tampered) - 2] = tampered[strlen(tampered) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(c, tampered, NOW, &cl, &hit, &status), -1);
	assert_false(hit);
	assert_int_equal(verify(c, tok, NOW, &cl, &hit, &status), 0);
	assert_true(hit);
	assert_int_equal(verify(c, "", NOW, &cl, &hit, &status), -1);
	assert_int_equal(verify(c, NULL, NOW, &cl, &hit, &status), -1);
	free(foreign);
	free(tok);
	free(tampered);
	pl_token_cache_free(c);
}

static void test_more_tokens_than_slots(void **state)
{
	struct pl_token_cache *c = pl_token_cache_new();
	enum { N = PL_TOKEN_CACHE_SLOTS * 3 };
	char **toks = calloc(N, sizeof(*toks));
	struct pl_claims cl;
	bool hit;
	int status, hits = 0;

	for (int i = 0; i < N; i++)
		toks[i] = issue(key, i + 1, "user", NOW);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			assert_int_equal(verify(c, toks[i], NOW, &cl, &hit, &status), 0);
			assert_int_equal(cl.user_id, i + 1);
			hits += hit;
		}
	/* some survive eviction, never all of the second round */
	assert_true(hits > 0 && hits < N);
	for (int i = 0; i < N; i++)
		free(toks[i]);
	free(toks);
	pl_token_cache_free(c);
}

static void test_no_cache_is_a_plain_verify(void **state)
{
	char *tok = issue(key, 5, "dave", NOW);
	struct pl_claims cl;
	bool hit = true;
	int status;

	assert_int_equal(verify(NULL, tok, NOW, &cl, &hit, &status), 0);
	assert_false(hit);
	assert_int_equal(verify(NULL, tok, NOW + TTL, &cl, &hit, &status), -1);
	assert_int_equal(status, 401);
	pl_token_cache_free(NULL);
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_use_is_a_hit_with_the_same_claims),
		cmocka_unit_test(test_the_clock_applies_to_hits),
		cmocka_unit_test(test_refused_tokens_are_never_cached),
		cmocka_unit_test(test_more_tokens_than_slots),
		cmocka_unit_test(test_no_cache_is_a_plain_verify),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
