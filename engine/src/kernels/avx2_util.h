/* avx2_util — helpers shared by the AVX2 kernels (include only from files built with
 * -mavx2).
 *
 * Requantization, equal to mnv2_requant_fp32() (requant.h) for every int32 acc: the scalar
 * code computes f = (float)acc * scale (int32 -> float rounds to nearest-even, as
 * cvtepi32_ps; one float32 multiply, as mul_ps), clamps f to [lo, hi] = [qmin - zp,
 * qmax - zp], rounds with lrintf (nearest-even, as cvtps_epi32 under the default MXCSR) and
 * adds zp. rq_round() + rq_finish16() compute: f clamped from above only (min(hi, f)),
 * rounded, narrowed to int16 with saturation, zp added with saturation, and clamped from
 * below in int16 at qmin. When f >= lo every step is exact and equals the scalar code's.
 * When f < lo (lo an integer), the rounded value is <= lo, cvtps gives INT32_MIN below
 * -2^31 and the saturations only move values further down, so the final max() yields
 * qmin = lo + zp, as the scalar clamp does. The packers keep non-finite scales off these
 * kernels, so f is never NaN. */
#ifndef MNV2_AVX2_UTIL_H
#define MNV2_AVX2_UTIL_H

#include "kernels.h"
#include "requant.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef struct rq16_consts {
	__m256 hi;               /* qmax - zp */
	__m256i zp, qmin;        /* as 16 int16 */
} rq16_consts;

static inline rq16_consts rq16_init(int32_t zp, int32_t qmin, int32_t qmax)
{
	rq16_consts c;
	c.hi = _mm256_set1_ps((float)(qmax - zp));
	c.zp = _mm256_set1_epi16((short)zp);
	c.qmin = _mm256_set1_epi16((short)qmin);
	return c;
}

/* round(min(hi, acc * scale)) as int32 (see above). */
static MNV2_ALWAYS_INLINE __m256i rq_round(__m256i acc, __m256 scale, const rq16_consts *c)
{
	return _mm256_cvtps_epi32(_mm256_min_ps(c->hi, _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale)));
}

/* int16 from rq_round() values (narrowed with saturation) -> the output values. */
static MNV2_ALWAYS_INLINE __m256i rq_finish16(__m256i v, const rq16_consts *c)
{
	return _mm256_max_epi16(_mm256_adds_epi16(v, c->zp), c->qmin);
}

/* 2 x 8 int32 -> 16 bytes, a's then b's. */
static MNV2_ALWAYS_INLINE __m128i narrow16(__m256i a, __m256i b, int s)
{
	__m256i w = _mm256_packs_epi32(a, b); /* a0-3 b0-3 | a4-7 b4-7 */
	w = _mm256_permute4x64_epi64(w, 0xD8); /* a0-3 a4-7 | b0-3 b4-7 */
	__m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
	return s ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi);
}

/* Channels of one output pixel from nv (1..3) rq_round() vectors: n <= 8 nv bytes. */
static MNV2_ALWAYS_INLINE void store_row(uint8_t *dst, const __m256i *q, int nv, int n,
					 const rq16_consts *rc, int s)
{
	/* packs: [q0 0-3, q1 0-3 | q0 4-7, q1 4-7]; bytes: dwords q0lo q1lo q2lo q2lo |
	 * q0hi q1hi q2hi q2hi, put in order by the dword permutation */
	__m256i w01 = rq_finish16(_mm256_packs_epi32(q[0], nv > 1 ? q[1] : q[0]), rc);
	__m256i w2 = nv > 2 ? rq_finish16(_mm256_packs_epi32(q[2], q[2]), rc) : w01;
	__m256i b = s ? _mm256_packs_epi16(w01, w2) : _mm256_packus_epi16(w01, w2);
	b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
	if (n == nv * 8 && nv == 1) {
		_mm_storel_epi64((__m128i *)(void *)dst, _mm256_castsi256_si128(b));
	} else if (n == nv * 8) {
		_mm_storeu_si128((__m128i *)(void *)dst, _mm256_castsi256_si128(b));
		if (nv == 3)
			_mm_storel_epi64((__m128i *)(void *)(dst + 16), _mm256_extracti128_si256(b, 1));
	} else {
		uint8_t t[32];
		_mm256_storeu_si256((__m256i *)(void *)t, b);
		memcpy(dst, t, (size_t)n);
	}
}

static MNV2_ALWAYS_INLINE void store_n(void *dst, __m128i v, int n)
{
	if (n == 16) {
		_mm_storeu_si128((__m128i *)dst, v);
	} else if (n == 8) {
		_mm_storel_epi64((__m128i *)dst, v);
	} else {
		uint8_t t[16];
		_mm_storeu_si128((__m128i *)(void *)t, v);
		memcpy(dst, t, (size_t)n);
	}
}

/* 16 bytes -> 16 int16, sign- or zero-extended. */
static MNV2_ALWAYS_INLINE __m256i widen16(const void *src, int s)
{
	__m128i v = _mm_loadu_si128((const __m128i *)src);
	return s ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

static MNV2_ALWAYS_INLINE int32_t load_i32(const void *p)
{
	int32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* The end of a GEMM micro-kernel (gemm_avx2.c, gemm_vnni.c): requantizes the mr x nv block
 * of int32 accumulators (8 channels each, from channel c0, with per-channel `scale`) and
 * stores mr output pixels' channels [c0, c0 + 8 nv), cut at out_c. */
static MNV2_ALWAYS_INLINE void store_block(const mnv2_conv_params *p, const float *scale,
					   __m256i acc[][3], int c0, uint8_t *out, int mr, int nv)
{
	rq16_consts rc = rq16_init(p->out_zp, p->act_min, p->act_max);
	__m256 sc[3];
#pragma GCC unroll 3
	for (int v = 0; v < nv; v++)
		sc[v] = _mm256_load_ps(scale + c0 + v * 8);
	int n = p->out_c - c0 < nv * 8 ? p->out_c - c0 : nv * 8;
#pragma GCC unroll 4
	for (int r = 0; r < mr; r++) {
		__m256i q[3];
#pragma GCC unroll 3
		for (int v = 0; v < nv; v++)
			q[v] = rq_round(acc[r][v], sc[v], &rc);
		store_row(out + (size_t)r * (size_t)p->out_c + (size_t)c0, q, nv, n, &rc,
			  p->is_signed);
	}
}

#endif
