/* dwconv_avx2 — 3x3 depthwise convolution (depth multiplier 1, any stride and padding) on
 * AVX2, 16 channels at a time.
 *
 * For a block of 16 channels, a "pair row" P(r) holds, for every input column the output
 * row needs, input rows r and r + 1 widened to int16 and interleaved per channel
 * (_mm256_unpack{lo,hi}_epi16), rows outside the input reading x_zp. Output row oy, whose
 * taps read rows r, r + 1, r + 2 (r = oy * stride - pad), is P(r) . A + P(r + 2) . B over
 * kx with A = (w[0][kx], w[1][kx]), B = (w[2][kx], 0): 12 _mm256_madd_epi16 per 16
 * outputs, reading the pair rows straight from memory. With stride 1 the row below,
 * reading rows r + 1 .. r + 3, is P(r) . (0, w[0][kx]) + P(r + 2) . (w[1][kx], w[2][kx]),
 * so rows are done two at a time from the same loads, and only every other pair row is
 * built. A small ring keeps the pair rows of the block, each built once.
 *
 * Unpacking leaves channels in the order lo = 0-3, 8-11 and hi = 4-7, 12-15; the packed
 * weights, bias and scale (pack.c) use that order and _mm256_packs_epi32(lo, hi) restores
 * 0-15. Padded taps read x_zp, which the folded bias correction cancels. */
/* Built with -mavx2 by engine/meson.build; a build that compiles every engine source
 * without it (scripts/fuzz.sh) gets an empty unit, and dispatch.c never calls in here.
 * dwconv_vnni.c compiles this file again with DOT() as AVX-VNNI's vpdpwssd, which adds
 * the same two int16 products to the accumulator (wrapping, never saturating). */
#if defined(__AVX2__) && !defined(DOT)
#define DOT(acc, x, w) _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
#define DW_ENTRY mnv2_dw3_avx2
#endif
#ifdef DOT
#include "simd.h"
#include "avx2_util.h"

#define BLK MNV2_DW_BLOCK
#define RING MNV2_DW_RING

typedef struct dw_geom {
	const mnv2_conv_params *p;
	const mnv2_conv_packed *pk;
	const uint8_t *in;
	int ix_lo, ncol;          /* input columns ix_lo .. ix_lo + ncol - 1 */
	__m256i zp;               /* x_zp as 16 int16 */
} dw_geom;

/* 16 channels at src (n of them valid, the rest read as 0), widened. */
static MNV2_ALWAYS_INLINE __m256i load16(const uint8_t *src, int n, int s)
{
	if (n == BLK)
		return widen16(src, s);
	uint8_t t[BLK] = { 0 };
	memcpy(t, src, (size_t)n);
	return widen16(t, s);
}

/* Channels [c0, c0 + n) of input row iy of image b, or NULL when the row is padding. */
static const uint8_t *row_at(const dw_geom *g, int b, int iy, int c0)
{
	const mnv2_conv_params *p = g->p;
	if (iy < 0 || iy >= p->in_h)
		return NULL;
	return g->in + ((size_t)b * (size_t)p->in_h + (size_t)iy) * (size_t)p->in_w *
			       (size_t)p->in_c + (size_t)c0;
}

/* P(r) of image b for channels [c0, c0 + n): ncol x (lo, hi). */
static MNV2_ALWAYS_INLINE void pair_row(const dw_geom *g, int b, int r, int c0, int n,
					__m256i *dst, int s)
{
	const mnv2_conv_params *p = g->p;
	const uint8_t *r0 = row_at(g, b, r, c0), *r1 = row_at(g, b, r + 1, c0);
	size_t step = (size_t)p->in_c;
	for (int col = 0; col < g->ncol; col++) {
		int ix = g->ix_lo + col, inside = ix >= 0 && ix < p->in_w;
		__m256i x0 = inside && r0 ? load16(r0 + (size_t)ix * step, n, s) : g->zp;
		__m256i x1 = inside && r1 ? load16(r1 + (size_t)ix * step, n, s) : g->zp;
		_mm256_store_si256(dst + 2 * col, _mm256_unpacklo_epi16(x0, x1));
		_mm256_store_si256(dst + 2 * col + 1, _mm256_unpackhi_epi16(x0, x1));
	}
}

