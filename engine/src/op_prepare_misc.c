/* op_prepare_misc — ADD, SOFTMAX, LOGISTIC, RESHAPE/SQUEEZE, CONCATENATION, PAD,
 * QUANTIZE and DEQUANTIZE. */
#include "op_prepare.h"
#include "tflite_schema.h"
#include "kernels/simd.h"

#include <stdlib.h>
#include <string.h>

/* Right-aligns a shape of rank <= 4 into 4 dims. */
static int to4(const mnv2_tensor *t, int32_t d[4])
{
	if (t->rank > 4)
		return -1;
	for (int i = 0; i < 4; i++)
		d[i] = 1;
	for (int i = 0; i < t->rank; i++)
		d[4 - t->rank + i] = t->dims[i];
	return 0;
}

static void broadcast_strides(const int32_t in[4], const int32_t out[4], int32_t st[4])
{
	int32_t s = 1;
	for (int i = 3; i >= 0; i--) {
		st[i] = in[i] == 1 && out[i] != 1 ? 0 : s;
		s *= in[i];
	}
}

int prep_add(prep *p)
{
	mnv2_tensor *a, *b, *out;
	mnv2_add_params *k = &p->op->k.add;
	int32_t da[4], db[4], dout[4];
	if (prep_io_count(p, 2, 2, 1) || !(a = prep_in(p, 0)) || !(b = prep_in(p, 1)) ||
	    !(out = prep_out(p, 0)) || prep_is8(p, a, "input") || prep_is8(p, b, "input") ||
	    prep_is8(p, out, "output") || prep_same_type(p, a, out) || prep_same_type(p, b, out) ||
	    prep_act_supported(p, p->op->opt.act))
		return -1;
	if (to4(a, da) || to4(b, db) || out->rank > 4)
		return prep_fail(p, "tensors of rank above 4 are not supported");
	for (int i = 0; i < 4; i++) {
		if (da[i] != db[i] && da[i] != 1 && db[i] != 1)
			return prep_fail(p, "shapes of '%s' and '%s' do not broadcast", a->name, b->name);
		dout[i] = da[i] > db[i] ? da[i] : db[i];
		if (da[i] == 0 || db[i] == 0)
			dout[i] = 0;
	}
	int rank = a->rank > b->rank ? a->rank : b->rank;
	if (prep_expect_shape(p, out, rank, dout + 4 - rank))
		return -1;
	if (mnv2_add_params_init(k, a->scale, a->zero_point, b->scale, b->zero_point, out->scale,
				 out->zero_point))
		return prep_fail(p, "input/output scale ratios %g and %g are outside [2^-10, 2^8)",
				 (double)(a->scale / out->scale), (double)(b->scale / out->scale));
	memcpy(k->out_dims, dout, sizeof dout);
	broadcast_strides(da, dout, k->a_strides);
	broadcast_strides(db, dout, k->b_strides);
	k->is_signed = out->type == MNV2_INT8;
	k->rank = rank;
	prep_act_range(out, p->op->opt.act, &k->act_min, &k->act_max);
	p->op->kind = MNV2_OP_ADD;
	p->op->macs = out->count;
	p->m->kpath = mnv2_cpu_path(); /* ADD needs no packing */
	return 0;
}

static int unary8(prep *p, mnv2_tensor **in, mnv2_tensor **out)
{
	if (prep_io_count(p, 1, 1, 1) || !(*in = prep_in(p, 0)) || !(*out = prep_out(p, 0)) ||
	    prep_is8(p, *in, "input") || prep_is8(p, *out, "output") || prep_same_type(p, *in, *out))
		return -1;
	return prep_expect_shape(p, *out, (*in)->rank, (*in)->dims);
}

