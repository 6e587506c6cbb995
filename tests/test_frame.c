/* test_frame — raw camera frames: geometry validation, colour maths against the real-valued
 * formulas, the one-pass convert+resize against convert-then-mnv2_resize_rgb (bytewise),
 * regions of interest, transforms, and the bound on scratch memory.
 *
 * Frames are laid out here independently of the engine's mnv2_frame_init(): random row
 * padding, planes in random order with gaps, random garbage in every byte the engine must
 * not read, and buffers allocated to exactly their length so ASan catches any overread. */
#include "mnv2/frame.h"
#include "frame_internal.h" /* mnv2_resize_frame_path(): the portable and SIMD loops */
#include "test_util.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- counting allocator (not under ASan, which owns malloc itself) ---- */

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

#if COUNTING
#include <malloc.h>
/* glibc's own entry points: replacing malloc/calloc/realloc/free and forwarding to them is
 * the documented way to interpose ("Replacing malloc" in the glibc manual). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static int counting;
static size_t live, peak, largest;

static void note_alloc(void *p)
{
	if (counting && p) {
		size_t n = malloc_usable_size(p);
		live += n;
		peak = live > peak ? live : peak;
		largest = n > largest ? n : largest;
	}
}

static void note_free(void *p)
{
	if (counting && p) {
		size_t n = malloc_usable_size(p);
		live = n < live ? live - n : 0;
	}
}

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);
	note_alloc(p);
	return p;
}

void *calloc(size_t a, size_t b)
{
	void *p = __libc_calloc(a, b);
	note_alloc(p);
	return p;
}

void *realloc(void *old, size_t n)
{
	note_free(old);
	void *p = __libc_realloc(old, n);
	note_alloc(p ? p : old);
	return p;
}

void free(void *p)
{
	note_free(p);
	__libc_free(p);
}
#endif

/* ---- frames built by the test ---- */

static const mnv2_frame_format all_formats[] = {
	MNV2_FRAME_RGB888, MNV2_FRAME_BGR888, MNV2_FRAME_RGBA, MNV2_FRAME_BGRA, MNV2_FRAME_GRAY8,
	MNV2_FRAME_NV12,   MNV2_FRAME_NV21,   MNV2_FRAME_I420, MNV2_FRAME_YUYV, MNV2_FRAME_UYVY,
};
#define NFORMATS (sizeof all_formats / sizeof all_formats[0])

static int is_yuv(mnv2_frame_format f) { return f >= MNV2_FRAME_NV12 && f <= MNV2_FRAME_UYVY; }
static int is_422(mnv2_frame_format f) { return f == MNV2_FRAME_YUYV || f == MNV2_FRAME_UYVY; }

typedef struct tframe {
	mnv2_frame f;
	uint8_t *buf;            /* exactly f.len bytes */
	uint32_t cw, ch;         /* chroma samples per row, chroma rows */
	uint8_t *px;             /* RGB formats: R,G,B per pixel; YUV: Y per pixel */
	uint8_t *u, *v;          /* YUV: cw * ch chroma samples */
} tframe;

static void tframe_free(tframe *t)
{
	free(t->buf);
	free(t->px);
	free(t->u);
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* Row bytes and rows of plane p, computed here from the format's definition. */
static void plane_shape(mnv2_frame_format fmt, uint32_t w, uint32_t h, unsigned p,
			size_t *row, uint32_t *rows)
{
	uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	*rows = p == 0 ? h : ch;
	switch (fmt) {
	case MNV2_FRAME_RGB888: case MNV2_FRAME_BGR888: *row = (size_t)w * 3; break;
	case MNV2_FRAME_RGBA: case MNV2_FRAME_BGRA: *row = (size_t)w * 4; break;
	case MNV2_FRAME_GRAY8: *row = w; break;
	case MNV2_FRAME_YUYV: case MNV2_FRAME_UYVY: *row = (size_t)w * 2; break;
	case MNV2_FRAME_NV12: case MNV2_FRAME_NV21: *row = p == 0 ? w : 2 * (size_t)cw; break;
	case MNV2_FRAME_I420: *row = p == 0 ? w : cw; break;
	default: *row = 0;
	}
}

static unsigned nplanes(mnv2_frame_format f)
{
	return f == MNV2_FRAME_I420 ? 3 : (f == MNV2_FRAME_NV12 || f == MNV2_FRAME_NV21) ? 2 : 1;
}

/* Lays out a frame: random padding (when pad), planes in random order with random gaps,
 * then fills the samples from px/u/v (or random ones when fill_random). */
static void tframe_layout(tframe *t, mnv2_frame_format fmt, uint32_t w, uint32_t h,
			  uint32_t *seed, int pad)
{
	memset(t, 0, sizeof *t);
	t->f.format = fmt;
	t->f.width = w;
	t->f.height = h;
	unsigned n = nplanes(fmt), order[3] = { 0, 1, 2 };
	for (unsigned i = n; i > 1; i--) { /* shuffle the planes' order in the buffer */
		unsigned j = (unsigned)test_rand_range(seed, 0, (int32_t)i - 1), tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	size_t off = pad ? (size_t)test_rand_range(seed, 0, 13) : 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned p = order[i];
		size_t row;
		uint32_t rows;
		plane_shape(fmt, w, h, p, &row, &rows);
		t->f.stride[p] = row + (pad ? (size_t)test_rand_range(seed, 0, 9) : 0);
		t->f.offset[p] = off;
		off += t->f.stride[p] * (rows - 1) + row;
		if (i + 1 < n)
			off += pad ? (size_t)test_rand_range(seed, 0, 11) : 0;
	}
	t->f.len = off; /* the last plane's last row ends the buffer: no slack */
	t->buf = malloc(off);
	for (size_t i = 0; i < off; i++)
		t->buf[i] = (uint8_t)test_rand(seed); /* garbage in the padding */
	t->f.data = t->buf;
	t->cw = (w + 1) / 2;
	t->ch = is_422(fmt) ? h : (h + 1) / 2;
	t->px = malloc((size_t)w * h * 3);
	t->u = malloc((size_t)t->cw * t->ch);
	t->v = malloc((size_t)t->cw * t->ch);
}

/* Writes the samples px/u/v into the buffer at the frame's layout. */
static void tframe_store(tframe *t)
{
	const mnv2_frame *f = &t->f;
	uint32_t w = f->width, h = f->height;
	for (uint32_t y = 0; y < h; y++) {
		uint8_t *r0 = t->buf + f->offset[0] + (size_t)y * f->stride[0];
		uint8_t *r1 = t->buf + f->offset[1] + (size_t)(y / 2) * f->stride[1];
		uint8_t *r2 = t->buf + f->offset[2] + (size_t)(y / 2) * f->stride[2];
		const uint8_t *cu = t->u + (size_t)(is_422(f->format) ? y : y / 2) * t->cw;
		const uint8_t *cv = t->v + (size_t)(is_422(f->format) ? y : y / 2) * t->cw;
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *s = t->px + ((size_t)y * w + x) * 3;
			uint32_t c = x / 2;
			switch (f->format) {
			case MNV2_FRAME_RGB888: memcpy(r0 + 3 * x, s, 3); break;
			case MNV2_FRAME_BGR888: r0[3 * x] = s[2], r0[3 * x + 1] = s[1], r0[3 * x + 2] = s[0]; break;
			case MNV2_FRAME_RGBA: memcpy(r0 + 4 * x, s, 3); break; /* alpha stays garbage */
			case MNV2_FRAME_BGRA: r0[4 * x] = s[2], r0[4 * x + 1] = s[1], r0[4 * x + 2] = s[0]; break;
			case MNV2_FRAME_GRAY8: r0[x] = s[0]; break;
			case MNV2_FRAME_NV12: r0[x] = s[0], r1[2 * c] = cu[c], r1[2 * c + 1] = cv[c]; break;
			case MNV2_FRAME_NV21: r0[x] = s[0], r1[2 * c] = cv[c], r1[2 * c + 1] = cu[c]; break;
			case MNV2_FRAME_I420: r0[x] = s[0], r1[c] = cu[c], r2[c] = cv[c]; break;
			case MNV2_FRAME_YUYV:
				r0[2 * x] = s[0];
				r0[4 * c + 1] = cu[c];
				r0[4 * c + 3] = cv[c];
				break;
			case MNV2_FRAME_UYVY:
				r0[2 * x + 1] = s[0];
				r0[4 * c] = cu[c];
				r0[4 * c + 2] = cv[c];
				break;
			default: break;
			}
		}
	}
}

