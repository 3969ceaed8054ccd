/*
 * test_json.c — unit tests of json.h: strict parsing at the edge, typed
 * field getters, and pl_json_print (integers exactly, otherwise what
 * cJSON prints). util.h's helpers are in test_util.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "util.h"

/* Parses the NUL-terminated `s` (without its NUL); returns the rc. */
static int parse_str(const char *s, cJSON **out, struct pl_err *err)
{
	return pl_json_parse(s, strlen(s), out, err);
}

/* Asserts that `len` bytes at `buf` are refused with a 400 and no tree. */
static void refuse_n(const char *buf, size_t len)
{
	struct pl_err err = { 0 };
	cJSON *v = (cJSON *)0x1;
	int rc = pl_json_parse(buf, len, &v, &err);

	if (rc != -1) {
		print_error("accepted but should refuse: %.*s\n", (int)len, buf);
		if (rc == 0)
			cJSON_Delete(v);
	}
	assert_int_equal(rc, -1);
	assert_null(v);
	assert_int_equal(err.status, 400);
	assert_true(err.message[0] != '\0');
}

static void refuse(const char *s)
{
	refuse_n(s, strlen(s));
}

/* Asserts that `s` parses; returns the tree (caller deletes). */
static cJSON *accept(const char *s)
{
	struct pl_err err = { 0 };
	cJSON *v = NULL;
	int rc = parse_str(s, &v, &err);

	if (rc != 0)
		print_error("refused but should accept: %s (%s)\n", s, err.message);
	assert_int_equal(rc, 0);
	assert_non_null(v);
	assert_int_equal(err.status, 0);
	return v;
}

/* A string of `n` copies of `open`, then `inner`, then `n` of `close`. */
static char *nested(int n, const char *open, const char *inner, const char *close)
{
	size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
	char *s = malloc((size_t)n * (lo + lc) + li + 1), *p = s;

	assert_non_null(s);
	for (int i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (int i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

/* ---- pl_json_parse ---- */

static void test_parse_valid_object(void **state)
{
	cJSON *v = accept("{\"a\":1,\"b\":\"x\",\"c\":[1,2,{\"d\":null}],\"e\":true,\"f\":-2.5e3}");
	const cJSON *c;
	(void)state;

	assert_true(cJSON_IsObject(v));
	assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(v, "a")->valuedouble, 1);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "b")->valuestring, "x");
	c = cJSON_GetObjectItemCaseSensitive(v, "c");
	assert_true(cJSON_IsArray(c));
	assert_int_equal(cJSON_GetArraySize(c), 3);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(c, 2), "d")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "e")));
	assert_true(cJSON_GetObjectItemCaseSensitive(v, "f")->valuedouble == -2500.0);
	cJSON_Delete(v);
}

static void test_parse_valid_misc(void **state)
{
	cJSON *v;
	(void)state;

	v = accept("{}");
	assert_true(cJSON_IsObject(v));
	assert_int_equal(cJSON_GetArraySize(v), 0);
	cJSON_Delete(v);
	/* surrounding white space is not trailing garbage */
	v = accept(" \t\r\n{\"k\" : [ ] }\n ");
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(v, "k")));
	cJSON_Delete(v);
	/* any JSON value at the top (RFC 8259), not only objects */
	v = accept("[1,2]");
	assert_true(cJSON_IsArray(v));
	cJSON_Delete(v);
	v = accept("\"s\"");
	assert_string_equal(v->valuestring, "s");
	cJSON_Delete(v);
	/* escapes decode, valid UTF-8 passes through */
	v = accept("{\"s\":\"a\\\"b\\n\\u00e9\\ud83d\\udc4d h\xc3\xa9\"}");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "s")->valuestring,
			    "a\"b\n\xc3\xa9\xf0\x9f\x91\x8d h\xc3\xa9");
	cJSON_Delete(v);
	/* keys differing only by case are distinct, not duplicates */
	v = accept("{\"a\":1,\"A\":2}");
	cJSON_Delete(v);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	refuse("{");
	refuse("}");
	refuse("{\"a\":}");
	refuse("{\"a\" 1}");
	refuse("{'a':1}");
	refuse("{a:1}");
	refuse("{\"a\":1,}");
	refuse("[1,]");
	refuse("[1 2]");
	refuse("{\"a\":tru}");
	refuse("{\"a\":\"unterminated}");
	refuse("{\"a\":\"bad escape \\x\"}");
	refuse("nul");
	refuse("-");
}

