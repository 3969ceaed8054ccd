/*
 * ctx.h — the per-process context: configuration and the database
 * connection, nothing per request (the one deliberate per-process state:
 * STYLE.md). FastCGI programs (app.h), the ws-daemon and parleyctl each
 * open one.
 */
#ifndef PL_CTX_H
#define PL_CTX_H

#include "config.h"
#include "db.h"
#include "err.h"
#include "token_cache.h"

/* Per-process state shared by every request of one process. */
struct pl_ctx {
	const char *program;     /* e.g. "auth" */
	struct pl_config cfg;
	struct pl_db *db;        /* owned; one connection per process */
	struct pl_token_cache *tokens; /* owned; access tokens verified (token_cache.h) */
};

/*
 * pl_ctx_open: loads the configuration and opens the database for
 * `program` (borrowed string). Returns 0, or -1 with `err`.
 * pl_ctx_close releases what pl_ctx_open set up.
 */
int pl_ctx_open(struct pl_ctx *ctx, const char *program, struct pl_err *err);
void pl_ctx_close(struct pl_ctx *ctx);

#endif
