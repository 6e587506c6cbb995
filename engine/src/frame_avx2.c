/* frame_avx2 — AVX2 inner loops of the one-pass frame resampler (frame_resize.c), compiled
 * with -mavx2 only and called only when the CPU has AVX2 (mnv2_cpu_has_avx2()).
 *
 * The same integer arithmetic as the SSE2 loops of frame_simd.h, twice as wide, so the
 * bytes are the same (tests/test_frame.c compares the portable, SSE2 and AVX2 paths):
 *  - colour: 16 pixels at a time. The 256-bit unpack/shuffle/pack instructions work on
 *    each 128-bit half separately, and each half holds 8 consecutive pixels and their 4
 *    chroma pairs, so every half is exactly the SSE2 computation for its 8 pixels;
 *  - horizontal filter: 16 taps per multiply (kpad is a multiple of 8; an 8-tap rest
 *    takes one 128-bit step). Pixels and weights are >= 0 and every partial sum is at most
 *    the whole, below 2^31, so regrouping the int32 additions changes nothing.
 */
#include "frame_avx2.h"

#include <immintrin.h>
#include <string.h>

uint32_t mnv2_yuv_planar_avx2(const mnv2_frame_reader *r, mnv2_frame_format fmt,
			      const uint8_t *yp, const uint8_t *c1, const uint8_t *c2, uint32_t x,
			      uint32_t end, int16_t *R, int16_t *G, int16_t *B)
{
	const __m256i ones = _mm256_set1_epi16(1), c128 = _mm256_set1_epi16(128);
	const __m256i c255 = _mm256_set1_epi16(255);
	const __m256i y0 = _mm256_set1_epi16((short)r->y0), lo8 = _mm256_set1_epi16(0xff);
	const __m256i kl = _mm256_set1_epi32((int)((uint32_t)8192 << 16 | (uint32_t)r->cy));
	const __m256i kr = _mm256_set1_epi32((int)((uint32_t)r->crv << 16));
	const __m256i kg = _mm256_set1_epi32((int)((uint32_t)(uint16_t)(-r->cgv) << 16 |
						   (uint16_t)(-r->cgu)));
	const __m256i kb = _mm256_set1_epi32(r->cbu / 2);
	uint32_t start = x, i = 0;
	for (; x + 16 <= end; x += 16, i += 16) {
		__m256i y16, uv;
		if (fmt == MNV2_FRAME_YUYV || fmt == MNV2_FRAME_UYVY) {
			__m256i p = _mm256_loadu_si256((const __m256i *)(const void *)(yp + 2 * (size_t)x));
			__m256i even = _mm256_and_si256(p, lo8), odd = _mm256_srli_epi16(p, 8);
			y16 = fmt == MNV2_FRAME_YUYV ? even : odd;
			uv = fmt == MNV2_FRAME_YUYV ? odd : even;
		} else {
			y16 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(yp + x)));
			__m128i uv8;
			if (fmt == MNV2_FRAME_I420)
				uv8 = _mm_unpacklo_epi8(
					_mm_loadl_epi64((const __m128i *)(const void *)(c1 + x / 2)),
					_mm_loadl_epi64((const __m128i *)(const void *)(c2 + x / 2)));
			else
				uv8 = _mm_loadu_si128((const __m128i *)(const void *)(c1 + x));
			uv = _mm256_cvtepu8_epi16(uv8);
			if (fmt == MNV2_FRAME_NV21) /* V U pairs: swap to U V */
				uv = _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(uv, 0xb1), 0xb1);
		}
		uv = _mm256_sub_epi16(uv, c128);
		__m256i d = _mm256_sub_epi16(y16, y0);
		__m256i l_lo = _mm256_madd_epi16(_mm256_unpacklo_epi16(d, ones), kl);
		__m256i l_hi = _mm256_madd_epi16(_mm256_unpackhi_epi16(d, ones), kl);
		__m256i cr = _mm256_madd_epi16(uv, kr);
		__m256i cg = _mm256_madd_epi16(uv, kg);
		__m256i cb = _mm256_slli_epi32(_mm256_madd_epi16(uv, kb), 1);
		__m256i lo, hi, v;
