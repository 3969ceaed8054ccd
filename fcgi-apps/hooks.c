/*
 * hooks.c — incoming webhooks' secret URLs (issue 16): POST /hooks/<secret>
 * with {"text","username"?,"icon_url"?} as application/json, or as
 * application/x-www-form-urlencoded `payload=<json>` (what Slack's
 * incoming webhooks accept). No Authorization header: the secret in the
 * path is the credential. The rules live in lib/webhooks.c; this program
 * reads and decodes the body (the route streams it, since it need not be
 * JSON), in the order 413 (over body_limit) -> 415 (neither type) -> 400
 * (malformed) -> 404 (unknown secret) -> 429 (rate limited).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "app.h"
#include "json.h"
#include "util.h"
#include "webhooks.h"

/* Whether content type `ct` is `type`, parameters allowed. */
static bool is_type(const char *ct, const char *type)
{
	size_t n = strlen(type);

	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, type, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Reads the whole body into *out (NUL-terminated, caller frees): -1 with
 * 413 past `limit` bytes, 400 when the client went away. */
static long read_body(struct pl_request *req, size_t limit, char **out, struct pl_err *err)
{
	char *buf = pl_xmalloc(limit + 2);
	size_t len = 0;
	long n;

	while ((n = pl_request_read(req, buf + len, limit + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > limit) {
			free(buf);
			return pl_err_set(err, 413, "request body exceeds %zu bytes", limit);
		}
	}
	if (n < 0) {
		free(buf);
		return pl_err_set(err, 400, "the request body ended early");
	}
	buf[len] = '\0';
	*out = buf;
	return (long)len;
}

/* The JSON of a form body's `payload` field: *out parsed (caller frees). */
static int form_payload(const char *body, size_t len, cJSON **out, struct pl_err *err)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t seg = amp ? (size_t)(amp - p) : (size_t)(end - p);
		if (seg > 8 && strncmp(p, "payload=", 8) == 0) {
			char *json = pl_xmalloc(seg);
			long n = pl_percent_decode(p + 8, seg - 8, true, json, seg);
			int rc = n < 0 ? pl_err_set(err, 400, "the form field \"payload\" is badly encoded")
				       : pl_json_parse(json, (size_t)n, out, err);
			free(json);
			return rc;
		}
		p += seg + (amp ? 1 : 0);
	}
	return pl_err_set(err, 400, "a form body needs a \"payload\" field holding the JSON");
}

/* The message text of a parsed payload; username/icon_url are checked
 * for type and otherwise ignored (docs/DECISIONS.md). */
static int payload_text(const cJSON *json, const char **text, struct pl_err *err)
{
	const char *ignored;

	if (!cJSON_IsObject(json))
		return pl_err_set(err, 400, "the payload must be a JSON object");
	if (pl_json_string(json, "username", false, &ignored, err) < 0 ||
	    pl_json_string(json, "icon_url", false, &ignored, err) < 0 ||
	    pl_json_string(json, "text", true, text, err) < 0)
		return -1;
	return 0;
}

/* POST /hooks/{secret} -> 200 {"ok":true}; 400; 404; 413; 415; 429. */
static void handle_hook(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *json = NULL, *ok;
	const char *text;
	char *body = NULL;
	long len = read_body(req, ctx->cfg.body_limit, &body, &err);

	if (len < 0)
		goto fail;
	if (is_type(req->content_type, "application/json")) {
		if (pl_json_parse(body, (size_t)len, &json, &err) < 0)
			goto fail;
	} else if (is_type(req->content_type, "application/x-www-form-urlencoded")) {
		if (form_payload(body, (size_t)len, &json, &err) < 0)
			goto fail;
	} else {
		pl_err_set(&err, 415, "the body must be application/json or a form with \"payload\"");
		goto fail;
	}
	if (payload_text(json, &text, &err) < 0 ||
	    pl_webhook_post(ctx->db, &ctx->cfg, req->params[0], text, &err) < 0)
		goto fail;
	ok = cJSON_CreateObject();
	cJSON_AddBoolToObject(ok, "ok", 1);
	pl_resp_json(resp, 200, ok);
	goto out;
fail:
	pl_resp_from_err(resp, &err);
out:
	cJSON_Delete(json);
	free(body);
}

static const struct pl_route routes[] = {
	{ "POST", "/hooks/{secret}", handle_hook, PL_ROUTE_STREAM },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("hooks", routes, sizeof(routes) / sizeof(routes[0]));
}
