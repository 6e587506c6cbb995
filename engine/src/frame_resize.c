/* frame_resize — raw frame to resized RGB888 in one pass (see mnv2/frame.h).
 *
 * The same separable filter as mnv2_resize_rgb() (resample.c), reorganised to stream:
 * source rows are visited once, top to bottom, and only those some output row needs. Each
 * is converted to RGB a chunk of pixels at a time and filtered horizontally to an 8-bit row
 * of the output's width (the intermediate mnv2_resize_rgb() keeps for every row); that row is
 * then added, with its vertical weight, into the int32 accumulator of every output row whose
 * window contains it. An output row is rounded and stored once its last source row is in.
 * Integer sums do not depend on their order, so the bytes equal the two-pass resampler's.
 *
 * Scratch: the weights (out_w * taps_x + out_h * taps_y), one chunk of converted pixels
 * (at least taps_x, at most the region's width), one filtered row, and as many accumulator
 * rows as output rows are ever in flight at once (about 2 when shrinking); for two-tap
 * filters also each output's first tap x and (portable) its pixel pair (10 * out_w).
 *
 * With SSE2 (frame_simd.h) the chunk is kept as planar int16 channels so the horizontal
 * filter multiplies eight taps at a time, and YUV rows convert eight pixels at a time; with
 * AVX2 (frame_avx2.c, when the CPU has it) sixteen.
 *
 * A two-tap filter (bilinear, or any enlargement) skips the chunk for the outputs whose
 * taps both lie inside the region (all but the last one or two): only the pixel pairs the
 * taps read are converted, straight from the frame (600 of a 1080p row's 1920 when
 * shrinking to 300) — eight outputs at a time with AVX2 on 4:2:0 frames, one at a time in
 * portable C for any format when AVX2 is not in use (SSE2, and aarch64, where the portable
 * loops are the only ones). With AVX2, other formats keep the dense loops, which are faster.
 */
#include "frame_internal.h"
#include "frame_simd.h"
#include "model.h"
#include "resample.h"

#if MNV2_FRAME_SIMD && defined(MNV2_HAVE_AVX2)
#define MNV2_FRAME_AVX2 1
#include "frame_avx2.h"
#include "kernels/simd.h" /* mnv2_cpu_has_avx2() */
#else
#define MNV2_FRAME_AVX2 0
#endif

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 1024 /* pixels converted at a time, at least */
#define SIMD_MAX_TAPS 1024 /* beyond, the split weights' int32 sums could overflow */

typedef struct stream {
	mnv2_frame_reader rd;
	mnv2_rect r;           /* the region, in frame pixels */
	int dw, dh, need_h, need_v, antialias;
	mnv2_coeffs ch, cv;
	uint8_t *chunk;        /* converted pixels [cb, ce) of the current row (region x) */
	uint32_t chunk_px;
	uint8_t *hrow;         /* one horizontally filtered row, dw * 3 bytes */
	int32_t *acc;          /* k_rows accumulator rows of dw * 3 */
	int k_rows;
	/* SIMD horizontal filter: planar int16 channels of the chunk (chunk_px + kpad each,
	 * the tail read with zero weights) and the weights split in 11-bit halves. */
	int simd, avx2, kpad;
	int16_t *pl[3], *whi, *wlo;
	/* AVX2, when every output has at most two taps: the weight pairs as one int32 each */
	int32_t *w2hi, *w2lo;
	/* Two-tap filters read only their pixel pairs, straight from the frame: with AVX2
	 * (4:2:0 frames), else in portable loops (any format, also under SSE2) */
	int sparse;            /* how many outputs, from the first, can (0: none) */
	int sparse_avx2;       /* through mnv2_yuv420_2tap_avx2() */
	int32_t *sx;           /* their first taps' frame x */
	uint8_t *pairs;        /* portable: their pixel pairs' RGB, 6 bytes each */
} stream;

/* Whether the sparse two-tap loops apply: every output has at most two taps, and the
 * path has them (AVX2 for 4:2:0 frames; the portable loops for any format, unless AVX2
 * is in use). Sets sparse_avx2 for the former. */