static void tframe_random(tframe *t, mnv2_frame_format fmt, uint32_t w, uint32_t h,
			  uint32_t *seed, int pad)
{
	tframe_layout(t, fmt, w, h, seed, pad);
	for (size_t i = 0; i < (size_t)w * h * 3; i++)
		t->px[i] = (uint8_t)test_rand(seed);
	if (fmt == MNV2_FRAME_GRAY8 || is_yuv(fmt)) /* one sample a pixel: keep it in [0] */
		for (size_t i = 0; i < (size_t)w * h; i++)
			t->px[3 * i + 1] = t->px[3 * i + 2] = t->px[3 * i];
	for (size_t i = 0; i < (size_t)t->cw * t->ch; i++) {
		t->u[i] = (uint8_t)test_rand(seed);
		t->v[i] = (uint8_t)test_rand(seed);
	}
	tframe_store(t);
}

/* ---- the real-valued colour formulas ---- */

static void yuv_to_rgb_real(mnv2_color_matrix m, mnv2_color_range r, int Y, int U, int V,
			    double out[3])
{
	double kr = m == MNV2_MATRIX_BT709 ? 0.2126 : 0.299;
	double kb = m == MNV2_MATRIX_BT709 ? 0.0722 : 0.114, kg = 1 - kr - kb;
	double ys = r == MNV2_RANGE_FULL ? 1 : 255.0 / 219, cs = r == MNV2_RANGE_FULL ? 1 : 255.0 / 224;
	double d = ys * (Y - (r == MNV2_RANGE_FULL ? 0 : 16)), u = cs * (U - 128), v = cs * (V - 128);
	out[0] = d + 2 * (1 - kr) * v;
	out[1] = d - 2 * (1 - kb) * kb / kg * u - 2 * (1 - kr) * kr / kg * v;
	out[2] = d + 2 * (1 - kb) * u;
	for (int c = 0; c < 3; c++)
		out[c] = out[c] < 0 ? 0 : out[c] > 255 ? 255 : out[c];
}

static void rgb_to_yuv_real(mnv2_color_matrix m, mnv2_color_range r, const double rgb[3],
			    int yuv[3])
{
	double kr = m == MNV2_MATRIX_BT709 ? 0.2126 : 0.299;
	double kb = m == MNV2_MATRIX_BT709 ? 0.0722 : 0.114, kg = 1 - kr - kb;
	double y = kr * rgb[0] + kg * rgb[1] + kb * rgb[2]; /* 0..255 */
	double pb = (rgb[2] - y) / (2 * (1 - kb)), pr = (rgb[0] - y) / (2 * (1 - kr));
	double ys = r == MNV2_RANGE_FULL ? 1 : 219.0 / 255, cs = r == MNV2_RANGE_FULL ? 1 : 224.0 / 255;
	yuv[0] = (int)lround(y * ys + (r == MNV2_RANGE_FULL ? 0 : 16));
	yuv[1] = (int)lround(128 + pb * cs);
	yuv[2] = (int)lround(128 + pr * cs);
	for (int i = 0; i < 3; i++)
		yuv[i] = yuv[i] < 0 ? 0 : yuv[i] > 255 ? 255 : yuv[i];
}

/* The expected RGB of pixel (x, y) of a test frame, real-valued. */
static void expect_px(const tframe *t, uint32_t x, uint32_t y, double out[3])
{
	const uint8_t *s = t->px + ((size_t)y * t->f.width + x) * 3;
	if (!is_yuv(t->f.format)) {
		for (int c = 0; c < 3; c++)
			out[c] = s[c];
		return;
	}
	size_t ci = (size_t)(is_422(t->f.format) ? y : y / 2) * t->cw + x / 2;
	yuv_to_rgb_real(t->f.matrix, t->f.range, s[0], t->u[ci], t->v[ci], out);
}

