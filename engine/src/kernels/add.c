/* add — quantized elementwise ADD with broadcasting; see kernels.h.
 *
 * Arithmetic of XNNPACK's qu8/qs8 vadd: each input's ratio to the output scale becomes an
 * integer multiplier of 21 bits that shares one right shift; the zero points and the
 * rounding term fold into one bias; the sum is shifted arithmetically (round half up). */
#include "kernels.h"
#include "requant.h"
#include "simd.h"

#include <math.h>
#include <string.h>

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static float bits_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

int mnv2_add_params_init(mnv2_add_params *p, float a_scale, int32_t a_zp, float b_scale,
			 int32_t b_zp, float out_scale, int32_t out_zp)
{
	float a_ratio = fabsf(a_scale / out_scale), b_ratio = fabsf(b_scale / out_scale);
	if (!(a_ratio >= 0x1.0p-10f && a_ratio < 0x1.0p+8f && b_ratio >= 0x1.0p-10f &&
	      b_ratio < 0x1.0p+8f))
		return -1;
	float max_ratio = a_ratio > b_ratio ? a_ratio : b_ratio;
	int32_t exponent = (int32_t)(f32_bits(max_ratio) >> 23) - 127;
	uint32_t shift = (uint32_t)(20 - exponent);
	p->a_mult = (int32_t)lrintf(bits_f32(f32_bits(a_ratio) + (shift << 23)));
	p->b_mult = (int32_t)lrintf(bits_f32(f32_bits(b_ratio) + (shift << 23)));
	p->shift = shift;
	p->bias = (int32_t)(1u << (shift - 1)) - p->a_mult * a_zp - p->b_mult * b_zp;
	p->out_zp = out_zp;
	return 0;
}

static MNV2_ALWAYS_INLINE int32_t add_one(const mnv2_add_params *p, int32_t a, int32_t b)
{
	int64_t acc = (int64_t)p->bias + (int64_t)a * p->a_mult + (int64_t)b * p->b_mult;
	int64_t v = acc >> p->shift; /* arithmetic shift: round half up via the bias */
	int64_t lo = p->act_min - p->out_zp, hi = p->act_max - p->out_zp;
	v = v < lo ? lo : v > hi ? hi : v;
	return (int32_t)v + p->out_zp;
}

/* Rows [r0, r1) of d[3] elements, counted over d[0] * d[1] * d[2]. */
static MNV2_ALWAYS_INLINE void add_impl(const mnv2_add_params *p, const void *a,
					const void *b, void *out, size_t r0, size_t r1, int s)
{
	const int32_t *d = p->out_dims;
	size_t o = r0 * (size_t)d[3];
	for (size_t r = r0; r < r1; r++) {
		size_t i2 = r % (size_t)d[2], i1 = r / (size_t)d[2] % (size_t)d[1];
		size_t i0 = r / (size_t)d[2] / (size_t)d[1];
		size_t ab = i0 * (size_t)p->a_strides[0] + i1 * (size_t)p->a_strides[1] +
			    i2 * (size_t)p->a_strides[2];
		size_t bb = i0 * (size_t)p->b_strides[0] + i1 * (size_t)p->b_strides[1] +
			    i2 * (size_t)p->b_strides[2];
		for (int32_t i3 = 0; i3 < d[3]; i3++, o++) {
			int32_t va = mnv2_ld(a, ab + (size_t)i3 * p->a_strides[3], s);
			int32_t vb = mnv2_ld(b, bb + (size_t)i3 * p->b_strides[3], s);
			mnv2_st(out, o, add_one(p, va, vb), s);
		}
	}
}

void mnv2_add_range(const mnv2_add_params *p, const void *a, const void *b, void *out,
		    size_t r0, size_t r1)
{
	if (p->is_signed)
		add_impl(p, a, b, out, r0, r1, 1);
	else
		add_impl(p, a, b, out, r0, r1, 0);
}

void mnv2_add(const mnv2_add_params *p, const void *a, const void *b, void *out)
{
	const int32_t *d = p->out_dims;
	mnv2_add_range(p, a, b, out, 0, (size_t)d[0] * (size_t)d[1] * (size_t)d[2]);
}