#define MNV2_YUV16_STORE(C, OUT)                                                          \
	lo = _mm256_add_epi32(l_lo, _mm256_shuffle_epi32(C, 0x50));                         \
	hi = _mm256_add_epi32(l_hi, _mm256_shuffle_epi32(C, 0xfa));                         \
	v = _mm256_packus_epi32(_mm256_srai_epi32(lo, 14), _mm256_srai_epi32(hi, 14));      \
	v = _mm256_min_epu16(v, c255); /* packus took negatives to 0 */                     \
	_mm256_storeu_si256((__m256i *)(void *)(OUT), v)
		MNV2_YUV16_STORE(cr, R + i);
		MNV2_YUV16_STORE(cg, G + i);
		MNV2_YUV16_STORE(cb, B + i);
#undef MNV2_YUV16_STORE
	}
	return x - start;
}

/* Lanes of a, b, c (int32 x 4 each) summed: [sum a, sum b, sum c, 0]. */
static inline __m128i hsum3(__m128i a, __m128i b, __m128i c)
{
	const __m128i z = _mm_setzero_si128();
	__m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
	__m128i c0 = _mm_add_epi32(_mm_unpacklo_epi32(c, z), _mm_unpackhi_epi32(c, z));
	return _mm_add_epi32(_mm_unpacklo_epi64(ab, c0), _mm_unpackhi_epi64(ab, c0));
}

