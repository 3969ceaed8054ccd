/*
 * messages.c — the /api/messages resource (API.md "Messages"): post and
 * history. Posting is pl_message_post, the same function the WebSocket
 * daemon calls for a post frame.
 */
#include "app.h"
#include "json.h"
#include "messages.h"

/* GET /api/messages/history?channel=&before=&after=&limit= -> 200 [messages];
 * 400 bad query; 404 channel not readable. */
static void handle_history(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t channel = 0, before = 0, after = 0;
	long limit = 50;
	cJSON *arr;

	if (pl_query_id(req, "channel", true, &channel, &err) < 0 ||
	    pl_query_id(req, "before", false, &before, &err) < 0 ||
	    pl_query_id(req, "after", false, &after, &err) < 0 ||
	    pl_query_int(req, "limit", 1, 200, &limit, &err) < 0 ||
	    pl_message_history(ctx->db, req->principal.user_id, channel, before, after,
			       (int)limit, &arr, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, arr);
}

/* POST /api/messages -> 201 message (200 for a repeated client_msg_id);
 * 400 invalid; 404 channel not visible. */
static void handle_post(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_message_new in;
	struct pl_err err = { 0 };
	bool created;
	cJSON *msg;

	if (pl_message_new_from_json(req->json, &in, &err) < 0 ||
	    pl_message_post(ctx->db, req->principal.user_id, &in, &msg, &created, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, created ? 201 : 200, msg);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/messages/history", handle_history, PL_ROUTE_AUTH },
	{ "POST", "/api/messages", handle_post, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("messages", routes, sizeof(routes) / sizeof(routes[0]));
}
