/* gemm_neondot — the GEMM of gemm_neon.c with the dot-product extension (sdot), built with
 * -march=armv8.2-a+dotprod and run only when the CPU has asimddp (dispatch.c).
 *
 * Bytes are multiplied as signed x signed: u = x - 128 for uint8 inputs (x ^ 0x80), x for
 * int8; w8 = w - o (o = 128 for uint8 weights, 0 for int8), the byte layout of pack.c:
 * [panel][kquad][8 channels][4]. Then (simd.h) sum (x - x_zp)(w - w_zp) =
 * sum u w8 + (o - w_zp) sum u + bias8's -(x_zp - 128 [uint8]) sum (w - w_zp), all modulo
 * 2^32 as the portable uint32 accumulator (sdot adds without saturating). One
 * vdotq_laneq_s32 adds, for 4 channels, the 4 products of one k-quad of a pixel; the row
 * sum of u comes from sdot with ones and is needed only when o != w_zp (uint8 weights; the
 * per-channel int8 models have w_zp = 0 = o). Rows are read 16 bytes at a time: the input
 * pixels themselves for 1x1 stride-1 convolutions whose k is a multiple of 16, else rows
 * of the workspace padded with bytes that give u = 0 (their weights are 0 too). */
#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
#include "neon_util.h"

#define MR MNV2_GEMM_MR
#define NR MNV2_GEMM_NR

/* acc[r][v] += the dot products of quad Q of x[r] with panel v's channels for that quad. */
#define QUAD(Q)                                                                              \
	do {                                                                                 \
		for (int v = 0; v < nv; v++) {                                               \
			const int8_t *wq = w + (size_t)v * pstride + (kq + (Q)) * 4 * NR;       \
			int8x16_t wa = vld1q_s8(wq), wb = vld1q_s8(wq + 16);                   \
			for (int r = 0; r < mr; r++) {                                       \
				acc[r][v][0] = vdotq_laneq_s32(acc[r][v][0], wa, x[r], (Q));     \
				acc[r][v][1] = vdotq_laneq_s32(acc[r][v][1], wb, x[r], (Q));     \
			}                                                                    \
		}                                                                            \
	} while (0)

static MNV2_ALWAYS_INLINE void block(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
				     const uint8_t *const *rows, const int8_t *w, size_t pstride,
				     int c0, uint8_t *out, int mr, int nv, int zsum)
{
	int32x4_t acc[MR][2][2], sum[MR];
	for (int v = 0; v < nv; v++) {
		int32x4_t b0 = vld1q_s32(pk->bias8 + c0 + v * NR);
		int32x4_t b1 = vld1q_s32(pk->bias8 + c0 + v * NR + 4);
		for (int r = 0; r < mr; r++) {
			acc[r][v][0] = b0;
			acc[r][v][1] = b1;
		}
	}
	for (int r = 0; r < mr; r++)
		sum[r] = vdupq_n_s32(0);
	uint8x16_t flip = vdupq_n_u8(pk->xflip);
	int8x16_t ones = vdupq_n_s8(1);
	size_t kquads = (size_t)pk->kquads;
	for (size_t kq = 0; kq < kquads; kq += 4) {
		int8x16_t x[MR];
		for (int r = 0; r < mr; r++) {
			x[r] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(rows[r] + kq * 4), flip));
			if (zsum)
				sum[r] = vdotq_s32(sum[r], x[r], ones);
		}
		QUAD(0);
		QUAD(1);
		QUAD(2);
		QUAD(3);
	}
	if (zsum) {
		for (int r = 0; r < mr; r++) {
			int32x4_t z = vdupq_n_s32(vaddvq_s32(sum[r]));
			for (int v = 0; v < nv; v++) {
				acc[r][v][0] = vmlaq_n_s32(acc[r][v][0], z, pk->zfactor);
				acc[r][v][1] = vmlaq_n_s32(acc[r][v][1], z, pk->zfactor);
			}
		}
	}
	rqn_consts rc = rqn_init(p->out_zp, p->act_min, p->act_max);
	for (int r = 0; r < mr; r++)
		nstore_px(p, pk, acc[r], nv, c0, out + (size_t)r * (size_t)p->out_c + (size_t)c0, &rc);
}

#define BLOCK(MRV, NVV)                                                                     \
	case (MRV) * 4 + (NVV):                                                             \
		if (zsum)                                                                   \
			block(p, pk, rows, w, pstride, c0, out, MRV, NVV, 1);               \
		else                                                                        \
			block(p, pk, rows, w, pstride, c0, out, MRV, NVV, 0);               \
		break

static void dispatch(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
		     const uint8_t *const *rows, const int8_t *w, size_t pstride, int c0,
		     uint8_t *out, int mr, int nv, int zsum)
{
	switch (mr * 4 + nv) {
		BLOCK(4, 2);
		BLOCK(4, 1);
		BLOCK(3, 2);
		BLOCK(3, 1);
		BLOCK(2, 2);
		BLOCK(2, 1);
		BLOCK(1, 2);
		BLOCK(1, 1);
	default:
		break;
	}
}

void mnv2_gemm_conv_neondot(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			    const void *in, void *out, void *work, size_t px0, size_t px1,
			    int pn0, int pn1)
{
	size_t kpad = (size_t)pk->kquads * 4, pstride = kpad * NR;
	mnv2_opos q = mnv2_opos_at(p, px0);
	int zsum = pk->zfactor != 0;
	uint8_t *o = out;
	for (size_t px = px0; px < px1; px += MR) {
		int mr = px1 - px < MR ? (int)(px1 - px) : MR;
		const uint8_t *rows[MR];
		nrows(p, pk, in, px, &q, mr, kpad, pk->xflip, work, rows);
		uint8_t *orow = o + px * (size_t)p->out_c;
		for (int pn = pn0; pn < pn1;) {
			int nv = pn1 - pn >= 2 ? 2 : 1;
			dispatch(p, pk, rows, pk->w8 + (size_t)pn * pstride, pstride, pn * NR, orow, mr,
				 nv, zsum);
			pn += nv;
		}
	}
}

#else
typedef int mnv2_gemm_neondot_unavailable; /* ISO C forbids an empty translation unit */
#endif