/*
 * RFC 8259 grammar details cJSON alone is lax about (it reads numbers with
 * strtod and copies raw control characters). Reports every one accepted.
 */
static void test_parse_rfc8259_strict(void **state)
{
	static const char *const bad[] = {
		"{\"a\":01}",             /* leading zero (§6) */
		"{\"a\":-01}",
		"{\"a\":1.}",             /* '.' needs a digit after it */
		"{\"a\":\"tab\there\"}",  /* raw control character in a string (§7) */
		"{\"a\":\"nl\nhere\"}",
		"{\"a\":\"\x01\"}",
	};
	int accepted = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pl_err err = { 0 };
		cJSON *v = NULL;

		if (parse_str(bad[i], &v, &err) == 0) {
			print_error("accepted but should refuse: %s\n", bad[i]);
			cJSON_Delete(v);
			accepted++;
		}
	}
	assert_int_equal(accepted, 0);
}

static void test_parse_trailing_garbage(void **state)
{
	(void)state;
	refuse("{} x");
	refuse("{}{}");
	refuse("{}]");
	refuse("[1] 2");
	refuse("{\"a\":1}}");
	refuse("{\"a\":1},");
}

static void test_parse_invalid_utf8(void **state)
{
	(void)state;
	refuse("{\"a\":\"\xff\"}");
	refuse("{\"a\":\"\xc0\xaf\"}");          /* overlong '/' */
	refuse("{\"a\":\"\xe0\x80\xaf\"}");      /* overlong, 3 bytes */
	refuse("{\"a\":\"\xed\xa0\x80\"}");      /* UTF-16 surrogate D800 */
	refuse("{\"a\":\"\xf4\x90\x80\x80\"}");  /* above U+10FFFF */
	refuse("{\"a\":\"\xe2\x82\"}");          /* truncated sequence */
	refuse("{\"a\":\"\x80\"}");              /* lone continuation byte */
	refuse("{\"\xff\":1}");                  /* in a key */
}

static void test_parse_u0000(void **state)
{
	cJSON *v;
	(void)state;

	refuse("{\"a\":\"\\u0000\"}");
	refuse("{\"a\":\"x\\u0000y\"}");
	refuse("{\"a\\u0000b\":1}");
	refuse("[\"\\\\\\u0000\"]");  /* escaped backslash, then a real \u0000 */
	/* an escaped backslash followed by the text u0000 is fine */
	v = accept("{\"a\":\"\\\\u0000\"}");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "a")->valuestring, "\\u0000");
	cJSON_Delete(v);
	/* other \u escapes are fine */
	v = accept("{\"a\":\"\\u0041\\u0001\"}");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "a")->valuestring, "A\x01");
	cJSON_Delete(v);
}

static void test_parse_depth_arrays(void **state)
{
	char *s;
	cJSON *v;
	(void)state;

	s = nested(PL_JSON_MAX_DEPTH, "[", "1", "]");
	v = accept(s);
	cJSON_Delete(v);
	free(s);
	s = nested(PL_JSON_MAX_DEPTH + 1, "[", "1", "]");
	refuse(s);
	free(s);
	s = nested(PL_JSON_MAX_DEPTH + 1, "[", "", "]");
	refuse(s);
	free(s);
}

static void test_parse_depth_objects(void **state)
{
	char *s;
	cJSON *v;
	(void)state;

	s = nested(PL_JSON_MAX_DEPTH - 1, "{\"a\":", "{}", "}");
	v = accept(s);
	cJSON_Delete(v);
	free(s);
	s = nested(PL_JSON_MAX_DEPTH, "{\"a\":", "{}", "}");
	refuse(s);
	free(s);
	/* mixed: 16 objects holding 16 arrays = 32 */
	s = nested(16, "{\"k\":[", "0", "]}");
	v = accept(s);
	cJSON_Delete(v);
	free(s);
	s = nested(16, "{\"k\":[", "[]", "]}");
	refuse(s);
	free(s);
}

static void test_parse_depth_ignores_strings(void **state)
{
	(void)state;
	/* brackets inside strings are text, not nesting */
	char *inner = nested(40, "[", "", "{");
	char buf[200];
	cJSON *v;

	snprintf(buf, sizeof(buf), "{\"a\":\"%s\"}", inner);
	v = accept(buf);
	assert_int_equal(strlen(cJSON_GetObjectItemCaseSensitive(v, "a")->valuestring), 80);
	cJSON_Delete(v);
	free(inner);
}

