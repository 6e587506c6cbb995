/* synth_models — small synthetic quantised models shaped like the engine's real ones, built
 * with tflite_writer from a seed (deterministic pseudo-random weights, no external files).
 *
 * Weights are drawn at random and then calibrated layer by layer on a few pseudo-random input
 * images with a float reference: each output channel is rescaled to a chosen mean and spread,
 * weights and biases are quantised, and every activation's quantisation range is taken from
 * the calibrated (fake-quantised) values, so intermediate tensors and outputs use their range
 * instead of being clamped. Same seed, same bytes, whatever the compiler or optimisation
 * level (see synth_ref.h for the two exceptions).
 *
 *  - synth_mnv2_uint8: uint8 per-tensor MobileNetV2-shaped classifier, input [1,16,16,3]
 *    (scale 1/128, zp 128), output [1,10] softmax (scale 1/256, zp 0).
 *    CONV 3x3/2 RELU6, inverted residual block with ADD, stride-2 block, 1x1 CONV RELU6,
 *    AVERAGE_POOL_2D, 1x1 CONV logits, RESHAPE (shape tensor), SOFTMAX.
 *  - synth_mnv2_int8pc: the same network in int8 with per-channel symmetric weights: uint8
 *    input (scale 1/127.5, zp 127) + QUANTIZE, MEAN over [1,2] keep_dims instead of the pool,
 *    RESHAPE (shape tensor), SOFTMAX int8 (1/256, -128), QUANTIZE to uint8 output.
 *  - synth_ssdlite_head: uint8 SSDLite-shaped detector trunk, input [1,32,32,3]: backbone with
 *    feature maps 8x8x16 and 4x4x24; per map a depthwise 3x3 + 1x1 CONV box head and class
 *    head, RESHAPE to [1,N,4] / [1,N,5 classes], CONCATENATION on axis 1 (requantising to the
 *    union range), LOGISTIC on the class scores. Outputs: box encodings [1,240,4] and
 *    scores [1,240,5] (scale 1/256, zp 0). No custom operator.
 *  - synth_ir_odd (synth_model only): uint8 inverted residual blocks on odd map sizes, input
 *    [1,21,21,3]: the first layer's chain, stride-1 blocks with the residual ADD on either
 *    side, stride-2 blocks, a stride-1 block without ADD, and a 1x1 branch reading the last
 *    block's expanded tensor. Outputs: probabilities [1,10] and the branch [1,3,3,4].
 *
 * Each returns 0 and a malloc'd model in *out / *len, or -1 on failure (out of memory). */
#ifndef SYNTH_MODELS_H
#define SYNTH_MODELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SYNTH_MNV2_INPUT_SIZE 16 /* input is [1, 16, 16, 3] */
#define SYNTH_MNV2_CLASSES 10
#define SYNTH_SSD_INPUT_SIZE 32 /* input is [1, 32, 32, 3] */
#define SYNTH_SSD_ANCHORS 240   /* 8*8*3 + 4*4*3 */
#define SYNTH_SSD_CLASSES 5     /* including background */
#define SYNTH_IR_INPUT_SIZE 21  /* synth_ir_odd: input is [1, 21, 21, 3] */

int synth_mnv2_uint8(uint32_t seed, uint8_t **out, size_t *len);
int synth_mnv2_int8pc(uint32_t seed, uint8_t **out, size_t *len);
int synth_ssdlite_head(uint32_t seed, uint8_t **out, size_t *len);

enum synth_kind { SYNTH_MNV2_UINT8, SYNTH_MNV2_INT8PC, SYNTH_SSDLITE_HEAD, SYNTH_IR_ODD };
/* As above; when log is not NULL, writes one line per activation tensor with its quantisation
 * and the share of calibration values at the ends of the quantised range. */
int synth_model(enum synth_kind kind, uint32_t seed, FILE *log, uint8_t **out, size_t *len);

#endif
