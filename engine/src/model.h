/* model — the engine's internal representation of a loaded .tflite graph.
 *
 * model_parse.c fills tensors and ops from the FlatBuffer (validating structure),
 * op_prepare.c validates each operator's shapes and types and derives kernel parameters,
 * plan.c assigns arena offsets, context.c runs the ops in order. */
#ifndef MNV2_MODEL_H
#define MNV2_MODEL_H

#include "mnv2/engine.h"
#include "kernels/kernels.h"
#include "kernels/detect.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MNV2_MAX_OP_IO 16
#define MNV2_DETECTION_POSTPROCESS "TFLite_Detection_PostProcess"
/* Limits that bound allocations for hostile files. */
#define MNV2_MAX_TENSORS 100000
#define MNV2_MAX_OPS 100000
#define MNV2_MAX_TENSOR_BYTES ((size_t)1 << 30)
#define MNV2_MAX_ARENA_BYTES ((size_t)2 << 30)

typedef struct mnv2_tensor {
	char *name;
	mnv2_dtype type;
	int rank;
	int32_t dims[MNV2_MAX_RANK];
	size_t count;             /* element count */
	size_t bytes;
	const uint8_t *data;      /* constant data, or NULL for activations */
	size_t data_len;          /* length of the constant buffer */
	bool is_const;
	size_t offset;            /* arena offset of an activation */
	bool planned;             /* has an arena slot */
	int first_op, last_op;    /* lifetime for the planner: -1 = graph input */
	/* quantization */
	bool quantized;
	float scale;
	int32_t zero_point;
	float *scales;            /* per-channel scales (owned), nscales > 1 */
	int64_t *zero_points;     /* per-channel zero points (owned) */
	int nscales;
	int qaxis;
} mnv2_tensor;

typedef enum mnv2_op_kind {
	MNV2_OP_CONV, MNV2_OP_DWCONV, MNV2_OP_FC, MNV2_OP_ADD, MNV2_OP_AVGPOOL,
	MNV2_OP_MAXPOOL, MNV2_OP_MEAN, MNV2_OP_SOFTMAX, MNV2_OP_LOGISTIC, MNV2_OP_COPY,
	MNV2_OP_CONCAT, MNV2_OP_PAD, MNV2_OP_REQUANT, MNV2_OP_QUANTIZE_F32,
	MNV2_OP_DEQUANTIZE, MNV2_OP_DETECT,
} mnv2_op_kind;

typedef struct mnv2_op {
	int index;
	int builtin;              /* BuiltinOperator */
	const char *name;         /* static name or custom code (owned by the model) */
	mnv2_op_kind kind;
	int nin, nout;
	int in[MNV2_MAX_OP_IO];
	int out[MNV2_MAX_OP_IO];
	/* raw options as read from the file */
	uint8_t opt_type;
	struct mnv2_op_options {
		int padding, stride_w, stride_h, dil_w, dil_h, depth_mult, act;
		int filter_w, filter_h, axis, keep_dims;
		float beta;
		int32_t shape[MNV2_MAX_RANK];
		int shape_len;       /* -1: absent */
	} opt;
	/* prepared kernel parameters */
	union {
		mnv2_conv_params conv;
		mnv2_add_params add;
		mnv2_pool_params pool;
		mnv2_mean_params mean;
		mnv2_requant_params requant;
		mnv2_pad_params pad;
	} k;
	mnv2_softmax_params *softmax; /* owned */
	uint8_t lut[256];
	float *scales;            /* owned per-channel requantization scales */
	int32_t *bias;            /* owned, aligned copy of the bias */
	mnv2_detect_params *detect;   /* owned */
	float *anchors;           /* owned, dequantized */
	const uint8_t *custom;    /* custom options inside the file image */
	size_t custom_len;
	struct mnv2_conv_packed *packed; /* owned: weights packed for the model's kernel path */
	size_t scratch_bytes;     /* arena scratch this op needs while it runs */
	uint64_t macs;
} mnv2_op;

