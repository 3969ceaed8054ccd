/*
 * protocol.c — the parley WebSocket protocol (protocol.h): authentication
 * at the upgrade, per-socket life (ESTABLISHED .. CLOSED), client frames,
 * and the one place frames are written (SERVER_WRITEABLE).
 *
 * Client frames (API.md "WebSocket"), each one JSON text message:
 *   {"channel_id","content","client_msg_id"?,"reply_to"?} (no "type", or
 *       "type":"message")  -> pl_message_post, then "ack" or "error"
 *   {"type":"ping"}        -> {"type":"pong"}
 *   anything else          -> {"type":"error","error":{"code":"bad_request",...}}
 * The socket stays open after an error frame; only a message over the
 * body limit closes it (1009). Before a post or typing frame is acted on,
 * the socket's session is checked: one that ended closes the socket with
 * 4001 at once, the frame not acted on and nothing answered.
 *
 * Close codes of our own: 4001 the session ended (also found by the
 * periodic check, delivery.c); 4008 the user already holds
 * cfg.ws_user_limit sockets on this daemon: the upgrade is accepted, then
 * closed before any frame, because a browser shows a refused upgrade only
 * as a network failure (no status, no reason) while it does show a close
 * code and reason, so a client can tell "too many" from "server down".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/socket.h>
#include "delivery.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "messages.h"
#include "presence.h"
#include "protocol.h"
#include "session.h"
#include "util.h"

#define TOKEN_ARG_MAX 2048    /* a query argument: "token=" plus an access token */
#define RX_DEFAULT_LIMIT 65536

/* cJSON reports exhaustion with NULL; like pl_xmalloc, stop right there. */
static cJSON *checked(cJSON *v)
{
	if (!v) {
		pl_err_log("out of memory building JSON");
		abort();
	}
	return v;
}

/* {"error":{"code","message"}} for `status`; caller frees. */
static cJSON *error_object(int status, const char *message)
{
	cJSON *body = checked(cJSON_CreateObject());
	cJSON *e = checked(cJSON_AddObjectToObject(body, "error"));

	checked(cJSON_AddStringToObject(e, "code", pl_err_code(status)));
	checked(cJSON_AddStringToObject(e, "message", message));
	return body;
}

/* --- plain HTTP answers (refused upgrades, stray requests) --------------- */

/*
 * Status line and Content-Type/Length. On the upgrade path lws has not
 * parsed the request version (its own status line would say HTTP/1.0), and
 * the connection closes after the answer, so the line is written here.
 */
static int status_headers(struct lws *wsi, bool upgrade, int status, size_t len,
			  unsigned char **p, unsigned char *end)
{
	int n;

	if (!upgrade)
		return lws_add_http_common_headers(wsi, (unsigned)status, "application/json",
						   (lws_filepos_t)len, p, end);
	n = snprintf((char *)*p, (size_t)(end - *p), "HTTP/1.1 %d %s\r\n", status,
		     pl_http_status_text(status));
	if (n < 0 || n >= end - *p)
		return -1;
	*p += n;
	return lws_add_http_header_by_name(wsi, (const unsigned char *)"content-type:",
					   (const unsigned char *)"application/json", 16, p, end) ||
	       lws_add_http_header_content_length(wsi, (lws_filepos_t)len, p, end) ||
	       lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
					   (const unsigned char *)"close", 5, p, end);
}

/*
 * Writes a complete HTTP response: `status` with the contract's JSON error
 * body, in one write. `upgrade`: answering an upgrade request before any
 * 101, so the client sees an ordinary HTTP error. Returns 0 or -1.
 */
static int http_error(struct lws *wsi, bool upgrade, int status, const char *message)
{
	unsigned char buf[LWS_PRE + 1536];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	cJSON *body = error_object(status, message);
	char *text = pl_json_print(body);
	size_t len = strlen(text);
	int rc = -1;

	cJSON_Delete(body);
	if (status_headers(wsi, upgrade, status, len, &p, end))
		goto out;
	if (status == 401 &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
					(const unsigned char *)"Bearer", 6, &p, end))
		goto out;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < len)
		goto out;
	memcpy(p, text, len);
	p += len;
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) == (int)(p - start))
		rc = 0;
out:
	free(text);
	return rc;
}

/* Refuses an upgrade with an HTTP error; the nonzero return makes lws
 * close the connection without answering 101. */
