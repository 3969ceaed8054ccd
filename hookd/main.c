/*
 * main.c — parley-hookd, the outgoing webhook worker (issue 16): follows
 * message.created events from the stored cursor and enqueues deliveries
 * (lib/outhook_queue.h), then claims due deliveries one at a time under a
 * lease and POSTs each with libcurl, signed:
 *   Content-Type: application/json
 *   X-Parley-Event: message.created
 *   X-Parley-Delivery: <delivery id>
 *   X-Parley-Timestamp: <unix seconds> (also "timestamp" in the body)
 *   X-Parley-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed
 *                       with the hook's secret as its ASCII text>
 * The URL is checked again before every attempt (lib/url_guard.h) and the
 * connection pinned to the checked address (CURLOPT_RESOLVE), with an
 * open-socket callback refusing any other forbidden address; no
 * redirects, no proxies, http and https only. Retries (network errors,
 * timeouts, 5xx, 429) back off exponentially with jitter up to
 * outgoing_webhook_max_attempts. Several instances may run against one
 * database: the lease keeps each delivery with one of them.
 *
 * It is also the server's outbound mail worker: every
 * HOOKD_MENTION_MAIL_MS it mails users the mentions and DMs they missed
 * (lib/mention_mail.h), since mail_command may be slow and parley-wsd's
 * loop must not wait on it.
 *
 * Environment: the usual parley configuration (config.h). SIGTERM/SIGINT
 * end it after the attempt in progress.
 */
#include <curl/curl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ctx.h"
#include "json.h"
#include "log.h"
#include "mention_mail.h"
#include "outhook_queue.h"
#include "url_guard.h"
#include "util.h"
#include "version.h"

#define HOOKD_MENTION_MAIL_MS    2000 /* a missed-mention mail pass this often */
#define HOOKD_MENTION_MAIL_BATCH 50   /* mails at most per pass */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

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

/* The open-socket check: what curl connects to must pass the guard too
 * (the pinned address did; this refuses anything else). */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	const struct pl_url_target *t = arg;
	const char *why;

	(void)purpose;
	if (!t->allowed_host && pl_addr_forbidden(&a->addr, &why)) {
		pl_warn_log("refused to connect to a %s address", why);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* The response body is not kept. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The body sent: the stored payload plus the delivery's envelope. */
static char *build_body(const struct pl_outhook_job *job, long ts)
{
	cJSON *p = cJSON_Parse(job->payload), *b = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(b, "event", "message.created");
	pl_json_add_id(b, "delivery_id", job->id);
	pl_json_add_id(b, "webhook_id", job->hook_id);
	pl_json_add_id(b, "event_id", job->event_id);
	cJSON_AddNumberToObject(b, "timestamp", (double)ts);
	cJSON_AddNumberToObject(b, "attempt", job->attempts);
	if (job->trigger_word)
		cJSON_AddStringToObject(b, "trigger_word", job->trigger_word);
	else
		cJSON_AddNullToObject(b, "trigger_word");
	if (cJSON_IsObject(p)) {
		cJSON *it;
		while ((it = cJSON_DetachItemFromArray(p, 0)) != NULL)
			cJSON_AddItemToObject(b, it->string, it);
	}
	cJSON_Delete(p);
	text = pl_json_print(b);
	cJSON_Delete(b);
	return text;
}

/* hex HMAC-SHA256 of `body` keyed with `secret` (its bytes as written). */
static void sign(const char *secret, const char *body, char hex[2 * crypto_auth_hmacsha256_BYTES + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, 2 * crypto_auth_hmacsha256_BYTES + 1, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* One attempt: returns the outcome, *status the HTTP status (0: none),
 * `error` what went wrong. */
static enum pl_outhook_outcome attempt(const struct pl_config *cfg, const struct pl_outhook_job *job,
				       int *status, char *error, size_t error_len)
{
	struct pl_url_target t;
	struct pl_err err = { 0 };
	struct curl_slist *hdr = NULL, *resolve = NULL;
	char line[512], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
	long ts = (long)time(NULL), code = 0;
	enum pl_outhook_outcome out = PL_OUTHOOK_RETRY;
	char *body = NULL;
	CURL *c = NULL;
	CURLcode cc;

	*status = 0;
	if (pl_url_check(job->url, cfg->outgoing_webhook_allow_hosts, &t, &err) < 0) {
		snprintf(error, error_len, "refused: %s", err.message);
		/* a host that no longer resolves may again; a forbidden one not */
		return strstr(err.message, "does not resolve") ? PL_OUTHOOK_RETRY : PL_OUTHOOK_FAILED;
	}
	body = build_body(job, ts);
	sign(job->secret, body, hex);
	c = curl_easy_init();
	if (!c) {
		snprintf(error, error_len, "curl_easy_init failed");
		goto out;
	}
	snprintf(line, sizeof(line), strchr(t.addr, ':') ? "%s:%d:[%s]" : "%s:%d:%s",
		 t.host, t.port, t.addr);
	resolve = curl_slist_append(resolve, line);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	hdr = curl_slist_append(hdr, "X-Parley-Event: message.created");
	snprintf(line, sizeof(line), "X-Parley-Delivery: %lld", (long long)job->id);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "X-Parley-Timestamp: %ld", ts);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "X-Parley-Signature: sha256=%s", hex);
	hdr = curl_slist_append(hdr, line);
	curl_easy_setopt(c, CURLOPT_URL, job->url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->outgoing_webhook_connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->outgoing_webhook_timeout_ms);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "parley-hookd/" "0.1.0");
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(error, error_len, "%s", curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = (int)code;
	if (code >= 200 && code < 300)
		out = PL_OUTHOOK_DELIVERED;
	else if (code == 429 || code >= 500)
		snprintf(error, error_len, "HTTP %ld", code);
	else {
		snprintf(error, error_len, "HTTP %ld (not retried)", code);
		out = PL_OUTHOOK_FAILED;
	}
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	curl_slist_free_all(resolve);
	free(body);
	return out;
}

/* Claims and sends due deliveries until none is due; returns how many. */
static int deliver_due(struct pl_ctx *ctx)
{
	const struct pl_config *cfg = &ctx->cfg;
	int lease = cfg->outgoing_webhook_timeout_ms + cfg->outgoing_webhook_connect_timeout_ms + 30000;
	struct pl_outhook_job job;
	struct pl_err err = { 0 };
	int n = 0;

	while (!stop_requested && pl_outhook_claim(ctx->db, pl_now_ms(), lease, &job, &err) == 0) {
		char error[PL_ERR_MSG_LEN + 32] = "";
		int status = 0;
		enum pl_outhook_outcome o = attempt(cfg, &job, &status, error, sizeof(error));
		int64_t next = 0;

		if (o == PL_OUTHOOK_RETRY && job.attempts >= cfg->outgoing_webhook_max_attempts)
			o = PL_OUTHOOK_FAILED;
		if (o == PL_OUTHOOK_RETRY)
			next = pl_now_ms() + pl_outhook_backoff_ms(cfg->outgoing_webhook_backoff_ms,
				job.attempts, (double)randombytes_uniform(1001) / 1000.0);
		if (o != PL_OUTHOOK_DELIVERED)
			pl_info_log("delivery %lld (hook %lld) attempt %d: %s%s", (long long)job.id,
				    (long long)job.hook_id, job.attempts, error,
				    o == PL_OUTHOOK_FAILED ? ": gave up" : "");
		if (pl_outhook_finish(ctx->db, &job, o, status, error, next, &err) < 0)
			pl_err_log("recording delivery %lld: %s", (long long)job.id, err.message);
		pl_outhook_job_release(&job);
		n++;
	}
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);  /* a signal ends it early */
}

