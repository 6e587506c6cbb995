/* detect — SSD box decoding and non-maximum suppression, the semantics of TFLite's
 * TFLite_Detection_PostProcess operator.
 *
 *  - inputs are dequantized as (q - zp) * scale in float32;
 *  - center-size boxes decode in double and round to float32 per component:
 *      yc = ty/y_scale*ha + ya, xc = tx/x_scale*wa + xa,
 *      hh = 0.5*exp(th/h_scale)*ha, hw = 0.5*exp(tw/w_scale)*wa,
 *    then [yc-hh, xc-hw, yc+hh, xc+hw] in float32;
 *  - fast NMS: each anchor keeps its best non-background classes (ties: lower class index),
 *    candidates with score >= threshold are stably sorted by decreasing score, greedy NMS
 *    with IoU > threshold where only kept boxes suppress;
 *  - regular NMS: the same single-class NMS per class (detections_per_class each), merged
 *    with a stable sort by decreasing score and cut at max_detections.
 * Rows past the detection count are zero. Needs no allocation: the caller provides scratch
 * of mnv2_detect_scratch_bytes(). */
#ifndef MNV2_DETECT_H
#define MNV2_DETECT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mnv2_dq {        /* how to read one 8-bit or float input */
	int type;               /* MNV2_UINT8, MNV2_INT8 or MNV2_FLOAT32 */
	int32_t zp;
	float scale;
} mnv2_dq;

typedef struct mnv2_detect_params {
	int num_boxes, num_classes, label_offset; /* scores row = label_offset + num_classes */
	int max_detections, max_classes_per_detection, detections_per_class;
	int use_regular_nms;
	float score_threshold, iou_threshold;
	float y_scale, x_scale, h_scale, w_scale;
	const float *anchors;   /* [num_boxes][4]: ycenter, xcenter, h, w */
	mnv2_dq boxes, scores;
	int out_rows;           /* rows of the output tensors */
	int scores_are_logits;  /* apply 1/(1+exp(-x)) to each class score first */
} mnv2_detect_params;

size_t mnv2_detect_scratch_bytes(const mnv2_detect_params *p);
/* 0 on success; -1 (with the anchor index in *bad_box) when a decoded box is inverted
 * or not a number. */
int mnv2_detect(const mnv2_detect_params *p, const void *boxes, const void *scores,
		void *scratch, float *out_boxes, float *out_classes, float *out_scores,
		float *out_count, int *bad_box);

#endif