static int sparse_applies(stream *s)
{
	int yuv420 = mnv2_frame_is_420(s->rd.f->format);
	s->sparse_avx2 = s->simd && s->avx2 && yuv420; /* the AVX2 kernel takes 4:2:0 */
	if (!s->need_h || (s->avx2 && !yuv420)) /* AVX2's dense loops beat portable ones */
		return 0;
	for (int xx = 0; xx < s->dw; xx++)
		if (s->ch.bounds[2 * xx + 1] > 2)
			return 0;
	return 1;
}

/* The outputs whose two taps lie inside the region (bounds only grow: a prefix) and their
 * first taps' frame x. 0, or -1 when out of memory. */
static int sparse_setup(stream *s)
{
	const int32_t *b = s->ch.bounds;
	if (!(s->sx = malloc(sizeof(int32_t) * (size_t)s->dw)) ||
	    (!s->sparse_avx2 && !(s->pairs = malloc((size_t)6 * (size_t)s->dw))))
		return -1;
	while (s->sparse < s->dw && (uint32_t)b[2 * s->sparse] + 1 < s->r.width) {
		s->sx[s->sparse] = (int32_t)s->r.x + b[2 * s->sparse];
		s->sparse++;
	}
	return 0;
}

/* Portable: the sparse outputs of row sy, from their pixel pairs. Returns how many. */
static int sparse_row_portable(stream *s, uint32_t sy, uint8_t *out)
{
	const mnv2_coeffs *c = &s->ch;
	mnv2_frame_read_pairs(&s->rd, s->r.y + sy, s->sx, (uint32_t)s->sparse, s->pairs);
	for (int xx = 0; xx < s->sparse; xx++) {
		const int32_t *k = &c->k[(size_t)xx * c->ksize]; /* ksize >= 3; unused taps 0 */
		const uint8_t *p = s->pairs + 6 * (size_t)xx;
		for (int ch = 0; ch < 3; ch++)
			out[3 * xx + ch] = mnv2_clip8((1 << (MNV2_RESAMPLE_BITS - 1)) +
						      p[ch] * k[0] + p[3 + ch] * k[1]);
	}
	return s->sparse;
}

#if MNV2_FRAME_SIMD
static void deinterleave(const uint8_t *rgb, uint32_t n, int16_t *R, int16_t *G, int16_t *B)
{
	for (uint32_t i = 0; i < n; i++) {
		R[i] = rgb[3 * i];
		G[i] = rgb[3 * i + 1];
		B[i] = rgb[3 * i + 2];
	}
}

/* Pixels [x0, x0 + n) of frame row y into the planar channels: YUV formats eight at a
 * time in SSE2, RGB formats (and the ends) through the scalar reader. */
