/* model_parse — reads a TFLite FlatBuffer into the engine's tensors and ops, validating
 * every offset, vector length, index, shape, type and buffer size on the way. */
#include "model.h"
#include "fb_reader.h"
#include "tflite_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parse_ctx {
	mnv2_model *m;
	mnv2_error *err;
	fb_buf buf;
	fb_vec opcodes, buffers;
	int *opcode_builtin;
	char **opcode_custom;
} parse_ctx;

#define BAD(ctx, ...) mnv2_fail((ctx)->err, __VA_ARGS__)

static char *dup_str(const char *s, uint32_t len)
{
	char *d = malloc((size_t)len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	/* Names are for humans: keep them printable. */
	for (uint32_t i = 0; i < len; i++)
		if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
			d[i] = '?';
	return d;
}

size_t mnv2_dtype_size(mnv2_dtype t)
{
	switch (t) {
	case MNV2_FLOAT32:
	case MNV2_INT32:
		return 4;
	case MNV2_INT64:
		return 8;
	case MNV2_UINT8:
	case MNV2_INT8:
		return 1;
	}
	return 0;
}

static int parse_opcodes(parse_ctx *c, const fb_table *model)
{
	const char *mname = c->m->name;
	if (fb_get_vec(model, TFL_MODEL_OPCODES, 4, &c->opcodes) < 0)
		return BAD(c, "%s: operator_codes vector lies outside the file", mname);
	uint32_t n = c->opcodes.len;
	c->opcode_builtin = calloc(n ? n : 1, sizeof(int));
	c->opcode_custom = calloc(n ? n : 1, sizeof(char *));
	if (!c->opcode_builtin || !c->opcode_custom)
		return BAD(c, "%s: out of memory reading %u operator codes", mname, n);
	for (uint32_t i = 0; i < n; i++) {
		fb_table oc;
		uint8_t dep;
		int32_t code;
		const char *s;
		uint32_t len;
		if (fb_vec_table(&c->opcodes, i, &oc) || fb_get_u8(&oc, TFL_OPCODE_DEPRECATED_BUILTIN, 0, &dep) < 0 ||
		    fb_get_i32(&oc, TFL_OPCODE_BUILTIN, 0, &code) < 0 ||
		    fb_get_string(&oc, TFL_OPCODE_CUSTOM, &s, &len) < 0)
			return BAD(c, "%s: operator code %u is malformed", mname, i);
		c->opcode_builtin[i] = code > (int32_t)(int8_t)dep ? code : (int8_t)dep;
		if (len && !(c->opcode_custom[i] = dup_str(s, len)))
			return BAD(c, "%s: out of memory", mname);
	}
	return 0;
}

/* The constant data of buffer b, or NULL/0 when the buffer is empty. */
static int buffer_data(parse_ctx *c, uint32_t b, const uint8_t **data, size_t *len)
{
	fb_table bt;
	fb_vec v;
	uint64_t off, size;
	*data = NULL;
	*len = 0;
	if (b >= c->buffers.len || fb_vec_table(&c->buffers, b, &bt))
		return -1;
	int r = fb_get_vec(&bt, TFL_BUFFER_DATA, 1, &v);
	if (r < 0 || fb_get_u64(&bt, TFL_BUFFER_OFFSET, 0, &off) < 0 ||
	    fb_get_u64(&bt, TFL_BUFFER_SIZE, 0, &size) < 0)
		return -1;
	if (r == 1 && v.len) {
		*data = fb_vec_data(&v);
		*len = v.len;
	} else if (off > 1) { /* data stored after the FlatBuffer, offset from file start */
		if (off > c->buf.size || size > c->buf.size - off)
			return -1;
		*data = c->buf.data + off;
		*len = (size_t)size;
	}
	return 0;
}

static int parse_quant(parse_ctx *c, const fb_table *tt, mnv2_tensor *t, int idx)
{
	fb_table q;
	fb_vec sc, zp;
	int32_t qdim;
	const char *mname = c->m->name;
	int r = fb_get_table(tt, TFL_TENSOR_QUANT, &q);
	if (r < 0)
		return BAD(c, "%s: tensor %d: quantization table is malformed", mname, idx);
	if (r == 0)
		return 0;
	if (fb_get_vec(&q, TFL_QUANT_SCALE, 4, &sc) < 0 || fb_get_vec(&q, TFL_QUANT_ZERO_POINT, 8, &zp) < 0 ||
	    fb_get_i32(&q, TFL_QUANT_DIM, 0, &qdim) < 0)
		return BAD(c, "%s: tensor %d: quantization vectors lie outside the file", mname, idx);
	if (sc.len == 0)
		return 0; /* min/max only: not quantized for our purposes */
	if (zp.len != sc.len && zp.len != 0)
		return BAD(c, "%s: tensor %d (%s): %u scales but %u zero points", mname, idx, t->name,
			   sc.len, zp.len);
	if (sc.len > 1 && (qdim < 0 || qdim >= t->rank || (uint32_t)t->dims[qdim] != sc.len))
		return BAD(c, "%s: tensor %d (%s): %u per-channel scales do not match dimension %d",
			   mname, idx, t->name, sc.len, qdim);
	for (uint32_t i = 0; i < sc.len; i++) {
		float s = fb_vec_f32(&sc, i);
		if (!(s > 0.0f && s < 1e30f))
			return BAD(c, "%s: tensor %d (%s): scale %u is %g, not a positive finite number",
				   mname, idx, t->name, i, (double)s);
	}
	t->quantized = true;
	t->scale = fb_vec_f32(&sc, 0);
	int64_t z0 = zp.len ? fb_vec_i64(&zp, 0) : 0;
	if (z0 < INT32_MIN || z0 > INT32_MAX)
		return BAD(c, "%s: tensor %d (%s): zero point %lld out of range", mname, idx, t->name,
			   (long long)z0);
	t->zero_point = (int32_t)z0;
	t->qaxis = qdim;
	t->nscales = (int)sc.len;
	if (sc.len > 1) {
		t->scales = malloc(sizeof(float) * sc.len);
		t->zero_points = malloc(sizeof(int64_t) * sc.len);
		if (!t->scales || !t->zero_points)
			return BAD(c, "%s: out of memory", mname);
		for (uint32_t i = 0; i < sc.len; i++) {
			t->scales[i] = fb_vec_f32(&sc, i);
			t->zero_points[i] = zp.len ? fb_vec_i64(&zp, i) : 0;
		}
	}
	return 0;
}

/* TensorType names (schema.fbs order), for messages. */
static const char *type_label(uint8_t type)
{
	static const char *const names[] = { "float32", "float16", "int32", "uint8", "int64",
					     "string", "bool", "int16", "complex64", "int8",
					     "float64", "complex128", "uint64", "resource",
					     "variant", "uint32", "uint16", "int4", "bfloat16" };
	return type < sizeof names / sizeof *names ? names[type] : "unknown";
}

static int type_supported(uint8_t type)
{
	return type == MNV2_FLOAT32 || type == MNV2_INT32 || type == MNV2_UINT8 ||
	       type == MNV2_INT64 || type == MNV2_INT8;
}

static int parse_tensor(parse_ctx *c, const fb_table *tt, int idx)
{
	mnv2_tensor *t = &c->m->tensors[idx];
	const char *mname = c->m->name, *s;
	uint32_t len, buffer;
	uint8_t type;
	fb_vec shape;
	if (fb_get_string(tt, TFL_TENSOR_NAME, &s, &len) < 0 || !(t->name = dup_str(s, len)))
		return BAD(c, "%s: tensor %d: name is malformed", mname, idx);
	if (fb_get_vec(tt, TFL_TENSOR_SHAPE, 4, &shape) < 0 || fb_get_u8(tt, TFL_TENSOR_TYPE, 0, &type) < 0 ||
	    fb_get_u32(tt, TFL_TENSOR_BUFFER, 0, &buffer) < 0)
		return BAD(c, "%s: tensor %d (%s): shape, type or buffer field is malformed", mname,
			   idx, t->name);
	if (!type_supported(type))
		return BAD(c, "%s: tensor %d (%s): unsupported element type %s (%u)", mname, idx,
			   t->name, type_label(type), type);
	if (shape.len > MNV2_MAX_RANK)
		return BAD(c, "%s: tensor %d (%s): rank %u exceeds %d", mname, idx, t->name, shape.len,
			   MNV2_MAX_RANK);
	t->type = (mnv2_dtype)type;
	t->rank = (int)shape.len;
	size_t count = 1;
	for (int i = 0; i < t->rank; i++) {
		int32_t d = fb_vec_i32(&shape, (uint32_t)i);
		/* Zero-element tensors are refused: with a 0 somewhere, the other dimensions
		 * escape the size bound that keeps all later shape arithmetic in range. */
		if (d <= 0)
			return BAD(c, "%s: tensor %d (%s): dimension %d is %d", mname, idx, t->name, i, d);
		t->dims[i] = d;
		if (d && count > MNV2_MAX_TENSOR_BYTES / (size_t)d)
			return BAD(c, "%s: tensor %d (%s): shape is too large", mname, idx, t->name);
		count *= (size_t)d;
	}
	t->count = count;
	t->bytes = count * mnv2_dtype_size(t->type);
	if (t->bytes > MNV2_MAX_TENSOR_BYTES)
		return BAD(c, "%s: tensor %d (%s): %zu bytes is too large", mname, idx, t->name,
			   t->bytes);
	if (buffer_data(c, buffer, &t->data, &t->data_len))
		return BAD(c, "%s: tensor %d (%s): buffer %u is missing or malformed", mname, idx,
			   t->name, buffer);
	if (t->data) {
		if (t->data_len != t->bytes)
			return BAD(c, "%s: tensor %d (%s): buffer holds %zu bytes, shape needs %zu",
				   mname, idx, t->name, t->data_len, t->bytes);
		t->is_const = true;
	}
	return parse_quant(c, tt, t, idx);
}

static int parse_io_list(parse_ctx *c, const fb_table *tab, int field, int *out, int *n,
			 int max, const char *what, int op)
{
	fb_vec v;
	if (fb_get_vec(tab, field, 4, &v) < 0)
		return BAD(c, "%s: operator %d: %s vector lies outside the file", c->m->name, op, what);
	if (v.len > (uint32_t)max)
		return BAD(c, "%s: operator %d: %u %s, at most %d supported", c->m->name, op, v.len,
			   what, max);
	*n = (int)v.len;
	for (uint32_t i = 0; i < v.len; i++) {
		int32_t t = fb_vec_i32(&v, i);
		if (t < -1 || t >= c->m->ntensors)
			return BAD(c, "%s: operator %d: %s %u refers to tensor %d of %d", c->m->name, op,
				   what, i, t, c->m->ntensors);
		out[i] = t;
	}
	return 0;
}


/* Every BuiltinOperator name up to BATCH_MATMUL (schema.fbs order), for messages. */
static const char *const builtin_labels[] = {
	"ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
	"DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
	"HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
	"LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
	"RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF",
	"TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE",
	"PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND",
	"SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
	"UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
	"TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST",
	"PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER",
	"GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
	"SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
	"RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK",
	"LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
	"FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
	"RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
	"SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
	"ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND",
	"HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5",
	"SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
};

static const char *builtin_label(int code)
{
	if (code >= 0 && code < (int)(sizeof builtin_labels / sizeof *builtin_labels))
		return builtin_labels[code];
	return "UNKNOWN";
}

const char *mnv2_builtin_name(int code)
{
	switch (code) {
	case TFL_ADD: return "ADD";
	case TFL_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
	case TFL_CONCATENATION: return "CONCATENATION";
	case TFL_CONV_2D: return "CONV_2D";
	case TFL_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
	case TFL_DEQUANTIZE: return "DEQUANTIZE";
	case TFL_FULLY_CONNECTED: return "FULLY_CONNECTED";
	case TFL_LOGISTIC: return "LOGISTIC";
	case TFL_MAX_POOL_2D: return "MAX_POOL_2D";
	case TFL_RESHAPE: return "RESHAPE";
	case TFL_SOFTMAX: return "SOFTMAX";
	case TFL_PAD: return "PAD";
	case TFL_MEAN: return "MEAN";
	case TFL_SQUEEZE: return "SQUEEZE";
	case TFL_QUANTIZE: return "QUANTIZE";
	}
	return NULL;
}

/* Expected BuiltinOptions type of each supported operator (0: none). */
static uint8_t expected_options(int builtin)
{
	switch (builtin) {
	case TFL_CONV_2D: return TFL_OPT_CONV2D;
	case TFL_DEPTHWISE_CONV_2D: return TFL_OPT_DWCONV2D;
	case TFL_AVERAGE_POOL_2D:
	case TFL_MAX_POOL_2D: return TFL_OPT_POOL2D;
	case TFL_FULLY_CONNECTED: return TFL_OPT_FC;
	case TFL_SOFTMAX: return TFL_OPT_SOFTMAX;
	case TFL_CONCATENATION: return TFL_OPT_CONCAT;
	case TFL_ADD: return TFL_OPT_ADD;
	case TFL_RESHAPE: return TFL_OPT_RESHAPE;
	case TFL_PAD: return TFL_OPT_PAD;
	case TFL_MEAN: return TFL_OPT_REDUCER;
	case TFL_SQUEEZE: return TFL_OPT_SQUEEZE;
	}
	return 0;
}

static int read_int_vec(const fb_table *o, int field, int32_t *out, int *n)
{
	fb_vec v;
	int r = fb_get_vec(o, field, 4, &v);
	*n = -1;
	if (r <= 0)
		return r;
	if (v.len > MNV2_MAX_RANK)
		return -1;
	for (uint32_t i = 0; i < v.len; i++)
		out[i] = fb_vec_i32(&v, i);
	*n = (int)v.len;
	return 1;
}

static int read_fields(const fb_table *o, int builtin, mnv2_op *op)
{
	uint8_t pad = 0, act = 0, keep = 0;
	int bad = 0;
	op->opt.stride_w = op->opt.stride_h = op->opt.dil_w = op->opt.dil_h = 1;
	op->opt.depth_mult = 1;
	op->opt.beta = 1.0f;
	op->opt.shape_len = -1;
	switch (builtin) {
	case TFL_CONV_2D:
		bad |= fb_get_u8(o, TFL_CONV_PADDING, 0, &pad) < 0;
		bad |= fb_get_i32(o, TFL_CONV_STRIDE_W, 1, &op->opt.stride_w) < 0;
		bad |= fb_get_i32(o, TFL_CONV_STRIDE_H, 1, &op->opt.stride_h) < 0;
		bad |= fb_get_u8(o, TFL_CONV_ACT, 0, &act) < 0;
		bad |= fb_get_i32(o, TFL_CONV_DIL_W, 1, &op->opt.dil_w) < 0;
		bad |= fb_get_i32(o, TFL_CONV_DIL_H, 1, &op->opt.dil_h) < 0;
		break;
	case TFL_DEPTHWISE_CONV_2D:
		bad |= fb_get_u8(o, TFL_DW_PADDING, 0, &pad) < 0;
		bad |= fb_get_i32(o, TFL_DW_STRIDE_W, 1, &op->opt.stride_w) < 0;
		bad |= fb_get_i32(o, TFL_DW_STRIDE_H, 1, &op->opt.stride_h) < 0;
		bad |= fb_get_i32(o, TFL_DW_DEPTH_MULT, 1, &op->opt.depth_mult) < 0;
		bad |= fb_get_u8(o, TFL_DW_ACT, 0, &act) < 0;
		bad |= fb_get_i32(o, TFL_DW_DIL_W, 1, &op->opt.dil_w) < 0;
		bad |= fb_get_i32(o, TFL_DW_DIL_H, 1, &op->opt.dil_h) < 0;
		break;
	case TFL_AVERAGE_POOL_2D:
	case TFL_MAX_POOL_2D:
		bad |= fb_get_u8(o, TFL_POOL_PADDING, 0, &pad) < 0;
		bad |= fb_get_i32(o, TFL_POOL_STRIDE_W, 1, &op->opt.stride_w) < 0;
		bad |= fb_get_i32(o, TFL_POOL_STRIDE_H, 1, &op->opt.stride_h) < 0;
		bad |= fb_get_i32(o, TFL_POOL_FILTER_W, 1, &op->opt.filter_w) < 0;
		bad |= fb_get_i32(o, TFL_POOL_FILTER_H, 1, &op->opt.filter_h) < 0;
		bad |= fb_get_u8(o, TFL_POOL_ACT, 0, &act) < 0;
		break;
	case TFL_FULLY_CONNECTED:
		bad |= fb_get_u8(o, TFL_FC_ACT, 0, &act) < 0;
		bad |= fb_get_u8(o, TFL_FC_KEEP_NUM_DIMS, 0, &keep) < 0;
		break;
	case TFL_SOFTMAX:
		bad |= fb_get_f32(o, TFL_SOFTMAX_BETA, 1.0f, &op->opt.beta) < 0;
		break;
	case TFL_CONCATENATION:
		bad |= fb_get_i32(o, TFL_CONCAT_AXIS, 0, &op->opt.axis) < 0;
		bad |= fb_get_u8(o, TFL_CONCAT_ACT, 0, &act) < 0;
		break;
	case TFL_ADD:
		bad |= fb_get_u8(o, TFL_ADD_ACT, 0, &act) < 0;
		break;
	case TFL_RESHAPE:
		bad |= read_int_vec(o, TFL_RESHAPE_NEW_SHAPE, op->opt.shape, &op->opt.shape_len) < 0;
		break;
	case TFL_SQUEEZE:
		bad |= read_int_vec(o, TFL_SQUEEZE_DIMS, op->opt.shape, &op->opt.shape_len) < 0;
		break;
	case TFL_MEAN:
		bad |= fb_get_u8(o, TFL_REDUCER_KEEP_DIMS, 0, &keep) < 0;
		break;
	}
	op->opt.padding = pad;
	op->opt.act = act;
	op->opt.keep_dims = keep;
	return bad ? -1 : 0;
}

static int parse_options(parse_ctx *c, const fb_table *ot, mnv2_op *op)
{
	fb_table o;
	uint8_t type;
	int r;
	if (fb_get_u8(ot, TFL_OP_OPTIONS_TYPE, 0, &type) < 0)
		return BAD(c, "%s: operator %d (%s): options type is malformed", c->m->name,
			   op->index, op->name);
	op->opt_type = type;
	r = fb_get_table(ot, TFL_OP_OPTIONS, &o);
	if (r < 0)
		return BAD(c, "%s: operator %d (%s): options table is malformed", c->m->name,
			   op->index, op->name);
	if (r == 1 && type != expected_options(op->builtin))
		return BAD(c, "%s: operator %d (%s): options of type %u, expected %u", c->m->name,
			   op->index, op->name, type, expected_options(op->builtin));
	if (r == 0) {
		/* No options table: every field takes its schema default. */
		static const uint8_t empty_table[8] = { 4, 0, 4, 0, 4, 0, 0, 0 };
		static const fb_buf empty = { empty_table, sizeof empty_table };
		fb_table_at(&empty, 4, &o);
	}
	if (read_fields(&o, op->builtin, op))
		return BAD(c, "%s: operator %d (%s): options fields are malformed", c->m->name,
			   op->index, op->name);
	return 0;
}

static int parse_custom_options(parse_ctx *c, const fb_table *ot, mnv2_op *op)
{
	fb_vec v;
	uint8_t format;
	if (fb_get_vec(ot, TFL_OP_CUSTOM_OPTIONS, 1, &v) < 0 ||
	    fb_get_u8(ot, TFL_OP_CUSTOM_OPTIONS_FORMAT, 0, &format) < 0 || format != 0)
		return BAD(c, "%s: operator %d (%s): custom options are malformed or not FlexBuffers",
			   c->m->name, op->index, op->name);
	op->custom = v.len ? fb_vec_data(&v) : NULL;
	op->custom_len = v.len;
	return 0;
}

static int parse_ops(parse_ctx *c, const fb_vec *ops)
{
	mnv2_model *m = c->m;
	for (uint32_t i = 0; i < ops->len; i++) {
		mnv2_op *op = &m->ops[i];
		fb_table ot;
		uint32_t opcode;
		op->index = (int)i;
		if (fb_vec_table(ops, i, &ot) || fb_get_u32(&ot, TFL_OP_OPCODE_INDEX, 0, &opcode) < 0)
			return BAD(c, "%s: operator %u is malformed", m->name, i);
		if (opcode >= c->opcodes.len)
			return BAD(c, "%s: operator %u uses operator code %u of %u", m->name, i, opcode,
				   c->opcodes.len);
		op->builtin = c->opcode_builtin[opcode];
		op->name = mnv2_builtin_name(op->builtin);
		if (op->builtin == TFL_CUSTOM) {
			const char *cc = c->opcode_custom[opcode];
			if (!cc || strcmp(cc, MNV2_DETECTION_POSTPROCESS))
				return BAD(c, "%s: operator %u: unsupported custom operator '%s'",
					   m->name, i, cc ? cc : "");
			op->name = MNV2_DETECTION_POSTPROCESS;
			if (parse_custom_options(c, &ot, op))
				return -1;
		}
		if (!op->name)
			return BAD(c, "%s: operator %u: unsupported operator %s (builtin code %d)",
				   m->name, i, builtin_label(op->builtin), op->builtin);
		if (parse_io_list(c, &ot, TFL_OP_INPUTS, op->in, &op->nin, MNV2_MAX_OP_IO, "inputs", (int)i) ||
		    parse_io_list(c, &ot, TFL_OP_OUTPUTS, op->out, &op->nout, MNV2_MAX_OP_IO, "outputs", (int)i))
			return -1;
		if (parse_options(c, &ot, op))
			return -1;
	}
	return 0;
}

static int parse_graph_io(parse_ctx *c, const fb_table *sg, int field, int **out, int *n,
			  const char *what)
{
	fb_vec v;
	if (fb_get_vec(sg, field, 4, &v) < 0)
		return BAD(c, "%s: subgraph %s vector lies outside the file", c->m->name, what);
	if (v.len == 0 || v.len > MNV2_MAX_OP_IO)
		return BAD(c, "%s: the graph has %u %s (1 to %d supported)", c->m->name, v.len, what,
			   MNV2_MAX_OP_IO);
	*out = calloc(v.len, sizeof(int));
	if (!*out)
		return BAD(c, "%s: out of memory", c->m->name);
	*n = (int)v.len;
	for (uint32_t i = 0; i < v.len; i++) {
		int32_t t = fb_vec_i32(&v, i);
		if (t < 0 || t >= c->m->ntensors)
			return BAD(c, "%s: graph %s %u refers to tensor %d of %d", c->m->name, what, i, t,
				   c->m->ntensors);
		(*out)[i] = t;
	}
	return 0;
}

static int parse_subgraph(parse_ctx *c, const fb_table *model)
{
	mnv2_model *m = c->m;
	fb_vec sgs, tensors, ops;
	fb_table sg;
	if (fb_get_vec(model, TFL_MODEL_SUBGRAPHS, 4, &sgs) < 0)
		return BAD(c, "%s: subgraphs vector lies outside the file", m->name);
	if (sgs.len != 1)
		return BAD(c, "%s: the model has %u subgraphs; exactly one is supported", m->name,
			   sgs.len);
	if (fb_vec_table(&sgs, 0, &sg) || fb_get_vec(&sg, TFL_SUBGRAPH_TENSORS, 4, &tensors) < 0 ||
	    fb_get_vec(&sg, TFL_SUBGRAPH_OPERATORS, 4, &ops) < 0)
		return BAD(c, "%s: subgraph 0 is malformed", m->name);
	if (tensors.len > MNV2_MAX_TENSORS || ops.len > MNV2_MAX_OPS || ops.len == 0)
		return BAD(c, "%s: %u tensors and %u operators (limits %d and %d, at least 1 op)",
			   m->name, tensors.len, ops.len, MNV2_MAX_TENSORS, MNV2_MAX_OPS);
	m->ntensors = (int)tensors.len;
	m->nops = (int)ops.len;
	m->tensors = calloc(tensors.len ? tensors.len : 1, sizeof(mnv2_tensor));
	m->ops = calloc(ops.len, sizeof(mnv2_op));
	if (!m->tensors || !m->ops)
		return BAD(c, "%s: out of memory", m->name);
	for (uint32_t i = 0; i < tensors.len; i++) {
		fb_table tt;
		if (fb_vec_table(&tensors, i, &tt))
			return BAD(c, "%s: tensor %u is malformed", m->name, i);
		if (parse_tensor(c, &tt, (int)i))
			return -1;
	}
	if (parse_graph_io(c, &sg, TFL_SUBGRAPH_INPUTS, &m->inputs, &m->nin, "inputs") ||
	    parse_graph_io(c, &sg, TFL_SUBGRAPH_OUTPUTS, &m->outputs, &m->nout, "outputs"))
		return -1;
	return parse_ops(c, &ops);
}

int mnv2_model_parse(mnv2_model *m, mnv2_error *err)
{
	parse_ctx c = { .m = m, .err = err, .buf = { m->data, m->size } };
	fb_table model;
	uint32_t version;
	const char *desc;
	uint32_t dlen;
	int r = fb_root(&c.buf, "TFL3", &model), ret = -1;
	if (r == -2)
		BAD(&c, "%s: not a TFLite model (file identifier is not TFL3)", m->name);
	else if (r < 0)
		BAD(&c, "%s: not a TFLite model (%zu bytes, root table out of range)", m->name, m->size);
	else if (fb_get_u32(&model, TFL_MODEL_VERSION, 0, &version) < 0 || version != 3)
		BAD(&c, "%s: schema version %u is not supported (expected 3)", m->name, version);
	else if (fb_get_string(&model, TFL_MODEL_DESCRIPTION, &desc, &dlen) < 0 ||
		 !(m->description = dup_str(desc, dlen)))
		BAD(&c, "%s: description is malformed", m->name);
	else if (fb_get_vec(&model, TFL_MODEL_BUFFERS, 4, &c.buffers) < 0)
		BAD(&c, "%s: buffers vector lies outside the file", m->name);
	else if (!parse_opcodes(&c, &model) && !parse_subgraph(&c, &model))
		ret = 0;
	for (uint32_t i = 0; c.opcode_custom && i < c.opcodes.len; i++)
		free(c.opcode_custom[i]);
	free(c.opcode_custom);
	free(c.opcode_builtin);
	return ret;
}
