/*
 * test_sms_verify.c — unit tests of sms_verify.h's pure parts: the strict
 * E.164 syntax and the phone / mention_mail fields of a profile patch.
 * (Codes, limits and the command are covered end to end by
 * tests/integration/test_sms.py.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "json.h"
#include "log.h"
#include "sms_verify.h"

static void test_phone_valid(void **state)
{
	static const char *good[] = { "+4915112345678", "+12345678", "+123456789012345", "+33612345678" };
	static const char *bad[] = { "", "+", "4915112345678", "+0151123456", "+1234567",
				     "+1234567890123456", "+49 1511234567", "+49-1511234567",
				     "++4915112345", "+4915112345678\n", "+49151123456a", "+٤٩١٥١١٢٣٤٥٦" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(pl_phone_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(pl_phone_valid(bad[i]));
	assert_false(pl_phone_valid(NULL));
}

/* Parses `json` into `p`; returns pl_phone_patch_parse's result. */
static int parse(const char *json, struct pl_phone_patch *p, cJSON **tree)
{
	struct pl_err err = { 0 };

	assert_int_equal(pl_json_parse(json, strlen(json), tree, &err), 0);
	return pl_phone_patch_parse(*tree, p, &err);
}

static void test_patch_parse(void **state)
{
	struct pl_phone_patch p;
	cJSON *t = NULL;

	assert_int_equal(parse("{\"display_name\":\"x\"}", &p, &t), 0);
	assert_false(p.set_phone);
	assert_int_equal(p.mention_mail, -1);
	cJSON_Delete(t);
	assert_int_equal(parse("{\"phone\":\"+4915112345678\",\"mention_mail\":false}", &p, &t), 0);
	assert_true(p.set_phone);
	assert_string_equal(p.phone, "+4915112345678");
	assert_int_equal(p.mention_mail, 0);
	cJSON_Delete(t);
	assert_int_equal(parse("{\"phone\":null,\"mention_mail\":true}", &p, &t), 0);
	assert_true(p.set_phone);
	assert_string_equal(p.phone, "");
	assert_int_equal(p.mention_mail, 1);
	cJSON_Delete(t);
	assert_int_equal(parse("{\"phone\":\"\"}", &p, &t), 0);
	assert_true(p.set_phone && p.phone[0] == '\0');
	cJSON_Delete(t);
	assert_int_equal(parse("{\"phone\":\"015112345678\"}", &p, &t), -1);
	cJSON_Delete(t);
	assert_int_equal(parse("{\"phone\":4915112345678}", &p, &t), -1);
	cJSON_Delete(t);
	assert_int_equal(parse("{\"mention_mail\":\"false\"}", &p, &t), -1);
	cJSON_Delete(t);
	assert_int_equal(parse("{\"mention_mail\":0}", &p, &t), -1);
	cJSON_Delete(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_valid),
		cmocka_unit_test(test_patch_parse),
	};

	pl_log_init("test_sms_verify", PL_LOG_ERROR);
	pl_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
