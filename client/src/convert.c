/* libmnv2client: decoded Response -> plain C structs (deep copies), and their frees.
 * Every converter leaves its output complete or frees what it built; free functions accept
 * partially built objects (NULL members) and NULL. */
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

/* calloc for n elements, valid (non-NULL) also for n == 0. */
static void *alloc_array(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static void copy_timing(mnv2c_timing *t, const Mnv2__Timing *m)
{
	memset(t, 0, sizeof *t);
	if (!m)
		return;
	t->queue_us = m->queue_us;
	t->decode_us = m->decode_us;
	t->preprocess_us = m->preprocess_us;
	t->inference_us = m->inference_us;
	t->postprocess_us = m->postprocess_us;
	t->total_us = m->total_us;
}

static void copy_box(mnv2c_box *b, const Mnv2__Box *m)
{
	memset(b, 0, sizeof *b);
	if (!m)
		return;
	b->xmin = m->xmin;
	b->ymin = m->ymin;
	b->xmax = m->xmax;
	b->ymax = m->ymax;
}

void mnv2c_classify_result_free(mnv2c_classify_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->classes && i < r->n_classes; i++)
		free(r->classes[i].label);
	free(r->classes);
	free(r->model);
	free(r);
}

static mnv2c_classify_result *conv_classify(const Mnv2__ClassifyResult *m)
{
	mnv2c_classify_result *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->model = dup_str(m->model);
	r->classes = alloc_array(m->n_classes, sizeof *r->classes);
	if (!r->model || !r->classes)
		goto fail;
	for (size_t i = 0; i < m->n_classes; i++, r->n_classes++) {
		const Mnv2__Class *mc = m->classes[i];
		mnv2c_class *cl = &r->classes[i];
		cl->index = mc->index;
		cl->score = mc->score;
		if (!(cl->label = dup_str(mc->label)))
			goto fail;
	}
	return r;
fail:
	mnv2c_classify_result_free(r);
	return NULL;
}

void mnv2c_detect_result_free(mnv2c_detect_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->detections && i < r->n_detections; i++)
		free(r->detections[i].label);
	free(r->detections);
	free(r->model);
	free(r);
}

static mnv2c_detect_result *conv_detect(const Mnv2__DetectResult *m)
{
	mnv2c_detect_result *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->model = dup_str(m->model);
	r->detections = alloc_array(m->n_detections, sizeof *r->detections);
	if (!r->model || !r->detections)
		goto fail;
	r->image_width = m->image_width;
	r->image_height = m->image_height;
	for (size_t i = 0; i < m->n_detections; i++, r->n_detections++) {
		const Mnv2__Detection *md = m->detections[i];
		mnv2c_detection *d = &r->detections[i];
		d->class_id = md->class_id;
		d->score = md->score;
		copy_box(&d->box, md->box);
		copy_box(&d->box_normalized, md->box_normalized);
		if (!(d->label = dup_str(md->label)))
			goto fail;
	}
	return r;
fail:
	mnv2c_detect_result_free(r);
	return NULL;
}

static void free_model_infos(mnv2c_model_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		free(v[i].description);
	}
	free(v);
}

/* Copies n infos into *out (count of fully built ones in *n_out). 0 or -1. */
static int conv_model_infos(Mnv2__ModelInfo *const *m, size_t n, mnv2c_model_info **out,
			    size_t *n_out)
{
	*n_out = 0;
	if (!(*out = alloc_array(n, sizeof **out)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const Mnv2__ModelInfo *mi = m[i];
		mnv2c_model_info *o = &(*out)[i];
		o->kind = (mnv2c_model_kind)mi->kind;
		o->input_width = mi->input_width;
		o->input_height = mi->input_height;
		o->macs = mi->macs;
		o->parameter_bytes = mi->parameter_bytes;
		o->arena_bytes = mi->arena_bytes;
		o->load_time_us = mi->load_time_us;
		o->num_labels = mi->num_labels;
		o->name = dup_str(mi->name);
		o->path = dup_str(mi->path);
		o->description = dup_str(mi->description);
		++*n_out; /* counted now so that a failure frees this entry's strings too */
		if (!o->name || !o->path || !o->description)
			return -1;
	}
	return 0;
}

void mnv2c_model_list_free(mnv2c_model_list *r)
{
	if (!r)
		return;
	free_model_infos(r->models, r->n_models);
	free(r);
}

static mnv2c_model_list *conv_models(const Mnv2__ListModelsResult *m)
{
	mnv2c_model_list *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (conv_model_infos(m->models, m->n_models, &r->models, &r->n_models) != 0) {
		mnv2c_model_list_free(r);
		return NULL;
	}
	return r;
}

static void free_stats(mnv2c_model_stats *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].responses);
		for (size_t j = 0; v[i].latency && j < v[i].n_latency; j++)
			free(v[i].latency[j].stage);
		free(v[i].latency);
	}
	free(v);
}

void mnv2c_server_status_free(mnv2c_server_status *r)
{
	if (!r)
		return;
	free(r->version);
	free_model_infos(r->models, r->n_models);
	free_stats(r->stats, r->n_stats);
	free(r);
}

