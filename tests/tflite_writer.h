/* tflite_writer — builds TensorFlow Lite model files (schema version 3) in memory, for tests.
 *
 * Contract:
 *  - A tfw_model collects buffers, tensors, operators and the graph's inputs/outputs of one
 *    subgraph ("main"); tfw_finish() serialises it into a fresh malloc'd FlatBuffer with file
 *    identifier "TFL3". The model is left untouched, so tfw_finish() may be called again.
 *  - Indices returned are those used in the file: tfw_buffer() -> buffer index, tfw_tensor() /
 *    tfw_const() / tfw_act() -> tensor index, tfw_op_*() -> operator index. Operator codes are
 *    deduplicated (one OperatorCode per distinct builtin code, or per custom code name).
 *  - Every function returns -1 (or, for the void ones, records it) on allocation failure or a
 *    bad argument. Errors are sticky: after the first one tfw_finish() and tfw_write_file()
 *    fail too, and tfw_last_error() says what went wrong. Nothing aborts or prints.
 *  - Strict mode (the default) also rejects semantically wrong graphs: tensor or buffer indices
 *    that do not exist, stride/dilation/filter < 1, unknown padding or activation, per-channel
 *    quantisation that does not match the tensor's shape, constant data whose size does not
 *    match the shape. tfw_set_strict(m, 0) turns these checks off so that tests can build
 *    deliberately malformed models; checks needed for memory safety always stay on.
 *  - Constant data is copied and stored byte for byte (the file format is little-endian, as is
 *    every host this project targets). Buffer data is aligned to 16 bytes in the file.
 */
#ifndef TFLITE_WRITER_H
#define TFLITE_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* TensorType */
enum { TFW_FLOAT32 = 0, TFW_FLOAT16 = 1, TFW_INT32 = 2, TFW_UINT8 = 3, TFW_INT64 = 4,
       TFW_STRING = 5, TFW_BOOL = 6, TFW_INT16 = 7, TFW_INT8 = 9 };

/* BuiltinOperator (subset) */
enum { TFW_OP_ADD = 0, TFW_OP_AVERAGE_POOL_2D = 1, TFW_OP_CONCATENATION = 2, TFW_OP_CONV_2D = 3,
       TFW_OP_DEPTHWISE_CONV_2D = 4, TFW_OP_DEQUANTIZE = 6, TFW_OP_FULLY_CONNECTED = 9,
       TFW_OP_L2_POOL_2D = 12, TFW_OP_LOGISTIC = 14, TFW_OP_MAX_POOL_2D = 17,
       TFW_OP_RESHAPE = 22, TFW_OP_SOFTMAX = 25, TFW_OP_CUSTOM = 32, TFW_OP_PAD = 34,
       TFW_OP_MEAN = 40, TFW_OP_SQUEEZE = 43, TFW_OP_QUANTIZE = 114 };

/* Padding and ActivationFunctionType */
enum { TFW_PAD_SAME = 0, TFW_PAD_VALID = 1 };
enum { TFW_ACT_NONE = 0, TFW_ACT_RELU = 1, TFW_ACT_RELU_N1_TO_1 = 2, TFW_ACT_RELU6 = 3,
       TFW_ACT_TANH = 4, TFW_ACT_SIGN_BIT = 5 };

typedef struct tfw_model tfw_model;

tfw_model *tfw_new(void);                 /* creates buffer 0 (empty); NULL if out of memory */
void tfw_free(tfw_model *m);              /* NULL is fine */
void tfw_set_strict(tfw_model *m, int strict);
const char *tfw_last_error(const tfw_model *m); /* "" when no error so far */

/* A new buffer holding a copy of data (len may be 0, data may then be NULL). */
int tfw_buffer(tfw_model *m, const void *data, size_t len);

/* Quantisation: nquant = 0: none; nquant = 1: per-tensor; nquant > 1: per-channel along
 * dimension qdim (dims[qdim] == nquant). zero_points may be NULL (all zero). */
