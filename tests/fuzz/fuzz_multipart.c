/*
 * fuzz_multipart.c — libFuzzer target for the streaming multipart/form-data
 * reader (lib/multipart.c) that uploads go through.
 * Input layout: byte 0 = a chunk size (1-256), then the Content-Type line
 * up to '\n', then the body.
 * Invariant (a violation aborts): the body fed in one piece and fed in
 * pieces of the chunk size gives the same parts (names, file names, data)
 * and the same outcome — where the network splits an upload never matters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything the callbacks saw, as one transcript. */
struct seen {
	char *buf;
	size_t len;
};

static void add(struct seen *s, const char *p, size_t n)
{
	s->buf = realloc(s->buf, s->len + n + 1);
	if (!s->buf)
		abort();
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static int on_begin(void *arg, const struct pl_mp_part *part, struct pl_err *err)
{
	char line[PL_MP_NAME_MAX * 2 + 160];
	int n = snprintf(line, sizeof(line), "[begin %s|%s|%d|%s]", part->name, part->filename,
			 part->has_filename, part->content_type);
	add(arg, line, (size_t)n);
	return 0;
}

static int on_data(void *arg, const char *buf, size_t n, struct pl_err *err)
{
	if (n == 0)
		abort();   /* never called for nothing */
	add(arg, buf, n);
	return 0;
}

static int on_end(void *arg, struct pl_err *err)
{
	add(arg, "[end]", 5);
	return 0;
}

static const struct pl_mp_callbacks cb = { on_begin, on_data, on_end };

/* Feeds `body` in pieces of `chunk`; returns 0/-1 and the transcript. */
static int run(const char *ctype, const char *body, size_t len, size_t chunk, struct seen *s)
{
	struct pl_multipart *mp = malloc(sizeof(*mp));
	struct pl_err err = { 0 };
	int rc;

	if (!mp)
		abort();
	rc = pl_multipart_init(mp, ctype, &cb, s, &err);
	for (size_t off = 0; rc == 0 && off < len; off += chunk)
		rc = pl_multipart_feed(mp, body + off, len - off < chunk ? len - off : chunk, &err);
	if (rc == 0)
		rc = pl_multipart_finish(mp, &err);
	if (rc < 0 && (err.status != 400 || !err.message[0]))
		abort();   /* every refusal is a 400 with a message */
	free(mp);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen whole = { 0 }, pieces = { 0 };
	char ctype[512];
	const uint8_t *nl;
	size_t chunk, clen, blen;
	int a, b;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] + 1;
	nl = memchr(data + 1, '\n', size - 1);
	clen = nl ? (size_t)(nl - data - 1) : size - 1;
	if (clen >= sizeof(ctype))
		clen = sizeof(ctype) - 1;
	memcpy(ctype, data + 1, clen);
	ctype[clen] = '\0';
	blen = nl ? size - (size_t)(nl - data) - 1 : 0;
	a = run(ctype, (const char *)(nl ? nl + 1 : data + size), blen, blen ? blen : 1, &whole);
	b = run(ctype, (const char *)(nl ? nl + 1 : data + size), blen, chunk, &pieces);
	/* A failure may come earlier or later, but success and what it
	 * delivered never depend on the pieces. */
	if (a != b || (a == 0 && (whole.len != pieces.len ||
				   (whole.len && memcmp(whole.buf, pieces.buf, whole.len) != 0)))) {
		fprintf(stderr, "fuzz_multipart: one piece (%d) and pieces of %zu (%d) differ\n", a, chunk, b);
		abort();
	}
	free(whole.buf);
	free(pieces.buf);
	return 0;
}
