/* softmax — TFLite's quantized softmax with a float exp table (its optimized kernel on
 * x86 and WebAssembly, which produced the reference outputs).
 *
 * table[255 - d] = exp(-in_scale * beta * d); for each row, entries are taken relative to
 * the row maximum, summed in float in order, and each probability is table * 1/(sum *
 * out_scale), quantized as (int)(p + 0.5f) for uint8 and round(p) + zp for int8. */
#include "kernels.h"
#include "requant.h"

#include <math.h>

void mnv2_softmax_params_init(mnv2_softmax_params *p, float in_scale, float beta)
{
	const float scale = -in_scale * beta;
	for (int32_t v = 0; v <= 255; v++)
		p->table[255 - v] = expf(scale * (float)v);
}

static MNV2_ALWAYS_INLINE void softmax_impl(const mnv2_softmax_params *p, const void *in,
					    void *out, int s)
{
	const int32_t qmin = s ? -128 : 0, qmax = s ? 127 : 255;
	for (size_t r = 0; r < p->outer; r++) {
		size_t base = r * p->depth;
		int32_t max = qmin;
		for (size_t j = 0; j < p->depth; j++) {
			int32_t v = mnv2_ld(in, base + j, s);
			max = v > max ? v : max;
		}
		/* 255 - max + v lies in [0, 255] because qmin <= v <= max <= qmax. */
		const int32_t off = 255 - max;
		float sum = 0.0f;
		for (size_t j = 0; j < p->depth; j++)
			sum += p->table[off + mnv2_ld(in, base + j, s)];
		const float inv = 1.0f / (sum * p->out_scale);
		for (size_t j = 0; j < p->depth; j++) {
			float prob = p->table[off + mnv2_ld(in, base + j, s)] * inv;
			/* Keep the float-to-int conversion defined for absurd scales. */
			if (!(prob < 65536.0f))
				prob = 65536.0f;
			int32_t q = s ? (int32_t)roundf(prob) + p->out_zp
				      : (int32_t)(prob + 0.5f) + p->out_zp;
			mnv2_st(out, base + j, mnv2_clamp(q, qmin, qmax), s);
		}
	}
}

void mnv2_softmax(const mnv2_softmax_params *p, const void *in, void *out)
{
	if (p->is_signed)
		softmax_impl(p, in, out, 1);
	else
		softmax_impl(p, in, out, 0);
}
