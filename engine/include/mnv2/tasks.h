/* mnv2/tasks — what a model's outputs mean: classification top-K and detection lists in
 * the original image's coordinates. Works on a context after mnv2_context_run(). */
#ifndef MNV2_TASKS_H
#define MNV2_TASKS_H

#include "mnv2/engine.h"
#include "mnv2/preprocess.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mnv2_task {
	MNV2_TASK_UNKNOWN = 0,
	MNV2_TASK_CLASSIFIER = 1,  /* one output [1,N] (or [1,1,1,N]) of class scores */
	MNV2_TASK_DETECTOR = 2,    /* SSD post-processed: boxes, classes, scores, count */
} mnv2_task;

mnv2_task mnv2_model_task(const mnv2_model *m);
const char *mnv2_task_name(mnv2_task t);

typedef struct mnv2_class_score {
	uint32_t index;
	float score;       /* dequantized */
} mnv2_class_score;

/* The k best classes of output 0 scoring >= min_score, best first (ties: lower index).
 * Returns how many were written to out (at most k). */
size_t mnv2_top_k(const mnv2_context *c, size_t k, float min_score, mnv2_class_score *out);

typedef struct mnv2_detection {
	uint32_t class_id;
	float score;
	float ymin, xmin, ymax, xmax;  /* model output, normalized to the model input */
	float px_xmin, px_ymin, px_xmax, px_ymax; /* original image pixels, clipped */
} mnv2_detection;

/* Detections scoring >= min_score, in the model's order (best first), at most max.
 * tf maps model coordinates to the image (NULL: pixels equal normalized values). */
size_t mnv2_detections(const mnv2_context *c, const mnv2_transform *tf, float min_score,
		       size_t max, mnv2_detection *out);

#ifdef __cplusplus
}
#endif
#endif
