/*
 * admin.c — the /api/admin resource (issue 16, README "Server
 * administration"): accounts, any message or channel, invites and the
 * audit log, for server admins only (403 for anyone else, 401 without a
 * token). Thin handlers: the rules live in lib/admin.c, who may act in
 * lib/authz.c (pl_authz_server_admin).
 */
#include "admin.h"
#include "app.h"
#include "invites.h"
#include "json.h"
#include "user_search.h"
#include "util.h"

/* The id in path parameter 0; 404 `what` when it is not one. */
static int path_id(struct pl_request *req, struct pl_response *resp, const char *what, int64_t *id)
{
	if (pl_parse_id(req->params[0], id) == 0)
		return 0;
	pl_resp_error(resp, 404, "%s", what);
	return -1;
}

/* limit (1-200, default 50) and before (an id) of a list. */
static int paging(struct pl_request *req, long *limit, int64_t *before, struct pl_err *err)
{
	*limit = 50;
	*before = 0;
	if (pl_query_int(req, "limit", 1, 200, limit, err) < 0 ||
	    pl_query_id(req, "before", false, before, err) < 0)
		return -1;
	return 0;
}

static void answer(struct pl_response *resp, int rc, int status, cJSON *body, struct pl_err *err)
{
	if (rc < 0)
		pl_resp_from_err(resp, err);
	else if (body)
		pl_resp_json(resp, status, body);
	else
		pl_resp_empty(resp, status);
}

/* GET /api/admin/users?q=&limit=&before= -> 200 {"users":[...]}; 400; 401; 403. */
static void handle_users(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	char q[PL_SEARCH_MAX + 1];
	int64_t before;
	long limit;
	cJSON *body = NULL;
	int rc = pl_query_get(req, "q", q, sizeof(q));

	if (rc < 0) {
		pl_resp_error(resp, 400, "query parameter \"q\" is too long or badly encoded");
		return;
	}
	if (rc == 1)
		q[0] = '\0';
	rc = paging(req, &limit, &before, &err);
	if (rc == 0)
		rc = pl_admin_users(ctx->db, req->principal.user_id, q, (int)limit, before, &body, &err);
	answer(resp, rc, 200, body, &err);
}

/* POST /api/admin/users/{id}/deactivate | /reactivate -> 200 admin user
 * object; 401; 403 (not an admin, or yourself); 404; 409 last admin. */
static void set_active(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp,
		       bool active)
{
	struct pl_err err = { 0 };
	cJSON *user = NULL;
	int64_t id;
	int rc;

	if (path_id(req, resp, "no such user", &id) < 0)
		return;
	rc = pl_admin_set_active(ctx->db, req->principal.user_id, id, active, &user, &err);
	answer(resp, rc, 200, user, &err);
}

static void handle_deactivate(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	set_active(ctx, req, resp, false);
}

static void handle_reactivate(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	set_active(ctx, req, resp, true);
}

/* PUT / DELETE /api/admin/users/{id}/server-admin -> 200 admin user
 * object; 401; 403; 404; 409 the last admin. */
static void set_role(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp, bool grant)
{
	struct pl_err err = { 0 };
	cJSON *user = NULL;
	int64_t id;
	int rc;

	if (path_id(req, resp, "no such user", &id) < 0)
		return;
	rc = pl_admin_set_server_admin(ctx->db, req->principal.user_id, id, grant, &user, &err);
	answer(resp, rc, 200, user, &err);
}

static void handle_grant(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	set_role(ctx, req, resp, true);
}

static void handle_revoke(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	set_role(ctx, req, resp, false);
}

/* DELETE /api/admin/messages/{id} -> 204; 401; 403; 404. */
static void handle_delete_message(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, resp, "no such message", &id) < 0)
		return;
	answer(resp, pl_admin_delete_message(ctx->db, req->principal.user_id, id, &err), 204, NULL, &err);
}

/* DELETE /api/admin/channels/{id} -> 204; 401; 403; 404. */
static void handle_delete_channel(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, resp, "no such channel", &id) < 0)
		return;
	answer(resp, pl_admin_delete_channel(ctx->db, req->principal.user_id, id, &err), 204, NULL, &err);
}

/* POST /api/admin/channels/{id}/archive | /unarchive -> 200 channel; 401; 403; 404. */
static void archive(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp, bool on)
{
	struct pl_err err = { 0 };
	cJSON *ch = NULL;
	int64_t id;
	int rc;

	if (path_id(req, resp, "no such channel", &id) < 0)
		return;
	rc = pl_admin_archive_channel(ctx->db, req->principal.user_id, id, on, &ch, &err);
	answer(resp, rc, 200, ch, &err);
}

static void handle_archive(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	archive(ctx, req, resp, true);
}

static void handle_unarchive(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	archive(ctx, req, resp, false);
}

/* POST /api/admin/invites {"max_uses"?, "expires_in"?} -> 201 invite with
 * "token" (shown once); 400; 401; 403. */
static void handle_invite_create(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t uses = 1, ttl = PL_INVITE_DEFAULT_TTL;
	cJSON *body = NULL;
	int rc = -1;

	if (pl_json_id(req->json, "max_uses", false, &uses, &err) >= 0 &&
	    pl_json_id(req->json, "expires_in", false, &ttl, &err) >= 0)
		rc = pl_admin_invite_create(ctx->db, req->principal.user_id, uses, ttl, &body, &err);
	answer(resp, rc, 201, body, &err);
}

/* GET /api/admin/invites?limit=&before= -> 200 {"invites":[...]} (no tokens). */
static void handle_invites(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t before;
	long limit;
	cJSON *body = NULL;
	int rc = paging(req, &limit, &before, &err);

	if (rc == 0)
		rc = pl_admin_invites(ctx->db, req->principal.user_id, (int)limit, before, &body, &err);
	answer(resp, rc, 200, body, &err);
}

/* DELETE /api/admin/invites/{id} -> 204; 401; 403; 404. */
static void handle_invite_revoke(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (path_id(req, resp, "no such invite", &id) < 0)
		return;
	answer(resp, pl_admin_invite_revoke(ctx->db, req->principal.user_id, id, &err), 204, NULL, &err);
}

/* GET /api/admin/audit?limit=&before= -> 200 {"entries":[...]}, newest first. */
static void handle_audit(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t before;
	long limit;
	cJSON *body = NULL;
	int rc = paging(req, &limit, &before, &err);

	if (rc == 0)
		rc = pl_admin_audit(ctx->db, req->principal.user_id, (int)limit, before, &body, &err);
	answer(resp, rc, 200, body, &err);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/admin/users", handle_users, PL_ROUTE_AUTH },
	{ "POST", "/api/admin/users/{id}/deactivate", handle_deactivate, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "POST", "/api/admin/users/{id}/reactivate", handle_reactivate, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "PUT", "/api/admin/users/{id}/server-admin", handle_grant, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "DELETE", "/api/admin/users/{id}/server-admin", handle_revoke, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "DELETE", "/api/admin/messages/{id}", handle_delete_message, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "DELETE", "/api/admin/channels/{id}", handle_delete_channel, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "POST", "/api/admin/channels/{id}/archive", handle_archive, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "POST", "/api/admin/channels/{id}/unarchive", handle_unarchive, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "POST", "/api/admin/invites", handle_invite_create, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "GET", "/api/admin/invites", handle_invites, PL_ROUTE_AUTH },
	{ "DELETE", "/api/admin/invites/{id}", handle_invite_revoke, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	{ "GET", "/api/admin/audit", handle_audit, PL_ROUTE_AUTH },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("admin", routes, sizeof(routes) / sizeof(routes[0]));
}
