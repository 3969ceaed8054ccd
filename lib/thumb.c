/* thumb.c — image previews in a limited child process (thumb.h). */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <magick/api.h>
#include "log.h"
#include "thumb.h"

/* The sanitizer build (make sanitize) cannot run under an address-space
 * limit; GraphicsMagick's own pixel limit still holds there. */
#if defined(__SANITIZE_ADDRESS__)
#define PL_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PL_UNDER_ASAN 1
#endif
#endif
#ifndef PL_UNDER_ASAN
#define PL_UNDER_ASAN 0
#endif

#define GM_LIBRARY "libGraphicsMagick-Q16.so.3"
#define CHILD_MEMORY (768L << 20)  /* RLIMIT_AS of the child, bytes */
#define CHILD_CPU_S 20             /* RLIMIT_CPU of the child, seconds */
#define CHILD_WAIT_MS 30000        /* the parent stops waiting after this */

/* What the child writes before the PNG bytes. */
struct result {
	int32_t width, height;
	int32_t made;        /* 1: a PNG follows */
	uint32_t len;
};

/* The GraphicsMagick functions the child calls (dlsym). */
struct gm {
	void (*InitializeMagick)(const char *);
	void (*GetExceptionInfo)(ExceptionInfo *);
	void (*DestroyExceptionInfo)(ExceptionInfo *);
	ImageInfo *(*CloneImageInfo)(const ImageInfo *);
	void (*DestroyImageInfo)(ImageInfo *);
	Image *(*PingImage)(const ImageInfo *, ExceptionInfo *);
	Image *(*ReadImage)(const ImageInfo *, ExceptionInfo *);
	Image *(*ThumbnailImage)(const Image *, unsigned long, unsigned long, ExceptionInfo *);
	void *(*ImageToBlob)(const ImageInfo *, Image *, size_t *, ExceptionInfo *);
	void (*DestroyImage)(Image *);
	MagickPassFail (*SetMagickResourceLimit)(ResourceType, magick_int64_t);
	void (*MagickFree)(void *);
};

bool pl_image_type(const char *mime)
{
	return mime && (!strcasecmp(mime, "image/png") || !strcasecmp(mime, "image/jpeg") ||
			!strcasecmp(mime, "image/gif") || !strcasecmp(mime, "image/webp"));
}

void pl_thumb_fit(int width, int height, int side, int *out_w, int *out_h)
{
	int64_t w = width, h = height;

	if (w > side || h > side) {
		if (w >= h) {
			h = h * side / w;
			w = side;
		} else {
			w = w * side / h;
			h = side;
		}
	}
	*out_w = w < 1 ? 1 : (int)w;
	*out_h = h < 1 ? 1 : (int)h;
}

/* The decoder for a sniffed type: the file's own claims never pick one. */
static const char *coder_of(const char *mime)
{
	if (!strcasecmp(mime, "image/png"))
		return "PNG";
	if (!strcasecmp(mime, "image/jpeg"))
		return "JPEG";
	if (!strcasecmp(mime, "image/gif"))
		return "GIF";
	return "WEBP";
}

static int load_gm(struct gm *g)
{
	void *h = dlopen(GM_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return -1;
#define SYM(name) if (!(*(void **)(&g->name) = dlsym(h, #name))) return -1
	SYM(InitializeMagick);
	SYM(GetExceptionInfo);
	SYM(DestroyExceptionInfo);
	SYM(CloneImageInfo);
	SYM(DestroyImageInfo);
	SYM(PingImage);
	SYM(ReadImage);
	SYM(ThumbnailImage);
	SYM(ImageToBlob);
	SYM(DestroyImage);
	SYM(SetMagickResourceLimit);
	SYM(MagickFree);
#undef SYM
	return 0;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(3);
		c += k;
		n -= (size_t)k;
	}
}

