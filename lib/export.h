/*
 * export.h — data export (GDPR-style takeout and the operator's channel
 * archive): one JSON document (RFC 8259) written piece by piece to a sink
 * (sink.h) — the FastCGI/CGI output or a file — never built as one tree:
 * rows are read a page (EXPORT_PAGE rows) at a time, each page's
 * statement finished before anything is written, one cJSON object per
 * row. Each section is read as of the moment it is read (no snapshot
 * across the whole document). A database error after the document began
 * stops it (logged; the output is then not valid JSON, so a client sees
 * the failure). What a user's export may hold follows lib/authz.h:
 * messages, reactions and notifications only in channels the user can
 * read now.
 *
 * User document ("format": "parley-user-export/1"): exported_at, user
 * (the owner's view), memberships [{channel_id, name, kind, role,
 * joined_at}], messages [{id, channel_id, channel_name, content,
 * created_at, edited_at, reply_to}] (not deleted ones), reactions
 * [{message_id, channel_id, emoji, created_at}], files [{id, purpose,
 * name, size, content_type, width, height, message_id, created_at}],
 * notifications [{id, kind, message_id, channel_id, created_at, read_at}],
 * thread_follows [{message_id, channel_id, following, updated_at}] (threads.h).
 *
 * Channel document ("format": "parley-channel-export/1"): exported_at,
 * channel {id, name, kind, topic, created_by, created_at}, members
 * [{user_id, username, role, joined_at}], messages [{id, user_id,
 * username, content, created_at, edited_at, deleted, reply_to, reactions
 * [{emoji, user_id, username}], attachments [{id, name, size,
 * content_type}]}].
 */
#ifndef PL_EXPORT_H
#define PL_EXPORT_H

#include <stdint.h>
#include "config.h"
#include "db.h"
#include "err.h"
#include "sink.h"

#define PL_EXPORT_NAME_LEN 96   /* bytes of an export's file name, with its NUL */

/*
 * pl_export_user_allow: the checks before GET /api/users/me/export sends
 * anything: counts one export of `user_id` against export_limit per
 * export_window, and writes the download's file name
 * "parley-export-<username>-<YYYY-MM-DD>.json" (UTC date; usernames are
 * [A-Za-z0-9_.-] only) into `name`. Returns 0, or -1 with `err` = 429
 * (retry_after set), 401 (no such live account), 500.
 */
int pl_export_user_allow(struct pl_db *db, const struct pl_config *cfg, int64_t user_id,
			 char name[PL_EXPORT_NAME_LEN], struct pl_err *err);

/*
 * pl_export_user: writes the user document of `user_id` to `out` (layout
 * above). Nothing is written when the user cannot be loaded. Returns 0,
 * or -1 with `err` (404 no such live user before anything was written;
 * 500 — maybe mid-document).
 */
int pl_export_user(struct pl_db *db, int64_t user_id, const struct pl_sink *out, struct pl_err *err);

/*
 * pl_export_channel: writes the channel document of `channel_id` to
 * `out`, every message included (an operator's tool: no authorization
 * here). Returns 0, or -1 with `err` (404 before anything was written;
 * 500 — maybe mid-document).
 */
int pl_export_channel(struct pl_db *db, int64_t channel_id, const struct pl_sink *out,
		      struct pl_err *err);

#endif