static int refuse(struct lws *wsi, int status, const char *message)
{
	pl_info_log("refused upgrade: %d %s", status, message);
	http_error(wsi, true, status, message);
	return -1;
}

/* --- Origin --------------------------------------------------------------- */

/* An origin (RFC 6454 §4): scheme and host in lower case, and the port
 * (the scheme's default when none is written; -1 when it has none). */
struct origin {
	char scheme[16];
	char host[256];
	int port;
};

static int default_port(const char *scheme)
{
	return !strcmp(scheme, "http") ? 80 : !strcmp(scheme, "https") ? 443 : -1;
}

/* The host of a URI authority: a reg-name or IPv4 address (RFC 3986
 * unreserved characters), or an IPv6 address in brackets. Its length, or
 * 0 when `s` does not start with one. */
static size_t host_len(const char *s, size_t len)
{
	size_t n = 0;

	if (len && s[0] == '[') {
		for (n = 1; n < len && (isxdigit((unsigned char)s[n]) || s[n] == ':' || s[n] == '.'); n++)
			;
		return n < len && s[n] == ']' && n > 1 ? n + 1 : 0;
	}
	while (n < len && (isalnum((unsigned char)s[n]) || (s[n] && strchr("-._~", s[n]))))
		n++;
	return n;
}

/* "host[:port]" (all `len` bytes of `s`, nothing else) into o->host and
 * o->port, the port being `defport` when not written. 0, or -1. */
static int parse_hostport(const char *s, size_t len, int defport, struct origin *o)
{
	size_t h = host_len(s, len), i;
	long port = 0;

	if (h == 0 || h >= sizeof(o->host))
		return -1;
	for (i = 0; i < h; i++)
		o->host[i] = (char)tolower((unsigned char)s[i]);
	o->host[h] = '\0';
	o->port = defport;
	if (h == len)
		return 0;
	if (s[h] != ':' || len - h < 2 || len - h > 6)
		return -1;
	for (i = h + 1; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		port = port * 10 + (s[i] - '0');
	}
	if (port < 1 || port > 65535)
		return -1;
	o->port = (int)port;
	return 0;
}

/* An origin as browsers serialize it, `scheme "://" host [ ":" port ]`,
 * in `len` bytes: no path, no user info. Scheme and host are compared
 * without regard to ASCII case, an explicit default port equals none.
 * 0, or -1 when `s` is not such an origin ("null" is not). */
static int parse_origin(const char *s, size_t len, struct origin *o)
{
	const char *sep = memmem(s, len, "://", 3);
	size_t n = sep ? (size_t)(sep - s) : 0;

	if (n == 0 || n >= sizeof(o->scheme) || !isalpha((unsigned char)s[0]))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && !(s[i] && strchr("+-.", s[i])))
			return -1;
		o->scheme[i] = (char)tolower((unsigned char)s[i]);
	}
	o->scheme[n] = '\0';
	return parse_hostport(sep + 3, len - n - 3, default_port(o->scheme), o);
}

static bool origin_equal(const struct origin *a, const struct origin *b)
{
	return !strcmp(a->scheme, b->scheme) && !strcmp(a->host, b->host) && a->port == b->port;
}

/*
 * The origin this request was addressed to: the Host header, and the
 * scheme the proxy in front was reached by, from X-Forwarded-Proto
 * (lighttpd's mod_proxy always sets it, replacing one the client sent;
 * nginx.conf.example sets it), else http: the daemon itself speaks plain
 * HTTP on loopback. Only http and https. 0, or -1.
 */
