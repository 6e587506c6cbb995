/* ssd_anchors — the SSD anchor generator; see mnv2/ssd.h. */
#include "mnv2/ssd.h"
#include "model.h"

#include <math.h>

void mnv2_ssd_options_default(mnv2_ssd_options *o)
{
	*o = (mnv2_ssd_options){
		.num_layers = 6, .min_scale = 0.2f, .max_scale = 0.95f,
		.aspect_ratios = { 1.0f, 2.0f, 0.5f, 3.0f, 1.0f / 3.0f }, .num_aspect_ratios = 5,
		.interpolated_scale_aspect_ratio = 1.0f, .reduce_boxes_in_lowest_layer = 1,
		.y_scale = 10, .x_scale = 10, .h_scale = 5, .w_scale = 5,
		.nms_iou_threshold = 0.6f, .nms_score_threshold = 1e-8f, .max_detections = 100,
		.max_classes_per_detection = 1, .detections_per_class = 100,
	};
}

static int check(const mnv2_ssd_options *o, mnv2_error *err)
{
	if (o->num_layers < 1 || o->num_layers > MNV2_SSD_MAX_LAYERS)
		return mnv2_fail(err, "ssd anchors: num_layers %d outside 1..%d", o->num_layers,
				 MNV2_SSD_MAX_LAYERS);
	if (!(o->min_scale > 0 && o->max_scale >= o->min_scale && o->max_scale <= 10))
		return mnv2_fail(err, "ssd anchors: scales %g..%g are invalid", (double)o->min_scale,
				 (double)o->max_scale);
	if (o->num_aspect_ratios < 1 || o->num_aspect_ratios > MNV2_SSD_MAX_RATIOS)
		return mnv2_fail(err, "ssd anchors: %d aspect ratios (1..%d)", o->num_aspect_ratios,
				 MNV2_SSD_MAX_RATIOS);
	for (int i = 0; i < o->num_aspect_ratios; i++)
		if (!(o->aspect_ratios[i] > 0 && o->aspect_ratios[i] < 100))
			return mnv2_fail(err, "ssd anchors: aspect ratio %g is invalid",
					 (double)o->aspect_ratios[i]);
	for (int i = 0; i < o->num_layers; i++)
		if (o->feature_map_sizes[i] < 0 || o->feature_map_sizes[i] > 4096)
			return mnv2_fail(err, "ssd anchors: feature map size %d is invalid",
					 o->feature_map_sizes[i]);
	return 0;
}

/* The (scale, aspect) pairs of one layer; returns how many. */
static int layer_specs(const mnv2_ssd_options *o, int layer, double scale, double next,
		       double *s, double *a)
{
	int n = 0;
	if (layer == 0 && o->reduce_boxes_in_lowest_layer) {
		s[0] = 0.1, a[0] = 1.0;
		s[1] = scale, a[1] = 2.0;
		s[2] = scale, a[2] = 0.5;
		return 3;
	}
	for (int i = 0; i < o->num_aspect_ratios; i++, n++)
		s[n] = scale, a[n] = o->aspect_ratios[i];
	if (o->interpolated_scale_aspect_ratio > 0) {
		s[n] = sqrt(scale * next);
		a[n++] = o->interpolated_scale_aspect_ratio;
	}
	return n;
}

long mnv2_ssd_anchors(const mnv2_ssd_options *o, int in_h, int in_w, float *out, long max,
		      mnv2_error *err)
{
	if (check(o, err))
		return -1;
	long n = 0;
	for (int l = 0; l < o->num_layers; l++) {
		double denom = o->num_layers > 1 ? o->num_layers - 1 : 1;
		double scale = o->min_scale + (o->max_scale - o->min_scale) * l / denom;
		double next = l + 1 < o->num_layers
				      ? o->min_scale + (o->max_scale - o->min_scale) * (l + 1) / denom
				      : 1.0;
		double s[MNV2_SSD_MAX_RATIOS + 1], a[MNV2_SSD_MAX_RATIOS + 1];
		int k = layer_specs(o, l, scale, next, s, a);
		int fh = o->feature_map_sizes[l], fw = fh;
		if (fh == 0) {
			fh = (int)ceil(in_h / (double)(1 << (4 + l)));
			fw = (int)ceil(in_w / (double)(1 << (4 + l)));
		}
		for (int y = 0; y < fh; y++)
			for (int x = 0; x < fw; x++)
				for (int b = 0; b < k; b++, n++) {
					if (n >= max)
						continue;
					float sq = sqrtf((float)a[b]);
					float *anc = &out[4 * n];
					anc[0] = (float)y * (1.0f / fh) + 0.5f / fh;
					anc[1] = (float)x * (1.0f / fw) + 0.5f / fw;
					anc[2] = (float)s[b] / sq;
					anc[3] = (float)s[b] * sq;
				}
	}
	return n;
}
