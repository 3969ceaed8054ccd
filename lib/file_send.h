/*
 * file_send.h — answering a request with a stored file's bytes: the headers
 * that keep an upload from running as parley's origin (RFC 6266
 * Content-Disposition with an RFC 8187 filename*, X-Content-Type-Options:
 * nosniff, a sandboxing Content-Security-Policy), a strong ETag (the
 * SHA-256 names the bytes), and then either the web server's offload
 * header (file_offload: lighttpd's and mod_xsendfile's X-Sendfile, nginx's
 * X-Accel-Redirect; the web server then does Range and conditional
 * requests itself) or, under plain CGI, the bytes streamed by the program
 * with If-None-Match (RFC 9110 §13.1.2) and one byte range (RFC 9110 §14)
 * handled here.
 */
#ifndef PL_FILE_SEND_H
#define PL_FILE_SEND_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "err.h"
#include "http.h"

/* What to send (strings borrowed for the call). */
struct pl_file_out {
	const char *sha256;         /* the blob (blob.h) */
	int64_t size;               /* its bytes (informational: the blob's own
	                             * size is sent) */
	const char *content_type;   /* sniffed type */
	const char *name;           /* for Content-Disposition */
	bool download;              /* attachment even when the type may be inline */
};

/*
 * pl_file_send: fills `resp` to answer `req` with `fo`: 200 (or 206, 304,
 * 416 when the program streams). Types in cfg->file_inline_types are
 * inline unless `download`; everything else is an attachment. Returns 0,
 * or -1 with `err` (500: the blob is missing or unreadable; logged).
 */
int pl_file_send(const struct pl_config *cfg, const struct pl_request *req,
		 const struct pl_file_out *fo, struct pl_response *resp, struct pl_err *err);

/*
 * pl_range_parse: parses a Range header value for a representation of
 * `size` bytes. Returns 1 with [*first, *last] set for one satisfiable
 * "bytes=" range; 0 when the header should be ignored (absent, another
 * unit, several ranges, malformed: RFC 9110 §14.2 lets a server answer
 * 200); -1 when unsatisfiable (416).
 */
int pl_range_parse(const char *value, int64_t size, int64_t *first, int64_t *last);

#endif
