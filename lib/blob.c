/* blob.c — content-addressed file bytes on disk (blob.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "blob.h"
#include "log.h"

#define BLOB_MODE 0640
#define DIR_MODE 0750

static int make_dir(const char *path, struct pl_err *err)
{
	if (mkdir(path, DIR_MODE) == 0 || errno == EEXIST)
		return 0;
	return pl_err_internal(err, "mkdir %s: %s", path, strerror(errno));
}

static bool is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

int pl_blob_path(const char *files_dir, const char *sha256, char *out, size_t len)
{
	int n;

	if (!sha256 || !is_hex64(sha256))
		return -1;
	n = snprintf(out, len, "%s/%.2s/%s", files_dir, sha256, sha256);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int pl_blob_relpath(const char *sha256, char *out, size_t len)
{
	int n;

	if (!sha256 || !is_hex64(sha256))
		return -1;
	n = snprintf(out, len, "%.2s/%s", sha256, sha256);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int pl_blob_begin(struct pl_blob_writer *w, const char *files_dir, uint64_t limit, struct pl_err *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->limit = limit;
	if (snprintf(w->dir, sizeof(w->dir), "%s", files_dir) >= (int)sizeof(w->dir))
		return pl_err_internal(err, "files_dir too long");
	if (make_dir(files_dir, err) < 0)
		return -1;
	crypto_hash_sha256_init(&w->hash);
	/* An unnamed file: nothing to clean up whatever happens to us. Its
	 * name comes from /proc/self/fd at commit, so /proc must be there. */
	if (access("/proc/self/fd", X_OK) == 0) {
		w->fd = open(files_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, BLOB_MODE);
		if (w->fd >= 0)
			return 0;
	}
	snprintf(w->tmp_path, sizeof(w->tmp_path), "%s/tmp", files_dir);
	if (make_dir(w->tmp_path, err) < 0)
		return -1;
	snprintf(w->tmp_path, sizeof(w->tmp_path), "%s/tmp/up-XXXXXX", files_dir);
	if ((w->fd = mkostemp(w->tmp_path, O_CLOEXEC)) < 0) {
		w->tmp_path[0] = '\0';
		return pl_err_internal(err, "cannot create an upload file in %s: %s", files_dir,
				       strerror(errno));
	}
	fchmod(w->fd, BLOB_MODE);
	return 0;
}

int pl_blob_write(struct pl_blob_writer *w, const void *buf, size_t n, struct pl_err *err)
{
	const char *p = buf;

	if (w->fd < 0)
		return pl_err_internal(err, "write to a finished upload");
	if (n > w->limit - w->size)
		return pl_err_set(err, 413, "the file is larger than %llu bytes",
				  (unsigned long long)w->limit);
	crypto_hash_sha256_update(&w->hash, buf, n);
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return pl_err_internal(err, "writing an upload: %s", k < 0 ? strerror(errno) : "no progress");
		p += k;
		n -= (size_t)k;
		w->size += (uint64_t)k;
	}
	return 0;
}

int pl_blob_fd(const struct pl_blob_writer *w)
{
	return w->fd;
}

