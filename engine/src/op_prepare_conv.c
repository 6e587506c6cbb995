/* op_prepare_conv — CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling and MEAN. */
#include "op_prepare.h"
#include "tflite_schema.h"
#include "kernels/simd.h"

#include <stdlib.h>
#include <string.h>

/* Weights: constant, same storage type as the input, per-tensor or per-channel along
 * `axis` with `channels` entries (per-channel weights must be symmetric). */
static int check_weights(prep *p, const mnv2_tensor *in, const mnv2_tensor *w, int axis,
			 int channels)
{
	if (!w->is_const)
		return prep_fail(p, "weights '%s' are not constant", w->name);
	if (prep_is8(p, w, "weights") || prep_same_type(p, in, w))
		return -1;
	if (w->nscales > 1) {
		if (w->qaxis != axis || w->nscales != channels)
			return prep_fail(p, "weights '%s' have %d scales on axis %d, expected %d on axis %d",
					 w->name, w->nscales, w->qaxis, channels, axis);
		for (int c = 0; c < channels; c++)
			if (w->zero_points[c] != 0)
				return prep_fail(p, "per-channel weights '%s' have zero point %lld in channel %d; only symmetric per-channel weights are supported",
						 w->name, (long long)w->zero_points[c], c);
	}
	return 0;
}

static int check_bias(prep *p, const mnv2_tensor *b, int channels)
{
	if (!b->is_const || b->type != MNV2_INT32 || b->count != (size_t)channels)
		return prep_fail(p, "bias '%s' must be a constant int32 vector of %d values", b->name,
				 channels);
	return 0;
}

/* Per-channel requantization scales in_s * w_s[c] / out_s, in float as the reference. */
static int make_scales(prep *p, const mnv2_tensor *in, const mnv2_tensor *w,
		       const mnv2_tensor *out, int channels)
{
	float *s = malloc(sizeof(float) * (size_t)channels);
	if (!s)
		return prep_fail(p, "out of memory");
	for (int c = 0; c < channels; c++) {
		float ws = w->nscales > 1 ? w->scales[c] : w->scale;
		s[c] = in->scale * ws / out->scale;
	}
	p->op->scales = s;
	return 0;
}

/* Weights repacked for the CPU's fastest kernel path (none for the portable path). */
static int pack_weights(prep *p, const mnv2_tensor *w, int depthwise)
{
	int path = mnv2_cpu_path();
	p->m->kpath = path;
	if (mnv2_conv_pack(&p->op->k.conv, depthwise, path, w->data, &p->op->packed))
		return prep_fail(p, "out of memory packing the weights of '%s'", w->name);
	if (p->op->packed && p->op->packed->work_bytes > p->m->work_bytes)
		p->m->work_bytes = p->op->packed->work_bytes;
	return 0;
}

/* Common part of the three convolution-like ops once the geometry is known. */
static int finish_conv(prep *p, mnv2_tensor *in, mnv2_tensor *w, mnv2_tensor *out,
		       int axis)
{
	mnv2_conv_params *k = &p->op->k.conv;
	mnv2_tensor *bias = p->op->nin > 2 && p->op->in[2] >= 0 ? &p->m->tensors[p->op->in[2]] : NULL;
	if (check_weights(p, in, w, axis, k->out_c) || (bias && check_bias(p, bias, k->out_c)) ||
	    prep_act_supported(p, p->op->opt.act) || make_scales(p, in, w, out, k->out_c))
		return -1;
	k->in_zp = in->zero_point;
	k->w_zp = w->nscales > 1 ? 0 : w->zero_point;
	k->out_zp = out->zero_point;
	if (bias) { /* copied: the file gives no alignment guarantee */
		if (!(p->op->bias = malloc(bias->bytes)))
			return prep_fail(p, "out of memory");
		memcpy(p->op->bias, bias->data, bias->bytes);
	}
	k->bias = p->op->bias;
	k->scale = p->op->scales;
	k->is_signed = in->type == MNV2_INT8;
	prep_act_range(out, p->op->opt.act, &k->act_min, &k->act_max);
	return pack_weights(p, w, axis == 3);
}

static int conv_geometry(prep *p, mnv2_tensor **pin, mnv2_tensor **pw, mnv2_tensor **pout)
{
	mnv2_tensor *in, *w, *out;
	if (prep_io_count(p, 2, 3, 1) || !(in = prep_in(p, 0)) || !(w = prep_in(p, 1)) ||
	    !(out = prep_out(p, 0)) || prep_is8(p, in, "input") || prep_is8(p, out, "output") ||
	    prep_same_type(p, in, out))
		return -1;
	if (in->rank != 4 || w->rank != 4)
		return prep_fail(p, "input '%s' and weights '%s' must be 4-D", in->name, w->name);
	*pin = in;
	*pw = w;
	*pout = out;
	return 0;
}

