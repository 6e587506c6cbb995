/* mnv2/ssd — SSD models without TFLite_Detection_PostProcess: generate the anchors the
 * model was trained with and attach the same box decoder and NMS to the graph at load.
 *
 * Anchors follow the TF Object Detection API's ssd_anchor_generator: layer i of n has scale
 * s_i = min + (max - min) * i / (n - 1) (s_n = 1); its boxes are one per aspect ratio a
 * (height s/sqrt(a), width s*sqrt(a)) plus one of scale sqrt(s_i * s_i+1) and aspect
 * `interpolated_scale_aspect_ratio`; with reduce_boxes_in_lowest_layer, layer 0 has just
 * (0.1, 1), (s_0, 2), (s_0, 0.5). Layer i tiles a grid of size f_i (feature_map_sizes, or
 * ceil(input / 2^(4+i)) when not given) with centres (k + 0.5) / f_i, row-major, boxes of
 * one cell consecutive. Anchors are (ycenter, xcenter, height, width), normalized. */
#ifndef MNV2_SSD_H
#define MNV2_SSD_H

#include "mnv2/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MNV2_SSD_MAX_LAYERS 8
#define MNV2_SSD_MAX_RATIOS 8

typedef struct mnv2_ssd_options {
	int num_layers;                  /* 1..8, default 6 */
	float min_scale, max_scale;      /* default 0.2, 0.95 */
	float aspect_ratios[MNV2_SSD_MAX_RATIOS];
	int num_aspect_ratios;           /* default 5: 1, 2, 0.5, 3, 1/3 */
	float interpolated_scale_aspect_ratio; /* default 1; <= 0 leaves that box out */
	int reduce_boxes_in_lowest_layer;      /* default 1 */
	int feature_map_sizes[MNV2_SSD_MAX_LAYERS]; /* 0: derived from the input size */
	float y_scale, x_scale, h_scale, w_scale;   /* default 10, 10, 5, 5 */
	float nms_iou_threshold;         /* default 0.6 */
	float nms_score_threshold;       /* default 1e-8 */
	int max_detections;              /* default 100 */
	int max_classes_per_detection;   /* default 1 */
	int use_regular_nms;             /* default 0 */
	int detections_per_class;        /* default 100 */
	int scores_are_logits;           /* 1: apply the sigmoid to the class scores */
	int no_background;               /* 1: score column 0 is a real class, not background */
} mnv2_ssd_options;

typedef struct mnv2_load_options {
	const mnv2_ssd_options *ssd;     /* attach SSD post-processing (raw SSD graphs) */
	mnv2_plan_mode plan;             /* memory plan (mnv2/engine.h); 0: the default */
	int tile_rows;                   /* fused plan: output rows per tile, 0: chosen at load
					  * (per chain, from a row-buffer budget); 1..4096 */
} mnv2_load_options;

void mnv2_ssd_options_default(mnv2_ssd_options *o);

/* Writes up to max anchors (4 floats each) for an input of in_h x in_w; returns the
 * number of anchors the options describe (which may exceed max), or -1 with err. */
long mnv2_ssd_anchors(const mnv2_ssd_options *o, int in_h, int in_w, float *out, long max,
		      mnv2_error *err);

mnv2_model *mnv2_model_load_ex(const char *path, const mnv2_load_options *opts,
			       mnv2_error *err);
mnv2_model *mnv2_model_load_buffer_ex(const void *data, size_t size, const char *name,
				      int keep, const mnv2_load_options *opts, mnv2_error *err);

#ifdef __cplusplus
}
#endif
#endif
