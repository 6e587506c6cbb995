/* gemm_avx2 — convolutions and fully-connected layers as a GEMM on AVX2.
 *
 * For a block of up to MR output pixels, the A block holds each pixel's k inputs as int16
 * (1x1 stride-1 convolutions: the input pixel itself; otherwise im2col, padded taps = x_zp).
 * The packed weights (pack.c) hold panels of 8 output channels as int16 pairs (w - w_zp)
 * for two consecutive k. One _mm256_madd_epi16 of a broadcast input pair with a panel row
 * gives 8 channels' two products summed in int32 (|x| <= 255, |w - w_zp| <= 255: no
 * overflow); accumulators wrap like the portable uint32 sums. Register block: MR=4 pixels x
 * up to 3 panels (24 channels) = 12 accumulators. */
/* Built with -mavx2 by engine/meson.build; a build that compiles every engine source
 * without it (scripts/fuzz.sh) gets an empty unit, and dispatch.c never calls in here. */
#ifdef __AVX2__
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

/* n bytes -> n int16 in whole vectors: may write up to 15 int16 past dst + n (the A row's
 * slack, or the next segment, written later) and read past src + n up to `end`. */
static MNV2_ALWAYS_INLINE void widen_seg(int16_t *dst, const uint8_t *src, int n,
					 const uint8_t *end, int s)
{
	int i = 0;
	for (; i < n && src + i + 16 <= end; i += 16)
		_mm256_storeu_si256((__m256i *)(void *)(dst + i), widen16(src + i, s));
	for (; i < n; i++)
		dst[i] = s ? (int16_t)(int8_t)src[i] : (int16_t)src[i];
}

static void fill16(int16_t *dst, int n, int16_t v)
{
	for (int i = 0; i < n; i++)
		dst[i] = v;
}

/* im2col row of the output pixel at q: [ky][kx][c], padded taps = x_zp. */
static MNV2_ALWAYS_INLINE void im2col_row(const mnv2_conv_params *p, const uint8_t *in,
					  const uint8_t *end, mnv2_opos q, int16_t *dst, int s)
{
	int c = p->in_c, kw = p->k_w;
	int16_t zp = (int16_t)p->in_zp;
	int ix0 = q.ox * p->stride_w - p->pad_left;
	int whole = p->dil_w == 1 && ix0 >= 0 && ix0 + kw <= p->in_w;
	for (int ky = 0; ky < p->k_h; ky++) {
		int iy = q.oy * p->stride_h - p->pad_top + ky * p->dil_h;
		int16_t *d = dst + (size_t)ky * (size_t)kw * (size_t)c;
		if (iy < 0 || iy >= p->in_h) {
			fill16(d, kw * c, zp);
			continue;
		}
		const uint8_t *row = in + ((size_t)q.b * (size_t)p->in_h + (size_t)iy) *
						  (size_t)p->in_w * (size_t)c;
		if (whole) { /* the kernel row's taps are contiguous */
			widen_seg(d, row + (size_t)ix0 * (size_t)c, kw * c, end, s);
			continue;
		}
		for (int kx = 0; kx < kw; kx++) {
			int ix = ix0 + kx * p->dil_w;
			if (ix < 0 || ix >= p->in_w)
				fill16(d + kx * c, c, zp);
			else
				widen_seg(d + kx * c, row + (size_t)ix * (size_t)c, c, end, s);
		}
	}
}

/* mr x nv block: rows of A at a (stride astride int16), panels at w (stride pstride
 * int16); writes channels [c0, c0 + 8 nv) of mr output pixels. */
static MNV2_ALWAYS_INLINE void block(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
				     const int16_t *a, size_t astride, const int16_t *w,
				     size_t pstride, int c0, uint8_t *out, int mr, int nv)
{
	__m256i acc[MR][3];
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
	store_block(p, pk->scale, acc, c0, out, mr, nv);
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

static void fill_a(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const uint8_t *in,
		   size_t px, mnv2_opos *q, int mr, int16_t *a, size_t astride)
{
	int s = p->is_signed;
	const uint8_t *end = in + (size_t)p->batch * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
	for (int r = 0; r < mr; r++) {
		int16_t *dst = a + (size_t)r * astride;
		if (pk->direct)
			widen_row(dst, in + (px + (size_t)r) * (size_t)pk->k, pk->k, s);
		else if (s)
			im2col_row(p, in, end, *q, dst, 1);
		else
			im2col_row(p, in, end, *q, dst, 0);
		if (pk->k % 2)
			dst[pk->k] = 0; /* its weight is zero; keeps the pair defined */
		mnv2_opos_next(p, q);
	}
}

void mnv2_gemm_conv_avx2(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			 const void *in, void *out, void *work, size_t px0, size_t px1, int pn0,
			 int pn1)
{
	int16_t *a = work;
	size_t astride = (size_t)pk->astride * 2, pstride = (size_t)pk->kpairs * 2 * NR;
	mnv2_opos q = mnv2_opos_at(p, px0);
	uint8_t *o = out;
	for (size_t px = px0; px < px1; px += MR) {
		int mr = px1 - px < MR ? (int)(px1 - px) : MR;
		fill_a(p, pk, in, px, &q, mr, a, astride);
		uint8_t *orow = o + px * (size_t)p->out_c;
		for (int pn = pn0; pn < pn1;) {
			int left = pn1 - pn;
			int nv = left >= 3 && left != 4 ? 3 : left >= 2 ? 2 : 1;
			dispatch(p, pk, a, astride, pk->w + (size_t)pn * pstride, pstride, pn * NR,
				 orow, mr, nv);
			pn += nv;
		}
	}
}

#else
typedef int mnv2_gemm_avx2_unavailable; /* ISO C forbids an empty translation unit */
#endif
