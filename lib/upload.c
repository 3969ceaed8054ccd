/* upload.c — one file from a request body into a blob (upload.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "multipart.h"
#include "thumb.h"
#include "upload.h"
#include "util.h"

#define CHUNK 65536

/* The multipart callbacks' state. */
struct receiving {
	struct pl_blob_writer *w;
	struct pl_upload *up;
	bool in_file;       /* the current part is the file */
	bool got_file;      /* a part named "file" was seen */
};

static int part_begin(void *arg, const struct pl_mp_part *part, struct pl_err *err)
{
	struct receiving *r = arg;

	r->in_file = strcmp(part->name, "file") == 0;
	if (!r->in_file)
		return 0;
	if (r->got_file)
		return pl_err_set(err, 400, "send one part named \"file\" per upload");
	r->got_file = true;
	return pl_file_name_clean(part->filename, "file", r->up->name, sizeof(r->up->name), err);
}

static int part_data(void *arg, const char *buf, size_t n, struct pl_err *err)
{
	struct receiving *r = arg;

	return r->in_file ? pl_blob_write(r->w, buf, n, err) : 0;
}

static int part_end(void *arg, struct pl_err *err)
{
	((struct receiving *)arg)->in_file = false;
	return 0;
}

static const struct pl_mp_callbacks callbacks = { part_begin, part_data, part_end };

/* Pulls the whole body through `feed` (the blob or the multipart reader). */
static int pump(struct pl_request *req, int (*feed)(void *, const char *, size_t, struct pl_err *),
		void *arg, struct pl_err *err)
{
	char *buf = pl_xmalloc(CHUNK);
	long n;
	int rc = 0;

	while (rc == 0 && (n = pl_request_read(req, buf, CHUNK)) != 0) {
		if (n < 0)
			rc = pl_err_set(err, 400, "the upload ended before its Content-Length");
		else
			rc = feed(arg, buf, (size_t)n, err);
	}
	free(buf);
	return rc;
}

static int feed_blob(void *arg, const char *buf, size_t n, struct pl_err *err)
{
	return pl_blob_write(arg, buf, n, err);
}

static int feed_multipart(void *arg, const char *buf, size_t n, struct pl_err *err)
{
	return pl_multipart_feed(arg, buf, n, err);
}

/* An attachment that is an image gets its size and a preview (thumb.h);
 * one that cannot be read gets neither and is stored all the same. */
static int make_preview(struct pl_blob_writer *w, struct pl_upload *up, struct pl_thumb *small,
			struct pl_err *err)
{
	if (!pl_image_type(up->content_type))
		return 0;
	if (pl_thumb_make(pl_blob_fd(w), up->content_type, PL_THUMB_SIDE, PL_THUMB_MAX_PIXELS,
			  small, err) < 0)
		return -1;
	up->file.width = small->width;
	up->file.height = small->height;
	return 0;
}

/* An avatar must be an image that can be read: kept as a square-bounded
 * PNG of PL_AVATAR_SIDE pixels and a PL_AVATAR_SMALL one as its preview. */
static int make_avatar(struct pl_blob_writer *w, struct pl_upload *up, struct pl_thumb *big,
		       struct pl_thumb *small, struct pl_err *err)
{
	int rc;

	if (!pl_image_type(up->content_type))
		return pl_err_set(err, 400, "an avatar must be a PNG, JPEG, GIF or WebP image (this is %s)",
				  up->content_type);
	if ((rc = pl_thumb_make(pl_blob_fd(w), up->content_type, PL_AVATAR_SIDE, PL_THUMB_MAX_PIXELS,
				big, err)) < 0)
		return -1;
	if (rc == 0)
		return pl_err_set(err, 400, "the avatar image cannot be read, or has more than %d pixels",
				  PL_THUMB_MAX_PIXELS);
	if (pl_thumb_make(pl_blob_fd(w), up->content_type, PL_AVATAR_SMALL, PL_THUMB_MAX_PIXELS,
			  small, err) < 0)
		return -1;
	snprintf(up->content_type, sizeof(up->content_type), "image/png");
	up->file.size = big->png_len;
	pl_thumb_fit(big->width, big->height, PL_AVATAR_SIDE, &up->file.width, &up->file.height);
	return 0;
}

