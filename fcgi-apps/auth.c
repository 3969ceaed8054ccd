/*
 * auth.c — the /api/auth resource (API.md "Auth"): register, login,
 * validate, refresh, logout, ws-ticket, email verification. Thin
 * handlers: the rules live in lib/accounts.c, lib/email_verify.c and
 * lib/session.c.
 */
#include <string.h>
#include "accounts.h"
#include "app.h"
#include "email_verify.h"
#include "json.h"
#include "session.h"
#include "sms_verify.h"

/* POST /api/auth/register {"username","password","email"?,"display_name"?,"invite"?}
 * -> 201 {"message","user"}; 400 invalid; 403 registration closed, or
 * invite-only without a valid invite; 409 taken; 429. */
static void handle_register(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_registration reg = { 0 };
	struct pl_err err = { 0 };
	cJSON *user = NULL, *body;

	if (pl_json_string(req->json, "username", true, &reg.username, &err) < 0 ||
	    pl_json_string(req->json, "password", true, &reg.password, &err) < 0 ||
	    pl_json_string(req->json, "email", false, &reg.email, &err) < 0 ||
	    pl_json_string(req->json, "display_name", false, &reg.display_name, &err) < 0 ||
	    pl_json_string(req->json, "invite", false, &reg.invite, &err) < 0 ||
	    (reg.password_len = strlen(reg.password), 0) ||
	    pl_user_register_from(ctx->db, &ctx->cfg, req->remote_addr, &reg, &user, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "message", "user registered");
	cJSON_AddItemToObject(body, "user", user);
	pl_resp_json(resp, 201, body);
}

/* POST /api/auth/login -> 200 tokens and user; 400 invalid; 401 bad credentials; 429. */
static void handle_login(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *username, *password;
	cJSON *body;

	if (pl_json_string(req->json, "username", true, &username, &err) < 0 ||
	    pl_json_string(req->json, "password", true, &password, &err) < 0 ||
	    pl_session_login(ctx->db, &ctx->cfg, username, password, req->remote_addr, &body, &err) < 0) {
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

/* POST /api/auth/refresh {"refresh_token"} -> 200 new tokens; 400; 401
 * (unknown, expired, revoked, or already rotated: then the session is revoked). */
static void handle_refresh(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *token;
	cJSON *body;

	if (pl_json_string(req->json, "refresh_token", true, &token, &err) < 0 ||
	    pl_session_refresh(ctx->db, &ctx->cfg, token, &body, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, body);
}

/* POST /api/auth/logout {"refresh_token"}? -> 204; 400; 401. */
static void handle_logout(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *token = NULL;

	if ((req->json && pl_json_string(req->json, "refresh_token", false, &token, &err) < 0) ||
	    pl_session_logout(ctx->db, &req->principal, token, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_empty(resp, 204);
}

/* POST /api/auth/verify-email/request -> 202; 400 no address; 401; 409
 * already verified; 429; 503 mail not configured or failed. */
static void handle_verify_request(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	cJSON *body;

	if (pl_user_verify_request(ctx->db, &ctx->cfg, req->principal.user_id, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "message", "verification code sent");
	pl_resp_json(resp, 202, body);
}

/* POST /api/auth/verify-email {"code"} -> 200 user; 400 wrong/expired/used code. */
static void handle_verify(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *code;
	cJSON *user;

	if (pl_json_string(req->json, "code", true, &code, &err) < 0 ||
	    pl_user_verify_confirm(ctx->db, &ctx->cfg, code, &user, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, user);
}

/* POST /api/auth/verify-sms/request {"phone"?} -> 202; 400 no phone or
 * not E.164; 401; 409 already verified; 429; 503 SMS not configured or the
 * command failed. */
static void handle_sms_request(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *phone = NULL;
	cJSON *body;

	if ((req->json && pl_json_string(req->json, "phone", false, &phone, &err) < 0) ||
	    pl_sms_verify_request(ctx->db, &ctx->cfg, req->principal.user_id, phone, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "message", "verification code sent");
	pl_resp_json(resp, 202, body);
}

/* POST /api/auth/verify-sms {"code"} -> 200 user; 400 wrong/expired/void code; 401. */
static void handle_sms_verify(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	const char *code;
	cJSON *user;

	if (pl_json_string(req->json, "code", true, &code, &err) < 0 ||
	    pl_sms_verify_confirm(ctx->db, &ctx->cfg, req->principal.user_id, code, &user, &err) < 0) {
		pl_resp_from_err(resp, &err);
		return;
	}
	pl_resp_json(resp, 200, user);
}

static const struct pl_route routes[] = {
	{ "POST", "/api/auth/register", handle_register, PL_ROUTE_BODY },
	{ "POST", "/api/auth/login", handle_login, PL_ROUTE_BODY },
	{ "GET", "/api/auth/validate", handle_validate, PL_ROUTE_AUTH },
	{ "POST", "/api/auth/ws-ticket", handle_ws_ticket, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT | PL_ROUTE_SCOPE_READ },
	{ "POST", "/api/auth/refresh", handle_refresh, PL_ROUTE_BODY },
	{ "POST", "/api/auth/logout", handle_logout, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT | PL_ROUTE_SCOPE_READ },
	{ "POST", "/api/auth/verify-email/request", handle_verify_request, PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT | PL_ROUTE_SCOPE_ADMIN },
	{ "POST", "/api/auth/verify-email", handle_verify, PL_ROUTE_BODY },
	{ "POST", "/api/auth/verify-sms/request", handle_sms_request,
	  PL_ROUTE_AUTH | PL_ROUTE_BODY_OPT | PL_ROUTE_SCOPE_ADMIN },
	{ "POST", "/api/auth/verify-sms", handle_sms_verify, PL_ROUTE_AUTH | PL_ROUTE_BODY | PL_ROUTE_SCOPE_ADMIN },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("auth", routes, sizeof(routes) / sizeof(routes[0]));
}
