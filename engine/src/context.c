/* context — inference state (one arena, intra-op threads) and the interpreter: op by op, or
 * in the fused plan each fused chain at once (chain.c), its output rows in one band per thread. */
#include "model.h"
#include "kernels/simd.h"
#include "kernels/workers.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mnv2_context {
	const mnv2_model *m;
	uint8_t *arena;
	uint8_t *work;            /* the SIMD kernels' workspaces: nthreads x work_stride */
	size_t work_stride;
	int path;                 /* kernel path, <= m->kpath */
	int nthreads;
	mnv2_workers *workers;    /* NULL with one thread */
	uint8_t *tiles;           /* fused plan: row buffers of threads 1.. (nthreads - 1) x
				   * tile_stride; the first thread's are in the arena */
	size_t tile_stride;
};

/* nthreads zeroed workspaces, or NULL (also when the model needs none). */
static uint8_t *alloc_work(size_t stride, int nthreads)
{
	size_t bytes = stride * (size_t)nthreads;
	uint8_t *w = bytes ? aligned_alloc(64, bytes) : NULL;
	if (w)
		memset(w, 0, bytes);
	return w;
}

mnv2_context *mnv2_context_create(const mnv2_model *m, mnv2_error *err)
{
	mnv2_context *c = calloc(1, sizeof *c);
	size_t bytes = m->arena_bytes ? m->arena_bytes : 64;
	size_t stride = (m->work_bytes + 63) / 64 * 64;
	if (!c || !(c->arena = aligned_alloc(64, bytes)) ||
	    (stride && !(c->work = alloc_work(stride, 1)))) {
		if (c)
			free(c->arena);
		free(c);
		mnv2_fail(err, "%s: cannot allocate a %zu-byte arena and %zu-byte workspace",
			  m->name, bytes, stride);
		return NULL;
	}
	memset(c->arena, 0, bytes);
	c->m = m;
	c->work_stride = stride;
	c->tile_stride = m->plan == MNV2_PLAN_FUSED ? (m->tile_bytes + 63) / 64 * 64 : 0;
	c->path = m->kpath;
	c->nthreads = 1;
	return c;
}

void mnv2_context_free(mnv2_context *c)
{
	if (!c)
		return;
	mnv2_workers_free(c->workers);
	free(c->arena);
	free(c->work);
	free(c->tiles);
	free(c);
}

int mnv2_context_set_threads(mnv2_context *c, int n, mnv2_error *err)
{
	if (n < 1 || n > MNV2_MAX_THREADS)
		return mnv2_fail(err, "%s: %d threads requested; 1 to %d are supported", c->m->name, n,
				 MNV2_MAX_THREADS);
	if (n == c->nthreads)
		return 0;
	int why = 0;
	uint8_t *work = alloc_work(c->work_stride, n);
	uint8_t *tiles = n > 1 ? alloc_work(c->tile_stride, n - 1) : NULL;
	mnv2_workers *w = NULL;
	if ((c->work_stride && !work) || (n > 1 && c->tile_stride && !tiles) ||
	    (n > 1 && !(w = mnv2_workers_create(n, &why)))) {
		free(work);
		free(tiles);
		return mnv2_fail(err, "%s: cannot start %d threads: %s", c->m->name, n,
				 why ? strerror(why) : "out of memory");
	}
	mnv2_workers_free(c->workers);
	free(c->work);
	free(c->tiles);
	c->workers = w;
	c->work = work;
	c->tiles = tiles;
	c->nthreads = n;
	return 0;
}

int mnv2_context_threads(const mnv2_context *c) { return c->nthreads; }

int mnv2_context_set_kernel_path(mnv2_context *c, mnv2_kernel_path p, mnv2_error *err)
{
	if (!mnv2_kpath_allowed((int)p, c->m->kpath))
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

/* One op that the kernels can split, and its split. */
typedef struct job {
	mnv2_context *c;
	const mnv2_op *op;
	const void *x, *x2;
	void *y;
	int nparts;
} job;

static void run_part(void *arg, int part)
{
	const job *j = arg;
	const mnv2_op *op = j->op;
	int path = j->c->path;
	void *work = j->c->work ? j->c->work + (size_t)part * j->c->work_stride : NULL;
	switch (op->kind) {
	case MNV2_OP_CONV:
	case MNV2_OP_FC:
	case MNV2_OP_DWCONV:
		mnv2_conv_exec(&op->k.conv, op->kind == MNV2_OP_DWCONV, op->packed, path, j->x, j->x2,
			       j->y, work, part, j->nparts);
		break;
	case MNV2_OP_ADD:
		mnv2_add_exec(&op->k.add, path, j->x, j->x2, j->y, part, j->nparts);
		break;
	default: /* AVGPOOL, MAXPOOL */
		mnv2_pool_exec(&op->k.pool, op->kind == MNV2_OP_MAXPOOL, path, j->x, j->y, part,
			       j->nparts);
		break;
	}
}

static void run_split(mnv2_context *c, const mnv2_op *op, const void *x, const void *x2,
		      void *y)
{
	int parallel = c->workers && op->macs >= c->m->parallel_min_macs;
	job j = { c, op, x, x2, y, parallel ? c->nthreads : 1 };
	if (parallel)
		mnv2_workers_run(c->workers, run_part, &j);
	else
		run_part(&j, 0);
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
	case MNV2_OP_ADD:
		run_split(c, op, x, cdata(c, op->in[1]), y);
		break;
	case MNV2_OP_AVGPOOL:
	case MNV2_OP_MAXPOOL:
		run_split(c, op, x, NULL, y);
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

/* A fused chain, its rows in bands over the threads. */
typedef struct chain_job {
	mnv2_context *c;
	const mnv2_chain *ch;
	int nparts;
} chain_job;

static void run_chain_part(void *arg, int part)
{
	const chain_job *j = arg;
	mnv2_context *c = j->c;
	uint8_t *tiles = part ? c->tiles + (size_t)(part - 1) * c->tile_stride :
				c->arena + j->ch->offset;
	void *work = c->work ? c->work + (size_t)part * c->work_stride : NULL;
	mnv2_chain_run(c->m, j->ch, c->arena, tiles, work, c->path, part, j->nparts);
}

static void run_chain(mnv2_context *c, const mnv2_chain *ch)
{
	int parallel = c->workers && ch->macs >= c->m->parallel_min_macs;
	chain_job j = { c, ch, parallel ? c->nthreads : 1 };
	if (parallel)
		mnv2_workers_run(c->workers, run_chain_part, &j);
	else
		run_chain_part(&j, 0);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int run_all(mnv2_context *c, double *op_ns, mnv2_error *err)
{
	int fused = c->m->plan == MNV2_PLAN_FUSED;
	for (int i = 0; i < c->m->nops; i++) {
		const mnv2_op *op = &c->m->ops[i];
		double t0 = op_ns ? now_ns() : 0;
		if (fused && c->m->op_chain[i] >= 0) { /* the chain's time goes to its first op */
			const mnv2_chain *ch = &c->m->chains[c->m->op_chain[i]];
			run_chain(c, ch);
			for (int k = i + 1; op_ns && k <= ch->last; k++)
				op_ns[k] = 0;
			if (op_ns)
				op_ns[i] = now_ns() - t0;
			i = ch->last;
			continue;
		}
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