static void read_planar(stream *s, uint32_t y, uint32_t x0, uint32_t n)
{
	const mnv2_frame *f = s->rd.f;
	int16_t *R = s->pl[0], *G = s->pl[1], *B = s->pl[2];
	uint32_t x = x0, end = x0 + n, i = 0;
	mnv2_frame_format fmt = f->format;
	int packed = fmt == MNV2_FRAME_YUYV || fmt == MNV2_FRAME_UYVY;
	if (!mnv2_frame_is_420(fmt) && !packed) {
		mnv2_frame_read(&s->rd, y, x0, n, s->chunk);
		deinterleave(s->chunk, n, R, G, B);
		return;
	}
	const uint8_t *yp = mnv2_frame_row(f, 0, y), *c1 = mnv2_frame_row(f, 1, y);
	const uint8_t *c2 = mnv2_frame_row(f, 2, y);
	const __m128i zero = _mm_setzero_si128(), c128 = _mm_set1_epi16(128);
	const __m128i lo8 = _mm_set1_epi16(0xff);
	if (x & 1) { /* an odd first pixel shares its chroma with the one before */
		mnv2_frame_read(&s->rd, y, x, 1, s->chunk);
		deinterleave(s->chunk, 1, R, G, B);
		x++, i++;
	}
#if MNV2_FRAME_AVX2
	if (s->avx2) {
		uint32_t done = mnv2_yuv_planar_avx2(&s->rd, fmt, yp, c1, c2, x, end, R + i, G + i,
						     B + i);
		x += done, i += done;
	}
#endif
	for (; packed && x + 8 <= end; x += 8, i += 8) {
		/* 16 bytes, 8 pixels: Y U Y V ... (YUYV) or U Y V Y ... (UYVY) */
		__m128i p = _mm_loadu_si128((const __m128i *)(const void *)(yp + 2 * (size_t)x));
		__m128i even = _mm_and_si128(p, lo8), odd = _mm_srli_epi16(p, 8);
		__m128i y16 = fmt == MNV2_FRAME_YUYV ? even : odd;
		__m128i uv = _mm_sub_epi16(fmt == MNV2_FRAME_YUYV ? odd : even, c128);
		mnv2_yuv8_sse2(&s->rd, y16, uv, R + i, G + i, B + i);
	}
	for (; !packed && x + 8 <= end; x += 8, i += 8) {
		__m128i y8 = _mm_loadl_epi64((const __m128i *)(const void *)(yp + x)), uv8;
		if (fmt == MNV2_FRAME_I420) {
			int32_t u4, v4;
			memcpy(&u4, c1 + x / 2, 4);
			memcpy(&v4, c2 + x / 2, 4);
			uv8 = _mm_unpacklo_epi8(_mm_cvtsi32_si128(u4), _mm_cvtsi32_si128(v4));
		} else {
			uv8 = _mm_loadl_epi64((const __m128i *)(const void *)(c1 + x));
		}
		__m128i uv = _mm_sub_epi16(_mm_unpacklo_epi8(uv8, zero), c128);
		if (fmt == MNV2_FRAME_NV21) /* V U pairs: swap to U V */
			uv = _mm_shufflehi_epi16(_mm_shufflelo_epi16(uv, 0xb1), 0xb1);
		mnv2_yuv8_sse2(&s->rd, _mm_unpacklo_epi8(y8, zero), uv, R + i, G + i, B + i);
	}
	if (x < end) {
		mnv2_frame_read(&s->rd, y, x, end - x, s->chunk);
		deinterleave(s->chunk, end - x, R + i, G + i, B + i);
	}
}

#if MNV2_FRAME_AVX2
/* Two-tap outputs of a 4:2:0 row from the frame itself, eight at a time, up to the
 * s->sparse outputs whose taps are both inside the region. Returns how many were done. */
static int sparse_row(stream *s, uint32_t sy, uint8_t *out)
{
	const mnv2_frame *f = s->rd.f;
	uint32_t y = s->r.y + sy;
	const uint8_t *c2 = f->format == MNV2_FRAME_I420 ? mnv2_frame_row(f, 2, y) : NULL;
	const uint8_t *yp = mnv2_frame_row(f, 0, y), *c1 = mnv2_frame_row(f, 1, y);
	return (int)mnv2_yuv420_2tap_avx2(&s->rd, f->format, yp, c1, c2, s->sx,
					  (uint32_t)s->sparse, s->w2hi, s->w2lo, out);
}
#endif

