/*
 * files.h — uploaded files as rows: creating one for stored bytes (with the
 * per-user quota), finding one, attaching files to a message and detaching
 * them, and collecting what nothing uses. The bytes are blob.h's; who may
 * read a file is authz.h's (pl_authz_file). Rules (docs/DECISIONS.md,
 * "Files"):
 * - A message may carry files its poster uploaded as attachments and has
 *   not attached to any message yet (at most PL_ATTACHMENTS_MAX).
 * - Deleting the message detaches its files; an attachment no message
 *   carries is collected (pl_files_prune) once older than the grace period.
 */
#ifndef PL_FILES_H
#define PL_FILES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blob.h"
#include "db.h"
#include "err.h"
#include "file.h"

#define PL_ATTACHMENTS_MAX 10
#define PL_FILE_NAME_MAX 255      /* bytes of a file's name */
#define PL_FILES_GRACE_S 86400    /* an unattached upload is kept this long */

/* What one upload stored (blob.h) and is about to become a row. */
struct pl_file_new {
	const char *purpose;        /* "attachment" or "avatar" */
	const char *name;           /* pl_file_name_clean'ed */
	uint64_t size;
	const char *content_type;
	char sha256[PL_SHA256_HEX];
	int width, height;          /* 0 when not an image */
	const char *thumb_sha256;   /* NULL when none */
};

/*
 * pl_file_name_clean: the name to keep for an uploaded file: the part of
 * `given` after its last '/' or '\' (browsers once sent whole paths),
 * trimmed; `fallback` when that is empty. Writes into `out` (`len` bytes).
 * Returns 0, or -1 with `err` (400: not UTF-8, control or bidirectional
 * characters, longer than PL_FILE_NAME_MAX bytes).
 */
int pl_file_name_clean(const char *given, const char *fallback, char *out, size_t len,
		       struct pl_err *err);

/*
 * pl_files_used: bytes of all files `user_id` uploaded (what the quota
 * counts). Returns 0 with *bytes set, or -1 with `err` (500).
 */
int pl_files_used(struct pl_db *db, int64_t user_id, int64_t *bytes, struct pl_err *err);

/*
 * pl_file_create: records `in` as `user_id`'s upload, in one transaction
 * with the quota check (`quota` bytes in all, 0 = none). *out receives the
 * file object (caller frees), *id (may be NULL) its id. Returns 0, or -1
 * with `err` (413 over the quota, 500).
 */
int pl_file_create(struct pl_db *db, int64_t user_id, const struct pl_file_new *in, uint64_t quota,
		   cJSON **out, int64_t *id, struct pl_err *err);

/*
 * pl_file_insert_locked: the row of pl_file_create without its
 * transaction or quota (inside the caller's transaction); *id receives its
 * id. Returns 0, or -1 with `err` (500).
 */
int pl_file_insert_locked(struct pl_db *db, int64_t user_id, const struct pl_file_new *in, int64_t *id,
			  struct pl_err *err);

/*
 * pl_file_find: reads file `id` into `f`. Returns the statement positioned
 * on its row (the strings of `f` live until pl_db_done on it, which the
 * caller must call), or NULL with `err` (404, 500). Decides nothing about
 * access: ask pl_authz_file.
 */
struct pl_stmt *pl_file_find(struct pl_db *db, int64_t id, struct pl_file *f, struct pl_err *err);

/*
 * pl_files_attach_locked: attaches files `ids` (`n`, at most
 * PL_ATTACHMENTS_MAX, no duplicates) to `message_id`, inside the caller's
 * transaction. Returns 0, or -1 with `err` (400: one is not an unattached
 * attachment `user_id` uploaded; the caller rolls back).
 */
int pl_files_attach_locked(struct pl_db *db, int64_t user_id, int64_t message_id,
			   const int64_t *ids, size_t n, struct pl_err *err);

/* pl_files_detach_locked: detaches every file of `message_id`, inside the
 * caller's transaction. Returns 0, or -1 with `err` (500). */
int pl_files_detach_locked(struct pl_db *db, int64_t message_id, struct pl_err *err);

/*
 * pl_files_collect: deletes up to `limit` rows of attachments no message
 * carries that are older than `grace_s` seconds and of avatars no user
 * names any more (replaced, cleared, erased: at once), and the blobs (and
 * previews) no other row names. Needs files_dir's exclusive lock
 * (blob.h) and does not wait for it: busy, it does nothing this time.
 * *rows, *bytes (may be NULL) receive what went. Returns 0, or -1 with
 * `err` (500).
 */
int pl_files_collect(struct pl_db *db, const char *files_dir, int64_t grace_s, int limit,
		     int64_t *rows, int64_t *bytes, struct pl_err *err);

/*
 * pl_files_sweep: removes the blobs under `files_dir` that no row names
 * and that are older than `grace_s` seconds (left by an upload whose row
 * was never written: a crash between the two), and stale upload files
 * (pl_blob_prune). *blobs, *bytes (may be NULL) receive what went.
 * Returns 0, or -1 with `err`.
 */
int pl_files_sweep(struct pl_db *db, const char *files_dir, int64_t grace_s,
		   int64_t *blobs, int64_t *bytes, struct pl_err *err);

#endif
