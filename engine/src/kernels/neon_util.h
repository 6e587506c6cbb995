/* neon_util — helpers shared by the NEON kernels (aarch64 only).
 *
 * Requantization equal to mnv2_requant_fp32() (requant.h) for every int32 acc: the scalar
 * code computes f = (float)acc * scale (int32 -> float rounds to nearest-even under the
 * default FPCR, as scvtf; one float32 multiply, as fmul — never fused: the engine is built
 * with -ffp-contract=off and no vfma is used), clamps f to [qmin - zp, qmax - zp] (f is
 * never NaN: the packers keep non-finite scales off the SIMD paths, so max/min are the
 * scalar comparisons), rounds with lrintf (nearest-even, as fcvtns) and adds zp. The
 * result lies in [qmin, qmax], so narrowing by truncation (xtn) keeps it exactly. */
#ifndef MNV2_NEON_UTIL_H
#define MNV2_NEON_UTIL_H

#include "requant.h"
#include "simd.h"

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

typedef struct rqn_consts {
	float32x4_t lo, hi;       /* qmin - zp, qmax - zp */
	int32x4_t zp;
} rqn_consts;

static inline rqn_consts rqn_init(int32_t zp, int32_t qmin, int32_t qmax)
{
	rqn_consts c;
	c.lo = vdupq_n_f32((float)(qmin - zp));
	c.hi = vdupq_n_f32((float)(qmax - zp));
	c.zp = vdupq_n_s32(zp);
	return c;
}

/* The output values of 4 accumulators. */
static MNV2_ALWAYS_INLINE int32x4_t rqn(int32x4_t acc, float32x4_t scale, const rqn_consts *c)
{
	float32x4_t f = vmulq_f32(vcvtq_f32_s32(acc), scale);
	f = vminq_f32(vmaxq_f32(f, c->lo), c->hi);
	return vaddq_s32(vcvtnq_s32_f32(f), c->zp);
}

/* 8 output values (each within the 8-bit range of the output) -> 8 bytes. */
static MNV2_ALWAYS_INLINE uint8x8_t narrow8(int32x4_t a, int32x4_t b)
{
	return vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
}

/* 16 output values -> 16 bytes. */
static MNV2_ALWAYS_INLINE uint8x16_t narrow16n(int32x4_t a, int32x4_t b, int32x4_t c,
					       int32x4_t d)
{
	return vcombine_u8(narrow8(a, b), narrow8(c, d));
}

/* The first n (<= 8) bytes of v to dst. */
static MNV2_ALWAYS_INLINE void store8_n(uint8_t *dst, uint8x8_t v, int n)
{
	if (n == 8) {
		vst1_u8(dst, v);
	} else {
		uint8_t t[8];
		vst1_u8(t, v);
		memcpy(dst, t, (size_t)n);
	}
}

static MNV2_ALWAYS_INLINE void store16_n(uint8_t *dst, uint8x16_t v, int n)
{
	if (n == 16) {
		vst1q_u8(dst, v);
	} else {
		uint8_t t[16];
		vst1q_u8(t, v);
		memcpy(dst, t, (size_t)n);
	}
}

/* 8 bytes -> 8 int16, sign- or zero-extended. */
static MNV2_ALWAYS_INLINE int16x8_t widen8n(const uint8_t *src, int s)
{
	uint8x8_t v = vld1_u8(src);
	return s ? vmovl_s8(vreinterpret_s8_u8(v)) : vreinterpretq_s16_u16(vmovl_u8(v));
}

/* 16 bytes -> 2 x 8 int16. */
static MNV2_ALWAYS_INLINE void widen16n(uint8x16_t v, int s, int16x8_t *lo, int16x8_t *hi)
{
	if (s) {
		int8x16_t x = vreinterpretq_s8_u8(v);
		*lo = vmovl_s8(vget_low_s8(x));
		*hi = vmovl_high_s8(x);
	} else {
		*lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
		*hi = vreinterpretq_s16_u16(vmovl_high_u8(v));
	}
}

/* ---- GEMM: A rows of bytes ------------------------------------------------------------ */

/* im2col row of the output pixel at q: [ky][kx][c] bytes, padded taps = x_zp. */
static inline void nim2col(const mnv2_conv_params *p, const uint8_t *in, mnv2_opos q, uint8_t *dst)
{
	size_t c = (size_t)p->in_c, kw = (size_t)p->k_w;
	uint8_t zp = (uint8_t)p->in_zp;
	int ix0 = q.ox * p->stride_w - p->pad_left;
	int whole = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
	for (int ky = 0; ky < p->k_h; ky++) {
		int iy = q.oy * p->stride_h - p->pad_top + ky * p->dil_h;
		uint8_t *d = dst + (size_t)ky * kw * c;
		if (iy < 0 || iy >= p->in_h) {
			memset(d, zp, kw * c);
			continue;
		}
		const uint8_t *row = in + ((size_t)q.b * (size_t)p->in_h + (size_t)iy) *
						  (size_t)p->in_w * c;
		if (whole) { /* the kernel row's taps are contiguous */
			memcpy(d, row + (size_t)ix0 * c, kw * c);
			continue;
		}
		for (int kx = 0; kx < p->k_w; kx++) {
			int ix = ix0 + kx * p->dil_w;
			if (ix < 0 || ix >= p->in_w)
				memset(d + (size_t)kx * c, zp, c);
			else
				memcpy(d + (size_t)kx * c, row + (size_t)ix * c, c);
		}
	}
}

/* Row pointers of mr output pixels from px on (q: the first one's coordinates, advanced
 * past them): the input pixels themselves when the convolution is direct and rows of
 * `kpad` bytes can be read there, else rows built in `a` (stride kpad), padded with `pad`
 * beyond k. */
static inline void nrows(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			 const uint8_t *in, size_t px, mnv2_opos *q, int mr, size_t kpad, uint8_t pad,
			 uint8_t *a, const uint8_t **rows)
{
	size_t k = (size_t)pk->k;
	for (int r = 0; r < mr; r++) {
		uint8_t *dst = a + (size_t)r * kpad;
		if (pk->direct && k == kpad) {
			rows[r] = in + (px + (size_t)r) * k;
		} else {
			if (pk->direct)
				memcpy(dst, in + (px + (size_t)r) * k, k);
			else
				nim2col(p, in, *q, dst);
			memset(dst + k, pad, kpad - k);
			rows[r] = dst;
		}
		mnv2_opos_next(p, q);
	}
}

/* Channels [c0, c0 + 8 nv) of one output pixel (n of them exist) from acc[v][2]. */
static MNV2_ALWAYS_INLINE void nstore_px(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
					 int32x4_t acc[][2], int nv, int c0, uint8_t *dst,
					 const rqn_consts *rc)
{
	int n = p->out_c - c0;
	for (int v = 0; v < nv && n > 0; v++, n -= 8) {
		const float *sc = pk->scale + c0 + 8 * v;
		int32x4_t lo = rqn(acc[v][0], vld1q_f32(sc), rc);
		int32x4_t hi = rqn(acc[v][1], vld1q_f32(sc + 4), rc);
		store8_n(dst + 8 * v, narrow8(lo, hi), n < 8 ? n : 8);
	}
}

#endif
