/* files.c — uploaded files as rows (files.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "file_view.h"
#include "files.h"
#include "log.h"
#include "util.h"

enum files_stmt {
	FILES_STMT_USED,
	FILES_STMT_INSERT,
	FILES_STMT_BY_ID,
	FILES_STMT_ATTACH,
	FILES_STMT_DETACH,
	FILES_STMT_UNUSED,
	FILES_STMT_DELETE_UNUSED,
	FILES_STMT_SHA_IN_USE,
	FILES_STMT__MAX
};

static const struct pl_sql files_stmts[FILES_STMT__MAX] = {
	[FILES_STMT_USED] = { "SELECT CAST(coalesce(sum(size), 0) AS bigint) FROM files WHERE user_id = ?1" },
	[FILES_STMT_INSERT] = {
		"INSERT INTO files (user_id, purpose, name, size, content_type, sha256, width, height, "
		"thumb_sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" },
	[FILES_STMT_BY_ID] = { PL_FILE_COLUMNS "WHERE f.id = ?1" },
	[FILES_STMT_ATTACH] = {
		"UPDATE files SET message_id = ?2 WHERE id = ?1 AND user_id = ?3 "
		"AND purpose = 'attachment' AND message_id IS NULL" },
	[FILES_STMT_DETACH] = { "UPDATE files SET message_id = NULL WHERE message_id = ?1" },
	[FILES_STMT_UNUSED] = {
		"SELECT id, sha256, thumb_sha256 FROM files WHERE purpose = 'attachment' "
		"AND message_id IS NULL AND created_at < ?1 "
		"UNION ALL "
		"SELECT f.id, f.sha256, f.thumb_sha256 FROM files f WHERE f.purpose = 'avatar' "
		"AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = f.user_id "
		"AND u.avatar_url = '/api/files/' || f.id) "
		"ORDER BY 1 LIMIT ?2" },
	/* an avatar is never named again once its user moved on (avatar_url
	 * takes only http(s) URLs from clients) */
	[FILES_STMT_DELETE_UNUSED] = { "DELETE FROM files WHERE id = ?1 AND message_id IS NULL" },
	[FILES_STMT_SHA_IN_USE] = {
		"SELECT EXISTS (SELECT 1 FROM files WHERE sha256 = ?1) "
		"OR EXISTS (SELECT 1 FROM files WHERE thumb_sha256 = ?1)" },
};

int pl_file_name_clean(const char *given, const char *fallback, char *out, size_t len,
		       struct pl_err *err)
{
	const char *base = given ? given : "";
	const char *slash;
	char *trimmed;
	size_t n;
	int rc = 0;

	while ((slash = strpbrk(base, "/\\")) != NULL)
		base = slash + 1;
	trimmed = pl_trim(base);
	if (!*trimmed) {
		free(trimmed);
		trimmed = pl_xstrdup(fallback);
	}
	n = strlen(trimmed);
	if (n > PL_FILE_NAME_MAX || n >= len || !pl_utf8_valid(trimmed, n, NULL))
		rc = pl_err_set(err, 400, "a file name must be UTF-8 of at most %d bytes", PL_FILE_NAME_MAX);
	else if (pl_text_forbidden(trimmed, 0, NULL) != 0)
		rc = pl_err_set(err, 400, "a file name must not contain control or bidirectional "
				"formatting characters");
	else
		memcpy(out, trimmed, n + 1);
	free(trimmed);
	return rc;
}

int pl_files_used(struct pl_db *db, int64_t user_id, int64_t *bytes, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &files_stmts[FILES_STMT_USED], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	return pl_db_step_id(db, st, bytes, err);
}

int pl_file_insert_locked(struct pl_db *db, int64_t user_id, const struct pl_file_new *in, int64_t *id,
			   struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &files_stmts[FILES_STMT_INSERT], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, in->purpose);
	pl_stmt_bind_text(st, 3, in->name);
	pl_stmt_bind_int64(st, 4, (int64_t)in->size);
	pl_stmt_bind_text(st, 5, in->content_type);
	pl_stmt_bind_text(st, 6, in->sha256);
	if (in->width > 0 && in->height > 0) {
		pl_stmt_bind_int(st, 7, in->width);
		pl_stmt_bind_int(st, 8, in->height);
	}
	if (in->thumb_sha256)
		pl_stmt_bind_text(st, 9, in->thumb_sha256);
	pl_stmt_bind_int64(st, 10, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*id = pl_db_last_id(db);
	return 0;
}

struct pl_stmt *pl_file_find(struct pl_db *db, int64_t id, struct pl_file *f, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &files_stmts[FILES_STMT_BY_ID], err);
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, id);
	if ((step = pl_stmt_step(st)) == PL_ROW) {
		pl_file_row(st, f);
		return st;
	}
	if (step == PL_DONE)
		pl_err_set(err, 404, "no such file");
	else
		pl_err_internal(err, "file %lld: %s", (long long)id, pl_db_last_error(db));
	pl_db_done(st);
	return NULL;
}

