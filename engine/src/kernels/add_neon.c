/* add_neon — ADD of two same-shape tensors on NEON (aarch64), 16 elements at a time, with
 * the portable kernel's arithmetic (add.c): bias + a * a_mult + b * b_mult, arithmetic
 * shift right, clamp, plus the output zero point. int32 gives the portable int64 sum's
 * value, as in add_avx2.c: the multipliers are below 2^21 + 1 and the shift at most 30, so
 * every partial sum lies within 3 * 2^29 in magnitude. vshlq_s32 by -shift is the
 * arithmetic (flooring) shift of the portable code. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "neon_util.h"

typedef struct add_consts {
	int32x4_t am, bm, bias, nshift, lo, hi, zp;
} add_consts;

/* 16 bytes -> 4 x 4 int32. */
static MNV2_ALWAYS_INLINE void widen4(const uint8_t *src, int s, int32x4_t v[4])
{
	int16x8_t lo, hi;
	widen16n(vld1q_u8(src), s, &lo, &hi);
	v[0] = vmovl_s16(vget_low_s16(lo));
	v[1] = vmovl_high_s16(lo);
	v[2] = vmovl_s16(vget_low_s16(hi));
	v[3] = vmovl_high_s16(hi);
}

static MNV2_ALWAYS_INLINE uint8x16_t add16(const add_consts *k, const uint8_t *a,
					   const uint8_t *b, int s)
{
	int32x4_t va[4], vb[4], r[4];
	widen4(a, s, va);
	widen4(b, s, vb);
	for (int i = 0; i < 4; i++) {
		int32x4_t acc = vmlaq_s32(vmlaq_s32(k->bias, va[i], k->am), vb[i], k->bm);
		acc = vshlq_s32(acc, k->nshift);
		acc = vminq_s32(vmaxq_s32(acc, k->lo), k->hi);
		r[i] = vaddq_s32(acc, k->zp);
	}
	return narrow16n(r[0], r[1], r[2], r[3]);
}

static MNV2_ALWAYS_INLINE void add_impl(const add_consts *k, const uint8_t *a, const uint8_t *b,
					uint8_t *out, size_t n, int s)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		vst1q_u8(out + i, add16(k, a + i, b + i, s));
	if (i < n) {
		uint8_t ta[16] = { 0 }, tb[16] = { 0 };
		memcpy(ta, a + i, n - i);
		memcpy(tb, b + i, n - i);
		store16_n(out + i, add16(k, ta, tb, s), (int)(n - i));
	}
}

void mnv2_add_neon(const mnv2_add_params *p, const void *a, const void *b, void *out,
		   size_t i0, size_t i1)
{
	add_consts k;
	k.am = vdupq_n_s32(p->a_mult);
	k.bm = vdupq_n_s32(p->b_mult);
	k.bias = vdupq_n_s32(p->bias);
	k.nshift = vdupq_n_s32(-(int32_t)p->shift);
	k.lo = vdupq_n_s32(p->act_min - p->out_zp);
	k.hi = vdupq_n_s32(p->act_max - p->out_zp);
	k.zp = vdupq_n_s32(p->out_zp);
	if (i1 <= i0)
		return;
	const uint8_t *pa = (const uint8_t *)a + i0, *pb = (const uint8_t *)b + i0;
	uint8_t *po = (uint8_t *)out + i0;
	if (p->is_signed)
		add_impl(&k, pa, pb, po, i1 - i0, 1);
	else
		add_impl(&k, pa, pb, po, i1 - i0, 0);
}

#else
typedef int mnv2_add_neon_unavailable; /* ISO C forbids an empty translation unit */
#endif
