/* op_prepare — shared validation helpers and the per-op dispatch; see op_prepare.h. */
#include "op_prepare.h"
#include "tflite_schema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int prep_fail(prep *p, const char *fmt, ...)
{
	if (p->err) {
		char msg[MNV2_ERROR_LEN];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		/* Truncating an over-long message is fine; using the result says so. */
		if (snprintf(p->err->msg, sizeof p->err->msg, "%s: operator %d (%s): %s",
			     p->m->name, p->op->index, p->op->name, msg) < 0)
			p->err->msg[0] = '\0';
	}
	return -1;
}

static mnv2_tensor *io_tensor(prep *p, const int *idx, int n, int i, const char *what)
{
	if (i >= n || idx[i] < 0) {
		prep_fail(p, "%s %d is missing", what, i);
		return NULL;
	}
	return &p->m->tensors[idx[i]];
}

mnv2_tensor *prep_in(prep *p, int i) { return io_tensor(p, p->op->in, p->op->nin, i, "input"); }
mnv2_tensor *prep_out(prep *p, int i) { return io_tensor(p, p->op->out, p->op->nout, i, "output"); }

int prep_io_count(prep *p, int min_in, int max_in, int nout)
{
	if (p->op->nin < min_in || p->op->nin > max_in || p->op->nout != nout)
		return prep_fail(p, "has %d inputs and %d outputs, expected %d..%d and %d", p->op->nin,
				 p->op->nout, min_in, max_in, nout);
	return 0;
}

int prep_is8(prep *p, const mnv2_tensor *t, const char *role)
{
	if (t->type != MNV2_UINT8 && t->type != MNV2_INT8)
		return prep_fail(p, "%s tensor '%s' is %s; only uint8 and int8 are supported", role,
				 t->name, mnv2_dtype_name(t->type));
	if (!t->quantized)
		return prep_fail(p, "%s tensor '%s' has no quantization parameters", role, t->name);
	if (t->nscales > 1 && strcmp(role, "weights") != 0)
		return prep_fail(p, "%s tensor '%s' has per-channel quantization; only weights may",
				 role, t->name);
	int32_t lo = t->type == MNV2_INT8 ? -128 : 0;
	if (t->zero_point < lo || t->zero_point > lo + 255)
		return prep_fail(p, "%s tensor '%s' has zero point %d outside its type's range", role,
				 t->name, t->zero_point);
	return 0;
}

int prep_same_type(prep *p, const mnv2_tensor *a, const mnv2_tensor *b)
{
	if (a->type != b->type)
		return prep_fail(p, "tensors '%s' (%s) and '%s' (%s) must have the same type", a->name,
				 mnv2_dtype_name(a->type), b->name, mnv2_dtype_name(b->type));
	return 0;
}