static void test_parse_duplicate_keys(void **state)
{
	(void)state;
	refuse("{\"a\":1,\"a\":2}");
	refuse("{\"a\":1,\"b\":2,\"a\":1}");
	refuse("{\"x\":{\"b\":1,\"b\":1}}");
	refuse("[{\"k\":1},{\"k\":1,\"k\":2}]");
	refuse("{\"x\":[{\"y\":{\"z\":true,\"z\":false}}]}");
	/* equal after unescaping */
	refuse("{\"a\":1,\"\\u0061\":2}");
}

static void test_parse_number_range(void **state)
{
	cJSON *v;
	(void)state;

	refuse("{\"a\":1e400}");
	refuse("{\"a\":-1e400}");
	refuse("1e400");
	refuse("[1,[2,1e999]]");
	v = accept("{\"a\":1e308}");
	assert_true(cJSON_GetObjectItemCaseSensitive(v, "a")->valuedouble == 1e308);
	cJSON_Delete(v);
}

static void test_parse_empty(void **state)
{
	(void)state;
	refuse_n("", 0);
	refuse_n("{}", 0);  /* len 0 wins over the bytes behind it */
	refuse("   ");
	refuse("\n");
}

static void test_parse_nul_byte(void **state)
{
	(void)state;
	refuse_n("{\"a\":1}\0", 8);
	refuse_n("{\"a\":\"x\0y\"}", 11);
	refuse_n("\0{}", 3);
}

static void test_parse_not_nul_terminated(void **state)
{
	static const char text[] = "{\"a\":12345}";
	size_t len = sizeof(text) - 1;
	char *buf = malloc(len);  /* exactly len bytes: no NUL behind */
	struct pl_err err = { 0 };
	cJSON *v = NULL;
	(void)state;

	assert_non_null(buf);
	memcpy(buf, text, len);
	assert_int_equal(pl_json_parse(buf, len, &v, &err), 0);
	assert_non_null(v);
	assert_true(cJSON_GetObjectItemCaseSensitive(v, "a")->valuedouble == 12345.0);
	cJSON_Delete(v);
	free(buf);

	/* only len bytes count: what follows them is ignored */
	v = NULL;
	assert_int_equal(pl_json_parse("{\"a\":1}garbage", 7, &v, &err), 0);
	assert_true(cJSON_GetObjectItemCaseSensitive(v, "a")->valuedouble == 1.0);
	cJSON_Delete(v);
	v = NULL;
	assert_int_equal(pl_json_parse("[12345]", 4, &v, &err), -1);  /* "[123" */
	assert_null(v);
	assert_int_equal(err.status, 400);
}

/* ---- field getters ---- */

static int getters_setup(void **state)
{
	cJSON *v = NULL;
	struct pl_err err = { 0 };
	const char *doc =
		"{\"s\":\"str\",\"n\":5,\"t\":true,\"f\":false,\"z\":null,\"neg\":-1,"
		"\"zero\":0,\"frac\":1.5,\"big\":9007199254740994,\"max\":9007199254740991,\"two53\":9007199254740992,\"two53p1\":9007199254740993,"
		"\"snum\":\"5\",\"arr\":[],\"obj\":{},\"empty\":\"\"}";

	if (parse_str(doc, &v, &err) != 0)
		return -1;
	*state = v;
	return 0;
}

static int getters_teardown(void **state)
{
	cJSON_Delete(*state);
	return 0;
}

/* Expects -1, a 400 and the key named in the message. */
static void expect_field_error(int rc, const struct pl_err *err, const char *key)
{
	assert_int_equal(rc, -1);
	assert_int_equal(err->status, 400);
	assert_non_null(strstr(err->message, key));
}

static void test_get_string(void **state)
{
	const cJSON *o = *state;
	struct pl_err err = { 0 };
	const char *s = "untouched";

	assert_int_equal(pl_json_string(o, "s", true, &s, &err), 0);
	assert_string_equal(s, "str");
	assert_int_equal(pl_json_string(o, "empty", true, &s, &err), 0);
	assert_string_equal(s, "");

	s = "untouched";
	assert_int_equal(pl_json_string(o, "missing", false, &s, &err), 1);
	assert_string_equal(s, "untouched");
	assert_int_equal(pl_json_string(o, "z", false, &s, &err), 1);
	assert_string_equal(s, "untouched");
	assert_int_equal(err.status, 0);

	expect_field_error(pl_json_string(o, "missing", true, &s, &err), &err, "missing");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_string(o, "z", true, &s, &err), &err, "z");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_string(o, "n", false, &s, &err), &err, "n");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_string(o, "t", true, &s, &err), &err, "t");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_string(o, "arr", false, &s, &err), &err, "arr");
	assert_string_equal(s, "untouched");
	/* keys are case-sensitive */
	assert_int_equal(pl_json_string(o, "S", false, &s, &err), 1);
}

