/* fuzz_frame — libFuzzer harness for raw frame geometry: the engine's frame validation and
 * one-pass convert+resize (mnv2/frame.h) and libmnv2image's raw RGB path
 * (mnv2_image_from_raw).
 *
 * Input: a 73-byte header, then the frame's bytes (exactly sized, so ASan sees any read
 * past them).
 *   0      format (value % 12: 0 and 11 are not formats)
 *   1      flags: bit 0 explicit strides/offsets (else mnv2_frame_init's packed layout),
 *          bit 1 full range, bit 2 BT.709, bits 3-4 resize mode (0-2 with the antialias
 *          filter, 3: stretch with bilinear), bits 5-6 input type (uint8, int8,
 *          float32, uint8), bit 7 a region of interest
 *   2-5    width, height (16-bit little-endian each)
 *   6, 7   model input width, height - 1 (so 1..256)
 *   8      stride0 (64-bit)          16  strides[3] (64-bit each)   40  offsets[3]
 *   64     roi x, y, width, height (16-bit each)                    72  zero point
 * Checked:
 *  - mnv2_frame_init / mnv2_frame_validate / mnv2_frame_roi answer 0 or -1, and -1 always
 *    with a message;
 *  - for a valid frame and region, mnv2_preprocess_frame() succeeds and gives exactly the
 *    bytes and transform of mnv2_frame_to_rgb() (whole frame) + mnv2_preprocess_roi() —
 *    the contract of the one-pass path — and the transform covers the whole frame;
 *  - the region resized to the model input's size by each of the resampler's loops
 *    (portable, SSE2, and the CPU's best: mnv2_resize_frame_path) gives the same bytes, so
 *    the loops the CPU does not pick (the portable ones are aarch64's) meet hostile
 *    geometry too;
 *  - the four packed RGB/grey formats through mnv2_image_from_raw(): a success is a
 *    width x height RGB888 image equal to mnv2_frame_to_rgb()'s for the same layout;
 *    a failure has a message and leaves the image empty. Whenever the frame is valid for
 *    both, both must accept it (mnv2_image_from_raw's only extra rule is its pixel limit,
 *    not reached here).
 *
 * Built with -DMNV2_FUZZ_SEEDS instead (no libFuzzer), it is `fuzz_frame_seeds DIR`: every
 * format, packed and with explicit planes (gaps, reversed and overlapping planes), odd
 * sizes, every resize mode and input type, regions, and a few invalid layouts; each seed is
 * run through the harness before it is written, and must get as far as it was made for
 * (converted and resized, or refused). */
#include "frame_internal.h" /* mnv2_resize_frame_path(): each of the resampler's loops */
#include "mnv2/frame.h"
#include "mnv2/image.h"
#include "mnv2/preprocess.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 73
#define MAX_PIXELS ((uint64_t)1 << 24)

typedef struct params {
	mnv2_frame f;
	int explicit_planes, has_roi;
	size_t stride0;
	mnv2_rect roi;
	mnv2_tensor_info in;
	mnv2_preprocess_opts po;
} params;

static uint64_t get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void parse(const uint8_t *d, size_t size, params *q)
{
	static const mnv2_dtype types[4] = { MNV2_UINT8, MNV2_INT8, MNV2_FLOAT32, MNV2_UINT8 };
	memset(q, 0, sizeof *q);
	uint8_t flags = d[1];
	q->f.format = (mnv2_frame_format)(d[0] % 12);
	q->f.width = (uint32_t)get(d + 2, 2);
	q->f.height = (uint32_t)get(d + 4, 2);
	q->f.data = d + HDR;
	q->f.len = size - HDR;
	q->f.range = flags & 2 ? MNV2_RANGE_FULL : MNV2_RANGE_LIMITED;
	q->f.matrix = flags & 4 ? MNV2_MATRIX_BT709 : MNV2_MATRIX_BT601;
	q->explicit_planes = flags & 1;
	q->stride0 = (size_t)get(d + 8, 8);
	for (int p = 0; p < 3; p++) {
		q->f.stride[p] = (size_t)get(d + 16 + 8 * p, 8);
		q->f.offset[p] = (size_t)get(d + 40 + 8 * p, 8);
	}
	q->has_roi = flags >> 7;
	q->roi = (mnv2_rect){ (uint32_t)get(d + 64, 2), (uint32_t)get(d + 66, 2),
			      (uint32_t)get(d + 68, 2), (uint32_t)get(d + 70, 2) };
	int mode = (flags >> 3) & 3;   /* 3: stretch with the bilinear filter */
	q->po.mode = mode == 3 ? MNV2_RESIZE_STRETCH : (mnv2_resize_mode)mode;
	q->po.filter = mode == 3 ? MNV2_FILTER_BILINEAR : MNV2_FILTER_ANTIALIAS;
	mnv2_tensor_info *t = &q->in;
	t->name = "input";
	t->type = types[(flags >> 5) & 3];
	t->rank = 4;
	t->dims[0] = 1;
	t->dims[1] = d[7] + 1;
	t->dims[2] = d[6] + 1;
	t->dims[3] = 3;
	t->bytes = (size_t)t->dims[1] * (size_t)t->dims[2] * 3 * (t->type == MNV2_FLOAT32 ? 4 : 1);
	t->quantized = t->type != MNV2_FLOAT32;
	t->scale = 1.0f / 128;
	t->zero_point = t->type == MNV2_INT8 ? (int32_t)d[72] - 128 : d[72];
}

