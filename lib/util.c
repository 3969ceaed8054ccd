/* util.c — allocation policy, time, UTF-8, small parsers, owner-only files (util.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
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

void *pl_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
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

/* Writes `v` as `width` decimal digits at p (v >= 0). */
static char *put_digits(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

/*
 * Civil date from days since 1970-01-01 in the proleptic Gregorian
 * calendar: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms",
 * days_from_civil's inverse. Replaces gmtime_r + snprintf, which were ~4,000
 * instructions per timestamp (two per message in every history page).
 */
char *pl_time_format(int64_t ms, char out[PL_TIME_LEN])
{
	/* Floor division, so times before the epoch format correctly. */
	int64_t secs = ms / 1000 - (ms % 1000 < 0);
	int64_t milli = ms - secs * 1000;
	int64_t days = secs / 86400 - (secs % 86400 < 0);
	int64_t sod = secs - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	char *p = out;

	if (y < 0 || y > 9999) { /* outside RFC 3339's four-digit years */
		snprintf(out, PL_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m,
			 (int)d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)milli);
		return out;
	}
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	*p++ = '.';
	p = put_digits(p, milli, 3);
	*p++ = 'Z';
	*p = '\0';
	return out;
}

uint32_t pl_text_forbidden(const char *s, unsigned allow, size_t *offset)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; p[i]; i++) {
		unsigned char c = p[i];
		uint32_t cp = 0;

		if (c < 0x20 || c == 0x7f) {
			if (((c == '\t' || c == '\n') && (allow & PL_TEXT_TAB_LF)) ||
			    (c == '\r' && (allow & PL_TEXT_CR)))
				continue;
			cp = c;
		} else if (c == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
			cp = p[i + 1];  /* C1: U+0080-U+009F */
		} else if (c == 0xE2 && p[i + 1] == 0x80 && p[i + 2] >= 0xAA && p[i + 2] <= 0xAE) {
			cp = 0x2000 | (uint32_t)(p[i + 2] - 0x80);  /* U+202A-U+202E */
		} else if (c == 0xE2 && p[i + 1] == 0x81 && p[i + 2] >= 0xA6 && p[i + 2] <= 0xA9) {
			cp = 0x2040 | (uint32_t)(p[i + 2] - 0x80);  /* U+2066-U+2069 */
		}
		if (cp) {
			if (offset)
				*offset = i;
			return cp;
		}
	}
	return 0;
}

bool pl_text_has_controls(const char *s, bool multiline)
{
	return pl_text_forbidden(s, multiline ? PL_TEXT_TAB_LF : 0, NULL) != 0;
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

int pl_file_private(const char *path, bool create, unsigned *was_mode)
{
	struct stat sb;
	int fd;

	if (was_mode)
		*was_mode = 0;
	if (create) {
		/* open(2) applies the umask: fchmod makes it exactly 0600. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0) {
			int rc = fchmod(fd, 0600);
			int saved = errno;
			close(fd);
			errno = saved;
			return rc;
		}
		if (errno != EEXIST)
			return -1;
	}
	if (stat(path, &sb) < 0)
		return (!create && errno == ENOENT) ? 0 : -1;
	if (!S_ISREG(sb.st_mode) || !(sb.st_mode & (S_IRWXG | S_IRWXO)))
		return 0;
	if (geteuid() != 0 && sb.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	if (chmod(path, sb.st_mode & S_IRWXU) < 0)
		return -1;
	if (was_mode)
		*was_mode = (unsigned)(sb.st_mode & 07777);
	return 0;
}

int pl_parse_cursor(const char *s, int64_t *out)
{
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return pl_parse_id(s, out);
}

bool pl_url_is_postgres(const char *url)
{
	if (!url || strncmp(url, "sqlite:", 7) == 0)
		return false;
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		return true;
	return strchr(url, '=') != NULL;
}