static int conv_one_stats(const Mnv2__ModelStats *m, mnv2c_model_stats *o)
{
	o->requests = m->requests;
	o->name = dup_str(m->name);
	o->responses = alloc_array(m->n_responses, sizeof *o->responses);
	o->latency = alloc_array(m->n_latency, sizeof *o->latency);
	if (!o->name || !o->responses || !o->latency)
		return -1;
	for (size_t i = 0; i < m->n_responses; i++) {
		o->responses[i].status = (int)m->responses[i]->status;
		o->responses[i].count = m->responses[i]->count;
	}
	o->n_responses = m->n_responses;
	for (size_t i = 0; i < m->n_latency; i++, o->n_latency++) {
		const Mnv2__StageLatency *ml = m->latency[i];
		o->latency[i].p50_us = ml->p50_us;
		o->latency[i].p90_us = ml->p90_us;
		o->latency[i].p99_us = ml->p99_us;
		if (!(o->latency[i].stage = dup_str(ml->stage)))
			return -1;
	}
	return 0;
}

static mnv2c_server_status *conv_status(const Mnv2__StatusResult *m)
{
	mnv2c_server_status *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->uptime_s = m->uptime_s;
	r->queue_depth = m->queue_depth;
	r->queue_capacity = m->queue_capacity;
	r->queue_high_water = m->queue_high_water;
	r->connections = m->connections;
	r->threads = m->threads;
	r->intra_op_threads = m->intra_op_threads;
	r->cpu_budget = m->cpu_budget;
	r->max_inflight_per_connection = m->max_inflight_per_connection;
	r->generation = m->generation;
	if (!(r->version = dup_str(m->version)) ||
	    conv_model_infos(m->models, m->n_models, &r->models, &r->n_models) != 0 ||
	    !(r->stats = alloc_array(m->n_stats, sizeof *r->stats)))
		goto fail;
	for (size_t i = 0; i < m->n_stats; i++) {
		r->n_stats++; /* counted first so that a failure frees this entry */
		if (conv_one_stats(m->stats[i], &r->stats[i]) != 0)
			goto fail;
	}
	return r;
fail:
	mnv2c_server_status_free(r);
	return NULL;
}

void mnv2c_reload_result_free(mnv2c_reload_result *r)
{
	free(r);
}

void mnv2c_response_free(mnv2c_response *r)
{
	if (!r)
		return;
	free(r->message);
	mnv2c_classify_result_free(r->classify);
	mnv2c_detect_result_free(r->detect);
	mnv2c_server_status_free(r->server_status);
	mnv2c_model_list_free(r->models);
	mnv2c_reload_result_free(r->reload);
	free(r);
}

Mnv2__Response__ResultCase mnv2c__result_case(mnv2c_request_kind kind)
{
	switch (kind) {
	case MNV2C_REQ_CLASSIFY: return MNV2__RESPONSE__RESULT_CLASSIFY;
	case MNV2C_REQ_DETECT: return MNV2__RESPONSE__RESULT_DETECT;
	case MNV2C_REQ_STATUS: return MNV2__RESPONSE__RESULT_STATUS_RESULT;
	case MNV2C_REQ_LIST_MODELS: return MNV2__RESPONSE__RESULT_MODELS;
	case MNV2C_REQ_RELOAD: return MNV2__RESPONSE__RESULT_RELOAD;
	}
	return MNV2__RESPONSE__RESULT__NOT_SET;
}

/* The result for an OK response; the caller checked that the case matches kind. */
static int conv_result(const Mnv2__Response *m, mnv2c_response *r)
{
	switch (m->result_case) {
	case MNV2__RESPONSE__RESULT_CLASSIFY:
		if (!(r->classify = conv_classify(m->classify)))
			return -1;
		r->classify->timing = r->timing;
		return 0;
	case MNV2__RESPONSE__RESULT_DETECT:
		if (!(r->detect = conv_detect(m->detect)))
			return -1;
		r->detect->timing = r->timing;
		return 0;
	case MNV2__RESPONSE__RESULT_STATUS_RESULT:
		return (r->server_status = conv_status(m->status_result)) ? 0 : -1;
	case MNV2__RESPONSE__RESULT_MODELS:
		return (r->models = conv_models(m->models)) ? 0 : -1;
	case MNV2__RESPONSE__RESULT_RELOAD:
		if (!(r->reload = calloc(1, sizeof *r->reload)))
			return -1;
		r->reload->generation = m->reload->generation;
		r->reload->models = m->reload->models;
		return 0;
	default:
		return 0;
	}
}

mnv2c_code mnv2c__convert_response(const Mnv2__Response *m, mnv2c_request_kind kind,
				   mnv2c_response **out, mnv2c_error *err)
{
	mnv2c_response *r = calloc(1, sizeof *r);
	*out = NULL;
	if (!r || !(r->message = dup_str(m->message))) {
		free(r);
		return mnv2c__fail(err, MNV2C_ERR_NOMEM, 0, "out of memory copying a response");
	}
	r->request_id = m->request_id;
	r->kind = kind;
	r->status = (int)m->status;
	copy_timing(&r->timing, m->timing);
	if (m->status == MNV2__STATUS_CODE__STATUS_OK && conv_result(m, r) != 0) {
		mnv2c_response_free(r);
		return mnv2c__fail(err, MNV2C_ERR_NOMEM, 0, "out of memory copying a response");
	}
	*out = r;
	return MNV2C_OK;
}
