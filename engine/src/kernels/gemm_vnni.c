/* gemm_vnni — convolutions and fully-connected layers as a GEMM with AVX-VNNI byte dot
 * products (x86-64, -mavx2 -mavxvnni).
 *
 * As gemm_avx2.c, but the A block holds bytes u (x, or x ^ 0x80 for int8: x + 128) and the
 * weights are panels of 8 channels x 4 consecutive k as signed bytes w8 = w - o (pack.c).
 * _mm256_dpbusd_avx_epi32 adds four u8 x s8 products per channel to the accumulator,
 * exactly (products fit int16, the sum is a wrapping int32 add, never saturating). The
 * accumulator starts at bias8 + (o - w_zp) * sum(u) of the pixel (simd.h has the
 * algebra), so the sum equals the portable kernel's modulo 2^32. Register block: 4 pixels
 * x 24 channels; the requantization is gemm_avx2.c's. 1x1 stride-1 uint8 convolutions with
 * k a multiple of 4 read the input pixels in place; other A rows are built with 32 bytes
 * of slack. */
/* Built with -mavx2 -mavxvnni by engine/meson.build; without them an empty unit. */
#if defined(__AVX2__) && defined(__AVXVNNI__)
#include "simd.h"
#include "avx2_util.h"

#define MR MNV2_GEMM_MR
#define NR MNV2_GEMM_NR

/* n bytes, each ^ flip. */
static void copy_flip(uint8_t *dst, const uint8_t *src, int n, uint8_t flip)
{
	if (!flip) {
		memcpy(dst, src, (size_t)n);
		return;
	}
	int i = 0;
	__m256i f = _mm256_set1_epi8((char)flip);
	for (; i + 32 <= n; i += 32)
		_mm256_storeu_si256((__m256i *)(void *)(dst + i),
				    _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)(src + i)), f));
	for (; i < n; i++)
		dst[i] = src[i] ^ flip;
}

/* n bytes ^ flip in whole 16-byte stores: may write up to 15 bytes past dst + n (the A
 * row's slack, or the next segment, written later) and read past src + n up to `end`. */
static MNV2_ALWAYS_INLINE void copy_seg(uint8_t *dst, const uint8_t *src, int n,
					const uint8_t *end, uint8_t flip)
{
	__m128i f = _mm_set1_epi8((char)flip);
	int i = 0;
	for (; i < n && src + i + 16 <= end; i += 16)
		_mm_storeu_si128((__m128i *)(void *)(dst + i),
				 _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(src + i)), f));
	for (; i < n; i++)
		dst[i] = src[i] ^ flip;
}

/* Sum of n bytes. */
static uint32_t byte_sum(const uint8_t *src, int n)
{
	__m256i acc = _mm256_setzero_si256(), z = _mm256_setzero_si256();
	int i = 0;
	for (; i + 32 <= n; i += 32)
		acc = _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *)(const void *)(src + i)), z));
	__m128i h = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
	for (; i + 8 <= n; i += 8)
		h = _mm_add_epi64(h, _mm_sad_epu8(_mm_loadl_epi64((const __m128i *)(const void *)(src + i)),
						  _mm_setzero_si128()));
	uint32_t s = (uint32_t)_mm_cvtsi128_si64(h) + (uint32_t)_mm_extract_epi64(h, 1);
	for (; i < n; i++)
		s += src[i];
	return s;
}

/* im2col row of the output pixel at q as bytes u: [ky][kx][c], padded taps = u of x_zp. */
static void im2col_row(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
		       const uint8_t *in, const uint8_t *end, mnv2_opos q, uint8_t *dst)
{
	int c = p->in_c, kw = p->k_w;
	uint8_t zp = (uint8_t)p->in_zp ^ pk->xflip;
	int ix0 = q.ox * p->stride_w - p->pad_left;
	int whole = p->dil_w == 1 && ix0 >= 0 && ix0 + kw <= p->in_w;
	for (int ky = 0; ky < p->k_h; ky++) {
		int iy = q.oy * p->stride_h - p->pad_top + ky * p->dil_h;
		uint8_t *d = dst + (size_t)ky * (size_t)kw * (size_t)c;
		if (iy < 0 || iy >= p->in_h) {
			memset(d, zp, (size_t)kw * (size_t)c);
			continue;
		}
		const uint8_t *row = in + ((size_t)q.b * (size_t)p->in_h + (size_t)iy) *
						  (size_t)p->in_w * (size_t)c;
		if (whole) { /* the kernel row's taps are contiguous */
			copy_seg(d, row + (size_t)ix0 * (size_t)c, kw * c, end, pk->xflip);
			continue;
		}
		for (int kx = 0; kx < kw; kx++) {
			int ix = ix0 + kx * p->dil_w;
			if (ix < 0 || ix >= p->in_w)
				memset(d + (size_t)kx * (size_t)c, zp, (size_t)c);
			else
				copy_seg(d + (size_t)kx * (size_t)c, row + (size_t)ix * (size_t)c, c, end,
					 pk->xflip);
		}
	}
}

