/* webhooks.c — incoming webhooks (webhooks.h). */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "authz.h"
#include "channel_common.h"
#include "json.h"
#include "log.h"
#include "messages.h"
#include "ratelimit.h"
#include "token.h"
#include "util.h"
#include "webhooks.h"

#define SECRET_BYTES 32
#define SECRET_TEXT_MAX 64

enum hooks_stmt {
	HOOKS_STMT_BOT_INSERT,
	HOOKS_STMT_INSERT,
	HOOKS_STMT_LIST,
	HOOKS_STMT_DELETE,
	HOOKS_STMT_BY_HASH,
	HOOKS_STMT__MAX
};

static const struct pl_sql hooks_stmts[HOOKS_STMT__MAX] = {
	/* "!" is no argon2id string: the bot can never sign in with a password. */
	[HOOKS_STMT_BOT_INSERT] = {
		"INSERT INTO users (username, password_hash, display_name, avatar_url, created_at, is_bot) "
		"VALUES (?1, '!', ?2, ?3, ?4, 1) ON CONFLICT DO NOTHING" },
	[HOOKS_STMT_INSERT] = {
		"INSERT INTO webhooks (channel_id, bot_user_id, created_by, name, avatar_url, token_hash, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
	[HOOKS_STMT_LIST] = {
		"SELECT id, channel_id, name, avatar_url, bot_user_id, created_by, created_at FROM webhooks "
		"WHERE channel_id = ?1 ORDER BY id" },
	[HOOKS_STMT_DELETE] = { "DELETE FROM webhooks WHERE id = ?1 AND channel_id = ?2" },
	[HOOKS_STMT_BY_HASH] = {
		"SELECT w.id, w.channel_id, w.bot_user_id FROM webhooks w JOIN users u ON u.id = w.bot_user_id "
		"WHERE w.token_hash = ?1 AND u.deleted_at IS NULL AND u.deactivated_at IS NULL" },
};

static void secret_hash(const char *text, char hex[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, strlen(text), NULL, 0);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

static int read_create(const cJSON *in, const char **name, const char **avatar, struct pl_err *err)
{
	size_t chars = 0;

	*avatar = "";
	if (pl_json_string(in, "name", true, name, err) < 0 ||
	    pl_json_string(in, "avatar_url", false, avatar, err) < 0)
		return -1;
	if (!pl_utf8_valid(*name, strlen(*name), &chars) || chars < 1 ||
	    chars > PL_WEBHOOK_NAME_MAX || pl_text_has_controls(*name, false))
		return pl_err_set(err, 400, "\"name\" must be 1-%d characters without control characters",
				  PL_WEBHOOK_NAME_MAX);
	if (**avatar && (strlen(*avatar) > PL_WEBHOOK_URL_MAX || pl_text_has_controls(*avatar, false) ||
			 strchr(*avatar, ' ') ||
			 (strncasecmp(*avatar, "https://", 8) && strncasecmp(*avatar, "http://", 7))))
		return pl_err_set(err, 400, "\"avatar_url\" must be an http or https URL of at most %d bytes",
				  PL_WEBHOOK_URL_MAX);
	return 0;
}

/* A username for the webhook's bot from its name: [A-Za-z0-9_.-] of the
 * name (others become '_'), at most 20 bytes, then "-hook", then, on a
 * retry, 4 random hex digits. */
static void bot_username(const char *name, int attempt, char out[PL_USERNAME_MAX + 1])
{
	size_t o = 0;

	for (const char *p = name; *p && o < 20; p++)
		out[o++] = (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-') &&
			   !((unsigned char)*p & 0x80) ? *p : '_';
	out[o] = '\0';
	if (attempt == 0)
		snprintf(out + o, PL_USERNAME_MAX + 1 - o, "-hook");
	else
		snprintf(out + o, PL_USERNAME_MAX + 1 - o, "-hook-%04x", (unsigned)randombytes_uniform(65536));
}

/* Inside the transaction: the bot user, unique by retries. */
static int insert_bot(struct pl_db *db, const char *name, const char *avatar, int64_t *id,
		      struct pl_err *err)
{
	char username[PL_USERNAME_MAX + 1];

	for (int attempt = 0; attempt < 8; attempt++) {
		struct pl_stmt *st = pl_db_prepare(db, &hooks_stmts[HOOKS_STMT_BOT_INSERT], err);
		int step;

		if (!st)
			return -1;
		bot_username(name, attempt, username);
		pl_stmt_bind_text(st, 1, username);
		pl_stmt_bind_text(st, 2, name);
		pl_stmt_bind_text(st, 3, avatar);
		pl_stmt_bind_int64(st, 4, pl_now_ms());
		/* ON CONFLICT DO NOTHING: a taken name is no error, which on
		 * PostgreSQL would abort the whole transaction. */
		step = pl_stmt_step(st);
		pl_db_done(st);
		if (step != PL_DONE)
			return pl_err_internal(err, "insert webhook bot: %s", pl_db_last_error(db));
		if (pl_db_changes(db) == 1) {
			*id = pl_db_last_id(db);
			return 0;
		}
	}
	return pl_err_set(err, 409, "no free username for this webhook's bot; try another name");
}

static cJSON *hook_view(int64_t id, int64_t channel, const char *name, const char *avatar,
			int64_t bot, int64_t by, int64_t created)
{
	cJSON *o = cJSON_CreateObject();

	pl_json_add_id(o, "id", id);
	pl_json_add_id(o, "channel_id", channel);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "avatar_url", avatar ? avatar : "");
	pl_json_add_id(o, "user_id", bot);
	pl_json_add_id(o, "created_by", by);
	pl_json_add_time(o, "created_at", created);
	return o;
}

/* Inside the transaction: bot, membership (announced), webhook row. */
static int create_locked(struct pl_db *db, int64_t caller, int64_t channel_id, const char *name,
			 const char *avatar, const char *hex, int64_t now, int64_t *id, int64_t *bot,
			 struct pl_err *err)
{
	struct pl_stmt *st;
	bool added;

	if (pl_authz_channel(db, caller, channel_id, PL_ACT_MANAGE, NULL, err) < 0 ||
	    insert_bot(db, name, avatar, bot, err) < 0 ||
	    pl_chan_add_member_locked(db, channel_id, *bot, "member", true, &added, err) < 0 ||
	    !(st = pl_db_prepare(db, &hooks_stmts[HOOKS_STMT_INSERT], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, channel_id);
	pl_stmt_bind_int64(st, 2, *bot);
	pl_stmt_bind_int64(st, 3, caller);
	pl_stmt_bind_text(st, 4, name);
	pl_stmt_bind_text(st, 5, avatar);
	pl_stmt_bind_text(st, 6, hex);
	pl_stmt_bind_int64(st, 7, now);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*id = pl_db_last_id(db);
	return 0;
}

int pl_webhook_create(struct pl_db *db, int64_t caller, int64_t channel_id, const cJSON *in,
		      cJSON **out, struct pl_err *err)
{
	unsigned char raw[SECRET_BYTES];
	char secret[SECRET_TEXT_MAX], hex[65], url[SECRET_TEXT_MAX + 16];
	const char *name, *avatar;
	int64_t now = pl_now_ms(), id = 0, bot = 0;
	int rc;

	*out = NULL;
	if (read_create(in, &name, &avatar, err) < 0)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(secret, sizeof(secret), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	secret_hash(secret, hex);
	if (pl_db_begin(db, err) < 0)
		return -1;
	rc = create_locked(db, caller, channel_id, name, avatar, hex, now, &id, &bot, err);
	if ((rc = pl_db_end(db, rc, err)) == 0) {
		*out = hook_view(id, channel_id, name, avatar, bot, caller, now);
		snprintf(url, sizeof(url), PL_WEBHOOK_PATH "%s", secret);
		cJSON_AddStringToObject(*out, "url", url);
		cJSON_AddStringToObject(*out, "token", secret);
		pl_info_log("webhook %lld made in channel %lld by user %lld", (long long)id,
			    (long long)channel_id, (long long)caller);
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(url, sizeof(url));
	return rc;
}

int pl_webhook_list(struct pl_db *db, int64_t caller, int64_t channel_id, cJSON **out,
		    struct pl_err *err)
{
	struct pl_stmt *st;
	cJSON *body, *arr;
	int step;

	*out = NULL;
	if (pl_authz_channel(db, caller, channel_id, PL_ACT_MANAGE, NULL, err) < 0 ||
	    !(st = pl_db_prepare(db, &hooks_stmts[HOOKS_STMT_LIST], err)))
		return -1;
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "webhooks");
	pl_stmt_bind_int64(st, 1, channel_id);
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, hook_view(pl_stmt_int64(st, 0), pl_stmt_int64(st, 1),
						    pl_stmt_text(st, 2), pl_stmt_text(st, 3),
						    pl_stmt_int64(st, 4), pl_stmt_int64(st, 5),
						    pl_stmt_int64(st, 6)));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		return pl_err_internal(err, "list webhooks: %s", pl_db_last_error(db));
	}
	*out = body;
	return 0;
}

int pl_webhook_delete(struct pl_db *db, int64_t caller, int64_t channel_id, int64_t hook_id,
		      struct pl_err *err)
{
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel(db, caller, channel_id, PL_ACT_MANAGE, NULL, err) < 0 ||
	    !(st = pl_db_prepare(db, &hooks_stmts[HOOKS_STMT_DELETE], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, hook_id);
	pl_stmt_bind_int64(st, 2, channel_id);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	if (pl_db_changes(db) != 1) {
		pl_err_set(err, 404, "no such webhook");
		goto out;
	}
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

/* The webhook of `secret`: 0 (ids set), or -1 with 404 / 500. */
static int find_hook(struct pl_db *db, const char *secret, int64_t *id, int64_t *channel,
		     int64_t *bot, struct pl_err *err)
{
	char hex[65];
	struct pl_stmt *st;
	int step;

	if (!secret || strlen(secret) < 16 || strlen(secret) >= SECRET_TEXT_MAX)
		return pl_err_set(err, 404, "no such webhook");
	secret_hash(secret, hex);
	if (!(st = pl_db_prepare(db, &hooks_stmts[HOOKS_STMT_BY_HASH], err)))
		return -1;
	pl_stmt_bind_text(st, 1, hex);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		*id = pl_stmt_int64(st, 0);
		*channel = pl_stmt_int64(st, 1);
		*bot = pl_stmt_int64(st, 2);
	}
	pl_db_done(st);
	if (step == PL_ROW)
		return 0;
	if (step != PL_DONE)
		return pl_err_internal(err, "webhook lookup: %s", pl_db_last_error(db));
	return pl_err_set(err, 404, "no such webhook");
}

/* The text rule of pl_message_post (lib/messages.c), checked before the
 * rate limit counts: a refused body costs the webhook nothing and writes
 * nothing. */
static int check_text(const char *text, struct pl_err *err)
{
	char *t = pl_trim(text);
	size_t cps = 0;
	bool ok = pl_utf8_valid(t, strlen(t), &cps) && cps >= 1 && cps <= PL_CONTENT_MAX &&
		  pl_text_forbidden(t, PL_TEXT_TAB_LF | PL_TEXT_CR, NULL) == 0;

	free(t);
	return ok ? 0 : pl_err_set(err, 400, "\"text\" must be 1-%d characters without control "
				    "characters", PL_CONTENT_MAX);
}

int pl_webhook_post(struct pl_db *db, const struct pl_config *cfg, const char *secret,
		    const char *text, struct pl_err *err)
{
	struct pl_message_new in = { 0 };
	struct pl_rate rate;
	int64_t id = 0, channel = 0, bot = 0;
	char subject[32];
	cJSON *msg = NULL;
	bool created;

	if (check_text(text, err) < 0 || find_hook(db, secret, &id, &channel, &bot, err) < 0)
		return -1;
	snprintf(subject, sizeof(subject), "%lld", (long long)id);
	pl_rate_set(&rate, "webhook", subject, cfg->webhook_rate_limit, cfg->webhook_rate_window);
	if (pl_ratelimit_take(db, &rate, 1, pl_now_ms(), err) < 0)
		return -1;
	in.channel_id = channel;
	in.content = text;
	if (pl_message_post(db, bot, &in, &msg, &created, err) < 0)
		return err->status == 404 ? pl_err_set(err, 404, "no such webhook") : -1;
	cJSON_Delete(msg);
	return 0;
}
