/* tasks — see mnv2/tasks.h. */
#include "mnv2/tasks.h"
#include "model.h"

#include <math.h>
#include <string.h>

const char *mnv2_task_name(mnv2_task t)
{
	switch (t) {
	case MNV2_TASK_CLASSIFIER: return "classifier";
	case MNV2_TASK_DETECTOR: return "detector";
	default: return "unknown";
	}
}

static int is_detector(const mnv2_model *m)
{
	if (m->nout != 4)
		return 0;
	for (int i = 0; i < 4; i++)
		if (m->tensors[m->outputs[i]].type != MNV2_FLOAT32)
			return 0;
	const mnv2_tensor *b = &m->tensors[m->outputs[0]], *n = &m->tensors[m->outputs[3]];
	return b->rank == 3 && b->dims[2] == 4 && n->count == 1 &&
	       m->tensors[m->outputs[1]].count == (size_t)b->dims[1] &&
	       m->tensors[m->outputs[2]].count == (size_t)b->dims[1];
}

mnv2_task mnv2_model_task(const mnv2_model *m)
{
	if (is_detector(m))
		return MNV2_TASK_DETECTOR;
	if (m->nout == 1) {
		const mnv2_tensor *t = &m->tensors[m->outputs[0]];
		if (t->rank >= 1 && t->count > 1 && t->count == (size_t)t->dims[t->rank - 1] &&
		    (t->type == MNV2_UINT8 || t->type == MNV2_INT8 || t->type == MNV2_FLOAT32))
			return MNV2_TASK_CLASSIFIER;
	}
	return MNV2_TASK_UNKNOWN;
}

static float out_score(const mnv2_tensor *t, const void *d, size_t i)
{
	switch (t->type) {
	case MNV2_UINT8: return ((float)((const uint8_t *)d)[i] - (float)t->zero_point) * t->scale;
	case MNV2_INT8: return ((float)((const int8_t *)d)[i] - (float)t->zero_point) * t->scale;
	default: return ((const float *)d)[i];
	}
}

size_t mnv2_top_k(const mnv2_context *c, size_t k, float min_score, mnv2_class_score *out)
{
	const mnv2_model *m = mnv2_context_model(c);
	if (mnv2_model_task(m) != MNV2_TASK_CLASSIFIER)
		return 0;
	const mnv2_tensor *t = &m->tensors[m->outputs[0]];
	const void *d = mnv2_context_output(c, 0, NULL);
	size_t n = 0;
	/* Selection by rank: an element's rank is the number of elements that beat it. */
	for (size_t j = 0; j < k; j++) {
		size_t best = t->count;
		float bv = 0;
		for (size_t i = 0; i < t->count; i++) {
			float v = out_score(t, d, i);
			int taken = 0;
			for (size_t u = 0; u < n && !taken; u++)
				taken = out[u].index == i;
			if (!taken && !(v != v) && (best == t->count || v > bv)) {
				best = i;
				bv = v;
			}
		}
		if (best == t->count || bv < min_score)
			break;
		out[n++] = (mnv2_class_score){ (uint32_t)best, bv };
	}
	return n;
}

static float clipf(double v, double hi)
{
	return (float)(v < 0 ? 0 : v > hi ? hi : v);
}

size_t mnv2_detections(const mnv2_context *c, const mnv2_transform *tf, float min_score,
		       size_t max, mnv2_detection *out)
{
	const mnv2_model *m = mnv2_context_model(c);
	if (mnv2_model_task(m) != MNV2_TASK_DETECTOR)
		return 0;
	const float *boxes = mnv2_context_output(c, 0, NULL);
	const float *classes = mnv2_context_output(c, 1, NULL);
	const float *scores = mnv2_context_output(c, 2, NULL);
	const float *count = mnv2_context_output(c, 3, NULL);
	size_t rows = (size_t)m->tensors[m->outputs[0]].dims[1], n = 0;
	size_t valid = count[0] > 0 && count[0] <= (float)rows ? (size_t)count[0] : 0;
	for (size_t i = 0; i < valid && n < max; i++) {
		if (!(scores[i] >= min_score) || !(classes[i] >= 0) || classes[i] > 1e9f)
			continue;
		mnv2_detection *d = &out[n++];
		const float *b = &boxes[4 * i];
		*d = (mnv2_detection){ .class_id = (uint32_t)classes[i], .score = scores[i],
				       .ymin = b[0], .xmin = b[1], .ymax = b[2], .xmax = b[3] };
		double x0 = b[1], y0 = b[0], x1 = b[3], y1 = b[2], W = 1, H = 1;
		if (tf) {
			mnv2_transform_point(tf, b[1], b[0], &x0, &y0);
			mnv2_transform_point(tf, b[3], b[2], &x1, &y1);
			W = tf->src_w;
			H = tf->src_h;
		}
		d->px_xmin = clipf(x0, W);
		d->px_ymin = clipf(y0, H);
		d->px_xmax = clipf(x1, W);
		d->px_ymax = clipf(y1, H);
	}
	return n;
}