static inline __m128i fold(__m256i v)
{
	return _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

void mnv2_dot3_avx2(const int16_t *r, const int16_t *g, const int16_t *b, const int16_t *whi,
		    const int16_t *wlo, int kpad, uint8_t *out)
{
	__m256i rh = _mm256_setzero_si256(), rl = rh, gh = rh, gl = rh, bh = rh, bl = rh;
	int k = 0;
	for (; k + 16 <= kpad; k += 16) {
		__m256i h = _mm256_loadu_si256((const __m256i *)(const void *)(whi + k));
		__m256i l = _mm256_loadu_si256((const __m256i *)(const void *)(wlo + k));
		__m256i pr = _mm256_loadu_si256((const __m256i *)(const void *)(r + k));
		__m256i pg = _mm256_loadu_si256((const __m256i *)(const void *)(g + k));
		__m256i pb = _mm256_loadu_si256((const __m256i *)(const void *)(b + k));
		rh = _mm256_add_epi32(rh, _mm256_madd_epi16(pr, h));
		rl = _mm256_add_epi32(rl, _mm256_madd_epi16(pr, l));
		gh = _mm256_add_epi32(gh, _mm256_madd_epi16(pg, h));
		gl = _mm256_add_epi32(gl, _mm256_madd_epi16(pg, l));
		bh = _mm256_add_epi32(bh, _mm256_madd_epi16(pb, h));
		bl = _mm256_add_epi32(bl, _mm256_madd_epi16(pb, l));
	}
	__m128i srh = fold(rh), srl = fold(rl), sgh = fold(gh), sgl = fold(gl);
	__m128i sbh = fold(bh), sbl = fold(bl);
	if (k < kpad) { /* the last 8 taps */
		__m128i h = _mm_loadu_si128((const __m128i *)(const void *)(whi + k));
		__m128i l = _mm_loadu_si128((const __m128i *)(const void *)(wlo + k));
		__m128i pr = _mm_loadu_si128((const __m128i *)(const void *)(r + k));
		__m128i pg = _mm_loadu_si128((const __m128i *)(const void *)(g + k));
		__m128i pb = _mm_loadu_si128((const __m128i *)(const void *)(b + k));
		srh = _mm_add_epi32(srh, _mm_madd_epi16(pr, h));
		srl = _mm_add_epi32(srl, _mm_madd_epi16(pr, l));
		sgh = _mm_add_epi32(sgh, _mm_madd_epi16(pg, h));
		sgl = _mm_add_epi32(sgl, _mm_madd_epi16(pg, l));
		sbh = _mm_add_epi32(sbh, _mm_madd_epi16(pb, h));
		sbl = _mm_add_epi32(sbl, _mm_madd_epi16(pb, l));
	}
	__m128i s = hsum3(_mm_add_epi32(_mm_slli_epi32(srh, 11), srl),
			  _mm_add_epi32(_mm_slli_epi32(sgh, 11), sgl),
			  _mm_add_epi32(_mm_slli_epi32(sbh, 11), sbl));
	s = _mm_add_epi32(s, _mm_set1_epi32(1 << (MNV2_RESAMPLE_BITS - 1)));
	s = _mm_srai_epi32(s, MNV2_RESAMPLE_BITS); /* negative sums floor below 0: clipped */
	s = _mm_packs_epi32(s, s);
	s = _mm_packus_epi16(s, s);
	int32_t px = _mm_cvtsi128_si32(s);
	memcpy(out, &px, 3); /* little-endian: R, G, B are the low bytes */
}

/* Taps [k, kpad) of one output, k a multiple of 16, kpad - k a multiple of 8, combined
 * into one vector per channel: lanes of sum_hi * 2^11 + sum_lo (each lane's share of the
 * output's sum; see the top of the file for why that is exact). */
static inline void dot3_lanes(const int16_t *r, const int16_t *g, const int16_t *b,
			      const int16_t *whi, const int16_t *wlo, int kpad, __m256i *sr,
			      __m256i *sg, __m256i *sb)
{
	__m256i rh = _mm256_setzero_si256(), rl = rh, gh = rh, gl = rh, bh = rh, bl = rh;
	for (int k = 0; k < kpad; k += 16) {
		__m256i h, l, pr, pg, pb;
		if (k + 16 <= kpad) {
			h = _mm256_loadu_si256((const __m256i *)(const void *)(whi + k));
			l = _mm256_loadu_si256((const __m256i *)(const void *)(wlo + k));
			pr = _mm256_loadu_si256((const __m256i *)(const void *)(r + k));
			pg = _mm256_loadu_si256((const __m256i *)(const void *)(g + k));
			pb = _mm256_loadu_si256((const __m256i *)(const void *)(b + k));
		} else { /* the last 8 taps; the upper half stays zero */
#define LOAD8(P) _mm256_inserti128_si256(_mm256_setzero_si256(),                      \
					  _mm_loadu_si128((const __m128i *)(const void *)(P)), 0)
			h = LOAD8(whi + k);
			l = LOAD8(wlo + k);
			pr = LOAD8(r + k);
			pg = LOAD8(g + k);
			pb = LOAD8(b + k);
#undef LOAD8
		}
		rh = _mm256_add_epi32(rh, _mm256_madd_epi16(pr, h));
		rl = _mm256_add_epi32(rl, _mm256_madd_epi16(pr, l));
		gh = _mm256_add_epi32(gh, _mm256_madd_epi16(pg, h));
		gl = _mm256_add_epi32(gl, _mm256_madd_epi16(pg, l));
		bh = _mm256_add_epi32(bh, _mm256_madd_epi16(pb, h));
		bl = _mm256_add_epi32(bl, _mm256_madd_epi16(pb, l));
	}
	*sr = _mm256_add_epi32(_mm256_slli_epi32(rh, 11), rl);
	*sg = _mm256_add_epi32(_mm256_slli_epi32(gh, 11), gl);
	*sb = _mm256_add_epi32(_mm256_slli_epi32(bh, 11), bl);
}

