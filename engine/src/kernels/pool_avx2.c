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

typedef struct window {
	int y0, y1, x0, x1, count;
} window;

static window clip(const mnv2_pool_params *p, int oy, int ox)
{
	window w;
	int iy = oy * p->stride_h - p->pad_top, ix = ox * p->stride_w - p->pad_left;
	w.y0 = iy < 0 ? 0 : iy;
	w.y1 = iy + p->k_h < p->in_h ? iy + p->k_h : p->in_h;
	w.x0 = ix < 0 ? 0 : ix;
	w.x1 = ix + p->k_w < p->in_w ? ix + p->k_w : p->in_w;
	w.count = w.y1 > w.y0 && w.x1 > w.x0 ? (w.y1 - w.y0) * (w.x1 - w.x0) : 0;
	return w;
}

static int32_t finish_avg(const mnv2_pool_params *p, int32_t acc, int32_t count)
{
	if (count == 0)
		acc = 0;
	else
		acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
	return mnv2_clamp(acc, p->act_min, p->act_max);
}

/* Channels [c0, c1) one at a time (tails). */
static void pool_scalar(const mnv2_pool_params *p, const uint8_t *base, window w, int c0,
			int c1, uint8_t *dst, int is_max, int s)
{
	size_t row = (size_t)p->in_w * (size_t)p->c;
	for (int c = c0; c < c1; c++) {
		int32_t acc = is_max ? INT32_MIN : 0;
		for (int y = w.y0; y < w.y1; y++)
			for (int x = w.x0; x < w.x1; x++) {
				int32_t v = mnv2_ld(base, (size_t)y * row + (size_t)x * (size_t)p->c +
							    (size_t)c, s);
				acc = is_max ? (v > acc ? v : acc) : acc + v;
			}
		if (is_max)
			acc = mnv2_clamp(w.count ? acc : 0, p->act_min, p->act_max);
		else
			acc = finish_avg(p, acc, w.count);
		mnv2_st(dst, (size_t)c, acc, s);
	}
}

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