/* A fused inverted residual chain (fuse.c): ops [first, last] run together in tiles of
 * `rows` output rows. head: the CONV_2D writing the expanded tensor into a row window
 * (-1: the depthwise reads its input whole from the arena); add: the residual ADD (-1:
 * none, the projection writes its output tensor). Row buffers, at offsets inside the
 * chain's tile region: ebuf (ecap expanded rows, head only), dbuf (rows depthwise output
 * rows), pbuf (rows projection rows, add only). */
typedef struct mnv2_chain {
	int first, last;
	int head, dw, proj, add;
	int mid[3];               /* tensors only row buffers hold; -1: unused */
	int nmid;
	int add_p_first;          /* the projection output is the ADD's first input */
	int rows, ecap;
	size_t row_e, row_d, row_p;   /* bytes of one row of each buffered tensor */
	size_t ebuf, dbuf, pbuf, bytes;
	size_t offset;            /* arena offset of the first thread's tile region */
	uint64_t macs;
} mnv2_chain;

struct mnv2_model {
	char *name;
	const uint8_t *data;      /* the file image */
	size_t size;
	void *map;                /* mmap base when mapped */
	uint8_t *owned;           /* heap copy when not mapped */
	mnv2_tensor *tensors;
	int ntensors;
	mnv2_op *ops;
	int nops;
	int *inputs, *outputs;
	int nin, nout;
	size_t arena_bytes;
	size_t scratch_offset;    /* shared op scratch at the end of the arena */
	uint64_t macs;
	size_t param_bytes;
	char *description;
	char *meta_name, *meta_description;
	char **labels;
	size_t nlabels;
	float *gen_anchors;       /* anchors generated for attached SSD post-processing */
	int kpath;                /* fastest kernel path of this CPU, chosen at load (simd.h) */
	size_t work_bytes;        /* per-thread workspace of the SIMD kernels */
	mnv2_chain *chains;       /* fusable chains, in op order */
	int nchains;
	int *op_chain;            /* nops entries: chain starting at this op, or -1 */
	int plan;                 /* MNV2_PLAN_LAYERS or MNV2_PLAN_FUSED */
	size_t plan_arena[3];     /* arena bytes of each plan */
	size_t tile_bytes;        /* largest chain tile region */
	uint64_t parallel_min_macs; /* ops (chains) below this run on one thread; tests lower it */
};

/* Error helpers: format into err (may be NULL); always return -1. */
int mnv2_fail(mnv2_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int mnv2_model_parse(mnv2_model *m, mnv2_error *err);
int mnv2_ops_prepare(mnv2_model *m, mnv2_error *err);
/* Plans the arena for `mode` (LAYERS or FUSED; fused needs mnv2_fuse_find() first). */
int mnv2_plan(mnv2_model *m, int mode, mnv2_error *err);
/* Runs band `part` of `nparts` of chain ch's output rows: tiles in `tiles` (ch->bytes),
 * SIMD workspace `work`, tensors in `arena`. Bands write disjoint rows. */
void mnv2_chain_run(const mnv2_model *m, const mnv2_chain *ch, uint8_t *arena, uint8_t *tiles,
		    void *work, int path, int part, int nparts);
/* Finds the fusable chains and sizes their row buffers (tile_rows 0: by budget). */
int mnv2_fuse_find(mnv2_model *m, int tile_rows, mnv2_error *err);
/* Sets chain c's tile height (clamped to 1..its rows), updates tile_bytes; returns the old. */
int mnv2_fuse_rows(mnv2_model *m, int c, int rows);
int mnv2_metadata_read(mnv2_model *m, mnv2_error *err);
struct mnv2_ssd_options;
int mnv2_ssd_attach(mnv2_model *m, const struct mnv2_ssd_options *o, mnv2_error *err);
const char *mnv2_builtin_name(int code);
size_t mnv2_dtype_size(mnv2_dtype t);

#endif