void mnv2_dot3x4_avx2(const int16_t *const pl[3], const size_t off[4], const int16_t *whi,
		      const int16_t *wlo, int kpad, uint8_t *out)
{
	__m256i v[12];
	for (int o = 0; o < 4; o++) {
		size_t w = (size_t)o * (size_t)kpad;
		dot3_lanes(pl[0] + off[o], pl[1] + off[o], pl[2] + off[o], whi + w, wlo + w, kpad,
			   &v[3 * o], &v[3 * o + 1], &v[3 * o + 2]);
	}
	/* Sum the lanes of the 12 vectors, keeping their order (r0 g0 b0 r1 ... b3): pairwise
	 * horizontal adds within each 128-bit half, then the two halves. */
	__m256i h[6];
	for (int j = 0; j < 6; j++)
		h[j] = _mm256_hadd_epi32(v[2 * j], v[2 * j + 1]);
	__m256i q0 = _mm256_hadd_epi32(h[0], h[1]), q1 = _mm256_hadd_epi32(h[2], h[3]);
	__m256i q2 = _mm256_hadd_epi32(h[4], h[5]);
	const __m128i half = _mm_set1_epi32(1 << (MNV2_RESAMPLE_BITS - 1));
	__m128i s0 = _mm_srai_epi32(_mm_add_epi32(fold(q0), half), MNV2_RESAMPLE_BITS);
	__m128i s1 = _mm_srai_epi32(_mm_add_epi32(fold(q1), half), MNV2_RESAMPLE_BITS);
	__m128i s2 = _mm_srai_epi32(_mm_add_epi32(fold(q2), half), MNV2_RESAMPLE_BITS);
	__m128i bytes = _mm_packus_epi16(_mm_packs_epi32(s0, s1), _mm_packs_epi32(s2, s2));
	uint8_t tmp[16];
	_mm_storeu_si128((__m128i *)(void *)tmp, bytes);
	memcpy(out, tmp, 12);
}

/* Eight outputs' R, G, B sums (v[c] lane o, already shifted) clipped to bytes and stored
 * interleaved: out[3o .. 3o + 2]. */
static inline void store_rgb8(const __m256i v[3], uint8_t *out)
{
	/* per 128-bit half (4 outputs): R0-3 G0-3 B0-3 B0-3 bytes, then interleaved RGB */
	__m256i rg = _mm256_packs_epi32(v[0], v[1]), bb = _mm256_packs_epi32(v[2], v[2]);
	__m256i bytes = _mm256_packus_epi16(rg, bb);
	const __m256i order = _mm256_setr_epi8(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, -1, -1, -1,
					       -1, 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, -1, -1,
					       -1, -1);
	uint8_t tmp[32];
	_mm256_storeu_si256((__m256i *)(void *)tmp, _mm256_shuffle_epi8(bytes, order));
	memcpy(out, tmp, 12);
	memcpy(out + 12, tmp + 16, 12);
}

void mnv2_dot3x8_2tap_avx2(const int16_t *const pl[3], const int32_t off[8],
			   const int32_t *whi2, const int32_t *wlo2, uint8_t *out)
{
	const __m256i wh = _mm256_loadu_si256((const __m256i *)(const void *)whi2);
	const __m256i wl = _mm256_loadu_si256((const __m256i *)(const void *)wlo2);
	const __m256i half = _mm256_set1_epi32(1 << (MNV2_RESAMPLE_BITS - 1));
	__m256i v[3];
	for (int c = 0; c < 3; c++) {
		/* one 32-bit load per output fetches its pixel pair (plain loads: on CPUs with
		 * the Gather Data Sampling mitigation vpgatherdd is several times slower) */
		int32_t q[8];
		for (int o = 0; o < 8; o++)
			memcpy(&q[o], pl[c] + off[o], 4);
		__m256i p = _mm256_loadu_si256((const __m256i *)(const void *)q);
		__m256i s = _mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(p, wh), 11),
					     _mm256_madd_epi16(p, wl));
		v[c] = _mm256_srai_epi32(_mm256_add_epi32(s, half), MNV2_RESAMPLE_BITS);
	}
	store_rgb8(v, out);
}

