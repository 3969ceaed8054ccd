/* util.c — allocation policy, time, UTF-8 and small parsers (util.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util.h"

static void oom(size_t n)
{
	fprintf(stderr, "parley: out of memory allocating %zu bytes\n", n);
	abort();
}

void *pl_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *pl_xcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		oom(count * n);
	return p;
}

char *pl_xstrdup(const char *s)
{
	return pl_xstrndup(s, strlen(s));
}

char *pl_xstrndup(const char *s, size_t n)
{
	char *p = pl_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int64_t pl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *pl_time_format(int64_t ms, char out[PL_TIME_LEN])
{
	/* Floor division, so times before the epoch format correctly. */
	int64_t secs64 = ms / 1000 - (ms % 1000 < 0);
	int milli = (int)(ms - secs64 * 1000);
	time_t secs = (time_t)secs64;
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, PL_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, milli);
	return out;
}

/* Length of the UTF-8 sequence starting at s (RFC 3629 table), 0 if bad. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (left >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (left < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && s[1] > 0x9F)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (left < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xF4 && s[1] > 0x8F)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

bool pl_utf8_valid(const char *s, size_t len, size_t *codepoints)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, count = 0;

	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
		count++;
	}
	if (codepoints)
		*codepoints = count;
	return true;
}

static bool is_trim_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *pl_trim(const char *s)
{
	size_t len = strlen(s);
	while (len > 0 && is_trim_space(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_trim_space(s[len - 1]))
		len--;
	return pl_xstrndup(s, len);
}

int pl_parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !isdigit((unsigned char)s[0]) || strlen(s) > 19)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}
