/*
 * blob.h — the bytes of uploaded files on disk, content-addressed: one
 * file per distinct content, named by its SHA-256 (FIPS 180-4, computed
 * with libsodium's crypto_hash_sha256) under files_dir:
 *     <files_dir>/<first two hex digits>/<64 hex digits>
 * An upload is written to an unnamed file (Linux O_TMPFILE, open(2)) and
 * only linked under its name once complete and hashed, so an upload that
 * fails, is refused or whose process is killed leaves nothing behind.
 * Where O_TMPFILE is not supported the file is "<files_dir>/tmp/up-XXXXXX"
 * (mkstemp), removed on failure and, if its process died, by
 * pl_blob_prune.
 *
 * Rows that name a blob live in the database (files.h); pl_blob_prune
 * removes blobs no row names, after a grace period that covers an upload
 * between its link and its commit.
 */
#ifndef PL_BLOB_H
#define PL_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
#include "err.h"

#define PL_SHA256_HEX 65    /* 64 hex digits and a NUL */

/* One upload being written (caller-owned; no heap of its own). */
struct pl_blob_writer {
	int fd;                         /* the file being written, -1 when none */
	char tmp_path[1200];            /* its name (mkstemp fallback), or "" */
	char dir[1024];                 /* files_dir */
	crypto_hash_sha256_state hash;
	uint64_t size;                  /* bytes written so far */
	uint64_t limit;                 /* most bytes accepted */
};

/*
 * pl_blob_begin: starts an upload into `files_dir` (created, mode 0750,
 * when missing) accepting at most `limit` bytes. Returns 0, or -1 with
 * `err` (500: the directory cannot be written; logged).
 */
int pl_blob_begin(struct pl_blob_writer *w, const char *files_dir, uint64_t limit, struct pl_err *err);

/*
 * pl_blob_write: appends `n` bytes. Returns 0, or -1 with `err`: 413 when
 * the upload would pass its limit (nothing of it is kept), 500 on a write
 * error (disk full: logged).
 */
int pl_blob_write(struct pl_blob_writer *w, const void *buf, size_t n, struct pl_err *err);

/*
 * pl_blob_fd: the descriptor of the bytes written so far (to sniff or
 * measure them: read with pread, it is not the writer's offset), -1 when
 * none. Owned by the writer.
 */
int pl_blob_fd(const struct pl_blob_writer *w);

/*
 * pl_blob_commit: ends the upload: fsyncs it and links it under its hash.
 * When that content is already stored, the new copy is dropped and the
 * stored one's time is refreshed (so pl_blob_prune leaves it alone while
 * its row is written). `sha256` receives the lowercase hex digest. The
 * writer is finished either way. Returns 0, or -1 with `err` (500).
 */
int pl_blob_commit(struct pl_blob_writer *w, char sha256[PL_SHA256_HEX], struct pl_err *err);

/* pl_blob_abort: ends the upload and removes what it wrote (safe to call
 * on a finished writer). */
void pl_blob_abort(struct pl_blob_writer *w);

/*
 * pl_blob_path: writes "<files_dir>/<aa>/<sha256>" into `out` (`len`
 * bytes). Returns 0, or -1 when `sha256` is not 64 lowercase hex digits or
 * the path does not fit.
 */
int pl_blob_path(const char *files_dir, const char *sha256, char *out, size_t len);

/*
 * pl_blob_relpath: the same path relative to files_dir ("<aa>/<sha256>"),
 * for a web server location that maps files_dir (X-Accel-Redirect).
 * Returns 0 or -1 as pl_blob_path.
 */
int pl_blob_relpath(const char *sha256, char *out, size_t len);

/*
 * pl_blob_store_buffer: stores `n` bytes from memory (a thumbnail, a
 * resized avatar) as a blob; `sha256` receives its digest. Returns 0, or
 * -1 with `err` (500).
 */
int pl_blob_store_buffer(const char *files_dir, const void *buf, size_t n,
			 char sha256[PL_SHA256_HEX], struct pl_err *err);

/*
 * pl_blob_lock: takes the lock of `files_dir` ("<files_dir>/.lock",
 * flock(2)): shared by an upload from the moment its blob is linked until
 * its row is committed, exclusive while blobs are removed, so a blob is
 * never removed under a row about to name it. With `wait` false an
 * exclusive lock that is busy is not waited for. Returns the lock's
 * descriptor (release with pl_blob_unlock), or -1 (busy, or the file
 * cannot be made: errno).
 */
int pl_blob_lock(const char *files_dir, bool exclusive, bool wait);
void pl_blob_unlock(int fd);

/*
 * pl_blob_remove: removes the blob `sha256` (the caller holds the
 * exclusive lock and has checked no row names it). Returns 0, or -1 when
 * it was there and could not be removed (logged). *bytes (may be NULL)
 * receives its size when removed, else 0.
 */
int pl_blob_remove(const char *files_dir, const char *sha256, int64_t *bytes);

/*
 * pl_blob_prune: removes every blob older than `grace_s` seconds for which
 * `in_use(arg, sha256)` answers false (0), and leftover upload files of the
 * fallback older than `grace_s`. `in_use` answers 1 (keep), 0 (remove) or
 * -1 (error: keep, stop). *removed / *bytes (may be NULL) receive how many
 * files and bytes went. Takes the exclusive lock (waiting for it) for the
 * walk. Returns 0, or -1 with `err` (500).
 */
int pl_blob_prune(const char *files_dir, int64_t grace_s,
		  int (*in_use)(void *arg, const char *sha256), void *arg,
		  int64_t *removed, int64_t *bytes, struct pl_err *err);

#endif