/* Mails users the mentions and DMs they missed (mention_mail.h): here and
 * not in parley-wsd, because mail_command may take seconds (up to
 * PL_MAIL_TIMEOUT_MS each) and the daemon's loop delivers live events.
 * Claims make any number of workers and cron runs send each mail once. */
static void mention_mail(struct pl_ctx *ctx)
{
	struct pl_err err = { 0 };
	int sent = 0;

	if (pl_mention_mail_run(ctx->db, &ctx->cfg, HOOKD_MENTION_MAIL_BATCH, &sent, &err) < 0)
		pl_warn_log("mention mail: %s", err.message);
	else if (sent)
		pl_info_log("mailed %d user(s) their missed mentions", sent);
}

int main(void)
{
	struct pl_ctx ctx;
	struct pl_err err = { 0 };
	int64_t last_prune = 0, last_mail = 0;
	int rc = 1;

	if (pl_version_option())
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	pl_log_init("hookd", PL_LOG_INFO);
	install_signals();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		pl_err_log("cannot start: curl_global_init failed");
		return 1;
	}
	if (pl_ctx_open(&ctx, "hookd", &err) < 0) {
		pl_err_log("cannot start: %s", err.message);
		goto out;
	}
	pl_info_log("following message events (poll every %d ms)", ctx.cfg.outgoing_webhook_poll_ms);
	while (!stop_requested) {
		int events = 0, enqueued = 0;

		do {
			if (pl_outhook_enqueue(ctx.db, ctx.cfg.outgoing_webhook_queue_max, &events,
					       &enqueued, &err) < 0) {
				pl_err_log("enqueue: %s", err.message);
				break;
			}
		} while (events == PL_OUTHOOK_BATCH && !stop_requested);
		deliver_due(&ctx);
		if (pl_now_ms() - last_mail >= HOOKD_MENTION_MAIL_MS) {
			mention_mail(&ctx);
			last_mail = pl_now_ms();
		}
		if (pl_now_ms() - last_prune > 60000) {
			int64_t keep = (int64_t)ctx.cfg.event_retention_days * 86400000;
			if (pl_outhook_prune(ctx.db, pl_now_ms() - keep, 1000, &err) < 0)
				pl_err_log("prune: %s", err.message);
			last_prune = pl_now_ms();
		}
		if (!stop_requested)
			sleep_ms(ctx.cfg.outgoing_webhook_poll_ms);
	}
	pl_info_log("stopping");
	rc = 0;
out:
	pl_ctx_close(&ctx);
	curl_global_cleanup();
	return rc;
}
