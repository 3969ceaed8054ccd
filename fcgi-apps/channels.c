/*
 * channels.c — the /api/channels resource (API.md "Channels"): list,
 * create, get, patch, delete, dm, join, members, read markers, typing,
 * outgoing webhooks (lib/outhooks.c).
 * Rules in lib/channels.c, members.c, direct.c and read_markers.c (who may
 * do what: lib/authz.c).
 */
#include <stdlib.h>
#include "app.h"
#include "channels.h"
#include "direct.h"
#include "json.h"
#include "members.h"
#include "outhooks.h"
#include "pins.h"
#include "presence.h"
#include "read_markers.h"
#include "util.h"
#include "webhooks.h"

/* GET /api/channels -> 200 {"channels":[...]}. */
static void handle_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *arr = pl_channel_list(ctx->db, req->principal.user_id, &err);
	cJSON *body;

	if (!arr) {
		pl_resp_from_err(resp, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddItemToObject(body, "channels", arr);
	pl_resp_json(resp, 200, body);
}

/* POST /api/channels -> 201 channel; 400 invalid; 409 name taken. */
static void handle_create(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_channel_new in = { 0 };
	struct pl_err err = { 0 };
	int64_t *members = NULL;
	cJSON *ch = NULL;

	if (pl_json_string(req->json, "name", true, &in.name, &err) < 0 ||
	    pl_json_string(req->json, "kind", false, &in.kind, &err) < 0 ||
	    pl_json_string(req->json, "topic", false, &in.topic, &err) < 0 ||
	    pl_json_id_array(req->json, "members", false, 0, PL_CHANNEL_INITIAL_MEMBERS_MAX, &members, &in.nmembers, &err) < 0) {
		pl_resp_from_err(resp, &err);
		goto out;
	}
	in.members = members;
	if (pl_channel_create(ctx->db, req->principal.user_id, &in, &ch, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 201, ch);
out:
	free(members);
}

static int path_id(const struct pl_request *req, int64_t *id, struct pl_response *resp)
{
	if (pl_parse_id(req->params[0], id) < 0) {
		pl_resp_error(resp, 404, "no such channel");
		return -1;
	}
	return 0;
}

/* GET /api/channels/{id} -> 200 channel; 404 not visible. */
static void handle_get(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *ch;

	if (path_id(req, &id, resp) < 0)
		return;
	if (!(ch = pl_channel_json(ctx->db, req->principal.user_id, id, &err)))
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, ch);
}

/* POST /api/channels/{id}/join -> 200 channel; 404 private or missing. */
static void handle_join(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	bool joined;
	int64_t id;
	cJSON *ch;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_db_begin(ctx->db, &err) < 0 ||
	    pl_channel_join_locked(ctx->db, req->principal.user_id, id, &joined, &err) < 0 ||
	    pl_db_commit(ctx->db, &err) < 0) {
		pl_db_rollback(ctx->db);
		pl_resp_from_err(resp, &err);
		return;
	}
	if (!(ch = pl_channel_json(ctx->db, req->principal.user_id, id, &err)))
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, ch);
}

/* PATCH /api/channels/{id} {"name"?,"topic"?} -> 200 channel; 400; 403
 * not owner/admin (or a dm); 404; 409 name taken. */
static void handle_patch(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	const char *name = NULL, *topic = NULL;
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *ch;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_json_string(req->json, "name", false, &name, &err) < 0 ||
	    pl_json_string(req->json, "topic", false, &topic, &err) < 0 ||
	    pl_channel_update(ctx->db, req->principal.user_id, id, name, topic, &ch, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, ch);
}

