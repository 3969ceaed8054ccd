/*
 * upload.h — receiving one file from a request body, streamed, never held
 * in memory whole: either the raw body (its name in `?name=`) or the part
 * named "file" of a multipart/form-data body (what browsers and `curl -F
 * file=@x` send; multipart.h). The bytes go to a blob (blob.h) as they
 * arrive; the content type is sniffed from them (sniff.h), whatever the
 * client said.
 */
#ifndef PL_UPLOAD_H
#define PL_UPLOAD_H

#include "config.h"
#include "err.h"
#include "files.h"
#include "http.h"
#include "sniff.h"

/* Room a multipart body may take besides the file's bytes (boundaries,
 * part headers, small fields). */
#define PL_UPLOAD_OVERHEAD 16384
#define PL_AVATAR_SIDE 256     /* avatars are kept at most 256x256 pixels */
#define PL_AVATAR_SMALL 64     /* and as a 64x64 preview */

/* One received upload (caller-owned; `file`'s strings point into it). */
struct pl_upload {
	struct pl_file_new file;
	char name[PL_FILE_NAME_MAX + 1];
	char content_type[PL_MIME_MAX];
	char thumb_sha256[PL_SHA256_HEX];  /* the preview's blob, "" when none */
	int lock_fd;        /* files_dir's shared lock (blob.h), held from the
	                     * link until the row commits; -1 when none */
};

/*
 * pl_upload_receive: reads the body of `req` (a PL_ROUTE_STREAM route) into
 * a blob under cfg->files_dir, at most cfg->file_max_bytes, and fills `up`
 * (purpose `purpose`, a static string) ready for pl_file_create. An
 * "attachment" that is an image gets its pixel size and a preview
 * (thumb.h); an "avatar" must be a readable image (else 400) and is kept
 * resized to PL_AVATAR_SIDE (the upload itself is dropped), with a
 * PL_AVATAR_SMALL preview. Over the
 * limit — by Content-Length before a byte is read, or while reading — is
 * 413 and nothing is kept. `quota_left` (bytes; < 0 = no quota) refuses a
 * body that cannot fit with 413 before reading it. Returns 0, or -1 with
 * `err`: 400 (no file part, a malformed body or name, the client went
 * away), 413, 500. After 0, the caller records the row and then calls
 * pl_upload_release, whatever happened.
 */
int pl_upload_receive(const struct pl_config *cfg, struct pl_request *req, const char *purpose,
		      int64_t quota_left, struct pl_upload *up, struct pl_err *err);

/* pl_upload_release: drops what `up` holds (the lock); safe to repeat. */
void pl_upload_release(struct pl_upload *up);

#endif
