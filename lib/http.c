/* http.c — requests, responses, routing and the request pipeline (http.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "apitokens.h"
#include "ctx.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "session.h"
#include "util.h"

void pl_request_init(struct pl_request *req)
{
	memset(req, 0, sizeof(*req));
	req->content_length = -1;
}

void pl_request_release(struct pl_request *req)
{
	free(req->body);
	cJSON_Delete(req->json);
	req->body = NULL;
	req->json = NULL;
}

void pl_response_init(struct pl_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 500;
	resp->file_fd = -1;
}

void pl_response_release(struct pl_response *resp)
{
	cJSON_Delete(resp->body);
	resp->body = NULL;
	if (resp->file_fd >= 0)
		close(resp->file_fd);
	resp->file_fd = -1;
	free(resp->stream_arg);
	resp->stream_arg = NULL;
	resp->stream = NULL;
}

long pl_request_read(struct pl_request *req, char *buf, size_t n)
{
	if (!req->body_read || n == 0)
		return 0;
	return req->body_read(req->body_read_arg, buf, n);
}

int pl_resp_header(struct pl_response *resp, const char *name, const char *value)
{
	size_t used = strlen(resp->headers);
	int n;

	if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n: "))
		return -1;
	n = snprintf(resp->headers + used, sizeof(resp->headers) - used, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(resp->headers) - used) {
		resp->headers[used] = '\0';
		return -1;
	}
	return 0;
}

bool pl_route_streams(const struct pl_route *routes, size_t n, const char *method, const char *path)
{
	int status;
	const struct pl_route *r = pl_route_match(routes, n, method, path, NULL, &status, NULL, 0);

	return r && (r->flags & PL_ROUTE_STREAM);
}

void pl_resp_json(struct pl_response *resp, int status, cJSON *body)
{
	cJSON_Delete(resp->body);
	resp->status = status;
	resp->body = body;
}

void pl_resp_empty(struct pl_response *resp, int status)
{
	pl_resp_json(resp, status, NULL);
}

static void resp_error_text(struct pl_response *resp, int status, const char *message)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(body, "error");

	cJSON_AddStringToObject(e, "code", pl_err_code(status));
	cJSON_AddStringToObject(e, "message", message);
	pl_resp_json(resp, status, body);
}

void pl_resp_error(struct pl_response *resp, int status, const char *fmt, ...)
{
	char msg[PL_ERR_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_error_text(resp, status, msg);
}

void pl_resp_from_err(struct pl_response *resp, const struct pl_err *err)
{
	if (!err || err->status < 400) {
		resp_error_text(resp, 500, "internal server error");
		return;
	}
	resp_error_text(resp, err->status, err->message);
	resp->retry_after = err->retry_after;
}

/* Matches one pattern; fills params. Both strings start with '/'. */
static bool match_pattern(const char *pattern, const char *path, struct pl_request *req)
{
	size_t np = 0;

	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *pe = strchr(pattern, '}');
			const char *se = strchr(path, '/');
			size_t len = se ? (size_t)(se - path) : strlen(path);
			if (!pe || len == 0 || np >= PL_MAX_PARAMS)
				return false;
			if (req && pl_percent_decode(path, len, false, req->params[np], PL_PARAM_LEN) < 0)
				return false;
			np++;
			pattern = pe + 1;
			path += len;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	if (*pattern || *path)
		return false;
	if (req)
		req->nparams = np;
	return true;
}

/*
 * Whether `path` has a "." or ".." segment, also percent-encoded ("%2e").
 * Web servers dispatch on the path with dot segments removed (RFC 3986
 * §5.2.4) while parley routes the raw REQUEST_URI: such a path would name
 * one resource to the web server and another here, so it names none.
 */
static bool has_dot_segment(const char *path)
{
	while (*path) {
		size_t len;
		char seg[8];
		long n;

		path += strspn(path, "/");
		len = strcspn(path, "/");
		n = len > 0 && len <= 6 ? pl_percent_decode(path, len, false, seg, sizeof(seg)) : -1;
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		path += len;
	}
	return false;
}

const struct pl_route *pl_route_match(const struct pl_route *routes, size_t n,
				      const char *method, const char *path,
				      struct pl_request *req, int *status,
				      char *allow, size_t allow_len)
{
	bool path_known = false;

	if (allow_len)
		allow[0] = '\0';
	if (has_dot_segment(path)) {
		*status = 404;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!match_pattern(routes[i].pattern, path, NULL))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			/* Decoding can still fail (bad escape, NUL, too long): 404. */
			if (req && !match_pattern(routes[i].pattern, path, req)) {
				req->nparams = 0;
				*status = 404;
				return NULL;
			}
			return &routes[i];
		}
		path_known = true;
		if (allow_len && !strstr(allow, routes[i].method)) {
			size_t used = strlen(allow);
			snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", routes[i].method);
		}
	}
	*status = path_known ? 405 : 404;
	return NULL;
}

