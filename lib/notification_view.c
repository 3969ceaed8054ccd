/* notification_view.c — the notification object (notification_view.h). */
#include "json.h"
#include "notification_view.h"

cJSON *pl_notification_view(const struct pl_notification *n, cJSON *message)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)n->id);
	cJSON_AddStringToObject(o, "kind", n->kind ? n->kind : "");
	cJSON_AddItemToObject(o, "message", message);
	pl_json_add_time(o, "created_at", n->created_at);
	cJSON_AddBoolToObject(o, "read", n->read);
	return o;
}
