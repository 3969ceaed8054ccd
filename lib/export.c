/*
 * export.c — a user's data export and an operator's channel export,
 * streamed as JSON (export.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "authz.h"
#include "export.h"
#include "json.h"
#include "log.h"
#include "ratelimit.h"
#include "token.h"
#include "user_view.h"
#include "util.h"

#define EXPORT_PAGE 200

/* Read access for channel c with the caller's membership row me (?1). */
#define READABLE "LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = ?1 " \
	"WHERE " PL_AUTHZ_SQL_CAN_READ("c", "me") " AND "

enum export_stmt {
	EXPORT_STMT_USERNAME,
	EXPORT_STMT_MEMBERSHIPS,
	EXPORT_STMT_MESSAGES,
	EXPORT_STMT_REACTIONS,
	EXPORT_STMT_FILES,
	EXPORT_STMT_NOTIFICATIONS,
	EXPORT_STMT_THREAD_FOLLOWS,
	EXPORT_STMT_CHANNEL,
	EXPORT_STMT_MEMBERS,
	EXPORT_STMT_CHANNEL_MESSAGES,
	EXPORT_STMT_MESSAGE_REACTIONS,
	EXPORT_STMT_MESSAGE_FILES,
	EXPORT_STMT__MAX
};

/* Paged statements: ?1 the user or channel, ?2 (and ?3) the last key of
 * the previous page; column 0 (and the key text column) the key. */
static const struct pl_sql export_stmts[EXPORT_STMT__MAX] = {
	[EXPORT_STMT_USERNAME] = {
		"SELECT id, username FROM users WHERE id = ?1 AND deleted_at IS NULL" },
	[EXPORT_STMT_MEMBERSHIPS] = {
		"SELECT c.id, c.name, c.kind, m.role, m.joined_at FROM channel_members m "
		"JOIN channels c ON c.id = m.channel_id WHERE m.user_id = ?1 AND c.id > ?2 "
		"ORDER BY c.id LIMIT 200" },
	[EXPORT_STMT_MESSAGES] = {
		"SELECT m.id, m.channel_id, c.name, m.content, m.created_at, m.edited_at, m.reply_to "
		"FROM messages m JOIN channels c ON c.id = m.channel_id " READABLE
		"m.user_id = ?1 AND m.deleted = 0 AND m.id > ?2 ORDER BY m.id LIMIT 200" },
	[EXPORT_STMT_REACTIONS] = {
		"SELECT r.message_id, m.channel_id, r.emoji, r.created_at FROM reactions r "
		"JOIN messages m ON m.id = r.message_id JOIN channels c ON c.id = m.channel_id " READABLE
		"r.user_id = ?1 AND m.deleted = 0 AND (r.message_id > ?2 OR (r.message_id = ?2 AND r.emoji > ?3)) "
		"ORDER BY r.message_id, r.emoji LIMIT 200" },
	[EXPORT_STMT_FILES] = {
		"SELECT id, purpose, name, size, content_type, width, height, message_id, created_at "
		"FROM files WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT 200" },
	[EXPORT_STMT_NOTIFICATIONS] = {
		"SELECT n.id, n.kind, n.message_id, m.channel_id, n.created_at, n.read_at "
		"FROM notifications n JOIN messages m ON m.id = n.message_id "
		"JOIN channels c ON c.id = m.channel_id " READABLE
		"n.user_id = ?1 AND n.id > ?2 ORDER BY n.id LIMIT 200" },
	[EXPORT_STMT_THREAD_FOLLOWS] = {
		"SELECT f.message_id, m.channel_id, f.following, f.updated_at "
		"FROM thread_follows f JOIN messages m ON m.id = f.message_id "
		"JOIN channels c ON c.id = m.channel_id " READABLE
		"f.user_id = ?1 AND f.message_id > ?2 ORDER BY f.message_id LIMIT 200" },
	[EXPORT_STMT_CHANNEL] = {
		"SELECT id, name, kind, topic, created_by, created_at FROM channels WHERE id = ?1" },
	[EXPORT_STMT_MEMBERS] = {
		"SELECT m.user_id, u.username, m.role, m.joined_at FROM channel_members m "
		"JOIN users u ON u.id = m.user_id WHERE m.channel_id = ?1 AND m.user_id > ?2 "
		"ORDER BY m.user_id LIMIT 200" },
	[EXPORT_STMT_CHANNEL_MESSAGES] = {
		"SELECT m.id, m.user_id, u.username, m.content, m.created_at, m.edited_at, m.deleted, m.reply_to "
		"FROM messages m JOIN users u ON u.id = m.user_id WHERE m.channel_id = ?1 AND m.id > ?2 "
		"ORDER BY m.id LIMIT 200" },
	[EXPORT_STMT_MESSAGE_REACTIONS] = {
		"SELECT r.emoji, r.user_id, u.username FROM reactions r JOIN users u ON u.id = r.user_id "
		"WHERE r.message_id = ?1 ORDER BY r.emoji, r.user_id" },
	[EXPORT_STMT_MESSAGE_FILES] = {
		"SELECT id, name, size, content_type FROM files WHERE message_id = ?1 ORDER BY id" },
};

