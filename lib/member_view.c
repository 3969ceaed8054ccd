/* member_view.c — the member object (member_view.h). */
#include "json.h"
#include "member_view.h"
#include "user_view.h"

cJSON *pl_member_view(const struct pl_member *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *u;

	if (m->found) {
		u = pl_user_view(&m->user, false);
	} else {  /* what is left of an account whose row is gone */
		u = cJSON_CreateObject();
		cJSON_AddNumberToObject(u, "id", (double)m->user_id);
		cJSON_AddStringToObject(u, "username", "");
	}
	cJSON_AddItemToObject(o, "user", u);
	cJSON_AddStringToObject(o, "role", m->role);
	pl_json_add_time(o, "joined_at", m->joined_at);
	return o;
}
