/*
 * app.c — the FastCGI / CGI process around a route table (app.h).
 * One transport interface (get a parameter, read the body, write bytes)
 * serves both libfcgi's FCGX_Request and the plain CGI environment.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "version.h"

struct transport {
	const char *(*param)(struct transport *t, const char *name);
	long (*read)(struct transport *t, char *buf, size_t n);
	void (*write)(struct transport *t, const char *buf, size_t n);
	FCGX_Request *fcgi;   /* NULL for CGI */
};

static const char *fcgi_param(struct transport *t, const char *name)
{
	return FCGX_GetParam(name, t->fcgi->envp);
}

static long fcgi_read(struct transport *t, char *buf, size_t n)
{
	return FCGX_GetStr(buf, (int)n, t->fcgi->in);
}

static void fcgi_write(struct transport *t, const char *buf, size_t n)
{
	FCGX_PutStr(buf, (int)n, t->fcgi->out);
}

static const char *cgi_param(struct transport *t, const char *name)
{
	return getenv(name);
}

static long cgi_read(struct transport *t, char *buf, size_t n)
{
	return (long)fread(buf, 1, n, stdin);
}

/*
 * After a CGI response, reads and drops what is left of the request body
 * (a refused 413 body, say), at most CGI_DRAIN_MAX bytes: under Apache's
 * mod_cgid, unread input makes the server reset the connection and cut the
 * response short. Anything larger than that is left to the reset.
 */
