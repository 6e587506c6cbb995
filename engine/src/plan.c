/* plan — static arena planning from tensor lifetimes.
 *
 * Every activation tensor lives from the op that writes it (graph inputs: before the
 * first op) to the last op that reads it (graph outputs: to the end). Tensors are placed
 * largest first at the lowest 64-byte aligned offset that does not overlap any placed
 * tensor whose lifetime intersects its own (greedy-by-size, as TFLite's planner). */
#include "model.h"

#include <stdlib.h>

#define ALIGN 64

typedef struct slot {
	size_t off, size;
	int first, last;
} slot;

static int by_size_desc(const void *a, const void *b)
{
	const mnv2_tensor *x = *(mnv2_tensor *const *)a, *y = *(mnv2_tensor *const *)b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->first_op - y->first_op;
}

static int by_offset(const void *a, const void *b)
{
	const slot *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void lifetimes(mnv2_model *m)
{
	for (int i = 0; i < m->ntensors; i++) {
		m->tensors[i].first_op = m->nops + 1;
		m->tensors[i].last_op = -2;
	}
	for (int i = 0; i < m->nin; i++) {
		mnv2_tensor *t = &m->tensors[m->inputs[i]];
		t->first_op = -1;
		t->last_op = t->last_op > -1 ? t->last_op : -1;
	}
	for (int o = 0; o < m->nops; o++) {
		const mnv2_op *op = &m->ops[o];
		for (int i = 0; i < op->nout; i++) {
			mnv2_tensor *t = &m->tensors[op->out[i]];
			t->first_op = o;
			t->last_op = t->last_op > o ? t->last_op : o;
		}
		for (int i = 0; i < op->nin; i++)
			if (op->in[i] >= 0 && !m->tensors[op->in[i]].is_const)
				m->tensors[op->in[i]].last_op = o;
	}
	for (int i = 0; i < m->nout; i++)
		m->tensors[m->outputs[i]].last_op = m->nops;
}

/* Lowest aligned offset where `t` fits between the slots (sorted by offset) that
 * overlap it in time. */
static size_t place(const mnv2_tensor *t, slot *live, size_t nlive)
{
	size_t off = 0;
	qsort(live, nlive, sizeof *live, by_offset);
	for (size_t i = 0; i < nlive; i++) {
		if (live[i].off >= off + t->bytes)
			break;
		size_t end = (live[i].off + live[i].size + ALIGN - 1) / ALIGN * ALIGN;
		off = end > off ? end : off;
	}
	return off;
}

int mnv2_plan(mnv2_model *m, mnv2_error *err)
{
	mnv2_tensor **order = calloc((size_t)m->ntensors + 1, sizeof *order);
	slot *placed = calloc((size_t)m->ntensors + 1, sizeof *placed);
	slot *live = calloc((size_t)m->ntensors + 1, sizeof *live);
	size_t n = 0, nplaced = 0, total = 0;
	int ret = 0;
	if (!order || !placed || !live) {
		ret = mnv2_fail(err, "%s: out of memory planning the arena", m->name);
		goto out;
	}
	lifetimes(m);
	for (int i = 0; i < m->ntensors; i++)
		if (!m->tensors[i].is_const && m->tensors[i].first_op <= m->tensors[i].last_op)
			order[n++] = &m->tensors[i];
	qsort(order, n, sizeof *order, by_size_desc);
	for (size_t i = 0; i < n; i++) {
		mnv2_tensor *t = order[i];
		size_t nlive = 0;
		for (size_t j = 0; j < nplaced; j++)
			if (placed[j].first <= t->last_op && t->first_op <= placed[j].last)
				live[nlive++] = placed[j];
		t->offset = place(t, live, nlive);
		t->planned = true;
		placed[nplaced++] = (slot){ t->offset, t->bytes, t->first_op, t->last_op };
		if (t->offset + t->bytes > total)
			total = t->offset + t->bytes;
		if (total > MNV2_MAX_ARENA_BYTES) {
			ret = mnv2_fail(err, "%s: activations need more than %zu bytes", m->name,
					MNV2_MAX_ARENA_BYTES);
			goto out;
		}
	}
	/* Ops run one at a time, so they share one scratch region after the tensors. */
	size_t scratch = 0;
	for (int i = 0; i < m->nops; i++)
		scratch = m->ops[i].scratch_bytes > scratch ? m->ops[i].scratch_bytes : scratch;
	m->scratch_offset = (total + ALIGN - 1) / ALIGN * ALIGN;
	if (scratch > MNV2_MAX_ARENA_BYTES - m->scratch_offset) {
		ret = mnv2_fail(err, "%s: operator scratch of %zu bytes is too large", m->name, scratch);
		goto out;
	}
	m->arena_bytes = (m->scratch_offset + scratch + ALIGN - 1) / ALIGN * ALIGN;
out:
	free(order);
	free(placed);
	free(live);
	return ret;
}