static int request_origin(struct lws *wsi, struct origin *o)
{
	static const char xfp[] = "x-forwarded-proto:";
	char proto[16] = "http", host[256];
	int n = lws_hdr_custom_length(wsi, xfp, (int)sizeof(xfp) - 1);

	if (n >= 0) {
		size_t len;
		if (n >= (int)sizeof(proto) ||
		    lws_hdr_custom_copy(wsi, proto, sizeof(proto), xfp, (int)sizeof(xfp) - 1) < 0)
			return -1;
		len = strcspn(proto, ", \t");   /* the first hop's, should there be several */
		proto[len] = '\0';
		for (size_t i = 0; i < len; i++)
			proto[i] = (char)tolower((unsigned char)proto[i]);
	}
	if (default_port(proto) < 0 || lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return -1;
	snprintf(o->scheme, sizeof(o->scheme), "%s", proto);
	return parse_hostport(host, strlen(host), default_port(proto), o);
}

/*
 * Whether `origin` (the Origin header, e.g. "https://chat.example.com")
 * may open a socket. cfg.ws_origins lists the allowed origins (space- or
 * comma-separated; "*" = any): scheme, host and port must all equal one
 * of them. With an empty list only the request's own origin passes
 * (request_origin: Host, and X-Forwarded-Proto or http).
 */
static bool origin_allowed(const struct pl_config *cfg, struct lws *wsi, const char *origin)
{
	const char *p = cfg->ws_origins;
	struct origin o, allowed;
	bool valid = parse_origin(origin, strlen(origin), &o) == 0;

	p += strspn(p, " ,\t");
	if (!*p)
		return valid && request_origin(wsi, &allowed) == 0 && origin_equal(&o, &allowed);
	while (*p) {
		size_t n = strcspn(p, " ,\t");
		if (n == 1 && *p == '*')
			return true;
		if (valid && parse_origin(p, n, &allowed) == 0 && origin_equal(&o, &allowed))
			return true;
		p += n;
		p += strspn(p, " ,\t");
	}
	return false;
}

/*
 * LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: the upgrade request is parsed,
 * nothing answered yet. Checks the path and the Origin (403; a request
 * without Origin — not a browser — passes), authenticates ?ticket= (single
 * use, via pl_ws_ticket_redeem) or ?token= exactly as the REST bearer
 * check does, and reads ?since=.
 * Refuses with 404 (other path), 403 (origin), 401 (missing/invalid/used
 * credentials), 400 (bad since).
 */
static int filter_upgrade(struct wsd *w, struct wsd_conn *c, struct lws *wsi)
{
	/* lws_get_urlarg_by_name stops at the first argument that does not fit
	 * its buffer, so every lookup needs room for the longest (the token). */
	char path[64], token[TOKEN_ARG_MAX], arg[TOKEN_ARG_MAX];
	struct pl_claims claims;
	struct pl_err err = { 0 };
	const char *v;
	int rc;

	char origin[512];

	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 || strcmp(path, "/ws"))
		return refuse(wsi, 404, "no such endpoint");
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0 &&
	    (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0 ||
	     !origin_allowed(&w->ctx.cfg, wsi, origin)))
		return refuse(wsi, 403, "origin not allowed");
	v = lws_get_urlarg_by_name(wsi, "ticket=", token, sizeof(token));
	if (v && *v) {
		rc = pl_ws_ticket_redeem(w->ctx.db, v, &claims, &err);
	} else {
		v = lws_get_urlarg_by_name(wsi, "token=", token, sizeof(token));
		if (!v || !*v) {
			sodium_memzero(token, sizeof(token));
			return refuse(wsi, 401, "missing ticket or access token");
		}
		rc = pl_session_authenticate(w->ctx.db, &w->ctx.cfg, w->ctx.tokens, v, true,
					     &claims, &err);
	}
	sodium_memzero(token, sizeof(token));
	if (rc < 0)
		return refuse(wsi, err.status >= 400 ? err.status : 401,
			      err.message[0] ? err.message : "invalid access token");
	v = lws_get_urlarg_by_name(wsi, "since=", arg, sizeof(arg));
	if (v) {
		if (pl_parse_cursor(v, &c->since) < 0)
			return refuse(wsi, 400, "since must be an event id");
		c->has_since = true;
	}
	c->user_id = claims.user_id;
	c->session_id = claims.session_id;
	c->token_id = claims.token_id;
	c->scope = claims.scope;
	c->authed = true;
	return 0;
}

/* --- socket life --------------------------------------------------------- */

static void queue_type(struct wsd_conn *c, const char *type)
{
	cJSON *o = checked(cJSON_CreateObject());

	checked(cJSON_AddStringToObject(o, "type", type));
	wsd_queue_json(c, o);
	cJSON_Delete(o);
}

static void queue_hello(struct wsd_conn *c, int64_t last_event_id)
{
	cJSON *o = checked(cJSON_CreateObject());

	checked(cJSON_AddStringToObject(o, "type", "hello"));
	checked(cJSON_AddNumberToObject(o, "user_id", (double)c->user_id));
	checked(cJSON_AddNumberToObject(o, "last_event_id", (double)last_event_id));
	wsd_queue_json(c, o);
	cJSON_Delete(o);
}

