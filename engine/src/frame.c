/* frame — raw frame formats, plane geometry and validation; see mnv2/frame.h. */
#include "mnv2/frame.h"
#include "frame_internal.h"
#include "model.h"

#include <stdio.h>
#include <strings.h>

typedef struct fmt_desc {
	const char *name;
	unsigned planes;
	unsigned bpp;           /* bytes per pixel of plane 0 (luma planes: 1) */
	const char *plane[MNV2_FRAME_MAX_PLANES];
} fmt_desc;

static const fmt_desc formats[] = {
	[MNV2_FRAME_RGB888] = { "rgb888", 1, 3, { "RGB" } },
	[MNV2_FRAME_BGR888] = { "bgr888", 1, 3, { "BGR" } },
	[MNV2_FRAME_RGBA] = { "rgba", 1, 4, { "RGBA" } },
	[MNV2_FRAME_GRAY8] = { "gray8", 1, 1, { "Y" } },
	[MNV2_FRAME_NV12] = { "nv12", 2, 1, { "Y", "UV" } },
	[MNV2_FRAME_NV21] = { "nv21", 2, 1, { "Y", "VU" } },
	[MNV2_FRAME_I420] = { "i420", 3, 1, { "Y", "U", "V" } },
	[MNV2_FRAME_YUYV] = { "yuyv", 1, 2, { "YUYV" } },
	[MNV2_FRAME_UYVY] = { "uyvy", 1, 2, { "UYVY" } },
	[MNV2_FRAME_BGRA] = { "bgra", 1, 4, { "BGRA" } },
};

static const struct {
	const char *alias;
	mnv2_frame_format fmt;
} aliases[] = {
	{ "rgba8888", MNV2_FRAME_RGBA }, { "bgra8888", MNV2_FRAME_BGRA },
	{ "grey8", MNV2_FRAME_GRAY8 },   { "yu12", MNV2_FRAME_I420 },
	{ "yuv420p", MNV2_FRAME_I420 },  { "yuy2", MNV2_FRAME_YUYV },
};

static const fmt_desc *desc(mnv2_frame_format f)
{
	if ((unsigned)f == 0 || (unsigned)f >= sizeof formats / sizeof formats[0])
		return NULL;
	return &formats[f];
}

const char *mnv2_frame_format_name(mnv2_frame_format f)
{
	const fmt_desc *d = desc(f);
	return d ? d->name : "unknown";
}

int mnv2_frame_format_parse(const char *name, mnv2_frame_format *out)
{
	if (!name || !out)
		return -1;
	for (unsigned i = 1; i < sizeof formats / sizeof formats[0]; i++)
		if (!strcasecmp(name, formats[i].name)) {
			*out = (mnv2_frame_format)i;
			return 0;
		}
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (!strcasecmp(name, aliases[i].alias)) {
			*out = aliases[i].fmt;
			return 0;
		}
	return -1;
}

unsigned mnv2_frame_format_planes(mnv2_frame_format f)
{
	const fmt_desc *d = desc(f);
	return d ? d->planes : 0;
}

const char *mnv2_frame_plane_name(mnv2_frame_format f, unsigned p)
{
	const fmt_desc *d = desc(f);
	return d && p < d->planes ? d->plane[p] : "?";
}

uint64_t mnv2_frame_plane_row_bytes(mnv2_frame_format f, uint32_t width, unsigned p)
{
	const fmt_desc *d = desc(f);
	uint64_t cw = ((uint64_t)width + 1) / 2;
	if (!d || p >= d->planes)
		return 0;
	if (p == 0)
		return (uint64_t)width * d->bpp;
	return f == MNV2_FRAME_I420 ? cw : 2 * cw; /* NV12/NV21: interleaved pairs */
}

uint32_t mnv2_frame_plane_rows(mnv2_frame_format f, uint32_t height, unsigned p)
{
	const fmt_desc *d = desc(f);
	if (!d || p >= d->planes)
		return 0;
	return p == 0 ? height : (uint32_t)(((uint64_t)height + 1) / 2);
}

/* The size checks shared by init and validate. */
static int check_size(const fmt_desc *d, mnv2_frame_format fmt, uint32_t w, uint32_t h,
		      mnv2_error *err)
{
	if (!d)
		return mnv2_fail(err, "frame: unknown pixel format %d", (int)fmt);
	if (w == 0 || h == 0 || w > MNV2_FRAME_MAX_DIM || h > MNV2_FRAME_MAX_DIM)
		return mnv2_fail(err, "frame %s %ux%u: width and height must be 1..%u", d->name, w,
				 h, MNV2_FRAME_MAX_DIM);
	if ((fmt == MNV2_FRAME_YUYV || fmt == MNV2_FRAME_UYVY) && (w & 1))
		return mnv2_fail(err, "frame %s %ux%u: a 4:2:2 packed frame needs an even width "
				 "(pixel pairs share their chroma)", d->name, w, h);
	return 0;
}