static uint8_t *to_rgb(const mnv2_frame *f, const mnv2_rect *roi, uint32_t w, uint32_t h)
{
	uint8_t *rgb = malloc((size_t)w * h * 3);
	mnv2_error e = { { 0 } };
	ck_assert_msg(mnv2_frame_to_rgb(f, roi, rgb, (size_t)w * 3, &e) == 0, "%s", e.msg);
	return rgb;
}

/* ---- validation ---- */

static void expect_invalid(const mnv2_frame *f, const char *needle)
{
	mnv2_error e = { { 0 } };
	ck_assert_int_eq(mnv2_frame_validate(f, &e), -1);
	ck_assert_msg(strstr(e.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", e.msg, needle);
}

START_TEST(validate_rejects_malformed_geometry)
{
	static uint8_t buf[4096];
	mnv2_error e;
	mnv2_frame f, g;
	/* a 10x6 NV12 frame: Y 10x6 = 60 bytes, UV 10 bytes x 3 rows = 30 bytes */
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV12, 10, 6, 0, buf, 90, &e), 0);
	ck_assert_int_eq(f.stride[0], 10);
	ck_assert_int_eq(f.stride[1], 10);
	ck_assert_int_eq(f.offset[1], 60);
	ck_assert_int_eq(mnv2_frame_validate(&f, &e), 0);
	g = f, g.len = 89;            /* one byte short: the UV plane overlaps the end */
	expect_invalid(&g, "plane 1 (UV)");
	expect_invalid(&g, "3 rows of 10 bytes, stride 10, from offset 60 end at byte 90, past the 89-byte buffer");
	g = f, g.stride[0] = 9;       /* stride too small */
	expect_invalid(&g, "plane 0 (Y): stride 9 is less than the 10 bytes of a row");
	g = f, g.stride[1] = 9;
	expect_invalid(&g, "plane 1 (UV): stride 9 is less than the 10 bytes");
	g = f, g.offset[1] = 90;      /* offset at / past the end */
	expect_invalid(&g, "plane 1 (UV): offset 90 is past the end of the 90-byte buffer");
	g = f, g.offset[0] = SIZE_MAX;
	expect_invalid(&g, "offset");
	g = f, g.offset[1] = 61;      /* the last row would end one byte past */
	expect_invalid(&g, "past the 90-byte buffer");
	g = f, g.stride[1] = SIZE_MAX / 2; /* stride * rows overflows */
	g.len = SIZE_MAX;
	char want[128];
	snprintf(want, sizeof want, "plane 1 (UV): 3 rows of stride %zu from offset 60 overflow",
		 SIZE_MAX / 2);
	expect_invalid(&g, want);
	g = f, g.stride[0] = SIZE_MAX / 3, g.len = SIZE_MAX;
	expect_invalid(&g, "overflow");
	g = f, g.width = 0;
	expect_invalid(&g, "width and height must be 1..65535");
	g = f, g.height = 0;
	expect_invalid(&g, "width and height");
	g = f, g.width = 65536;
	expect_invalid(&g, "width and height");
	g = f, g.data = NULL;
	expect_invalid(&g, "no pixel data");
	g = f, g.len = 0;
	expect_invalid(&g, "no pixel data");
	g = f, g.format = (mnv2_frame_format)0;
	expect_invalid(&g, "unknown pixel format 0");
	g = f, g.format = (mnv2_frame_format)11;
	expect_invalid(&g, "unknown pixel format 11");
	g = f, g.range = (mnv2_color_range)2;
	expect_invalid(&g, "colour range");
	g = f, g.matrix = (mnv2_color_matrix)7;
	expect_invalid(&g, "colour matrix");
	g = f, g.stride[2] = 5;       /* NV12 has no third plane */
	expect_invalid(&g, "nv12 has 2 planes, but plane 2 has stride 5");
	g = f, g.offset[2] = 1;
	expect_invalid(&g, "plane 2");

	/* odd sizes round chroma up: 9x5 NV12 has a 10-byte x 3-row UV plane */
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV12, 9, 5, 0, buf, 45 + 30, &e), 0);
	ck_assert_int_eq(f.stride[1], 10);
	ck_assert_int_eq(mnv2_frame_validate(&f, &e), 0);
	f.len = 74;
	expect_invalid(&f, "plane 1 (UV)");
	/* I420 9x5: U and V are 5 bytes x 3 rows each */
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_I420, 9, 5, 0, buf, 45 + 15 + 15, &e), 0);
	ck_assert_int_eq(f.stride[1], 5);
	ck_assert_int_eq(f.offset[2], 60);
	ck_assert_int_eq(mnv2_frame_validate(&f, &e), 0);
	f.len = 74;
	expect_invalid(&f, "plane 2 (V)");
	/* V4L2-style padded luma stride: chroma strides follow it */
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_I420, 9, 5, 16, buf, 4096, &e), 0);
	ck_assert_int_eq(f.stride[1], 8);
	ck_assert_int_eq(f.offset[1], 80);
	ck_assert_int_eq(f.offset[2], 80 + 24);
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV21, 9, 5, 16, buf, 4096, &e), 0);
	ck_assert_int_eq(f.stride[1], 16);
	/* 4:2:2 packed needs an even width */
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_YUYV, 9, 5, 0, buf, 4096, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "even width"));
	f = (mnv2_frame){ .format = MNV2_FRAME_UYVY, .width = 7, .height = 2, .data = buf,
			  .len = 4096, .stride = { 16 } };
	expect_invalid(&f, "even width");
	/* a packed RGB frame: the last row needs no padding */
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_BGRA, 5, 3, 24, buf, 24 * 2 + 20, &e), 0);
	ck_assert_int_eq(mnv2_frame_validate(&f, &e), 0);
	f.len--;
	expect_invalid(&f, "plane 0 (BGRA)");
	/* unknown formats, sizes, and arithmetic that overflows in init */
	ck_assert_int_eq(mnv2_frame_init(&f, (mnv2_frame_format)42, 5, 3, 0, buf, 4096, &e), -1);
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_RGB888, 0, 3, 0, buf, 4096, &e), -1);
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_I420, 65535, 65535, SIZE_MAX / 4, buf,
					 4096, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "overflows"));
	/* nothing reads a pixel of an invalid frame */
	uint8_t out[3 * 10 * 6];
	f = g;
	ck_assert_int_eq(mnv2_frame_to_rgb(&f, NULL, out, 30, &e), -1);
	ck_assert_int_eq(mnv2_resize_frame(&f, NULL, 0, 0, 1, 1, out, 1, 1, 3, &e), -1);
}
END_TEST