/* One row of a section as a JSON object. */
typedef cJSON *(*row_fn)(struct pl_stmt *st);
/* Adds what a row needs from other tables (after its page was read). */
typedef int (*enrich_fn)(struct pl_db *db, cJSON *item, struct pl_err *err);

struct section {
	const char *name;       /* key in the document */
	enum export_stmt q;
	row_fn row;
	int key_text_col;       /* column of the second key (text), or -1 */
	enrich_fn enrich;       /* or NULL */
};

static void add_text(cJSON *o, const char *key, struct pl_stmt *st, int col)
{
	const char *s = pl_stmt_text(st, col);

	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_int_or_null(cJSON *o, const char *key, struct pl_stmt *st, int col)
{
	if (pl_stmt_null(st, col))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)pl_stmt_int64(st, col));
}

static void write_json(const struct pl_sink *out, const cJSON *v)
{
	char *s = pl_json_print(v);

	pl_sink_puts(out, s);
	free(s);
}

/* Reads one page of `s` after the key (*last, last_text) into `page`;
 * returns the number of rows, -1 on error. */
static int read_page(struct pl_db *db, const struct section *s, int64_t owner, int64_t *last,
		     const char *last_text, char *new_text, size_t text_len, cJSON *page,
		     struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &export_stmts[s->q], err);
	int step, n = 0;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, owner);
	pl_stmt_bind_int64(st, 2, *last);
	if (s->key_text_col >= 0)
		pl_stmt_bind_text(st, 3, last_text);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		cJSON_AddItemToArray(page, s->row(st));
		*last = pl_stmt_int64(st, 0);
		if (s->key_text_col >= 0)
			snprintf(new_text, text_len, "%s", pl_stmt_text(st, s->key_text_col));
		n++;
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "export %s: %s", s->name, pl_db_last_error(db));
	return n;
}

/* Writes `"name":[...]` with every row of section `s` for `owner`, a page
 * at a time. */
static int write_section(struct pl_db *db, const struct section *s, int64_t owner,
			 const struct pl_sink *out, struct pl_err *err)
{
	char last_text[256] = "", new_text[256] = "";
	int64_t last = 0;
	bool first = true;
	int n, rc = -1;

	pl_sink_puts(out, ",\"");
	pl_sink_puts(out, s->name);
	pl_sink_puts(out, "\":[");
	do {
		cJSON *page = cJSON_CreateArray(), *item;

		/* last_text stays bound while the page is read; the new key goes
		 * to new_text and is copied after. */
		n = read_page(db, s, owner, &last, last_text, new_text, sizeof(new_text), page, err);
		memcpy(last_text, new_text, sizeof(last_text));
		cJSON_ArrayForEach(item, page) {
			if (n >= 0 && s->enrich && s->enrich(db, item, err) < 0)
				n = -1;
			if (n < 0)
				break;
			if (!first)
				pl_sink_puts(out, ",");
			first = false;
			write_json(out, item);
		}
		cJSON_Delete(page);
		if (n < 0)
			goto out;
	} while (n == EXPORT_PAGE);
	pl_sink_puts(out, "]");
	rc = 0;
out:
	return rc;
}

/* ---- rows ---- */

static cJSON *membership_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "channel_id", (double)pl_stmt_int64(st, 0));
	add_text(o, "name", st, 1);
	add_text(o, "kind", st, 2);
	add_text(o, "role", st, 3);
	pl_json_add_time(o, "joined_at", pl_stmt_int64(st, 4));
	return o;
}