int prep_softmax(prep *p)
{
	mnv2_tensor *in, *out;
	if (unary8(p, &in, &out))
		return -1;
	if (in->rank < 1 || in->dims[in->rank - 1] < 1)
		return prep_fail(p, "input '%s' needs a non-empty last dimension", in->name);
	/* TFLite's quantized softmax requires this output encoding (probabilities in 1/256). */
	int32_t want_zp = out->type == MNV2_INT8 ? -128 : 0;
	if (out->scale != 1.0f / 256 || out->zero_point != want_zp)
		return prep_fail(p, "output '%s' must have scale 1/256 and zero point %d, has %g and %d",
				 out->name, want_zp, (double)out->scale, out->zero_point);
	float beta = p->op->opt.beta;
	if (!(beta > 0.0f && beta < 1e6f))
		return prep_fail(p, "beta %g is not supported", (double)beta);
	mnv2_softmax_params *k = calloc(1, sizeof *k);
	if (!k)
		return prep_fail(p, "out of memory");
	mnv2_softmax_params_init(k, in->scale, beta);
	k->depth = (size_t)in->dims[in->rank - 1];
	k->outer = in->count / k->depth;
	k->out_scale = out->scale;
	k->out_zp = out->zero_point;
	k->is_signed = in->type == MNV2_INT8;
	p->op->softmax = k;
	p->op->kind = MNV2_OP_SOFTMAX;
	p->op->macs = in->count;
	return 0;
}

int prep_logistic(prep *p)
{
	mnv2_tensor *in, *out;
	if (unary8(p, &in, &out))
		return -1;
	mnv2_lut_logistic_init(p->op->lut, in->scale, in->zero_point, out->scale, out->zero_point,
			       in->type == MNV2_INT8);
	p->op->kind = MNV2_OP_LOGISTIC;
	p->op->macs = in->count;
	return 0;
}

int prep_reshape(prep *p)
{
	mnv2_tensor *in, *out;
	if (prep_io_count(p, 1, 2, 1) || !(in = prep_in(p, 0)) || !(out = prep_out(p, 0)) ||
	    prep_same_type(p, in, out))
		return -1;
	if (in->count != out->count)
		return prep_fail(p, "output '%s' has %zu elements, the input '%s' %zu", out->name,
				 out->count, in->name, in->count);
	p->op->kind = MNV2_OP_COPY;
	return 0;
}

int prep_concat(prep *p)
{
	mnv2_tensor *out = prep_out(p, 0), *in;
	if (!out || p->op->nin < 1 || p->op->nout != 1)
		return prep_fail(p, "needs at least one input and one output");
	int axis = p->op->opt.axis < 0 ? p->op->opt.axis + out->rank : p->op->opt.axis;
	if (axis < 0 || axis >= out->rank)
		return prep_fail(p, "axis %d is outside the output's rank %d", p->op->opt.axis, out->rank);
	if (p->op->opt.act != TFL_ACT_NONE)
		return prep_fail(p, "a fused activation on CONCATENATION is not supported");
	int64_t sum = 0;
	for (int i = 0; i < p->op->nin; i++) {
		if (!(in = prep_in(p, i)) || prep_same_type(p, in, out))
			return -1;
		if (in->type == MNV2_UINT8 || in->type == MNV2_INT8) {
			if (prep_is8(p, in, "input") || prep_is8(p, out, "output"))
				return -1;
		}
		if (in->rank != out->rank)
			return prep_fail(p, "input '%s' has rank %d, the output %d", in->name, in->rank, out->rank);
		for (int d = 0; d < out->rank; d++)
			if (d != axis && in->dims[d] != out->dims[d])
				return prep_fail(p, "input '%s' differs from the output in dimension %d",
						 in->name, d);
		sum += in->dims[axis];
	}
	if (sum != out->dims[axis])
		return prep_fail(p, "inputs add up to %lld along axis %d, the output has %d",
				 (long long)sum, axis, out->dims[axis]);
	p->op->opt.axis = axis;
	p->op->kind = MNV2_OP_CONCAT;
	return 0;
}