/* Random geometries over exact-length buffers: validation must agree with the test's own
 * arithmetic, and whatever it accepts must convert without reading past the buffer (ASan). */
START_TEST(validate_agrees_with_reference_on_random_geometry)
{
	uint32_t seed = 77;
	int accepted = 0, rejected = 0;
	for (int iter = 0; iter < 3000; iter++) {
		mnv2_frame_format fmt = all_formats[test_rand(&seed) % NFORMATS];
		uint32_t w = (uint32_t)test_rand_range(&seed, 1, 12), h = (uint32_t)test_rand_range(&seed, 1, 9);
		size_t len = (size_t)test_rand_range(&seed, 1, 400);
		uint8_t *buf = malloc(len);
		memset(buf, 0x5a, len);
		mnv2_frame f = { .format = fmt, .width = w, .height = h, .data = buf, .len = len };
		unsigned n = nplanes(fmt);
		int ok = !(is_422(fmt) && (w & 1));
		for (unsigned p = 0; p < n; p++) {
			size_t row;
			uint32_t rows;
			plane_shape(fmt, w, h, p, &row, &rows);
			int64_t st = (int64_t)row + test_rand_range(&seed, -2, 4);
			f.stride[p] = st > 0 ? (size_t)st : 0;
			f.offset[p] = (size_t)test_rand_range(&seed, 0, 300);
			if (f.stride[p] < row || f.offset[p] + f.stride[p] * (rows - 1) + row > len)
				ok = 0;
		}
		mnv2_error e = { { 0 } };
		int rc = mnv2_frame_validate(&f, &e);
		ck_assert_msg(rc == (ok ? 0 : -1), "%s %ux%u len %zu: validate says %d (%s)",
			      mnv2_frame_format_name(fmt), w, h, len, rc, e.msg);
		if (rc == 0) {
			accepted++;
			uint8_t *rgb = to_rgb(&f, NULL, w, h);
			uint8_t small[5 * 4 * 3];
			ck_assert_int_eq(mnv2_resize_frame(&f, NULL, 0, 0, w, h, small, 5, 4, 15, &e), 0);
			free(rgb);
		} else {
			rejected++;
		}
		free(buf);
	}
	ck_assert_int_gt(accepted, 300);
	ck_assert_int_gt(rejected, 300);
}
END_TEST

START_TEST(roi_is_checked)
{
	uint8_t buf[64 * 3] = { 0 };
	mnv2_frame f;
	mnv2_rect r;
	mnv2_error e;
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_RGB888, 8, 8, 0, buf, sizeof buf, &e), 0);
	ck_assert_int_eq(mnv2_frame_roi(&f, NULL, &r, &e), 0);
	ck_assert_int_eq(r.width, 8);
	ck_assert_int_eq(mnv2_frame_roi(&f, &(mnv2_rect){ 0, 0, 0, 0 }, &r, &e), 0);
	ck_assert_int_eq(r.height, 8);
	ck_assert_int_eq(mnv2_frame_roi(&f, &(mnv2_rect){ 7, 7, 1, 1 }, &r, &e), 0);
	ck_assert_int_eq(r.x, 7);
	const mnv2_rect bad[] = {
		{ 7, 7, 2, 1 }, { 0, 0, 9, 8 }, { 8, 0, 1, 1 }, { 1, 1, 0, 5 }, { 1, 1, 5, 0 },
		{ 4, 0, UINT32_MAX - 2, 1 }, { 0, UINT32_MAX, 1, 1 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(mnv2_frame_roi(&f, &bad[i], &r, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, "region of interest"));
		ck_assert_int_eq(mnv2_roi_check(8, 8, &bad[i], &r, &e), -1);
	}
	ck_assert_int_eq(mnv2_roi_check(8, 8, &(mnv2_rect){ 7, 7, 2, 1 }, &r, &e), -1);
	ck_assert_str_eq(e.msg, "image: region of interest 2x1 at (7,7) is not inside the 8x8 image");
	ck_assert_int_eq(mnv2_roi_check(8, 8, &(mnv2_rect){ 2, 3, 6, 5 }, &r, &e), 0);
	ck_assert_int_eq(r.x + r.width, 8);
	/* the RGB path takes regions too, with the same transform rule */
	uint8_t img[8 * 8 * 3], t1[4 * 4 * 3], t2[4 * 4 * 3];
	for (size_t i = 0; i < sizeof img; i++)
		img[i] = (uint8_t)(i * 37);
	mnv2_rgb_view v = { img, 8, 8, 24 }, sub = { img + 3 * 24 + 2 * 3, 6, 5, 24 };
	mnv2_tensor_info in = { .name = "in", .type = MNV2_UINT8, .rank = 4,
				.dims = { 1, 4, 4, 3 }, .bytes = sizeof t1 };
	mnv2_transform tf1, tf2;
	ck_assert_int_eq(mnv2_preprocess_roi(&v, &(mnv2_rect){ 2, 3, 6, 5 }, &in, NULL, t1,
					     sizeof t1, &tf1, &e), 0);
	ck_assert_int_eq(mnv2_preprocess(&sub, &in, NULL, t2, sizeof t2, &tf2, &e), 0);
	ck_assert_int_eq(memcmp(t1, t2, sizeof t1), 0);
	ck_assert_double_eq(tf1.offset_x, tf2.offset_x + 2);
	ck_assert_double_eq(tf1.offset_y, tf2.offset_y + 3);
	ck_assert_int_eq(tf1.src_w, 8);
	ck_assert_int_eq(mnv2_preprocess_roi(&v, &(mnv2_rect){ 2, 3, 7, 5 }, &in, NULL, t1,
					     sizeof t1, &tf1, &e), -1);
}
END_TEST

