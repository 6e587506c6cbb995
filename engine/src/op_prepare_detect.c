/* op_prepare_detect — TFLite_Detection_PostProcess: reads its FlexBuffer options,
 * checks the three inputs (box encodings [1,N,4], class scores [1,N,C+offset], constant
 * anchors [N,4]), dequantizes the anchors once and sets the four float32 outputs' shapes
 * (the file usually leaves them empty: the operator defines them). */
#include "flexbuf.h"
#include "op_prepare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DETECTIONS 10000

static int opt_num(prep *p, const flexbuf_map *fm, const char *key, double def, double lo,
		   double hi, double *out)
{
	int r = flexbuf_get_double(fm, key, out);
	if (r < 0)
		return prep_fail(p, "option '%s' is malformed", key);
	if (r == 0)
		*out = def;
	if (!(*out >= lo && *out <= hi))
		return prep_fail(p, "option '%s' = %g is outside [%g, %g]", key, *out, lo, hi);
	return 0;
}

static int read_options(prep *p, mnv2_detect_params *d)
{
	flexbuf_map fm;
	double v[11];
	if (!p->op->custom || flexbuf_root_map(p->op->custom, p->op->custom_len, &fm))
		return prep_fail(p, "custom options are missing or not a FlexBuffer map");
	if (opt_num(p, &fm, "max_detections", -1, 1, MAX_DETECTIONS, &v[0]) ||
	    opt_num(p, &fm, "max_classes_per_detection", 1, 1, 100, &v[1]) ||
	    opt_num(p, &fm, "detections_per_class", 100, 0, MAX_DETECTIONS, &v[2]) ||
	    opt_num(p, &fm, "use_regular_nms", 0, 0, 1, &v[3]) ||
	    opt_num(p, &fm, "nms_score_threshold", -1e30, -1e30, 1e30, &v[4]) ||
	    opt_num(p, &fm, "nms_iou_threshold", -1, 0, 1, &v[5]) ||
	    opt_num(p, &fm, "num_classes", -1, 1, 100000, &v[6]) ||
	    opt_num(p, &fm, "y_scale", 0, 1e-6, 1e6, &v[7]) ||
	    opt_num(p, &fm, "x_scale", 0, 1e-6, 1e6, &v[8]) ||
	    opt_num(p, &fm, "h_scale", 0, 1e-6, 1e6, &v[9]) ||
	    opt_num(p, &fm, "w_scale", 0, 1e-6, 1e6, &v[10]))
		return -1;
	d->max_detections = (int)v[0];
	d->max_classes_per_detection = (int)v[1];
	d->detections_per_class = (int)v[2];
	d->use_regular_nms = v[3] != 0;
	if (d->use_regular_nms && d->detections_per_class < 1)
		return prep_fail(p, "regular NMS needs detections_per_class >= 1");
	d->score_threshold = (float)v[4];
	d->iou_threshold = (float)v[5];
	d->num_classes = (int)v[6];
	d->y_scale = (float)v[7];
	d->x_scale = (float)v[8];
	d->h_scale = (float)v[9];
	d->w_scale = (float)v[10];
	return 0;
}

static int input_dq(prep *p, const mnv2_tensor *t, mnv2_dq *q)
{
	if (t->type == MNV2_FLOAT32) {
		q->type = MNV2_FLOAT32;
		return 0;
	}
	if (prep_is8(p, t, "input"))
		return -1;
	*q = (mnv2_dq){ .type = t->type, .zp = t->zero_point, .scale = t->scale };
	return 0;
}

