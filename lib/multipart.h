/*
 * multipart.h — a streaming reader of multipart/form-data bodies (RFC 7578
 * over the syntax of RFC 2046 §5.1.1), for uploads that are never held in
 * memory whole: bytes go in as they arrive, each part's data comes out
 * through callbacks in pieces. Only what browsers and curl -F send is
 * understood: a boundary parameter, part headers Content-Disposition
 * (form-data; name; filename) and Content-Type. Nested multiparts and
 * RFC 5987 filename* are not (the part's data is still delivered).
 */
#ifndef PL_MULTIPART_H
#define PL_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

#define PL_MP_BOUNDARY_MAX 70     /* RFC 2046 §5.1.1 */
#define PL_MP_HEADERS_MAX 8192    /* bytes of one part's headers */
#define PL_MP_NAME_MAX 256        /* a part's name or filename, bytes */

/* One part's headers as the callbacks see them (strings NUL-terminated,
 * "" when absent; borrowed for the call). */
struct pl_mp_part {
	char name[PL_MP_NAME_MAX];
	char filename[PL_MP_NAME_MAX];
	bool has_filename;
	char content_type[128];
};

/* What the reader calls; each returns 0 to go on or -1 with `err` set to
 * stop (pl_multipart_feed then returns -1 with that error). */
struct pl_mp_callbacks {
	int (*part_begin)(void *arg, const struct pl_mp_part *part, struct pl_err *err);
	int (*part_data)(void *arg, const char *buf, size_t n, struct pl_err *err);
	int (*part_end)(void *arg, struct pl_err *err);
};

/* The reader's state (caller-owned, about 70 KiB: allocate it, do not put
 * it on a small stack). */
struct pl_multipart {
	const struct pl_mp_callbacks *cb;
	void *arg;
	char delim[PL_MP_BOUNDARY_MAX + 5];   /* "\r\n--" boundary */
	size_t dlen;
	int state;
	size_t len;                           /* bytes pending in buf */
	char buf[65536 + PL_MP_HEADERS_MAX];
};

/*
 * pl_multipart_init: reads the boundary from `content_type` (the request's
 * Content-Type, "multipart/form-data; boundary=..."). `cb` and `arg` are
 * borrowed for the reader's life. Returns 0, or -1 with `err` (400: not
 * multipart/form-data, or no usable boundary).
 */
int pl_multipart_init(struct pl_multipart *mp, const char *content_type,
		      const struct pl_mp_callbacks *cb, void *arg, struct pl_err *err);

/*
 * pl_multipart_feed: gives the reader the next `n` bytes of the body.
 * Returns 0, or -1 with `err` (400 malformed; or a callback's error).
 */
int pl_multipart_feed(struct pl_multipart *mp, const char *data, size_t n, struct pl_err *err);

/*
 * pl_multipart_finish: the body ended. Returns 0 when it ended with the
 * closing delimiter, or -1 with `err` (400: cut short).
 */
int pl_multipart_finish(struct pl_multipart *mp, struct pl_err *err);

/* pl_is_multipart: whether `content_type` is multipart/form-data. */
bool pl_is_multipart(const char *content_type);

#endif