static void must_fail_with_message(int rc, const mnv2_error *e)
{
	if (rc != -1 || !e->msg[0] || !memchr(e->msg, 0, sizeof e->msg))
		abort();
}

/* The one-pass path against its definition: the frame converted, then resized. */
static void check_preprocess(const params *q, const mnv2_rect *roi)
{
	mnv2_error e = { { 0 } };
	uint8_t *dst = malloc(q->in.bytes), *ref = malloc(q->in.bytes);
	size_t rgb_len = (size_t)q->f.width * q->f.height * 3;
	uint8_t *rgb = malloc(rgb_len);
	if (!dst || !ref || !rgb)
		abort();
	mnv2_transform tf, tf_ref;
	if (mnv2_preprocess_frame(&q->f, roi, &q->in, &q->po, dst, q->in.bytes, &tf, &e)) {
		fprintf(stderr, "fuzz_frame: preprocess of a valid frame failed: %s\n", e.msg);
		abort();
	}
	if (mnv2_frame_to_rgb(&q->f, NULL, rgb, (size_t)q->f.width * 3, &e))
		abort();
	mnv2_rgb_view v = { rgb, q->f.width, q->f.height, (size_t)q->f.width * 3 };
	if (mnv2_preprocess_roi(&v, roi, &q->in, &q->po, ref, q->in.bytes, &tf_ref, &e))
		abort();
	if (memcmp(dst, ref, q->in.bytes)) {
		fprintf(stderr, "fuzz_frame: one-pass %s differs from convert+resize\n",
			mnv2_frame_format_name(q->f.format));
		abort();
	}
	if (memcmp(&tf, &tf_ref, sizeof tf) || tf.src_w != q->f.width || tf.src_h != q->f.height)
		abort();
	free(dst);
	free(ref);
	free(rgb);
}

/* libmnv2image's raw path against the engine's conversion of the same packed frame. */
static void check_image_raw(const params *q, int frame_ok)
{
	static const mnv2_pixfmt pix[5] = { MNV2_PIX_RGB888, MNV2_PIX_RGB888, MNV2_PIX_BGR888,
					    MNV2_PIX_RGBA8888, MNV2_PIX_GRAY8 };
	int packed = q->f.format >= MNV2_FRAME_RGB888 && q->f.format <= MNV2_FRAME_GRAY8;
	/* the other values: an unknown mnv2_pixfmt, which must be refused */
	mnv2_pixfmt fmt = packed ? pix[q->f.format] : (mnv2_pixfmt)(4 + q->f.format);
	mnv2_image_limits lim = { .max_pixels = MAX_PIXELS, .max_bytes = 1 };
	mnv2_image img;
	char err[MNV2_IMAGE_ERR_LEN];
	err[0] = 0;
	int rc = mnv2_image_from_raw(fmt, q->f.width, q->f.height, q->stride0, q->f.data,
				     q->f.len, &lim, &img, err, sizeof err);
	if (rc) {
		if (rc != -1 || !err[0] || img.data || (packed && frame_ok))
			abort();
		return;
	}
	if (!packed || !img.data || img.width != q->f.width || img.height != q->f.height ||
	    img.stride != (size_t)img.width * 3)
		abort();
	if (!frame_ok) {   /* mnv2_frame_validate refused what the image library took */
		fprintf(stderr, "fuzz_frame: mnv2_image_from_raw accepts a %s frame that "
			"mnv2_frame_validate refuses\n", mnv2_frame_format_name(q->f.format));
		abort();
	}
	size_t n = (size_t)img.width * img.height * 3;
	uint8_t *ref = malloc(n);
	mnv2_error e = { { 0 } };
	if (!ref || mnv2_frame_to_rgb(&q->f, NULL, ref, img.stride, &e) ||
	    memcmp(ref, img.data, n))
		abort();
	free(ref);
	mnv2_image_free(&img);
}