#define CGI_DRAIN_MAX (16L << 20)
static void drain_cgi_input(void)
{
	char buf[65536];
	long total = 0;
	size_t n;

	while (total < CGI_DRAIN_MAX && (n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		total += (long)n;
}

static void cgi_write(struct transport *t, const char *buf, size_t n)
{
	fwrite(buf, 1, n, stdout);
}

static void copy_param(struct transport *t, const char *name, char *out, size_t len)
{
	const char *v = t->param(t, name);
	snprintf(out, len, "%s", v ? v : "");
}

static void set_request_id(struct transport *t, struct pl_request *req)
{
	const char *given = t->param(t, "HTTP_X_REQUEST_ID");
	unsigned char rnd[8];
	size_t i;

	if (given && *given && strlen(given) < sizeof(req->request_id) &&
	    strspn(given, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(given)) {
		snprintf(req->request_id, sizeof(req->request_id), "%s", given);
		return;
	}
	randombytes_buf(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(req->request_id + 2 * i, 3, "%02x", rnd[i]);
}

/* Reads at most body_limit bytes; more than that marks the body too large. */
static void read_body(struct transport *t, struct pl_request *req, size_t limit)
{
	size_t cap = 4096, len = 0;
	char *buf;

	if (req->content_length > (long long)limit) {
		req->body_too_large = true;
		return;
	}
	if (req->content_length == 0)
		return;
	buf = pl_xmalloc(cap + 1);
	for (;;) {
		long n;
		if (len == cap) {
			if (cap > limit) {
				req->body_too_large = true;
				break;
			}
			cap *= 2;
			buf = pl_xrealloc(buf, cap + 1);
		}
		n = t->read(t, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (req->content_length > 0 && len >= (size_t)req->content_length)
			break;
	}
	if (len > limit)
		req->body_too_large = true;
	buf[len] = '\0';
	req->body = buf;
	req->body_len = len;
}

/* A streamed body: the transport's bytes, never more than Content-Length. */
struct body_stream {
	struct transport *t;
	long long left;       /* bytes still to come, -1 when unknown */
};

static long stream_read(void *arg, char *buf, size_t n)
{
	struct body_stream *bs = arg;
	long got;

	if (bs->left == 0)
		return 0;
	if (bs->left > 0 && (long long)n > bs->left)
		n = (size_t)bs->left;
	got = bs->t->read(bs->t, buf, n);
	if (got <= 0)
		return bs->left > 0 ? -1 : 0;   /* ended before Content-Length: gone */
	if (bs->left > 0)
		bs->left -= got;
	return got;
}

static void build_request(struct transport *t, const struct pl_route *routes, size_t nroutes,
			  struct pl_request *req, struct body_stream *bs, size_t limit)
{
	const char *uri = t->param(t, "REQUEST_URI");
	const char *cl = t->param(t, "CONTENT_LENGTH");
	const char *q;

	copy_param(t, "REQUEST_METHOD", req->method, sizeof(req->method));
	/* What does not fit is refused (pl_http_dispatch), never cut short:
	 * a truncated path or query would name something else. */
	if (uri && *uri) {
		size_t plen = strcspn(uri, "?");
		q = uri[plen] ? uri + plen + 1 : "";
		req->path_too_long = plen >= sizeof(req->path);
		req->query_too_long = strlen(q) >= sizeof(req->query);
		snprintf(req->path, sizeof(req->path), "%.*s", (int)plen, uri);
		snprintf(req->query, sizeof(req->query), "%s", q);
	} else {
		const char *sn = t->param(t, "SCRIPT_NAME"), *pi = t->param(t, "PATH_INFO");
		int plen = snprintf(req->path, sizeof(req->path), "%s%s", sn ? sn : "", pi ? pi : "");
		q = t->param(t, "QUERY_STRING");
		req->path_too_long = plen < 0 || (size_t)plen >= sizeof(req->path);
		req->query_too_long = q && strlen(q) >= sizeof(req->query);
		snprintf(req->query, sizeof(req->query), "%s", q ? q : "");
	}
	copy_param(t, "CONTENT_TYPE", req->content_type, sizeof(req->content_type));
	copy_param(t, "HTTP_AUTHORIZATION", req->authorization, sizeof(req->authorization));
	copy_param(t, "REMOTE_ADDR", req->remote_addr, sizeof(req->remote_addr));
	copy_param(t, "HTTP_RANGE", req->range, sizeof(req->range));
	copy_param(t, "HTTP_IF_NONE_MATCH", req->if_none_match, sizeof(req->if_none_match));
	if (cl && *cl)
		req->content_length = strtoll(cl, NULL, 10);
	set_request_id(t, req);
	if (!req->path_too_long && pl_route_streams(routes, nroutes, req->method, req->path)) {
		bs->t = t;
		bs->left = req->content_length;
		req->body_read = stream_read;
		req->body_read_arg = bs;
		return;
	}
	read_body(t, req, limit);
}

/* Streams resp->file_length bytes of resp->file_fd from file_offset. */
static void write_file(struct transport *t, const struct pl_response *resp)
{
	char buf[65536];
	long long left = resp->file_length;
	off_t off = (off_t)resp->file_offset;

	while (left > 0) {
		ssize_t n = pread(resp->file_fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf), off);
		if (n <= 0) {
			pl_warn_log("file body cut short: %lld bytes unsent", left);
			break;
		}
		t->write(t, buf, (size_t)n);
		off += n;
		left -= n;
	}
}

static void sink_write(void *arg, const char *buf, size_t n)
{
	struct transport *t = arg;

	t->write(t, buf, n);
}

/* Runs resp->stream with the transport as its output (lib/sink.h). */
static void write_stream(struct transport *t, const struct pl_response *resp)
{
	struct pl_sink out = { sink_write, t };

	resp->stream(resp->stream_arg, &out);
}

static void write_response(struct transport *t, const struct pl_request *req,
			   const struct pl_response *resp)
{
	char head[2560];
	char *body = resp->body ? pl_json_print(resp->body) : NULL;
	bool file = resp->file_fd >= 0;
	int n;

	/* A file answer brings its own caching headers (lib/file_send.h). */
	n = snprintf(head, sizeof(head),
		     "Status: %d %s\r\n"
		     "%s"
		     "X-Content-Type-Options: nosniff\r\n"
		     "X-Request-Id: %s\r\n",
		     resp->status, pl_http_status_text(resp->status),
		     strstr(resp->headers, "Cache-Control:") ? "" : "Cache-Control: no-store\r\n",
		     req->request_id);
	if (body)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: application/json\r\n");
	else if (resp->content_type[0])
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\n", resp->content_type);
	if (file)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %lld\r\n", resp->file_length);
	if (resp->allow[0])
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Allow: %s\r\n", resp->allow);
	if (resp->retry_after > 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Retry-After: %d\r\n", resp->retry_after);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", resp->headers);
	t->write(t, head, (size_t)n);
	if (strcmp(req->method, "HEAD") != 0) {
		if (body)
			t->write(t, body, strlen(body));
		else if (file)
			write_file(t, resp);
		else if (resp->stream)
			write_stream(t, resp);
	}
	free(body);
}

static void serve_one(struct pl_ctx *ctx, struct transport *t,
		      const struct pl_route *routes, size_t nroutes)
{
	struct pl_request req;
	struct pl_response resp;
	struct body_stream bs = { 0 };

	pl_request_init(&req);
	pl_response_init(&resp);
	build_request(t, routes, nroutes, &req, &bs, ctx->cfg.body_limit);
	pl_log_set_request(req.request_id);
	pl_http_dispatch(ctx, routes, nroutes, &req, &resp);
	/* A handler that left a transaction open must not leak it. */
	pl_db_rollback(ctx->db);
	write_response(t, &req, &resp);
	if (resp.status >= 500)
		pl_warn_log("%s %s -> %d", req.method, req.path, resp.status);
	pl_request_release(&req);
	pl_response_release(&resp);
	pl_log_set_request(NULL);
}

int pl_app_main(const char *program, const struct pl_route *routes, size_t nroutes)
{
	struct pl_ctx ctx;
	struct pl_err err = { 0 };
	struct transport t = { 0 };
	FCGX_Request fr;

	if (pl_version_option())
		return 0;
	signal(SIGPIPE, SIG_IGN);
	pl_log_init(program, PL_LOG_INFO);
	if (pl_ctx_open(&ctx, program, &err) < 0) {
		pl_err_log("cannot start: %s", err.message);
		pl_ctx_close(&ctx);
		return 1;
	}
	if (FCGX_IsCGI()) {
		t.param = cgi_param;
		t.read = cgi_read;
		t.write = cgi_write;
		serve_one(&ctx, &t, routes, nroutes);
		fflush(stdout);
		drain_cgi_input();
	} else {
		FCGX_Init();
		FCGX_InitRequest(&fr, 0, 0);
		t.param = fcgi_param;
		t.read = fcgi_read;
		t.write = fcgi_write;
		t.fcgi = &fr;
		while (FCGX_Accept_r(&fr) >= 0) {
			serve_one(&ctx, &t, routes, nroutes);
			FCGX_Finish_r(&fr);
		}
	}
	pl_ctx_close(&ctx);
	return 0;
}

void pl_health_handler(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	/* The engine answers, and the schema is there. */
	bool ok = pl_db_version(ctx->db) > 0;
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "status", ok ? "ok" : "error");
	cJSON_AddStringToObject(body, "db", ok ? "ok" : "error");
	cJSON_AddStringToObject(body, "version", pl_version());
	pl_resp_json(resp, ok ? 200 : 503, body);
}
