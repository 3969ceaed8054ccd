/* presence_view.c — a presence entry (presence_view.h). */
#include "json.h"
#include "presence_view.h"

cJSON *pl_presence_view(const struct pl_presence_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "user_id", (double)e->user_id);
	cJSON_AddStringToObject(o, "username", e->username ? e->username : "");
	pl_json_add_id(o, "channel_id", e->channel_id);
	cJSON_AddBoolToObject(o, "online", e->online);
	cJSON_AddStringToObject(o, "status", e->status ? e->status : "online");
	pl_json_add_time(o, "last_seen", e->last_seen);
	return o;
}