int pl_file_create(struct pl_db *db, int64_t user_id, const struct pl_file_new *in, uint64_t quota,
		   cJSON **out, int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = NULL;
	struct pl_file f;
	int64_t used = 0, new_id = 0;
	int rc = -1;

	*out = NULL;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (quota > 0) {
		if (pl_files_used(db, user_id, &used, err) < 0)
			goto out;
		if ((uint64_t)used + in->size > quota) {
			pl_err_set(err, 413, "this upload would pass your quota of %llu bytes (%lld used)",
				   (unsigned long long)quota, (long long)used);
			goto out;
		}
	}
	if (pl_file_insert_locked(db, user_id, in, &new_id, err) < 0 ||
	    !(st = pl_file_find(db, new_id, &f, err)))
		goto out;
	*out = pl_file_view(&f);
	pl_db_done(st);
	if (id)
		*id = new_id;
	rc = 0;
out:
	if ((rc = pl_db_end(db, rc, err)) < 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int pl_files_attach_locked(struct pl_db *db, int64_t user_id, int64_t message_id,
			   const int64_t *ids, size_t n, struct pl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct pl_stmt *st = pl_db_prepare(db, &files_stmts[FILES_STMT_ATTACH], err);
		if (!st)
			return -1;
		pl_stmt_bind_int64(st, 1, ids[i]);
		pl_stmt_bind_int64(st, 2, message_id);
		pl_stmt_bind_int64(st, 3, user_id);
		if (pl_db_step_done(db, st, err) < 0)
			return -1;
		if (pl_db_changes(db) != 1)
			return pl_err_set(err, 400, "attachment %lld is not a file you uploaded and have not "
					  "attached yet", (long long)ids[i]);
	}
	return 0;
}

int pl_files_detach_locked(struct pl_db *db, int64_t message_id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &files_stmts[FILES_STMT_DETACH], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, message_id);
	return pl_db_step_done(db, st, err);
}

struct prune_ctx {
	struct pl_db *db;
};

static int sha_in_use(void *arg, const char *sha256)
{
	struct prune_ctx *pc = arg;
	struct pl_stmt *st = pl_db_prepare(pc->db, &files_stmts[FILES_STMT_SHA_IN_USE], NULL);
	int used;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, sha256);
	used = pl_stmt_step(st) == PL_ROW ? pl_stmt_int(st, 0) != 0 : -1;
	pl_db_done(st);
	return used;
}

/* One unused row to delete (strings copied: owned). */
struct unused {
	int64_t id;
	char sha256[PL_SHA256_HEX];
	char thumb[PL_SHA256_HEX];
};

static int load_unused(struct pl_db *db, int64_t grace_s, int limit, struct unused **out, size_t *n,
		       struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &files_stmts[FILES_STMT_UNUSED], err);
	struct unused *v = NULL;
	size_t k = 0;
	int step;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, pl_now_ms() - grace_s * 1000);
	pl_stmt_bind_int(st, 2, limit);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		v = pl_xrealloc(v, (k + 1) * sizeof(*v));
		v[k].id = pl_stmt_int64(st, 0);
		snprintf(v[k].sha256, sizeof(v[k].sha256), "%s", pl_stmt_text(st, 1));
		snprintf(v[k].thumb, sizeof(v[k].thumb), "%s",
			 pl_stmt_null(st, 2) ? "" : pl_stmt_text(st, 2));
		k++;
	}
	pl_db_done(st);
	if (step != PL_DONE) {
		free(v);
		return pl_err_internal(err, "unused files: %s", pl_db_last_error(db));
	}
	*out = v;
	*n = k;
	return 0;
}

/* Removes blob `sha256` when no row names it any more. */
static int release_blob(struct pl_db *db, const char *files_dir, const char *sha256, int64_t *bytes)
{
	struct prune_ctx pc = { db };
	int64_t b = 0;
	int used;

	if (!sha256[0])
		return 0;
	if ((used = sha_in_use(&pc, sha256)) != 0)
		return used < 0 ? -1 : 0;
	if (pl_blob_remove(files_dir, sha256, &b) < 0)
		return -1;
	*bytes += b;
	return 0;
}

int pl_files_collect(struct pl_db *db, const char *files_dir, int64_t grace_s, int limit,
		     int64_t *rows, int64_t *bytes, struct pl_err *err)
{
	struct unused *v = NULL;
	int64_t nrows = 0, nbytes = 0;
	size_t n = 0;
	int lock = pl_blob_lock(files_dir, true, false), rc = -1;

	if (lock < 0) {   /* an upload or another collector has it: next time */
		rc = 0;
		goto out;
	}
	if (load_unused(db, grace_s, limit, &v, &n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct pl_stmt *st = pl_db_prepare(db, &files_stmts[FILES_STMT_DELETE_UNUSED], err);
		if (!st)
			goto out;
		pl_stmt_bind_int64(st, 1, v[i].id);
		if (pl_db_step_done(db, st, err) < 0)
			goto out;
		if (pl_db_changes(db) != 1)
			continue;   /* attached meanwhile */
		nrows++;
		if (release_blob(db, files_dir, v[i].sha256, &nbytes) < 0 ||
		    release_blob(db, files_dir, v[i].thumb, &nbytes) < 0) {
			pl_err_internal(err, "could not release the bytes of file %lld", (long long)v[i].id);
			goto out;
		}
	}
	rc = 0;
out:
	pl_blob_unlock(lock);
	free(v);
	if (rows)
		*rows = nrows;
	if (bytes)
		*bytes = nbytes;
	return rc;
}

int pl_files_sweep(struct pl_db *db, const char *files_dir, int64_t grace_s,
		   int64_t *blobs, int64_t *bytes, struct pl_err *err)
{
	struct prune_ctx pc = { db };

	return pl_blob_prune(files_dir, grace_s, sha_in_use, &pc, blobs, bytes, err);
}
