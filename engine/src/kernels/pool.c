/* pool — average, max and spatial-mean pooling; see kernels.h. */
#include "kernels.h"
#include "requant.h"
#include "simd.h"

#include <math.h>

/* One output element: the window at (b, oy, ox), channel c. */
static MNV2_ALWAYS_INLINE int32_t pool_one(const mnv2_pool_params *p, const void *in, int b,
					   int oy, int ox, int c, int s, int is_max)
{
	int iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
	int32_t acc = is_max ? INT32_MIN : 0, count = 0;
	for (int ky = 0; ky < p->k_h; ky++) {
		int iy = iy0 + ky;
		if (iy < 0 || iy >= p->in_h)
			continue;
		for (int kx = 0; kx < p->k_w; kx++) {
			int ix = ix0 + kx;
			if (ix < 0 || ix >= p->in_w)
				continue;
			size_t i = (((size_t)b * p->in_h + iy) * p->in_w + ix) * p->c + c;
			int32_t v = mnv2_ld(in, i, s);
			acc = is_max ? (v > acc ? v : acc) : acc + v;
			count++;
		}
	}
	if (count == 0)
		acc = 0;
	else if (!is_max)
		acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
	return mnv2_clamp(acc, p->act_min, p->act_max);
}

/* Output rows [y0, y1) counted over batch * out_h. */
static MNV2_ALWAYS_INLINE void pool_impl(const mnv2_pool_params *p, const void *in,
					 void *out, int y0, int y1, int s, int is_max)
{
	size_t o = (size_t)y0 * (size_t)p->out_w * (size_t)p->c;
	for (int y = y0; y < y1; y++) {
		int b = y / p->out_h, oy = y % p->out_h;
		for (int ox = 0; ox < p->out_w; ox++)
			for (int c = 0; c < p->c; c++, o++)
				mnv2_st(out, o, pool_one(p, in, b, oy, ox, c, s, is_max), s);
	}
}

void mnv2_pool_rows(const mnv2_pool_params *p, int is_max, const void *in, void *out, int y0,
		    int y1)
{
	if (p->is_signed && is_max)
		pool_impl(p, in, out, y0, y1, 1, 1);
	else if (p->is_signed)
		pool_impl(p, in, out, y0, y1, 1, 0);
	else if (is_max)
		pool_impl(p, in, out, y0, y1, 0, 1);
	else
		pool_impl(p, in, out, y0, y1, 0, 0);
}

void mnv2_avgpool(const mnv2_pool_params *p, const void *in, void *out)
{
	mnv2_pool_rows(p, 0, in, out, 0, p->batch * p->out_h);
}

void mnv2_maxpool(const mnv2_pool_params *p, const void *in, void *out)
{
	mnv2_pool_rows(p, 1, in, out, 0, p->batch * p->out_h);
}

/* Spatial mean, XNNPACK style: the sum less the zero points, times one float scale,
 * rounded to nearest-even. */
static MNV2_ALWAYS_INLINE void mean_impl(const mnv2_mean_params *p, const void *in,
					 void *out, int s)
{
	size_t plane = (size_t)p->h * p->w;
	int32_t bias = -(int32_t)plane * p->in_zp;
	for (int b = 0; b < p->batch; b++)
		for (int c = 0; c < p->c; c++) {
			const size_t base = (size_t)b * plane * p->c + c;
			int32_t acc = bias;
			for (size_t i = 0; i < plane; i++)
				acc += mnv2_ld(in, base + i * p->c, s);
			mnv2_st(out, (size_t)b * p->c + c,
				mnv2_requant_fp32(acc, p->scale, p->out_zp, p->qmin, p->qmax), s);
		}
}

void mnv2_mean_hw(const mnv2_mean_params *p, const void *in, void *out)
{
	if (p->is_signed)
		mean_impl(p, in, out, 1);
	else
		mean_impl(p, in, out, 0);
}