/*
 * LWS_CALLBACK_ESTABLISHED: the 101 is sent. Joins the socket to delivery,
 * says hello, marks the user online, and starts the replay for ?since=.
 */
static int on_established(struct wsd *w, struct wsd_conn *c, struct lws *wsi)
{
	int sndbuf = WSD_SNDBUF, fd;
	int64_t last;

	if (!c->authed)
		return -1;  /* cannot happen: the filter ran first */
	c->wsd = w;
	c->wsi = wsi;
	if (w->ctx.cfg.ws_user_limit > 0 &&
	    wsd_user_sockets(w, c->user_id) >= (size_t)w->ctx.cfg.ws_user_limit) {
		/* Accepted, then closed at once with a code a browser can read
		 * (a refused upgrade shows it only a network error); never
		 * registered: no hello, no events, no presence. */
		pl_info_log("user %lld already has %d sockets: closing a new one (%d)",
			    (long long)c->user_id, w->ctx.cfg.ws_user_limit, WSD_CLOSE_TOO_MANY);
		wsd_conn_close(c, WSD_CLOSE_TOO_MANY);
		return 0;
	}
	/* A fixed kernel send buffer (no autotuning up to megabytes): a client
	 * that does not read fills it soon, so the stall check sees it, and
	 * idle sockets cost little kernel memory. */
	fd = lws_get_socket_fd(wsi);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	last = pl_event_last_id(w->ctx.db);
	if (last < 0) {
		pl_err_log("cannot read the last event id: %s", pl_db_last_error(w->ctx.db));
		return -1;
	}
	c->cursor = last;
	wsd_heard(c);
	if (c->has_since && c->since < last && !pl_event_since_pruned(w->ctx.db, c->since)) {
		c->cursor = c->since;
		c->catching_up = true;
	}
	wsd_conn_register(w, c);
	queue_hello(c, last);
	if (c->has_since && c->since < last && !c->catching_up)
		queue_type(c, "resync_required");  /* history after since was pruned */
	wsd_presence_touch(w, c->user_id);
	if (c->catching_up)
		wsd_catch_up(w, c);
	pl_debug_log("user %lld connected (%zu sockets)", (long long)c->user_id, w->nconns);
	return 0;
}

static void on_closed(struct wsd *w, struct wsd_conn *c)
{
	if (c->registered) {
		struct pl_err err = { 0 };

		wsd_conn_unregister(w, c);
		pl_debug_log("user %lld disconnected (%zu sockets)",
			     (long long)c->user_id, w->nconns);
		/* Their last socket here: offline after the grace (the sweep
		 * announces it), not after the whole window. */
		if (!w->stopping && !wsd_user_sockets(w, c->user_id) &&
		    pl_presence_socket_gone(w->ctx.db, w->node, c->user_id, w->ctx.cfg.presence_window,
					    w->ctx.cfg.presence_close_grace, &err) < 0)
			pl_warn_log("presence of user %lld: %s", (long long)c->user_id, err.message);
	}
	wsd_queue_clear(c);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = 0;
}

/* One frame per callback; ask again while frames (or replay) remain. */
static int on_writeable(struct wsd *w, struct wsd_conn *c, struct lws *wsi)
{
	struct wsd_frame *f;

	if (c->close_code) {
		const char *why = c->close_code == WSD_CLOSE_TOO_MANY ?
			"too many sockets for this user" : "session ended";
		lws_close_reason(wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)why, strlen(why));
		return -1;
	}
	if (c->dead)
		return -1;
	if (c->ping_due) {
		/* A payload of one byte: the peer's pong echoes it (RFC 6455
		 * 5.5.3), and lws passes an empty pong to no callback. */
		unsigned char ping[LWS_PRE + 1] = { [LWS_PRE] = 'p' };

		c->ping_due = false;
		if (lws_write(wsi, ping + LWS_PRE, 1, LWS_WRITE_PING) < 1)
			return -1;
		if (c->head)
			lws_callback_on_writable(wsi);
		return 0;
	}
	f = wsd_queue_pop(c);
	if (f) {
		size_t len = f->len;
		int n = lws_write(wsi, f->buf + LWS_PRE, len, LWS_WRITE_TEXT);
		wsd_frame_unref(f);
		if (n < (int)len) {
			pl_info_log("write to user %lld failed: closing", (long long)c->user_id);
			return -1;
		}
	}
	if (c->catching_up && c->qlen < WSD_CATCHUP_LOW)
		wsd_catch_up(w, c);
	if (c->head)
		lws_callback_on_writable(wsi);
	return 0;
}

