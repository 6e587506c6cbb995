/* fixedpoint — TFLite's fixed-point multiplier arithmetic (gemmlowp style, two roundings),
 * used where the reference runtime runs TFLite's own kernels rather than XNNPACK's. */
#ifndef MNV2_FIXEDPOINT_H
#define MNV2_FIXEDPOINT_H

#include <math.h>
#include <stdint.h>

/* multiplier = qm * 2^(shift-31), qm in [2^30, 2^31). */
static inline void mnv2_quantize_multiplier(double m, int32_t *qm, int *shift)
{
	if (m == 0.0 || !isfinite(m)) {
		*qm = 0;
		*shift = 0;
		return;
	}
	double q = frexp(m, shift);
	int64_t q_fixed = (int64_t)round(q * (double)(1LL << 31));
	if (q_fixed == (1LL << 31)) {
		q_fixed /= 2;
		++*shift;
	}
	if (*shift < -31) {
		*shift = 0;
		q_fixed = 0;
	}
	if (*shift > 30) { /* out of TFLite's range: saturate */
		*shift = 30;
		q_fixed = (1LL << 31) - 1;
	}
	*qm = (int32_t)q_fixed;
}

static inline int32_t mnv2_srdhm(int32_t a, int32_t b)
{
	if (a == b && a == INT32_MIN)
		return INT32_MAX;
	int64_t ab = (int64_t)a * (int64_t)b;
	int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
	return (int32_t)((ab + nudge) / (1LL << 31));
}

static inline int32_t mnv2_rdbpot(int32_t x, int exponent)
{
	int32_t mask = (int32_t)((1LL << exponent) - 1);
	int32_t remainder = x & mask;
	int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t mnv2_mul_by_qm(int32_t x, int32_t qm, int shift)
{
	int left = shift > 0 ? shift : 0;
	int right = shift > 0 ? 0 : -shift;
	int64_t xs = (int64_t)x * ((int64_t)1 << left);
	if (xs > INT32_MAX)
		xs = INT32_MAX;
	if (xs < INT32_MIN)
		xs = INT32_MIN;
	return mnv2_rdbpot(mnv2_srdhm((int32_t)xs, qm), right);
}

#endif
