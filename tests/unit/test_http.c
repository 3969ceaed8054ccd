/*
 * test_http.c — unit tests of http.h: route matching (params, 404, 405 and
 * its Allow list), query-string access, and the request pipeline of
 * pl_http_dispatch (route -> 413 -> 415 -> 401 -> 400 -> handler) with the
 * contract's JSON error shape, against a migrated temporary database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "http.h"
#include "log.h"
#include "token.h"
#include "util.h"
#include "unit_util.h"

static int handler_calls;

static void h_ok(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	cJSON *body = cJSON_CreateObject();

	(void)ctx;
	handler_calls++;
	cJSON_AddBoolToObject(body, "ok", 1);
	cJSON_AddBoolToObject(body, "has_json", req->json != NULL);
	cJSON_AddBoolToObject(body, "authenticated", req->authenticated);
	cJSON_AddNumberToObject(body, "user_id", (double)req->principal.user_id);
	pl_resp_json(resp, 200, body);
}

/* ---- pl_route_match ---- */

static const struct pl_route channel_routes[] = {
	{ "GET", "/api/channels", h_ok, 0 },
	{ "POST", "/api/channels", h_ok, PL_ROUTE_BODY },
	{ "GET", "/api/channels/{id}", h_ok, 0 },
	{ "POST", "/api/channels/{id}/join", h_ok, 0 },
	{ "DELETE", "/api/channels/{id}/members/{user_id}", h_ok, 0 },
};
#define NCHANNEL_ROUTES (sizeof(channel_routes) / sizeof(channel_routes[0]))

/* Matches and returns the route index, or -1 with *status and `allow`. */
static int match(const char *method, const char *path, struct pl_request *req,
		 int *status, char allow[64])
{
	const struct pl_route *r;

	pl_request_init(req);
	*status = 0;
	r = pl_route_match(channel_routes, NCHANNEL_ROUTES, method, path, req, status, allow, 64);
	return r ? (int)(r - channel_routes) : -1;
}

/* 0 when `method path` matches no route with status `want`; else 1,
 * printing what happened (so one test can report every bad case). */
static int check_status(const char *method, const char *path, int want)
{
	struct pl_request req;
	char allow[64];
	int status, idx = match(method, path, &req, &status, allow);

	if (idx == -1 && status == want)
		return 0;
	print_error("%s %.60s: matched route %d (nparams %zu, params[0] \"%.20s\"), "
		    "status %d; want no match and %d\n", method, path, idx, req.nparams,
		    req.params[0], status, want);
	return 1;
}

static void expect_status(const char *method, const char *path, int want)
{
	assert_int_equal(check_status(method, path, want), 0);
}

static void test_route_exact(void **state)
{
	struct pl_request req;
	char allow[64];
	int status;
	(void)state;

	assert_int_equal(match("GET", "/api/channels", &req, &status, allow), 0);
	assert_int_equal(req.nparams, 0);
	assert_int_equal(match("POST", "/api/channels", &req, &status, allow), 1);
	assert_int_equal(req.nparams, 0);
}

static void test_route_params(void **state)
{
	struct pl_request req;
	char allow[64];
	int status;
	(void)state;

	assert_int_equal(match("GET", "/api/channels/42", &req, &status, allow), 2);
	assert_int_equal(req.nparams, 1);
	assert_string_equal(req.params[0], "42");

	assert_int_equal(match("POST", "/api/channels/7/join", &req, &status, allow), 3);
	assert_int_equal(req.nparams, 1);
	assert_string_equal(req.params[0], "7");

	assert_int_equal(match("DELETE", "/api/channels/7/members/9", &req, &status, allow), 4);
	assert_int_equal(req.nparams, 2);
	assert_string_equal(req.params[0], "7");
	assert_string_equal(req.params[1], "9");

	/* non-numeric values are the handler's business, not the router's */
	assert_int_equal(match("GET", "/api/channels/general", &req, &status, allow), 2);
	assert_string_equal(req.params[0], "general");
}

