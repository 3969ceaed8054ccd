/* sniff.c — content types from the bytes, with libmagic (sniff.h). */
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "log.h"
#include "sniff.h"
#include "util.h"

/* libmagic reads at most this much of a file (its own default is 1 MiB;
 * everything it recognises is decided in the first few KiB). */
#define SNIFF_BYTES 65536

/* Deliberately per process: loading the database costs milliseconds, and
 * the cookie holds no request's data. */
static magic_t cookie;

static magic_t get_cookie(struct pl_err *err)
{
	if (cookie)
		return cookie;
	cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (!cookie) {
		pl_err_internal(err, "magic_open failed");
		return NULL;
	}
	if (magic_load(cookie, NULL) < 0) {
		pl_err_internal(err, "magic_load: %s", magic_error(cookie));
		magic_close(cookie);
		cookie = NULL;
	}
	return cookie;
}

static void copy_type(const char *type, char *out, size_t len)
{
	/* libmagic answers e.g. "application/x-empty" for nothing at all. */
	if (!type || !*type || strchr(type, ' ') || !strchr(type, '/') ||
	    strcmp(type, "application/x-empty") == 0)
		type = "application/octet-stream";
	snprintf(out, len, "%s", type);
}

int pl_sniff_buffer(const void *buf, size_t n, char *out, size_t len, struct pl_err *err)
{
	magic_t m = get_cookie(err);
	const char *type;

	if (!m)
		return -1;
	type = magic_buffer(m, buf, n);
	if (!type)
		return pl_err_internal(err, "magic_buffer: %s", magic_error(m));
	copy_type(type, out, len);
	return 0;
}

int pl_sniff_fd(int fd, char *out, size_t len, struct pl_err *err)
{
	char *head = pl_xmalloc(SNIFF_BYTES);
	ssize_t n = pread(fd, head, SNIFF_BYTES, 0);
	int rc = n < 0 ? pl_err_internal(err, "reading a file to sniff it failed")
		       : pl_sniff_buffer(head, (size_t)n, out, len, err);

	free(head);
	return rc;
}

bool pl_mime_in_list(const char *type, const char *list)
{
	size_t tlen = strlen(type);
	const char *p = list;

	while (*p) {
		size_t n;
		p += strspn(p, " ,\t");
		n = strcspn(p, " ,\t");
		if (n == 1 && *p == '*')
			return true;
		if (n == tlen && n > 0 && strncasecmp(p, type, n) == 0)
			return true;
		p += n;
	}
	return false;
}
