/* fuse — finding the inverted residual chains the fused plan runs in tiles of rows, and
 * sizing their row buffers (see mnv2_chain in model.h and mnv2_plan_mode in engine.h).
 *
 * A chain is found around each DEPTHWISE_CONV_2D d (ops consecutive in the file's order):
 *  - d and the ops around it work on one image (batch 1);
 *  - op d + 1 is a 1x1 stride-1 unpadded CONV_2D reading d's output, d's only consumer;
 *  - head: op d - 1 is a CONV_2D (any kernel) writing d's input, which nothing else reads;
 *    otherwise d reads its input whole from the arena (e.g. SSD heads read it too);
 *  - add: op d + 2 is an ADD of the projection's output (its only consumer) and another
 *    arena tensor, both of the output's shape (no broadcasting).
 * Tensors that are neither graph outputs nor read by other ops then live only in row
 * buffers. Each chain's tile height is the largest whose buffers fit TILE_BUDGET bytes
 * (at least one row; even for stride-1 depthwise), unless the caller fixes it; model.c
 * then grows the tiles of the chains where the arena does not peak. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define TILE_BUDGET ((size_t)48 << 10)
#define ALIGN 64

static size_t align_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

/* Number of reads of every tensor by ops and graph outputs. */
static int *count_consumers(const mnv2_model *m)
{
	int *n = calloc((size_t)m->ntensors + 1, sizeof *n);
	if (!n)
		return NULL;
	for (int o = 0; o < m->nops; o++)
		for (int i = 0; i < m->ops[o].nin; i++)
			if (m->ops[o].in[i] >= 0)
				n[m->ops[o].in[i]]++;
	for (int i = 0; i < m->nout; i++)
		n[m->outputs[i]]++;
	return n;
}

static int is_conv(const mnv2_op *op, mnv2_op_kind kind)
{
	return op->kind == kind && op->nout == 1 && op->k.conv.batch == 1;
}

static int is_pointwise(const mnv2_conv_params *p)
{
	return p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
	       p->pad_top == 0 && p->pad_left == 0 && p->in_h == p->out_h && p->in_w == p->out_w;
}

/* Strides that walk `dims` (padded to 4) contiguously. */
static int contiguous(const int32_t dims[4], const int32_t strides[4])
{
	int32_t s = 1;
	for (int i = 3; i >= 0; i--) {
		if (dims[i] != 1 && strides[i] != s)
			return 0;
		s *= dims[i];
	}
	return 1;
}

/* op is an ADD of tensor t (once) and another arena tensor, without broadcasting, whose
 * output has t's shape. Returns 1 when t is the first input, 2 when the second, else 0. */
static int residual_add(const mnv2_model *m, const mnv2_op *op, int t)
{
	if (op->kind != MNV2_OP_ADD || op->nin != 2 || op->nout != 1 || op->in[0] == op->in[1])
		return 0;
	int which = op->in[0] == t ? 1 : op->in[1] == t ? 2 : 0;
	int other = which == 1 ? op->in[1] : op->in[0];
	if (!which || other < 0 || m->tensors[other].is_const)
		return 0;
	const mnv2_add_params *a = &op->k.add;
	const mnv2_tensor *x = &m->tensors[t], *y = &m->tensors[op->out[0]];
	if (x->rank != 4 || y->rank != 4 || x->bytes != y->bytes || m->tensors[other].bytes != y->bytes)
		return 0;
	for (int i = 0; i < 4; i++)
		if (x->dims[i] != y->dims[i] || a->out_dims[i] != y->dims[i])
			return 0;
	return contiguous(a->out_dims, a->a_strides) && contiguous(a->out_dims, a->b_strides) ?
		       which : 0;
}

static int internal(const int *consumers, int t) { return consumers[t] == 1; }

/* The chain around depthwise op d whose ops all come after op `after`, or 0. */
static int find_chain(const mnv2_model *m, const int *consumers, int d, int after,
		      mnv2_chain *ch)
{
	const mnv2_op *dw = &m->ops[d];
	if (!is_conv(dw, MNV2_OP_DWCONV) || d + 1 >= m->nops)
		return 0;
	const mnv2_op *pj = &m->ops[d + 1];
	int td = dw->out[0];
	if (!is_conv(pj, MNV2_OP_CONV) || pj->in[0] != td || !is_pointwise(&pj->k.conv) ||
	    !internal(consumers, td))
		return 0;
	*ch = (mnv2_chain){ .first = d, .last = d + 1, .head = -1, .dw = d, .proj = d + 1,
			    .add = -1, .mid = { td, -1, -1 }, .nmid = 1 };
	int te = dw->in[0];
	if (d - 1 > after && is_conv(&m->ops[d - 1], MNV2_OP_CONV) && m->ops[d - 1].out[0] == te &&
	    internal(consumers, te)) {
		ch->head = ch->first = d - 1;
		ch->mid[ch->nmid++] = te;
	}
	int tp = pj->out[0], which;
	if (d + 2 < m->nops && internal(consumers, tp) &&
	    (which = residual_add(m, &m->ops[d + 2], tp))) {
		ch->add = ch->last = d + 2;
		ch->add_p_first = which == 1;
		ch->mid[ch->nmid++] = tp;
	}
	return 1;
}

