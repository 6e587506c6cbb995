/* ssd_attach — appends SSD post-processing (anchors + decoder + NMS, the semantics of
 * TFLite_Detection_PostProcess) to a graph that ends in raw box encodings and class
 * scores; see mnv2/ssd.h. Runs after parsing, before op preparation, so the new op is
 * validated and planned like any other. */
#include "mnv2/ssd.h"
#include "model.h"

#include <stdlib.h>
#include <string.h>

static const char *const new_names[5] = { "ssd_anchors", "detection_boxes",
					  "detection_classes", "detection_scores",
					  "num_detections" };

/* Which of the two outputs holds the [1,N,4] box encodings (-1: neither fits). */
static int find_boxes(const mnv2_model *m)
{
	const mnv2_tensor *a = &m->tensors[m->outputs[0]], *b = &m->tensors[m->outputs[1]];
	int a_box = a->rank == 3 && a->dims[2] == 4, b_box = b->rank == 3 && b->dims[2] == 4;
	if (a_box && b->rank == 3 && b->dims[1] == a->dims[1])
		return 0;
	if (b_box && a->rank == 3 && a->dims[1] == b->dims[1])
		return 1;
	return -1;
}

static int grow(mnv2_model *m)
{
	mnv2_tensor *t = realloc(m->tensors, sizeof *t * ((size_t)m->ntensors + 5));
	if (t)
		m->tensors = t;
	mnv2_op *o = realloc(m->ops, sizeof *o * ((size_t)m->nops + 1));
	if (o)
		m->ops = o;
	int *outs = realloc(m->outputs, sizeof(int) * 4);
	if (outs)
		m->outputs = outs;
	if (!t || !o || !outs)
		return -1;
	memset(&m->tensors[m->ntensors], 0, sizeof *t * 5);
	memset(&m->ops[m->nops], 0, sizeof *o);
	for (int i = 0; i < 5; i++) {
		mnv2_tensor *n = &m->tensors[m->ntensors + i];
		n->type = MNV2_FLOAT32;
		if (!(n->name = strdup(new_names[i]))) {
			while (i-- > 0)
				free(m->tensors[m->ntensors + i].name);
			return -1;
		}
	}
	return 0;
}

static mnv2_detect_params *params_from(const mnv2_ssd_options *o)
{
	mnv2_detect_params *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->max_detections = o->max_detections;
	d->max_classes_per_detection = o->max_classes_per_detection;
	d->detections_per_class = o->detections_per_class;
	d->use_regular_nms = o->use_regular_nms;
	d->score_threshold = o->nms_score_threshold;
	d->iou_threshold = o->nms_iou_threshold;
	d->y_scale = o->y_scale;
	d->x_scale = o->x_scale;
	d->h_scale = o->h_scale;
	d->w_scale = o->w_scale;
	d->scores_are_logits = o->scores_are_logits;
	return d;
}

static int check_params(const mnv2_model *m, const mnv2_ssd_options *o, mnv2_error *err)
{
	if (o->max_detections < 1 || o->max_detections > 10000 ||
	    o->max_classes_per_detection < 1 || o->max_classes_per_detection > 100 ||
	    (o->use_regular_nms && (o->detections_per_class < 1 || o->detections_per_class > 10000)))
		return mnv2_fail(err, "%s: SSD detection counts are out of range", m->name);
	if (!(o->nms_iou_threshold >= 0 && o->nms_iou_threshold <= 1) ||
	    !(o->y_scale > 0 && o->x_scale > 0 && o->h_scale > 0 && o->w_scale > 0))
		return mnv2_fail(err, "%s: SSD IoU threshold or box scales are invalid", m->name);
	return 0;
}

int mnv2_ssd_attach(mnv2_model *m, const mnv2_ssd_options *o, mnv2_error *err)
{
	/* Copy what we need of the input: grow() reallocates m->tensors. */
	const mnv2_tensor *in = &m->tensors[m->inputs[0]];
	const int in_rank = in->rank, in_h = in->dims[1], in_w = in->dims[2];
	int bi = m->nout == 2 ? find_boxes(m) : -1;
	if (bi < 0)
		return mnv2_fail(err, "%s: SSD post-processing needs two outputs, box encodings [1,N,4] and class scores [1,N,C]",
				 m->name);
	if (in_rank != 4)
		return mnv2_fail(err, "%s: the input is not an NHWC image", m->name);
	if (check_params(m, o, err))
		return -1;
	int boxes = m->outputs[bi], scores = m->outputs[1 - bi];
	int n = m->tensors[boxes].dims[1];
	long want = mnv2_ssd_anchors(o, in_h, in_w, NULL, 0, err);
	if (want < 0)
		return -1;
	if (want != n)
		return mnv2_fail(err, "%s: the anchor settings give %ld anchors, the model has %d (set feature_map_sizes?)",
				 m->name, want, n);
	if (!(m->gen_anchors = malloc(sizeof(float) * 4 * (size_t)n)) || grow(m))
		return mnv2_fail(err, "%s: out of memory", m->name);
	mnv2_ssd_anchors(o, in_h, in_w, m->gen_anchors, n, err);
	int t0 = m->ntensors;
	m->ntensors += 5; /* from here on, mnv2_model_free() owns what grow() made */
	mnv2_tensor *anc = &m->tensors[t0];
	*anc = (mnv2_tensor){ .name = anc->name, .type = MNV2_FLOAT32, .rank = 2, .dims = { n, 4 },
			      .count = 4 * (size_t)n, .bytes = 16 * (size_t)n, .is_const = true,
			      .data = (const uint8_t *)m->gen_anchors, .data_len = 16 * (size_t)n };
	mnv2_op *op = &m->ops[m->nops];
	*op = (mnv2_op){ .index = m->nops, .builtin = 32, .name = MNV2_DETECTION_POSTPROCESS,
			 .nin = 3, .in = { boxes, scores, t0 }, .nout = 4,
			 .out = { t0 + 1, t0 + 2, t0 + 3, t0 + 4 } };
	m->nops += 1;
	if (!(op->detect = params_from(o)))
		return mnv2_fail(err, "%s: out of memory", m->name);
	int columns = m->tensors[scores].rank == 3 ? m->tensors[scores].dims[2] : 0;
	op->detect->num_classes = o->no_background ? columns : columns - 1;
	if (op->detect->num_classes < 1)
		return mnv2_fail(err, "%s: class scores [1,N,%d] leave no classes", m->name, columns);
	m->nout = 4;
	for (int i = 0; i < 4; i++)
		m->outputs[i] = t0 + 1 + i;
	return 0;
}
