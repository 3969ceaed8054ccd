/*
 * auth.c — the /api/auth resource (API.md "Auth"): register, login,
 * validate, ws-ticket. Thin handlers: the rules live in lib/users.c and lib/session.c.
 */
#include <string.h>
#include "app.h"
#include "json.h"
#include "session.h"
#include "users.h"

/* POST /api/auth/register -> 201 {"message","user"}; 400 invalid; 409 taken. */
static void handle_register(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_registration reg = { 0 };
	struct pl_err err = { 0 };
	cJSON *user = NULL, *body;

	if (pl_json_string(req->json, "username", true, &reg.username, &err) < 0 ||
	    pl_json_string(req->json, "password", true, &reg.password, &err) < 0 ||
	    pl_json_string(req->json, "email", false, &reg.email, &err) < 0 ||
	    pl_json_string(req->json, "display_name", false, &reg.display_name, &err) < 0 ||
	    (reg.password_len = strlen(reg.password), 0) ||
	    pl_user_register(ctx->db, &reg, &user, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "message", "user registered");
	cJSON_AddItemToObject(body, "user", user);
	pl_resp_json(resp, 201, body);
}

/* POST /api/auth/login -> 200 tokens and user; 400 invalid; 401 bad credentials. */
static void handle_login(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *username, *password;
	cJSON *body;

	if (pl_json_string(req->json, "username", true, &username, &err) < 0 ||
	    pl_json_string(req->json, "password", true, &password, &err) < 0 ||
	    pl_session_login(ctx->db, &ctx->cfg, username, password, &body, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, body);
}

/* GET /api/auth/validate -> 200 {"user_id","username","valid":true}; 401. */
static void handle_validate(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddNumberToObject(body, "user_id", (double)req->principal.user_id);
	cJSON_AddStringToObject(body, "username", req->principal.username);
	cJSON_AddBoolToObject(body, "valid", 1);
	pl_resp_json(resp, 200, body);
}

/* POST /api/auth/ws-ticket -> 200 {"ticket","expires_in":30}; 401. */
static void handle_ws_ticket(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	char ticket[PL_WS_TICKET_LEN];
	cJSON *body;

	if (pl_ws_ticket_issue(ctx->db, &req->principal, ticket, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "ticket", ticket);
	cJSON_AddNumberToObject(body, "expires_in", PL_WS_TICKET_TTL);
	pl_resp_json(resp, 200, body);
}

static const struct pl_route routes[] = {
	{ "POST", "/api/auth/register", handle_register, PL_ROUTE_BODY },
	{ "POST", "/api/auth/login", handle_login, PL_ROUTE_BODY },
	{ "GET", "/api/auth/validate", handle_validate, PL_ROUTE_AUTH },
	{ "POST", "/api/auth/ws-ticket", handle_ws_ticket, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("auth", routes, sizeof(routes) / sizeof(routes[0]));
}
