/* gemm_avx2 — convolutions and fully-connected layers as a GEMM on AVX2.
 *
 * For a block of up to MR output pixels, the A block holds each pixel's k inputs as int16
 * (1x1 stride-1 convolutions: the input pixel itself; otherwise im2col, padded taps = x_zp).
 * The packed weights (pack.c) hold panels of 8 output channels as int16 pairs (w - w_zp)
 * for two consecutive k. One _mm256_madd_epi16 of a broadcast input pair with a panel row
 * gives 8 channels' two products summed in int32 (|x| <= 255, |w - w_zp| <= 255: no
 * overflow); accumulators wrap like the portable uint32 sums. Register block: MR=4 pixels x
 * up to 3 panels (24 channels) = 12 accumulators. */
#include "simd.h"
#include "avx2_util.h"

#define MR MNV2_GEMM_MR
#define NR MNV2_GEMM_NR

/* n bytes -> n int16. */
static void widen_row(int16_t *dst, const uint8_t *src, int n, int s)
{
	int i = 0;
	for (; i + 16 <= n; i += 16)
		_mm256_storeu_si256((__m256i *)(void *)(dst + i), widen16(src + i, s));
	for (; i + 8 <= n; i += 8) {
		__m128i v = _mm_loadl_epi64((const __m128i *)(const void *)(src + i));
		v = s ? _mm_cvtepi8_epi16(v) : _mm_cvtepu8_epi16(v);
		_mm_storeu_si128((__m128i *)(void *)(dst + i), v);
	}
	for (; i < n; i++)
		dst[i] = s ? (int16_t)(int8_t)src[i] : (int16_t)src[i];
}

/* Row of A for output pixel q (over batch * out_h * out_w). */
static void a_row(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const uint8_t *in,
		  size_t q, int16_t *dst)
{
	int s = p->is_signed;
	if (pk->direct) {
		widen_row(dst, in + q * (size_t)pk->k, pk->k, s);
	} else {
		size_t plane = (size_t)p->out_h * (size_t)p->out_w;
		int b = (int)(q / plane), oy = (int)(q % plane / (size_t)p->out_w);
		int ox = (int)(q % (size_t)p->out_w), c = p->in_c;
		int16_t zp = (int16_t)p->in_zp;
		for (int ky = 0; ky < p->k_h; ky++) {
			int iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
			for (int kx = 0; kx < p->k_w; kx++) {
				int ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
				int16_t *d = dst + ((size_t)ky * (size_t)p->k_w + (size_t)kx) * (size_t)c;
				if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
					for (int i = 0; i < c; i++)
						d[i] = zp;
				} else {
					size_t at = (((size_t)b * (size_t)p->in_h + (size_t)iy) *
							     (size_t)p->in_w + (size_t)ix) * (size_t)c;
					widen_row(d, in + at, c, s);
				}
			}
		}
	}
	if (pk->k % 2)
		dst[pk->k] = 0; /* its weight is zero; keeps the pair defined */
}

/* mr x nv block: rows of A at a (stride astride int16), panels at w (stride pstride
 * int16); writes channels [c0, c0 + 8 nv) of mr output pixels. */
static MNV2_ALWAYS_INLINE void block(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
				     const int16_t *a, size_t astride, const int16_t *w,
				     size_t pstride, int c0, uint8_t *out, int mr, int nv)
{
	__m256i acc[MR][3];
	const int s = p->is_signed;
#pragma GCC unroll 3
	for (int v = 0; v < nv; v++) {
		__m256i b = _mm256_load_si256((const __m256i *)(const void *)(pk->bias + c0 + v * NR));
#pragma GCC unroll 4
		for (int r = 0; r < mr; r++)
			acc[r][v] = b;
	}
	for (int k = 0; k < pk->kpairs; k++) {
		__m256i wv[3];
#pragma GCC unroll 3
		for (int v = 0; v < nv; v++)
			wv[v] = _mm256_load_si256(
				(const __m256i *)(const void *)(w + (size_t)v * pstride + (size_t)k * 2 * NR));
#pragma GCC unroll 4
		for (int r = 0; r < mr; r++) {
			__m256i x = _mm256_set1_epi32(load_i32(a + (size_t)r * astride + 2 * (size_t)k));
#pragma GCC unroll 3
			for (int v = 0; v < nv; v++)
				acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(x, wv[v]));
		}
	}
	rq_consts rc = rq_init(p->out_zp, p->act_min, p->act_max);
#pragma GCC unroll 3
	for (int v = 0; v < nv; v++) {
		int c = c0 + v * NR, n = p->out_c - c < NR ? p->out_c - c : NR;
		__m256 sc = _mm256_load_ps(pk->scale + c);
#pragma GCC unroll 4
		for (int r = 0; r < mr; r++)
			store_n(out + (size_t)r * (size_t)p->out_c + (size_t)c,
				narrow8(rq_fp32(acc[r][v], sc, &rc), s), n);
	}
}

#define BLOCK(MRV, NVV)                                                                     \
	case (MRV) * 4 + (NVV):                                                             \
		block(p, pk, a, astride, w, pstride, c0, out, MRV, NVV);                    \
		break

static void dispatch(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const int16_t *a,
		     size_t astride, const int16_t *w, size_t pstride, int c0, uint8_t *out,
		     int mr, int nv)
{
	switch (mr * 4 + nv) {
		BLOCK(4, 3);
		BLOCK(4, 2);
		BLOCK(4, 1);
		BLOCK(3, 3);
		BLOCK(3, 2);
		BLOCK(3, 1);
		BLOCK(2, 3);
		BLOCK(2, 2);
		BLOCK(2, 1);
		BLOCK(1, 3);
		BLOCK(1, 2);
		BLOCK(1, 1);
	default:
		break;
	}
}

void mnv2_gemm_conv_avx2(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			 const void *in, void *out, void *work, size_t px0, size_t px1)
{
	int16_t *a = work;
	size_t astride = (size_t)pk->astride * 2, pstride = (size_t)pk->kpairs * 2 * NR;
	uint8_t *o = out;
	for (size_t px = px0; px < px1; px += MR) {
		int mr = px1 - px < MR ? (int)(px1 - px) : MR;
		for (int r = 0; r < mr; r++)
			a_row(p, pk, in, px + (size_t)r, a + (size_t)r * astride);
		uint8_t *orow = o + px * (size_t)p->out_c;
		for (int pn = 0; pn < pk->npanels;) {
			int left = pk->npanels - pn;
			int nv = left >= 3 && left != 4 ? 3 : left >= 2 ? 2 : 1;
			dispatch(p, pk, a, astride, pk->w + (size_t)pn * pstride, pstride, pn * NR,
				 orow, mr, nv);
			pn += nv;
		}
	}
}