static void test_route_params_decoded(void **state)
{
	struct pl_request req;
	char allow[64];
	int status;
	(void)state;

	assert_int_equal(match("GET", "/api/channels/%F0%9F%91%8D", &req, &status, allow), 2);
	assert_string_equal(req.params[0], "\xf0\x9f\x91\x8d");
	assert_int_equal(match("GET", "/api/channels/%f0%9f%91%8d", &req, &status, allow), 2);
	assert_string_equal(req.params[0], "\xf0\x9f\x91\x8d");
	/* an encoded slash stays inside the one segment */
	assert_int_equal(match("GET", "/api/channels/a%2Fb", &req, &status, allow), 2);
	assert_string_equal(req.params[0], "a/b");
	/* '+' is a plus in a path, not a space */
	assert_int_equal(match("GET", "/api/channels/a+b%20c", &req, &status, allow), 2);
	assert_string_equal(req.params[0], "a+b c");
	assert_int_equal(match("DELETE", "/api/channels/%31/members/%32%33", &req, &status, allow), 4);
	assert_string_equal(req.params[0], "1");
	assert_string_equal(req.params[1], "23");
}

static void test_route_404(void **state)
{
	(void)state;
	expect_status("GET", "/api/channels/", 404);       /* trailing slash */
	expect_status("GET", "/api/channelsX", 404);       /* prefix of a longer name */
	expect_status("GET", "/api/channel", 404);
	expect_status("POST", "/api/channels//join", 404); /* empty segment */
	expect_status("GET", "/api//channels", 404);
	expect_status("POST", "/api/channels/7/join/", 404);
	expect_status("DELETE", "/api/channels/7/members/", 404);
	expect_status("GET", "/api/channels/1/2", 404);
	expect_status("GET", "/API/channels", 404);
	expect_status("GET", "/", 404);
	expect_status("GET", "", 404);
	expect_status("GET", "/api/users", 404);
}

static void test_route_405(void **state)
{
	struct pl_request req;
	char allow[64];
	int status;
	(void)state;

	assert_int_equal(match("PUT", "/api/channels", &req, &status, allow), -1);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, POST");

	assert_int_equal(match("DELETE", "/api/channels/5", &req, &status, allow), -1);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET");

	assert_int_equal(match("GET", "/api/channels/5/join", &req, &status, allow), -1);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "POST");

	assert_int_equal(match("POST", "/api/channels/5/members/6", &req, &status, allow), -1);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "DELETE");

	/* methods are case-sensitive (RFC 9110 §9.1) */
	assert_int_equal(match("get", "/api/channels", &req, &status, allow), -1);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, POST");

	/* a 404 leaves allow empty */
	assert_int_equal(match("GET", "/nope", &req, &status, allow), -1);
	assert_int_equal(status, 404);
	assert_string_equal(allow, "");
}

static void test_route_bad_escape(void **state)
{
	int bad = 0;
	(void)state;

	/* a parameter that cannot be decoded matches nothing */
	bad += check_status("GET", "/api/channels/%zz", 404);
	bad += check_status("GET", "/api/channels/ab%zz", 404);
	bad += check_status("GET", "/api/channels/%00", 404);
	bad += check_status("GET", "/api/channels/ab%00cd", 404);
	bad += check_status("GET", "/api/channels/%4", 404);
	bad += check_status("GET", "/api/channels/%", 404);
	bad += check_status("POST", "/api/channels/%zz/join", 404);
	bad += check_status("DELETE", "/api/channels/1/members/%G0", 404);
	assert_int_equal(bad, 0);
}

static void test_route_param_too_long(void **state)
{
	char path[512];
	(void)state;

	/* a segment longer than PL_PARAM_LEN cannot be stored: no match */
	snprintf(path, sizeof(path), "/api/channels/%0300d", 1);
	expect_status("GET", path, 404);
}

/* ---- query strings ---- */