void pl_blob_abort(struct pl_blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp_path[0])
		unlink(w->tmp_path);
	w->tmp_path[0] = '\0';
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Links the finished upload at `dest`; 1 when that content was there. */
static int link_into_place(struct pl_blob_writer *w, const char *dest, struct pl_err *err)
{
	char proc[64];

	if (w->tmp_path[0]) {
		/* Same name, same bytes: replacing an existing copy is harmless. */
		if (rename(w->tmp_path, dest) < 0)
			return pl_err_internal(err, "rename to %s: %s", dest, strerror(errno));
		w->tmp_path[0] = '\0';
		return 0;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, dest, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return 1;
	return pl_err_internal(err, "link %s: %s", dest, strerror(errno));
}

int pl_blob_commit(struct pl_blob_writer *w, char sha256[PL_SHA256_HEX], struct pl_err *err)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char path[1200];
	int rc = -1, there;

	if (w->fd < 0)
		return pl_err_internal(err, "commit of a finished upload");
	crypto_hash_sha256_final(&w->hash, digest);
	hex(digest, sizeof(digest), sha256);
	snprintf(path, sizeof(path), "%s/%.2s", w->dir, sha256);
	if (make_dir(path, err) < 0)
		goto out;
	if (pl_blob_path(w->dir, sha256, path, sizeof(path)) < 0) {
		pl_err_internal(err, "files_dir too long");
		goto out;
	}
	if (fsync(w->fd) < 0) {
		pl_err_internal(err, "fsync of an upload: %s", strerror(errno));
		goto out;
	}
	if ((there = link_into_place(w, path, err)) < 0)
		goto out;
	/* A fresh time tells pl_blob_prune the content is being used again. */
	if (there == 1 && utimensat(AT_FDCWD, path, NULL, 0) < 0) {
		pl_err_internal(err, "touch %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pl_blob_abort(w);
	return rc;
}

int pl_blob_store_buffer(const char *files_dir, const void *buf, size_t n,
			 char sha256[PL_SHA256_HEX], struct pl_err *err)
{
	struct pl_blob_writer w;

	if (pl_blob_begin(&w, files_dir, n, err) < 0)
		return -1;
	if (pl_blob_write(&w, buf, n, err) < 0) {
		pl_blob_abort(&w);
		return -1;
	}
	return pl_blob_commit(&w, sha256, err);
}

int pl_blob_lock(const char *files_dir, bool exclusive, bool wait)
{
	char path[1100];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", files_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, BLOB_MODE)) < 0)
		return -1;
	while (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

void pl_blob_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* releases the flock */
}

int pl_blob_remove(const char *files_dir, const char *sha256, int64_t *bytes)
{
	char path[1200];
	struct stat sb;

	if (bytes)
		*bytes = 0;
	if (pl_blob_path(files_dir, sha256, path, sizeof(path)) < 0 || lstat(path, &sb) < 0)
		return 0;
	if (unlink(path) < 0) {
		pl_warn_log("cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	if (bytes)
		*bytes = sb.st_size;
	return 0;
}

/* Removes `path` when older than `cutoff` (and in_use says so). */
static int prune_one(const char *path, const char *name, time_t cutoff, bool is_upload,
		     int (*in_use)(void *, const char *), void *arg,
		     int64_t *removed, int64_t *bytes)
{
	struct stat sb;
	int used = 0;

	if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_mtime > cutoff)
		return 0;
	if (!is_upload) {
		if (!is_hex64(name))
			return 0;   /* not ours */
		if ((used = in_use(arg, name)) != 0)
			return used < 0 ? -1 : 0;
	}
	if (unlink(path) == 0) {
		(*removed)++;
		*bytes += sb.st_size;
	}
	return 0;
}

int pl_blob_prune(const char *files_dir, int64_t grace_s,
		  int (*in_use)(void *arg, const char *sha256), void *arg,
		  int64_t *removed, int64_t *bytes, struct pl_err *err)
{
	time_t cutoff = time(NULL) - (time_t)grace_s;
	int64_t nrem = 0, nbytes = 0;
	DIR *top = opendir(files_dir), *sub;
	struct dirent *d, *e;
	char path[1400];
	int rc = 0, lock;

	if (!top)
		return errno == ENOENT ? 0 : pl_err_internal(err, "opendir %s: %s", files_dir, strerror(errno));
	if ((lock = pl_blob_lock(files_dir, true, true)) < 0) {
		closedir(top);
		return pl_err_internal(err, "cannot lock %s: %s", files_dir, strerror(errno));
	}
	while (rc == 0 && (d = readdir(top)) != NULL) {
		bool is_tmp = strcmp(d->d_name, "tmp") == 0;
		if (!is_tmp && (strlen(d->d_name) != 2 || !strchr("0123456789abcdef", d->d_name[0]) ||
				!strchr("0123456789abcdef", d->d_name[1])))
			continue;
		snprintf(path, sizeof(path), "%s/%s", files_dir, d->d_name);
		if (!(sub = opendir(path)))
			continue;
		while (rc == 0 && (e = readdir(sub)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", files_dir, d->d_name, e->d_name);
			if (prune_one(path, e->d_name, cutoff, is_tmp, in_use, arg, &nrem, &nbytes) < 0)
				rc = pl_err_internal(err, "pruning %s stopped: the database did not answer", files_dir);
		}
		closedir(sub);
	}
	closedir(top);
	pl_blob_unlock(lock);
	if (removed)
		*removed = nrem;
	if (bytes)
		*bytes = nbytes;
	return rc;
}