static int check_length(const struct pl_config *cfg, const struct pl_request *req, bool multipart,
			int64_t quota_left, struct pl_err *err)
{
	long long cl = req->content_length;
	long long slack = multipart ? PL_UPLOAD_OVERHEAD : 0;

	if (cl > (long long)cfg->file_max_bytes + slack)
		return pl_err_set(err, 413, "the file is larger than %zu bytes", cfg->file_max_bytes);
	if (quota_left >= 0 && cl - slack > quota_left)
		return pl_err_set(err, 413, "this upload would pass your quota (%lld bytes left)",
				  (long long)quota_left);
	return 0;
}

int pl_upload_receive(const struct pl_config *cfg, struct pl_request *req, const char *purpose,
		      int64_t quota_left, struct pl_upload *up, struct pl_err *err)
{
	bool multipart = pl_is_multipart(req->content_type);
	struct pl_blob_writer w;
	struct pl_multipart *mp = NULL;
	struct receiving r = { &w, up, false, false };
	char given[PL_FILE_NAME_MAX * 3 + 1];
	uint64_t limit = cfg->file_max_bytes;
	struct pl_thumb big = { 0 }, small = { 0 };
	bool avatar;
	int rc = -1;

	memset(up, 0, sizeof(*up));
	up->lock_fd = -1;
	if (check_length(cfg, req, multipart, quota_left, err) < 0)
		return -1;
	if (quota_left >= 0 && (uint64_t)quota_left < limit)
		limit = (uint64_t)quota_left;
	if (!multipart) {
		int q = pl_query_get(req, "name", given, sizeof(given));
		if (q < 0)
			return pl_err_set(err, 400, "name must be at most %d bytes", PL_FILE_NAME_MAX);
		if (pl_file_name_clean(q == 0 ? given : "", "file", up->name, sizeof(up->name), err) < 0)
			return -1;
	}
	if (pl_blob_begin(&w, cfg->files_dir, limit, err) < 0)
		return -1;
	if (multipart) {
		mp = pl_xmalloc(sizeof(*mp));
		if (pl_multipart_init(mp, req->content_type, &callbacks, &r, err) < 0 ||
		    pump(req, feed_multipart, mp, err) < 0 || pl_multipart_finish(mp, err) < 0)
			goto out;
		if (!r.got_file) {
			pl_err_set(err, 400, "the multipart body has no part named \"file\"");
			goto out;
		}
	} else if (pump(req, feed_blob, &w, err) < 0) {
		goto out;
	}
	if (pl_sniff_fd(pl_blob_fd(&w), up->content_type, sizeof(up->content_type), err) < 0)
		goto out;
	up->file.size = w.size;
	avatar = strcmp(purpose, "avatar") == 0;
	if (avatar ? make_avatar(&w, up, &big, &small, err) < 0
		   : make_preview(&w, up, &small, err) < 0)
		goto out;
	if ((up->lock_fd = pl_blob_lock(cfg->files_dir, false, true)) < 0) {
		pl_err_internal(err, "cannot lock %s", cfg->files_dir);
		goto out;
	}
	if (small.png) {
		if (pl_blob_store_buffer(cfg->files_dir, small.png, small.png_len, up->thumb_sha256, err) < 0)
			goto out;
		up->file.thumb_sha256 = up->thumb_sha256;
	}
	/* An avatar keeps its resized copy, never the upload itself. */
	if (avatar ? pl_blob_store_buffer(cfg->files_dir, big.png, big.png_len, up->file.sha256, err) < 0
		   : pl_blob_commit(&w, up->file.sha256, err) < 0)
		goto out;
	up->file.purpose = purpose;
	up->file.name = up->name;
	up->file.content_type = up->content_type;
	rc = 0;
out:
	/* Over the quota rather than the size limit: say which. */
	if (rc < 0 && err->status == 413 && limit < cfg->file_max_bytes)
		pl_err_set(err, 413, "this upload would pass your quota (%lld bytes left)",
			   (long long)quota_left);
	pl_blob_abort(&w);
	free(mp);
	free(big.png);
	free(small.png);
	if (rc < 0)
		pl_upload_release(up);
	return rc;
}

void pl_upload_release(struct pl_upload *up)
{
	pl_blob_unlock(up->lock_fd);
	up->lock_fd = -1;
}
