/*
 * notifications.c — the /api/notifications resource (API.md
 * "Notifications"): list, mark read. Rules in lib/notifications.c.
 */
#include <stdlib.h>
#include "app.h"
#include "json.h"
#include "notifications.h"
#include "util.h"

/* GET /api/notifications?unread=1&limit= -> 200 {"notifications":[...]};
 * 400 bad query. */
static void handle_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	long unread = 0, limit = 50;
	cJSON *body;

	if (pl_query_int(req, "unread", 0, 1, &unread, &err) < 0 ||
	    pl_query_int(req, "limit", 1, 200, &limit, &err) < 0 ||
	    pl_notifications_list(ctx->db, req->principal.user_id, unread == 1, (int)limit, &body, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* POST /api/notifications/read {"ids":[...]} | {"all":true} -> 204; 400. */
static void handle_read(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t *ids = NULL;
	size_t n = 0;
	bool all = false;
	int has_all = pl_json_bool(req->json, "all", false, &all, &err);

	if (has_all < 0 || (has_all == 0 && !all) ||
	    (has_all == 0 && cJSON_GetObjectItemCaseSensitive(req->json, "ids"))) {
		if (!err.status)
			pl_err_set(&err, 400, "send {\"ids\":[...]} or {\"all\":true}");
		pl_resp_from_err(resp, &err);
	} else if ((!all && pl_json_id_array(req->json, "ids", true, 1, 200, &ids, &n, &err) < 0) ||
		   pl_notifications_read(ctx->db, req->principal.user_id, ids, n, all, &err) < 0) {
		pl_resp_from_err(resp, &err);
	} else {
		pl_resp_empty(resp, 204);
	}
	free(ids);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/notifications", handle_list, PL_ROUTE_AUTH },
	{ "POST", "/api/notifications/read", handle_read, PL_ROUTE_AUTH | PL_ROUTE_BODY },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("notifications", routes, sizeof(routes) / sizeof(routes[0]));
}
