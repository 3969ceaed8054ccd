/* multipart.c — streaming multipart/form-data (multipart.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "multipart.h"

enum { MP_PREAMBLE, MP_AFTER_DELIM, MP_HEADERS, MP_DATA, MP_EPILOGUE, MP_FAILED };

static bool starts_with_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool pl_is_multipart(const char *ct)
{
	while (*ct == ' ')
		ct++;
	return starts_with_ci(ct, "multipart/form-data") &&
	       (ct[19] == '\0' || ct[19] == ';' || ct[19] == ' ');
}

/*
 * Finds parameter `name` in a header value's "; a=b; c="d"" list and
 * copies its value (quotes removed, backslash escapes undone) into `out`.
 * Returns 0 found, 1 absent, -1 too long or badly quoted.
 */
static int header_param(const char *v, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = strchr(v, ';');

	while (p) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t o = 0;
			p += nlen + 1;
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1])
						p++;
					if (o + 1 >= len)
						return -1;
					out[o++] = *p;
				}
				if (*p != '"')
					return -1;
			} else {
				for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
					if (o + 1 >= len)
						return -1;
					out[o++] = *p;
				}
			}
			out[o] = '\0';
			return 0;
		}
		/* skip this parameter, minding quoted semicolons */
		while (*p && *p != ';') {
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++)
					if (*p == '\\' && p[1])
						p++;
				if (!*p)
					return 1;
			}
			p++;
		}
		p = *p ? p : NULL;
	}
	return 1;
}

int pl_multipart_init(struct pl_multipart *mp, const char *content_type,
		      const struct pl_mp_callbacks *cb, void *arg, struct pl_err *err)
{
	char boundary[PL_MP_BOUNDARY_MAX + 2];
	size_t blen;

	memset(mp, 0, offsetof(struct pl_multipart, buf));
	mp->cb = cb;
	mp->arg = arg;
	mp->state = MP_FAILED;
	if (!pl_is_multipart(content_type))
		return pl_err_set(err, 400, "the body must be multipart/form-data");
	if (header_param(content_type, "boundary", boundary, sizeof(boundary)) != 0 ||
	    (blen = strlen(boundary)) < 1 || blen > PL_MP_BOUNDARY_MAX)
		return pl_err_set(err, 400, "multipart/form-data needs a boundary of 1-%d characters",
				  PL_MP_BOUNDARY_MAX);
	mp->dlen = (size_t)snprintf(mp->delim, sizeof(mp->delim), "\r\n--%s", boundary);
	/* The first delimiter has no CRLF before it: pretend it had one. */
	memcpy(mp->buf, "\r\n", 2);
	mp->len = 2;
	mp->state = MP_PREAMBLE;
	return 0;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t k)
{
	return memmem(hay, n, needle, k);
}

static void consume(struct pl_multipart *mp, size_t n)
{
	memmove(mp->buf, mp->buf + n, mp->len - n);
	mp->len -= n;
}

/* Parses one part's header block (`n` bytes, CRLF-separated lines). */
static int parse_headers(const char *h, size_t n, struct pl_mp_part *part, struct pl_err *err)
{
	char line[PL_MP_HEADERS_MAX + 1];
	const char *end = h + n;

	memset(part, 0, sizeof(*part));
	while (h < end) {
		const char *eol = find(h, (size_t)(end - h), "\r\n", 2);
		size_t len = eol ? (size_t)(eol - h) : (size_t)(end - h);
		memcpy(line, h, len);
		line[len] = '\0';
		if (memchr(h, '\0', len))
			return pl_err_set(err, 400, "a NUL byte in a multipart header");
		if (starts_with_ci(line, "content-disposition:")) {
			const char *v = line + 20;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!starts_with_ci(v, "form-data"))
				return pl_err_set(err, 400, "a multipart part must be form-data");
			if (header_param(v, "name", part->name, sizeof(part->name)) < 0)
				return pl_err_set(err, 400, "a multipart part's name is malformed or too long");
			switch (header_param(v, "filename", part->filename, sizeof(part->filename))) {
			case 0:
				part->has_filename = true;
				break;
			case -1:
				return pl_err_set(err, 400, "a multipart filename is malformed or longer than %d bytes",
						  PL_MP_NAME_MAX - 1);
			}
		} else if (starts_with_ci(line, "content-type:")) {
			const char *v = line + 13;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(part->content_type, sizeof(part->content_type), "%.*s",
				 (int)sizeof(part->content_type) - 1, v);
		}
		h += len + (eol ? 2 : 0);
	}
	return 0;
}