static int spatial(prep *p, const mnv2_tensor *in, int kh, int kw)
{
	mnv2_conv_params *k = &p->op->k.conv;
	const struct mnv2_op_options *o = &p->op->opt;
	k->batch = in->dims[0];
	k->in_h = in->dims[1];
	k->in_w = in->dims[2];
	k->in_c = in->dims[3];
	k->k_h = kh;
	k->k_w = kw;
	k->stride_h = o->stride_h;
	k->stride_w = o->stride_w;
	k->dil_h = o->dil_h;
	k->dil_w = o->dil_w;
	return prep_out_dim(p, k->in_h, kh, o->stride_h, o->dil_h, o->padding, &k->out_h, &k->pad_top) ||
	       prep_out_dim(p, k->in_w, kw, o->stride_w, o->dil_w, o->padding, &k->out_w, &k->pad_left);
}

int prep_conv(prep *p)
{
	mnv2_tensor *in, *w, *out;
	mnv2_conv_params *k = &p->op->k.conv;
	if (conv_geometry(p, &in, &w, &out))
		return -1;
	if (w->dims[3] != in->dims[3])
		return prep_fail(p, "weights '%s' have %d input channels, the input has %d", w->name,
				 w->dims[3], in->dims[3]);
	k->out_c = w->dims[0];
	if (spatial(p, in, w->dims[1], w->dims[2]))
		return -1;
	int32_t want[4] = { k->batch, k->out_h, k->out_w, k->out_c };
	if (prep_expect_shape(p, out, 4, want) || finish_conv(p, in, w, out, 0))
		return -1;
	p->op->kind = MNV2_OP_CONV;
	p->op->macs = (uint64_t)out->count * (uint64_t)k->k_h * (uint64_t)k->k_w * (uint64_t)k->in_c;
	return 0;
}

int prep_dwconv(prep *p)
{
	mnv2_tensor *in, *w, *out;
	mnv2_conv_params *k = &p->op->k.conv;
	if (conv_geometry(p, &in, &w, &out))
		return -1;
	int dm = p->op->opt.depth_mult;
	if (w->dims[0] != 1 || dm < 1 || (int64_t)in->dims[3] * dm != w->dims[3])
		return prep_fail(p, "weights '%s' [1,%d,%d,%d] do not fit %d input channels x depth multiplier %d",
				 w->name, w->dims[1], w->dims[2], w->dims[3], in->dims[3], dm);
	k->out_c = w->dims[3];
	k->depth_mult = dm;
	if (spatial(p, in, w->dims[1], w->dims[2]))
		return -1;
	int32_t want[4] = { k->batch, k->out_h, k->out_w, k->out_c };
	if (prep_expect_shape(p, out, 4, want) || finish_conv(p, in, w, out, 3))
		return -1;
	p->op->kind = MNV2_OP_DWCONV;
	p->op->macs = (uint64_t)out->count * (uint64_t)k->k_h * (uint64_t)k->k_w;
	return 0;
}

int prep_fc(prep *p)
{
	mnv2_tensor *in, *w, *out;
	mnv2_conv_params *k = &p->op->k.conv;
	if (prep_io_count(p, 2, 3, 1) || !(in = prep_in(p, 0)) || !(w = prep_in(p, 1)) ||
	    !(out = prep_out(p, 0)) || prep_is8(p, in, "input") || prep_is8(p, out, "output") ||
	    prep_same_type(p, in, out))
		return -1;
	if (w->rank != 2 || w->dims[1] < 1 || in->count % (size_t)w->dims[1] != 0)
		return prep_fail(p, "weights '%s' must be [units, depth] with depth dividing the input's %zu elements",
				 w->name, in->count);
	*k = (mnv2_conv_params){ .batch = (int)(in->count / (size_t)w->dims[1]), .in_h = 1,
				 .in_w = 1, .in_c = w->dims[1], .out_h = 1, .out_w = 1,
				 .out_c = w->dims[0], .k_h = 1, .k_w = 1, .stride_h = 1,
				 .stride_w = 1, .dil_h = 1, .dil_w = 1 };
	if (out->count != (size_t)k->batch * (size_t)k->out_c || out->rank < 1 ||
	    out->dims[out->rank - 1] != k->out_c)
		return prep_fail(p, "output '%s' must hold %d x %d values", out->name, k->batch, k->out_c);
	if (finish_conv(p, in, w, out, 0))
		return -1;
	p->op->kind = MNV2_OP_FC;
	p->op->macs = (uint64_t)k->batch * (uint64_t)k->out_c * (uint64_t)k->in_c;
	return 0;
}