int mnv2_frame_init(mnv2_frame *f, mnv2_frame_format fmt, uint32_t width, uint32_t height,
		    size_t stride0, const void *data, size_t len, mnv2_error *err)
{
	const fmt_desc *d = desc(fmt);
	*f = (mnv2_frame){ .format = fmt, .width = width, .height = height, .data = data,
			   .len = len };
	if (check_size(d, fmt, width, height, err))
		return -1;
	/* Everything below is at most 65535 * 4 per row and 65535 rows: it fits 64 bits. */
	uint64_t stride[MNV2_FRAME_MAX_PLANES] = { 0 }, off = 0;
	stride[0] = stride0 ? stride0 : mnv2_frame_plane_row_bytes(fmt, width, 0);
	for (unsigned p = 1; p < d->planes; p++) {
		uint64_t row = mnv2_frame_plane_row_bytes(fmt, width, p);
		uint64_t derived = fmt == MNV2_FRAME_I420 ? (stride[0] + 1) / 2 : stride[0];
		stride[p] = derived > row ? derived : row;
	}
	for (unsigned p = 0; p < d->planes; p++) {
		uint64_t rows = mnv2_frame_plane_rows(fmt, height, p);
		if (off > SIZE_MAX || stride[p] > SIZE_MAX)
			return mnv2_fail(err, "frame %s %ux%u: plane %u (%s) offset overflows the "
					 "address space", d->name, width, height, p, d->plane[p]);
		f->offset[p] = (size_t)off;
		f->stride[p] = (size_t)stride[p];
		if (stride[p] > (UINT64_MAX - off) / rows)
			return mnv2_fail(err, "frame %s %ux%u: stride %zu times %u rows overflows",
					 d->name, width, height, (size_t)stride[p], (unsigned)rows);
		off += stride[p] * rows;
	}
	return 0;
}

/* Plane p must lie inside the buffer: stride >= row, offset + stride * (rows - 1) + row
 * <= len, computed without overflow. */
static int check_plane(const mnv2_frame *f, const fmt_desc *d, unsigned p, mnv2_error *err)
{
	uint64_t row = mnv2_frame_plane_row_bytes(f->format, f->width, p);
	uint32_t rows = mnv2_frame_plane_rows(f->format, f->height, p);
	size_t stride = f->stride[p], off = f->offset[p];
	const char *fn = d->name, *pn = d->plane[p];
	if (stride < row)
		return mnv2_fail(err, "frame %s %ux%u: plane %u (%s): stride %zu is less than "
				 "the %llu bytes of a row", fn, f->width, f->height, p, pn, stride,
				 (unsigned long long)row);
	if (off >= f->len)
		return mnv2_fail(err, "frame %s %ux%u: plane %u (%s): offset %zu is past the end "
				 "of the %zu-byte buffer", fn, f->width, f->height, p, pn, off,
				 f->len);
	/* row <= stride <= SIZE_MAX; the span is stride * (rows - 1) + row. */
	size_t room = f->len - off;
	if ((size_t)row > room || (rows > 1 && stride > (room - (size_t)row) / (rows - 1))) {
		unsigned long long end_hi = 0;
		int wraps = __builtin_mul_overflow((unsigned long long)stride,
						   (unsigned long long)(rows - 1), &end_hi) ||
			    __builtin_add_overflow(end_hi, (unsigned long long)row, &end_hi) ||
			    __builtin_add_overflow(end_hi, (unsigned long long)off, &end_hi);
		if (wraps)
			return mnv2_fail(err, "frame %s %ux%u: plane %u (%s): %u rows of stride %zu "
					 "from offset %zu overflow", fn, f->width, f->height, p, pn,
					 rows, stride, off);
		return mnv2_fail(err, "frame %s %ux%u: plane %u (%s): %u rows of %llu bytes, "
				 "stride %zu, from offset %zu end at byte %llu, past the %zu-byte "
				 "buffer", fn, f->width, f->height, p, pn, rows,
				 (unsigned long long)row, stride, off, end_hi, f->len);
	}
	return 0;
}

int mnv2_frame_validate(const mnv2_frame *f, mnv2_error *err)
{
	if (!f)
		return mnv2_fail(err, "frame: no frame");
	const fmt_desc *d = desc(f->format);
	if (check_size(d, f->format, f->width, f->height, err))
		return -1;
	if (!f->data || f->len == 0)
		return mnv2_fail(err, "frame %s %ux%u: no pixel data", d->name, f->width,
				 f->height);
	if ((unsigned)f->range > MNV2_RANGE_FULL)
		return mnv2_fail(err, "frame %s %ux%u: unknown colour range %d", d->name, f->width,
				 f->height, (int)f->range);
	if ((unsigned)f->matrix > MNV2_MATRIX_BT709)
		return mnv2_fail(err, "frame %s %ux%u: unknown colour matrix %d", d->name,
				 f->width, f->height, (int)f->matrix);
	for (unsigned p = 0; p < MNV2_FRAME_MAX_PLANES; p++) {
		if (p >= d->planes) {
			if (f->stride[p] || f->offset[p])
				return mnv2_fail(err, "frame %s %ux%u: plane %u: %s has %u plane%s, "
						 "but plane %u has stride %zu and offset %zu", d->name,
						 f->width, f->height, p, d->name, d->planes,
						 d->planes > 1 ? "s" : "", p, f->stride[p],
						 f->offset[p]);
			continue;
		}
		if (check_plane(f, d, p, err))
			return -1;
	}
	return 0;
}

int mnv2_frame_roi(const mnv2_frame *f, const mnv2_rect *roi, mnv2_rect *out,
		   mnv2_error *err)
{
	char what[64];
	snprintf(what, sizeof what, "frame %s %ux%u", mnv2_frame_format_name(f->format),
		 f->width, f->height);
	return mnv2_rect_check(f->width, f->height, roi, out, what, err);
}
