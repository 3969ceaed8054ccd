/*
 * files.c — the /api/files resource (API.md "Files"): upload, and the
 * bytes of a file to whoever may read it. Rules in lib/files.h, access in
 * lib/authz.h (pl_authz_file), sending in lib/file_send.h.
 */
#include "app.h"
#include "authz.h"
#include "file_send.h"
#include "files.h"
#include "upload.h"
#include "util.h"

/* POST /api/files (multipart part "file", or a raw body with ?name=) ->
 * 201 file object; 400, 413 over file_max_bytes or the quota. */
static void handle_upload(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	struct pl_err err = { 0 };
	struct pl_upload up;
	int64_t used = 0, left = -1;
	cJSON *file = NULL;
	int rc;

	if (ctx->cfg.file_quota_bytes > 0) {
		if (pl_files_used(ctx->db, req->principal.user_id, &used, &err) < 0)
			goto fail;
		left = (int64_t)ctx->cfg.file_quota_bytes - used;
		if (left < 0)
			left = 0;
	}
	if (pl_upload_receive(&ctx->cfg, req, "attachment", left, &up, &err) < 0)
		goto fail;
	rc = pl_file_create(ctx->db, req->principal.user_id, &up.file, ctx->cfg.file_quota_bytes,
			    &file, NULL, &err);
	pl_upload_release(&up);
	if (rc < 0)
		goto fail;
	pl_resp_json(resp, 201, file);
	return;
fail:
	pl_resp_from_err(resp, &err);
}

/* GET /api/files/{id}?download=1 (and .../thumbnail: its preview) -> 200
 * the bytes (206, 304, 416 when streamed here); 404 unless the caller may
 * read it, or (thumbnail) when it has no preview. */
static void send_file(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp,
		      bool thumbnail)
{
	struct pl_err err = { 0 };
	struct pl_file f;
	struct pl_stmt *st = NULL;
	struct pl_file_out fo;
	long download = 0;
	int64_t id;

	if (pl_parse_id(req->params[0], &id) < 0) {
		pl_resp_error(resp, 404, "no such file");
		return;
	}
	if (pl_query_int(req, "download", 0, 1, &download, &err) < 0 ||
	    !(st = pl_file_find(ctx->db, id, &f, &err)) ||
	    pl_authz_file(ctx->db, req->principal.user_id, &f, &err) < 0)
		goto fail;
	if (thumbnail && !f.thumb_sha256) {
		pl_err_set(&err, 404, "this file has no preview");
		goto fail;
	}
	fo.sha256 = thumbnail ? f.thumb_sha256 : f.sha256;
	fo.size = thumbnail ? -1 : f.size;
	fo.content_type = thumbnail ? "image/png" : f.content_type;
	fo.name = thumbnail ? "preview.png" : f.name;
	fo.download = download == 1;
	if (pl_file_send(&ctx->cfg, req, &fo, resp, &err) < 0)
		goto fail;
	pl_db_done(st);
	return;
fail:
	if (st)
		pl_db_done(st);
	pl_response_release(resp);
	pl_response_init(resp);
	pl_resp_from_err(resp, &err);
}

static void handle_get(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	send_file(ctx, req, resp, false);
}

static void handle_thumbnail(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp)
{
	send_file(ctx, req, resp, true);
}

static const struct pl_route routes[] = {
	{ "POST", "/api/files", handle_upload, PL_ROUTE_AUTH | PL_ROUTE_STREAM },
	{ "GET", "/api/files/{id}", handle_get, PL_ROUTE_AUTH },
	{ "GET", "/api/files/{id}/thumbnail", handle_thumbnail, PL_ROUTE_AUTH },
	PL_HEALTH_ROUTE,
};

int main(void)
{
	return pl_app_main("files", routes, sizeof(routes) / sizeof(routes[0]));
}