/* --- client frames ------------------------------------------------------- */

/*
 * Queues {"type":"error",["client_msg_id",]"error":{"code","message"}}.
 * `with_cmid` adds client_msg_id (`cmid`, or null), as post replies carry.
 */
static void queue_error(struct wsd_conn *c, bool with_cmid, const char *cmid,
			int status, const char *message)
{
	cJSON *o = checked(cJSON_CreateObject());
	cJSON *e;

	if (status < 400)
		status = 500;
	checked(cJSON_AddStringToObject(o, "type", "error"));
	if (with_cmid)
		checked(cmid ? cJSON_AddStringToObject(o, "client_msg_id", cmid)
			     : cJSON_AddNullToObject(o, "client_msg_id"));
	e = checked(cJSON_AddObjectToObject(o, "error"));
	checked(cJSON_AddStringToObject(e, "code", pl_err_code(status)));
	checked(cJSON_AddStringToObject(e, "message",
		message && *message ? message : "request failed"));
	wsd_queue_json(c, o);
	cJSON_Delete(o);
}

static bool principal_live(struct wsd *w, struct wsd_conn *c, bool with_cmid, const char *cmid);

/*
 * Whether c's session (or API token) still lives, and its scope allows
 * writing, checked before every frame that writes
 * (pl_session_check: a primary-key probe), because the periodic check
 * (every WSD_SESSION_TICKS) comes too late for them. A session that ended
 * (logout, password change, account deleted, expiry) closes the socket
 * with 4001 at once, answering nothing; a database error is not a
 * revocation: the frame gets an error reply (500), the socket stays.
 */
static bool session_live(struct wsd *w, struct wsd_conn *c, bool with_cmid, const char *cmid)
{
	if (c->token_id && c->scope < PL_SCOPE_POST) {
		/* A read-scope API token receives events only (DECISIONS.md). */
		queue_error(c, with_cmid, cmid, 403,
			    "this API token has scope \"read\"; posting needs scope \"post\"");
		return false;
	}
	return principal_live(w, c, with_cmid, cmid);
}

/* session_live without the scope check. */
static bool principal_live(struct wsd *w, struct wsd_conn *c, bool with_cmid, const char *cmid)
{
	struct pl_err err = { 0 };

	struct pl_claims who = { .user_id = c->user_id, .session_id = c->session_id,
				 .token_id = c->token_id };

	if (pl_session_check_principal(w->ctx.db, &who, &err) == 0)
		return true;
	if (err.status == 401) {
		pl_info_log("session of user %lld ended: closing its socket at a frame",
			    (long long)c->user_id);
		wsd_conn_close(c, WSD_CLOSE_REVOKED);
	} else {
		queue_error(c, with_cmid, cmid, err.status, err.message);
	}
	return false;
}

/*
 * A post: the same pl_message_post as POST /api/messages. Answers "ack"
 * with the message or "error", then runs a live pass at once when a
 * message was stored (this connection's commit does not move
 * pl_db_data_version for it).
 */
static void handle_post(struct wsd *w, struct wsd_conn *c, const cJSON *frame)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(frame, "client_msg_id");
	const char *cmid = cJSON_IsString(item) ? item->valuestring : NULL;
	struct pl_message_new in;
	struct pl_err err = { 0 };
	cJSON *msg = NULL, *ack;
	bool created = false;

	if (!session_live(w, c, true, cmid))
		return;
	if (pl_message_new_from_json(frame, &in, &err) < 0 ||
	    pl_message_post(w->ctx.db, c->user_id, &in, &msg, &created, &err) < 0) {
		queue_error(c, true, cmid, err.status, err.message);
		return;
	}
	ack = checked(cJSON_CreateObject());
	checked(cJSON_AddStringToObject(ack, "type", "ack"));
	checked(in.client_msg_id ? cJSON_AddStringToObject(ack, "client_msg_id", in.client_msg_id)
				 : cJSON_AddNullToObject(ack, "client_msg_id"));
	cJSON_AddItemToObject(ack, "message", msg);  /* ack now owns msg */
	wsd_queue_json(c, ack);
	cJSON_Delete(ack);
	if (created)
		wsd_deliver(w);
}

