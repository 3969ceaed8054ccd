/*
 * password.h — password storage: libsodium's crypto_pwhash_str (argon2id,
 * OPSLIMIT/MEMLIMIT_INTERACTIVE: ~55 ms and ~64 MiB per hash here, so the
 * number of concurrent hashes must stay bounded). pl_password_hash and
 * pl_password_check run their hash inside a slot of hashslot.h, the bound
 * shared by every process; pl_password_verify and pl_password_dummy_verify
 * are the unbounded primitives under them.
 * Source: libsodium documentation, "Password hashing".
 */
#ifndef PL_PASSWORD_H
#define PL_PASSWORD_H

#include <stddef.h>
#include <sodium.h>
#include "err.h"

#define PL_PASSWORD_HASH_LEN crypto_pwhash_STRBYTES
#define PL_PASSWORD_MIN 8      /* bytes (API.md: register) */
#define PL_PASSWORD_MAX 1024   /* bytes: bounds the work of one hash */

/*
 * pl_password_check_length: the one length rule for a new password:
 * 0 when `len` is PL_PASSWORD_MIN-PL_PASSWORD_MAX bytes, else -1 with
 * `err` = 400 naming `field` (e.g. "password", "new_password").
 */
int pl_password_check_length(size_t len, const char *field, struct pl_err *err);

/*
 * pl_password_hash: hashes the `len` bytes at `password` into `out`, a
 * NUL-terminated "$argon2id$..." string, holding a hash slot (hashslot.h)
 * meanwhile. Returns 0, or -1 with `err` = 503 with retry_after (every
 * slot stayed busy: nothing was hashed) or 500 (out of memory).
 */
int pl_password_hash(const char *password, size_t len, char out[PL_PASSWORD_HASH_LEN], struct pl_err *err);

/*
 * pl_password_verify: 0 when `password` matches the stored `hash`, -1
 * otherwise (wrong password or unusable hash). Constant-time in the
 * password (libsodium).
 */
int pl_password_verify(const char *hash, const char *password, size_t len);

/*
 * pl_password_check: inside a hash slot (hashslot.h), verifies `password`
 * (`len` bytes) against `stored_hash`, or — when `stored_hash` is NULL
 * (unknown user) — runs pl_password_dummy_verify, so both cost the same.
 * Returns 0 on a match, 1 on a mismatch (always for NULL), or -1 with
 * `err` = 503 and retry_after when every slot stayed busy (the password
 * was then not checked at all).
 */
int pl_password_check(const char *stored_hash, const char *password, size_t len, struct pl_err *err);

/* pl_password_dummy_verify: spends the same time as a verification, for
 * unknown users, so response time does not reveal which names exist. */
void pl_password_dummy_verify(const char *password, size_t len);

#endif