/* Runs the state machine over what is buffered; returns 0 or -1. */
static int process(struct pl_multipart *mp, struct pl_err *err)
{
	for (;;) {
		const char *hit;
		struct pl_mp_part part;
		size_t keep;

		switch (mp->state) {
		case MP_PREAMBLE:
		case MP_DATA:
			hit = find(mp->buf, mp->len, mp->delim, mp->dlen);
			if (hit) {
				size_t before = (size_t)(hit - mp->buf);
				if (mp->state == MP_DATA &&
				    ((before && mp->cb->part_data(mp->arg, mp->buf, before, err) < 0) ||
				     mp->cb->part_end(mp->arg, err) < 0))
					return -1;
				consume(mp, before + mp->dlen);
				mp->state = MP_AFTER_DELIM;
				continue;
			}
			/* all but what could start a delimiter */
			keep = mp->dlen - 1;
			if (mp->len > keep) {
				size_t out = mp->len - keep;
				if (mp->state == MP_DATA && mp->cb->part_data(mp->arg, mp->buf, out, err) < 0)
					return -1;
				consume(mp, out);
			}
			return 0;
		case MP_AFTER_DELIM:
			if (mp->len < 2)
				return 0;
			if (mp->buf[0] == '-' && mp->buf[1] == '-') {
				mp->state = MP_EPILOGUE;
				continue;
			}
			if (mp->buf[0] != '\r' || mp->buf[1] != '\n')
				return pl_err_set(err, 400, "malformed multipart delimiter line");
			consume(mp, 2);
			mp->state = MP_HEADERS;
			continue;
		case MP_HEADERS:
			if (mp->len >= 2 && mp->buf[0] == '\r' && mp->buf[1] == '\n') {
				hit = mp->buf;   /* no headers at all */
				if (parse_headers(mp->buf, 0, &part, err) < 0)
					return -1;
				consume(mp, 2);
			} else {
				hit = find(mp->buf, mp->len, "\r\n\r\n", 4);
				/* Found or not, a header block is at most PL_MP_HEADERS_MAX
				 * bytes: parse_headers copies lines into a buffer of that
				 * size, and one feed may bring far more than that at once. */
				if ((hit && hit - mp->buf > PL_MP_HEADERS_MAX) ||
				    (!hit && mp->len >= PL_MP_HEADERS_MAX))
					return pl_err_set(err, 400, "multipart part headers longer than %d bytes",
							  PL_MP_HEADERS_MAX);
				if (!hit)
					return 0;
				if (parse_headers(mp->buf, (size_t)(hit - mp->buf), &part, err) < 0)
					return -1;
				consume(mp, (size_t)(hit - mp->buf) + 4);
			}
			if (mp->cb->part_begin(mp->arg, &part, err) < 0)
				return -1;
			mp->state = MP_DATA;
			continue;
		case MP_EPILOGUE:
			mp->len = 0;
			return 0;
		default:
			return pl_err_set(err, 400, "malformed multipart body");
		}
	}
}

int pl_multipart_feed(struct pl_multipart *mp, const char *data, size_t n, struct pl_err *err)
{
	while (n > 0) {
		size_t room = sizeof(mp->buf) - mp->len, take = n < room ? n : room;
		if (mp->state == MP_FAILED)
			return pl_err_set(err, 400, "malformed multipart body");
		memcpy(mp->buf + mp->len, data, take);
		mp->len += take;
		data += take;
		n -= take;
		if (process(mp, err) < 0) {
			mp->state = MP_FAILED;
			return -1;
		}
	}
	return 0;
}

int pl_multipart_finish(struct pl_multipart *mp, struct pl_err *err)
{
	if (mp->state != MP_EPILOGUE)
		return pl_err_set(err, 400, "the multipart body ended before its closing boundary");
	return 0;
}