START_TEST(format_names)
{
	mnv2_frame_format f;
	for (size_t i = 0; i < NFORMATS; i++) {
		ck_assert_int_eq(mnv2_frame_format_parse(mnv2_frame_format_name(all_formats[i]), &f), 0);
		ck_assert_int_eq(f, all_formats[i]);
	}
	ck_assert_int_eq(mnv2_frame_format_parse("NV12", &f), 0);
	ck_assert_int_eq(f, MNV2_FRAME_NV12);
	ck_assert_int_eq(mnv2_frame_format_parse("yuv420p", &f), 0);
	ck_assert_int_eq(f, MNV2_FRAME_I420);
	ck_assert_int_eq(mnv2_frame_format_parse("yuv", &f), -1);
	ck_assert_str_eq(mnv2_frame_format_name((mnv2_frame_format)0), "unknown");
	ck_assert_int_eq(mnv2_frame_format_planes(MNV2_FRAME_I420), 3);
	ck_assert_str_eq(mnv2_frame_plane_name(MNV2_FRAME_NV21, 1), "VU");
}
END_TEST

/* ---- colour ---- */

/* Every (Y, U, V) for both matrices and ranges: each output within 0.52 of the real
 * formula, clamped. I420 frames of 512x512 carry 256x256 chroma samples, each shared by
 * four luma values; 64 frames cover every luma value. */
START_TEST(colour_maths_matches_real_formula)
{
	const uint32_t W = 512, H = 512;
	tframe t;
	uint32_t seed = 3;
	tframe_layout(&t, MNV2_FRAME_I420, W, H, &seed, 0);
	uint8_t *rgb = malloc((size_t)W * H * 3);
	double worst = 0;
	for (int m = 0; m < 2; m++) {
		for (int r = 0; r < 2; r++) {
			t.f.matrix = (mnv2_color_matrix)m;
			t.f.range = (mnv2_color_range)r;
			for (int ybase = 0; ybase < 256; ybase += 4) {
				for (uint32_t cy = 0; cy < 256; cy++)
					for (uint32_t cx = 0; cx < 256; cx++) {
						t.u[cy * 256 + cx] = (uint8_t)cx;
						t.v[cy * 256 + cx] = (uint8_t)cy;
					}
				for (uint32_t y = 0; y < H; y++)
					for (uint32_t x = 0; x < W; x++)
						t.px[((size_t)y * W + x) * 3] =
							(uint8_t)(ybase + (y & 1) * 2 + (x & 1));
				tframe_store(&t);
				mnv2_error e;
				ck_assert_int_eq(mnv2_frame_to_rgb(&t.f, NULL, rgb, (size_t)W * 3, &e), 0);
				for (uint32_t y = 0; y < H; y++)
					for (uint32_t x = 0; x < W; x++) {
						double want[3];
						expect_px(&t, x, y, want);
						for (int c = 0; c < 3; c++) {
							double d = fabs(rgb[((size_t)y * W + x) * 3 + c] - want[c]);
							worst = d > worst ? d : worst;
							if (d > 0.52) /* not ck_assert: Check logs every passing one */
								ck_abort_msg("m%d r%d (%u,%u) c%d: %d vs %.3f", m, r, x, y,
									     c, rgb[((size_t)y * W + x) * 3 + c], want[c]);
						}
					}
			}
		}
	}
	ck_assert_double_le(worst, 0.52);
	free(rgb);
	tframe_free(&t);
}
END_TEST

/* Pure colours through every format, limited and full range, both matrices: within ±1 of
 * the real formula on the quantized Y'CbCr, within ±2 of the colour itself. */
START_TEST(known_colours_in_every_format)
{
	static const double colours[][3] = {
		{ 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 128, 128, 128 }, { 0, 0, 0 },
		{ 255, 255, 255 },
	};
	uint32_t seed = 11;
	for (size_t fi = 0; fi < NFORMATS; fi++) {
		mnv2_frame_format fmt = all_formats[fi];
		uint32_t w = is_422(fmt) ? 6 : 7, h = 5;
		for (int m = 0; m < 2; m++)
			for (int r = 0; r < 2; r++)
				for (size_t k = 0; k < sizeof colours / sizeof colours[0]; k++) {
					const double *c = colours[k];
					int yuv[3];
					rgb_to_yuv_real((mnv2_color_matrix)m, (mnv2_color_range)r, c, yuv);
					tframe t;
					tframe_layout(&t, fmt, w, h, &seed, 1);
					t.f.matrix = (mnv2_color_matrix)m;
					t.f.range = (mnv2_color_range)r;
					for (size_t i = 0; i < (size_t)w * h; i++)
						for (int ch = 0; ch < 3; ch++)
							t.px[3 * i + ch] = is_yuv(fmt) ? (uint8_t)yuv[0]
							       : fmt == MNV2_FRAME_GRAY8 ? (uint8_t)c[1]
							       : (uint8_t)c[ch];
					memset(t.u, yuv[1], (size_t)t.cw * t.ch);
					memset(t.v, yuv[2], (size_t)t.cw * t.ch);
					tframe_store(&t);
					uint8_t *rgb = to_rgb(&t.f, NULL, w, h);
					double want[3];
					yuv_to_rgb_real((mnv2_color_matrix)m, (mnv2_color_range)r, yuv[0],
							yuv[1], yuv[2], want);
					for (size_t i = 0; i < (size_t)w * h; i++)
						for (int ch = 0; ch < 3; ch++) {
							int got = rgb[3 * i + ch];
							double ideal = fmt == MNV2_FRAME_GRAY8 ? c[1] : c[ch];
							if (is_yuv(fmt) && fabs(got - want[ch]) > 1.0)
								ck_abort_msg("%s m%d r%d colour %zu ch %d: %d vs %.2f",
									      mnv2_frame_format_name(fmt), m, r, k, ch,
									      got, want[ch]);
							if (fabs(got - ideal) > 2.0)
								ck_abort_msg("%s m%d r%d colour %zu ch %d: %d vs %.0f",
								      mnv2_frame_format_name(fmt), m, r, k, ch, got,
								      ideal);
						}
					free(rgb);
					tframe_free(&t);
				}
	}
}
END_TEST

/* Random frames of every format with padding and shuffled planes: every pixel of the
 * conversion, and of any region of it, is the real formula's (±0.52) on the right samples. */