/* DELETE /api/channels/{id} -> 204; 403 not the owner; 404. */
static void handle_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_channel_delete(ctx->db, req->principal.user_id, id, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

/* POST /api/channels/dm {"user_ids":[...]} -> 200 existing / 201 new dm
 * channel; 400 (not 1-8 other existing users). */
static void handle_dm(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t *ids = NULL;
	size_t n = 0;
	bool created;
	cJSON *ch;

	if (pl_json_id_array(req->json, "user_ids", true, 0, PL_DM_OTHERS_MAX, &ids, &n, &err) < 0 ||
	    pl_channel_dm(ctx->db, req->principal.user_id, ids, n, &created, &ch, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, created ? 201 : 200, ch);
	free(ids);
}

/* GET /api/channels/{id}/members -> 200 {"members":[...]}; 404. */
static void handle_members(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *body;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_channel_members(ctx->db, req->principal.user_id, id, &body, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* POST /api/channels/{id}/members {"user_id","role"?} -> 201 member (200
 * when only the role changed); 400; 403; 404; 409 no owner left. */
static void handle_member_add(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *role = NULL;
	int64_t id, user = 0;
	bool created;
	cJSON *m;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_json_id(req->json, "user_id", true, &user, &err) < 0 ||
	    pl_json_string(req->json, "role", false, &role, &err) < 0 ||
	    pl_channel_member_set(ctx->db, req->principal.user_id, id, user, role, &created, &m, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, created ? 201 : 200, m);
}

/* DELETE /api/channels/{id}/members/{user_id} -> 204; 403; 404; 409 the
 * last owner leaving. */
static void handle_member_remove(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, user;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_parse_id(req->params[1], &user) < 0) {
		pl_resp_error(resp, 404, "not a member of this channel");
		return;
	}
	if (pl_channel_member_remove(ctx->db, req->principal.user_id, id, user, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

/* POST /api/channels/{id}/read {"message_id"} -> 204; 400; 403 not
 * joined (public); 404. */
static void handle_read(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, mid = 0;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_json_id(req->json, "message_id", true, &mid, &err) < 0 ||
	    pl_channel_mark_read(ctx->db, req->principal.user_id, id, mid, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

/* POST /api/channels/{id}/typing -> 204; 404 not a member. */
static void handle_typing(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_presence_typing(ctx->db, req->principal.user_id, id, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

/* Outgoing webhooks (issue 16, lib/outhooks.h): owner/admin only. */

/* POST /api/channels/{id}/outgoing-webhooks {"url","name"?,"trigger_words"?}
 * -> 201 hook with its secret (shown once); 400 (a refused address says
 * why); 403; 404; 409 too many hooks. */
static void handle_outhook_create(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_outhook_new in = { 0 };
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *h;

	if (path_id(req, &id, resp) < 0)
		return;
	in.trigger_words = cJSON_GetObjectItemCaseSensitive(req->json, "trigger_words");
	if (pl_json_string(req->json, "url", true, &in.url, &err) < 0 ||
	    pl_json_string(req->json, "name", false, &in.name, &err) < 0 ||
	    pl_outhook_create(ctx->db, req->principal.user_id, id, &in,
			      ctx->cfg.outgoing_webhook_allow_hosts, &h, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 201, h);
}

/* GET /api/channels/{id}/outgoing-webhooks -> 200 {"outgoing_webhooks":[...]}
 * (no secrets); 403; 404. */
static void handle_outhook_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *body;

	if (path_id(req, &id, resp) < 0)
		return;
	if (!(body = pl_outhook_list(ctx->db, req->principal.user_id, id, &err)))
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

static int path_hook_id(const struct pl_request *req, int64_t *id, struct pl_response *resp)
{
	if (pl_parse_id(req->params[1], id) < 0) {
		pl_resp_error(resp, 404, "no such outgoing webhook");
		return -1;
	}
	return 0;
}

/* DELETE /api/channels/{id}/outgoing-webhooks/{wid} -> 204; 403; 404. */
static void handle_outhook_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, wid;

	if (path_id(req, &id, resp) < 0 || path_hook_id(req, &wid, resp) < 0)
		return;
	if (pl_outhook_delete(ctx->db, req->principal.user_id, id, wid, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_empty(resp, 204);
}

/* GET /api/channels/{id}/outgoing-webhooks/{wid}/deliveries?limit=&before=
 * -> 200 {"deliveries":[...]} newest first; 400; 403; 404. */
static void handle_outhook_deliveries(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, wid, before = 0;
	long limit = 50;
	cJSON *body;

	if (path_id(req, &id, resp) < 0 || path_hook_id(req, &wid, resp) < 0)
		return;
	if (pl_query_int(req, "limit", 1, 200, &limit, &err) < 0 ||
	    pl_query_id(req, "before", false, &before, &err) < 0 ||
	    !(body = pl_outhook_deliveries(ctx->db, req->principal.user_id, id, wid, (int)limit,
					   before, &err)))
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* GET /api/channels/{id}/pins -> 200 [messages], most recently pinned first (issue
 * 17); 404 not readable. */
static void handle_pins(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *body;

	if (path_id(req, &id, resp) < 0)
		return;
	if (pl_pins_list(ctx->db, req->principal.user_id, id, &body, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* ---- incoming webhooks (issue 16; lib/webhooks.h) ---- */

/* POST /api/channels/{id}/webhooks {"name","avatar_url"?} -> 201 with "url"
 * and "token" (shown once); 400; 401; 403 not owner/admin; 404. */
static void handle_webhook_create(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *hook;

	if (pl_parse_id(req->params[0], &id) < 0)
		pl_err_set(&err, 404, "no such channel");
	else if (pl_webhook_create(ctx->db, req->principal.user_id, id, req->json, &hook, &err) == 0) {
		pl_resp_json(resp, 201, hook);
		return;
	}
	pl_resp_from_err(resp, &err);
}

/* GET /api/channels/{id}/webhooks -> 200 {"webhooks":[...]} (no secrets); 401; 403; 404. */
static void handle_webhook_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *body;

	if (pl_parse_id(req->params[0], &id) < 0)
		pl_err_set(&err, 404, "no such channel");
	else if (pl_webhook_list(ctx->db, req->principal.user_id, id, &body, &err) == 0) {
		pl_resp_json(resp, 200, body);
		return;
	}
	pl_resp_from_err(resp, &err);
}

/* DELETE /api/channels/{id}/webhooks/{hook id} -> 204 (its URL is 404 from
 * now on); 401; 403; 404. */
static void handle_webhook_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id, hook;

	if (pl_parse_id(req->params[0], &id) < 0 || pl_parse_id(req->params[1], &hook) < 0)
		pl_err_set(&err, 404, "no such webhook");
	else if (pl_webhook_delete(ctx->db, req->principal.user_id, id, hook, &err) == 0) {
		pl_resp_empty(resp, 204);
		return;
	}
	pl_resp_from_err(resp, &err);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/channels", handle_list, PL_ROUTE_AUTH },
	{ "POST", "/api/channels", handle_create, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "POST", "/api/channels/dm", handle_dm, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "GET", "/api/channels/{id}", handle_get, PL_ROUTE_AUTH },
	{ "PATCH", "/api/channels/{id}", handle_patch, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "DELETE", "/api/channels/{id}", handle_delete, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "POST", "/api/channels/{id}/join", handle_join, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "GET", "/api/channels/{id}/members", handle_members, PL_ROUTE_AUTH },
	{ "POST", "/api/channels/{id}/members", handle_member_add, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "DELETE", "/api/channels/{id}/members/{user_id}", handle_member_remove,
	  PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "POST", "/api/channels/{id}/read", handle_read, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "POST", "/api/channels/{id}/typing", handle_typing, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "GET", "/api/channels/{id}/pins", handle_pins, PL_ROUTE_AUTH },
	{ "GET", "/api/channels/{id}/outgoing-webhooks", handle_outhook_list,
	  PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN },
	{ "POST", "/api/channels/{id}/outgoing-webhooks", handle_outhook_create,
	  PL_ROUTE_AUTH | PL_ROUTE_BODY | PL_ROUTE_SCOPE_ADMIN },
	{ "DELETE", "/api/channels/{id}/outgoing-webhooks/{wid}", handle_outhook_delete,
	  PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT | PL_ROUTE_SCOPE_ADMIN },
	{ "GET", "/api/channels/{id}/outgoing-webhooks/{wid}/deliveries", handle_outhook_deliveries,
	  PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN },
	{ "POST", "/api/channels/{id}/webhooks", handle_webhook_create,
	  PL_ROUTE_AUTH | PL_ROUTE_BODY | PL_ROUTE_SCOPE_ADMIN },
	{ "GET", "/api/channels/{id}/webhooks", handle_webhook_list, PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN },
	{ "DELETE", "/api/channels/{id}/webhooks/{hook}", handle_webhook_delete,
	  PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("channels", routes, sizeof(routes) / sizeof(routes[0]));
}
