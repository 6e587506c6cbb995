/* frame_simd — SSE2 inner loops of the one-pass frame resampler (frame_resize.c).
 *
 * SSE2 is part of every x86-64 CPU, so these need no runtime dispatch; elsewhere
 * MNV2_FRAME_SIMD is 0 and the portable loops run. Both give the same bytes: everything is
 * integer arithmetic whose every intermediate is exact, only regrouped:
 *  - colour: pmaddwd computes cy*d + 8192 and the chroma terms as exact int32 sums (cbu is
 *    even and applied as (cbu / 2) * u * 2, because it does not fit int16), then an
 *    arithmetic shift by 14 (floor, as the scalar path) and a clamp to 0..255;
 *  - horizontal filter: each 22-bit weight w = 2048 * hi + lo (hi <= 2048, lo < 2048) so
 *    pmaddwd can multiply 16-bit pixels by 16-bit halves; sum = (sum_hi << 11) + sum_lo is
 *    the exact int32 sum the scalar loop makes (at most 255 * 2^22 + rounding < 2^31).
 */
#ifndef MNV2_FRAME_SIMD_H
#define MNV2_FRAME_SIMD_H

#include "frame_internal.h"
#include "resample.h"

#include <string.h>

#if defined(__SSE2__)
#define MNV2_FRAME_SIMD 1
#include <emmintrin.h>

/* R, G, B of 8 pixels (x, x + 1 ... x + 7, x even) of a row: luma y16 = [y0 .. y7] and
 * chroma pairs uv = [u0 v0 u1 v1 u2 v2 u3 v3], all int16, chroma already minus 128. */
static inline void mnv2_yuv8_sse2(const mnv2_frame_reader *r, __m128i y16, __m128i uv,
				  int16_t *R, int16_t *G, int16_t *B)
{
	const __m128i zero = _mm_setzero_si128(), ones = _mm_set1_epi16(1);
	__m128i d = _mm_sub_epi16(y16, _mm_set1_epi16((short)r->y0));
	/* cy * d + 8192 per pixel, as pairs (d, 1) x (cy, 8192) */
	__m128i kl = _mm_set1_epi32((int)((uint32_t)8192 << 16 | (uint32_t)r->cy));
	__m128i l_lo = _mm_madd_epi16(_mm_unpacklo_epi16(d, ones), kl);
	__m128i l_hi = _mm_madd_epi16(_mm_unpackhi_epi16(d, ones), kl);
	/* per chroma pair: crv * v, -(cgu * u + cgv * v), (cbu / 2) * u */
	__m128i cr = _mm_madd_epi16(uv, _mm_set1_epi32((int)((uint32_t)r->crv << 16)));
	__m128i cg = _mm_madd_epi16(uv, _mm_set1_epi32((int)((uint32_t)(uint16_t)(-r->cgv) << 16 |
							     (uint16_t)(-r->cgu))));
	__m128i cb = _mm_slli_epi32(_mm_madd_epi16(uv, _mm_set1_epi32(r->cbu / 2)), 1);
	__m128i lo, hi, v, c255 = _mm_set1_epi16(255);
#define MNV2_YUV8_STORE(C, OUT)                                                        \
	lo = _mm_add_epi32(l_lo, _mm_shuffle_epi32(C, 0x50)); /* pair k serves pixels */  \
	hi = _mm_add_epi32(l_hi, _mm_shuffle_epi32(C, 0xfa)); /* 2k and 2k + 1 */          \
	v = _mm_packs_epi32(_mm_srai_epi32(lo, 14), _mm_srai_epi32(hi, 14));              \
	v = _mm_min_epi16(_mm_max_epi16(v, zero), c255);                                  \
	_mm_storeu_si128((__m128i *)(void *)(OUT), v)
	MNV2_YUV8_STORE(cr, R);
	MNV2_YUV8_STORE(cg, G);
	MNV2_YUV8_STORE(cb, B);
#undef MNV2_YUV8_STORE
}

/* acc[i] += h[i] * w for i < n, w in [0, 2^22]: w = 32768 * a + b, h * a (<= 255 * 128)
 * exact in 16 bits, h * b exact from its low and high 16-bit halves. */
