/*
 * main.c — parley-wsd, the WebSocket daemon behind lighttpd's /ws: opens
 * the parley context (config + database), builds the lws context listening
 * on cfg.ws_listen:cfg.ws_port (loopback only) on libev (poll() as a
 * fallback), runs the loop until SIGTERM or SIGINT, then frees everything
 * and exits 0. Several daemons may serve one database (each delivers every
 * event to its own sockets; presence transitions are decided in write
 * transactions, so none is announced twice).
 *
 * Environment: the usual parley configuration (config.h), e.g.
 * PARLEY_DB_PATH, PARLEY_JWT_SECRET_FILE, PARLEY_WS_PORT; PARLEY_WSD_POLL=1
 * forces the poll() loop.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "delivery.h"
#include "log.h"
#include "protocol.h"
#include "version.h"
#include "wsd.h"

/* Set by the signal handler, read by the loop: the only other global. */
static volatile sig_atomic_t stop_requested;
/* Set once the context runs on libev (before any signal can matter). */
static volatile sig_atomic_t on_libev;

/* SIGTERM/SIGINT. On libev the loop runs inside lws_service until broken,
 * and lws's libev glue breaks it on SIGINT only (its own watcher replaces
 * this handler for SIGINT): SIGTERM is turned into SIGINT for it. */
static void on_signal(int sig)
{
	stop_requested = 1;
	if (on_libev && sig == SIGTERM)
		kill(getpid(), SIGINT);
}

/* No SA_RESTART: the signal interrupts poll(), so the loop sees the flag
 * at once (the event poll timer also wakes it every ws_poll_ms). */
static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* lws's own log lines, through parley's log (errors only; lws warnings,
 * e.g. every refused upgrade, are debug noise). */
static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	pl_log_write(level == LLL_ERR ? PL_LOG_WARN : PL_LOG_DEBUG, "lws", "%.*s", (int)n, line);
}

/* lws's own keep-alive off (no hangup time: _lws_validity_confirmed_role
 * does nothing): the housekeeping tick pings and hangs up instead
 * (ws_ping_interval, ws_hangup; delivery.c check_sockets). */
static const lws_retry_bo_t idle_policy = {
	.secs_since_valid_ping = 0,
	.secs_since_valid_hangup = 0,
};

/* The lws context on libev (FACTS.md: idle CPU no longer grows with the
 * number of sockets as poll() does), or on poll() when the libev plugin
 * is missing or PARLEY_WSD_POLL=1. */
static struct lws_context *create_lws(struct wsd *w)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	const char *force_poll = getenv("PARLEY_WSD_POLL");

	memset(&info, 0, sizeof(info));
	info.port = w->ctx.cfg.ws_port;
	info.iface = w->ctx.cfg.ws_listen;
	/* iface alone still listened on every address: IPv6 off as well. */
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.protocols = wsd_protocols;
	info.retry_and_idle_policy = &idle_policy;
	info.user = w;
	info.gid = -1;
	info.uid = -1;
	if (!force_poll || strcmp(force_poll, "1")) {
		info.options |= LWS_SERVER_OPTION_LIBEV;
		on_libev = 1;
		ctx = lws_create_context(&info);
		if (ctx)
			return ctx;
		on_libev = 0;
		pl_warn_log("libev event loop unavailable: using poll()");
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
	}
	return lws_create_context(&info);
}

int main(void)
{
	struct wsd w;
	struct pl_err err = { 0 };
	int rc = 1;

	if (pl_version_option())
		return 0;
	memset(&w, 0, sizeof(w));
	pl_log_init("wsd", PL_LOG_INFO);
	lws_set_log_level(LLL_ERR, lws_log_emit);
	install_signals();
	if (pl_ctx_open(&w.ctx, "wsd", &err) < 0) {
		pl_err_log("cannot start: %s", err.message);
		goto out;
	}
	if (wsd_delivery_init(&w, &err) < 0) {
		pl_err_log("cannot start: %s", err.message);
		goto out;
	}
	w.lws = create_lws(&w);
	if (!w.lws) {
		pl_err_log("cannot listen on %s:%d", w.ctx.cfg.ws_listen, w.ctx.cfg.ws_port);
		goto out;
	}
	wsd_timers_start(&w);
	wsd_inotify_start(&w);
	wsd_listen_start(&w);
	pl_info_log("listening on %s:%d (%s loop, event poll every %d ms)",
		    w.ctx.cfg.ws_listen, w.ctx.cfg.ws_port, on_libev ? "libev" : "poll()",
		    w.ctx.cfg.ws_poll_ms);
	while (!stop_requested) {
		if (lws_service(w.lws, 0) < 0)
			break;
		if (on_libev)
			break;  /* the loop ran until a signal broke it */
	}
	pl_info_log("stopping (%zu sockets open; passes woken by inotify %lu, by NOTIFY %lu, "
		    "by polling %lu)", w.nconns, w.wakeups_inotify, w.wakeups_notify, w.wakeups_poll);
	rc = 0;
out:
	wsd_listen_stop(&w);
	w.stopping = true;
	if (w.lws)
		lws_context_destroy(w.lws);  /* closes every socket: CLOSED frees each */
	if (w.inotify_fd > 0)
		close(w.inotify_fd);
	wsd_delivery_release(&w);
	pl_ctx_close(&w.ctx);
	return rc;
}