typedef struct ring {
	int row[RING];            /* input row r held by each slot; INT32_MIN: empty */
	int next;
	__m256i *buf;             /* RING slots of ncol x 2 vectors */
} ring;

/* P(r), built into the oldest slot unless held; never evicts `keep`. */
static MNV2_ALWAYS_INLINE const __m256i *get_row(const dw_geom *g, ring *rg, int b, int r,
						const __m256i *keep, int c0, int n, int s)
{
	for (int i = 0; i < RING; i++)
		if (rg->row[i] == r)
			return rg->buf + (size_t)i * 2 * (size_t)g->ncol;
	int i = rg->next;
	if (rg->buf + (size_t)i * 2 * (size_t)g->ncol == keep)
		i = (i + 1) % RING;
	rg->next = (i + 1) % RING;
	rg->row[i] = r;
	__m256i *dst = rg->buf + (size_t)i * 2 * (size_t)g->ncol;
	pair_row(g, b, r, c0, n, dst, s);
	return dst;
}

/* One output row of 16 channels from pair rows a = P(r) and c = P(r + 2). */
static MNV2_ALWAYS_INLINE void out_row(const dw_geom *g, const __m256i *a, const __m256i *c,
				       const __m256i *w, const int32_t *bias,
				       const float *scale, const rq16_consts *rc, uint8_t *dst,
				       int n, int s)
{
	const mnv2_conv_params *p = g->p;
	size_t step = (size_t)p->in_c;
	__m256i b0 = _mm256_load_si256((const __m256i *)(const void *)bias);
	__m256i b1 = _mm256_load_si256((const __m256i *)(const void *)(bias + 8));
	__m256 s0 = _mm256_load_ps(scale), s1 = _mm256_load_ps(scale + 8);
	for (int ox = 0; ox < p->out_w; ox++, dst += step) {
		const __m256i *pa = a + 2 * (size_t)ox * (size_t)p->stride_w;
		const __m256i *pc = c + 2 * (size_t)ox * (size_t)p->stride_w;
		__m256i lo = b0, hi = b1;
#pragma GCC unroll 3
		for (int kx = 0; kx < 3; kx++) {
			lo = DOT(lo, pa[2 * kx], w[8 * kx]);
			hi = DOT(hi, pa[2 * kx + 1], w[8 * kx + 1]);
			lo = DOT(lo, pc[2 * kx], w[8 * kx + 2]);
			hi = DOT(hi, pc[2 * kx + 1], w[8 * kx + 3]);
		}
		__m256i w16 = _mm256_packs_epi32(rq_round(lo, s0, rc), rq_round(hi, s1, rc));
		w16 = rq_finish16(w16, rc); /* channels 0-7 | 8-15 */
		__m128i x = _mm256_castsi256_si128(w16), y = _mm256_extracti128_si256(w16, 1);
		store_n(dst, s ? _mm_packs_epi16(x, y) : _mm_packus_epi16(x, y), n);
	}
}