static void set_query(struct pl_request *req, const char *q)
{
	pl_request_init(req);
	snprintf(req->query, sizeof(req->query), "%s", q);
}

static void test_query_get(void **state)
{
	struct pl_request req;
	char out[64];
	(void)state;

	set_query(&req, "channel_id=5&channel=general&empty=&flag&q=a+b%20c%2B&uni=%C3%A9");
	assert_int_equal(pl_query_get(&req, "channel_id", out, sizeof(out)), 0);
	assert_string_equal(out, "5");
	assert_int_equal(pl_query_get(&req, "channel", out, sizeof(out)), 0);
	assert_string_equal(out, "general");
	assert_int_equal(pl_query_get(&req, "empty", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(pl_query_get(&req, "flag", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(pl_query_get(&req, "q", out, sizeof(out)), 0);
	assert_string_equal(out, "a b c+");
	assert_int_equal(pl_query_get(&req, "uni", out, sizeof(out)), 0);
	assert_string_equal(out, "\xc3\xa9");

	assert_int_equal(pl_query_get(&req, "missing", out, sizeof(out)), 1);
	assert_int_equal(pl_query_get(&req, "chan", out, sizeof(out)), 1);      /* prefix of a name */
	assert_int_equal(pl_query_get(&req, "channel_", out, sizeof(out)), 1);
	assert_int_equal(pl_query_get(&req, "channel_id_x", out, sizeof(out)), 1);
	assert_int_equal(pl_query_get(&req, "5", out, sizeof(out)), 1);         /* values are not names */

	set_query(&req, "");
	assert_int_equal(pl_query_get(&req, "channel", out, sizeof(out)), 1);
}

static void test_query_prefix_names(void **state)
{
	struct pl_request req;
	char out[64];
	(void)state;

	/* the longer name first, then the shorter: each finds its own */
	set_query(&req, "channel_id=5&channel=x");
	assert_int_equal(pl_query_get(&req, "channel", out, sizeof(out)), 0);
	assert_string_equal(out, "x");
	assert_int_equal(pl_query_get(&req, "channel_id", out, sizeof(out)), 0);
	assert_string_equal(out, "5");

	set_query(&req, "channel=x&channel_id=5");
	assert_int_equal(pl_query_get(&req, "channel_id", out, sizeof(out)), 0);
	assert_string_equal(out, "5");
	assert_int_equal(pl_query_get(&req, "channel", out, sizeof(out)), 0);
	assert_string_equal(out, "x");

	set_query(&req, "channel_id=5");
	assert_int_equal(pl_query_get(&req, "channel", out, sizeof(out)), 1);
	set_query(&req, "&&channel=y&");
	assert_int_equal(pl_query_get(&req, "channel", out, sizeof(out)), 0);
	assert_string_equal(out, "y");
}

static void test_query_get_bad(void **state)
{
	struct pl_request req;
	char out[8];
	(void)state;

	set_query(&req, "a=%zz&b=%00&c=%4&d=0123456789&e=1234567");
	assert_int_equal(pl_query_get(&req, "a", out, sizeof(out)), -1);
	assert_int_equal(pl_query_get(&req, "b", out, sizeof(out)), -1);
	assert_int_equal(pl_query_get(&req, "c", out, sizeof(out)), -1);
	assert_int_equal(pl_query_get(&req, "d", out, sizeof(out)), -1);  /* too long */
	assert_int_equal(pl_query_get(&req, "e", out, sizeof(out)), 0);   /* just fits */
	assert_string_equal(out, "1234567");
}

static void test_query_id(void **state)
{
	static const char *const bad[] = { "0", "-1", "abc", "", "1.5", "12a", "%zz",
					   "99999999999999999999", "9223372036854775808" };
	struct pl_request req;
	struct pl_err err = { 0 };
	int64_t id = 77;
	char q[64];
	(void)state;

	set_query(&req, "channel_id=5&before=9223372036854775807");
	assert_int_equal(pl_query_id(&req, "channel_id", true, &id, &err), 0);
	assert_int_equal(id, 5);
	assert_int_equal(pl_query_id(&req, "before", false, &id, &err), 0);
	assert_true(id == INT64_MAX);

	id = 77;
	assert_int_equal(pl_query_id(&req, "after", false, &id, &err), 1);
	assert_int_equal(id, 77);
	assert_int_equal(pl_query_id(&req, "channel", false, &id, &err), 1);
	assert_int_equal(err.status, 0);
	assert_int_equal(pl_query_id(&req, "after", true, &id, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "after"));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(q, sizeof(q), "id=%s", bad[i]);
		set_query(&req, q);
		memset(&err, 0, sizeof(err));
		if (pl_query_id(&req, "id", false, &id, &err) != -1 || err.status != 400)
			fail_msg("pl_query_id accepted ?%s (status %d)", q, err.status);
	}
}

static void test_query_int(void **state)
{
	static const char *const bad[] = { "0", "201", "-1", "abc", "", "1.5", "10x", "1e2",
					   "%zz", "99999999999999999999", "-99999999999999999999" };
	struct pl_request req;
	struct pl_err err = { 0 };
	long v = 77;
	char q[64];
	(void)state;

	set_query(&req, "limit=10&lo=1&hi=200&neg=-5");
	assert_int_equal(pl_query_int(&req, "limit", 1, 200, &v, &err), 0);
	assert_int_equal(v, 10);
	assert_int_equal(pl_query_int(&req, "lo", 1, 200, &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pl_query_int(&req, "hi", 1, 200, &v, &err), 0);
	assert_int_equal(v, 200);
	assert_int_equal(pl_query_int(&req, "neg", -10, 10, &v, &err), 0);
	assert_int_equal(v, -5);
	v = 77;
	assert_int_equal(pl_query_int(&req, "missing", 1, 200, &v, &err), 1);
	assert_int_equal(v, 77);
	assert_int_equal(err.status, 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(q, sizeof(q), "limit=%s", bad[i]);
		set_query(&req, q);
		memset(&err, 0, sizeof(err));
		v = 77;
		if (pl_query_int(&req, "limit", 1, 200, &v, &err) != -1 || err.status != 400)
			fail_msg("pl_query_int accepted ?%s (status %d)", q, err.status);
		assert_int_equal(v, 77);
		assert_non_null(strstr(err.message, "limit"));
	}
}

/* ---- pl_http_dispatch ---- */

#define BODY_LIMIT 1024

static const struct pl_route api_routes[] = {
	{ "GET", "/api/things", h_ok, 0 },
	{ "POST", "/api/things", h_ok, PL_ROUTE_BODY },
	{ "POST", "/api/opt", h_ok, PL_ROUTE_BODY_OPT },
	{ "GET", "/api/secure", h_ok, PL_ROUTE_AUTH },
	{ "POST", "/api/secure", h_ok, PL_ROUTE_AUTH | PL_ROUTE_BODY },
};
#define NAPI_ROUTES (sizeof(api_routes) / sizeof(api_routes[0]))

struct dispatch_fixture {
	struct unit_env env;
	struct pl_ctx ctx;
	int64_t user_id;
	char auth[2048];       /* "Bearer <valid token>" */
};

static int dispatch_setup(void **state)
{
	struct dispatch_fixture *f = calloc(1, sizeof(*f));
	struct pl_err err = { 0 };
	char *tok = NULL, sql[256];
	int64_t sid;

	if (!f || unit_env_open(&f->env, 1) < 0)
		return -1;
	f->ctx.program = "test";
	f->ctx.db = f->env.db;
	f->ctx.cfg.body_limit = BODY_LIMIT;
	f->ctx.cfg.access_ttl = 3600;
	f->ctx.cfg.busy_timeout_ms = 5000;
	memset(f->ctx.cfg.jwt_secret, 'k', 32);
	f->ctx.cfg.jwt_secret_len = 32;
	if ((f->user_id = unit_add_user(f->env.db, "alice")) < 0)
		return -1;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO sessions (user_id, refresh_hash, created_at, expires_at) "
		 "VALUES (%lld, 'h1', %lld, %lld)", (long long)f->user_id,
		 (long long)pl_now_ms(), (long long)pl_now_ms() + 3600000);
	if (unit_exec(f->env.db, sql) < 0)
		return -1;
	sid = sqlite3_last_insert_rowid(pl_db_sqlite(f->env.db));
	if (pl_token_issue(f->ctx.cfg.jwt_secret, 32, f->user_id, "alice", sid,
			   pl_now_ms() / 1000, 3600, &tok, &err) < 0)
		return -1;
	snprintf(f->auth, sizeof(f->auth), "Bearer %s", tok);
	free(tok);
	*state = f;
	return 0;
}

static int dispatch_teardown(void **state)
{
	struct dispatch_fixture *f = *state;

	unit_env_close(&f->env);
	free(f);
	return 0;
}

struct call {
	const char *method, *path, *content_type, *body, *auth;
	long long content_length;  /* 0: strlen(body), or -1 without a body */
	bool too_large;
};

/* Runs one request through pl_http_dispatch; `resp` must be released. */
static void dispatch(struct dispatch_fixture *f, const struct call *c, struct pl_response *resp)
{
	struct pl_request req;

	pl_request_init(&req);
	pl_response_init(resp);
	snprintf(req.method, sizeof(req.method), "%s", c->method);
	snprintf(req.path, sizeof(req.path), "%s", c->path);
	snprintf(req.content_type, sizeof(req.content_type), "%s", c->content_type ? c->content_type : "");
	snprintf(req.authorization, sizeof(req.authorization), "%s", c->auth ? c->auth : "");
	snprintf(req.request_id, sizeof(req.request_id), "test");
	if (c->body) {
		req.body = pl_xstrdup(c->body);
		req.body_len = strlen(c->body);
		req.content_length = (long long)req.body_len;
	}
	if (c->content_length)
		req.content_length = c->content_length;
	req.body_too_large = c->too_large;
	pl_http_dispatch(&f->ctx, api_routes, NAPI_ROUTES, &req, resp);
	pl_request_release(&req);
}

/* Asserts the contract's error body {"error":{"code","message"}}. */
static void expect_error(const struct pl_response *resp, int status, const char *code)
{
	const cJSON *e, *c, *m;

	if (resp->status != status) {
		char *text = resp->body ? cJSON_PrintUnformatted(resp->body) : NULL;
		fail_msg("status %d, want %d (body %s)", resp->status, status, text ? text : "none");
	}
	assert_true(cJSON_IsObject(resp->body));
	assert_int_equal(cJSON_GetArraySize(resp->body), 1);
	e = cJSON_GetObjectItemCaseSensitive(resp->body, "error");
	assert_true(cJSON_IsObject(e));
	c = cJSON_GetObjectItemCaseSensitive(e, "code");
	m = cJSON_GetObjectItemCaseSensitive(e, "message");
	assert_true(cJSON_IsString(c));
	assert_string_equal(c->valuestring, code);
	assert_true(cJSON_IsString(m));
	assert_true(m->valuestring[0] != '\0');
}

static void expect_ok(const struct pl_response *resp)
{
	if (resp->status != 200) {
		char *text = resp->body ? cJSON_PrintUnformatted(resp->body) : NULL;
		fail_msg("status %d, want 200 (body %s)", resp->status, text ? text : "none");
	}
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp->body, "ok")));
}

