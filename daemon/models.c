/* models — see models.h. */
#include "models.h"

#include "clock.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOP_K 5
#define DEFAULT_CLASSIFIER_THRESHOLD 0.0f
#define DEFAULT_DETECTOR_THRESHOLD 0.3f

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	return d ? memcpy(d, s, n) : NULL;
}

static void model_free(mnv2d_model *m)
{
	free(m->name);
	free(m->path);
	mnv2_model_free(m->model);
	mnv2_labels_free(&m->labels);
	if (m->stats_ready)
		mnv2d_stats_destroy(&m->stats);
}

/* Decides the kind: the configured one must match what the outputs say. */
static int resolve_kind(mnv2d_model *m, const mnv2_model_cfg *c, char *err, size_t errlen)
{
	mnv2_task t = mnv2_model_task(m->model);
	mnv2_task want = c->kind == MNV2_CFG_KIND_CLASSIFIER ? MNV2_TASK_CLASSIFIER
		       : c->kind == MNV2_CFG_KIND_DETECTOR  ? MNV2_TASK_DETECTOR
							    : t;
	if (t == MNV2_TASK_UNKNOWN)
		return fail(err, errlen,
			    "model '%s' (%s): its outputs are neither a classifier's (one [1,N] "
			    "score tensor) nor a post-processed detector's (boxes, classes, "
			    "scores, count)", c->name, c->path);
	if (want != t)
		return fail(err, errlen, "model '%s' (%s) is configured as a %s but its outputs "
			    "are a %s's", c->name, c->path, mnv2_task_name(want), mnv2_task_name(t));
	m->kind = t;
	return 0;
}

/* Input [1,H,W,3] and the size of the output the tasks read. */
static int shapes(mnv2d_model *m, char *err, size_t errlen)
{
	mnv2_tensor_info out;
	if (mnv2_model_num_inputs(m->model) != 1 || mnv2_model_input_info(m->model, 0, &m->input) ||
	    m->input.rank != 4 || m->input.dims[0] != 1 || m->input.dims[3] != 3 ||
	    m->input.dims[1] < 1 || m->input.dims[2] < 1)
		return fail(err, errlen, "model '%s' (%s): expected one [1,H,W,3] image input",
			    m->name, m->path);
	if (mnv2_model_output_info(m->model, 0, &out))
		return fail(err, errlen, "model '%s': no output", m->name);
	m->outputs = m->kind == MNV2_TASK_DETECTOR ? (size_t)out.dims[1]
						   : (size_t)out.dims[out.rank - 1];
	return 0;
}

static void defaults(mnv2d_model *m, const mnv2_model_cfg *c)
{
	m->top_k = c->top_k > 0 ? (unsigned)c->top_k : DEFAULT_TOP_K;
	if (c->score_threshold >= 0)
		m->score_threshold = c->score_threshold;
	else
		m->score_threshold = m->kind == MNV2_TASK_DETECTOR ? DEFAULT_DETECTOR_THRESHOLD
								   : DEFAULT_CLASSIFIER_THRESHOLD;
	m->max_detections = c->max_detections > 0 ? (unsigned)c->max_detections : 0;
	m->resize = c->resize == MNV2_RESIZE_LETTERBOX	 ? MNV2_RESIZE_LETTERBOX
		  : c->resize == MNV2_RESIZE_CENTER_CROP ? MNV2_RESIZE_CENTER_CROP
							 : MNV2_RESIZE_STRETCH;
	m->filter = c->resize_filter == MNV2_FILTER_BILINEAR ? MNV2_FILTER_BILINEAR
							     : MNV2_FILTER_ANTIALIAS;
}

/* The configuration's ssd_anchors (defaults filled in by the parser) for the engine. */
static const mnv2_ssd_options *ssd_options(const mnv2_ssd_anchors_cfg *c, mnv2_ssd_options *o)
{
	mnv2_ssd_options_default(o);
	o->num_layers = c->num_layers;
	o->min_scale = c->min_scale;
	o->max_scale = c->max_scale;
	o->num_aspect_ratios = c->num_aspect_ratios < MNV2_SSD_MAX_RATIOS ? c->num_aspect_ratios
									   : MNV2_SSD_MAX_RATIOS;
	for (int i = 0; i < o->num_aspect_ratios; i++)
		o->aspect_ratios[i] = c->aspect_ratios[i];
	o->interpolated_scale_aspect_ratio = c->interpolated_scale_aspect_ratio;
	o->reduce_boxes_in_lowest_layer = c->reduce_boxes_in_lowest_layer;
	for (int i = 0; i < MNV2_SSD_MAX_LAYERS; i++)
		o->feature_map_sizes[i] = i < c->num_feature_maps ? c->feature_map_sizes[i] : 0;
	o->y_scale = c->y_scale;
	o->x_scale = c->x_scale;
	o->h_scale = c->h_scale;
	o->w_scale = c->w_scale;
	o->nms_iou_threshold = c->nms_iou_threshold;
	o->nms_score_threshold = c->nms_score_threshold;
	o->max_detections = c->max_detections;
	o->max_classes_per_detection = c->max_classes_per_detection;
	o->use_regular_nms = c->use_regular_nms;
	o->detections_per_class = c->detections_per_class;
	o->scores_are_logits = c->scores_are_logits;
	o->no_background = c->no_background;
	return o;
}

