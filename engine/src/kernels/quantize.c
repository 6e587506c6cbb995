/* quantize — conversions between float and 8-bit tensors and between 8-bit encodings;
 * see kernels.h. */
#include "kernels.h"
#include "requant.h"
#include "../fixedpoint.h"

#include <math.h>

void mnv2_requant_params_init(mnv2_requant_params *p, float in_scale, int32_t in_zp,
			      int in_signed, float out_scale, int32_t out_zp, int out_signed)
{
	mnv2_quantize_multiplier((double)in_scale / (double)out_scale, &p->mult, &p->shift);
	p->in_zp = in_zp;
	p->out_zp = out_zp;
	p->in_signed = in_signed;
	p->out_signed = out_signed;
}

void mnv2_requant(const mnv2_requant_params *p, size_t n, const void *in, void *out)
{
	const int32_t qmin = p->out_signed ? -128 : 0, qmax = p->out_signed ? 127 : 255;
	for (size_t i = 0; i < n; i++) {
		int32_t x = mnv2_ld(in, i, p->in_signed) - p->in_zp;
		/* int64: a saturated multiplier result plus the zero point would overflow */
		int64_t y = (int64_t)mnv2_mul_by_qm(x, p->mult, p->shift) + p->out_zp;
		y = y < qmin ? qmin : y > qmax ? qmax : y;
		mnv2_st(out, i, (int32_t)y, p->out_signed);
	}
}

/* Float to int32 with saturation: defined for every input, NaN maps to 0. */
static int32_t sat_round(float f)
{
	if (!(f == f))
		return 0;
	if (f > 1e9f)
		return 1000000000;
	if (f < -1e9f)
		return -1000000000;
	return (int32_t)roundf(f);
}

static void rescale_direct(size_t n, const void *in, int in_signed, float in_scale,
			   int32_t in_zp, float out_scale, int32_t out_zp, int out_signed, void *out)
{
	const float scale = in_scale * (1.0f / out_scale);
	const float bias = -(float)in_zp * scale;
	const int32_t qmin = out_signed ? -128 : 0, qmax = out_signed ? 127 : 255;
	for (size_t i = 0; i < n; i++) {
		float x = (float)mnv2_ld(in, i, in_signed);
		int32_t y = sat_round(x * scale + bias) + out_zp;
		mnv2_st(out, i, mnv2_clamp(y, qmin, qmax), out_signed);
	}
}

/* Each output byte depends on its input byte alone: beyond a few hundred elements a table
 * of all 256 answers, computed by the same arithmetic, is cheaper (same bytes). */
void mnv2_rescale(size_t n, const void *in, int in_signed, float in_scale, int32_t in_zp,
		  float out_scale, int32_t out_zp, int out_signed, void *out)
{
	if (n < 1024) {
		rescale_direct(n, in, in_signed, in_scale, in_zp, out_scale, out_zp, out_signed,
			       out);
		return;
	}
	uint8_t all[256], table[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;   /* as int8 when in_signed: the same bits */
	rescale_direct(256, all, in_signed, in_scale, in_zp, out_scale, out_zp, out_signed,
		       table);
	const uint8_t *src = in;
	uint8_t *dst = out;
	for (size_t i = 0; i < n; i++)
		dst[i] = table[src[i]];
}

void mnv2_quantize_f32(size_t n, const float *in, float scale, int32_t zp, int is_signed,
		       void *out)
{
	const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
	for (size_t i = 0; i < n; i++) {
		int32_t y = sat_round(in[i] / scale) + zp;
		mnv2_st(out, i, mnv2_clamp(y, qmin, qmax), is_signed);
	}
}

void mnv2_dequantize(size_t n, const void *in, float scale, int32_t zp, int is_signed,
		     float *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (float)(mnv2_ld(in, i, is_signed) - zp) * scale;
}

void mnv2_pad(const mnv2_pad_params *p, const void *in, void *out)
{
	const uint8_t *src = in;
	uint8_t *dst = out;
	const int32_t *od = p->out_dims, *id = p->in_dims, *bf = p->before;
	size_t o = 0;
	for (int32_t a = 0; a < od[0]; a++)
		for (int32_t b = 0; b < od[1]; b++)
			for (int32_t c = 0; c < od[2]; c++)
				for (int32_t d = 0; d < od[3]; d++, o++) {
					int32_t ia = a - bf[0], ib = b - bf[1], ic = c - bf[2],
						idd = d - bf[3];
					const uint8_t *v = p->value;
					if (ia >= 0 && ia < id[0] && ib >= 0 && ib < id[1] &&
					    ic >= 0 && ic < id[2] && idd >= 0 && idd < id[3])
						v = src + ((((size_t)ia * id[1] + ib) * id[2] + ic) *
								   id[3] + idd) * p->elem;
					for (size_t k = 0; k < p->elem; k++)
						dst[o * p->elem + k] = v[k];
				}
}
