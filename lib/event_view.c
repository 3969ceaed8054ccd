/* event_view.c — what a user is shown of an event, at delivery (event_view.h). */
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "channels.h"
#include "event_view.h"
#include "log.h"
#include "message_view.h"
#include "notifications.h"
#include "util.h"

/* The "id" of the object under `key` in `obj`, 0 when there is none. */
static int64_t ref_id(const cJSON *obj, const char *key)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, key);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");

	return cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
}

/* The number under `key` in `obj`, 0 when there is none. */
static int64_t num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Puts `item` (owned; NULL = the subject is gone) under `key` of `obj`. */
static bool put(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
	return true;
}

/* Logs a database error (a missing subject, 404, is not one). */
static void note(const struct pl_event *ev, const struct pl_err *err)
{
	if (err->status >= 500)
		pl_err_log("event %lld (%s): %s: not delivered", (long long)ev->id, ev->type,
			   err->message);
}

static cJSON *current_message(struct pl_db *db, const struct pl_event *ev, int64_t id)
{
	struct pl_err err = { 0 };
	cJSON *m = id ? pl_message_json(db, ev->user_id, id, &err) : NULL;

	if (!m) {
		note(ev, &err);
		return NULL;
	}
	/* Belongs to the event's channel, or it is not the event's message. */
	if (ev->channel_id && num(m, "channel_id") != ev->channel_id) {
		cJSON_Delete(m);
		return NULL;
	}
	return m;
}

static cJSON *current_notification(struct pl_db *db, const struct pl_event *ev, int64_t id)
{
	struct pl_err err = { 0 };
	cJSON *n = id ? pl_notification_json(db, ev->user_id, id, &err) : NULL;
	const cJSON *m;

	if (!n) {
		note(ev, &err);
		return NULL;
	}
	m = cJSON_GetObjectItemCaseSensitive(n, "message");
	if (ev->channel_id && num(m, "channel_id") != ev->channel_id) {
		cJSON_Delete(n);
		return NULL;
	}
	return n;
}

static cJSON *current_channel(struct pl_db *db, const struct pl_event *ev)
{
	struct pl_err err = { 0 };
	cJSON *c = pl_channel_public_json(db, ev->channel_id, &err);

	if (!c)
		note(ev, &err);
	return c;
}

/* channel.deleted: the id and kind, nothing else of a channel that is gone. */
static cJSON *deleted_channel(const cJSON *obj, const struct pl_event *ev)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "channel"), "kind");
	cJSON *c = cJSON_CreateObject();

	cJSON_AddNumberToObject(c, "id", (double)ev->channel_id);
	if (cJSON_IsString(kind))
		cJSON_AddStringToObject(c, "kind", kind->valuestring);
	return c;
}

static bool is_presence(const struct pl_event *ev)
{
	return strcmp(ev->type, "presence") == 0;
}

/* Reads the current state of the event's subject into v->cut[FULL] (and
 * NO_CHANNEL), or marks it gone. */