/* Bytes of the chain's buffers with tiles of `rows` rows; sets the offsets. */
static size_t layout(mnv2_chain *ch, const mnv2_conv_params *dp, int rows)
{
	int eff = (dp->k_h - 1) * dp->dil_h + 1;
	long ecap = (long)(rows - 1) * dp->stride_h + eff;
	ch->rows = rows;
	ch->ecap = ch->head >= 0 ? (int)(ecap < dp->in_h ? ecap : dp->in_h) : 0;
	ch->ebuf = 0;
	ch->dbuf = align_up((size_t)ch->ecap * ch->row_e);
	ch->pbuf = ch->dbuf + align_up((size_t)rows * ch->row_d);
	ch->bytes = ch->pbuf + (ch->add >= 0 ? align_up((size_t)rows * ch->row_p) : 0);
	return ch->bytes;
}

static void size_chain(const mnv2_model *m, mnv2_chain *ch, int tile_rows)
{
	const mnv2_conv_params *dp = &m->ops[ch->dw].k.conv, *pp = &m->ops[ch->proj].k.conv;
	ch->row_e = (size_t)dp->in_w * (size_t)dp->in_c;
	ch->row_d = (size_t)dp->out_w * (size_t)dp->out_c;
	ch->row_p = (size_t)pp->out_w * (size_t)pp->out_c;
	int rows = tile_rows > 0 ? tile_rows : 1;
	if (tile_rows <= 0) { /* the most rows within the budget: bytes grow with rows */
		int bad = dp->out_h + 1;
		while (rows + 1 < bad) {
			int mid = rows + (bad - rows) / 2;
			if (layout(ch, dp, mid) <= TILE_BUDGET)
				rows = mid;
			else
				bad = mid;
		}
		/* the stride-1 depthwise kernels do rows in pairs */
		if (dp->stride_h == 1 && rows > 2 && rows % 2 && rows < dp->out_h)
			rows--;
	}
	layout(ch, dp, rows < dp->out_h ? rows : dp->out_h);
	ch->macs = 0;
	for (int o = ch->first; o <= ch->last; o++)
		ch->macs += m->ops[o].macs;
}

int mnv2_fuse_rows(mnv2_model *m, int c, int rows)
{
	mnv2_chain *ch = &m->chains[c];
	const mnv2_conv_params *dp = &m->ops[ch->dw].k.conv;
	int old = ch->rows;
	layout(ch, dp, rows < 1 ? 1 : rows < dp->out_h ? rows : dp->out_h);
	m->tile_bytes = 0;
	for (int i = 0; i < m->nchains; i++)
		m->tile_bytes = m->chains[i].bytes > m->tile_bytes ? m->chains[i].bytes : m->tile_bytes;
	return old;
}

int mnv2_fuse_find(mnv2_model *m, int tile_rows, mnv2_error *err)
{
	int *consumers = count_consumers(m);
	m->chains = calloc((size_t)m->nops / 2 + 1, sizeof *m->chains);
	m->op_chain = malloc(((size_t)m->nops + 1) * sizeof *m->op_chain);
	if (!consumers || !m->chains || !m->op_chain) {
		free(consumers);
		return mnv2_fail(err, "%s: out of memory finding fusable chains", m->name);
	}
	for (int o = 0; o < m->nops; o++)
		m->op_chain[o] = -1;
	m->nchains = 0;
	m->tile_bytes = 0;
	for (int d = 0; d < m->nops; d++) {
		mnv2_chain ch;
		int after = m->nchains ? m->chains[m->nchains - 1].last : -1;
		if (!find_chain(m, consumers, d, after, &ch))
			continue;
		size_chain(m, &ch, tile_rows);
		m->op_chain[ch.first] = m->nchains;
		m->chains[m->nchains++] = ch;
		m->tile_bytes = ch.bytes > m->tile_bytes ? ch.bytes : m->tile_bytes;
		d = ch.last;
	}
	free(consumers);
	return 0;
}