static cJSON *message_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	cJSON_AddNumberToObject(o, "channel_id", (double)pl_stmt_int64(st, 1));
	add_text(o, "channel_name", st, 2);
	add_text(o, "content", st, 3);
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 4));
	pl_json_add_time(o, "edited_at", pl_stmt_int64(st, 5));
	pl_json_add_id(o, "reply_to", pl_stmt_int64(st, 6));
	return o;
}

static cJSON *reaction_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "message_id", (double)pl_stmt_int64(st, 0));
	cJSON_AddNumberToObject(o, "channel_id", (double)pl_stmt_int64(st, 1));
	add_text(o, "emoji", st, 2);
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 3));
	return o;
}

static cJSON *file_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	add_text(o, "purpose", st, 1);
	add_text(o, "name", st, 2);
	cJSON_AddNumberToObject(o, "size", (double)pl_stmt_int64(st, 3));
	add_text(o, "content_type", st, 4);
	add_int_or_null(o, "width", st, 5);
	add_int_or_null(o, "height", st, 6);
	pl_json_add_id(o, "message_id", pl_stmt_int64(st, 7));
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 8));
	return o;
}

static cJSON *notification_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	add_text(o, "kind", st, 1);
	cJSON_AddNumberToObject(o, "message_id", (double)pl_stmt_int64(st, 2));
	cJSON_AddNumberToObject(o, "channel_id", (double)pl_stmt_int64(st, 3));
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 4));
	pl_json_add_time(o, "read_at", pl_stmt_int64(st, 5));
	return o;
}

static cJSON *thread_follow_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "message_id", (double)pl_stmt_int64(st, 0));
	cJSON_AddNumberToObject(o, "channel_id", (double)pl_stmt_int64(st, 1));
	cJSON_AddBoolToObject(o, "following", pl_stmt_int(st, 2) != 0);
	pl_json_add_time(o, "updated_at", pl_stmt_int64(st, 3));
	return o;
}

static cJSON *member_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "user_id", (double)pl_stmt_int64(st, 0));
	add_text(o, "username", st, 1);
	add_text(o, "role", st, 2);
	pl_json_add_time(o, "joined_at", pl_stmt_int64(st, 3));
	return o;
}

static cJSON *channel_message_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	cJSON_AddNumberToObject(o, "user_id", (double)pl_stmt_int64(st, 1));
	add_text(o, "username", st, 2);
	add_text(o, "content", st, 3);
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 4));
	pl_json_add_time(o, "edited_at", pl_stmt_int64(st, 5));
	cJSON_AddBoolToObject(o, "deleted", pl_stmt_int(st, 6) != 0);
	pl_json_add_id(o, "reply_to", pl_stmt_int64(st, 7));
	return o;
}

/* Adds `key`: [...] of the rows `q` gives for the message `item` names. */
static int add_list(struct pl_db *db, cJSON *item, enum export_stmt q, const char *key,
		    cJSON *(*row)(struct pl_stmt *), struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &export_stmts[q], err);
	cJSON *arr = cJSON_AddArrayToObject(item, key);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, (int64_t)cJSON_GetObjectItem(item, "id")->valuedouble);
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, row(st));
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "export %s: %s", key, pl_db_last_error(db));
	return 0;
}

static cJSON *msg_reaction_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	add_text(o, "emoji", st, 0);
	cJSON_AddNumberToObject(o, "user_id", (double)pl_stmt_int64(st, 1));
	add_text(o, "username", st, 2);
	return o;
}

static cJSON *msg_file_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	add_text(o, "name", st, 1);
	cJSON_AddNumberToObject(o, "size", (double)pl_stmt_int64(st, 2));
	add_text(o, "content_type", st, 3);
	return o;
}

static int enrich_message(struct pl_db *db, cJSON *item, struct pl_err *err)
{
	if (add_list(db, item, EXPORT_STMT_MESSAGE_REACTIONS, "reactions", msg_reaction_row, err) < 0)
		return -1;
	return add_list(db, item, EXPORT_STMT_MESSAGE_FILES, "attachments", msg_file_row, err);
}

static const struct section user_sections[] = {
	{ "memberships", EXPORT_STMT_MEMBERSHIPS, membership_row, -1, NULL },
	{ "messages", EXPORT_STMT_MESSAGES, message_row, -1, NULL },
	{ "reactions", EXPORT_STMT_REACTIONS, reaction_row, 2, NULL },
	{ "files", EXPORT_STMT_FILES, file_row, -1, NULL },
	{ "notifications", EXPORT_STMT_NOTIFICATIONS, notification_row, -1, NULL },
	{ "thread_follows", EXPORT_STMT_THREAD_FOLLOWS, thread_follow_row, -1, NULL },
};