static void test_dispatch_ok(void **state)
{
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	dispatch(f, &(struct call){ .method = "GET", .path = "/api/things" }, &resp);
	expect_ok(&resp);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.body, "authenticated")));
	pl_response_release(&resp);

	dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
			    .content_type = "application/json", .body = "{\"a\":1}" }, &resp);
	expect_ok(&resp);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.body, "has_json")));
	pl_response_release(&resp);

	/* an optional body may be absent */
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/opt" }, &resp);
	expect_ok(&resp);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.body, "has_json")));
	pl_response_release(&resp);
	assert_int_equal(handler_calls, calls + 3);
}

static void test_dispatch_404(void **state)
{
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	dispatch(f, &(struct call){ .method = "GET", .path = "/api/nothing" }, &resp);
	expect_error(&resp, 404, "not_found");
	assert_string_equal(resp.allow, "");
	pl_response_release(&resp);
	dispatch(f, &(struct call){ .method = "GET", .path = "/api/things/" }, &resp);
	expect_error(&resp, 404, "not_found");
	pl_response_release(&resp);
	assert_int_equal(handler_calls, calls);
}

static void test_dispatch_405(void **state)
{
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	dispatch(f, &(struct call){ .method = "DELETE", .path = "/api/things" }, &resp);
	expect_error(&resp, 405, "method_not_allowed");
	assert_string_equal(resp.allow, "GET, POST");
	pl_response_release(&resp);
	/* 405 comes before the body checks */
	dispatch(f, &(struct call){ .method = "PUT", .path = "/api/secure",
			    .content_type = "text/plain", .body = "x", .too_large = true }, &resp);
	expect_error(&resp, 405, "method_not_allowed");
	assert_string_equal(resp.allow, "GET, POST");
	pl_response_release(&resp);
	assert_int_equal(handler_calls, calls);
}

