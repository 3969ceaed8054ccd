/* token_cache.c — verified access tokens per process (token_cache.h). */
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "token_cache.h"
#include "util.h"

struct slot {
	char *token;               /* owned copy; NULL when empty */
	struct pl_claims claims;   /* as pl_token_verify filled them */
};

struct pl_token_cache {
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
	struct slot slots[PL_TOKEN_CACHE_SLOTS];
};

struct pl_token_cache *pl_token_cache_new(void)
{
	struct pl_token_cache *c = pl_xcalloc(1, sizeof(*c));

	crypto_shorthash_keygen(c->hash_key);
	return c;
}

void pl_token_cache_free(struct pl_token_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < PL_TOKEN_CACHE_SLOTS; i++)
		free(cache->slots[i].token);
	sodium_memzero(cache, sizeof(*cache));
	free(cache);
}

static struct slot *slot_of(struct pl_token_cache *cache, const char *token)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)token, strlen(token), cache->hash_key);
	memcpy(&v, h, sizeof(v));
	return &cache->slots[v % PL_TOKEN_CACHE_SLOTS];
}

int pl_token_verify_cached(struct pl_token_cache *cache, const unsigned char *key,
			   size_t key_len, const char *token, int64_t now,
			   struct pl_claims *claims, bool *hit, struct pl_err *err)
{
	struct slot *s;

	if (hit)
		*hit = false;
	if (!cache || !token || !*token || strlen(token) > 2048)
		return pl_token_verify(key, key_len, token, now, claims, err);
	s = slot_of(cache, token);
	if (s->token && strcmp(s->token, token) == 0) {
		/* The clock moved on since: the same time rules again. */
		if (s->claims.expires_at <= now) {
			memset(claims, 0, sizeof(*claims));
			return pl_err_set(err, 401, "token expired");
		}
		if (s->claims.issued_at > now + PL_TOKEN_LEEWAY) {
			memset(claims, 0, sizeof(*claims));
			return pl_err_set(err, 401, "token not valid yet");
		}
		*claims = s->claims;
		if (hit)
			*hit = true;
		return 0;
	}
	if (pl_token_verify(key, key_len, token, now, claims, err) < 0)
		return -1;
	free(s->token);
	s->token = pl_xstrdup(token);
	s->claims = *claims;
	return 0;
}
