/*
 * http.h — one HTTP request and its response, independent of transport
 * (FastCGI, CGI, or a unit test), plus the route table that maps
 * method + path pattern to a handler, and the pipeline every request runs:
 *   route (404/405; a path too long for `path` is 404) -> body size (413)
 *   -> content type (415) -> bearer token (401) -> an API token's scope
 *   (403, pl_route_scope) -> query too long for
 *   `query` (400) -> JSON body (400) -> handler.
 */
#ifndef PL_HTTP_H
#define PL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "token.h"
#include "err.h"
#include "sink.h"

struct pl_ctx;

#define PL_MAX_PARAMS 4
#define PL_PARAM_LEN 256

struct pl_request {
	char method[16];
	char path[1024];               /* raw path, query removed */
	char query[2048];              /* raw query string, may be "" */
	char content_type[128];
	char authorization[2048];
	char remote_addr[64];
	char range[128];               /* Range header (RFC 9110 §14.2), may be "" */
	char if_none_match[256];       /* If-None-Match header, may be "" */
	char request_id[24];           /* X-Request-Id if sane, else generated */
	long long content_length;      /* -1 when absent */
	char *body;                    /* NUL-terminated, owned; NULL if none */
	size_t body_len;
	bool body_too_large;           /* set by the transport: over body_limit */
	bool path_too_long;            /* set by the transport: path did not fit */
	bool query_too_long;           /* set by the transport: query did not fit */
	size_t nparams;                /* {param} values from the matched route */
	char params[PL_MAX_PARAMS][PL_PARAM_LEN]; /* percent-decoded */
	cJSON *json;                   /* parsed body (owned) or NULL */
	bool authenticated;
	struct pl_claims principal;    /* valid when authenticated */
	/* PL_ROUTE_STREAM routes: the body is not read by the transport; the
	 * handler pulls it with pl_request_read (body and body_len stay empty). */
	long (*body_read)(void *arg, char *buf, size_t n);
	void *body_read_arg;
};

struct pl_response {
	int status;
	cJSON *body;                   /* owned; NULL for no body (204) */
	char allow[64];                /* Allow header for 405, else "" */
	int retry_after;               /* Retry-After seconds when > 0 */
	/* A non-JSON answer (the bytes of a file, lib/file_send.h): */
	char content_type[160];        /* Content-Type when body is NULL, or "" */
	char headers[1536];            /* extra header lines, each "Name: value\r\n" */
	int file_fd;                   /* -1, or a file to stream after the header
	                                * (owned: closed by pl_response_release) */
	long long file_offset;         /* first byte of file_fd to send */
	long long file_length;         /* bytes of file_fd to send (Content-Length) */
	/* A body produced while it is sent (a data export, lib/export.h):
	 * called once after the header, unless the method is HEAD, with the
	 * transport's output; no Content-Length. */
	void (*stream)(void *arg, const struct pl_sink *out);
	void *stream_arg;              /* owned: free(3)'d by pl_response_release */
};

/* Route flags. */
#define PL_ROUTE_AUTH      0x1  /* needs a valid bearer token */
#define PL_ROUTE_BODY      0x2  /* needs a JSON object body */
#define PL_ROUTE_BODY_OPT  0x4  /* takes an optional JSON object body */
#define PL_ROUTE_STREAM    0x8  /* the handler reads the body itself, of any
                                   type and size (pl_request_read): uploads */
/* The scope an API token needs (token.h, enum pl_scope; sessions need
 * none): GET/HEAD routes read, others post, unless flagged: */
#define PL_ROUTE_SCOPE_READ  0x10 /* a non-GET route that only reads (ws-ticket) */
#define PL_ROUTE_SCOPE_ADMIN 0x20 /* account, token and integration management;
                                   also every path under /api/admin/ */

typedef void (*pl_handler)(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp);

struct pl_route {
	const char *method;   /* "GET", "POST", ... */
	const char *pattern;  /* "/api/channels/{id}": {x} matches one segment */
	pl_handler handler;
	unsigned flags;       /* PL_ROUTE_* */
};

/* pl_request_init / pl_request_release: set up a caller-owned request;
 * release frees the body and JSON (the struct itself stays). */
void pl_request_init(struct pl_request *req);
void pl_request_release(struct pl_request *req);
void pl_response_init(struct pl_response *resp);
void pl_response_release(struct pl_response *resp);

