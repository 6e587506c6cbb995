/* png_write — RGB888 to PNG with libpng's write API (see mnv2/draw.h).
 *
 * As in png.c, libpng reports errors by longjmp: everything that must survive the jump
 * lives in a struct wjob owned by the caller of run_write(), the only function that calls
 * setjmp.
 */
#include "image_internal.h"
#include "mnv2/draw.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wjob {
	uint8_t *buf;
	size_t len, cap;
	int oom;
	char msg[200];
};

static void w_error(png_structp png, png_const_charp msg)
{
	struct wjob *j = png_get_error_ptr(png);
	snprintf(j->msg, sizeof j->msg, "%s", msg);
	png_longjmp(png, 1);
}

static void w_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* warnings do not stop the encoder */
}

static void w_data(png_structp png, png_bytep data, size_t n)
{
	struct wjob *j = png_get_io_ptr(png);
	if (n > j->cap - j->len) {
		size_t cap = j->cap ? j->cap : 4096;
		while (cap - j->len < n) {
			if (cap > SIZE_MAX / 2) {
				j->oom = 1;
				png_error(png, "output too large");
			}
			cap *= 2;
		}
		uint8_t *b = realloc(j->buf, cap);
		if (!b) {
			j->oom = 1;
			png_error(png, "out of memory");
		}
		j->buf = b, j->cap = cap;
	}
	memcpy(j->buf + j->len, data, n);
	j->len += n;
}

static void w_flush(png_structp png) { (void)png; }

static int run_write(png_structp png, png_infop info, const mnv2_image *img)
{
	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_IHDR(png, info, img->width, img->height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < img->height; y++)
		png_write_row(png, img->data + (size_t)y * img->stride);
	png_write_end(png, NULL);
	return 0;
}

int mnv2_png_encode(const mnv2_image *img, uint8_t **out, size_t *len, char *err,
		    size_t errlen)
{
	struct wjob j = { 0 };
	*out = NULL;
	*len = 0;
	if (!img || !img->data || !img->width || !img->height ||
	    img->stride < (size_t)img->width * 3 || img->width > PNG_USER_WIDTH_MAX ||
	    img->height > PNG_USER_HEIGHT_MAX) {
		mnv2_img_seterr(err, errlen, "PNG: no RGB888 image to encode");
		return -1;
	}
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &j, w_error, w_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		mnv2_img_seterr(err, errlen, "PNG: cannot create the encoder: out of memory");
		return -1;
	}
	png_set_write_fn(png, &j, w_data, w_flush);
	int r = run_write(png, info, img);
	png_destroy_write_struct(&png, &info);
	if (r) {
		free(j.buf);
		mnv2_img_seterr(err, errlen, "PNG: cannot encode: %s", j.msg);
		return -1;
	}
	*out = j.buf;
	*len = j.len;
	return 0;
}

int mnv2_png_write_file(const mnv2_image *img, const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	char msg[MNV2_IMAGE_ERR_LEN];
	if (mnv2_png_encode(img, &buf, &len, msg, sizeof msg)) {
		mnv2_img_seterr(err, errlen, "%s: %s", path, msg);
		return -1;
	}
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(buf, 1, len, f) == len;
	int e = errno;
	if (f && fclose(f) && ok)
		ok = 0, e = errno;
	free(buf);
	if (!ok) {
		mnv2_img_seterr(err, errlen, "%s: cannot write: %s", path, strerror(e));
		return -1;
	}
	return 0;
}