static int anchors_prepare(prep *p, const mnv2_tensor *a, int n)
{
	mnv2_dq q = { .type = MNV2_FLOAT32 };
	if (!a->is_const || a->rank != 2 || a->dims[0] != n || a->dims[1] != 4)
		return prep_fail(p, "anchors '%s' must be a constant [%d,4] tensor", a->name, n);
	if (input_dq(p, a, &q))
		return -1;
	float *f = malloc(sizeof(float) * 4 * (size_t)n);
	if (!f)
		return prep_fail(p, "out of memory");
	for (size_t i = 0; i < 4 * (size_t)n; i++) {
		if (q.type == MNV2_FLOAT32)
			memcpy(&f[i], a->data + 4 * i, 4);
		else if (q.type == MNV2_UINT8)
			f[i] = ((float)a->data[i] - (float)q.zp) * q.scale;
		else
			f[i] = ((float)(int8_t)a->data[i] - (float)q.zp) * q.scale;
		if (!isfinite(f[i])) {
			free(f);
			return prep_fail(p, "anchor value %zu is not finite", i);
		}
	}
	p->op->anchors = f;
	return 0;
}

/* Sets (or checks) an output's shape; the op defines it. */
static int set_output(prep *p, int i, int rank, const int32_t *dims)
{
	mnv2_tensor *t = prep_out(p, i);
	if (!t)
		return -1;
	if (t->type != MNV2_FLOAT32)
		return prep_fail(p, "output %d '%s' must be float32", i, t->name);
	if (t->rank == 0) {
		t->rank = rank;
		t->count = 1;
		for (int d = 0; d < rank; d++) {
			t->dims[d] = dims[d];
			t->count *= (size_t)dims[d];
		}
		t->bytes = t->count * 4;
		return 0;
	}
	return prep_expect_shape(p, t, rank, dims);
}

int prep_detect(prep *p)
{
	mnv2_tensor *boxes, *scores, *anchors;
	/* Attached post-processing (mnv2/ssd.h) comes with its parameters set. */
	int preset = p->op->detect != NULL;
	mnv2_detect_params *d = preset ? p->op->detect : calloc(1, sizeof *d);
	if (!d)
		return prep_fail(p, "out of memory");
	p->op->detect = d;
	if (prep_io_count(p, 3, 3, 4) || (!preset && read_options(p, d)) || !(boxes = prep_in(p, 0)) ||
	    !(scores = prep_in(p, 1)) || !(anchors = prep_in(p, 2)) ||
	    input_dq(p, boxes, &d->boxes) || input_dq(p, scores, &d->scores))
		return -1;
	if (boxes->rank != 3 || boxes->dims[0] != 1 || boxes->dims[2] < 4 || boxes->dims[2] != 4)
		return prep_fail(p, "box encodings '%s' must be [1,N,4]", boxes->name);
	int n = boxes->dims[1];
	if (scores->rank != 3 || scores->dims[0] != 1 || scores->dims[1] != n ||
	    scores->dims[2] < d->num_classes || scores->dims[2] > d->num_classes + 1)
		return prep_fail(p, "class scores '%s' must be [1,%d,%d or %d]", scores->name, n,
				 d->num_classes, d->num_classes + 1);
	if (n < 1 || n > (1 << 20))
		return prep_fail(p, "%d anchors is out of range", n);
	d->num_boxes = n;
	d->label_offset = scores->dims[2] - d->num_classes;
	if (d->max_classes_per_detection > d->num_classes)
		d->max_classes_per_detection = d->num_classes;
	if (anchors_prepare(p, anchors, n))
		return -1;
	d->anchors = p->op->anchors;
	d->out_rows = d->max_detections * d->max_classes_per_detection;
	int32_t b[3] = { 1, d->out_rows, 4 }, r[2] = { 1, d->out_rows }, one[1] = { 1 };
	if (set_output(p, 0, 3, b) || set_output(p, 1, 2, r) || set_output(p, 2, 2, r) ||
	    set_output(p, 3, 1, one))
		return -1;
	p->op->kind = MNV2_OP_DETECT;
	p->op->scratch_bytes = mnv2_detect_scratch_bytes(d);
	p->op->macs = (uint64_t)n * (uint64_t)scores->dims[2];
	return 0;
}
