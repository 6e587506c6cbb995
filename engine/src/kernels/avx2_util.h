/* avx2_util — helpers shared by the AVX2 kernels (include only from files built with
 * -mavx2). The requantization rounds exactly as mnv2_requant_fp32() (requant.h):
 * int32 -> float (round to nearest-even), one float32 multiply, clamp to
 * [qmin - zp, qmax - zp] written as the scalar code's comparisons (max(lo, f) is
 * `lo > f ? lo : f`), cvtps (round to nearest-even under the default MXCSR, as lrintf),
 * plus zp. The packers keep non-finite scales off these kernels, so no NaN arises. */
#ifndef MNV2_AVX2_UTIL_H
#define MNV2_AVX2_UTIL_H

#include "requant.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef struct rq_consts {
	__m256 lo, hi;
	__m256i zp;
} rq_consts;

static inline rq_consts rq_init(int32_t zp, int32_t qmin, int32_t qmax)
{
	rq_consts c;
	c.lo = _mm256_set1_ps((float)(qmin - zp));
	c.hi = _mm256_set1_ps((float)(qmax - zp));
	c.zp = _mm256_set1_epi32(zp);
	return c;
}

static MNV2_ALWAYS_INLINE __m256i rq_fp32(__m256i acc, __m256 scale, const rq_consts *c)
{
	__m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
	f = _mm256_max_ps(c->lo, f);
	f = _mm256_min_ps(c->hi, f);
	return _mm256_add_epi32(_mm256_cvtps_epi32(f), c->zp);
}

/* 8 int32 already inside the output type's range -> 8 bytes in the low half. */
static MNV2_ALWAYS_INLINE __m128i narrow8(__m256i v, int s)
{
	__m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	return s ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
}

/* 2 x 8 int32 -> 16 bytes, a's then b's. */
static MNV2_ALWAYS_INLINE __m128i narrow16(__m256i a, __m256i b, int s)
{
	__m256i w = _mm256_packs_epi32(a, b); /* a0-3 b0-3 | a4-7 b4-7 */
	w = _mm256_permute4x64_epi64(w, 0xD8); /* a0-3 a4-7 | b0-3 b4-7 */
	__m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
	return s ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi);
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

#endif
