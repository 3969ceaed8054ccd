/* file_send.c — a stored file as the answer to a request (file_send.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blob.h"
#include "file_send.h"
#include "log.h"
#include "sniff.h"

/* Nothing in an upload may run, load or frame anything (the sandbox
 * also gives it an opaque origin should a browser render it anyway). */
#define FILE_CSP "default-src 'none'; img-src 'self' data:; media-src 'self'; " \
	"style-src 'unsafe-inline'; sandbox"

int pl_range_parse(const char *v, int64_t size, int64_t *first, int64_t *last)
{
	char *end;
	long long a, b;

	if (!v || strncmp(v, "bytes=", 6) != 0)
		return 0;
	v += 6;
	while (*v == ' ')
		v++;
	if (strchr(v, ','))
		return 0;   /* several ranges: the whole file instead */
	if (*v == '-') {    /* the last N bytes */
		if (!isdigit((unsigned char)v[1]))
			return 0;
		errno = 0;
		b = strtoll(v + 1, &end, 10);
		if (errno || *end)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (!isdigit((unsigned char)*v))
		return 0;
	errno = 0;
	a = strtoll(v, &end, 10);
	if (errno || *end != '-')
		return 0;
	v = end + 1;
	if (*v == '\0') {
		b = size - 1;
	} else {
		if (!isdigit((unsigned char)*v))
			return 0;
		b = strtoll(v, &end, 10);
		if (errno || *end || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}

/* Content-Disposition (RFC 6266): an ASCII fallback and the UTF-8 name. */
static void disposition(const char *name, bool inline_ok, char *out, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";
	char ascii[256], ext[800];
	size_t a = 0, e = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		bool plain = isalnum(*p) || strchr("!#$&+-.^_`|~", *p);
		if (a + 1 < sizeof(ascii))
			ascii[a++] = (*p < 0x80 && *p >= 0x20 && *p != '"' && *p != '\\') ? (char)*p : '_';
		if (e + 4 >= sizeof(ext))
			continue;
		if (plain) {
			ext[e++] = (char)*p;
		} else {
			ext[e++] = '%';
			ext[e++] = hexd[*p >> 4];
			ext[e++] = hexd[*p & 15];
		}
	}
	ascii[a] = '\0';
	ext[e] = '\0';
	snprintf(out, len, "%s; filename=\"%s\"; filename*=UTF-8''%s",
		 inline_ok ? "inline" : "attachment", ascii, ext);
}

/* The header every answer about the file carries. */
static int common_headers(const struct pl_file_out *fo, struct pl_response *resp)
{
	char etag[PL_SHA256_HEX + 2];

	snprintf(etag, sizeof(etag), "\"%s\"", fo->sha256);
	/* Private: who may read it is decided per user. Access can be taken
	 * away, so caches keep it an hour at most. */
	if (pl_resp_header(resp, "Cache-Control", "private, max-age=3600") < 0 ||
	    pl_resp_header(resp, "ETag", etag) < 0 ||
	    pl_resp_header(resp, "Content-Security-Policy", FILE_CSP) < 0)
		return -1;
	return 0;
}

/* Whether If-None-Match names this file's ETag (or is "*"). */
static bool etag_matches(const char *inm, const char *sha256)
{
	const char *p;

	if (!inm[0])
		return false;
	if (strcmp(inm, "*") == 0)
		return true;
	for (p = strstr(inm, sha256); p; p = strstr(p + 1, sha256))
		if (p > inm && p[-1] == '"' && p[64] == '"')
			return true;
	return false;
}

static int stream(const struct pl_config *cfg, const struct pl_request *req,
		  const struct pl_file_out *fo, struct pl_response *resp, struct pl_err *err)
{
	char path[1200], cr[96];
	struct stat sb;
	int64_t size, first = 0, last;
	int range;

	if (pl_resp_header(resp, "Accept-Ranges", "bytes") < 0)
		return pl_err_internal(err, "response headers too long");
	if (etag_matches(req->if_none_match, fo->sha256)) {
		resp->status = 304;
		return 0;
	}
	if (pl_blob_path(cfg->files_dir, fo->sha256, path, sizeof(path)) < 0)
		return pl_err_internal(err, "bad blob name");
	if ((resp->file_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(resp->file_fd, &sb) < 0)
		return pl_err_internal(err, "open %s: %s", path, strerror(errno));
	/* the bytes on disk are the truth (a preview's size is not stored) */
	size = (int64_t)sb.st_size;
	last = size - 1;
	range = pl_range_parse(req->range, size, &first, &last);
	if (range < 0) {
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
		pl_resp_header(resp, "Content-Range", cr);
		close(resp->file_fd);
		resp->file_fd = -1;
		resp->content_type[0] = '\0';
		pl_resp_error(resp, 416, "the range is outside the file's %lld bytes", (long long)size);
		return 0;
	}
	resp->status = 200;
	if (range == 1) {
		snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)first, (long long)last,
			 (long long)size);
		pl_resp_header(resp, "Content-Range", cr);
		resp->status = 206;
	}
	resp->file_offset = first;
	resp->file_length = size == 0 ? 0 : last - first + 1;
	return 0;
}

int pl_file_send(const struct pl_config *cfg, const struct pl_request *req,
		 const struct pl_file_out *fo, struct pl_response *resp, struct pl_err *err)
{
	bool inline_ok = !fo->download && pl_mime_in_list(fo->content_type, cfg->file_inline_types);
	char cd[1200], path[1400];

	disposition(fo->name, inline_ok, cd, sizeof(cd));
	snprintf(resp->content_type, sizeof(resp->content_type), "%s", fo->content_type);
	if (common_headers(fo, resp) < 0 || pl_resp_header(resp, "Content-Disposition", cd) < 0)
		return pl_err_internal(err, "response headers too long");
	switch (cfg->offload) {
	case PL_OFFLOAD_SENDFILE:
		if (pl_blob_path(cfg->files_dir, fo->sha256, path, sizeof(path)) < 0 ||
		    pl_resp_header(resp, "X-Sendfile", path) < 0)
			return pl_err_internal(err, "bad blob path");
		resp->status = 200;
		return 0;
	case PL_OFFLOAD_ACCEL: {
		char rel[PL_SHA256_HEX + 8];
		if (pl_blob_relpath(fo->sha256, rel, sizeof(rel)) < 0)
			return pl_err_internal(err, "bad blob name");
		snprintf(path, sizeof(path), "%s%s%s", cfg->file_accel_prefix,
			 cfg->file_accel_prefix[strlen(cfg->file_accel_prefix) - 1] == '/' ? "" : "/", rel);
		if (pl_resp_header(resp, "X-Accel-Redirect", path) < 0)
			return pl_err_internal(err, "bad blob path");
		resp->status = 200;
		return 0;
	}
	default:
		return stream(cfg, req, fo, resp, err);
	}
}
