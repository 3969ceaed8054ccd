/*
 * file_view.h — the file object of the contract (API.md "Files"):
 * {"id","name","size","content_type","sha256","created_at","url",
 *  "width"?,"height"?,"thumbnail_url"?}.
 */
#ifndef PL_FILE_VIEW_H
#define PL_FILE_VIEW_H

#include <cjson/cJSON.h>
#include "db.h"
#include "file.h"

/* pl_file_view: a new file object for `f` (the caller owns it). */
cJSON *pl_file_view(const struct pl_file *f);

/*
 * pl_message_attachments: appends the file objects attached to message
 * `message_id` to the array `out`, oldest upload first. Returns 0, or -1
 * on a database error (logged; what was added stays).
 */
int pl_message_attachments(struct pl_db *db, int64_t message_id, cJSON *out);

#endif
