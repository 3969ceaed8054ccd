/* password.c — argon2id password hashing through libsodium (password.h). */
#include <string.h>
#include "hashslot.h"
#include "password.h"

int pl_password_hash(const char *password, size_t len, char out[PL_PASSWORD_HASH_LEN], struct pl_err *err)
{
	int slot, rc;

	if (pl_hashslot_acquire(&slot, err) < 0)
		return -1;
	rc = crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			       crypto_pwhash_MEMLIMIT_INTERACTIVE);
	pl_hashslot_release(slot);
	if (rc != 0)
		return pl_err_internal(err, "crypto_pwhash_str failed (out of memory?)");
	return 0;
}

int pl_password_check(const char *stored_hash, const char *password, size_t len, struct pl_err *err)
{
	int slot, rc = 1;

	if (pl_hashslot_acquire(&slot, err) < 0)
		return -1;
	if (!stored_hash)
		pl_password_dummy_verify(password, len);
	else if (pl_password_verify(stored_hash, password, len) == 0)
		rc = 0;
	pl_hashslot_release(slot);
	return rc;
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

int pl_password_check_length(size_t len, const char *field, struct pl_err *err)
{
	if (len < PL_PASSWORD_MIN || len > PL_PASSWORD_MAX)
		return pl_err_set(err, 400, "%s must be %d-%d bytes", field, PL_PASSWORD_MIN,
				  PL_PASSWORD_MAX);
	return 0;
}