static void test_dispatch_413(void **state)
{
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	/* the transport saw more than body_limit bytes */
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
			    .content_type = "application/json", .body = "{}", .too_large = true }, &resp);
	expect_error(&resp, 413, "payload_too_large");
	pl_response_release(&resp);
	/* the announced length alone is over the limit */
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
			    .content_type = "application/json", .body = "{}",
			    .content_length = BODY_LIMIT + 1 }, &resp);
	expect_error(&resp, 413, "payload_too_large");
	pl_response_release(&resp);
	assert_int_equal(handler_calls, calls);
	/* exactly at the limit is fine */
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
			    .content_type = "application/json", .body = "{}",
			    .content_length = BODY_LIMIT }, &resp);
	expect_ok(&resp);
	pl_response_release(&resp);
}

static void test_dispatch_415(void **state)
{
	static const char *const bad[] = { "text/plain", "", "application/jsonx",
					   "application/x-www-form-urlencoded", "text/json" };
	static const char *const good[] = { "application/json", "application/json; charset=utf-8",
					    "Application/JSON", "application/json;charset=UTF-8" };
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
				    .content_type = bad[i], .body = "{\"a\":1}" }, &resp);
		expect_error(&resp, 415, "unsupported_media_type");
		pl_response_release(&resp);
	}
	assert_int_equal(handler_calls, calls);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
				    .content_type = good[i], .body = "{\"a\":1}" }, &resp);
		expect_ok(&resp);
		pl_response_release(&resp);
	}
	/* without a body the content type does not matter */
	dispatch(f, &(struct call){ .method = "GET", .path = "/api/things",
			    .content_type = "text/plain" }, &resp);
	expect_ok(&resp);
	pl_response_release(&resp);
}

