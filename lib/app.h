/*
 * app.h — the process around the handlers: a per-process context (config
 * and database handle, nothing per request) and the main loop that serves
 * requests as FastCGI (libfcgi's FCGX_Accept_r) or, when started as plain
 * CGI (FCGX_IsCGI), serves exactly one request from the CGI environment
 * (RFC 3875) and exits.
 */
#ifndef PL_APP_H
#define PL_APP_H

#include <stddef.h>
#include "ctx.h"
#include "http.h"

/*
 * pl_app_main: the whole life of a FastCGI/CGI program: open the context,
 * then accept and dispatch requests against `routes` until the web server
 * closes the socket (FastCGI) or after one request (CGI). Returns the
 * process exit status. A request can never take the process down: every
 * failure becomes a JSON error response. Started as `parley-<name>
 * --version` it prints the release and returns 0 (pl_version_option).
 */
int pl_app_main(const char *program, const struct pl_route *routes, size_t nroutes);

/* The route every app serves: GET /api/health (database check; its
 * "version" is pl_version(), version.h). */
void pl_health_handler(struct pl_ctx *ctx, struct pl_request *req, struct pl_response *resp);
#define PL_HEALTH_ROUTE { "GET", "/api/health", pl_health_handler, 0 }

#endif
