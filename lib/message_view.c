/* message_view.c — the message object (message_view.h). */
#include "file_view.h"
#include "json.h"
#include "message_view.h"

static void add_reaction(void *arg, const struct pl_reaction *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "emoji", r->emoji);
	cJSON_AddNumberToObject(o, "count", (double)r->count);
	cJSON_AddBoolToObject(o, "me", r->me);
	cJSON_AddItemToArray(arg, o);
}

cJSON *pl_message_view(struct pl_db *db, const struct pl_message *m, int64_t viewer)
{
	cJSON *o = cJSON_CreateObject(), *reactions = cJSON_CreateArray();
	cJSON *attachments = cJSON_CreateArray();

	/* Constant keys (…CS): the keys are not copied, half the allocations
	 * of a history page. */
	cJSON_AddItemToObjectCS(o, "id", cJSON_CreateNumber((double)m->id));
	cJSON_AddItemToObjectCS(o, "channel_id", cJSON_CreateNumber((double)m->channel_id));
	cJSON_AddItemToObjectCS(o, "user_id", cJSON_CreateNumber((double)m->user_id));
	cJSON_AddItemToObjectCS(o, "username", cJSON_CreateString(m->username ? m->username : ""));
	cJSON_AddItemToObjectCS(o, "content",
				cJSON_CreateString(m->deleted || !m->content ? "" : m->content));
	pl_json_add_time(o, "created_at", m->created_at);
	pl_json_add_time(o, "edited_at", m->edited_at);
	cJSON_AddItemToObjectCS(o, "deleted", cJSON_CreateBool(m->deleted));
	pl_json_add_id(o, "reply_to", m->reply_to);
	cJSON_AddItemToObjectCS(o, "client_msg_id",
				m->client_msg_id ? cJSON_CreateString(m->client_msg_id) : cJSON_CreateNull());
	/* has_reactions is a primary-key probe: most messages have none, and
	 * it is far cheaper than the grouped list query. */
	if (!m->deleted && m->has_reactions)
		pl_message_reactions(db, m->id, viewer, add_reaction, reactions);
	cJSON_AddItemToObjectCS(o, "reactions", reactions);
	/* the same probe for files; a deleted message has none (detached) */
	if (m->has_attachments)
		pl_message_attachments(db, m->id, attachments);
	cJSON_AddItemToObjectCS(o, "attachments", attachments);
	cJSON_AddItemToObjectCS(o, "pinned", cJSON_CreateBool(m->pinned));
	cJSON_AddItemToObjectCS(o, "reply_count", cJSON_CreateNumber((double)m->reply_count));
	pl_json_add_time(o, "last_reply_at", m->last_reply_at);
	return o;
}

cJSON *pl_message_view_row(struct pl_db *db, struct pl_stmt *st, int64_t viewer)
{
	struct pl_message m;

	pl_message_row(st, &m);
	return pl_message_view(db, &m, viewer);
}

cJSON *pl_message_json(struct pl_db *db, int64_t viewer, int64_t id, struct pl_err *err)
{
	struct pl_message m;
	struct pl_stmt *st = pl_message_find(db, id, &m, err);
	cJSON *o;

	if (!st)
		return NULL;
	o = pl_message_view(db, &m, viewer);
	pl_db_done(st);
	return o;
}
