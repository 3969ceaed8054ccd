/* password.c — argon2id password hashing through libsodium (password.h). */
#include <string.h>
#include "password.h"

int pl_password_hash(const char *password, size_t len, char out[PL_PASSWORD_HASH_LEN], struct pl_err *err)
{
	if (crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return pl_err_internal(err, "crypto_pwhash_str failed (out of memory?)");
	return 0;
}

int pl_password_verify(const char *hash, const char *password, size_t len)
{
	return crypto_pwhash_str_verify(hash, password, len) == 0 ? 0 : -1;
}

void pl_password_dummy_verify(const char *password, size_t len)
{
	/* A valid argon2id string with the INTERACTIVE parameters, of a random
	 * password nobody knows: verifying against it costs a real hash. */
	static const char dummy[] =
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"6zXmsY0JbTQYpQ3yEBmhvZkoB1l2cH4vIX4v0FzOvHg";
	char buf[crypto_pwhash_STRBYTES] = { 0 };

	memcpy(buf, dummy, sizeof(dummy));
	if (crypto_pwhash_str_verify(buf, password, len) == 0)
		return; /* never: nobody knows that password */
}