static int read_paddings(prep *p, const mnv2_tensor *pt, int rank, int32_t before[4],
			 int32_t after[4])
{
	size_t esz = pt->type == MNV2_INT64 ? 8 : 4;
	if (!pt->is_const || (pt->type != MNV2_INT32 && pt->type != MNV2_INT64) ||
	    pt->count != (size_t)rank * 2)
		return prep_fail(p, "paddings '%s' must be a constant int32/int64 [%d,2] tensor",
				 pt->name, rank);
	for (int i = 0; i < 4; i++)
		before[i] = after[i] = 0;
	for (int i = 0; i < 2 * rank; i++) {
		int64_t v;
		if (esz == 8) {
			memcpy(&v, pt->data + 8 * i, 8);
		} else {
			int32_t v32;
			memcpy(&v32, pt->data + 4 * i, 4);
			v = v32;
		}
		if (v < 0 || v > (1 << 20))
			return prep_fail(p, "padding %lld is not supported", (long long)v);
		int d = 4 - rank + i / 2;
		if (i % 2)
			after[d] = (int32_t)v;
		else
			before[d] = (int32_t)v;
	}
	return 0;
}

int prep_pad(prep *p)
{
	mnv2_tensor *in, *pt, *out;
	mnv2_pad_params *k = &p->op->k.pad;
	int32_t after[4], want[4];
	if (prep_io_count(p, 2, 2, 1) || !(in = prep_in(p, 0)) || !(pt = prep_in(p, 1)) ||
	    !(out = prep_out(p, 0)) || prep_same_type(p, in, out))
		return -1;
	if (to4(in, k->in_dims))
		return prep_fail(p, "input '%s' has rank above 4", in->name);
	if (read_paddings(p, pt, in->rank, k->before, after))
		return -1;
	for (int i = 0; i < 4; i++)
		k->out_dims[i] = k->in_dims[i] + k->before[i] + after[i];
	memcpy(want, k->out_dims, sizeof want);
	if (prep_expect_shape(p, out, in->rank, want + 4 - in->rank))
		return -1;
	k->elem = mnv2_dtype_size(in->type);
	memset(k->value, 0, sizeof k->value);
	if (in->type == MNV2_UINT8 || in->type == MNV2_INT8) {
		if (prep_is8(p, out, "output"))
			return -1;
		k->value[0] = (uint8_t)out->zero_point;
	}
	p->op->kind = MNV2_OP_PAD;
	return 0;
}

int prep_quantize(prep *p)
{
	mnv2_tensor *in, *out;
	if (prep_io_count(p, 1, 1, 1) || !(in = prep_in(p, 0)) || !(out = prep_out(p, 0)) ||
	    prep_is8(p, out, "output") || prep_expect_shape(p, out, in->rank, in->dims))
		return -1;
	if (in->type == MNV2_FLOAT32) {
		if (in->is_const) /* constant floats in the file may be misaligned */
			return prep_fail(p, "a constant float input is not supported");
		p->op->kind = MNV2_OP_QUANTIZE_F32;
	} else {
		if (prep_is8(p, in, "input"))
			return -1;
		mnv2_requant_params_init(&p->op->k.requant, in->scale, in->zero_point,
					 in->type == MNV2_INT8, out->scale, out->zero_point,
					 out->type == MNV2_INT8);
		p->op->kind = MNV2_OP_REQUANT;
	}
	p->op->macs = in->count;
	return 0;
}

int prep_dequantize(prep *p)
{
	mnv2_tensor *in, *out;
	if (prep_io_count(p, 1, 1, 1) || !(in = prep_in(p, 0)) || !(out = prep_out(p, 0)) ||
	    prep_is8(p, in, "input") || prep_expect_shape(p, out, in->rank, in->dims))
		return -1;
	if (out->type != MNV2_FLOAT32)
		return prep_fail(p, "output '%s' must be float32", out->name);
	p->op->kind = MNV2_OP_DEQUANTIZE;
	p->op->macs = in->count;
	return 0;
}