START_TEST(every_format_converts_random_frames)
{
	uint32_t seed = 21;
	for (int iter = 0; iter < 200; iter++) {
		mnv2_frame_format fmt = all_formats[iter % NFORMATS];
		uint32_t w = (uint32_t)test_rand_range(&seed, 1, 23), h = (uint32_t)test_rand_range(&seed, 1, 17);
		w += is_422(fmt) && (w & 1);
		tframe t;
		tframe_random(&t, fmt, w, h, &seed, 1);
		t.f.matrix = (mnv2_color_matrix)(iter / 3 % 2);
		t.f.range = (mnv2_color_range)(iter / 7 % 2);
		mnv2_rect roi = { (uint32_t)test_rand_range(&seed, 0, (int32_t)w - 1),
				  (uint32_t)test_rand_range(&seed, 0, (int32_t)h - 1), 0, 0 };
		roi.width = (uint32_t)test_rand_range(&seed, 1, (int32_t)(w - roi.x));
		roi.height = (uint32_t)test_rand_range(&seed, 1, (int32_t)(h - roi.y));
		uint8_t *rgb = to_rgb(&t.f, &roi, roi.width, roi.height);
		for (uint32_t y = 0; y < roi.height; y++)
			for (uint32_t x = 0; x < roi.width; x++) {
				double want[3];
				expect_px(&t, roi.x + x, roi.y + y, want);
				for (int c = 0; c < 3; c++)
					if (fabs(rgb[((size_t)y * roi.width + x) * 3 + c] - want[c]) > 0.52)
						ck_abort_msg("%s %ux%u roi (%u,%u) px (%u,%u) c%d: %d vs %.2f",
						      mnv2_frame_format_name(fmt), w, h, roi.x, roi.y, x, y, c,
						      rgb[((size_t)y * roi.width + x) * 3 + c], want[c]);
			}
		free(rgb);
		tframe_free(&t);
	}
}
END_TEST

/* ---- one pass == convert, then resize ---- */

static mnv2_tensor_info input_info(mnv2_dtype t, int w, int h, int32_t zp)
{
	mnv2_tensor_info in = { .name = "in", .type = t, .rank = 4, .dims = { 1, h, w, 3 },
				.quantized = 1, .scale = 1 / 128.0f, .zero_point = zp };
	in.bytes = (size_t)w * h * 3 * (t == MNV2_FLOAT32 ? 4 : 1);
	return in;
}

static void check_resize_filter(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0,
				uint32_t y0, uint32_t x1, uint32_t y1, uint32_t dw, uint32_t dh,
				mnv2_resize_filter filter)
{
	mnv2_rect r;
	mnv2_error e = { { 0 } };
	ck_assert_int_eq(mnv2_frame_roi(f, roi, &r, &e), 0);
	uint8_t *rgb = to_rgb(f, &r, r.width, r.height);
	size_t stride = (size_t)dw * 3 + 5; /* padded output rows */
	uint8_t *want = calloc(stride * dh, 1), *got = calloc(stride * dh, 1);
	mnv2_rgb_view v = { rgb, r.width, r.height, (size_t)r.width * 3 };
	ck_assert_int_eq(mnv2_resize_rgb_filter(&v, x0, y0, x1, y1, want, dw, dh, stride, filter,
						&e), 0);
	for (int simd = 0; simd < 3; simd++) { /* portable, SSE2, then AVX2 where built */
		memset(got, 0, stride * dh);
		ck_assert_msg(mnv2_resize_frame_path(f, roi, x0, y0, x1, y1, got, dw, dh, stride,
						     filter, simd, &e) == 0, "%s", e.msg);
		for (uint32_t y = 0; y < dh; y++)
			if (memcmp(want + y * stride, got + y * stride, (size_t)dw * 3) != 0)
				ck_abort_msg("%s %ux%u roi %ux%u+%u+%u box [%u,%u)x[%u,%u) -> %ux%u "
					     "(%s, simd %d): row %u differs",
					     mnv2_frame_format_name(f->format), f->width, f->height,
					     r.width, r.height, r.x, r.y, x0, x1, y0, y1, dw, dh,
					     mnv2_resize_filter_name(filter), simd, y);
		for (uint32_t y = 0; y < dh; y++) /* the padding is not written */
			for (size_t i = (size_t)dw * 3; i < stride; i++)
				if (got[y * stride + i] != 0)
					ck_abort_msg("row %u: padding byte %zu written", y, i);
	}
	free(rgb);
	free(want);
	free(got);
}

/* Both filters: the one-pass frame path against convert-then-resize, every code path. */
static void check_resize_equal(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0,
			       uint32_t y0, uint32_t x1, uint32_t y1, uint32_t dw, uint32_t dh)
{
	check_resize_filter(f, roi, x0, y0, x1, y1, dw, dh, MNV2_FILTER_ANTIALIAS);
	check_resize_filter(f, roi, x0, y0, x1, y1, dw, dh, MNV2_FILTER_BILINEAR);
}

START_TEST(one_pass_resize_equals_convert_then_resize)
{
	uint32_t seed = 99;
	for (int iter = 0; iter < 400; iter++) {
		mnv2_frame_format fmt = all_formats[iter % NFORMATS];
		uint32_t w = (uint32_t)test_rand_range(&seed, 1, 80), h = (uint32_t)test_rand_range(&seed, 1, 60);
		w += is_422(fmt) && (w & 1);
		tframe t;
		tframe_random(&t, fmt, w, h, &seed, iter & 1);
		t.f.range = (mnv2_color_range)(iter / 11 % 2);
		mnv2_rect roi = { 0, 0, 0, 0 };
		if (iter % 3 == 0) {
			roi.x = (uint32_t)test_rand_range(&seed, 0, (int32_t)w - 1);
			roi.y = (uint32_t)test_rand_range(&seed, 0, (int32_t)h - 1);
			roi.width = (uint32_t)test_rand_range(&seed, 1, (int32_t)(w - roi.x));
			roi.height = (uint32_t)test_rand_range(&seed, 1, (int32_t)(h - roi.y));
		}
		uint32_t rw = roi.width ? roi.width : w, rh = roi.height ? roi.height : h;
		/* a sub-box of the region, and output sizes that shrink, enlarge, or keep a
		 * direction unfiltered (identity) */
		uint32_t x0 = 0, y0 = 0, x1 = rw, y1 = rh;
		if (iter % 4 == 1) {
			x0 = (uint32_t)test_rand_range(&seed, 0, (int32_t)rw - 1);
			y0 = (uint32_t)test_rand_range(&seed, 0, (int32_t)rh - 1);
			x1 = (uint32_t)test_rand_range(&seed, (int32_t)x0 + 1, (int32_t)rw);
			y1 = (uint32_t)test_rand_range(&seed, (int32_t)y0 + 1, (int32_t)rh);
		}
		uint32_t dw = (uint32_t)test_rand_range(&seed, 1, 70), dh = (uint32_t)test_rand_range(&seed, 1, 70);
		if (iter % 5 == 2)
			dw = x1 - x0 == rw ? rw : dw;
		if (iter % 5 == 3)
			dh = y1 - y0 == rh ? rh : dh;
		if (iter % 10 == 4 && x1 - x0 == rw && y1 - y0 == rh)
			dw = rw, dh = rh;
		check_resize_equal(&t.f, roi.width ? &roi : NULL, x0, y0, x1, y1, dw, dh);
		tframe_free(&t);
	}
}
END_TEST

