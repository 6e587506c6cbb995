/* synth_ref — helpers for the synthetic model generators: a xorshift32 PRNG, quantisation
 * parameter choice and fake quantisation, and small float reference kernels (NHWC, batch B)
 * used to calibrate the layers of a generated model.
 *
 * Only IEEE basic operations, sqrt and round are used, and contraction into FMA is switched
 * off in the source, so results are the same on every host with SSE/NEON floating point
 * (not x87 excess precision; not clang given an explicit -ffp-contract=fast).
 * No allocation, no state. */
#ifndef SYNTH_REF_H
#define SYNTH_REF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t s;
} sref_rng;

void sref_seed(sref_rng *r, uint32_t seed);
uint32_t sref_next(sref_rng *r);
float sref_uniform(sref_rng *r, float lo, float hi); /* [lo, hi) */

/* Affine quantisation of the real range [lo, hi] (widened to contain 0) onto [qmin, qmax]. */
void sref_choose_qparams(float lo, float hi, int qmin, int qmax, float *scale, int32_t *zp);
/* round(x / scale) + zp, clamped to [qmin, qmax]. */
int32_t sref_quantize(float x, float scale, int32_t zp, int qmin, int qmax);
/* x[i] := dequantize(quantize(x[i])) for n values; counts values landing on qmin / qmax. */
void sref_fake_quant(float *x, size_t n, float scale, int32_t zp, int qmin, int qmax,
                     size_t *at_min, size_t *at_max);

/* Output size of a SAME-padded window: ceil(in / stride). Leading padding in *pad. */
int sref_same_out(int in, int k, int stride, int *pad);

/* y[B,OH,OW,O] = conv(x[B,H,W,C], w[O,k,k,C]) + b[O]; SAME padding. */
void sref_conv(const float *x, int B, int H, int W, int C, const float *w, const float *b, int O,
               int k, int stride, float *y);
/* y[B,OH,OW,C] = depthwise(x[B,H,W,C], w[1,k,k,C]) + b[C]; SAME padding, multiplier 1. */
void sref_dwconv(const float *x, int B, int H, int W, int C, const float *w, const float *b,
                 int k, int stride, float *y);
/* y[B,C] = mean over H, W of x[B,H,W,C]. */
void sref_spatial_mean(const float *x, int B, int H, int W, int C, float *y);
/* Mean and standard deviation of channel c of the n x C matrix y. */
void sref_channel_stats(const float *y, size_t n, int C, int c, double *mean, double *sd);

#endif