void mnv2_acc_add_avx2(int32_t *acc, const uint8_t *h, size_t n, int32_t w)
{
	const __m256i vw = _mm256_set1_epi32(w);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) { /* h * w <= 255 * 2^22: exact in int32 */
		int64_t b8;
		memcpy(&b8, h + i, 8);
		__m256i p = _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(b8)), vw);
		__m256i *a = (__m256i *)(void *)(acc + i);
		_mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), p));
	}
	for (; i < n; i++)
		acc[i] += h[i] * w;
}

/* Pixel a's luma and the next one's, as the low two bytes. */
static inline uint64_t luma2(const uint8_t *yp, int32_t a)
{
	uint16_t v;
	memcpy(&v, yp + a, 2);
	return v;
}

/* The chroma pairs of pixels a and a + 1 of a 4:2:0 row: bytes U V U V (V U V U for NV21). */
static inline __attribute__((always_inline)) uint64_t chroma2(mnv2_frame_format fmt,
							       const uint8_t *c1,
							       const uint8_t *c2, int32_t a)
{
	uint32_t ca = (uint32_t)a >> 1, cb = ((uint32_t)a + 1) >> 1;
	uint16_t ua, ub;
	if (fmt == MNV2_FRAME_I420) {
		ua = (uint16_t)(c1[ca] | c2[ca] << 8);
		ub = (uint16_t)(c1[cb] | c2[cb] << 8);
	} else {
		memcpy(&ua, c1 + 2 * (size_t)ca, 2);
		memcpy(&ub, c1 + 2 * (size_t)cb, 2);
	}
	return (uint64_t)ua | (uint64_t)ub << 16;
}

/* The gather of mnv2_yuv420_2tap_avx2(), in general registers (storing the pieces to
 * memory and loading them as a vector would stall on store forwarding): the luma bytes
 * A0 B0 A1 B1 ... (A = x[o], B = x[o] + 1), and each pixel's own chroma pair, U V U V per
 * output, in the order 0 1 4 5 | 2 3 6 7 so that, widened, each 128-bit half lines up with
 * the luma's unpacklo / unpackhi. Inlined per format so the format is a constant. */
static inline __attribute__((always_inline)) void gather420(mnv2_frame_format fmt,
							    const uint8_t *yp,
							    const uint8_t *c1,
							    const uint8_t *c2,
							    const int32_t x[8], __m128i *y16,
							    __m128i *u_lo, __m128i *u_hi)
{
	uint64_t y0 = luma2(yp, x[0]) | luma2(yp, x[1]) << 16 | luma2(yp, x[2]) << 32 |
		      luma2(yp, x[3]) << 48;
	uint64_t y1 = luma2(yp, x[4]) | luma2(yp, x[5]) << 16 | luma2(yp, x[6]) << 32 |
		      luma2(yp, x[7]) << 48;
	uint64_t q01 = chroma2(fmt, c1, c2, x[0]) | chroma2(fmt, c1, c2, x[1]) << 32;
	uint64_t q23 = chroma2(fmt, c1, c2, x[2]) | chroma2(fmt, c1, c2, x[3]) << 32;
	uint64_t q45 = chroma2(fmt, c1, c2, x[4]) | chroma2(fmt, c1, c2, x[5]) << 32;
	uint64_t q67 = chroma2(fmt, c1, c2, x[6]) | chroma2(fmt, c1, c2, x[7]) << 32;
	*y16 = _mm_set_epi64x((int64_t)y1, (int64_t)y0);
	*u_lo = _mm_set_epi64x((int64_t)q45, (int64_t)q01);
	*u_hi = _mm_set_epi64x((int64_t)q67, (int64_t)q23);
}

