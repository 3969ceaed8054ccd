/*
 * sniff.h — what a file's bytes are, never what its uploader says: the
 * MIME type libmagic finds in them (file(1)'s database; libmagic(3),
 * MAGIC_MIME_TYPE), and whether a type may be shown inline.
 */
#ifndef PL_SNIFF_H
#define PL_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

#define PL_MIME_MAX 128

/*
 * pl_sniff_fd: the MIME type of the file open on `fd` (read from its
 * start with pread; the offset is left alone) into `out` (`len` bytes),
 * e.g. "image/png", "text/html"; "application/octet-stream" when libmagic
 * knows nothing better. The magic database is loaded once per process (on
 * first use) and kept: the one per-process state of this module.
 * Returns 0, or -1 with `err` (500: no magic database; logged).
 */
int pl_sniff_fd(int fd, char *out, size_t len, struct pl_err *err);

/*
 * pl_sniff_buffer: the same for `n` bytes in memory.
 */
int pl_sniff_buffer(const void *buf, size_t n, char *out, size_t len, struct pl_err *err);

/*
 * pl_mime_in_list: whether `type` is one of `list` (space- or
 * comma-separated MIME types, compared without case; "*" matches all).
 */
bool pl_mime_in_list(const char *type, const char *list);

#endif