static const struct section channel_sections[] = {
	{ "members", EXPORT_STMT_MEMBERS, member_row, -1, NULL },
	{ "messages", EXPORT_STMT_CHANNEL_MESSAGES, channel_message_row, -1, enrich_message },
};

/* `{"format":...,"exported_at":...,"<head_key>":<head>`, then each section, then `}`. */
static int write_document(struct pl_db *db, const char *format, const char *head_key, cJSON *head,
			  const struct section *sections, size_t n, int64_t owner,
			  const struct pl_sink *out, struct pl_err *err)
{
	cJSON *top = cJSON_CreateObject();
	char *s;
	size_t len;
	int rc = 0;

	cJSON_AddStringToObject(top, "format", format);
	pl_json_add_time(top, "exported_at", pl_now_ms());
	cJSON_AddItemToObject(top, head_key, head);
	s = pl_json_print(top);
	cJSON_Delete(top);
	len = strlen(s);
	out->write(out->arg, s, len - 1);   /* without the closing brace */
	free(s);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = write_section(db, &sections[i], owner, out, err);
	if (rc == 0)
		pl_sink_puts(out, "}\n");
	else
		pl_err_log("export of %s %lld stopped mid-document: %s", head_key, (long long)owner,
			   err->message);
	return rc;
}

int pl_export_user(struct pl_db *db, int64_t user_id, const struct pl_sink *out, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &export_stmts[EXPORT_STMT_USERNAME], err);
	cJSON *user;
	int64_t ignored;
	int found;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	if ((found = pl_db_step_id(db, st, &ignored, err)) < 0)
		return -1;
	if (found == 1)
		return pl_err_set(err, 404, "no such user");
	if (!(user = pl_user_json(db, user_id, true, err)))
		return -1;
	return write_document(db, "parley-user-export/1", "user", user, user_sections,
			      sizeof(user_sections) / sizeof(user_sections[0]), user_id, out, err);
}

static cJSON *channel_object(struct pl_db *db, int64_t channel_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &export_stmts[EXPORT_STMT_CHANNEL], err);
	cJSON *o = NULL;
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, channel_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
		add_text(o, "name", st, 1);
		add_text(o, "kind", st, 2);
		add_text(o, "topic", st, 3);
		pl_json_add_id(o, "created_by", pl_stmt_int64(st, 4));
		pl_json_add_time(o, "created_at", pl_stmt_int64(st, 5));
	} else if (step == PL_DONE)
		pl_err_set(err, 404, "no such channel");
	else
		pl_err_internal(err, "export channel: %s", pl_db_last_error(db));
	pl_db_done(st);
	return o;
}

int pl_export_channel(struct pl_db *db, int64_t channel_id, const struct pl_sink *out,
		      struct pl_err *err)
{
	cJSON *ch = channel_object(db, channel_id, err);

	if (!ch)
		return -1;
	return write_document(db, "parley-channel-export/1", "channel", ch, channel_sections,
			      sizeof(channel_sections) / sizeof(channel_sections[0]), channel_id, out, err);
}

int pl_export_user_allow(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			 char name[PL_EXPORT_NAME_LEN], struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &export_stmts[EXPORT_STMT_USERNAME], err);
	char subject[32], day[16];
	struct pl_rate rate;
	time_t now = time(NULL);
	struct tm tm;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		snprintf(name, PL_EXPORT_NAME_LEN, "%s", pl_stmt_text(st, 1));
	pl_db_done(st);
	if (step == PL_DONE)
		return pl_err_set(err, 401, "account no longer exists");
	if (step != PL_ROW)
		return pl_err_internal(err, "export user: %s", pl_db_last_error(db));
	snprintf(subject, sizeof(subject), "%lld", (long long)user_id);
	pl_rate_set(&rate, "export_user", subject, cfg->export_limit, cfg->export_window);
	/* no limit: no write either (a GET that writes nothing) */
	if (cfg->export_limit > 0 && pl_ratelimit_take(db, &rate, 1, pl_now_ms(), err) < 0)
		return -1;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	{
		char user[PL_USERNAME_MAX + 1];
		snprintf(user, sizeof(user), "%s", name);
		snprintf(name, PL_EXPORT_NAME_LEN, "parley-export-%s-%s.json", user, day);
	}
	return 0;
}
