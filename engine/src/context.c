/* context — per-thread inference state (one arena) and the op-by-op interpreter. */
#include "model.h"
#include "kernels/simd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mnv2_context {
	const mnv2_model *m;
	uint8_t *arena;
	uint8_t *work;            /* the SIMD kernels' workspace (m->work_bytes) */
	int path;                 /* kernel path, <= m->kpath */
};

mnv2_context *mnv2_context_create(const mnv2_model *m, mnv2_error *err)
{
	mnv2_context *c = calloc(1, sizeof *c);
	size_t bytes = m->arena_bytes ? m->arena_bytes : 64;
	size_t work = (m->work_bytes + 63) / 64 * 64;
	if (!c || !(c->arena = aligned_alloc(64, bytes)) ||
	    (work && !(c->work = aligned_alloc(64, work)))) {
		if (c)
			free(c->arena);
		free(c);
		mnv2_fail(err, "%s: cannot allocate a %zu-byte arena and %zu-byte workspace",
			  m->name, bytes, work);
		return NULL;
	}
	memset(c->arena, 0, bytes);
	if (work)
		memset(c->work, 0, work);
	c->m = m;
	c->path = m->kpath;
	return c;
}

void mnv2_context_free(mnv2_context *c)
{
	if (!c)
		return;
	free(c->arena);
	free(c->work);
	free(c);
}

int mnv2_context_set_kernel_path(mnv2_context *c, mnv2_kernel_path p, mnv2_error *err)
{
	if ((int)p < MNV2_PATH_PORTABLE || (int)p > c->m->kpath)
		return mnv2_fail(err, "%s: kernel path '%s' is not available (this model runs '%s')",
				 c->m->name, mnv2_kernel_path_name(p),
				 mnv2_kernel_path_name((mnv2_kernel_path)c->m->kpath));
	c->path = (int)p;
	return 0;
}

mnv2_kernel_path mnv2_context_kernel_path(const mnv2_context *c)
{
	return (mnv2_kernel_path)c->path;
}

static const void *cdata(const mnv2_context *c, int t)
{
	const mnv2_tensor *x = &c->m->tensors[t];
	return x->is_const ? (const void *)x->data : (const void *)(c->arena + x->offset);
}

static void *wdata(mnv2_context *c, int t) { return c->arena + c->m->tensors[t].offset; }

void *mnv2_context_input(mnv2_context *c, int i, size_t *bytes)
{
	if (i < 0 || i >= c->m->nin)
		return NULL;
	if (bytes)
		*bytes = c->m->tensors[c->m->inputs[i]].bytes;
	return wdata(c, c->m->inputs[i]);
}

int mnv2_context_set_input(mnv2_context *c, int i, const void *data, size_t len,
			   mnv2_error *err)
{
	size_t bytes;
	void *dst = mnv2_context_input(c, i, &bytes);
	if (!dst)
		return mnv2_fail(err, "%s: no input %d", c->m->name, i);
	if (len != bytes)
		return mnv2_fail(err, "%s: input %d takes %zu bytes, got %zu", c->m->name, i, bytes,
				 len);
	memcpy(dst, data, len);
	return 0;
}

const void *mnv2_context_output(const mnv2_context *c, int i, size_t *bytes)
{
	if (i < 0 || i >= c->m->nout)
		return NULL;
	if (bytes)
		*bytes = c->m->tensors[c->m->outputs[i]].bytes;
	return cdata(c, c->m->outputs[i]);
}

const mnv2_model *mnv2_context_model(const mnv2_context *c) { return c->m; }

static void run_concat(mnv2_context *c, const mnv2_op *op)
{
	const mnv2_tensor *out = &c->m->tensors[op->out[0]];
	size_t esz = mnv2_dtype_size(out->type), outer = 1, inner = 1;
	int axis = op->opt.axis;
	for (int d = 0; d < axis; d++)
		outer *= (size_t)out->dims[d];
	for (int d = axis + 1; d < out->rank; d++)
		inner *= (size_t)out->dims[d];
	uint8_t *dst = wdata(c, op->out[0]);
	for (size_t o = 0; o < outer; o++)
		for (int i = 0; i < op->nin; i++) {
			const mnv2_tensor *in = &c->m->tensors[op->in[i]];
			size_t n = (size_t)in->dims[axis] * inner;
			const uint8_t *src = (const uint8_t *)cdata(c, op->in[i]) + o * n * esz;
			int requant = esz == 1 && (in->scale != out->scale ||
						   in->zero_point != out->zero_point);
			if (requant)
				mnv2_rescale(n, src, in->type == MNV2_INT8, in->scale, in->zero_point,
					     out->scale, out->zero_point, out->type == MNV2_INT8, dst);
			else
				memcpy(dst, src, n * esz);
			dst += n * esz;
		}
}

