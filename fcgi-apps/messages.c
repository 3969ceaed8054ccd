/*
 * messages.c — the /api/messages resource (API.md "Messages"): post and
 * history, get, edit, delete, reactions, search. Posting is
 * pl_message_post, the same function the WebSocket daemon calls for a
 * post frame; who may do what is pl_authz_channel / pl_authz_message.
 */
#include <stdlib.h>
#include "app.h"
#include "json.h"
#include "message_edits.h"
#include "messages.h"
#include "pins.h"
#include "reactions.h"
#include "search.h"
#include "threads.h"
#include "util.h"

/* GET /api/messages/history?channel=&before=&after=&around=&limit= -> 200
 * [messages]; 400 bad query (around with before or after); 404 channel not
 * readable. */
static void handle_history(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t channel = 0, before = 0, after = 0, around = 0;
	long limit = 50;
	cJSON *arr;
	int rc;

	if (pl_query_id(req, "channel", true, &channel, &err) < 0 ||
	    pl_query_id(req, "before", false, &before, &err) < 0 ||
	    pl_query_id(req, "after", false, &after, &err) < 0 ||
	    pl_query_id(req, "around", false, &around, &err) < 0 ||
	    pl_query_int(req, "limit", 1, 200, &limit, &err) < 0)
		rc = -1;
	else if (around && (before || after))
		rc = pl_err_set(&err, 400, "around cannot go with before or after");
	else if (around)
		rc = pl_message_history_around(ctx->db, req->principal.user_id, channel, around,
					       (int)limit, &arr, &err);
	else
		rc = pl_message_history(ctx->db, req->principal.user_id, channel, before, after,
					(int)limit, &arr, &err);
	if (rc < 0) {
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

static int path_id(const struct pl_request *req, int64_t *id, struct pl_response *resp)
{
	if (pl_parse_id(req->params[0], id) < 0) {
		pl_resp_error(resp, 404, "no such message");
		return -1;
	}
	return 0;
}

/* GET /api/messages/{id} -> 200 message; 404 missing or not readable. */
static void handle_get(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *msg;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_message_get(ctx->db, req->principal.user_id, id, &msg, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, msg);
}

/* PATCH /api/messages/{id} {"content"} -> 200 message; 400; 403 not the
 * author; 404; 409 deleted. */
static void handle_patch(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *content = NULL;
	int64_t id;
	cJSON *msg;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_json_string(req->json, "content", true, &content, &err) < 0 ||
	    pl_message_edit(ctx->db, req->principal.user_id, id, content, &msg, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, msg);
}

/* DELETE /api/messages/{id} -> 204; 403 neither author nor owner/admin; 404. */
static void handle_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_message_delete(ctx->db, req->principal.user_id, id, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

/* GET /api/messages/{id}/edits?after=&limit= -> 200 [...], the previous
 * versions oldest first (API.md v2, issue 17); 400 bad query; 404 not
 * readable. */
static void handle_edits(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, after = 0;
	long limit = 50;
	cJSON *body;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_query_id(req, "after", false, &after, &err) < 0 ||
	    pl_query_int(req, "limit", 1, 200, &limit, &err) < 0 ||
	    pl_message_edits(ctx->db, req->principal.user_id, id, after, (int)limit, &body, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* PUT / DELETE /api/messages/{id}/pin -> 204 (idempotent; issue 17); 403
 * not a member (or not owner/admin where pins_by_members is 0); 404; 409
 * deleted message or a full channel. */
static void pin(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp, bool on)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_pin_set(ctx->db, req->principal.user_id, id, on, ctx->cfg.pins_by_members != 0,
		       &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

static void handle_pin(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	pin(ctx, req, resp, true);
}

static void handle_unpin(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	pin(ctx, req, resp, false);
}

/* GET /api/messages/{id}/replies?before=&after=&limit= -> 200 [...], the
 * thread's replies oldest first (API.md v2, issue 17); 400; 404. */
static void handle_replies(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, before = 0, after = 0;
	long limit = 50;
	cJSON *body;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_query_id(req, "before", false, &before, &err) < 0 ||
	    pl_query_id(req, "after", false, &after, &err) < 0 ||
	    pl_query_int(req, "limit", 1, 200, &limit, &err) < 0 ||
	    pl_thread_replies(ctx->db, req->principal.user_id, id, before, after, (int)limit, &body,
			      &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* GET /api/messages/{id}/follow -> 200 {"following"}; PUT / DELETE -> 204
 * (idempotent): following the message's thread (issue 17); 404. */
static void handle_following(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	bool on;
	cJSON *body;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_thread_following(ctx->db, req->principal.user_id, id, &on, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddBoolToObject(body, "following", on);
	pl_resp_json(resp, 200, body);
}

static void follow(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp, bool on)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_thread_follow(ctx->db, req->principal.user_id, id, on, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

static void handle_follow(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	follow(ctx, req, resp, true);
}

static void handle_unfollow(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	follow(ctx, req, resp, false);
}

/* PUT / DELETE /api/messages/{id}/reactions/{emoji} -> 204 (idempotent);
 * 400 bad emoji; 404; 409 deleted message. */
static void reaction(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp, bool add)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_reaction_set(ctx->db, req->principal.user_id, id, req->params[1], add, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

static void handle_react(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	reaction(ctx, req, resp, true);
}

static void handle_unreact(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	reaction(ctx, req, resp, false);
}

/* GET /api/messages/search?q=&channel=&limit= -> 200 {"messages":[...]};
 * 400 bad query; 404 channel not readable. */
static void handle_search(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	char q[PL_SEARCH_Q_MAX + 1];
	int64_t channel = 0;
	long limit = 50;
	int found = pl_query_get(req, "q", q, sizeof(q));
	cJSON *body;

	if (found != 0) {
		pl_resp_error(resp, 400, found > 0 ? "q is required" : "q must be at most %d bytes",
			      PL_SEARCH_Q_MAX);
		return;
	}
	if (pl_query_id(req, "channel", false, &channel, &err) < 0 ||
	    pl_query_int(req, "limit", 1, 200, &limit, &err) < 0 ||
	    pl_message_search(ctx->db, req->principal.user_id, q, channel, (int)limit, &body, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/messages/history", handle_history, PL_ROUTE_AUTH },
	{ "GET", "/api/messages/search", handle_search, PL_ROUTE_AUTH },
	{ "POST", "/api/messages", handle_post, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "GET", "/api/messages/{id}", handle_get, PL_ROUTE_AUTH },
	{ "GET", "/api/messages/{id}/edits", handle_edits, PL_ROUTE_AUTH },
	{ "PUT", "/api/messages/{id}/pin", handle_pin, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "DELETE", "/api/messages/{id}/pin", handle_unpin, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "GET", "/api/messages/{id}/replies", handle_replies, PL_ROUTE_AUTH },
	{ "GET", "/api/messages/{id}/follow", handle_following, PL_ROUTE_AUTH },
	{ "PUT", "/api/messages/{id}/follow", handle_follow, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "DELETE", "/api/messages/{id}/follow", handle_unfollow, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "PATCH", "/api/messages/{id}", handle_patch, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "DELETE", "/api/messages/{id}", handle_delete, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "PUT", "/api/messages/{id}/reactions/{emoji}", handle_react, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "DELETE", "/api/messages/{id}/reactions/{emoji}", handle_unreact,
	  PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("messages", routes, sizeof(routes) / sizeof(routes[0]));
}
