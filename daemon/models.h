/* models — the registry of loaded models as an immutable, reference-counted "model set".
 *
 * Contract:
 *  - mnv2d_modelset_load() loads every model of a configuration (the engine maps the file;
 *    a model with ssd_anchors gets the engine's anchor decoder and NMS attached), its labels (a label file when configured, else labels packed in the model), decides
 *    its kind (configured, or from its outputs when "auto") and fills in the per-model
 *    defaults. It also creates one inference context per (worker, model), so a worker never
 *    allocates an arena while serving, with its persistent intra-op thread pool. Any failure fails the whole set, with a message
 *    naming the model and the reason; nothing is half-loaded.
 *  - A set never changes after loading. It is shared by reference: the loop thread takes
 *    a reference for each queued request, so a later hot reload can swap in a new set while
 *    requests in flight finish on the old one; the last mnv2d_modelset_unref() frees it.
 *    Refcounting is atomic; everything else is read-only and thread-safe to read.
 *  - Per-model statistics (stats.h) live in the set and are thread-safe.
 *  - Worker w may use only mnv2d_modelset_context(set, w, i); contexts are not shared. */
#ifndef MNV2D_MODELS_H
#define MNV2D_MODELS_H

#include "labels.h"
#include "mnv2/config.h"
#include "mnv2/engine.h"
#include "mnv2/preprocess.h"
#include "mnv2/ssd.h"
#include "mnv2/tasks.h"
#include "stats.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mnv2d_model {
	char *name;
	char *path;
	mnv2_task kind;               /* MNV2_TASK_CLASSIFIER or MNV2_TASK_DETECTOR */
	mnv2_model *model;
	mnv2_labels labels;           /* from a label file; n = 0 when packed or none */
	mnv2_tensor_info input;       /* [1,H,W,3] */
	size_t outputs;               /* classes (classifier) or detection rows (detector) */
	/* defaults for options a request leaves at zero */
	unsigned top_k;
	float score_threshold;
	unsigned max_detections;      /* 0: all the model gives */
	mnv2_resize_mode resize;
	mnv2_resize_filter filter;
	uint64_t load_us;
	mnv2d_stats stats;
	int stats_ready;              /* stats initialised (to be destroyed) */
} mnv2d_model;

typedef struct mnv2d_modelset {
	atomic_uint refs;
	uint64_t generation;
	size_t n;
	mnv2d_model *models;
	size_t workers;
	unsigned intra;               /* threads inside one inference (budget.h) */
	mnv2_context **ctx;           /* [worker * n + model] */
} mnv2d_modelset;

/* Loads cfg's models with contexts for `workers` workers (0 is fine: a config check), each
 * running one inference on `intra` threads (0 or 1: the worker alone). Returns the set
 * with one reference, or NULL with a message in err. */
mnv2d_modelset *mnv2d_modelset_load(const mnv2_config *cfg, size_t workers, unsigned intra,
				    uint64_t generation, char *err, size_t errlen);
mnv2d_modelset *mnv2d_modelset_ref(mnv2d_modelset *s);
void mnv2d_modelset_unref(mnv2d_modelset *s);   /* NULL is fine */

/* Index of the model named `name`, or of the first model of `kind` when name is NULL or
 * empty; -1 when there is none. */
long mnv2d_modelset_find(const mnv2d_modelset *s, const char *name, mnv2_task kind);
mnv2_context *mnv2d_modelset_context(const mnv2d_modelset *s, size_t worker, size_t model);

/* Label of class i: the label file's line, else the label packed in the model, else "". */
const char *mnv2d_model_label(const mnv2d_model *m, size_t i);
size_t mnv2d_model_num_labels(const mnv2d_model *m);

#endif
