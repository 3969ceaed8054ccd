/*
 * thumb.h — small previews of uploaded images (and resized avatars), made
 * with GraphicsMagick (http://www.graphicsmagick.org/api/api.html) in a
 * child process that nothing an image does can take the program down
 * with: the child loads the library itself (dlopen of
 * libGraphicsMagick-Q16.so.3: its ~44 libraries never load into the
 * programs, nor into any request that is not an image upload), runs under
 * RLIMIT_AS / RLIMIT_CPU, forces the decoder of the type sniffed from the
 * bytes (no coder chosen by the file's own claims), reads the header first
 * and refuses an image of more than `max_pixels` pixels before decoding a
 * byte of it (a decompression bomb), and reads the first frame only.
 */
#ifndef PL_THUMB_H
#define PL_THUMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define PL_THUMB_SIDE 320          /* attachment previews: at most 320x320 */
#define PL_THUMB_MAX_PIXELS 40000000 /* larger images get no preview */
#define PL_THUMB_OUT_MAX (4 << 20)  /* bytes of one PNG out of the child */

/* What the child found and made (caller-owned; `png` allocated). */
struct pl_thumb {
	int width, height;          /* the source image's pixels, 0 when unknown */
	unsigned char *png;         /* the preview (PNG), NULL when none; free(3) */
	size_t png_len;
};

/*
 * pl_image_type: whether `mime` (sniffed) is an image type previews are
 * made of: image/png, image/jpeg, image/gif, image/webp.
 */
bool pl_image_type(const char *mime);

/*
 * pl_thumb_fit: the size of `width` x `height` pixels scaled to fit in
 * `side` x `side` keeping its aspect, never enlarged (what pl_thumb_make
 * makes), into *out_w, *out_h (at least 1 each).
 */
void pl_thumb_fit(int width, int height, int side, int *out_w, int *out_h);

/*
 * pl_thumb_make: reads the image in the file open on `fd` (from its start;
 * the offset is left alone), of sniffed type `mime` (pl_image_type), and
 * makes a PNG that fits in `side` x `side` pixels keeping its aspect
 * (never enlarged). Returns 1 with `out` filled; 0 when there is no
 * preview to make (not an image GraphicsMagick can read, more than
 * `max_pixels` pixels, the child ran out of its limits: `out->width` and
 * `height` may still be known from the header); -1 with `err` (500: no
 * GraphicsMagick, fork failed; logged). Free `out->png` either way.
 */
int pl_thumb_make(int fd, const char *mime, int side, int64_t max_pixels, struct pl_thumb *out,
		  struct pl_err *err);

#endif
