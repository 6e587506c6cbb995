/* gemm_neon — convolutions and fully-connected layers as a GEMM on NEON (aarch64).
 *
 * For a block of up to MR output pixels, each pixel's k input bytes are read from its row:
 * the input pixel itself for 1x1 stride-1 convolutions whose k is a multiple of 8, else
 * a row of the workspace (im2col, padded taps = x_zp). The packed weights (pack.c, NGEMM)
 * hold panels of 8 output channels as int16 w - w_zp, one 8-channel vector per k. Eight
 * input bytes at a time are widened to int16 and each is multiplied by a panel vector with
 * vmlal(_high)_laneq_s16 into 8 int32 channel sums (|x| <= 255, |w - w_zp| <= 255: the
 * products are exact; the sums wrap like the portable uint32 accumulator). The bias holds
 * -x_zp sum (w - w_zp) (simd.h). Register block: MR=4 pixels x 2 panels = 16 accumulators. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "neon_util.h"

#define MR MNV2_GEMM_MR
#define NR MNV2_GEMM_NR

/* acc[r][v] += x[r] lane J times panel v's vector for k + J. */
#define STEP(J)                                                                              \
	do {                                                                                 \
		for (int v = 0; v < nv; v++) {                                               \
			int16x8_t wv = vld1q_s16(w + (size_t)v * pstride + (k + (J)) * NR); \
			for (int r = 0; r < mr; r++) {                                       \
				acc[r][v][0] = vmlal_laneq_s16(acc[r][v][0], vget_low_s16(wv),   \
							       x[r], (J));                      \
				acc[r][v][1] = vmlal_high_laneq_s16(acc[r][v][1], wv, x[r], (J)); \
			}                                                                    \
		}                                                                            \
	} while (0)

/* mr x nv block: rows of k8 bytes, panels at w (stride pstride int16); writes channels
 * [c0, c0 + 8 nv) of mr output pixels. */
static MNV2_ALWAYS_INLINE void block(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
				     const uint8_t *const *rows, const int16_t *w,
				     size_t pstride, int c0, uint8_t *out, int mr, int nv, int s)
{
	int32x4_t acc[MR][2][2];
	for (int v = 0; v < nv; v++) {
		int32x4_t b0 = vld1q_s32(pk->bias + c0 + v * NR);
		int32x4_t b1 = vld1q_s32(pk->bias + c0 + v * NR + 4);
		for (int r = 0; r < mr; r++) {
			acc[r][v][0] = b0;
			acc[r][v][1] = b1;
		}
	}
	size_t k8 = (size_t)pk->k8;
	for (size_t k = 0; k < k8; k += 8) {
		int16x8_t x[MR];
		for (int r = 0; r < mr; r++)
			x[r] = widen8n(rows[r] + k, s);
		STEP(0);
		STEP(1);
		STEP(2);
		STEP(3);
		STEP(4);
		STEP(5);
		STEP(6);
		STEP(7);
	}
	rqn_consts rc = rqn_init(p->out_zp, p->act_min, p->act_max);
	for (int r = 0; r < mr; r++)
		nstore_px(p, pk, acc[r], nv, c0, out + (size_t)r * (size_t)p->out_c + (size_t)c0, &rc);
}

#define BLOCK(MRV, NVV)                                                                     \
	case (MRV) * 4 + (NVV):                                                             \
		if (s)                                                                      \
			block(p, pk, rows, w, pstride, c0, out, MRV, NVV, 1);               \
		else                                                                        \
			block(p, pk, rows, w, pstride, c0, out, MRV, NVV, 0);               \
		break

static void dispatch(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
		     const uint8_t *const *rows, const int16_t *w, size_t pstride, int c0,
		     uint8_t *out, int mr, int nv, int s)
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

void mnv2_gemm_conv_neon(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			 const void *in, void *out, void *work, size_t px0, size_t px1, int pn0,
			 int pn1)
{
	size_t pstride = (size_t)pk->k8 * NR;
	mnv2_opos q = mnv2_opos_at(p, px0);
	uint8_t *o = out;
	for (size_t px = px0; px < px1; px += MR) {
		int mr = px1 - px < MR ? (int)(px1 - px) : MR;
		const uint8_t *rows[MR];
		nrows(p, pk, in, px, &q, mr, (size_t)pk->k8, 0, work, rows);
		uint8_t *orow = o + px * (size_t)p->out_c;
		for (int pn = pn0; pn < pn1;) {
			int nv = pn1 - pn >= 2 ? 2 : 1;
			dispatch(p, pk, rows, pk->w + (size_t)pn * pstride, pstride, pn * NR, orow, mr,
				 nv, p->is_signed);
			pn += nv;
		}
	}
}

#else
typedef int mnv2_gemm_neon_unavailable; /* ISO C forbids an empty translation unit */
#endif
