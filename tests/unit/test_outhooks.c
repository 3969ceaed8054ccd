/*
 * test_outhooks.c — unit tests of the outgoing webhook pieces that need no
 * database or network: the SSRF guard's address ranges and URL parsing
 * (url_guard.h, numeric hosts only: no DNS), the allow-list, trigger words
 * and the retry backoff (outhook_queue.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include "outhook_queue.h"
#include "url_guard.h"

static bool forbidden(const char *addr)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, addr, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		return pl_addr_forbidden((struct sockaddr *)&in, NULL);
	}
	assert_int_equal(inet_pton(AF_INET6, addr, &in6.sin6_addr), 1);
	in6.sin6_family = AF_INET6;
	return pl_addr_forbidden((struct sockaddr *)&in6, NULL);
}

static void test_ranges(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255",
		"192.168.0.1", "169.254.169.254", "100.64.0.1", "100.127.255.255", "0.0.0.0",
		"224.0.0.1", "239.255.255.250", "255.255.255.255", "192.0.2.1", "198.18.0.1",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe",
		"fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "2001:db8::1", "::127.0.0.1",
	};
	static const char *const good[] = {
		"93.184.216.34", "8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1",
		"100.63.255.255", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2001:4860::8888",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!forbidden(bad[i]))
			fail_msg("%s should be refused", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (forbidden(good[i]))
			fail_msg("%s should be allowed", good[i]);
}

static void test_parse(void **state)
{
	struct pl_url_target t;
	struct pl_err err = { 0 };
	static const char *const bad[] = {
		"", "ftp://x.example/", "file:///etc/passwd", "http://", "http://u:p@x.example/",
		"http://x.example:0/", "http://x.example:65536/", "http://x.example:8a/",
		"http://[::1/", "http://x example/", "http://x.example/#f", "http://x.example/\r\n",
		"http://ex%41mple.com/", "javascript:alert(1)",
	};
	(void)state;
	assert_int_equal(pl_url_parse("https://Hooks.Example.com/a?b=c", &t, &err), 0);
	assert_true(t.https);
	assert_string_equal(t.host, "Hooks.Example.com");
	assert_int_equal(t.port, 443);
	assert_int_equal(pl_url_parse("http://[2606:4700::1111]:8443/x", &t, &err), 0);
	assert_string_equal(t.host, "2606:4700::1111");
	assert_int_equal(t.port, 8443);
	assert_int_equal(pl_url_parse("HTTP://1.2.3.4", &t, &err), 0);
	assert_int_equal(t.port, 80);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.status = 0;
		if (pl_url_parse(bad[i], &t, &err) == 0)
			fail_msg("%s should be refused", bad[i]);
		assert_int_equal(err.status, 400);
	}
}

static void test_check_numeric(void **state)
{
	struct pl_url_target t;
	struct pl_err err = { 0 };

	(void)state;
	assert_int_equal(pl_url_check("http://127.0.0.1:9/x", "", &t, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "loopback"));
	assert_int_equal(pl_url_check("http://127.0.0.1:9/x", "a.example, 127.0.0.1", &t, &err), 0);
	assert_true(t.allowed_host);
	assert_string_equal(t.addr, "127.0.0.1");
	assert_int_equal(pl_url_check("http://[::1]/", "127.0.0.1", &t, &err), -1);
	assert_int_equal(pl_url_check("http://[::1]/", "::1", &t, &err), 0);
	assert_int_equal(pl_url_check("http://93.184.216.34/h", "", &t, &err), 0);
	assert_false(t.allowed_host);
	assert_string_equal(t.addr, "93.184.216.34");
}

static void test_allow_list(void **state)
{
	(void)state;
	assert_true(pl_url_host_allowed("receiver.internal", "127.0.0.1,Receiver.Internal"));
	assert_true(pl_url_host_allowed("127.0.0.1", " 127.0.0.1 "));
	assert_false(pl_url_host_allowed("127.0.0.11", "127.0.0.1"));
	assert_false(pl_url_host_allowed("evil.receiver.internal", "receiver.internal"));
	assert_false(pl_url_host_allowed("x", ""));
}

static void test_trigger(void **state)
{
	const char *w;
	size_t n;

	(void)state;
	assert_true(pl_outhook_trigger("", "anything", &w, &n));
	assert_null(w);
	assert_true(pl_outhook_trigger("!deploy hey", "  HEY you", &w, &n));
	assert_int_equal(n, 3);
	assert_memory_equal(w, "hey", 3);
	assert_true(pl_outhook_trigger("!deploy hey", "!deploy", &w, &n));
	assert_memory_equal(w, "!deploy", n);
	assert_false(pl_outhook_trigger("!deploy hey", "heyyou", NULL, NULL));
	assert_false(pl_outhook_trigger("!deploy hey", "say hey", NULL, NULL));
	assert_false(pl_outhook_trigger("hey", "", NULL, NULL));
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(pl_outhook_backoff_ms(10000, 1, 0), 10000);
	assert_int_equal(pl_outhook_backoff_ms(10000, 2, 0), 30000);
	assert_int_equal(pl_outhook_backoff_ms(10000, 3, 0), 120000);
	assert_int_equal(pl_outhook_backoff_ms(10000, 4, 0), 600000);
	assert_int_equal(pl_outhook_backoff_ms(10000, 5, 0), 3600000);
	assert_int_equal(pl_outhook_backoff_ms(10000, 9, 0), 3600000);
	assert_int_equal(pl_outhook_backoff_ms(10000, 1, 1), 12000);
	assert_int_equal(pl_outhook_backoff_ms(100, 2, 0.5), 330);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_check_numeric),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_trigger),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