static void filter_row_simd(stream *s, uint32_t sy, uint8_t *out)
{
	const mnv2_coeffs *c = &s->ch;
	uint32_t cb = 0, ce = 0;
	int xx = 0;
#if MNV2_FRAME_AVX2
	if (s->sparse && s->sparse_avx2)
		xx = sparse_row(s, sy, out);
	else
#endif
	if (s->sparse)
		xx = sparse_row_portable(s, sy, out);
	for (; xx < s->dw; xx++) {
		uint32_t xmin = (uint32_t)c->bounds[2 * xx], n = (uint32_t)c->bounds[2 * xx + 1];
#if MNV2_FRAME_AVX2
		/* two-tap filters: eight outputs at once, when all their taps are in the chunk */
		if (s->w2hi && xx + 8 <= s->dw && xmin >= cb &&
		    (uint32_t)(c->bounds[2 * xx + 14] + c->bounds[2 * xx + 15]) <= ce) {
			const int16_t *const pl[3] = { s->pl[0], s->pl[1], s->pl[2] };
			int32_t off[8];
			for (int o = 0; o < 8; o++)
				off[o] = c->bounds[2 * (xx + o)] - (int32_t)cb;
			mnv2_dot3x8_2tap_avx2(pl, off, s->w2hi + xx, s->w2lo + xx, out + 3 * xx);
			xx += 7;
			continue;
		}
		/* four outputs at once when all their taps are in the chunk (bounds only grow) */
		if (s->avx2 && xx + 4 <= s->dw && xmin >= cb &&
		    (uint32_t)(c->bounds[2 * xx + 6] + c->bounds[2 * xx + 7]) <= ce) {
			const int16_t *const pl[3] = { s->pl[0], s->pl[1], s->pl[2] };
			size_t off[4];
			for (int o = 0; o < 4; o++)
				off[o] = (size_t)c->bounds[2 * (xx + o)] - cb;
			size_t w = (size_t)xx * (size_t)s->kpad;
			mnv2_dot3x4_avx2(pl, off, s->whi + w, s->wlo + w, s->kpad, out + 3 * xx);
			xx += 3;
			continue;
		}
#endif
		if (xmin < cb || xmin + n > ce) {
			cb = xmin;
			ce = s->r.width - cb < s->chunk_px ? s->r.width : cb + s->chunk_px;
			read_planar(s, s->r.y + sy, s->r.x + cb, ce - cb);
		}
		size_t off = xmin - cb, w = (size_t)xx * (size_t)s->kpad;
#if MNV2_FRAME_AVX2
		if (s->avx2) {
			mnv2_dot3_avx2(s->pl[0] + off, s->pl[1] + off, s->pl[2] + off, s->whi + w,
				       s->wlo + w, s->kpad, out + 3 * xx);
			continue;
		}
#endif
		mnv2_dot3_sse2(s->pl[0] + off, s->pl[1] + off, s->pl[2] + off, s->whi + w,
			       s->wlo + w, s->kpad, out + 3 * xx);
	}
}

/* The first two split weights of every output as int32 pairs (tap 0 low) for
 * mnv2_dot3x8_2tap_avx2(); kpad >= 8, so tap 1 exists (0 past the filter). 0, or -1. */
static int pair_weights(stream *s)
{
	s->w2hi = malloc(sizeof(int32_t) * (size_t)s->dw);
	s->w2lo = malloc(sizeof(int32_t) * (size_t)s->dw);
	if (!s->w2hi || !s->w2lo)
		return -1;
	for (int xx = 0; xx < s->dw; xx++) {
		size_t k = (size_t)xx * (size_t)s->kpad;
		s->w2hi[xx] = (int32_t)((uint32_t)(uint16_t)s->whi[k] |
					(uint32_t)(uint16_t)s->whi[k + 1] << 16);
		s->w2lo[xx] = (int32_t)((uint32_t)(uint16_t)s->wlo[k] |
					(uint32_t)(uint16_t)s->wlo[k + 1] << 16);
	}
	return 0;
}

/* Splits the weights for mnv2_dot3_sse2() and makes the planar chunk; 0, or -1. */
static int simd_setup(stream *s)
{
	const mnv2_coeffs *c = &s->ch;
	s->kpad = (c->ksize + 7) & ~7;
	size_t nw = (size_t)s->dw * (size_t)s->kpad;
	s->whi = calloc(nw, sizeof(int16_t));
	s->wlo = calloc(nw, sizeof(int16_t));
	for (int p = 0; p < 3; p++)
		s->pl[p] = calloc((size_t)s->chunk_px + (size_t)s->kpad, sizeof(int16_t));
	if (!s->whi || !s->wlo || !s->pl[0] || !s->pl[1] || !s->pl[2])
		return -1;
	int two_tap = s->avx2;
	for (int xx = 0; xx < s->dw; xx++) {
		two_tap &= c->bounds[2 * xx + 1] <= 2;
		for (int j = 0; j < c->ksize; j++) { /* weights are >= 0 and <= 2^22 */
			int32_t w = c->k[(size_t)xx * c->ksize + (size_t)j];
			s->whi[(size_t)xx * s->kpad + (size_t)j] = (int16_t)(w >> 11);
			s->wlo[(size_t)xx * s->kpad + (size_t)j] = (int16_t)(w & 2047);
		}
	}
	return two_tap ? pair_weights(s) : 0;
}
#endif

