/* channel_view.c — the channel object (channel_view.h). */
#include "channel_view.h"
#include "json.h"

cJSON *pl_channel_view(const struct pl_channel *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)c->id);
	cJSON_AddStringToObject(o, "name", c->name ? c->name : "");
	cJSON_AddStringToObject(o, "kind", c->kind ? c->kind : "");
	cJSON_AddStringToObject(o, "topic", c->topic ? c->topic : "");
	pl_json_add_id(o, "created_by", c->created_by);
	pl_json_add_time(o, "created_at", c->created_at);
	cJSON_AddNumberToObject(o, "member_count", (double)c->member_count);
	if (c->role)
		cJSON_AddStringToObject(o, "role", c->role);
	else
		cJSON_AddNullToObject(o, "role");
	cJSON_AddNumberToObject(o, "unread_count", (double)c->unread_count);
	pl_json_add_id(o, "last_message_id", c->last_message_id);
	cJSON_AddBoolToObject(o, "archived", c->archived);
	return o;
}