static void test_get_id(void **state)
{
	const cJSON *o = *state;
	struct pl_err err = { 0 };
	int64_t id = 77;

	assert_int_equal(pl_json_id(o, "n", true, &id, &err), 0);
	assert_int_equal(id, 5);
	/* 2^53 - 1 is the largest id; 2^53 is refused, as 2^53 + 1 (which
	 * cJSON's double rounds to 2^53) must be */
	assert_int_equal(pl_json_id(o, "max", true, &id, &err), 0);
	assert_true(id == INT64_C(9007199254740991));
	assert_int_equal(pl_json_id(o, "two53", true, &id, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(pl_json_id(o, "two53p1", true, &id, &err), -1);

	id = 77;
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_json_id(o, "missing", false, &id, &err), 1);
	assert_int_equal(pl_json_id(o, "z", false, &id, &err), 1);
	assert_int_equal(id, 77);
	assert_int_equal(err.status, 0);

	expect_field_error(pl_json_id(o, "missing", true, &id, &err), &err, "missing");
	static const char *const bad[] = { "zero", "neg", "frac", "big", "snum", "t", "arr", "obj" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		expect_field_error(pl_json_id(o, bad[i], false, &id, &err), &err, bad[i]);
	}
	expect_field_error(pl_json_id(o, "z", true, &id, &err), &err, "z");
	assert_int_equal(id, 77);
}

/* Id arrays follow the one id rule (2^53 refused, as for single ids). */
static void test_get_id_array(void **state)
{
	struct pl_err err = { 0 };
	int64_t *ids = NULL;
	size_t n = 9;
	static const char text[] =
		"{\"ok\":[1,2,9007199254740991],\"two53\":[1,9007199254740992],"
		"\"frac\":[1.5],\"str\":[\"1\"],\"zero\":[0],\"empty\":[],"
		"\"notarr\":5,\"z\":null}";
	cJSON *o = NULL;
	(void)state;

	assert_int_equal(pl_json_parse(text, strlen(text), &o, &err), 0);
	assert_non_null(o);
	assert_int_equal(pl_json_id_array(o, "ok", true, 1, 3, &ids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_true(ids[2] == INT64_C(9007199254740991));
	free(ids);
	/* too many for the bound */
	assert_int_equal(pl_json_id_array(o, "ok", true, 1, 2, &ids, &n, &err), -1);
	assert_null(ids);
	static const char *const bad[] = { "two53", "frac", "str", "zero", "notarr" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(pl_json_id_array(o, bad[i], false, 0, 10, &ids, &n, &err), -1);
		assert_int_equal(err.status, 400);
		assert_null(ids);
		assert_int_equal(n, 0);
	}
	/* empty: within 0-10, not within 1-10 */
	assert_int_equal(pl_json_id_array(o, "empty", true, 0, 10, &ids, &n, &err), 0);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(pl_json_id_array(o, "empty", true, 1, 10, &ids, &n, &err), -1);
	/* absent or null: optional is 1 (nothing read), required is 400 */
	assert_int_equal(pl_json_id_array(o, "missing", false, 0, 10, &ids, &n, &err), 1);
	assert_int_equal(pl_json_id_array(o, "z", false, 0, 10, &ids, &n, &err), 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_json_id_array(o, "z", true, 0, 10, &ids, &n, &err), -1);
	assert_int_equal(err.status, 400);
	cJSON_Delete(o);
}

static void test_get_bool(void **state)
{
	const cJSON *o = *state;
	struct pl_err err = { 0 };
	bool b = false;

	assert_int_equal(pl_json_bool(o, "t", true, &b, &err), 0);
	assert_true(b);
	assert_int_equal(pl_json_bool(o, "f", true, &b, &err), 0);
	assert_false(b);

	b = true;
	assert_int_equal(pl_json_bool(o, "missing", false, &b, &err), 1);
	assert_int_equal(pl_json_bool(o, "z", false, &b, &err), 1);
	assert_true(b);

	expect_field_error(pl_json_bool(o, "missing", true, &b, &err), &err, "missing");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_bool(o, "n", false, &b, &err), &err, "n");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_bool(o, "zero", false, &b, &err), &err, "zero");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_bool(o, "s", true, &b, &err), &err, "s");
	memset(&err, 0, sizeof(err));
	expect_field_error(pl_json_bool(o, "z", true, &b, &err), &err, "z");
	assert_true(b);
}