/* Row sy of the region, filtered horizontally into out (dw * 3 bytes). */
static void filter_row(stream *s, uint32_t sy, uint8_t *out)
{
	if (!s->need_h) {
		mnv2_frame_read(&s->rd, s->r.y + sy, s->r.x, s->r.width, out);
		return;
	}
#if MNV2_FRAME_SIMD
	if (s->simd) {
		filter_row_simd(s, sy, out);
		return;
	}
#endif
	const mnv2_coeffs *c = &s->ch;
	uint32_t cb = 0, ce = 0;
	for (int xx = s->sparse ? sparse_row_portable(s, sy, out) : 0; xx < s->dw; xx++) {
		const int32_t *k = &c->k[(size_t)xx * c->ksize];
		uint32_t xmin = (uint32_t)c->bounds[2 * xx], n = (uint32_t)c->bounds[2 * xx + 1];
		if (xmin < cb || xmin + n > ce) { /* bounds only grow: slide the chunk on */
			cb = xmin;
			ce = s->r.width - cb < s->chunk_px ? s->r.width : cb + s->chunk_px;
			mnv2_frame_read(&s->rd, s->r.y + sy, s->r.x + cb, ce - cb, s->chunk);
		}
		const uint8_t *p = s->chunk + (size_t)(xmin - cb) * 3;
		int32_t s0 = 1 << (MNV2_RESAMPLE_BITS - 1), s1 = s0, s2 = s0;
		for (uint32_t x = 0; x < n; x++, p += 3) {
			s0 += p[0] * k[x];
			s1 += p[1] * k[x];
			s2 += p[2] * k[x];
		}
		out[3 * xx] = mnv2_clip8(s0);
		out[3 * xx + 1] = mnv2_clip8(s1);
		out[3 * xx + 2] = mnv2_clip8(s2);
	}
}


static int ymin_of(const stream *s, int yy) { return s->cv.bounds[2 * yy]; }
static int yend_of(const stream *s, int yy)
{
	return s->cv.bounds[2 * yy] + s->cv.bounds[2 * yy + 1];
}

/* The most output rows whose windows hold one source row (rows visited in order). */
static int rows_in_flight(const stream *s)
{
	int k = 1, lo = 0, hi = 0, last = yend_of(s, s->dh - 1);
	for (int r = ymin_of(s, 0); r < last; r++) { /* the same steps as run_2d() */
		while (lo < hi && yend_of(s, lo) <= r)
			lo++;
		while (hi < s->dh && ymin_of(s, hi) <= r)
			hi++;
		k = hi - lo > k ? hi - lo : k;
	}
	return k;
}

static void acc_start(stream *s, int yy)
{
	int32_t *a = s->acc + (size_t)(yy % s->k_rows) * s->dw * 3;
	size_t n = (size_t)s->dw * 3, i = 0;
#if MNV2_FRAME_SIMD /* (the loop below is not vectorised at -O2) */
	const __m128i half = _mm_set1_epi32(1 << (MNV2_RESAMPLE_BITS - 1));
	for (; i + 4 <= n; i += 4)
		_mm_storeu_si128((__m128i *)(void *)(a + i), half);
#endif
	for (; i < n; i++)
		a[i] = 1 << (MNV2_RESAMPLE_BITS - 1);
}

static void acc_finish(stream *s, int yy, uint8_t *dst, size_t dst_stride)
{
	const int32_t *a = s->acc + (size_t)(yy % s->k_rows) * s->dw * 3;
	uint8_t *o = dst + (size_t)yy * dst_stride;
#if MNV2_FRAME_SIMD
	if (s->simd) {
		mnv2_clip8_row_sse2(a, (size_t)s->dw * 3, o);
		return;
	}
#endif
	for (size_t i = 0; i < (size_t)s->dw * 3; i++)
		o[i] = mnv2_clip8(a[i]);
}

