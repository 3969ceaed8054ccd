/* file_view.c — the file object (file_view.h). */
#include <stdio.h>
#include "file_view.h"
#include "json.h"
#include "log.h"

enum file_view_stmt { FILE_VIEW_STMT_OF_MESSAGE, FILE_VIEW_STMT__MAX };

static const struct pl_sql file_view_stmts[FILE_VIEW_STMT__MAX] = {
	[FILE_VIEW_STMT_OF_MESSAGE] = { PL_FILE_COLUMNS "WHERE f.message_id = ?1 ORDER BY f.id" },
};

void pl_file_row(struct pl_stmt *st, struct pl_file *f)
{
	f->id = pl_stmt_int64(st, 0);
	f->user_id = pl_stmt_int64(st, 1);
	f->purpose = pl_stmt_text(st, 2);
	f->name = pl_stmt_text(st, 3);
	f->size = pl_stmt_int64(st, 4);
	f->content_type = pl_stmt_text(st, 5);
	f->sha256 = pl_stmt_text(st, 6);
	f->width = pl_stmt_int(st, 7);
	f->height = pl_stmt_int(st, 8);
	f->thumb_sha256 = pl_stmt_null(st, 9) ? NULL : pl_stmt_text(st, 9);
	f->message_id = pl_stmt_int64(st, 10);
	f->created_at = pl_stmt_int64(st, 11);
}

cJSON *pl_file_view(const struct pl_file *f)
{
	cJSON *o = cJSON_CreateObject();
	char url[64];

	cJSON_AddItemToObjectCS(o, "id", cJSON_CreateNumber((double)f->id));
	cJSON_AddItemToObjectCS(o, "name", cJSON_CreateString(f->name ? f->name : ""));
	cJSON_AddItemToObjectCS(o, "size", cJSON_CreateNumber((double)f->size));
	cJSON_AddItemToObjectCS(o, "content_type", cJSON_CreateString(f->content_type ? f->content_type : ""));
	cJSON_AddItemToObjectCS(o, "sha256", cJSON_CreateString(f->sha256 ? f->sha256 : ""));
	pl_json_add_time(o, "created_at", f->created_at);
	snprintf(url, sizeof(url), "/api/files/%lld", (long long)f->id);
	cJSON_AddItemToObjectCS(o, "url", cJSON_CreateString(url));
	if (f->width > 0 && f->height > 0) {
		cJSON_AddItemToObjectCS(o, "width", cJSON_CreateNumber(f->width));
		cJSON_AddItemToObjectCS(o, "height", cJSON_CreateNumber(f->height));
	}
	if (f->thumb_sha256) {
		snprintf(url, sizeof(url), "/api/files/%lld/thumbnail", (long long)f->id);
		cJSON_AddItemToObjectCS(o, "thumbnail_url", cJSON_CreateString(url));
	}
	return o;
}

int pl_message_attachments(struct pl_db *db, int64_t message_id, cJSON *out)
{
	struct pl_stmt *st = pl_db_prepare(db, &file_view_stmts[FILE_VIEW_STMT_OF_MESSAGE], NULL);
	struct pl_file f;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		pl_file_row(st, &f);
		cJSON_AddItemToArray(out, pl_file_view(&f));
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		pl_err_log("attachments of message %lld: %s", (long long)message_id, pl_db_last_error(db));
		return -1;
	}
	return 0;
}
