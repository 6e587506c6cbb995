/* resample — the fixed-point triangle filter shared by mnv2_resize_rgb() (resample.c) and
 * the one-pass raw frame path (frame_resize.c), so both weigh pixels identically. */
#ifndef MNV2_RESAMPLE_H
#define MNV2_RESAMPLE_H

#include <stdint.h>

#define MNV2_RESAMPLE_BITS 22
#define MNV2_RESAMPLE_MAX_DIM 65535u

/* Pillow-compatible weights for out_size outputs over the source span [in0, in1) of
 * in_size samples: output o reads samples bounds[2o] .. bounds[2o] + bounds[2o + 1] - 1
 * with the weights k[o * ksize ..]; taps stay within [0, in_size). Both index sequences
 * are non-decreasing in o. */
typedef struct mnv2_coeffs {
	int ksize;
	int *bounds;      /* per output: first source index, tap count */
	int32_t *k;       /* per output: ksize fixed-point weights */
} mnv2_coeffs;

/* antialias: the support widens with the scale when shrinking (Pillow); 0: it stays one
 * source sample each side (2-tap bilinear). */
int mnv2_coeffs_make(mnv2_coeffs *c, int in_size, double in0, double in1, int out_size,
		     int antialias);
void mnv2_coeffs_free(mnv2_coeffs *c);

/* A filtered sum (rounding constant included) to a byte. */
static inline uint8_t mnv2_clip8(int32_t v)
{
	if (v < 0)
		return 0;
	v >>= MNV2_RESAMPLE_BITS;
	return (uint8_t)(v > 255 ? 255 : v);
}

#endif
