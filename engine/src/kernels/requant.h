/* requant — the float-scale requantization shared by the convolution-family kernels:
 * (float)acc * scale, clamped to [qmin-zp, qmax-zp], rounded to nearest-even, plus zp.
 * Clamping before rounding equals clamping after, because the bounds are integers. */
#ifndef MNV2_REQUANT_H
#define MNV2_REQUANT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static inline int32_t mnv2_requant_fp32(int32_t acc, float scale, int32_t zp, int32_t qmin,
					int32_t qmax)
{
	float f = (float)acc * scale;
	float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
	f = f < lo ? lo : f;
	f = f > hi ? hi : f;
	return (int32_t)lrintf(f) + zp;
}

#define MNV2_ALWAYS_INLINE inline __attribute__((always_inline))

static MNV2_ALWAYS_INLINE int32_t mnv2_ld(const void *p, size_t i, int is_signed)
{
	return is_signed ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

static MNV2_ALWAYS_INLINE void mnv2_st(void *p, size_t i, int32_t v, int is_signed)
{
	if (is_signed)
		((int8_t *)p)[i] = (int8_t)v;
	else
		((uint8_t *)p)[i] = (uint8_t)v;
}

static inline int32_t mnv2_clamp(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

#endif