static void test_dispatch_400(void **state)
{
	static const char *const bad[] = { "{", "{\"a\":1}x", "[1]", "\"s\"", "{\"a\":1,\"a\":2}",
					   "{\"a\":\"\xff\"}", "null" };
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
				    .content_type = "application/json", .body = bad[i] }, &resp);
		expect_error(&resp, 400, "bad_request");
		pl_response_release(&resp);
	}
	/* a required body that is missing */
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/things",
			    .content_type = "application/json" }, &resp);
	expect_error(&resp, 400, "bad_request");
	pl_response_release(&resp);
	/* an optional body, when present, must still be a JSON object */
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/opt",
			    .content_type = "application/json", .body = "[]" }, &resp);
	expect_error(&resp, 400, "bad_request");
	pl_response_release(&resp);
	assert_int_equal(handler_calls, calls);
}

static void test_dispatch_401(void **state)
{
	static const char *const bad[] = {
		"", "Bearer", "Bearer ", "Bearer garbage", "Basic YWxpY2U6cHc=",
		"Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
	};
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dispatch(f, &(struct call){ .method = "GET", .path = "/api/secure",
				    .auth = bad[i] }, &resp);
		expect_error(&resp, 401, "unauthorized");
		pl_response_release(&resp);
	}
	/* the raw token without the scheme is not a bearer header */
	dispatch(f, &(struct call){ .method = "GET", .path = "/api/secure", .auth = f->auth + 7 }, &resp);
	expect_error(&resp, 401, "unauthorized");
	pl_response_release(&resp);
	assert_int_equal(handler_calls, calls);

	dispatch(f, &(struct call){ .method = "GET", .path = "/api/secure", .auth = f->auth }, &resp);
	expect_ok(&resp);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.body, "authenticated")));
	assert_int_equal((int64_t)cJSON_GetObjectItemCaseSensitive(resp.body, "user_id")->valuedouble,
			 f->user_id);
	pl_response_release(&resp);
}

