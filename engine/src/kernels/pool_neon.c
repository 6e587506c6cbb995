/* pool_neon — AVERAGE_POOL_2D and MAX_POOL_2D on NEON (aarch64), vectorized over channels,
 * with the portable kernel's arithmetic (pool.c), as pool_avx2.c: the window is clipped to
 * the input, the average is the int32 sum rounded half away from zero by integer division
 * (per lane in scalar code, exactly as pool.c), the maximum starts below every value; an
 * empty window gives 0; the result is clamped to the activation range. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "neon_util.h"

#include "pool_window.h"

static MNV2_ALWAYS_INLINE void avg_pixel(const mnv2_pool_params *p, const uint8_t *base,
					 window w, uint8_t *dst, int s)
{
	size_t row = (size_t)p->in_w * (size_t)p->c;
	int c = 0;
	for (; c + 8 <= p->c; c += 8) {
		int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
		for (int y = w.y0; y < w.y1; y++)
			for (int x = w.x0; x < w.x1; x++) {
				int16x8_t v = widen8n(base + (size_t)y * row + (size_t)x * (size_t)p->c +
							      (size_t)c, s);
				lo = vaddw_s16(lo, vget_low_s16(v));
				hi = vaddw_high_s16(hi, v);
			}
		int32_t sum[8];
		vst1q_s32(sum, lo);
		vst1q_s32(sum + 4, hi);
		for (int i = 0; i < 8; i++)
			mnv2_st(dst, (size_t)(c + i), finish_avg(p, sum[i], w.count), s);
	}
	pool_scalar(p, base, w, c, p->c, dst, 0, s);
}

static MNV2_ALWAYS_INLINE void max_pixel(const mnv2_pool_params *p, const uint8_t *base,
					 window w, uint8_t *dst, int s)
{
	size_t row = (size_t)p->in_w * (size_t)p->c;
	int c = 0;
	for (; w.count && c + 16 <= p->c; c += 16) {
		uint8x16_t m = vdupq_n_u8(s ? 0x80 : 0);
		for (int y = w.y0; y < w.y1; y++)
			for (int x = w.x0; x < w.x1; x++) {
				uint8x16_t v = vld1q_u8(base + (size_t)y * row + (size_t)x * (size_t)p->c +
							(size_t)c);
				m = s ? vreinterpretq_u8_s8(vmaxq_s8(vreinterpretq_s8_u8(m),
								     vreinterpretq_s8_u8(v)))
				      : vmaxq_u8(m, v);
			}
		if (s) {
			int8x16_t r = vmaxq_s8(vreinterpretq_s8_u8(m), vdupq_n_s8((int8_t)p->act_min));
			r = vminq_s8(r, vdupq_n_s8((int8_t)p->act_max));
			vst1q_u8(dst + c, vreinterpretq_u8_s8(r));
		} else {
			m = vminq_u8(vmaxq_u8(m, vdupq_n_u8((uint8_t)p->act_min)),
				     vdupq_n_u8((uint8_t)p->act_max));
			vst1q_u8(dst + c, m);
		}
	}
	pool_scalar(p, base, w, c, p->c, dst, 1, s);
}

void mnv2_pool_neon(const mnv2_pool_params *p, int is_max, const void *in, void *out, int y0,
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
typedef int mnv2_pool_neon_unavailable; /* ISO C forbids an empty translation unit */
#endif
