/* add_avx2 — ADD of two same-shape tensors on AVX2, 16 elements at a time, with the
 * portable kernel's arithmetic (add.c): bias + a * a_mult + b * b_mult, arithmetic shift
 * right, clamp, plus the output zero point. The portable code sums in int64; here int32
 * suffices and gives the same value: the multipliers are below 2^21 + 1 and the shift at
 * most 30, so bias + a * a_mult + b * b_mult = 2^(shift-1) + a_mult (a - a_zp) +
 * b_mult (b - b_zp) and every partial sum lies within 3 * 2^29 in magnitude. */
/* Built with -mavx2 by engine/meson.build; a build that compiles every engine source
 * without it (scripts/fuzz.sh) gets an empty unit, and dispatch.c never calls in here. */
#ifdef __AVX2__
#include "simd.h"
#include "avx2_util.h"

typedef struct add_consts {
	__m256i am, bm, bias, lo, hi, zp;
	__m128i shift;
} add_consts;

static MNV2_ALWAYS_INLINE __m256i add8(const add_consts *k, const uint8_t *a, const uint8_t *b,
				       int s)
{
	__m128i a8 = _mm_loadl_epi64((const __m128i *)(const void *)a);
	__m128i b8 = _mm_loadl_epi64((const __m128i *)(const void *)b);
	__m256i va = s ? _mm256_cvtepi8_epi32(a8) : _mm256_cvtepu8_epi32(a8);
	__m256i vb = s ? _mm256_cvtepi8_epi32(b8) : _mm256_cvtepu8_epi32(b8);
	__m256i acc = _mm256_add_epi32(k->bias, _mm256_mullo_epi32(va, k->am));
	acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(vb, k->bm));
	acc = _mm256_sra_epi32(acc, k->shift);
	acc = _mm256_min_epi32(_mm256_max_epi32(acc, k->lo), k->hi);
	return _mm256_add_epi32(acc, k->zp);
}

static MNV2_ALWAYS_INLINE void add_impl(const add_consts *k, const uint8_t *a, const uint8_t *b,
					uint8_t *out, size_t n, int s)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm_storeu_si128((__m128i *)(void *)(out + i),
				 narrow16(add8(k, a + i, b + i, s), add8(k, a + i + 8, b + i + 8, s), s));
	if (i < n) {
		uint8_t ta[16] = { 0 }, tb[16] = { 0 };
		memcpy(ta, a + i, n - i);
		memcpy(tb, b + i, n - i);
		store_n(out + i, narrow16(add8(k, ta, tb, s), add8(k, ta + 8, tb + 8, s), s),
			(int)(n - i));
	}
}

void mnv2_add_avx2(const mnv2_add_params *p, const void *a, const void *b, void *out,
		   size_t i0, size_t i1)
{
	add_consts k;
	k.am = _mm256_set1_epi32(p->a_mult);
	k.bm = _mm256_set1_epi32(p->b_mult);
	k.bias = _mm256_set1_epi32(p->bias);
	k.lo = _mm256_set1_epi32(p->act_min - p->out_zp);
	k.hi = _mm256_set1_epi32(p->act_max - p->out_zp);
	k.zp = _mm256_set1_epi32(p->out_zp);
	k.shift = _mm_cvtsi32_si128((int)p->shift);
	const uint8_t *pa = (const uint8_t *)a + i0, *pb = (const uint8_t *)b + i0;
	uint8_t *po = (uint8_t *)out + i0;
	if (i1 <= i0)
		return;
	if (p->is_signed)
		add_impl(&k, pa, pb, po, i1 - i0, 1);
	else
		add_impl(&k, pa, pb, po, i1 - i0, 0);
}

#else
typedef int mnv2_add_avx2_unavailable; /* ISO C forbids an empty translation unit */
#endif
