/* ctx.c — a process's configuration and database connection (ctx.h). */
#include <sodium.h>
#include <string.h>
#include "ctx.h"
#include "json.h"
#include "log.h"

int pl_ctx_open(struct pl_ctx *ctx, const char *program, struct pl_err *err)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->program = program;
	pl_json_init();
	if (sodium_init() < 0)
		return pl_err_set(err, 500, "sodium_init failed");
	if (pl_config_load(&ctx->cfg, err) < 0)
		return -1;
	pl_log_init(program, (enum pl_log_level)ctx->cfg.log_level);
	ctx->tokens = pl_token_cache_new();
	return pl_db_open(ctx->cfg.db_url, ctx->cfg.busy_timeout_ms, &ctx->db, err);
}

void pl_ctx_close(struct pl_ctx *ctx)
{
	pl_db_close(ctx->db);
	ctx->db = NULL;
	pl_token_cache_free(ctx->tokens);
	ctx->tokens = NULL;
}
