/* user_view.c — the user object (user_view.h). */
#include "json.h"
#include "user_view.h"

cJSON *pl_user_view(const struct pl_user *u, bool self)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)u->id);
	cJSON_AddStringToObject(o, "username", u->username);
	cJSON_AddStringToObject(o, "display_name", u->display_name);
	cJSON_AddStringToObject(o, "bio", u->bio);
	cJSON_AddStringToObject(o, "avatar_url", u->avatar_url);
	cJSON_AddStringToObject(o, "status_text", u->status_text);
	pl_json_add_time(o, "created_at", u->created_at);
	cJSON_AddBoolToObject(o, "bot", u->is_bot);
	if (self) {
		if (u->email)
			cJSON_AddStringToObject(o, "email", u->email);
		else
			cJSON_AddNullToObject(o, "email");
		cJSON_AddBoolToObject(o, "email_verified", u->email_verified);
		if (u->phone)
			cJSON_AddStringToObject(o, "phone", u->phone);
		else
			cJSON_AddNullToObject(o, "phone");
		cJSON_AddBoolToObject(o, "phone_verified", u->phone_verified);
		cJSON_AddBoolToObject(o, "mention_mail", u->mention_mail);
		cJSON_AddBoolToObject(o, "server_admin", u->server_admin);
	}
	return o;
}

cJSON *pl_user_json(struct pl_db *db, int64_t user_id, bool self, struct pl_err *err)
{
	struct pl_user u;
	cJSON *o;

	if (pl_user_load(db, user_id, &u, err) != 0)
		return NULL;
	o = pl_user_view(&u, self);
	pl_user_release(&u);
	return o;
}
