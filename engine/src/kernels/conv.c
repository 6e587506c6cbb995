/* conv — portable convolution and depthwise convolution; see kernels.h. These are the
 * reference the SIMD paths (simd.h) are tested against. */
#include "kernels.h"
#include "requant.h"
#include "simd.h"

static MNV2_ALWAYS_INLINE int32_t conv_acc(const mnv2_conv_params *p, const void *in,
					   const void *w, int b, int oy, int ox, int oc,
					   int s)
{
	uint32_t acc = p->bias ? (uint32_t)p->bias[oc] : 0; /* wraps, never UB */
	int iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
	for (int ky = 0; ky < p->k_h; ky++) {
		int iy = iy0 + ky * p->dil_h;
		if (iy < 0 || iy >= p->in_h)
			continue;
		for (int kx = 0; kx < p->k_w; kx++) {
			int ix = ix0 + kx * p->dil_w;
			if (ix < 0 || ix >= p->in_w)
				continue;
			size_t ib = (((size_t)b * p->in_h + iy) * p->in_w + ix) * p->in_c;
			size_t wb = (((size_t)oc * p->k_h + ky) * p->k_w + kx) * p->in_c;
			for (int ic = 0; ic < p->in_c; ic++)
				acc += (uint32_t)((mnv2_ld(in, ib + ic, s) - p->in_zp) *
						  (mnv2_ld(w, wb + ic, s) - p->w_zp));
		}
	}
	return (int32_t)acc;
}

/* Output rows [y0, y1) counted over batch * out_h. */
static MNV2_ALWAYS_INLINE void conv_impl(const mnv2_conv_params *p, const void *in,
					 const void *w, void *out, int y0, int y1, int s)
{
	size_t o = (size_t)y0 * p->out_w * p->out_c;
	for (int y = y0; y < y1; y++) {
		int b = y / p->out_h, oy = y % p->out_h;
		for (int ox = 0; ox < p->out_w; ox++)
			for (int oc = 0; oc < p->out_c; oc++, o++) {
				int32_t acc = conv_acc(p, in, w, b, oy, ox, oc, s);
				mnv2_st(out, o,
					mnv2_requant_fp32(acc, p->scale[oc], p->out_zp, p->act_min,
							  p->act_max),
					s);
			}
	}
}

void mnv2_conv2d_rows(const mnv2_conv_params *p, const void *in, const void *w, void *out,
		      int y0, int y1)
{
	if (p->is_signed)
		conv_impl(p, in, w, out, y0, y1, 1);
	else
		conv_impl(p, in, w, out, y0, y1, 0);
}

void mnv2_conv2d(const mnv2_conv_params *p, const void *in, const void *w, void *out)
{
	mnv2_conv2d_rows(p, in, w, out, 0, p->batch * p->out_h);
}

static MNV2_ALWAYS_INLINE int32_t dw_acc(const mnv2_conv_params *p, const void *in,
					 const void *w, int b, int oy, int ox, int oc, int s)
{
	uint32_t acc = p->bias ? (uint32_t)p->bias[oc] : 0; /* wraps, never UB */
	int ic = oc / p->depth_mult;
	int iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
	for (int ky = 0; ky < p->k_h; ky++) {
		int iy = iy0 + ky * p->dil_h;
		if (iy < 0 || iy >= p->in_h)
			continue;
		for (int kx = 0; kx < p->k_w; kx++) {
			int ix = ix0 + kx * p->dil_w;
			if (ix < 0 || ix >= p->in_w)
				continue;
			size_t ii = (((size_t)b * p->in_h + iy) * p->in_w + ix) * p->in_c + ic;
			size_t wi = ((size_t)ky * p->k_w + kx) * p->out_c + oc;
			acc += (uint32_t)((mnv2_ld(in, ii, s) - p->in_zp) * (mnv2_ld(w, wi, s) - p->w_zp));
		}
	}
	return (int32_t)acc;
}

static MNV2_ALWAYS_INLINE void dw_impl(const mnv2_conv_params *p, const void *in,
				       const void *w, void *out, int y0, int y1, int s)
{
	size_t o = (size_t)y0 * p->out_w * p->out_c;
	for (int y = y0; y < y1; y++) {
		int b = y / p->out_h, oy = y % p->out_h;
		for (int ox = 0; ox < p->out_w; ox++)
			for (int oc = 0; oc < p->out_c; oc++, o++) {
				int32_t acc = dw_acc(p, in, w, b, oy, ox, oc, s);
				mnv2_st(out, o,
					mnv2_requant_fp32(acc, p->scale[oc], p->out_zp, p->act_min,
							  p->act_max),
					s);
			}
	}
}

void mnv2_dwconv2d_rows(const mnv2_conv_params *p, const void *in, const void *w, void *out,
			int y0, int y1)
{
	if (p->is_signed)
		dw_impl(p, in, w, out, y0, y1, 1);
	else
		dw_impl(p, in, w, out, y0, y1, 0);
}

void mnv2_dwconv2d(const mnv2_conv_params *p, const void *in, const void *w, void *out)
{
	mnv2_dwconv2d_rows(p, in, w, out, 0, p->batch * p->out_h);
}
