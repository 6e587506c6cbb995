/* pool_window — the parts of the SIMD pool kernels (pool_avx2.c, pool_neon.c) that are
 * the same on every instruction set: the window clipped to the input, the average's
 * rounding (half away from zero, as pool.c) and clamp, and the one-channel-at-a-time
 * loop for channel tails. */
#ifndef MNV2_POOL_WINDOW_H
#define MNV2_POOL_WINDOW_H

#include "requant.h"
#include "simd.h"

#include <stdint.h>

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

#endif