/*
 * pl_route_match: finds the route for `method` and `path` in `routes`
 * (`n` entries). Returns the route with `req->params` filled, or NULL with
 * *status = 404 (no pattern matches, or the path has a "." or ".." segment,
 * also percent-encoded: the web server picks the program by the path with
 * dot segments removed, RFC 3986 §5.2.4, so such a path names nothing here)
 * or 405 (a pattern matches under another method; `allow` receives the
 * comma-separated methods).
 */
const struct pl_route *pl_route_match(const struct pl_route *routes, size_t n,
				      const char *method, const char *path,
				      struct pl_request *req, int *status,
				      char *allow, size_t allow_len);

/*
 * pl_http_dispatch: runs the pipeline above for `req` (its body already
 * read) against `routes` and fills `resp`. Never fails: every problem
 * becomes the contract's JSON error in `resp`.
 */
void pl_http_dispatch(struct pl_ctx *ctx, const struct pl_route *routes, size_t n,
		      struct pl_request *req, struct pl_response *resp);

/*
 * pl_route_scope: the scope an API token needs for `route` under `method`
 * and `path` (docs/DECISIONS.md "API token scopes"): PL_SCOPE_ADMIN for
 * PL_ROUTE_SCOPE_ADMIN routes and every path under /api/admin/,
 * PL_SCOPE_READ for GET, HEAD and PL_ROUTE_SCOPE_READ routes, else
 * PL_SCOPE_POST.
 */
enum pl_scope pl_route_scope(const struct pl_route *route, const char *method, const char *path);

/*
 * pl_route_streams: whether the route for `method` and `path` reads its own
 * body (PL_ROUTE_STREAM), so the transport must leave it unread.
 */
bool pl_route_streams(const struct pl_route *routes, size_t n, const char *method, const char *path);

/*
 * pl_request_read: reads up to `n` bytes of a PL_ROUTE_STREAM request's
 * body into `buf`. Returns the count, 0 at its end (or when there is no
 * body), -1 when the client went away.
 */
long pl_request_read(struct pl_request *req, char *buf, size_t n);

/*
 * pl_resp_header: appends the header line "name: value" to `resp`.
 * Returns 0, or -1 when it does not fit (the line is not added) or would
 * split the header (CR or LF in `value`).
 */
int pl_resp_header(struct pl_response *resp, const char *name, const char *value);

/* pl_resp_json: status and body (ownership of `body` moves to `resp`). */
void pl_resp_json(struct pl_response *resp, int status, cJSON *body);
/* pl_resp_empty: a status without a body (204). */
void pl_resp_empty(struct pl_response *resp, int status);
/* pl_resp_error: the contract's {"error":{"code","message"}} for status. */
void pl_resp_error(struct pl_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* pl_resp_from_err: pl_resp_error from a lib error (500 if unset). */
void pl_resp_from_err(struct pl_response *resp, const struct pl_err *err);

/*
 * pl_query_get: looks up `name` in the request's query string and copies
 * its percent-decoded value into `out` (`out_len` bytes). Returns 0 when
 * found, 1 when absent, -1 when too long or badly encoded.
 */
int pl_query_get(const struct pl_request *req, const char *name, char *out, size_t out_len);

/*
 * pl_query_id / pl_query_int: parses query parameter `name` as a positive
 * id / an integer in [min, max]. Returns 0 (set), 1 (absent; *out keeps
 * its value unless `required`, which makes absence an error), or -1 with
 * `err` = 400.
 */
int pl_query_id(const struct pl_request *req, const char *name, bool required, int64_t *out, struct pl_err *err);
int pl_query_int(const struct pl_request *req, const char *name, long min, long max, long *out, struct pl_err *err);

/*
 * pl_http_status_text: reason phrase for a status ("OK", "Not Found").
 */
const char *pl_http_status_text(int status);

/*
 * pl_percent_decode: decodes %XX escapes (and '+' as space when
 * `plus_space`) of the `len` bytes at `in` into `out` (`out_len` bytes,
 * NUL-terminated). Returns the decoded length or -1 (bad escape, NUL
 * byte, or too long).
 */
long pl_percent_decode(const char *in, size_t len, bool plus_space, char *out, size_t out_len);

#endif
