/*
 * users.c — the /api/users resource (API.md "Users"): the caller's own
 * profile (get, patch, password, delete), other users by id, and prefix
 * search. Thin handlers: the rules live in lib/accounts.c and
 * lib/user_search.c.
 */
#include "accounts.h"
#include "apitokens.h"
#include "app.h"
#include "avatars.h"
#include "export.h"
#include "upload.h"
#include "json.h"
#include "user_search.h"
#include "util.h"

/* GET /api/users/me -> 200 user with email and email_verified; 401. */
static void handle_me(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *user = pl_user_get(ctx->db, req->principal.user_id, req->principal.user_id, &err);

	if (!user) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, user);
}

/* PATCH /api/users/me {display_name?, bio?, avatar_url?, status_text?, email?}
 * -> 200 user; 400 a bad field (nothing changed); 401. */
static void handle_patch_me(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *user;

	if (pl_user_patch(ctx->db, req->principal.user_id, req->json, &user, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, user);
}

/* PUT /api/users/me/password {"old_password","new_password"} -> 204, other
 * sessions revoked; 400; 401; 403 wrong old password; 429. */
static void handle_password(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *old_pw, *new_pw;

	if (pl_json_string(req->json, "old_password", true, &old_pw, &err) < 0 ||
	    pl_json_string(req->json, "new_password", true, &new_pw, &err) < 0 ||
	    pl_user_change_password(ctx->db, &ctx->cfg, &req->principal, old_pw, new_pw,
				    req->remote_addr, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_empty(resp, 204);
}

/* DELETE /api/users/me {"password"} -> 204; 400; 401; 403 wrong password; 429. */
static void handle_delete_me(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *pw;

	if (pl_json_string(req->json, "password", true, &pw, &err) < 0 ||
	    pl_user_delete(ctx->db, &ctx->cfg, &req->principal, pw, req->remote_addr, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_empty(resp, 204);
}

/* GET /api/users/{id} -> 200 user (email only for yourself); 401; 404. */
static void handle_get(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;
	cJSON *user;

	if (pl_parse_id(req->params[0], &id) < 0) {
		pl_resp_error(resp, 404, "no such user");
		return;
	}
	if (!(user = pl_user_get(ctx->db, id, req->principal.user_id, &err))) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, user);
}

/* GET /api/users?q=<prefix>&limit= -> 200 {"users":[...]}; 400; 401. */
static void handle_search(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	char q[PL_SEARCH_MAX + 1];
	long limit = 50;
	int rc = pl_query_get(req, "q", q, sizeof(q));
	cJSON *body;

	if (rc < 0) {
		pl_resp_error(resp, 400, "query parameter \"q\" is too long or badly encoded");
		return;
	}
	if (rc == 1)
		q[0] = '\0';
	if (pl_query_int(req, "limit", 1, 200, &limit, &err) < 0 ||
	    !(body = pl_user_search(ctx->db, q, (int)limit, &err))) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, body);
}

/* PUT /api/users/me/avatar (an image: raw body, or multipart part "file")
 * -> 200 user with avatar_url "/api/files/<id>"; 400 not a readable image;
 * 413 over file_max_bytes. */
static void handle_avatar_put(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	struct pl_upload up;
	cJSON *user = NULL;
	int rc;

	if (pl_upload_receive(&ctx->cfg, req, "avatar", -1, &up, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	rc = pl_avatar_set(ctx->db, req->principal.user_id, &up.file, &user, &err);
	pl_upload_release(&up);
	if (rc < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, user);
}

/* DELETE /api/users/me/avatar -> 200 user with avatar_url "". */
static void handle_avatar_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *user = NULL;

	if (pl_avatar_clear(ctx->db, req->principal.user_id, &user, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, user);
}

/* What the export stream needs after the header went (freed by the response). */
struct export_job {
	struct pl_db *db;
	int64_t user_id;
};

static void export_stream(void *arg, const struct pl_sink *out)
{
	struct export_job *job = arg;
	struct pl_err err = { 0 };

	pl_export_user(job->db, job->user_id, out, &err);  /* a failure is logged there */
}

/* GET /api/users/me/export -> 200 the user's data (lib/export.h) as an
 * attachment, streamed; 401; 429 (export_limit per export_window). */
static void handle_export(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	char name[PL_EXPORT_NAME_LEN], disp[PL_EXPORT_NAME_LEN + 32];
	struct export_job *job;

	if (pl_export_user_allow(ctx->db, &ctx->cfg, req->principal.user_id, name, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	job = pl_xmalloc(sizeof(*job));
	job->db = ctx->db;
	job->user_id = req->principal.user_id;
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", name);
	pl_resp_header(resp, "Content-Disposition", disp);
	snprintf(resp->content_type, sizeof(resp->content_type), "application/json");
	resp->status = 200;
	resp->stream = export_stream;
	resp->stream_arg = job;
}

/* ---- personal API tokens (issue 16; lib/apitokens.h) ---- */

/* POST /api/users/me/tokens {"name","scope","expires_in"?} -> 201 the token
 * object with "token" (shown once); 400; 401; 403 scope; 409 too many. */
static void handle_token_create(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *tok;

	if (pl_apitoken_create(ctx->db, req->principal.user_id, req->json, &tok, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 201, tok);
}

/* GET /api/users/me/tokens -> 200 {"tokens":[...]} (no secrets); 401; 403. */
static void handle_token_list(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *body;

	if (pl_apitoken_list(ctx->db, req->principal.user_id, &body, &err) < 0)
		pl_resp_from_err(resp, &err);
	else
		pl_resp_json(resp, 200, body);
}

/* DELETE /api/users/me/tokens/{id} -> 204, its sockets close; 401; 403; 404. */
static void handle_token_delete(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	int64_t id;

	if (pl_parse_id(req->params[0], &id) < 0)
		pl_err_set(&err, 404, "no such token");
	else if (pl_apitoken_delete(ctx->db, req->principal.user_id, id, &err) == 0) {
		pl_resp_empty(resp, 204);
		return;
	}
	pl_resp_from_err(resp, &err);
}

static const struct pl_route routes[] = {
	{ "GET", "/api/users/me", handle_me, PL_ROUTE_AUTH },
	{ "GET", "/api/users/me/export", handle_export, PL_ROUTE_AUTH },
	{ "PATCH", "/api/users/me", handle_patch_me, PL_ROUTE_AUTH | PL_ROUTE_BODY | PL_ROUTE_SCOPE_ADMIN },
	{ "DELETE", "/api/users/me", handle_delete_me, PL_ROUTE_AUTH | PL_ROUTE_BODY | PL_ROUTE_SCOPE_ADMIN },
	{ "PUT", "/api/users/me/password", handle_password, PL_ROUTE_AUTH | PL_ROUTE_BODY | PL_ROUTE_SCOPE_ADMIN },
	{ "PUT", "/api/users/me/avatar", handle_avatar_put, PL_ROUTE_AUTH | PL_ROUTE_STREAM | PL_ROUTE_SCOPE_ADMIN },
	{ "DELETE", "/api/users/me/avatar", handle_avatar_delete, PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN },
	{ "POST", "/api/users/me/tokens", handle_token_create,
	  PL_ROUTE_AUTH | PL_ROUTE_BODY | PL_ROUTE_SCOPE_ADMIN },
	{ "GET", "/api/users/me/tokens", handle_token_list, PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN },
	{ "DELETE", "/api/users/me/tokens/{id}", handle_token_delete, PL_ROUTE_AUTH | PL_ROUTE_SCOPE_ADMIN },
	{ "GET", "/api/users/{id}", handle_get, PL_ROUTE_AUTH },
	{ "GET", "/api/users", handle_search, PL_ROUTE_AUTH },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("users", routes, sizeof(routes) / sizeof(routes[0]));
}