static void format_shape(char *buf, size_t len, int rank, const int32_t *dims)
{
	size_t o = (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < rank && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, i ? ",%d" : "%d", dims[i]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
}

int prep_expect_shape(prep *p, const mnv2_tensor *t, int rank, const int32_t *dims)
{
	int same = t->rank == rank;
	for (int i = 0; same && i < rank; i++)
		same = t->dims[i] == dims[i];
	if (!same) {
		char have[96], want[96];
		format_shape(have, sizeof have, t->rank, t->dims);
		format_shape(want, sizeof want, rank, dims);
		return prep_fail(p, "tensor '%s' has shape %s, expected %s", t->name, have, want);
	}
	return 0;
}

/* The quantized value of x, as XNNPACK's delegate computes activation bounds. */
static int32_t quantize_bound(float x, const mnv2_tensor *t)
{
	float q = x / t->scale;
	if (q > 1e6f)
		q = 1e6f;
	if (q < -1e6f)
		q = -1e6f;
	return (int32_t)lrintf(q) + t->zero_point;
}

void prep_act_range(const mnv2_tensor *out, int act, int32_t *lo, int32_t *hi)
{
	int32_t qmin = out->type == MNV2_INT8 ? -128 : 0, qmax = qmin + 255;
	*lo = qmin;
	*hi = qmax;
	if (act == TFL_ACT_RELU || act == TFL_ACT_RELU6 || act == TFL_ACT_RELU_N1_TO_1) {
		int32_t l = quantize_bound(act == TFL_ACT_RELU_N1_TO_1 ? -1.0f : 0.0f, out);
		*lo = l > qmin ? l : qmin;
	}
	if (act == TFL_ACT_RELU6 || act == TFL_ACT_RELU_N1_TO_1) {
		int32_t h = quantize_bound(act == TFL_ACT_RELU6 ? 6.0f : 1.0f, out);
		*hi = h < qmax ? h : qmax;
	}
	if (*lo > *hi)
		*lo = *hi;
}

int prep_act_supported(prep *p, int act)
{
	if (act != TFL_ACT_NONE && act != TFL_ACT_RELU && act != TFL_ACT_RELU6 &&
	    act != TFL_ACT_RELU_N1_TO_1)
		return prep_fail(p, "fused activation %d is not supported", act);
	return 0;
}

int prep_out_dim(prep *p, int in, int k, int stride, int dil, int padding, int *out,
		 int *pad_before)
{
	if (stride < 1 || dil < 1 || k < 1 || stride > 4096 || dil > 4096 || k > 4096)
		return prep_fail(p, "kernel %d, stride %d, dilation %d out of range", k, stride, dil);
	int eff = (k - 1) * dil + 1;
	if (padding == TFL_PADDING_SAME) {
		*out = (in + stride - 1) / stride;
		int total = (*out - 1) * stride + eff - in;
		*pad_before = total > 0 ? total / 2 : 0;
	} else if (padding == TFL_PADDING_VALID) {
		*out = in >= eff ? (in - eff + stride) / stride : 0;
		*pad_before = 0;
	} else {
		return prep_fail(p, "padding type %d is not supported", padding);
	}
	if (*out < 1)
		return prep_fail(p, "input extent %d is smaller than the kernel extent %d", in, eff);
	return 0;
}

static int prepare_one(prep *p)
{
	switch (p->op->builtin) {
	case TFL_CONV_2D: return prep_conv(p);
	case TFL_DEPTHWISE_CONV_2D: return prep_dwconv(p);
	case TFL_FULLY_CONNECTED: return prep_fc(p);
	case TFL_AVERAGE_POOL_2D:
	case TFL_MAX_POOL_2D: return prep_pool(p);
	case TFL_MEAN: return prep_mean(p);
	case TFL_ADD: return prep_add(p);
	case TFL_SOFTMAX: return prep_softmax(p);
	case TFL_LOGISTIC: return prep_logistic(p);
	case TFL_RESHAPE:
	case TFL_SQUEEZE: return prep_reshape(p);
	case TFL_CONCATENATION: return prep_concat(p);
	case TFL_PAD: return prep_pad(p);
	case TFL_QUANTIZE: return prep_quantize(p);
	case TFL_DEQUANTIZE: return prep_dequantize(p);
	case TFL_CUSTOM: return prep_detect(p);
	}
	return prep_fail(p, "operator is not supported");
}

/* Ops must come in execution order: every activation input is a graph input or the
 * output of an earlier op, and every output is written by exactly one op. */
static int check_dataflow(prep *p, char *produced)
{
	for (int i = 0; i < p->op->nin; i++) {
		int t = p->op->in[i];
		if (t >= 0 && !p->m->tensors[t].is_const && !produced[t])
			return prep_fail(p, "input '%s' is not computed before this operator",
					 p->m->tensors[t].name);
	}
	for (int i = 0; i < p->op->nout; i++) {
		int t = p->op->out[i];
		if (t < 0 || p->m->tensors[t].is_const || produced[t])
			return prep_fail(p, "output %d is a constant, missing or already computed", i);
		produced[t] = 1;
	}
	return 0;
}

int mnv2_ops_prepare(mnv2_model *m, mnv2_error *err)
{
	char *produced = calloc((size_t)m->ntensors, 1);
	int ret = 0;
	if (!produced)
		return mnv2_fail(err, "%s: out of memory", m->name);
	for (int i = 0; i < m->nin; i++) {
		mnv2_tensor *t = &m->tensors[m->inputs[i]];
		if (t->is_const) {
			ret = mnv2_fail(err, "%s: graph input '%s' is a constant", m->name, t->name);
			break;
		}
		produced[m->inputs[i]] = 1;
	}
	for (int i = 0; ret == 0 && i < m->nops; i++) {
		prep p = { m, &m->ops[i], err };
		if (check_dataflow(&p, produced) || prepare_one(&p))
			ret = -1;
		else
			m->macs += m->ops[i].macs;
	}
	for (int i = 0; ret == 0 && i < m->nout; i++)
		if (!produced[m->outputs[i]] && !m->tensors[m->outputs[i]].is_const)
			ret = mnv2_fail(err, "%s: graph output '%s' is never computed", m->name,
					m->tensors[m->outputs[i]].name);
	free(produced);
	return ret;
}