/* Extreme ratios: a few pixels to many and many to one; tall and wide outputs. */
START_TEST(one_pass_resize_extreme_ratios)
{
	uint32_t seed = 5;
	const uint32_t cases[][4] = {
		{ 1, 1, 300, 300 }, { 2, 3, 300, 7 }, { 640, 480, 1, 1 }, { 640, 2, 3, 300 },
		{ 3, 500, 300, 1 }, { 1000, 1, 1, 1 }, { 333, 211, 224, 224 }, { 64, 64, 64, 65 },
		{ 1920, 1080, 300, 300 }, { 1921, 1081, 300, 300 }, /* a camera frame, and odd */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const uint32_t *c = cases[i];
		mnv2_frame_format fmt = i & 1 ? MNV2_FRAME_NV12 : MNV2_FRAME_I420;
		tframe t;
		tframe_random(&t, fmt, c[0], c[1], &seed, 1);
		check_resize_equal(&t.f, NULL, 0, 0, c[0], c[1], c[2], c[3]);
		tframe_free(&t);
	}
}
END_TEST

static void check_preprocess_equal(const tframe *t, const mnv2_rect *roi,
				   const mnv2_tensor_info *in, mnv2_resize_mode mode)
{
	const mnv2_frame *f = &t->f;
	uint8_t *rgb = to_rgb(f, NULL, f->width, f->height);
	mnv2_rgb_view v = { rgb, f->width, f->height, (size_t)f->width * 3 };
	uint8_t *want = malloc(in->bytes), *got = malloc(in->bytes);
	mnv2_preprocess_opts o = { .mode = mode };
	mnv2_transform tw, tg;
	mnv2_error e = { { 0 } };
	ck_assert_msg(mnv2_preprocess_roi(&v, roi, in, &o, want, in->bytes, &tw, &e) == 0, "%s",
		      e.msg);
	ck_assert_msg(mnv2_preprocess_frame(f, roi, in, &o, got, in->bytes, &tg, &e) == 0, "%s",
		      e.msg);
	ck_assert_msg(memcmp(want, got, in->bytes) == 0, "%s %ux%u mode %s type %d differs",
		      mnv2_frame_format_name(f->format), f->width, f->height,
		      mnv2_resize_mode_name(mode), in->type);
	ck_assert_int_eq(memcmp(&tw, &tg, sizeof tw), 0);
	ck_assert_int_eq(tg.src_w, f->width);
	ck_assert_int_eq(tg.src_h, f->height);
	free(rgb);
	free(want);
	free(got);
}

START_TEST(one_pass_preprocess_equals_convert_then_preprocess)
{
	uint32_t seed = 1234;
	const mnv2_dtype types[] = { MNV2_UINT8, MNV2_INT8, MNV2_FLOAT32 };
	for (int iter = 0; iter < 240; iter++) {
		mnv2_frame_format fmt = all_formats[iter % NFORMATS];
		uint32_t w = (uint32_t)test_rand_range(&seed, 1, 90), h = (uint32_t)test_rand_range(&seed, 1, 70);
		w += is_422(fmt) && (w & 1);
		tframe t;
		tframe_random(&t, fmt, w, h, &seed, 1);
		mnv2_tensor_info in = input_info(types[iter % 3], test_rand_range(&seed, 1, 40),
						 test_rand_range(&seed, 1, 40), test_rand_range(&seed, 0, 255));
		if (in.type == MNV2_INT8)
			in.zero_point -= 128;
		mnv2_rect roi = { 0, 0, 0, 0 };
		if (iter % 2) {
			roi.x = (uint32_t)test_rand_range(&seed, 0, (int32_t)w - 1);
			roi.y = (uint32_t)test_rand_range(&seed, 0, (int32_t)h - 1);
			roi.width = (uint32_t)test_rand_range(&seed, 1, (int32_t)(w - roi.x));
			roi.height = (uint32_t)test_rand_range(&seed, 1, (int32_t)(h - roi.y));
		}
		for (int m = 0; m <= MNV2_RESIZE_CENTER_CROP; m++)
			check_preprocess_equal(&t, iter % 2 ? &roi : NULL, &in, (mnv2_resize_mode)m);
		tframe_free(&t);
	}
}
END_TEST

/* An RGB888 frame is an RGB view: the one-pass path gives mnv2_preprocess()'s bytes. */
START_TEST(rgb888_frames_equal_existing_preprocess)
{
	uint32_t seed = 8;
	for (int iter = 0; iter < 60; iter++) {
		uint32_t w = (uint32_t)test_rand_range(&seed, 1, 200), h = (uint32_t)test_rand_range(&seed, 1, 150);
		size_t stride = (size_t)w * 3 + (size_t)test_rand_range(&seed, 0, 7);
		size_t len = stride * (h - 1) + (size_t)w * 3;
		uint8_t *buf = malloc(len);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)test_rand(&seed);
		mnv2_frame f;
		mnv2_error e;
		ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_RGB888, w, h, stride, buf, len, &e), 0);
		mnv2_rgb_view v = { buf, w, h, stride };
		mnv2_tensor_info in = input_info(iter % 3 == 2 ? MNV2_FLOAT32 : MNV2_UINT8,
						 iter % 2 ? 300 : 224, iter % 2 ? 300 : 224, 128);
		uint8_t *want = malloc(in.bytes), *got = malloc(in.bytes);
		mnv2_preprocess_opts o = { .mode = (mnv2_resize_mode)(iter % 3) };
		mnv2_transform tw, tg;
		ck_assert_int_eq(mnv2_preprocess(&v, &in, &o, want, in.bytes, &tw, &e), 0);
		ck_assert_int_eq(mnv2_preprocess_frame(&f, NULL, &in, &o, got, in.bytes, &tg, &e), 0);
		ck_assert_int_eq(memcmp(want, got, in.bytes), 0);
		ck_assert_int_eq(memcmp(&tw, &tg, sizeof tw), 0);
		free(buf);
		free(want);
		free(got);
	}
}
END_TEST