/* mr x nv block: A rows at a[r], panels at w (stride pstride bytes); corr[r] is the
 * pixel's (o - w_zp) * sum(u). */
static MNV2_ALWAYS_INLINE void block(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
				     const uint8_t *const *a, const int32_t *corr,
				     const int8_t *w, size_t pstride, int c0, uint8_t *out,
				     int mr, int nv)
{
	__m256i acc[MR][3];
#pragma GCC unroll 3
	for (int v = 0; v < nv; v++) {
		__m256i b = _mm256_load_si256((const __m256i *)(const void *)(pk->bias8 + c0 + v * NR));
#pragma GCC unroll 4
		for (int r = 0; r < mr; r++)
			acc[r][v] = _mm256_add_epi32(b, _mm256_set1_epi32(corr[r]));
	}
	for (int k = 0; k < pk->kquads; k++) {
		__m256i wv[3];
#pragma GCC unroll 3
		for (int v = 0; v < nv; v++)
			wv[v] = _mm256_load_si256(
				(const __m256i *)(const void *)(w + (size_t)v * pstride + (size_t)k * 4 * NR));
#pragma GCC unroll 4
		for (int r = 0; r < mr; r++) {
			__m256i x = _mm256_set1_epi32(load_i32(a[r] + 4 * (size_t)k));
#pragma GCC unroll 3
			for (int v = 0; v < nv; v++)
				acc[r][v] = _mm256_dpbusd_avx_epi32(acc[r][v], x, wv[v]);
		}
	}
	store_block(p, pk->scale, acc, c0, out, mr, nv);
}

#define BLOCK(MRV, NVV)                                                                     \
	case (MRV) * 4 + (NVV):                                                             \
		block(p, pk, a, corr, w, pstride, c0, out, MRV, NVV);                       \
		break

static void dispatch(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
		     const uint8_t *const *a, const int32_t *corr, const int8_t *w,
		     size_t pstride, int c0, uint8_t *out, int mr, int nv)
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

/* Rows of the A block for mr pixels from px: pointers into the input (in place) or into
 * the workspace, and each row's correction. */
static void fill_a(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const uint8_t *in,
		   size_t px, mnv2_opos *q, int mr, uint8_t *work, const uint8_t **a, int32_t *corr)
{
	int k = pk->k, kp = 4 * pk->kquads;
	int in_place = pk->direct && !pk->xflip && k == kp;
	const uint8_t *end = in + (size_t)p->batch * (size_t)p->in_h * (size_t)p->in_w *
					  (size_t)p->in_c;
	for (int r = 0; r < mr; r++) {
		uint8_t *row = work + (size_t)r * (size_t)pk->astride8;
		const uint8_t *src = in + (px + (size_t)r) * (size_t)k;
		if (in_place) {
			a[r] = src;
		} else {
			if (pk->direct)
				copy_flip(row, src, k, pk->xflip);
			else
				im2col_row(p, pk, in, end, *q, row);
			/* zeros to a multiple of 32 (their weights are zero): whole-vector sums */
			memset(row + k, 0, (size_t)((k + 31) / 32 * 32 - k));
			a[r] = row;
		}
		uint32_t su = !pk->zfactor ? 0 : byte_sum(a[r], in_place ? k : (k + 31) / 32 * 32);
		corr[r] = (int32_t)((uint32_t)pk->zfactor * su);
		mnv2_opos_next(p, q);
	}
}

void mnv2_gemm_conv_avxvnni(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			    const void *in, void *out, void *work, size_t px0, size_t px1,
			    int pn0, int pn1)
{
	size_t pstride = (size_t)pk->kquads * 4 * NR;
	mnv2_opos q = mnv2_opos_at(p, px0);
	uint8_t *o = out;
	for (size_t px = px0; px < px1; px += MR) {
		int mr = px1 - px < MR ? (int)(px1 - px) : MR;
		const uint8_t *a[MR];
		int32_t corr[MR];
		fill_a(p, pk, in, px, &q, mr, work, a, corr);
		uint8_t *orow = o + px * (size_t)p->out_c;
		for (int pn = pn0; pn < pn1;) {
			int left = pn1 - pn;
			int nv = left >= 3 && left != 4 ? 3 : left >= 2 ? 2 : 1;
			dispatch(p, pk, a, corr, pk->w8 + (size_t)pn * pstride, pstride, pn * NR, orow,
				 mr, nv);
			pn += nv;
		}
	}
}

#else
typedef int mnv2_gemm_vnni_unavailable; /* ISO C forbids an empty translation unit */
#endif
