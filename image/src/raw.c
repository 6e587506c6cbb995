/* raw — raw camera frames (packed 8-bit formats) to RGB888.
 *
 * One table row per format: its name, bytes per pixel and a row converter. Planar or
 * subsampled formats (NV12, YUYV...) will need their own frame-size rule next to
 * frame_bytes(); the rest of the path stays the same.
 */
#include "image_internal.h"

#include <stdio.h>
#include <string.h>

typedef void (*row_fn)(uint8_t *dst, const uint8_t *src, uint32_t w);

static void row_rgb888(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	memcpy(dst, src, (size_t)w * 3);
}

static void row_bgr888(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	for (uint32_t x = 0; x < w; x++, dst += 3, src += 3) {
		dst[0] = src[2];
		dst[1] = src[1];
		dst[2] = src[0];
	}
}

static void row_rgba8888(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	for (uint32_t x = 0; x < w; x++, dst += 3, src += 4)
		memcpy(dst, src, 3);
}

static void row_gray8(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	for (uint32_t x = 0; x < w; x++, dst += 3)
		dst[0] = dst[1] = dst[2] = src[x];
}

static const struct pixfmt_desc {
	const char *name;
	unsigned bpp;
	row_fn row;
} formats[] = {
	[MNV2_PIX_RGB888] = {"rgb888", 3, row_rgb888},
	[MNV2_PIX_BGR888] = {"bgr888", 3, row_bgr888},
	[MNV2_PIX_RGBA8888] = {"rgba", 4, row_rgba8888},
	[MNV2_PIX_GRAY8] = {"gray8", 1, row_gray8},
};

static const struct {
	const char *alias;
	mnv2_pixfmt fmt;
} aliases[] = {
	{"rgba8888", MNV2_PIX_RGBA8888},
	{"grey8", MNV2_PIX_GRAY8},
};

static const struct pixfmt_desc *desc(mnv2_pixfmt f)
{
	return (unsigned)f < sizeof formats / sizeof formats[0] ? &formats[f] : NULL;
}

const char *mnv2_pixfmt_name(mnv2_pixfmt f)
{
	const struct pixfmt_desc *d = desc(f);
	return d ? d->name : "unknown";
}

unsigned mnv2_pixfmt_bytes_per_pixel(mnv2_pixfmt f)
{
	const struct pixfmt_desc *d = desc(f);
	return d ? d->bpp : 0;
}

int mnv2_pixfmt_parse(const char *name, mnv2_pixfmt *out)
{
	if (!name || !out)
		return -1;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(name, formats[i].name) == 0) {
			*out = (mnv2_pixfmt)i;
			return 0;
		}
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(name, aliases[i].alias) == 0) {
			*out = aliases[i].fmt;
			return 0;
		}
	return -1;
}

/* Validates stride and length (overflow-safe) for a packed format: stride >= row bytes,
 * len >= stride * (h - 1) + row bytes. Sets *stride when it was 0. */
static int frame_bytes(const struct pixfmt_desc *d, uint32_t w, uint32_t h, size_t *stride,
		       size_t len, const char *what, char *err, size_t errlen)
{
	uint64_t row64 = (uint64_t)w * d->bpp; /* w < 2^32, bpp <= 4: no overflow */
	size_t row = (size_t)row64;
	if (row64 > SIZE_MAX) {
		mnv2_img_seterr(err, errlen, "%s: a row of %u pixels overflows the address space",
				what, (unsigned)w);
		return -1;
	}
	if (*stride == 0)
		*stride = row;
	if (*stride < row) {
		mnv2_img_seterr(err, errlen, "%s: stride %zu is less than the %zu bytes of a row of %u pixels",
				what, *stride, row, (unsigned)w);
		return -1;
	}
	if ((size_t)(h - 1) > (SIZE_MAX - row) / *stride) {
		mnv2_img_seterr(err, errlen, "%s: stride %zu times %u rows overflows the address space",
				what, *stride, (unsigned)h);
		return -1;
	}
	if (len < *stride * (h - 1) + row) {
		mnv2_img_seterr(err, errlen,
				"%s: buffer is %zu bytes, but %ux%u with stride %zu needs %zu bytes",
				what, len, (unsigned)w, (unsigned)h, *stride, *stride * (h - 1) + row);
		return -1;
	}
	return 0;
}

int mnv2_image_from_raw(mnv2_pixfmt fmt, uint32_t width, uint32_t height, size_t stride,
			const void *data, size_t len, const mnv2_image_limits *lim,
			mnv2_image *out, char *err, size_t errlen)
{
	const struct pixfmt_desc *d = desc(fmt);
	mnv2_image_limits def;
	char what[32];
	const uint8_t *src = data;
	if (!out) {
		mnv2_img_seterr(err, errlen, "invalid argument to mnv2_image_from_raw");
		return -1;
	}
	memset(out, 0, sizeof *out);
	if (!d) {
		mnv2_img_seterr(err, errlen, "raw: unknown pixel format %d", (int)fmt);
		return -1;
	}
	snprintf(what, sizeof what, "raw %s", d->name);
	if (!lim) {
		mnv2_image_limits_default(&def);
		lim = &def;
	}
	if (mnv2_img_check_dims(width, height, lim, what, err, errlen) != 0 ||
	    frame_bytes(d, width, height, &stride, len, what, err, errlen) != 0)
		return -1;
	if (!src) {
		mnv2_img_seterr(err, errlen, "%s: no pixel data", what);
		return -1;
	}
	if (mnv2_img_alloc(out, width, height, what, err, errlen) != 0)
		return -1;
	for (uint32_t y = 0; y < height; y++)
		d->row(out->data + (size_t)y * out->stride, src + (size_t)y * stride, width);
	return 0;
}
