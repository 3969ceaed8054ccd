/*
 * test_reactions.c — unit tests of reactions.h: which strings are
 * accepted as a reaction emoji (one grapheme-ish token of printable
 * UTF-8, at most 32 bytes; no spaces, controls or invalid bytes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include "reactions.h"

static void test_emoji(void **state)
{
	static const char *const good[] = { "👍", "+1", "🇫🇷", "👩‍👩‍👧", "ok", "é" };
	static const char *const bad[] = { "", "a b", "a\tb", "x\x7f", "\xc2\x85", "\xc2\xa0",
		"\xe2\x80\xa8", "\xff", "\xc3\x28", "123456789012345678901234567890123" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!pl_reaction_emoji_valid(good[i]))
			fail_msg("emoji %zu refused", i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pl_reaction_emoji_valid(bad[i]))
			fail_msg("bad emoji %zu accepted", i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emoji),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
