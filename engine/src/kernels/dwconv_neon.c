/* dwconv_neon — 3x3 depthwise convolution (depth multiplier 1, any stride and padding) on
 * NEON (aarch64), 16 channels at a time.
 *
 * For each output pixel and 16-channel block, the 9 taps' input bytes are widened to int16
 * and multiplied by the packed weights (pack.c, NDW3: int16 w - w_zp per tap and channel)
 * with vmlal(_high)_s16 into 16 int32 sums (exact products, sums wrapping like the portable
 * uint32 accumulator) that start at the bias corrected by -x_zp sum (w - w_zp). Padded taps
 * read x_zp, so they contribute zero, as in the portable kernel. Pixels whose window lies
 * inside the input take a path without any bounds check. Work is split by output rows and
 * channel blocks; rows go outermost, so the three input rows stay in cache while every
 * block of them is done. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "neon_util.h"

#define BLK MNV2_DW_BLOCK

typedef struct dw_block {
	int16x8_t w[9][2];
	int32x4_t bias[4];
	float32x4_t scale[4];
} dw_block;

/* acc += the 16 channels at src (n of them valid, the rest read as 0) times tap w. */
static MNV2_ALWAYS_INLINE void tap(int32x4_t acc[4], const uint8_t *src, int n,
				   const int16x8_t w[2], int s)
{
	uint8x16_t v;
	if (n == BLK) {
		v = vld1q_u8(src);
	} else {
		uint8_t t[BLK] = { 0 };
		memcpy(t, src, (size_t)n);
		v = vld1q_u8(t);
	}
	int16x8_t lo, hi;
	widen16n(v, s, &lo, &hi);
	acc[0] = vmlal_s16(acc[0], vget_low_s16(lo), vget_low_s16(w[0]));
	acc[1] = vmlal_high_s16(acc[1], lo, w[0]);
	acc[2] = vmlal_s16(acc[2], vget_low_s16(hi), vget_low_s16(w[1]));
	acc[3] = vmlal_high_s16(acc[3], hi, w[1]);
}

/* A padded tap: x_zp (as int16) times w. */
static MNV2_ALWAYS_INLINE void tap_zp(int32x4_t acc[4], int16x8_t zp, const int16x8_t w[2])
{
	acc[0] = vmlal_s16(acc[0], vget_low_s16(zp), vget_low_s16(w[0]));
	acc[1] = vmlal_high_s16(acc[1], zp, w[0]);
	acc[2] = vmlal_s16(acc[2], vget_low_s16(zp), vget_low_s16(w[1]));
	acc[3] = vmlal_high_s16(acc[3], zp, w[1]);
}

static MNV2_ALWAYS_INLINE void finish(int32x4_t acc[4], const dw_block *bk,
				      const rqn_consts *rc, uint8_t *dst, int n)
{
	uint8x16_t v = narrow16n(rqn(acc[0], bk->scale[0], rc), rqn(acc[1], bk->scale[1], rc),
				 rqn(acc[2], bk->scale[2], rc), rqn(acc[3], bk->scale[3], rc));
	store16_n(dst, v, n);
}

/* One output row of one channel block: rows[ky] = input row oy * stride - pad + ky at
 * channel c0 (NULL when padding). */
static MNV2_ALWAYS_INLINE void dw_row(const mnv2_conv_params *p, const dw_block *bk,
				      const uint8_t *const rows[3], uint8_t *dst, int n,
				      int16x8_t zp, const rqn_consts *rc, int s)
{
	size_t step = (size_t)p->in_c;
	int full_rows = rows[0] && rows[1] && rows[2];
	for (int ox = 0; ox < p->out_w; ox++, dst += step) {
		int ix0 = ox * p->stride_w - p->pad_left;
		int32x4_t acc[4] = { bk->bias[0], bk->bias[1], bk->bias[2], bk->bias[3] };
		if (full_rows && n == BLK && ix0 >= 0 && ix0 + 3 <= p->in_w) {
			for (int ky = 0; ky < 3; ky++) {
				const uint8_t *src = rows[ky] + (size_t)ix0 * step;
				tap(acc, src, BLK, bk->w[3 * ky], s);
				tap(acc, src + step, BLK, bk->w[3 * ky + 1], s);
				tap(acc, src + 2 * step, BLK, bk->w[3 * ky + 2], s);
			}
		} else {
			for (int ky = 0; ky < 3; ky++)
				for (int kx = 0; kx < 3; kx++) {
					int ix = ix0 + kx;
					if (rows[ky] && ix >= 0 && ix < p->in_w)
						tap(acc, rows[ky] + (size_t)ix * step, n,
						    bk->w[3 * ky + kx], s);
					else
						tap_zp(acc, zp, bk->w[3 * ky + kx]);
				}
		}
		finish(acc, bk, rc, dst, n);
	}
}

static MNV2_ALWAYS_INLINE void dw_rows(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
				       const uint8_t *in, uint8_t *out, int y0, int y1, int b0,
				       int b1, int s)
{
	rqn_consts rc = rqn_init(p->out_zp, p->act_min, p->act_max);
	int16x8_t zp = vdupq_n_s16((int16_t)p->in_zp);
	size_t row_in = (size_t)p->in_w * (size_t)p->in_c;
	size_t row_out = (size_t)p->out_w * (size_t)p->in_c;
	for (int y = y0; y < y1; y++) {
		int b = y / p->out_h, oy = y % p->out_h;
		const uint8_t *base[3];
		for (int ky = 0; ky < 3; ky++) {
			int iy = oy * p->stride_h - p->pad_top + ky;
			base[ky] = iy < 0 || iy >= p->in_h
					   ? NULL
					   : in + ((size_t)b * (size_t)p->in_h + (size_t)iy) * row_in;
		}
		for (int blk = b0; blk < b1; blk++) {
			int c0 = blk * BLK, n = p->in_c - c0 < BLK ? p->in_c - c0 : BLK;
			dw_block bk;
			const int16_t *w = pk->w + (size_t)blk * 9 * BLK;
			for (int t = 0; t < 9; t++) {
				bk.w[t][0] = vld1q_s16(w + t * BLK);
				bk.w[t][1] = vld1q_s16(w + t * BLK + 8);
			}
			for (int i = 0; i < 4; i++) {
				bk.bias[i] = vld1q_s32(pk->bias + c0 + 4 * i);
				bk.scale[i] = vld1q_f32(pk->scale + c0 + 4 * i);
			}
			const uint8_t *rows[3];
			for (int ky = 0; ky < 3; ky++)
				rows[ky] = base[ky] ? base[ky] + c0 : NULL;
			dw_row(p, &bk, rows, out + (size_t)y * row_out + (size_t)c0, n, zp, &rc, s);
		}
	}
}

void mnv2_dw3_neon(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const void *in,
		   void *out, int y0, int y1, int b0, int b1)
{
	if (p->is_signed)
		dw_rows(p, pk, in, out, y0, y1, b0, b1, 1);
	else
		dw_rows(p, pk, in, out, y0, y1, b0, b1, 0);
}

#else
typedef int mnv2_dwconv_neon_unavailable; /* ISO C forbids an empty translation unit */
#endif