static void test_dispatch_401_revoked_session(void **state)
{
	struct dispatch_fixture *f = *state;
	struct pl_response resp;

	assert_int_equal(unit_exec(f->env.db, "UPDATE sessions SET revoked_at = 1"), 0);
	dispatch(f, &(struct call){ .method = "GET", .path = "/api/secure", .auth = f->auth }, &resp);
	expect_error(&resp, 401, "unauthorized");
	pl_response_release(&resp);
	assert_int_equal(unit_exec(f->env.db, "UPDATE sessions SET revoked_at = NULL"), 0);
}

/* route -> 413 -> 415 -> 401 -> 400: each check hides the later ones. */
static void test_dispatch_order(void **state)
{
	struct dispatch_fixture *f = *state;
	struct pl_response resp;
	int calls = handler_calls;

	dispatch(f, &(struct call){ .method = "POST", .path = "/api/secure",
			    .content_type = "text/plain", .body = "{", .too_large = true }, &resp);
	expect_error(&resp, 413, "payload_too_large");
	pl_response_release(&resp);
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/secure",
			    .content_type = "text/plain", .body = "{" }, &resp);
	expect_error(&resp, 415, "unsupported_media_type");
	pl_response_release(&resp);
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/secure",
			    .content_type = "application/json", .body = "{" }, &resp);
	expect_error(&resp, 401, "unauthorized");
	pl_response_release(&resp);
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/secure",
			    .content_type = "application/json", .body = "{", .auth = f->auth }, &resp);
	expect_error(&resp, 400, "bad_request");
	pl_response_release(&resp);
	assert_int_equal(handler_calls, calls);
	dispatch(f, &(struct call){ .method = "POST", .path = "/api/secure",
			    .content_type = "application/json", .body = "{}", .auth = f->auth }, &resp);
	expect_ok(&resp);
	pl_response_release(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_exact),
		cmocka_unit_test(test_route_params),
		cmocka_unit_test(test_route_params_decoded),
		cmocka_unit_test(test_route_404),
		cmocka_unit_test(test_route_405),
		cmocka_unit_test(test_route_bad_escape),
		cmocka_unit_test(test_route_param_too_long),
		cmocka_unit_test(test_query_get),
		cmocka_unit_test(test_query_prefix_names),
		cmocka_unit_test(test_query_get_bad),
		cmocka_unit_test(test_query_id),
		cmocka_unit_test(test_query_int),
		cmocka_unit_test_setup_teardown(test_dispatch_ok, dispatch_setup, dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_404, dispatch_setup, dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_405, dispatch_setup, dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_413, dispatch_setup, dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_415, dispatch_setup, dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_400, dispatch_setup, dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_401, dispatch_setup, dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_401_revoked_session, dispatch_setup,
						dispatch_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_order, dispatch_setup, dispatch_teardown),
	};

	pl_log_init("test_http", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