int prep_pool(prep *p)
{
	mnv2_tensor *in, *out;
	mnv2_pool_params *k = &p->op->k.pool;
	const struct mnv2_op_options *o = &p->op->opt;
	if (prep_io_count(p, 1, 1, 1) || !(in = prep_in(p, 0)) || !(out = prep_out(p, 0)) ||
	    prep_is8(p, in, "input") || prep_is8(p, out, "output") || prep_same_type(p, in, out) ||
	    prep_act_supported(p, o->act))
		return -1;
	if (in->rank != 4)
		return prep_fail(p, "input '%s' must be 4-D", in->name);
	*k = (mnv2_pool_params){ .batch = in->dims[0], .in_h = in->dims[1], .in_w = in->dims[2],
				 .c = in->dims[3], .k_h = o->filter_h, .k_w = o->filter_w,
				 .stride_h = o->stride_h, .stride_w = o->stride_w,
				 .is_signed = in->type == MNV2_INT8 };
	if (prep_out_dim(p, k->in_h, k->k_h, k->stride_h, 1, o->padding, &k->out_h, &k->pad_top) ||
	    prep_out_dim(p, k->in_w, k->k_w, k->stride_w, 1, o->padding, &k->out_w, &k->pad_left))
		return -1;
	if ((int64_t)k->k_h * k->k_w > (1 << 20))
		return prep_fail(p, "pooling window %dx%d is too large", k->k_h, k->k_w);
	int32_t want[4] = { k->batch, k->out_h, k->out_w, k->c };
	if (prep_expect_shape(p, out, 4, want))
		return -1;
	prep_act_range(out, o->act, &k->act_min, &k->act_max);
	p->op->kind = p->op->builtin == 1 ? MNV2_OP_AVGPOOL : MNV2_OP_MAXPOOL;
	p->m->kpath = mnv2_cpu_path(); /* pooling needs no packing */
	p->op->macs = (uint64_t)out->count * (uint64_t)k->k_h * (uint64_t)k->k_w;
	return 0;
}

/* MEAN over the two spatial axes of a 4-D tensor (what MobileNet heads use). */
static int mean_axes_ok(const mnv2_tensor *axes)
{
	if (!axes->is_const || axes->type != MNV2_INT32 || axes->count != 2)
		return 0;
	int seen = 0;
	for (int i = 0; i < 2; i++) {
		int32_t a;
		memcpy(&a, axes->data + 4 * i, 4);
		a = a < 0 ? a + 4 : a;
		if (a == 1 || a == 2)
			seen |= 1 << a;
	}
	return seen == 6;
}

int prep_mean(prep *p)
{
	mnv2_tensor *in, *axes, *out;
	mnv2_mean_params *k = &p->op->k.mean;
	if (prep_io_count(p, 2, 2, 1) || !(in = prep_in(p, 0)) || !(axes = prep_in(p, 1)) ||
	    !(out = prep_out(p, 0)) || prep_is8(p, in, "input") || prep_is8(p, out, "output") ||
	    prep_same_type(p, in, out))
		return -1;
	if (in->rank != 4 || !mean_axes_ok(axes))
		return prep_fail(p, "only MEAN over axes [1,2] of a 4-D tensor is supported");
	int32_t n = in->dims[0], c = in->dims[3];
	int32_t keep[4] = { n, 1, 1, c }, flat[2] = { n, c };
	if (p->op->opt.keep_dims ? prep_expect_shape(p, out, 4, keep) : prep_expect_shape(p, out, 2, flat))
		return -1;
	size_t plane = (size_t)in->dims[1] * (size_t)in->dims[2];
	if (plane == 0 || plane > (1u << 23))
		return prep_fail(p, "cannot average %zu elements per channel", plane);
	*k = (mnv2_mean_params){ .batch = n, .h = in->dims[1], .w = in->dims[2], .c = c,
				 .in_zp = in->zero_point, .out_zp = out->zero_point,
				 .qmin = out->type == MNV2_INT8 ? -128 : 0,
				 .qmax = out->type == MNV2_INT8 ? 127 : 255,
				 .is_signed = in->type == MNV2_INT8 };
	k->scale = in->scale / (out->scale * (float)plane);
	p->op->kind = MNV2_OP_MEAN;
	p->op->macs = in->count;
	return 0;
}
