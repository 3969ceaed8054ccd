/*
 * fuzz_token.c — libFuzzer target for JWT verification (lib/token.c):
 * whatever a client puts after "Bearer " or in ?token=. Nothing but a
 * token signed with the key may verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "token.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[] = "fuzzing-key-fuzzing-key-fuzzing-key!";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_claims c;
	struct pl_err err = { 0 };
	char *tok = pl_xstrndup((const char *)data, size);

	if (pl_token_verify(key, sizeof(key) - 1, tok, 1700000000, &c, &err) == 0) {
		/* Only possible with the real key: the fuzzer cannot forge HS256. */
		char *again = NULL;
		if (pl_token_issue(key, sizeof(key) - 1, c.user_id, c.username, c.session_id,
				   1700000000, 60, &again, &err) < 0)
			abort();
		free(again);
	} else if (err.status != 401) {
		abort();
	}
	free(tok);
	return 0;
}
