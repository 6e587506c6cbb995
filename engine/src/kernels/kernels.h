/* kernels — portable C reference kernels for quantized inference.
 *
 * All tensors are NHWC, contiguous. `is_signed` selects int8 (1) or uint8 (0) storage;
 * the arithmetic is the same. Kernels never allocate and never fail: the caller (op
 * preparation at load time) has validated every shape, parameter and buffer size.
 *
 * Arithmetic follows the reference runtime (LiteRT's XNNPACK path):
 *  - conv/depthwise/fully-connected: int32 accumulator of (x - x_zp) * (w - w_zp) plus
 *    bias, multiplied by a float32 scale, clamped, rounded to nearest-even, plus out_zp.
 *  - add: fixed-point multipliers derived from the float scales (mnv2_add_params_init).
 *  - others: documented at each function.
 */
#ifndef MNV2_KERNELS_H
#define MNV2_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct mnv2_conv_params {
	int batch, in_h, in_w, in_c;
	int out_h, out_w, out_c;
	int k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
	int depth_mult;           /* depthwise only: out_c = in_c * depth_mult */
	int32_t in_zp, w_zp, out_zp, act_min, act_max;
	const int32_t *bias;      /* out_c values, or NULL */
	const float *scale;       /* out_c requantization scales: in_s * w_s[c] / out_s */
	int is_signed;
} mnv2_conv_params;

/* Weights [out_c, k_h, k_w, in_c]. Fully connected is a 1x1 convolution on 1x1 maps. */
void mnv2_conv2d(const mnv2_conv_params *p, const void *in, const void *w, void *out);
/* Weights [1, k_h, k_w, out_c]. */
void mnv2_dwconv2d(const mnv2_conv_params *p, const void *in, const void *w, void *out);

typedef struct mnv2_add_params {
	int32_t a_mult, b_mult, bias;
	uint32_t shift;
	int32_t out_zp, act_min, act_max;
	int is_signed;
	int rank;                    /* broadcasting: shapes padded to 4 dims */
	int32_t out_dims[4];
	int32_t a_strides[4], b_strides[4]; /* 0 where the dimension broadcasts */
} mnv2_add_params;

/* Derives multipliers from a_scale/out_scale and b_scale/out_scale; fails (-1) when a
 * ratio lies outside [2^-10, 2^8). */
int mnv2_add_params_init(mnv2_add_params *p, float a_scale, int32_t a_zp, float b_scale,
			 int32_t b_zp, float out_scale, int32_t out_zp);
void mnv2_add(const mnv2_add_params *p, const void *a, const void *b, void *out);

typedef struct mnv2_pool_params {
	int batch, in_h, in_w, c, out_h, out_w;
	int k_h, k_w, stride_h, stride_w, pad_top, pad_left;
	int32_t act_min, act_max;
	int is_signed;
} mnv2_pool_params;

/* TFLite's quantized average pool: mean of the valid window elements rounded half away
 * from zero; input and output share quantization. */
void mnv2_avgpool(const mnv2_pool_params *p, const void *in, void *out);
void mnv2_maxpool(const mnv2_pool_params *p, const void *in, void *out);

typedef struct mnv2_mean_params {
	int batch, h, w, c;          /* mean over h and w */
	int32_t in_zp, out_zp, qmin, qmax;
	float scale;                 /* in_scale / out_scale / (h*w) */
	int is_signed;
} mnv2_mean_params;
void mnv2_mean_hw(const mnv2_mean_params *p, const void *in, void *out);

typedef struct mnv2_softmax_params {
	size_t outer, depth;
	float table[256];            /* exp(-in_scale*beta*d) for d = 255 - index */
	float out_scale;
	int32_t out_zp;
	int is_signed;
} mnv2_softmax_params;
void mnv2_softmax_params_init(mnv2_softmax_params *p, float in_scale, float beta);
void mnv2_softmax(const mnv2_softmax_params *p, const void *in, void *out);

/* 256-entry lookup table: out = table[(uint8_t)in]. Used by LOGISTIC. */
void mnv2_lut_logistic_init(uint8_t table[256], float in_scale, int32_t in_zp,
			    float out_scale, int32_t out_zp, int is_signed);
void mnv2_lut_apply(const uint8_t table[256], size_t n, const void *in, void *out);

/* QUANTIZE between 8-bit tensors: TFLite's fixed-point requantization
 * (multiplier/shift from in_scale/out_scale, see fixedpoint.h). */
typedef struct mnv2_requant_params {
	int32_t mult;
	int shift;
	int32_t in_zp, out_zp;
	int in_signed, out_signed;
} mnv2_requant_params;
void mnv2_requant_params_init(mnv2_requant_params *p, float in_scale, int32_t in_zp,
			      int in_signed, float out_scale, int32_t out_zp, int out_signed);
void mnv2_requant(const mnv2_requant_params *p, size_t n, const void *in, void *out);

/* CONCATENATION input whose quantization differs from the output's: TFLite's float
 * rescale, out = round(x * scale + bias) + out_zp with scale = in_s / out_s and
 * bias = -in_zp * scale, rounded half away from zero. */
void mnv2_rescale(size_t n, const void *in, int in_signed, float in_scale, int32_t in_zp,
		  float out_scale, int32_t out_zp, int out_signed, void *out);

void mnv2_quantize_f32(size_t n, const float *in, float scale, int32_t zp, int is_signed,
		       void *out);
void mnv2_dequantize(size_t n, const void *in, float scale, int32_t zp, int is_signed,
		     float *out);

/* PAD: 4-D, constant value. */
typedef struct mnv2_pad_params {
	int32_t in_dims[4], out_dims[4], before[4];
	size_t elem;
	uint8_t value[4];            /* the pad element's bytes */
} mnv2_pad_params;
void mnv2_pad(const mnv2_pad_params *p, const void *in, void *out);

#endif