/* pl_json_print's own serializer prints what cJSON_PrintUnformatted prints. */
static void expect_print_like_cjson(const cJSON *v)
{
	char *mine = pl_json_print(v), *theirs = cJSON_PrintUnformatted(v);

	assert_non_null(theirs);
	assert_string_equal(mine, theirs);
	free(mine);
	free(theirs);
}

/* Integers print exactly, digit for digit (cJSON_PrintUnformatted prints
 * 2^53 as 9.00719925474099e+15, which reads back as another number). */
static void test_print_integers_exactly(void **state)
{
	static const int64_t ints[] = { 0, 1, -1, 42, 1700000000123LL, 1000000000000000LL,
					9007199254740992LL, -9007199254740992LL, 9007199254740993LL - 1 };
	char want[32];
	(void)state;

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		cJSON *n = cJSON_CreateNumber((double)ints[i]);
		char *got = pl_json_print(n);

		snprintf(want, sizeof(want), "%lld", (long long)ints[i]);
		assert_string_equal(got, want);
		free(got);
		cJSON_Delete(n);
	}
}

static void test_print_matches_cjson(void **state)
{
	static const double numbers[] = { 9007199254740994.0, 1e300, -1e-300, 0.1, 1.5, -2.25,
					  1.0 / 3, 123456789.125, 1e16, 1e300 * 1e10 };
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
	(void)state;

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(numbers[i]));
	cJSON_AddItemToObject(o, "numbers", a);
	cJSON_AddNumberToObject(o, "small", 7);
	cJSON_AddStringToObject(o, "plain", "hello world");
	cJSON_AddStringToObject(o, "escapes", "q\"b\\s/\b\f\n\r\t\x01\x1f end");
	cJSON_AddStringToObject(o, "utf8", "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x80\xa8");
	cJSON_AddStringToObject(o, "", "empty key");
	cJSON_AddStringToObject(o, "k\"ey\n", "escaped key");
	cJSON_AddTrueToObject(o, "t");
	cJSON_AddFalseToObject(o, "f");
	cJSON_AddNullToObject(o, "n");
	cJSON_AddItemToObject(o, "empty_array", cJSON_CreateArray());
	cJSON_AddItemToObject(o, "empty_object", cJSON_CreateObject());
	cJSON_AddRawToObject(o, "raw", "[1,2]");
	expect_print_like_cjson(o);
	expect_print_like_cjson(a);
	cJSON_Delete(o);
	{
		cJSON *s = cJSON_CreateString("");
		expect_print_like_cjson(s);
		cJSON_Delete(s);
	}
	/* Long strings, escapes at the start, the end and in runs (the
	 * buffer grows inside a string: the room reserved per escape). */
	{
		static char buf[20000];
		cJSON *arr = cJSON_CreateArray();

		for (size_t i = 0; i + 1 < sizeof(buf); i++)
			buf[i] = (char)(1 + i % 127);          /* every byte 0x01-0x7f */
		buf[sizeof(buf) - 1] = '\0';
		cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
		memset(buf, '\n', 5000);
		buf[5000] = '\0';
		cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
		cJSON_AddItemToArray(arr, cJSON_CreateString("\"starts and ends\\"));
		cJSON_AddItemToArray(arr, cJSON_CreateString("\x01"));
		expect_print_like_cjson(arr);
		cJSON_Delete(arr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_id_array),
		cmocka_unit_test(test_parse_valid_object),
		cmocka_unit_test(test_parse_valid_misc),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_rfc8259_strict),
		cmocka_unit_test(test_parse_trailing_garbage),
		cmocka_unit_test(test_parse_invalid_utf8),
		cmocka_unit_test(test_parse_u0000),
		cmocka_unit_test(test_parse_depth_arrays),
		cmocka_unit_test(test_parse_depth_objects),
		cmocka_unit_test(test_parse_depth_ignores_strings),
		cmocka_unit_test(test_parse_duplicate_keys),
		cmocka_unit_test(test_parse_number_range),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_nul_byte),
		cmocka_unit_test(test_parse_not_nul_terminated),
		cmocka_unit_test_setup_teardown(test_get_string, getters_setup, getters_teardown),
		cmocka_unit_test_setup_teardown(test_get_id, getters_setup, getters_teardown),
		cmocka_unit_test_setup_teardown(test_get_bool, getters_setup, getters_teardown),
		cmocka_unit_test(test_print_matches_cjson),
		cmocka_unit_test(test_print_integers_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
