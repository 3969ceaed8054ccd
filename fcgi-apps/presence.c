/*
 * presence.c — the /api/presence resource (API.md "Presence"): list,
 * join, leave, heartbeat. Rules in lib/presence.c.
 */
#include "app.h"
#include "json.h"
#include "presence.h"

/* GET /api/presence?channel= -> 200 {"online_users":[...]}; 404 channel. */
static void handle_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t channel = 0;
	cJSON *body;

	if (pl_query_id(req, "channel", false, &channel, &err) < 0 ||
	    pl_presence_list(ctx->db, req->principal.user_id, channel,
			     ctx->cfg.presence_window, &body, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, body);
}

static void message(struct pl_response *resp, const char *text)
{
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "message", text);
	pl_resp_json(resp, 200, body);
}

/* POST /api/presence/join {"channel_id"} -> 200 {"message":"user joined"}. */
static void handle_join(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t channel;

	if (pl_json_id(req->json, "channel_id", true, &channel, &err) < 0 ||
	    pl_presence_join(ctx->db, req->principal.user_id, channel, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	message(resp, "user joined");
}

/* POST /api/presence/leave {"channel_id"?} -> 200 {"message":"user left"}. */
static void handle_leave(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t channel = 0;

	if ((req->json && pl_json_id(req->json, "channel_id", false, &channel, &err) < 0) ||
	    pl_presence_leave(ctx->db, req->principal.user_id, channel, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	message(resp, "user left");
}

/* POST /api/presence/heartbeat {"status"?} -> 204. */
static void handle_heartbeat(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *status = NULL;

	if ((req->json && pl_json_string(req->json, "status", false, &status, &err) < 0) ||
	    pl_presence_touch(ctx->db, req->principal.user_id, status, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_empty(resp, 204);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/presence", handle_list, PL_ROUTE_AUTH },
	{ "POST", "/api/presence/join", handle_join, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "POST", "/api/presence/leave", handle_leave, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "POST", "/api/presence/heartbeat", handle_heartbeat, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("presence", routes, sizeof(routes) / sizeof(routes[0]));
}
