/* dwconv_avx2 — 3x3 depthwise convolution (depth multiplier 1, any stride and padding) on
 * AVX2, 16 channels at a time.
 *
 * The nine taps' inputs are widened to int16 and interleaved in pairs of taps
 * (_mm256_unpack{lo,hi}_epi16), so one _mm256_madd_epi16 with the packed pair of weights
 * (pack.c) adds two taps' products per channel in int32. Unpacking leaves channels in the
 * order lo = 0-3, 8-11 and hi = 4-7, 12-15; bias and scale are packed in that order, and
 * _mm256_packs_epi32(lo, hi) restores 0-15. Taps outside the input read the packed row of
 * x_zp, which the folded bias correction cancels. */
#include "simd.h"
#include "avx2_util.h"

#define BLK MNV2_DW_BLOCK

static MNV2_ALWAYS_INLINE void dw_block(const uint8_t *const tap[9], size_t c,
					const int16_t *w, const int32_t *bias,
					const float *scale, const rq_consts *rc, uint8_t *dst,
					int n, int s)
{
	__m256i lo = _mm256_load_si256((const __m256i *)(const void *)bias);
	__m256i hi = _mm256_load_si256((const __m256i *)(const void *)(bias + 8));
#pragma GCC unroll 5
	for (int pair = 0; pair < 5; pair++) {
		__m256i x0 = widen16(tap[2 * pair] + c, s);
		__m256i x1 = pair < 4 ? widen16(tap[2 * pair + 1] + c, s) : _mm256_setzero_si256();
		const __m256i *wp = (const __m256i *)(const void *)(w + pair * 32);
		lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
							    _mm256_load_si256(wp)));
		hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
							    _mm256_load_si256(wp + 1)));
	}
	lo = rq_fp32(lo, _mm256_load_ps(scale), rc);
	hi = rq_fp32(hi, _mm256_load_ps(scale + 8), rc);
	__m256i w16 = _mm256_packs_epi32(lo, hi); /* channels 0-7 | 8-15 */
	__m128i a = _mm256_castsi256_si128(w16), b = _mm256_extracti128_si256(w16, 1);
	store_n(dst, s ? _mm_packs_epi16(a, b) : _mm_packus_epi16(a, b), n);
}

static void dw_pixel(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
		     const uint8_t *const tap[9], const rq_consts *rc, uint8_t *dst, int s)
{
	int c = p->in_c, full = c / BLK, tail = c % BLK;
	for (int blk = 0; blk < full; blk++)
		dw_block(tap, (size_t)blk * BLK, pk->w + (size_t)blk * 160, pk->bias + blk * BLK,
			 pk->scale + blk * BLK, rc, dst + (size_t)blk * BLK, BLK, s);
	if (tail) {
		uint8_t buf[9][BLK] = { { 0 } };
		const uint8_t *t2[9];
		for (int t = 0; t < 9; t++) {
			memcpy(buf[t], tap[t] + (size_t)full * BLK, (size_t)tail);
			t2[t] = buf[t];
		}
		dw_block(t2, 0, pk->w + (size_t)full * 160, pk->bias + full * BLK,
			 pk->scale + full * BLK, rc, dst + (size_t)full * BLK, tail, s);
	}
}

void mnv2_dw3_avx2(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const void *in,
		   void *out, int y0, int y1)
{
	const uint8_t *x = in;
	uint8_t *o = out;
	size_t c = (size_t)p->in_c;
	rq_consts rc = rq_init(p->out_zp, p->act_min, p->act_max);
	for (int y = y0; y < y1; y++) {
		int b = y / p->out_h, oy = y % p->out_h;
		for (int ox = 0; ox < p->out_w; ox++) {
			const uint8_t *tap[9];
			for (int ky = 0; ky < 3; ky++) {
				int iy = oy * p->stride_h - p->pad_top + ky;
				for (int kx = 0; kx < 3; kx++) {
					int ix = ox * p->stride_w - p->pad_left + kx;
					int ok = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
					tap[ky * 3 + kx] =
						ok ? x + (((size_t)b * (size_t)p->in_h + (size_t)iy) *
								  (size_t)p->in_w + (size_t)ix) * c
						   : pk->zrow;
				}
			}
			uint8_t *dst = o + ((size_t)y * (size_t)p->out_w + (size_t)ox) * c;
			if (p->is_signed)
				dw_pixel(p, pk, tap, &rc, dst, 1);
			else
				dw_pixel(p, pk, tap, &rc, dst, 0);
		}
	}
}