static int run_detect(mnv2_context *c, const mnv2_op *op, mnv2_error *err)
{
	int bad = -1;
	if (mnv2_detect(op->detect, cdata(c, op->in[0]), cdata(c, op->in[1]),
			c->arena + c->m->scratch_offset, wdata(c, op->out[0]), wdata(c, op->out[1]),
			wdata(c, op->out[2]), wdata(c, op->out[3]), &bad))
		return mnv2_fail(err, "%s: operator %d (%s): anchor %d decodes to an invalid box",
				 c->m->name, op->index, op->name, bad);
	return 0;
}

static void run_op(mnv2_context *c, const mnv2_op *op)
{
	const mnv2_tensor *in = &c->m->tensors[op->in[0]];
	const mnv2_tensor *out = &c->m->tensors[op->out[0]];
	const void *x = cdata(c, op->in[0]);
	void *y = wdata(c, op->out[0]);
	switch (op->kind) {
	case MNV2_OP_CONV:
	case MNV2_OP_FC:
	case MNV2_OP_DWCONV:
		mnv2_conv_exec(&op->k.conv, op->kind == MNV2_OP_DWCONV, op->packed, c->path, x,
			       cdata(c, op->in[1]), y, c->work, 0, 1);
		break;
	case MNV2_OP_ADD:
		mnv2_add_exec(&op->k.add, c->path, x, cdata(c, op->in[1]), y, 0, 1);
		break;
	case MNV2_OP_AVGPOOL:
	case MNV2_OP_MAXPOOL:
		mnv2_pool_exec(&op->k.pool, op->kind == MNV2_OP_MAXPOOL, c->path, x, y, 0, 1);
		break;
	case MNV2_OP_MEAN:
		mnv2_mean_hw(&op->k.mean, x, y);
		break;
	case MNV2_OP_SOFTMAX:
		mnv2_softmax(op->softmax, x, y);
		break;
	case MNV2_OP_LOGISTIC:
		mnv2_lut_apply(op->lut, in->count, x, y);
		break;
	case MNV2_OP_COPY:
		memmove(y, x, out->bytes);
		break;
	case MNV2_OP_CONCAT:
		run_concat(c, op);
		break;
	case MNV2_OP_PAD:
		mnv2_pad(&op->k.pad, x, y);
		break;
	case MNV2_OP_REQUANT:
		mnv2_requant(&op->k.requant, in->count, x, y);
		break;
	case MNV2_OP_QUANTIZE_F32:
		mnv2_quantize_f32(in->count, x, out->scale, out->zero_point,
				  out->type == MNV2_INT8, y);
		break;
	case MNV2_OP_DEQUANTIZE:
		mnv2_dequantize(in->count, x, in->scale, in->zero_point, in->type == MNV2_INT8, y);
		break;
	case MNV2_OP_DETECT: /* run by run_detect() */
		break;
	}
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int run_all(mnv2_context *c, double *op_ns, mnv2_error *err)
{
	for (int i = 0; i < c->m->nops; i++) {
		const mnv2_op *op = &c->m->ops[i];
		double t0 = op_ns ? now_ns() : 0;
		if (op->kind == MNV2_OP_DETECT) {
			if (run_detect(c, op, err))
				return -1;
		} else {
			run_op(c, op);
		}
		if (op_ns)
			op_ns[i] = now_ns() - t0;
	}
	return 0;
}

int mnv2_context_run(mnv2_context *c, mnv2_error *err) { return run_all(c, NULL, err); }

int mnv2_context_run_profiled(mnv2_context *c, double *op_ns, mnv2_error *err)
{
	return run_all(c, op_ns, err);
}