/* Output rows oy and oy + 1 (stride 1) of 16 channels from a = P(r) and c = P(r + 2). */
static MNV2_ALWAYS_INLINE void out_rows2(const dw_geom *g, const __m256i *a, const __m256i *c,
					 const __m256i *w, const int32_t *bias,
					 const float *scale, const rq16_consts *rc, uint8_t *dst,
					 size_t below, int n, int s)
{
	const mnv2_conv_params *p = g->p;
	size_t step = (size_t)p->in_c;
	__m256i b0 = _mm256_load_si256((const __m256i *)(const void *)bias);
	__m256i b1 = _mm256_load_si256((const __m256i *)(const void *)(bias + 8));
	__m256 s0 = _mm256_load_ps(scale), s1 = _mm256_load_ps(scale + 8);
	for (int ox = 0; ox < p->out_w; ox++, dst += step) {
		const __m256i *pa = a + 2 * (size_t)ox * (size_t)p->stride_w;
		const __m256i *pc = c + 2 * (size_t)ox * (size_t)p->stride_w;
		__m256i lo0 = b0, hi0 = b1, lo1 = b0, hi1 = b1;
#pragma GCC unroll 3
		for (int kx = 0; kx < 3; kx++) {
			__m256i al = pa[2 * kx], ah = pa[2 * kx + 1];
			__m256i cl = pc[2 * kx], ch = pc[2 * kx + 1];
			const __m256i *wk = w + 8 * kx;
			lo0 = DOT(lo0, al, wk[0]);
			hi0 = DOT(hi0, ah, wk[1]);
			lo0 = DOT(lo0, cl, wk[2]);
			hi0 = DOT(hi0, ch, wk[3]);
			lo1 = DOT(lo1, al, wk[4]);
			hi1 = DOT(hi1, ah, wk[5]);
			lo1 = DOT(lo1, cl, wk[6]);
			hi1 = DOT(hi1, ch, wk[7]);
		}
		__m256i r0 = _mm256_packs_epi32(rq_round(lo0, s0, rc), rq_round(hi0, s1, rc));
		__m256i r1 = _mm256_packs_epi32(rq_round(lo1, s0, rc), rq_round(hi1, s1, rc));
		r0 = rq_finish16(r0, rc);
		r1 = rq_finish16(r1, rc);
		__m128i x0 = _mm256_castsi256_si128(r0), y0 = _mm256_extracti128_si256(r0, 1);
		__m128i x1 = _mm256_castsi256_si128(r1), y1 = _mm256_extracti128_si256(r1, 1);
		store_n(dst, s ? _mm_packs_epi16(x0, y0) : _mm_packus_epi16(x0, y0), n);
		store_n(dst + below, s ? _mm_packs_epi16(x1, y1) : _mm_packus_epi16(x1, y1), n);
	}
}

static MNV2_ALWAYS_INLINE void dw_rows(const dw_geom *g, __m256i *work, uint8_t *out, int y0,
				       int y1, int b0, int b1, int s)
{
	const mnv2_conv_params *p = g->p;
	const mnv2_conv_packed *pk = g->pk;
	rq16_consts rc = rq16_init(p->out_zp, p->act_min, p->act_max);
	size_t row_bytes = (size_t)p->out_w * (size_t)p->in_c;
	for (int blk = b0; blk < b1; blk++) {
		int c0 = blk * BLK, n = p->in_c - c0 < BLK ? p->in_c - c0 : BLK;
		const __m256i *w = (const __m256i *)(const void *)(pk->w + (size_t)blk * 24 * 16);
		ring rg = { .next = 0, .buf = work };
		int cur_b = -1;
		for (int y = y0; y < y1; y++) {
			int b = y / p->out_h, oy = y % p->out_h;
			if (b != cur_b) { /* pair rows of another image */
				for (int i = 0; i < RING; i++)
					rg.row[i] = INT32_MIN;
				cur_b = b;
			}
			int r = oy * p->stride_h - p->pad_top;
			const __m256i *a = get_row(g, &rg, b, r, NULL, c0, n, s);
			const __m256i *c = get_row(g, &rg, b, r + 2, a, c0, n, s);
			uint8_t *dst = out + (size_t)y * row_bytes + (size_t)c0;
			if (p->stride_h == 1 && y + 1 < y1 && oy + 1 < p->out_h) {
				out_rows2(g, a, c, w, pk->bias + c0, pk->scale + c0, &rc, dst, row_bytes,
					  n, s);
				y++;
			} else {
				out_row(g, a, c, w, pk->bias + c0, pk->scale + c0, &rc, dst, n, s);
			}
		}
	}
}

void DW_ENTRY(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const void *in,
	      void *out, void *work, int y0, int y1, int b0, int b1)
{
	dw_geom g = { .p = p, .pk = pk, .in = in, .ix_lo = -p->pad_left, .ncol = pk->ncol,
		      .zp = _mm256_set1_epi16((short)p->in_zp) };
	if (p->is_signed)
		dw_rows(&g, work, out, y0, y1, b0, b1, 1);
	else
		dw_rows(&g, work, out, y0, y1, b0, b1, 0);
}

#else
typedef int mnv2_dwconv_avx2_unavailable; /* ISO C forbids an empty translation unit */
#endif
