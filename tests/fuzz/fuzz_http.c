/*
 * fuzz_http.c — libFuzzer target for the router and query parsing
 * (lib/http.c): method, path and query string straight from the client.
 * Input layout: method \n path \n query (missing parts are empty).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void nop(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
}

/* The shapes of parley's real routes. */
static const struct pl_route routes[] = {
	{ "GET", "/api/channels", nop, 0 },
	{ "POST", "/api/channels", nop, 0 },
	{ "GET", "/api/channels/{id}", nop, 0 },
	{ "POST", "/api/channels/{id}/join", nop, 0 },
	{ "DELETE", "/api/channels/{id}/members/{user_id}", nop, 0 },
	{ "PUT", "/api/messages/{id}/reactions/{emoji}", nop, 0 },
	{ "GET", "/api/messages/history", nop, 0 },
	{ "GET", "/api/health", nop, 0 },
};

/* Copies the next '\n'-terminated field into out (truncated), advances. */
static void field(const uint8_t **p, const uint8_t *end, char *out, size_t len)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);

	if (n >= len)
		n = len - 1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = nl ? nl + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct pl_request req;
	struct pl_err err = { 0 };
	char allow[64], buf[256];
	int64_t id;
	long n;
	int status;

	pl_request_init(&req);
	field(&p, end, req.method, sizeof(req.method));
	field(&p, end, req.path, sizeof(req.path));
	field(&p, end, req.query, sizeof(req.query));
	const struct pl_route *r = pl_route_match(routes, sizeof(routes) / sizeof(routes[0]),
						  req.method, req.path, &req, &status, allow, sizeof(allow));
	if (r) {
		for (size_t i = 0; i < req.nparams; i++)
			if (strlen(req.params[i]) >= PL_PARAM_LEN)
				abort();
	} else if (status != 404 && status != 405) {
		abort();
	}
	(void)pl_query_get(&req, "q", buf, sizeof(buf));
	(void)pl_query_id(&req, "channel", false, &id, &err);
	(void)pl_query_int(&req, "limit", 1, 200, &n, &err);
	(void)pl_percent_decode(req.query, strlen(req.query), true, buf, sizeof(buf));
	pl_request_release(&req);
	return 0;
}
