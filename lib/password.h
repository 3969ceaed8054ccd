/*
 * password.h — password storage: libsodium's crypto_pwhash_str (argon2id,
 * OPSLIMIT/MEMLIMIT_INTERACTIVE: ~55 ms and ~64 MiB per hash here, so the
 * number of concurrent hashes must stay bounded — one per auth process).
 * Source: libsodium documentation, "Password hashing".
 */
#ifndef PL_PASSWORD_H
#define PL_PASSWORD_H

#include <stddef.h>
#include <sodium.h>
#include "err.h"

#define PL_PASSWORD_HASH_LEN crypto_pwhash_STRBYTES

/*
 * pl_password_hash: hashes the `len` bytes at `password` into `out`, a
 * NUL-terminated "$argon2id$..." string. Returns 0, or -1 with `err` = 500
 * (out of memory for the hash).
 */
int pl_password_hash(const char *password, size_t len, char out[PL_PASSWORD_HASH_LEN], struct pl_err *err);

/*
 * pl_password_verify: 0 when `password` matches the stored `hash`, -1
 * otherwise (wrong password or unusable hash). Constant-time in the
 * password (libsodium).
 */
int pl_password_verify(const char *hash, const char *password, size_t len);

/* pl_password_dummy_verify: spends the same time as a verification, for
 * unknown users, so response time does not reveal which names exist. */
void pl_password_dummy_verify(const char *password, size_t len);

#endif
