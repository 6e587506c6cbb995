/* pool_avx2 — AVERAGE_POOL_2D and MAX_POOL_2D on AVX2, vectorized over channels, with the
 * portable kernel's arithmetic (pool.c): the window is clipped to the input, the average
 * is the int32 sum rounded half away from zero by integer division (done per lane in
 * scalar code, exactly as pool.c), the maximum starts below every value; an empty window
 * gives 0; the result is clamped to the activation range. */
/* Built with -mavx2 by engine/meson.build; a build that compiles every engine source
 * without it (scripts/fuzz.sh) gets an empty unit, and dispatch.c never calls in here. */
#ifdef __AVX2__
#include "simd.h"
#include "avx2_util.h"

#include "pool_window.h"

static MNV2_ALWAYS_INLINE void avg_pixel(const mnv2_pool_params *p, const uint8_t *base,
					 window w, uint8_t *dst, int s)
{
	size_t row = (size_t)p->in_w * (size_t)p->c;
	int c = 0;
	for (; c + 8 <= p->c; c += 8) {
		__m256i acc = _mm256_setzero_si256();
		for (int y = w.y0; y < w.y1; y++)
			for (int x = w.x0; x < w.x1; x++) {
				const uint8_t *src = base + (size_t)y * row + (size_t)x * (size_t)p->c + c;
				__m128i v = _mm_loadl_epi64((const __m128i *)(const void *)src);
				acc = _mm256_add_epi32(acc, s ? _mm256_cvtepi8_epi32(v)
							      : _mm256_cvtepu8_epi32(v));
			}
		int32_t sum[8];
		_mm256_storeu_si256((__m256i *)(void *)sum, acc);
		for (int i = 0; i < 8; i++)
			mnv2_st(dst, (size_t)(c + i), finish_avg(p, sum[i], w.count), s);
	}
	pool_scalar(p, base, w, c, p->c, dst, 0, s);
}

static MNV2_ALWAYS_INLINE void max_pixel(const mnv2_pool_params *p, const uint8_t *base,
					 window w, uint8_t *dst, int s)
{
	size_t row = (size_t)p->in_w * (size_t)p->c;
	__m256i lo = _mm256_set1_epi8((char)p->act_min), hi = _mm256_set1_epi8((char)p->act_max);
	int c = 0;
	for (; w.count && c + 32 <= p->c; c += 32) {
		__m256i m = _mm256_set1_epi8(s ? (char)-128 : 0);
		for (int y = w.y0; y < w.y1; y++)
			for (int x = w.x0; x < w.x1; x++) {
				const uint8_t *src = base + (size_t)y * row + (size_t)x * (size_t)p->c + c;
				__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)src);
				m = s ? _mm256_max_epi8(m, v) : _mm256_max_epu8(m, v);
			}
		m = s ? _mm256_min_epi8(_mm256_max_epi8(m, lo), hi)
		      : _mm256_min_epu8(_mm256_max_epu8(m, lo), hi);
		_mm256_storeu_si256((__m256i *)(void *)(dst + c), m);
	}
	pool_scalar(p, base, w, c, p->c, dst, 1, s);
}

void mnv2_pool_avx2(const mnv2_pool_params *p, int is_max, const void *in, void *out, int y0,
		    int y1)
{
	const uint8_t *x = in;
	uint8_t *o = out;
	size_t plane = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->c;
	for (int y = y0; y < y1; y++) {
		int b = y / p->out_h, oy = y % p->out_h;
		for (int ox = 0; ox < p->out_w; ox++) {
			window w = clip(p, oy, ox);
			uint8_t *dst = o + ((size_t)y * (size_t)p->out_w + (size_t)ox) * (size_t)p->c;
			const uint8_t *base = x + (size_t)b * plane;
			if (is_max && p->is_signed)
				max_pixel(p, base, w, dst, 1);
			else if (is_max)
				max_pixel(p, base, w, dst, 0);
			else if (p->is_signed)
				avg_pixel(p, base, w, dst, 1);
			else
				avg_pixel(p, base, w, dst, 0);
		}
	}
}

#else
typedef int mnv2_pool_avx2_unavailable; /* ISO C forbids an empty translation unit */
#endif