/*
 * {"type":"typing","channel_id"}: a typing event to the channel's members
 * (pl_presence_typing); nothing is answered unless it fails.
 */
static void handle_typing(struct wsd *w, struct wsd_conn *c, const cJSON *frame)
{
	struct pl_err err = { 0 };
	int64_t channel;

	if (!session_live(w, c, false, NULL))
		return;
	if (pl_json_id(frame, "channel_id", true, &channel, &err) < 0 ||
	    pl_presence_typing(w->ctx.db, c->user_id, channel, &err) < 0) {
		queue_error(c, false, NULL, err.status, err.message);
		return;
	}
	wsd_deliver(w);
}

/* One complete client message (`len` bytes at `buf`). */
static void handle_message(struct wsd *w, struct wsd_conn *c, const char *buf, size_t len)
{
	struct pl_err err = { 0 };
	const char *type = NULL;
	cJSON *frame = NULL;

	if (c->close_code || c->dead)
		return;  /* closing: nothing it sends is acted on */
	if (c->rx_binary) {
		queue_error(c, false, NULL, 400, "binary frames are not supported");
		return;
	}
	if (pl_json_parse(buf, len, &frame, &err) < 0) {
		queue_error(c, false, NULL, 400, err.message);
		return;
	}
	if (!cJSON_IsObject(frame))
		queue_error(c, false, NULL, 400, "a frame must be a JSON object");
	else if (pl_json_string(frame, "type", false, &type, &err) < 0)
		queue_error(c, false, NULL, 400, err.message);
	else if (!type || !strcmp(type, "message"))
		handle_post(w, c, frame);
	else if (!strcmp(type, "ping"))
		queue_type(c, "pong");
	else if (!strcmp(type, "typing"))
		handle_typing(w, c, frame);
	else
		queue_error(c, false, NULL, 400, "unknown frame type");
	cJSON_Delete(frame);
}

/*
 * LWS_CALLBACK_RECEIVE: a message may come in several parts (fragments,
 * or pieces of one large frame); they are gathered up to the body limit.
 * A bigger message closes the socket with 1009.
 */
static int on_receive(struct wsd *w, struct wsd_conn *c, struct lws *wsi,
		      const char *in, size_t len)
{
	size_t limit = w->ctx.cfg.body_limit ? w->ctx.cfg.body_limit : RX_DEFAULT_LIMIT;
	bool first = !c->rx && c->rx_len == 0, final = lws_is_final_fragment(wsi);

	if (first)
		c->rx_binary = lws_frame_is_binary(wsi);
	if (c->rx_len + len > limit) {
		static const char why[] = "message too large";
		pl_info_log("user %lld sent a message over %zu bytes: closing",
			    (long long)c->user_id, limit);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)why, sizeof(why) - 1);
		return -1;
	}
	if (first && final) {
		handle_message(w, c, in, len);
		return 0;
	}
	if (!c->rx)
		c->rx = pl_xmalloc(limit);
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (final) {
		handle_message(w, c, c->rx, c->rx_len);
		free(c->rx);
		c->rx = NULL;
		c->rx_len = 0;
	}
	return 0;
}

/* --- the callback -------------------------------------------------------- */

int wsd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		 void *in, size_t len)
{
	struct wsd *w = lws_context_user(lws_get_context(wsi));
	struct wsd_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/* Not an upgrade: the daemon serves nothing over plain HTTP. */
		if (http_error(wsi, false, in && !strcmp(in, "/ws") ? 400 : 404,
			       in && !strcmp(in, "/ws") ? "websocket upgrade required"
							: "no such endpoint") < 0)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_upgrade(w, c, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(w, c, wsi);
	case LWS_CALLBACK_RECEIVE:
		wsd_heard(c);
		return on_receive(w, c, wsi, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		wsd_heard(c);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(w, c, wsi);
	case LWS_CALLBACK_CLOSED:
		if (c)
			on_closed(w, c);
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols wsd_protocols[] = {
	{
		.name = "parley",
		.callback = wsd_callback,
		.per_session_data_size = sizeof(struct wsd_conn),
		.rx_buffer_size = 4096,  /* per socket; messages are gathered in on_receive */
	},
	{
		/* Not a WebSocket protocol: the inotify fd on the -wal file. */
		.name = "parley-wal",
		.callback = wsd_wal_callback,
	},
	{ .name = NULL, .callback = NULL },
};
