/*
 * file.h — an uploaded file's row as storage returns it (no JSON here:
 * file_view.h renders it). Strings are borrowed from the statement row:
 * valid until the statement steps again or is reset.
 */
#ifndef PL_FILE_H
#define PL_FILE_H

#include <stdint.h>
#include "db.h"

struct pl_file {
	int64_t id;
	int64_t user_id;            /* the uploader */
	const char *purpose;        /* "attachment" or "avatar" */
	const char *name;           /* as uploaded, without any directory */
	int64_t size;               /* bytes */
	const char *content_type;   /* sniffed from the bytes (sniff.h) */
	const char *sha256;         /* names the bytes on disk (blob.h) */
	int width, height;          /* pixels of an image, 0 when not one */
	const char *thumb_sha256;   /* the preview's bytes, NULL when none */
	int64_t message_id;         /* attached to, 0 when not */
	int64_t created_at;         /* ms since epoch */
};

/* The SELECT list every statement read by pl_file_row starts with
 * (append WHERE / ORDER BY); "f" is the files row. */
#define PL_FILE_COLUMNS \
	"SELECT f.id, f.user_id, f.purpose, f.name, f.size, f.content_type, f.sha256, " \
	"f.width, f.height, f.thumb_sha256, f.message_id, f.created_at FROM files f "

/* pl_file_row: fills `f` from the current row of `st`, a statement of
 * PL_FILE_COLUMNS. */
void pl_file_row(struct pl_stmt *st, struct pl_file *f);

#endif