static void acc_add(stream *s, int yy, int r)
{
	int32_t *a = s->acc + (size_t)(yy % s->k_rows) * s->dw * 3;
	int32_t w = s->cv.k[(size_t)yy * s->cv.ksize + (size_t)(r - ymin_of(s, yy))];
	const uint8_t *h = s->hrow;
#if MNV2_FRAME_SIMD
	if (s->simd && w >= 0 && w <= (1 << MNV2_RESAMPLE_BITS)) {
#if MNV2_FRAME_AVX2
		if (s->avx2) {
			mnv2_acc_add_avx2(a, h, (size_t)s->dw * 3, w);
			return;
		}
#endif
		mnv2_acc_add_sse2(a, h, (size_t)s->dw * 3, w);
		return;
	}
#endif
	for (size_t i = 0; i < (size_t)s->dw * 3; i++)
		a[i] += h[i] * w;
}

/* Asks the CPU to start loading row sy of a 4:2:0 region (its luma and chroma) while
 * the current row is filtered: the frame was just written by another process, so it is
 * rarely in this core's caches, and a sparse filter's reads are too scattered for the
 * hardware prefetcher to run ahead. */
static void prefetch_row(const stream *s, uint32_t sy)
{
	const mnv2_frame *f = s->rd.f;
	if (!mnv2_frame_is_420(f->format))
		return;
	uint32_t y = s->r.y + sy;
	const uint8_t *yp = mnv2_frame_row(f, 0, y) + s->r.x, *c1 = mnv2_frame_row(f, 1, y);
	const uint8_t *c2 = mnv2_frame_row(f, 2, y);
	for (uint32_t i = 0; i < s->r.width; i += 64)
		__builtin_prefetch(yp + i);
	if (f->format == MNV2_FRAME_I420) { /* U and V planes, half as wide */
		for (uint32_t i = 0; i < s->r.width / 2; i += 64) {
			__builtin_prefetch(c1 + s->r.x / 2 + i);
			__builtin_prefetch(c2 + s->r.x / 2 + i);
		}
		return;
	}
	for (uint32_t i = 0; i < s->r.width; i += 64) /* U V pairs */
		__builtin_prefetch(c1 + (s->r.x & ~1u) + i);
}

/* Both directions: stream the needed source rows through the accumulators. */
static void run_2d(stream *s, uint8_t *dst, size_t dst_stride)
{
	int lo = 0, hi = 0, last = yend_of(s, s->dh - 1);
	for (int r = ymin_of(s, 0); r < last; r++) {
		while (lo < hi && yend_of(s, lo) <= r) /* all its rows are in */
			acc_finish(s, lo++, dst, dst_stride);
		while (hi < s->dh && ymin_of(s, hi) <= r)
			acc_start(s, hi++);
		if (lo == hi)
			continue; /* no output row reads this source row */
		if (s->sparse) { /* the next row read */
			int next = r + 1 < yend_of(s, hi - 1) ? r + 1       /* the same output rows' */
				 : hi < s->dh		 ? ymin_of(s, hi) /* the next output row's */
							 : last;
			if (next < last)
				prefetch_row(s, (uint32_t)next);
		}
		filter_row(s, (uint32_t)r, s->hrow);
		for (int yy = lo; yy < hi; yy++)
			if (r < yend_of(s, yy)) /* false only for an empty window */
				acc_add(s, yy, r);
	}
	for (; lo < s->dh; lo++) { /* rows whose windows end at the last row, or are empty */
		if (lo >= hi)
			acc_start(s, hi++);
		acc_finish(s, lo, dst, dst_stride);
	}
}

static int run(stream *s, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, uint8_t *dst,
	       size_t dst_stride)
{
	int W = (int)s->r.width, H = (int)s->r.height;
	if (mnv2_coeffs_make(&s->ch, W, x0, x1, s->dw, s->antialias) ||
	    mnv2_coeffs_make(&s->cv, H, y0, y1, s->dh, s->antialias))
		return -1;
	if (s->need_h) {
		uint32_t want = (uint32_t)s->ch.ksize * 4 > CHUNK_MIN ? (uint32_t)s->ch.ksize * 4 : CHUNK_MIN;
		s->chunk_px = want < (uint32_t)W ? want : (uint32_t)W;
		if (!(s->chunk = malloc((size_t)s->chunk_px * 3)))
			return -1;
#if MNV2_FRAME_SIMD
		s->simd = s->simd && s->ch.ksize <= SIMD_MAX_TAPS;
#endif
		if (sparse_applies(s) && sparse_setup(s))
			return -1;
#if MNV2_FRAME_SIMD
		if (s->simd && simd_setup(s))
			return -1;
		/* the split copy replaces the int32 weights, unless portable sparse rows read them */
		if (s->simd && (!s->sparse || s->sparse_avx2)) {
			free(s->ch.k);
			s->ch.k = NULL;
		}
#endif
	}
	if (!s->need_v) { /* rows map one to one (y0 = 0, dh = H) */
		for (int y = 0; y < s->dh; y++)
			filter_row(s, (uint32_t)y, dst + (size_t)y * dst_stride);
		return 0;
	}
	s->k_rows = rows_in_flight(s);
	s->hrow = malloc((size_t)s->dw * 3);
	s->acc = malloc(sizeof(int32_t) * (size_t)s->k_rows * (size_t)s->dw * 3);
	if (!s->hrow || !s->acc)
		return -1;
	run_2d(s, dst, dst_stride);
	return 0;
}