static int model_load(mnv2d_model *m, const mnv2_model_cfg *c, char *err, size_t errlen)
{
	mnv2_error e = { { 0 } };
	int64_t t0 = mnv2d_now_us();
	if (mnv2d_stats_init(&m->stats))
		return fail(err, errlen, "model '%s': cannot create its statistics", c->name);
	m->stats_ready = 1;
	if (!(m->name = dup_str(c->name)) || !(m->path = dup_str(c->path)))
		return fail(err, errlen, "out of memory");
	mnv2_ssd_options ssd;
	mnv2_load_options lo = { .ssd = c->ssd.enabled ? ssd_options(&c->ssd, &ssd) : NULL,
				 .plan = (mnv2_plan_mode)c->plan };
	if (!(m->model = mnv2_model_load_ex(c->path, &lo, &e)))
		return fail(err, errlen, "model '%s': %s", c->name, e.msg);
	if (resolve_kind(m, c, err, errlen) || shapes(m, err, errlen))
		return -1;
	if (c->labels) {
		char lerr[256];
		if (mnv2_labels_load(c->labels, &m->labels, lerr, sizeof lerr))
			return fail(err, errlen, "model '%s': labels: %s", c->name, lerr);
	}
	defaults(m, c);
	m->load_us = mnv2d_elapsed_us(t0, mnv2d_now_us());
	return 0;
}

static int contexts(mnv2d_modelset *s, char *err, size_t errlen)
{
	if (!s->workers)
		return 0;
	if (!(s->ctx = calloc(s->workers * s->n, sizeof *s->ctx)))
		return fail(err, errlen, "out of memory");
	for (size_t w = 0; w < s->workers; w++) {
		for (size_t i = 0; i < s->n; i++) {
			mnv2_error e = { { 0 } };
			mnv2_context *ctx = mnv2_context_create(s->models[i].model, &e);
			s->ctx[w * s->n + i] = ctx;
			if (!ctx)
				return fail(err, errlen, "model '%s': context for worker %zu: %s",
					    s->models[i].name, w, e.msg);
			if (s->intra > 1 && mnv2_context_set_threads(ctx, (int)s->intra, &e))
				return fail(err, errlen, "model '%s': %u intra-op threads for worker "
					    "%zu: %s", s->models[i].name, s->intra, w, e.msg);
		}
	}
	return 0;
}

static void set_free(mnv2d_modelset *s)
{
	if (s->ctx)
		for (size_t i = 0; i < s->workers * s->n; i++)
			mnv2_context_free(s->ctx[i]);
	free(s->ctx);
	for (size_t i = 0; i < s->n; i++)
		model_free(&s->models[i]);
	free(s->models);
	free(s);
}

mnv2d_modelset *mnv2d_modelset_load(const mnv2_config *cfg, size_t workers, unsigned intra,
				    uint64_t generation, char *err, size_t errlen)
{
	mnv2d_modelset *s = calloc(1, sizeof *s);
	if (!s) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->generation = generation;
	s->workers = workers;
	s->intra = intra ? intra : 1;
	if (!cfg->n_models) {
		fail(err, errlen, "no models configured");
		free(s);
		return NULL;
	}
	if (!(s->models = calloc(cfg->n_models, sizeof *s->models))) {
		fail(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_models; i++) {
		s->n = i + 1;   /* model i is freed by set_free() even when it fails half-way */
		if (model_load(&s->models[i], &cfg->models[i], err, errlen)) {
			set_free(s);
			return NULL;
		}
	}
	if (contexts(s, err, errlen)) {
		set_free(s);
		return NULL;
	}
	return s;
}

mnv2d_modelset *mnv2d_modelset_ref(mnv2d_modelset *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void mnv2d_modelset_unref(mnv2d_modelset *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		set_free(s);
#ifdef __GLIBC__
		/* A set is megabytes of arenas and packed weights, allocated on the reload
		 * thread and freed here on another: give glibc's arenas back to the system,
		 * or RSS climbs with every reload (docs/security.md, "Memory after reloads") */
		malloc_trim(0);
#endif
	}
}

long mnv2d_modelset_find(const mnv2d_modelset *s, const char *name, mnv2_task kind)
{
	for (size_t i = 0; i < s->n; i++) {
		if (name && *name ? !strcmp(s->models[i].name, name) : s->models[i].kind == kind)
			return (long)i;
	}
	return -1;
}

mnv2_context *mnv2d_modelset_context(const mnv2d_modelset *s, size_t worker, size_t model)
{
	return worker < s->workers && model < s->n ? s->ctx[worker * s->n + model] : NULL;
}

size_t mnv2d_model_num_labels(const mnv2d_model *m)
{
	return m->labels.n ? m->labels.n : mnv2_model_num_labels(m->model);
}

const char *mnv2d_model_label(const mnv2d_model *m, size_t i)
{
	const char *l = NULL;
	if (m->labels.n)
		l = i < m->labels.n ? m->labels.line[i] : NULL;
	else if (i < mnv2_model_num_labels(m->model))
		l = mnv2_model_label(m->model, i);
	return l ? l : "";
}