static inline void mnv2_acc_add_sse2(int32_t *acc, const uint8_t *h, size_t n, int32_t w)
{
	const __m128i zero = _mm_setzero_si128(), va = _mm_set1_epi16((short)(w >> 15));
	const __m128i vb = _mm_set1_epi16((short)(w & 32767));
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i h16 = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(const void *)(h + i)), zero);
		__m128i pa = _mm_mullo_epi16(h16, va);
		__m128i pbl = _mm_mullo_epi16(h16, vb), pbh = _mm_mulhi_epu16(h16, vb);
		__m128i s0 = _mm_add_epi32(_mm_slli_epi32(_mm_unpacklo_epi16(pa, zero), 15),
					   _mm_unpacklo_epi16(pbl, pbh));
		__m128i s1 = _mm_add_epi32(_mm_slli_epi32(_mm_unpackhi_epi16(pa, zero), 15),
					   _mm_unpackhi_epi16(pbl, pbh));
		__m128i *a = (__m128i *)(void *)(acc + i);
		_mm_storeu_si128(a, _mm_add_epi32(_mm_loadu_si128(a), s0));
		_mm_storeu_si128(a + 1, _mm_add_epi32(_mm_loadu_si128(a + 1), s1));
	}
	for (; i < n; i++)
		acc[i] += h[i] * w;
}

/* o[i] = mnv2_clip8(a[i]) for i < n: the arithmetic shift floors like the scalar one, and
 * the two saturating packs clamp to 0..255 (a negative sum shifts to a negative value,
 * which becomes 0, as mnv2_clip8 makes it). */
static inline void mnv2_clip8_row_sse2(const int32_t *a, size_t n, uint8_t *o)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i v[4];
		for (int j = 0; j < 4; j++)
			v[j] = _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(const void *)(a + i + 4 * j)),
					      MNV2_RESAMPLE_BITS);
		__m128i b = _mm_packus_epi16(_mm_packs_epi32(v[0], v[1]), _mm_packs_epi32(v[2], v[3]));
		_mm_storeu_si128((__m128i *)(void *)(o + i), b);
	}
	for (; i < n; i++)
		o[i] = mnv2_clip8(a[i]);
}

/* One output pixel: sum over kpad (a multiple of 8) taps of the planar int16 channels,
 * weights split in hi/lo halves, rounded and clipped to 3 bytes at out. */
static inline void mnv2_dot3_sse2(const int16_t *r, const int16_t *g, const int16_t *b,
				  const int16_t *whi, const int16_t *wlo, int kpad, uint8_t *out)
{
	__m128i rh = _mm_setzero_si128(), rl = rh, gh = rh, gl = rh, bh = rh, bl = rh;
	for (int k = 0; k < kpad; k += 8) {
		__m128i h = _mm_loadu_si128((const __m128i *)(const void *)(whi + k));
		__m128i l = _mm_loadu_si128((const __m128i *)(const void *)(wlo + k));
		__m128i pr = _mm_loadu_si128((const __m128i *)(const void *)(r + k));
		__m128i pg = _mm_loadu_si128((const __m128i *)(const void *)(g + k));
		__m128i pb = _mm_loadu_si128((const __m128i *)(const void *)(b + k));
		rh = _mm_add_epi32(rh, _mm_madd_epi16(pr, h));
		rl = _mm_add_epi32(rl, _mm_madd_epi16(pr, l));
		gh = _mm_add_epi32(gh, _mm_madd_epi16(pg, h));
		gl = _mm_add_epi32(gl, _mm_madd_epi16(pg, l));
		bh = _mm_add_epi32(bh, _mm_madd_epi16(pb, h));
		bl = _mm_add_epi32(bl, _mm_madd_epi16(pb, l));
	}
	__m128i sr = _mm_add_epi32(_mm_slli_epi32(rh, 11), rl);
	__m128i sg = _mm_add_epi32(_mm_slli_epi32(gh, 11), gl);
	__m128i sb = _mm_add_epi32(_mm_slli_epi32(bh, 11), bl);
	/* transpose-add: [r g b 0] lane sums */
	__m128i rg = _mm_add_epi32(_mm_unpacklo_epi32(sr, sg), _mm_unpackhi_epi32(sr, sg));
	__m128i b0 = _mm_add_epi32(_mm_unpacklo_epi32(sb, _mm_setzero_si128()),
				   _mm_unpackhi_epi32(sb, _mm_setzero_si128()));
	__m128i s = _mm_add_epi32(_mm_unpacklo_epi64(rg, b0), _mm_unpackhi_epi64(rg, b0));
	s = _mm_add_epi32(s, _mm_set1_epi32(1 << (MNV2_RESAMPLE_BITS - 1)));
	s = _mm_srai_epi32(s, MNV2_RESAMPLE_BITS); /* negative sums floor below 0: clipped */
	s = _mm_packs_epi32(s, s);
	s = _mm_packus_epi16(s, s);
	int32_t px = _mm_cvtsi128_si32(s);
	memcpy(out, &px, 3); /* little-endian: R, G, B are the low bytes */
}

#else
#define MNV2_FRAME_SIMD 0
#endif

#endif
