/*
 * channels.c — the /api/channels resource (API.md "Channels"): list,
 * create, get, join. Rules in lib/channels.c.
 */
#include <stdlib.h>
#include "app.h"
#include "channels.h"
#include "json.h"
#include "util.h"

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

/* Reads the optional "members" array of ids; *ids is malloc'd (caller frees). */
static int read_members(const cJSON *json, int64_t **ids, size_t *n, struct pl_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(json, "members"), *it;
	size_t i = 0;

	*ids = NULL;
	*n = 0;
	if (!arr || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return pl_err_set(err, 400, "field \"members\" must be an array of user ids");
	*n = (size_t)cJSON_GetArraySize(arr);
	if (*n > 100)
		return pl_err_set(err, 400, "at most 100 members at creation");
	*ids = pl_xcalloc(*n, sizeof(**ids));
	cJSON_ArrayForEach(it, arr) {
		double d = it->valuedouble;
		if (!cJSON_IsNumber(it) || d < 1 || d > 9007199254740992.0 || d != (double)(int64_t)d)
			return pl_err_set(err, 400, "field \"members\" must be an array of user ids");
		(*ids)[i++] = (int64_t)d;
	}
	return 0;
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
	    read_members(req->json, &members, &in.nmembers, &err) < 0) {
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

static const struct pl_route routes[] = {
	{ "GET", "/api/channels", handle_list, PL_ROUTE_AUTH },
	{ "POST", "/api/channels", handle_create, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	{ "GET", "/api/channels/{id}", handle_get, PL_ROUTE_AUTH },
	{ "POST", "/api/channels/{id}/join", handle_join, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("channels", routes, sizeof(routes) / sizeof(routes[0]));
}
