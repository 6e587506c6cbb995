/* op_prepare — per-operator validation and kernel parameter derivation at load time.
 * Shared helpers for the op_prepare_*.c files; mnv2_ops_prepare() is in model.h. */
#ifndef MNV2_OP_PREPARE_H
#define MNV2_OP_PREPARE_H

#include "model.h"

typedef struct prep {
	mnv2_model *m;
	mnv2_op *op;
	mnv2_error *err;
} prep;

/* Fails with "<model>: operator N (NAME): <message>". Always returns -1. */
int prep_fail(prep *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Input/output tensor i of the op, NULL (after failing) when absent or out of range. */
mnv2_tensor *prep_in(prep *p, int i);
mnv2_tensor *prep_out(prep *p, int i);
int prep_io_count(prep *p, int min_in, int max_in, int nout);
int prep_is8(prep *p, const mnv2_tensor *t, const char *role);   /* quantized uint8/int8 */
int prep_same_type(prep *p, const mnv2_tensor *a, const mnv2_tensor *b);
int prep_expect_shape(prep *p, const mnv2_tensor *t, int rank, const int32_t *dims);
void prep_act_range(const mnv2_tensor *out, int act, int32_t *lo, int32_t *hi);
int prep_act_supported(prep *p, int act);
int prep_out_dim(prep *p, int in, int k, int stride, int dil, int padding, int *out,
		 int *pad_before);

int prep_conv(prep *p);
int prep_dwconv(prep *p);
int prep_fc(prep *p);
int prep_pool(prep *p);
int prep_mean(prep *p);
int prep_add(prep *p);
int prep_softmax(prep *p);
int prep_logistic(prep *p);
int prep_reshape(prep *p);
int prep_concat(prep *p);
int prep_pad(prep *p);
int prep_quantize(prep *p);
int prep_dequantize(prep *p);
int prep_detect(prep *p);

#endif