/* The region r resized whole to the model input's size with the input's filter, by the
 * portable, SSE2 and best loops: the same bytes from each. */
static void check_paths(const params *q, const mnv2_rect *roi, const mnv2_rect *r)
{
	uint32_t w = (uint32_t)q->in.dims[2], h = (uint32_t)q->in.dims[1];
	size_t n = (size_t)w * h * 3;
	uint8_t *out[3] = { malloc(n), malloc(n), malloc(n) };
	if (!out[0] || !out[1] || !out[2])
		abort();
	for (int simd = 0; simd < 3; simd++) {
		mnv2_error e = { { 0 } };
		if (mnv2_resize_frame_path(&q->f, roi, 0, 0, r->width, r->height, out[simd], w, h,
					   (size_t)w * 3, q->po.filter, simd, &e)) {
			fprintf(stderr, "fuzz_frame: resize path %d failed: %s\n", simd, e.msg);
			abort();
		}
	}
	if (memcmp(out[0], out[1], n) || memcmp(out[0], out[2], n)) {
		fprintf(stderr, "fuzz_frame: the resampler's loops differ (%s %ux%u, %s)\n",
			mnv2_frame_format_name(q->f.format), q->f.width, q->f.height,
			mnv2_resize_filter_name(q->po.filter));
		abort();
	}
	for (int i = 0; i < 3; i++)
		free(out[i]);
}

/* How far an input got: 0 refused (or too short), 1 a valid frame whose region was
 * refused, 2 converted and resized (and checked). */
static int run(const uint8_t *data, size_t size)
{
	if (size < HDR)
		return 0;
	params q;
	parse(data, size, &q);
	mnv2_error e = { { 0 } };
	int ok;
	if (q.explicit_planes) {
		ok = mnv2_frame_validate(&q.f, &e) == 0;
	} else {
		mnv2_frame f;
		ok = mnv2_frame_init(&f, q.f.format, q.f.width, q.f.height, q.stride0, q.f.data,
				     q.f.len, &e) == 0;
		if (ok) {
			f.range = q.f.range;
			f.matrix = q.f.matrix;
			q.f = f;
			ok = mnv2_frame_validate(&q.f, &e) == 0;
		}
	}
	if (!ok)
		must_fail_with_message(-1, &e);
	if (!q.explicit_planes)
		check_image_raw(&q, ok);
	if (!ok)
		return 0;
	mnv2_rect r;
	const mnv2_rect *roi = q.has_roi ? &q.roi : NULL;
	int rc = mnv2_frame_roi(&q.f, roi, &r, &e);
	if (rc) {
		must_fail_with_message(rc, &e);
		return 1;
	}
	if (r.width == 0 || r.height == 0 || (uint64_t)r.x + r.width > q.f.width ||
	    (uint64_t)r.y + r.height > q.f.height)
		abort();
	check_preprocess(&q, roi);
	check_paths(&q, roi, &r);
	return 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size);
	return 0;
}

#ifdef MNV2_FUZZ_SEEDS
#include <errno.h>
#include <sys/stat.h>

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct seed {
	unsigned fmt, flags, w, h, in_w, in_h;
	uint64_t stride0, stride[3], offset[3];
	unsigned roi[4];
	size_t len;
} seed;