/* "application/json" with optional parameters, case-insensitive. */
static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static int parse_body(struct pl_request *req, unsigned flags, struct pl_err *err)
{
	if (!(flags & (PL_ROUTE_BODY | PL_ROUTE_BODY_OPT)))
		return 0;
	if (req->body_len == 0) {
		if (flags & PL_ROUTE_BODY)
			return pl_err_set(err, 400, "a JSON object body is required");
		return 0;
	}
	if (pl_json_parse(req->body, req->body_len, &req->json, err) < 0)
		return -1;
	if (!cJSON_IsObject(req->json))
		return pl_err_set(err, 400, "the body must be a JSON object");
	return 0;
}

enum pl_scope pl_route_scope(const struct pl_route *route, const char *method, const char *path)
{
	if ((route->flags & PL_ROUTE_SCOPE_ADMIN) || strncmp(path, "/api/admin/", 11) == 0 ||
	    strcmp(path, "/api/admin") == 0)
		return PL_SCOPE_ADMIN;
	if ((route->flags & PL_ROUTE_SCOPE_READ) || !strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return PL_SCOPE_READ;
	return PL_SCOPE_POST;
}

void pl_http_dispatch(struct pl_ctx *ctx, const struct pl_route *routes, size_t n,
		      struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const struct pl_route *route;
	int status = 404;

	/* No route has a path this long; the check order stays route first. */
	if (req->path_too_long) {
		pl_resp_error(resp, 404, "no such resource");
		return;
	}
	/* HEAD is GET without the body (RFC 9110 §9.3.2): the transport drops it. */
	route = pl_route_match(routes, n, strcmp(req->method, "HEAD") == 0 ? "GET" : req->method,
			       req->path, req, &status, resp->allow, sizeof(resp->allow));
	if (!route) {
		if (status == 405)
			pl_resp_error(resp, 405, "method %s not allowed here", req->method);
		else
			pl_resp_error(resp, 404, "no such resource");
		return;
	}
	/* A streamed body has the handler's own limit (file_max_bytes). */
	if (!(route->flags & PL_ROUTE_STREAM) &&
	    (req->body_too_large || (req->content_length > 0 &&
				     (size_t)req->content_length > ctx->cfg.body_limit))) {
		pl_resp_error(resp, 413, "request body exceeds %zu bytes", ctx->cfg.body_limit);
		return;
	}
	if (!(route->flags & PL_ROUTE_STREAM) && req->body_len > 0 && !is_json_type(req->content_type)) {
		pl_resp_error(resp, 415, "request body must be application/json");
		return;
	}
	if ((route->flags & PL_ROUTE_AUTH) &&
	    pl_session_authenticate(ctx->db, &ctx->cfg, ctx->tokens, req->authorization, false,
				    &req->principal, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	if ((route->flags & PL_ROUTE_AUTH) && req->principal.token_id &&
	    req->principal.scope < pl_route_scope(route, req->method, req->path)) {
		pl_resp_error(resp, 403, "this API token has scope \"%s\"; this request needs scope \"%s\"",
			      pl_scope_name(req->principal.scope),
			      pl_scope_name(pl_route_scope(route, req->method, req->path)));
		return;
	}
	req->authenticated = (route->flags & PL_ROUTE_AUTH) != 0;
	if (req->query_too_long) {
		pl_resp_error(resp, 400, "query string longer than %zu bytes", sizeof(req->query) - 1);
		return;
	}
	if (parse_body(req, route->flags, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	route->handler(ctx, req, resp);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

long pl_percent_decode(const char *in, size_t len, bool plus_space, char *out, size_t out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == '\0' || o + 1 >= out_len)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

int pl_query_get(const struct pl_request *req, const char *name, char *out, size_t out_len)
{
	const char *p = req->query;
	size_t nlen = strlen(name);

	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return pl_percent_decode(p + nlen + 1, len - nlen - 1, true, out, out_len) < 0 ? -1 : 0;
		if (len == nlen && strncmp(p, name, nlen) == 0) {
			out[0] = '\0';
			return 0;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 1;
}

int pl_query_id(const struct pl_request *req, const char *name, bool required, int64_t *out, struct pl_err *err)
{
	char buf[32];
	int rc = pl_query_get(req, name, buf, sizeof(buf));

	if (rc == 1) {
		if (required)
			return pl_err_set(err, 400, "query parameter \"%s\" is required", name);
		return 1;
	}
	if (rc < 0 || pl_parse_id(buf, out) < 0)
		return pl_err_set(err, 400, "query parameter \"%s\" must be a positive integer id", name);
	return 0;
}

int pl_query_int(const struct pl_request *req, const char *name, long min, long max, long *out, struct pl_err *err)
{
	char buf[32], *end;
	long v;
	int rc = pl_query_get(req, name, buf, sizeof(buf));

	if (rc == 1)
		return 1;
	v = rc == 0 ? strtol(buf, &end, 10) : 0;
	if (rc < 0 || !(isdigit((unsigned char)buf[0]) || (buf[0] == '-' && isdigit((unsigned char)buf[1]))) ||
	    *end || v < min || v > max)
		return pl_err_set(err, 400, "query parameter \"%s\" must be an integer in [%ld, %ld]", name, min, max);
	*out = v;
	return 0;
}

const char *pl_http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default:  return "Internal Server Error";
	}
}
