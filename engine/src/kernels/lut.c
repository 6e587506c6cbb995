/* lut — 8-bit lookup-table activations; see kernels.h.
 *
 * LOGISTIC follows TFLite's quantized kernel: for every input byte, dequantize, apply
 * 1/(1+exp(-x)) in float, multiply by 1/out_scale, round half away from zero, add the
 * zero point and clamp. */
#include "kernels.h"
#include "requant.h"

#include <math.h>

void mnv2_lut_logistic_init(uint8_t table[256], float in_scale, int32_t in_zp,
			    float out_scale, int32_t out_zp, int is_signed)
{
	const float inv_scale = 1.0f / out_scale;
	const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
	for (int32_t v = qmin; v <= qmax; v++) {
		float x = in_scale * (float)(v - in_zp);
		float y = 1.0f / (1.0f + expf(-x));
		float r = roundf(y * inv_scale);
		if (!(r > -65536.0f && r < 65536.0f))
			r = r > 0 ? 65536.0f : -65536.0f;
		int32_t q = mnv2_clamp((int32_t)r + out_zp, qmin, qmax);
		table[(uint8_t)v] = (uint8_t)q;
	}
}

void mnv2_lut_apply(const uint8_t table[256], size_t n, const void *in, void *out)
{
	const uint8_t *src = in;
	uint8_t *dst = out;
	for (size_t i = 0; i < n; i++)
		dst[i] = table[src[i]];
}
