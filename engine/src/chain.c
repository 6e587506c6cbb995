/* chain — running a fused chain (model.h, fuse.c) in tiles of output rows.
 *
 * For each tile of depthwise output rows [y0, y1) of a band: the expanded rows the
 * depthwise reads are made present in the expanded buffer (rows the previous tile already
 * computed move to its front, the head computes the rest), the depthwise writes the tile
 * into the depthwise buffer, the projection writes its rows to the output tensor (or the
 * projection buffer, which the residual ADD then adds to the input's rows).
 *
 * Every kernel runs on a row window: the op's parameters restricted to output rows
 * [o0, o1) read input rows [i0, i1) from a pointer to row i0, with pad_top shifted so that
 * rows outside the window are exactly the padding rows of the whole tensor. Each output
 * element is computed by the same arithmetic as the layer-by-layer run: same bytes. */
#include "model.h"
#include "kernels/simd.h"

#include <string.h>

/* p restricted to output rows [o0, o1); *i0, *i1: the input rows they read. */
static mnv2_conv_params window(const mnv2_conv_params *p, int o0, int o1, int *i0, int *i1)
{
	int eff = (p->k_h - 1) * p->dil_h + 1;
	int lo = o0 * p->stride_h - p->pad_top, hi = (o1 - 1) * p->stride_h - p->pad_top + eff;
	*i0 = lo < 0 ? 0 : lo > p->in_h ? p->in_h : lo;
	*i1 = hi > p->in_h ? p->in_h : hi < *i0 ? *i0 : hi;
	mnv2_conv_params w = *p;
	w.in_h = *i1 - *i0;
	w.out_h = o1 - o0;
	w.pad_top = p->pad_top - o0 * p->stride_h + *i0;
	return w;
}

typedef struct run {
	const mnv2_model *m;
	const mnv2_chain *ch;
	uint8_t *arena, *ebuf, *dbuf, *pbuf;
	void *work;
	int path;
	int b0, b1;               /* expanded rows held in ebuf */
} run;

static const void *weights(const run *r, const mnv2_op *op)
{
	return r->m->tensors[op->in[1]].data;
}

static uint8_t *tensor(const run *r, int t) { return r->arena + r->m->tensors[t].offset; }

static void conv(const run *r, const mnv2_op *op, const mnv2_conv_params *p, const void *in,
		 void *out)
{
	mnv2_conv_exec(p, op->kind == MNV2_OP_DWCONV, op->packed, r->path, in, weights(r, op), out,
		       r->work, 0, 1);
}

/* Makes expanded rows [e0, e1) present in ebuf from its start. */
static void expand(run *r, int e0, int e1)
{
	const mnv2_op *h = &r->m->ops[r->ch->head];
	size_t row = r->ch->row_e;
	if (e0 >= r->b0 && e0 < r->b1) {
		if (e0 > r->b0)
			memmove(r->ebuf, r->ebuf + (size_t)(e0 - r->b0) * row,
				(size_t)(r->b1 - e0) * row);
		r->b0 = e0;
	} else {
		r->b0 = r->b1 = e0;
	}
	if (e1 <= r->b1)
		return;
	int i0, i1;
	mnv2_conv_params w = window(&h->k.conv, r->b1, e1, &i0, &i1);
	size_t in_row = (size_t)h->k.conv.in_w * (size_t)h->k.conv.in_c;
	conv(r, h, &w, tensor(r, h->in[0]) + (size_t)i0 * in_row,
	     r->ebuf + (size_t)(r->b1 - r->b0) * row);
	r->b1 = e1;
}

static void residual(const run *r, int y0, int y1)
{
	const mnv2_op *a = &r->m->ops[r->ch->add];
	mnv2_add_params p = a->k.add;
	int32_t c = p.out_dims[3];
	size_t off = (size_t)y0 * r->ch->row_p;
	p.out_dims[0] = p.out_dims[1] = 1;
	p.out_dims[2] = (y1 - y0) * p.out_dims[2];
	for (int i = 0; i < 4; i++)
		p.a_strides[i] = p.b_strides[i] = i == 3 ? 1 : i == 2 ? c : 0;
	const uint8_t *x = tensor(r, a->in[r->ch->add_p_first ? 1 : 0]) + off;
	const void *pa = r->ch->add_p_first ? (const void *)r->pbuf : (const void *)x;
	const void *pb = r->ch->add_p_first ? (const void *)x : (const void *)r->pbuf;
	mnv2_add_exec(&p, r->path, pa, pb, tensor(r, a->out[0]) + off, 0, 1);
}

static void tile(run *r, int y0, int y1)
{
	const mnv2_chain *ch = r->ch;
	const mnv2_op *d = &r->m->ops[ch->dw], *pj = &r->m->ops[ch->proj];
	int e0, e1;
	mnv2_conv_params dw = window(&d->k.conv, y0, y1, &e0, &e1);
	const uint8_t *ein;
	if (ch->head >= 0) {
		expand(r, e0, e1);
		ein = r->ebuf;
	} else {
		ein = tensor(r, d->in[0]) + (size_t)e0 * ch->row_e;
	}
	conv(r, d, &dw, ein, r->dbuf);
	mnv2_conv_params pp = pj->k.conv;
	pp.in_h = pp.out_h = y1 - y0;
	if (ch->add < 0) {
		conv(r, pj, &pp, r->dbuf, tensor(r, pj->out[0]) + (size_t)y0 * ch->row_p);
		return;
	}
	conv(r, pj, &pp, r->dbuf, r->pbuf);
	residual(r, y0, y1);
}

void mnv2_chain_run(const mnv2_model *m, const mnv2_chain *ch, uint8_t *arena, uint8_t *tiles,
		    void *work, int path, int part, int nparts)
{
	int rows = m->ops[ch->dw].k.conv.out_h;
	int lo = (int)((long)rows * part / nparts), hi = (int)((long)rows * (part + 1) / nparts);
	run r = { .m = m, .ch = ch, .arena = arena, .ebuf = tiles + ch->ebuf,
		  .dbuf = tiles + ch->dbuf, .pbuf = tiles + ch->pbuf, .work = work, .path = path };
	for (int y0 = lo; y0 < hi; y0 += ch->rows)
		tile(&r, y0, y0 + ch->rows < hi ? y0 + ch->rows : hi);
}