/* Writes the seed after checking that it gets as far as `want` (run()). */
static int write_seed(const char *dir, int n, const char *name, const seed *s, int want)
{
	size_t size = HDR + s->len;
	uint8_t *b = calloc(1, size);
	if (!b)
		return -1;
	b[0] = (uint8_t)s->fmt;
	b[1] = (uint8_t)s->flags;
	put(b + 2, s->w, 2);
	put(b + 4, s->h, 2);
	b[6] = (uint8_t)(s->in_w - 1);
	b[7] = (uint8_t)(s->in_h - 1);
	put(b + 8, s->stride0, 8);
	for (int p = 0; p < 3; p++) {
		put(b + 16 + 8 * p, s->stride[p], 8);
		put(b + 40 + 8 * p, s->offset[p], 8);
	}
	for (int i = 0; i < 4; i++)
		put(b + 64 + 2 * i, s->roi[i], 2);
	b[72] = 128;
	for (size_t i = 0; i < s->len; i++)   /* a smooth pattern with some texture */
		b[HDR + i] = (uint8_t)(i * 5 + (i >> 6) * 11);
	int got = run(b, size);
	if (got != want)
		fprintf(stderr, "fuzz_frame_seeds: seed %s reaches stage %d, not %d\n", name, got,
			want);
	char path[600];
	snprintf(path, sizeof path, "%s/%02d-%s", dir, n, name);
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(b, 1, size, f) == size ? 0 : -1;
	if (f && fclose(f))
		rc = -1;
	free(b);
	return rc || got != want ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_frame_seeds DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	int n = 0, failed = 0;
	char name[64];
	for (unsigned fmt = 1; fmt <= MNV2_FRAME_FORMAT_MAX; fmt++) {
		unsigned planes = mnv2_frame_format_planes((mnv2_frame_format)fmt);
		for (int v = 0; v < 4; v++) {
			/* v 0: packed 21x13 (odd: chroma rounds up); 1: packed with a stride and a
			 * region; 2: explicit planes in reverse order with gaps; 3: explicit
			 * overlapping planes (all at offset 0) */
			uint32_t w = fmt == MNV2_FRAME_YUYV || fmt == MNV2_FRAME_UYVY ? 22 : 21, h = 13;
			seed s = { .fmt = fmt, .w = w, .h = h, .in_w = 8 + 3u * (unsigned)v,
				   .in_h = 7 + 2u * (unsigned)v };
			s.flags = (unsigned)((v & 3) << 3 | (v % 3) << 5 | (fmt & 1) << 1 |
					     ((fmt >> 1) & 1) << 2);
			uint64_t rowmax = 0;
			for (unsigned p = 0; p < planes; p++) {
				uint64_t rb = mnv2_frame_plane_row_bytes((mnv2_frame_format)fmt, w, p);
				rowmax = rb > rowmax ? rb : rowmax;
			}
			if (v == 1) {
				s.stride0 = rowmax + 5;
				s.flags |= 0x80;
				s.roi[0] = 3, s.roi[1] = 2, s.roi[2] = 11, s.roi[3] = 9;
			}
			s.len = (size_t)(rowmax + 8) * h * 3 + 64;
			if (v >= 2) {
				s.flags |= 1;
				uint64_t at = 32;
				for (int p = (int)planes - 1; p >= 0; p--) {
					s.stride[p] = rowmax + 8;
					s.offset[p] = v == 3 ? 0 : at;
					at += s.stride[p] * h + 16;
				}
			}
			snprintf(name, sizeof name, "%s-%d", mnv2_frame_format_name((mnv2_frame_format)fmt), v);
			failed |= write_seed(argv[1], n++, name, &s, 2);
		}
	}
	/* invalid: a plane past the end, a stride below the row, odd width for 4:2:2, an
	 * offset near 2^64, a region outside the frame, format 0 */
	seed bad[6] = {
		{ .fmt = MNV2_FRAME_NV12, .flags = 1, .w = 16, .h = 8, .in_w = 4, .in_h = 4,
		  .stride = { 16, 16 }, .offset = { 0, 150 }, .len = 200 },
		{ .fmt = MNV2_FRAME_RGB888, .w = 16, .h = 8, .in_w = 4, .in_h = 4, .stride0 = 40,
		  .len = 400 },
		{ .fmt = MNV2_FRAME_YUYV, .w = 15, .h = 8, .in_w = 4, .in_h = 4, .len = 400 },
		{ .fmt = MNV2_FRAME_I420, .flags = 1, .w = 8, .h = 8, .in_w = 4, .in_h = 4,
		  .stride = { 8, 4, 4 }, .offset = { 0, UINT64_MAX - 3, 80 }, .len = 200 },
		{ .fmt = MNV2_FRAME_GRAY8, .flags = 0x80, .w = 8, .h = 8, .in_w = 4, .in_h = 4,
		  .roi = { 4, 4, 5, 1 }, .len = 64 },
		{ .fmt = 0, .w = 8, .h = 8, .in_w = 4, .in_h = 4, .len = 64 },
	};
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "invalid-%d", i);
		failed |= write_seed(argv[1], n++, name, &bad[i], i == 4 ? 1 : 0);
	}
	printf("fuzz_frame_seeds: %d seeds in %s\n", n, argv[1]);
	return failed ? 1 : 0;
}
#endif
