/* plan — static arena planning from tensor lifetimes.
 *
 * Every activation tensor lives from the op that writes it (graph inputs: before the
 * first op) to the last op that reads it (graph outputs: to the end). Tensors are placed
 * largest first at the lowest 64-byte aligned offset that does not overlap any placed
 * tensor whose lifetime intersects its own (greedy-by-size, as TFLite's planner).
 *
 * The fused plan (mnv2_chain, fuse.c) plans the same way with three changes per chain: the
 * tensors inside it get no slot, the tensors it reads live until its last op and those it
 * writes from its first (its ops run interleaved, tile by tile), and its row buffers are
 * one more slot living from its first op to its last. */
#include "model.h"

#include <stdlib.h>

#define ALIGN 64

typedef struct slot {
	size_t off, size;
	int first, last;
} slot;

/* Something to place: an activation tensor (tensor >= 0) or a chain's tile region. */
typedef struct item {
	size_t bytes;
	int first, last;
	int tensor, chain;
} item;

static int by_size_desc(const void *a, const void *b)
{
	const item *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->first - y->first;
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

/* A chain's ops run together: the tensors it reads live to its last op, those it writes
 * from its first; the tensors inside it get no slot (first > last). */
static void fused_lifetimes(mnv2_model *m)
{
	for (int c = 0; c < m->nchains; c++) {
		const mnv2_chain *ch = &m->chains[c];
		for (int o = ch->first; o <= ch->last; o++) {
			const mnv2_op *op = &m->ops[o];
			for (int i = 0; i < op->nin; i++) {
				mnv2_tensor *t = op->in[i] >= 0 ? &m->tensors[op->in[i]] : NULL;
				if (t && !t->is_const && t->last_op < ch->last)
					t->last_op = ch->last;
			}
			mnv2_tensor *t = &m->tensors[op->out[0]];
			if (t->first_op > ch->first)
				t->first_op = ch->first;
		}
		for (int i = 0; i < ch->nmid; i++) {
			m->tensors[ch->mid[i]].first_op = m->nops + 1;
			m->tensors[ch->mid[i]].last_op = -2;
		}
	}
}

/* Lowest aligned offset where `bytes` fit between the slots (sorted by offset) that
 * overlap it in time. */
static size_t place(size_t bytes, slot *live, size_t nlive)
{
	size_t off = 0;
	qsort(live, nlive, sizeof *live, by_offset);
	for (size_t i = 0; i < nlive; i++) {
		if (live[i].off >= off + bytes)
			break;
		size_t end = (live[i].off + live[i].size + ALIGN - 1) / ALIGN * ALIGN;
		off = end > off ? end : off;
	}
	return off;
}

/* Items to place: live activation tensors, and in the fused plan the chains' tiles. */
static size_t collect(mnv2_model *m, int fused, item *order)
{
	size_t n = 0;
	for (int i = 0; i < m->ntensors; i++) {
		mnv2_tensor *t = &m->tensors[i];
		t->planned = false;
		t->offset = 0;
		if (!t->is_const && t->first_op <= t->last_op)
			order[n++] = (item){ t->bytes, t->first_op, t->last_op, i, -1 };
	}
	for (int c = 0; fused && c < m->nchains; c++)
		order[n++] = (item){ m->chains[c].bytes, m->chains[c].first, m->chains[c].last, -1, c };
	return n;
}

int mnv2_plan(mnv2_model *m, int mode, mnv2_error *err)
{
	size_t cap = (size_t)m->ntensors + (size_t)m->nchains + 1;
	int fused = mode == MNV2_PLAN_FUSED;
	item *order = calloc(cap, sizeof *order);
	slot *placed = calloc(cap, sizeof *placed);
	slot *live = calloc(cap, sizeof *live);
	size_t n = 0, nplaced = 0, total = 0;
	int ret = 0;
	if (!order || !placed || !live) {
		ret = mnv2_fail(err, "%s: out of memory planning the arena", m->name);
		goto out;
	}
	lifetimes(m);
	if (fused)
		fused_lifetimes(m);
	n = collect(m, fused, order);
	qsort(order, n, sizeof *order, by_size_desc);
	for (size_t i = 0; i < n; i++) {
		item *t = &order[i];
		size_t nlive = 0;
		for (size_t j = 0; j < nplaced; j++)
			if (placed[j].first <= t->last && t->first <= placed[j].last)
				live[nlive++] = placed[j];
		size_t off = place(t->bytes, live, nlive);
		if (t->tensor >= 0) {
			m->tensors[t->tensor].offset = off;
			m->tensors[t->tensor].planned = true;
		} else {
			m->chains[t->chain].offset = off;
		}
		placed[nplaced++] = (slot){ off, t->bytes, t->first, t->last };
		if (off + t->bytes > total)
			total = off + t->bytes;
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
	m->plan = fused ? MNV2_PLAN_FUSED : MNV2_PLAN_LAYERS;
	m->plan_arena[m->plan] = m->arena_bytes;
out:
	free(order);
	free(placed);
	free(live);
	return ret;
}
