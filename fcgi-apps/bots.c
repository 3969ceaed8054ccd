/*
 * bots.c — the /api/bots resource (issue 16): bot accounts made by server
 * admins, and their API tokens, managed by the bot's owner or a server
 * admin. Thin handlers: the rules live in lib/bots.c, lib/apitokens.c and
 * lib/authz.c. Every route needs a session or an admin-scope API token.
 */
#include "apitokens.h"
#include "app.h"
#include "authz.h"
#include "bots.h"
#include "util.h"

/* The {id} path parameter `i` as an id; 404 (`what`) when it is none. */
static int param_id(struct pl_request *req, size_t i, const char *what, int64_t *id,
		    struct pl_err *err)
{
	if (pl_parse_id(req->params[i], id) < 0)
		return pl_err_set(err, 404, "no such %s", what);
	return 0;
}

/* POST /api/bots {"username","display_name"?} -> 201 user (bot: true);
 * 400; 401; 403 not a server admin (or token scope); 409 username taken. */
static void handle_create(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *bot;

	if (pl_bot_create(ctx->db, req->principal.user_id, req->json, &bot, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 201, bot);
}

/* GET /api/bots -> 200 {"bots":[users]}: all for a server admin, else own. */
static void handle_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *body;

	if (pl_bot_list(ctx->db, req->principal.user_id, &body, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* DELETE /api/bots/{id} -> 204 (erased); 401; 403; 404. */
static void handle_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (param_id(req, 0, "bot", &id, &err) < 0 ||
	    pl_bot_delete(ctx->db, req->principal.user_id, id, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_empty(resp, 204);
}

/* POST /api/bots/{id}/tokens {"name","scope","expires_in"?} -> 201 token
 * with its secret; 400; 401; 403; 404; 409. */
static void handle_token_create(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *tok;

	if (param_id(req, 0, "bot", &id, &err) < 0 ||
	    pl_authz_bot(ctx->db, req->principal.user_id, id, &err) < 0 ||
	    pl_apitoken_create(ctx->db, id, req->json, &tok, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 201, tok);
}

/* GET /api/bots/{id}/tokens -> 200 {"tokens":[...]}; 401; 403; 404. */
static void handle_token_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *body;

	if (param_id(req, 0, "bot", &id, &err) < 0 ||
	    pl_authz_bot(ctx->db, req->principal.user_id, id, &err) < 0 ||
	    pl_apitoken_list(ctx->db, id, &body, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, body);
}

/* DELETE /api/bots/{id}/tokens/{token id} -> 204; 401; 403; 404. */
static void handle_token_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, tid;

	if (param_id(req, 0, "bot", &id, &err) < 0 || param_id(req, 1, "token", &tid, &err) < 0 ||
	    pl_authz_bot(ctx->db, req->principal.user_id, id, &err) < 0 ||
	    pl_apitoken_delete(ctx->db, id, tid, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_empty(resp, 204);
}

#define ADMIN (PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN)
static const struct pl_route routes[] = {
	{ "POST", "/api/bots", handle_create, ADMIN | PL_ROUTE_BODY },
	{ "GET", "/api/bots", handle_list, ADMIN },
	{ "DELETE", "/api/bots/{id}", handle_delete, ADMIN },
	{ "POST", "/api/bots/{id}/tokens", handle_token_create, ADMIN | PL_ROUTE_BODY },
	{ "GET", "/api/bots/{id}/tokens", handle_token_list, ADMIN },
	{ "DELETE", "/api/bots/{id}/tokens/{tid}", handle_token_delete, ADMIN },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("bots", routes, sizeof(routes) / sizeof(routes[0]));
}