int mnv2_resize_frame_path(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0,
			   uint32_t y0, uint32_t x1, uint32_t y1, uint8_t *dst, uint32_t dst_w,
			   uint32_t dst_h, size_t dst_stride, mnv2_resize_filter filter, int simd,
			   mnv2_error *err)
{
	stream s = { .dw = (int)dst_w, .dh = (int)dst_h, .simd = simd && MNV2_FRAME_SIMD,
		     .antialias = filter == MNV2_FILTER_ANTIALIAS };
	if (filter != MNV2_FILTER_ANTIALIAS && filter != MNV2_FILTER_BILINEAR)
		return mnv2_fail(err, "resize: unknown filter %d", (int)filter);
#if MNV2_FRAME_AVX2
	s.avx2 = simd >= 2 && mnv2_cpu_has_avx2();
#endif
	if (mnv2_frame_validate(f, err) || mnv2_frame_roi(f, roi, &s.r, err))
		return -1;
	if (!dst || dst_w == 0 || dst_h == 0 || dst_w > MNV2_RESAMPLE_MAX_DIM ||
	    dst_h > MNV2_RESAMPLE_MAX_DIM || dst_stride < (size_t)dst_w * 3)
		return mnv2_fail(err, "resize: bad output size %ux%u", dst_w, dst_h);
	if (x0 >= x1 || y0 >= y1 || x1 > s.r.width || y1 > s.r.height)
		return mnv2_fail(err, "resize: box [%u,%u)x[%u,%u) outside the %ux%u image", x0, x1,
				 y0, y1, s.r.width, s.r.height);
	/* The same shortcuts as resample.c: an identity direction is not filtered. */
	s.need_h = dst_w != s.r.width || x0 || x1 != dst_w;
	s.need_v = dst_h != s.r.height || y0 || y1 != dst_h;
	mnv2_frame_reader_init(&s.rd, f);
	int rc = run(&s, x0, y0, x1, y1, dst, dst_stride);
	mnv2_coeffs_free(&s.ch);
	mnv2_coeffs_free(&s.cv);
	free(s.chunk);
	free(s.hrow);
	free(s.acc);
	free(s.whi);
	free(s.wlo);
	free(s.w2hi);
	free(s.w2lo);
	free(s.sx);
	free(s.pairs);
	for (int p = 0; p < 3; p++)
		free(s.pl[p]);
	return rc ? mnv2_fail(err, "resize: out of memory") : 0;
}

int mnv2_resize_frame(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0, uint32_t y0,
		      uint32_t x1, uint32_t y1, uint8_t *dst, uint32_t dst_w, uint32_t dst_h,
		      size_t dst_stride, mnv2_error *err)
{
	return mnv2_resize_frame_path(f, roi, x0, y0, x1, y1, dst, dst_w, dst_h, dst_stride,
				      MNV2_FILTER_ANTIALIAS, 2, err);
}

int mnv2_resize_frame_filter(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0,
			     uint32_t y0, uint32_t x1, uint32_t y1, uint8_t *dst,
			     uint32_t dst_w, uint32_t dst_h, size_t dst_stride,
			     mnv2_resize_filter filter, mnv2_error *err)
{
	return mnv2_resize_frame_path(f, roi, x0, y0, x1, y1, dst, dst_w, dst_h, dst_stride,
				      filter, 2, err);
}
