/* frame_avx2 — AVX2 versions of the one-pass resampler's inner loops (frame_avx2.c, built
 * with -mavx2 into the engine's AVX2 library on x86-64). Call them only when mnv2_cpu_has_avx2()
 * says the CPU has AVX2. Each gives exactly the bytes of its SSE2 counterpart in
 * frame_simd.h. */
#ifndef MNV2_FRAME_AVX2_H
#define MNV2_FRAME_AVX2_H

#include "frame_internal.h"
#include "resample.h"

#include <stddef.h>
#include <stdint.h>

/* Converts pixels x, x + 1, ... of one row of an NV12/NV21/I420/YUYV/UYVY frame (x even)
 * 16 at a time while x + 16 <= end, into R/G/B[0..]; yp, c1, c2 are the row's luma and
 * chroma rows as in frame_resize.c. Returns how many pixels it converted (a multiple of
 * 16); the caller converts the rest. */
uint32_t mnv2_yuv_planar_avx2(const mnv2_frame_reader *r, mnv2_frame_format fmt,
			      const uint8_t *yp, const uint8_t *c1, const uint8_t *c2, uint32_t x,
			      uint32_t end, int16_t *R, int16_t *G, int16_t *B);

/* mnv2_dot3_sse2() (frame_simd.h): kpad a multiple of 8. */
void mnv2_dot3_avx2(const int16_t *r, const int16_t *g, const int16_t *b, const int16_t *whi,
		    const int16_t *wlo, int kpad, uint8_t *out);

/* Four consecutive outputs at once: output o reads the planar channels pl[c] + off[o] with
 * the weights whi/wlo + o * kpad, and its R, G, B go to out[3o .. 3o + 2]. The same bytes
 * as four mnv2_dot3_avx2() calls, with the lane sums of all four done together. */
void mnv2_dot3x4_avx2(const int16_t *const pl[3], const size_t off[4], const int16_t *whi,
		      const int16_t *wlo, int kpad, uint8_t *out);

/* Eight consecutive outputs of a filter with at most two taps each (bilinear, or any
 * upscale): output o reads pl[c][off[o]] and pl[c][off[o] + 1] (both inside the planar
 * buffers; a tap past the filter's end has weight 0), with the weight pairs whi2[o] and
 * wlo2[o] (tap 0 in the low int16 half, tap 1 in the high); R, G, B go to out[3o ..].
 * The same bytes as mnv2_dot3_avx2() with those weights. */
void mnv2_dot3x8_2tap_avx2(const int16_t *const pl[3], const int32_t off[8],
			   const int32_t *whi2, const int32_t *wlo2, uint8_t *out);

/* mnv2_dot3x8_2tap_avx2() reading the frame itself instead of converted planar channels,
 * for 4:2:0 frames (NV12, NV21, I420), eight outputs at a time while eight remain of n:
 * output o converts pixels x[o] and x[o] + 1 of the row whose luma is yp and chroma c1
 * (and c2 for I420), frame coordinates, both inside the row, with the colour maths of
 * mnv2_yuv_planar_avx2(), and filters them with the weight pairs whi2/wlo2[o] into
 * out[3o ..]. Only the pixels a two-tap filter reads are converted (a 1080p row shrunk to
 * 300 needs 600 of its 1920). Returns how many outputs it did (a multiple of 8). */
uint32_t mnv2_yuv420_2tap_avx2(const mnv2_frame_reader *r, mnv2_frame_format fmt,
			       const uint8_t *yp, const uint8_t *c1, const uint8_t *c2,
			       const int32_t *x, uint32_t n, const int32_t *whi2,
			       const int32_t *wlo2, uint8_t *out);

/* mnv2_acc_add_sse2(): acc[i] += h[i] * w for i < n, w in [0, 2^22]. */
void mnv2_acc_add_avx2(int32_t *acc, const uint8_t *h, size_t n, int32_t w);

#endif