int tfw_tensor(tfw_model *m, const char *name, int type, int rank, const int32_t *dims,
               int buffer, int nquant, const float *scales, const int64_t *zero_points, int qdim);
/* Constant tensor with its own new buffer holding a copy of data. */
int tfw_const(tfw_model *m, const char *name, int type, int rank, const int32_t *dims,
              const void *data, size_t len, int nquant, const float *scales, const int64_t *zps,
              int qdim);
/* Activation tensor (buffer 0) with per-tensor quantisation scale/zero_point. */
int tfw_act(tfw_model *m, const char *name, int type, int rank, const int32_t *dims,
            float scale, int64_t zero_point);

/* Operators. bias may be -1 (absent). */
int tfw_op_conv2d(tfw_model *m, int in, int w, int bias, int out, int padding, int stride_w,
                  int stride_h, int act, int dil_w, int dil_h);
int tfw_op_dwconv2d(tfw_model *m, int in, int w, int bias, int out, int padding, int stride_w,
                    int stride_h, int depth_mult, int act, int dil_w, int dil_h);
/* builtin: TFW_OP_AVERAGE_POOL_2D, TFW_OP_MAX_POOL_2D or TFW_OP_L2_POOL_2D */
int tfw_op_pool(tfw_model *m, int builtin, int in, int out, int padding, int stride_w,
                int stride_h, int filter_w, int filter_h, int act);
int tfw_op_fc(tfw_model *m, int in, int w, int bias, int out, int act, int keep_num_dims);
int tfw_op_add(tfw_model *m, int a, int b, int out, int act);
int tfw_op_softmax(tfw_model *m, int in, int out, float beta);
int tfw_op_concat(tfw_model *m, const int *ins, int nin, int out, int axis, int act);
/* shape_tensor -1: RESHAPE has one input; n -1: no ReshapeOptions, else new_shape[0..n). */
int tfw_op_reshape(tfw_model *m, int in, int shape_tensor, int out, const int32_t *new_shape,
                   int n);
int tfw_op_squeeze(tfw_model *m, int in, int out, const int32_t *dims, int n);
int tfw_op_mean(tfw_model *m, int in, int axes_tensor, int out, int keep_dims);
/* Any builtin without options of its own (LOGISTIC, QUANTIZE, DEQUANTIZE, ...). PAD gets an
 * (empty) PadOptions table as the converter writes it. Input entries may be -1 (absent). */
int tfw_op_simple(tfw_model *m, int builtin, const int *ins, int nin, const int *outs, int nout);
/* CUSTOM operator; options (custom_options bytes, FLEXBUFFERS format) may be NULL/0. */
int tfw_op_custom(tfw_model *m, const char *custom_code, const int *ins, int nin,
                  const int *outs, int nout, const void *options, size_t options_len);
/* OperatorCode.version (default 1) of an operator code already used by an operator;
 * custom_code is NULL for builtins. */
int tfw_set_opcode_version(tfw_model *m, int builtin, const char *custom_code, int version);

void tfw_set_io(tfw_model *m, const int *inputs, int nin, const int *outputs, int nout);
void tfw_set_description(tfw_model *m, const char *desc);
/* Adds a buffer holding data and a Metadata entry naming it; returns the buffer index. */
int tfw_add_metadata(tfw_model *m, const char *name, const void *data, size_t len);

int tfw_num_tensors(const tfw_model *m);
int tfw_num_buffers(const tfw_model *m);
int tfw_num_operators(const tfw_model *m);

/* Serialise: *out is malloc'd (caller frees), *out_len its size. 0 on success, -1 on error. */
int tfw_finish(tfw_model *m, uint8_t **out, size_t *out_len);
/* tfw_finish() and write the bytes to path. 0 on success, -1 on error. */
int tfw_write_file(tfw_model *m, const char *path);

#endif