static void render(struct pl_db *db, struct pl_event_view *v)
{
	const struct pl_event *ev = v->ev;
	cJSON *obj;
	bool ok = true;

	v->rendered = true;
	if (!(obj = pl_event_render(ev))) {
		pl_err_log("event %lld (%s) has an unreadable payload: skipped", (long long)ev->id,
			   ev->type);
		v->gone = true;
		return;
	}
	if (strncmp(ev->type, "message.", 8) == 0 || strcmp(ev->type, "thread.updated") == 0)
		ok = put(obj, "message", current_message(db, ev, ref_id(obj, "message")));
	else if (strcmp(ev->type, "notification") == 0)
		ok = put(obj, "notification", current_notification(db, ev, ref_id(obj, "notification")));
	else if (strcmp(ev->type, "channel.created") == 0 || strcmp(ev->type, "channel.updated") == 0)
		ok = put(obj, "channel", current_channel(db, ev));
	else if (strcmp(ev->type, "channel.deleted") == 0)
		ok = put(obj, "channel", deleted_channel(obj, ev));
	if (!ok) {
		cJSON_Delete(obj);
		v->gone = true;
		return;
	}
	v->cut[PL_EVENT_FULL] = obj;
	if (is_presence(ev) && ev->channel_id) {
		v->cut[PL_EVENT_NO_CHANNEL] = cJSON_Duplicate(obj, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(v->cut[PL_EVENT_NO_CHANNEL], "channel_id");
	}
}

void pl_event_view_init(struct pl_event_view *v, const struct pl_event *ev, bool many)
{
	memset(v, 0, sizeof(*v));
	v->ev = ev;
	v->many = many;
	pl_event_audience_init(&v->audience, ev);
}

/* Whether `user_id` is a member of the channel a presence event names. */
static bool member_of_named(struct pl_db *db, struct pl_event_view *v, int64_t user_id)
{
	if (!v->many)
		return pl_channel_is_member(db, user_id, v->ev->channel_id);
	if (!v->members.ev)
		pl_event_audience_init_channel(&v->members, v->ev->channel_id);
	return pl_event_audience_has(db, &v->members, user_id);
}

static enum pl_event_cut cut_of(struct pl_db *db, struct pl_event_view *v, int64_t user_id)
{
	bool visible = v->many ? pl_event_audience_has(db, &v->audience, user_id)
			       : pl_event_visible(db, user_id, v->ev);

	if (!visible)
		return PL_EVENT_HIDDEN;
	if (!v->rendered)
		render(db, v);
	if (v->gone)
		return PL_EVENT_HIDDEN;
	if (is_presence(v->ev) && v->ev->channel_id && !member_of_named(db, v, user_id))
		return PL_EVENT_NO_CHANNEL;
	return PL_EVENT_FULL;
}

/* The callees answer "no" or "gone" on a database error; the connection's
 * error count tells such a "no" from a true one. */
enum pl_event_cut pl_event_view_cut(struct pl_db *db, struct pl_event_view *v, int64_t user_id)
{
	uint64_t errors = pl_db_error_count(db);
	enum pl_event_cut cut = cut_of(db, v, user_id);

	if (pl_db_error_count(db) != errors)
		v->failed = true;
	return v->failed ? PL_EVENT_HIDDEN : cut;
}

const cJSON *pl_event_view_object(struct pl_db *db, struct pl_event_view *v, enum pl_event_cut cut)
{
	uint64_t errors = pl_db_error_count(db);

	if (cut != PL_EVENT_FULL && cut != PL_EVENT_NO_CHANNEL)
		return NULL;
	if (!v->rendered)
		render(db, v);
	if (pl_db_error_count(db) != errors)
		v->failed = true;
	return v->gone || v->failed ? NULL : v->cut[cut];
}

void pl_event_view_release(struct pl_event_view *v)
{
	for (size_t i = 0; i < sizeof(v->cut) / sizeof(v->cut[0]); i++)
		cJSON_Delete(v->cut[i]);
	pl_event_audience_release(&v->audience);
	if (v->members.ev)
		pl_event_audience_release(&v->members);
	memset(v, 0, sizeof(*v));
}

int pl_events_collect(struct pl_db *db, int64_t user_id, int64_t *cursor, size_t max,
		      int64_t now_ms, cJSON *out, size_t *read_n, struct pl_err *err)
{
	struct pl_event *buf = pl_xcalloc(max ? max : 1, sizeof(*buf));
	size_t n = 0;
	int added = 0;

	if (read_n)
		*read_n = 0;
	if (pl_events_after(db, *cursor, max, buf, &n, err) < 0) {
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pl_event *ev = &buf[i];
		bool stale = pl_event_ephemeral(ev) &&
			     now_ms - ev->created_at > PL_EVENT_TYPING_STALE_MS;

		if (!stale) {
			struct pl_event_view v;
			const cJSON *obj;

			bool failed;

			pl_event_view_init(&v, ev, false);
			obj = pl_event_view_object(db, &v, pl_event_view_cut(db, &v, user_id));
			if (obj) {
				cJSON_AddItemToArray(out, cJSON_Duplicate(obj, 1));
				added++;
			}
			failed = v.failed;
			pl_event_view_release(&v);
			if (failed) {
				/* the cursor stays before this event: asked again next time */
				for (size_t j = i; j < n; j++)
					pl_event_release(&buf[j]);
				n = i;
				if (added == 0) {
					free(buf);
					return pl_err_set(err, 503, "database unavailable, retry");
				}
				break;
			}
		}
		*cursor = ev->id;
		pl_event_release(&buf[i]);
	}
	free(buf);
	if (read_n)
		*read_n = n;
	return added;
}