/* The child: never returns. Exit 0 with a result written, or nonzero. */
static void child(int fd, int out, const char *mime, int side, int64_t max_pixels)
{
	struct rlimit as = { CHILD_MEMORY, CHILD_MEMORY }, cpu = { CHILD_CPU_S, CHILD_CPU_S };
	struct result r = { 0, 0, 0, 0 };
	struct gm g;
	ExceptionInfo ex;
	ImageInfo *info;
	Image *img, *small;
	int fw, fh;
	void *blob;
	size_t len = 0;

#if !PL_UNDER_ASAN
	setrlimit(RLIMIT_AS, &as);   /* (AddressSanitizer maps terabytes of shadow) */
#else
	(void)as;
#endif
	setrlimit(RLIMIT_CPU, &cpu);
	if (load_gm(&g) < 0)
		_exit(2);
	g.InitializeMagick(NULL);
	/* GraphicsMagick's own bounds besides the process's: pixels of one
	 * image, and no pixel cache on disk. */
	g.SetMagickResourceLimit(PixelsResource, max_pixels);
	g.SetMagickResourceLimit(DiskResource, 0);
	g.GetExceptionInfo(&ex);
	info = g.CloneImageInfo(NULL);
	snprintf(info->filename, sizeof(info->filename), "%s:/proc/self/fd/%d", coder_of(mime), fd);
	info->subimage = 0;   /* the first frame only */
	info->subrange = 1;
	if (!(img = g.PingImage(info, &ex))) {
		write_all(out, &r, sizeof(r));
		_exit(0);
	}
	r.width = (int32_t)img->columns;
	r.height = (int32_t)img->rows;
	g.DestroyImage(img);
	if (r.width <= 0 || r.height <= 0 || (int64_t)r.width * r.height > max_pixels) {
		write_all(out, &r, sizeof(r));   /* no preview: too many pixels */
		_exit(0);
	}
	if (!(img = g.ReadImage(info, &ex))) {
		write_all(out, &r, sizeof(r));
		_exit(0);
	}
	pl_thumb_fit((int)img->columns, (int)img->rows, side, &fw, &fh);
	if (!(small = g.ThumbnailImage(img, (unsigned long)fw, (unsigned long)fh, &ex))) {
		write_all(out, &r, sizeof(r));
		_exit(0);
	}
	snprintf(small->magick, sizeof(small->magick), "PNG");
	snprintf(info->magick, sizeof(info->magick), "PNG");
	snprintf(info->filename, sizeof(info->filename), "PNG:-");
	blob = g.ImageToBlob(info, small, &len, &ex);
	if (blob && len > 0 && len <= PL_THUMB_OUT_MAX) {
		r.made = 1;
		r.len = (uint32_t)len;
	}
	write_all(out, &r, sizeof(r));
	if (r.made)
		write_all(out, blob, len);
	_exit(0);
}

/* Reads up to `n` bytes from `fd` until `deadline` (CLOCK_MONOTONIC ms). */
static size_t read_until(int fd, void *buf, size_t n, int64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		struct timespec ts;
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t now, left;
		ssize_t k;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if ((left = deadline - now) <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

int pl_thumb_make(int fd, const char *mime, int side, int64_t max_pixels, struct pl_thumb *out,
		  struct pl_err *err)
{
	struct result r;
	struct timespec ts;
	int pipefd[2], status = 0, rc = 0;
	int64_t deadline;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (!pl_image_type(mime))
		return 0;
	if (pipe(pipefd) < 0)
		return pl_err_internal(err, "pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return pl_err_internal(err, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pipefd[0]);
		child(fd, pipefd[1], mime, side, max_pixels);
	}
	close(pipefd[1]);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + CHILD_WAIT_MS;
	if (read_until(pipefd[0], &r, sizeof(r), deadline) == sizeof(r)) {
		out->width = r.width;
		out->height = r.height;
		if (r.made && r.len > 0 && r.len <= PL_THUMB_OUT_MAX) {
			out->png = malloc(r.len);
			if (out->png && read_until(pipefd[0], out->png, r.len, deadline) == r.len) {
				out->png_len = r.len;
				rc = 1;
			} else {
				free(out->png);
				out->png = NULL;
			}
		}
	}
	close(pipefd[0]);
	kill(pid, SIGKILL);   /* done with it, or out of time */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		free(out->png);
		out->png = NULL;
		return pl_err_internal(err, "cannot load %s (install libgraphicsmagick-q16-3)", GM_LIBRARY);
	}
	if (rc == 0 && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		pl_warn_log("image preview child died of signal %d (a hostile image?)", WTERMSIG(status));
	return rc;
}