uint32_t mnv2_yuv420_2tap_avx2(const mnv2_frame_reader *r, mnv2_frame_format fmt,
			       const uint8_t *yp, const uint8_t *c1, const uint8_t *c2,
			       const int32_t *x, uint32_t n, const int32_t *whi2,
			       const int32_t *wlo2, uint8_t *out)
{
	const __m256i ones = _mm256_set1_epi16(1), c128 = _mm256_set1_epi16(128);
	const __m256i c255 = _mm256_set1_epi16(255);
	const __m256i y0 = _mm256_set1_epi16((short)r->y0);
	const __m256i kl = _mm256_set1_epi32((int)((uint32_t)8192 << 16 | (uint32_t)r->cy));
	const __m256i kr = _mm256_set1_epi32((int)((uint32_t)r->crv << 16));
	const __m256i kg = _mm256_set1_epi32((int)((uint32_t)(uint16_t)(-r->cgv) << 16 |
						   (uint16_t)(-r->cgu)));
	const __m256i kb = _mm256_set1_epi32(r->cbu / 2);
	const __m256i half = _mm256_set1_epi32(1 << (MNV2_RESAMPLE_BITS - 1));
	uint32_t o = 0;
	for (; o + 8 <= n; o += 8) {
		__m128i y16, u_lo, u_hi;
		if (fmt == MNV2_FRAME_I420)
			gather420(MNV2_FRAME_I420, yp, c1, c2, x + o, &y16, &u_lo, &u_hi);
		else
			gather420(MNV2_FRAME_NV12, yp, c1, c2, x + o, &y16, &u_lo, &u_hi);
		__m256i d = _mm256_sub_epi16(_mm256_cvtepu8_epi16(y16), y0);
		__m256i l_lo = _mm256_madd_epi16(_mm256_unpacklo_epi16(d, ones), kl);
		__m256i l_hi = _mm256_madd_epi16(_mm256_unpackhi_epi16(d, ones), kl);
		__m256i uv_lo = _mm256_sub_epi16(_mm256_cvtepu8_epi16(u_lo), c128);
		__m256i uv_hi = _mm256_sub_epi16(_mm256_cvtepu8_epi16(u_hi), c128);
		if (fmt == MNV2_FRAME_NV21) { /* V U pairs: swap to U V */
			uv_lo = _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(uv_lo, 0xb1), 0xb1);
			uv_hi = _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(uv_hi, 0xb1), 0xb1);
		}
		const __m256i wh = _mm256_loadu_si256((const __m256i *)(const void *)(whi2 + o));
		const __m256i wl = _mm256_loadu_si256((const __m256i *)(const void *)(wlo2 + o));
		const __m256i ch_lo[3] = { _mm256_madd_epi16(uv_lo, kr), _mm256_madd_epi16(uv_lo, kg),
					   _mm256_slli_epi32(_mm256_madd_epi16(uv_lo, kb), 1) };
		const __m256i ch_hi[3] = { _mm256_madd_epi16(uv_hi, kr), _mm256_madd_epi16(uv_hi, kg),
					   _mm256_slli_epi32(_mm256_madd_epi16(uv_hi, kb), 1) };
		__m256i v[3];
		for (int c = 0; c < 3; c++) {
			/* the channel of all 16 pixels, as in mnv2_yuv_planar_avx2() but with a
			 * chroma pair per pixel rather than per two: int16 A B per output */
			__m256i p = _mm256_packus_epi32(
				_mm256_srai_epi32(_mm256_add_epi32(l_lo, ch_lo[c]), 14),
				_mm256_srai_epi32(_mm256_add_epi32(l_hi, ch_hi[c]), 14));
			p = _mm256_min_epu16(p, c255);
			__m256i sum = _mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(p, wh), 11),
						       _mm256_madd_epi16(p, wl));
			v[c] = _mm256_srai_epi32(_mm256_add_epi32(sum, half), MNV2_RESAMPLE_BITS);
		}
		store_rgb8(v, out + 3 * o);
	}
	return o;
}