/* The region's transform maps model corners to the region's corners in frame pixels. */
START_TEST(roi_transform_maps_to_frame_pixels)
{
	uint32_t seed = 4;
	tframe t;
	tframe_random(&t, MNV2_FRAME_NV12, 64, 48, &seed, 1);
	mnv2_tensor_info in = input_info(MNV2_UINT8, 10, 10, 0);
	uint8_t out[300];
	mnv2_transform tf;
	mnv2_error e;
	mnv2_rect roi = { 10, 6, 40, 20 };
	double x, y;
	mnv2_preprocess_opts o = { .mode = MNV2_RESIZE_STRETCH };
	ck_assert_int_eq(mnv2_preprocess_frame(&t.f, &roi, &in, &o, out, 300, &tf, &e), 0);
	mnv2_transform_point(&tf, 0, 0, &x, &y);
	ck_assert_double_eq_tol(x, 10, 1e-9);
	ck_assert_double_eq_tol(y, 6, 1e-9);
	mnv2_transform_point(&tf, 1, 1, &x, &y);
	ck_assert_double_eq_tol(x, 50, 1e-9);
	ck_assert_double_eq_tol(y, 26, 1e-9);
	ck_assert_int_eq(tf.src_w, 64);
	o.mode = MNV2_RESIZE_LETTERBOX; /* 40x20 -> 10x5 in rows 2..6 */
	ck_assert_int_eq(mnv2_preprocess_frame(&t.f, &roi, &in, &o, out, 300, &tf, &e), 0);
	mnv2_transform_point(&tf, 0, 0.2, &x, &y);
	ck_assert_double_eq_tol(x, 10, 1e-9);
	ck_assert_double_eq_tol(y, 6, 1e-9);
	mnv2_transform_point(&tf, 1, 0.7, &x, &y);
	ck_assert_double_eq_tol(x, 50, 1e-9);
	ck_assert_double_eq_tol(y, 26, 1e-9);
	o.mode = MNV2_RESIZE_CENTER_CROP; /* the centred 20x20 of the region: x 20..40 */
	ck_assert_int_eq(mnv2_preprocess_frame(&t.f, &roi, &in, &o, out, 300, &tf, &e), 0);
	mnv2_transform_point(&tf, 0, 0, &x, &y);
	ck_assert_double_eq_tol(x, 20, 1e-9);
	ck_assert_double_eq_tol(y, 6, 1e-9);
	mnv2_transform_point(&tf, 1, 1, &x, &y);
	ck_assert_double_eq_tol(x, 40, 1e-9);
	ck_assert_double_eq_tol(y, 26, 1e-9);
	/* a region outside the frame, or a bad tensor, is refused before any pixel is read */
	roi = (mnv2_rect){ 30, 0, 40, 10 };
	ck_assert_int_eq(mnv2_preprocess_frame(&t.f, &roi, &in, &o, out, 300, &tf, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "region of interest 40x10 at (30,0)"));
	ck_assert_int_eq(mnv2_preprocess_frame(&t.f, NULL, &in, &o, out, 299, &tf, &e), -1);
	tframe_free(&t);
}
END_TEST

/* Scratch memory does not grow with the frame's area: 1080p NV12 into 300x300 in every
 * mode allocates under 64 KiB at peak, 4K under 128 KiB (the frames are 3 MB and 12 MB); the
 * weights grow with the scale factor, the rest with the output width. */
START_TEST(scratch_is_bounded)
{
#if COUNTING
	const uint32_t sizes[][2] = { { 1920, 1080 }, { 3840, 2160 } };
	for (size_t s = 0; s < 2; s++) {
		uint32_t w = sizes[s][0], h = sizes[s][1];
		size_t len = (size_t)w * h * 3 / 2;
		uint8_t *buf = malloc(len);
		memset(buf, 100, len);
		mnv2_frame f;
		mnv2_error e;
		ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV12, w, h, 0, buf, len, &e), 0);
		mnv2_tensor_info in = input_info(MNV2_UINT8, 300, 300, 128);
		uint8_t *out = malloc(in.bytes);
		for (int m = 0; m <= MNV2_RESIZE_CENTER_CROP; m++) {
			mnv2_preprocess_opts o = { .mode = (mnv2_resize_mode)m };
			live = peak = largest = 0;
			counting = 1;
			int rc = mnv2_preprocess_frame(&f, NULL, &in, &o, out, in.bytes, NULL, &e);
			counting = 0;
			ck_assert_int_eq(rc, 0);
			ck_assert_msg(peak > 0, "the counting allocator saw nothing");
			ck_assert_msg(peak < (s ? 128 : 64) * 1024, "%ux%u mode %d: %zu bytes of scratch "
				      "at peak", w, h, m, peak);
			ck_assert_int_eq(live, 0); /* and all of it freed */
		}
		free(out);
		free(buf);
	}
#else
	/* ASan owns malloc; the gcc build (run by scripts/run-tests.sh too) measures it. */
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("frame");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, validate_rejects_malformed_geometry);
	tcase_add_test(tc, validate_agrees_with_reference_on_random_geometry);
	tcase_add_test(tc, roi_is_checked);
	tcase_add_test(tc, format_names);
	tcase_add_test(tc, colour_maths_matches_real_formula);
	tcase_add_test(tc, known_colours_in_every_format);
	tcase_add_test(tc, every_format_converts_random_frames);
	tcase_add_test(tc, one_pass_resize_equals_convert_then_resize);
	tcase_add_test(tc, one_pass_resize_extreme_ratios);
	tcase_add_test(tc, one_pass_preprocess_equals_convert_then_preprocess);
	tcase_add_test(tc, rgb888_frames_equal_existing_preprocess);
	tcase_add_test(tc, roi_transform_maps_to_frame_pixels);
	tcase_add_test(tc, scratch_is_bounded);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
