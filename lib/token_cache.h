/*
 * token_cache.h — a per-process cache of access tokens that passed
 * pl_token_verify (token.h), so that a FastCGI process or the ws-daemon
 * checks a client's token with libjwt once, not on every request: the
 * HMAC through OpenSSL 3 and the JSON parse cost ~75,000 instructions
 * (~14 µs here) a verification, more than most handlers (issue 19,
 * docs/BENCHMARKS.md).
 *
 * A hit needs the very same token bytes (compared whole, not by hash) and
 * is checked again against the clock (exp after now, iat not ahead of
 * now + PL_TOKEN_LEEWAY); a token that failed is never cached, so nothing
 * is accepted that pl_token_verify would refuse. One cache serves one key
 * (the process's jwt_secret, fixed for its lifetime). Revocation is not
 * the cache's business: pl_session_authenticate still checks the session
 * row on every request. Direct-mapped, PL_TOKEN_CACHE_SLOTS slots chosen
 * by a keyed SipHash of the token (libsodium crypto_shorthash), so a
 * client cannot aim collisions (and a collision only evicts). Not
 * thread-safe: one per process, as pl_ctx holds it.
 */
#ifndef PL_TOKEN_CACHE_H
#define PL_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "token.h"

#define PL_TOKEN_CACHE_SLOTS 256

struct pl_token_cache;

/*
 * pl_token_cache_new: an empty cache (sodium_init must have run: pl_ctx
 * does). Returns it (free with pl_token_cache_free), never NULL (aborts on
 * out of memory, as pl_xmalloc).
 */
struct pl_token_cache *pl_token_cache_new(void);

/* pl_token_cache_free: frees `cache` and its tokens; NULL is a no-op. */
void pl_token_cache_free(struct pl_token_cache *cache);

/*
 * pl_token_verify_cached: pl_token_verify with the same arguments and
 * answers, through `cache` (NULL: no cache, a plain pl_token_verify).
 * *hit (may be NULL) says whether libjwt was spared. Returns 0, or -1 with
 * `err` = 401.
 */
int pl_token_verify_cached(struct pl_token_cache *cache, const unsigned char *key,
			   size_t key_len, const char *token, int64_t now,
			   struct pl_claims *claims, bool *hit, struct pl_err *err);

#endif
