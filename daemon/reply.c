/* reply — see reply.h. */
#include "reply.h"

#include "framing.h"

#include <stdlib.h>
#include <string.h>

#define PROTOCOL_VERSION 1

const char *mnv2d_status_name(unsigned status)
{
	static const char *const names[] = {
		"OK", "INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "UNAVAILABLE", "INTERNAL",
	};
	return status < sizeof names / sizeof names[0] ? names[status] : "UNKNOWN";
}

void mnv2d_reply_init(Mnv2__Response *r, uint64_t request_id, unsigned status,
		      const char *message, Mnv2__Timing *timing)
{
	mnv2__response__init(r);
	r->version = PROTOCOL_VERSION;
	r->request_id = request_id;
	r->status = (Mnv2__StatusCode)status;
	/* protobuf-c's string fields are not const; packing only reads them */
	r->message = (char *)(message ? message : "");
	r->timing = timing;
}

int mnv2d_reply_error(uint64_t request_id, unsigned status, const char *message,
		      uint8_t **frame, size_t *len)
{
	Mnv2__Response r;
	mnv2d_reply_init(&r, request_id, status, message, NULL);
	return mnv2d_frame_pack(&r.base, frame, len);
}

/* ModelInfo of every model in the set, in arrays the caller frees with free(). */
typedef struct info_list {
	Mnv2__ModelInfo *info;
	Mnv2__ModelInfo **ptr;
} info_list;

static int model_infos(const mnv2d_modelset *set, info_list *l)
{
	l->info = calloc(set->n ? set->n : 1, sizeof *l->info);
	l->ptr = calloc(set->n ? set->n : 1, sizeof *l->ptr);
	if (!l->info || !l->ptr) {
		free(l->info);
		free(l->ptr);
		return -1;
	}
	for (size_t i = 0; i < set->n; i++) {
		const mnv2d_model *m = &set->models[i];
		Mnv2__ModelInfo *mi = &l->info[i];
		const char *desc = mnv2_model_metadata_description(m->model);
		mnv2__model_info__init(mi);
		mi->name = m->name;
		mi->kind = m->kind == MNV2_TASK_DETECTOR ? MNV2__MODEL_KIND__MODEL_KIND_DETECTOR
							 : MNV2__MODEL_KIND__MODEL_KIND_CLASSIFIER;
		mi->path = m->path;
		mi->input_width = (uint32_t)m->input.dims[2];
		mi->input_height = (uint32_t)m->input.dims[1];
		mi->macs = mnv2_model_macs(m->model);
		mi->parameter_bytes = mnv2_model_param_bytes(m->model);
		mi->arena_bytes = mnv2_model_arena_bytes(m->model);
		mi->load_time_us = m->load_us;
		mi->description = (char *)(*desc ? desc : mnv2_model_description(m->model));
		mi->num_labels = (uint32_t)mnv2d_model_num_labels(m);
		l->ptr[i] = mi;
	}
	return 0;
}

int mnv2d_reply_models(uint64_t request_id, const mnv2d_modelset *set, uint8_t **frame,
		       size_t *len)
{
	info_list l;
	if (model_infos(set, &l))
		return -1;
	Mnv2__ListModelsResult res;
	mnv2__list_models_result__init(&res);
	res.n_models = set->n;
	res.models = l.ptr;
	Mnv2__Response r;
	mnv2d_reply_init(&r, request_id, MNV2__STATUS_CODE__STATUS_OK, NULL, NULL);
	r.result_case = MNV2__RESPONSE__RESULT_MODELS;
	r.models = &res;
	int rc = mnv2d_frame_pack(&r.base, frame, len);
	free(l.info);
	free(l.ptr);
	return rc;
}

/* One model's counters: responses by status code (non-zero ones) and stage latencies. */
typedef struct stats_msg {
	Mnv2__ModelStats ms;
	Mnv2__StatusCount counts[MNV2D_STATUS_CODES];
	Mnv2__StatusCount *count_ptr[MNV2D_STATUS_CODES];
	Mnv2__StageLatency lat[MNV2D_STAGES];
	Mnv2__StageLatency *lat_ptr[MNV2D_STAGES];
} stats_msg;

static void model_stats(mnv2d_model *m, stats_msg *s)
{
	mnv2d_stats_snapshot snap;
	mnv2d_stats_snapshot_get(&m->stats, &snap);
	mnv2__model_stats__init(&s->ms);
	s->ms.name = m->name;
	s->ms.requests = snap.requests;
	for (unsigned c = 0; c < MNV2D_STATUS_CODES; c++) {
		if (!snap.responses[c])
			continue;
		Mnv2__StatusCount *sc = &s->counts[s->ms.n_responses];
		mnv2__status_count__init(sc);
		sc->status = (Mnv2__StatusCode)c;
		sc->count = snap.responses[c];
		s->count_ptr[s->ms.n_responses++] = sc;
	}
	for (int st = 0; st < MNV2D_STAGES; st++) {
		Mnv2__StageLatency *l = &s->lat[st];
		mnv2__stage_latency__init(l);
		l->stage = (char *)mnv2d_stage_name(st);
		l->p50_us = snap.p50[st];
		l->p90_us = snap.p90[st];
		l->p99_us = snap.p99[st];
		s->lat_ptr[st] = l;
	}
	s->ms.responses = s->count_ptr;
	s->ms.n_latency = MNV2D_STAGES;
	s->ms.latency = s->lat_ptr;
}

int mnv2d_reply_status(uint64_t request_id, const mnv2d_modelset *set,
		       const mnv2d_server_info *info, uint8_t **frame, size_t *len)
{
	info_list l;
	if (model_infos(set, &l))
		return -1;
	stats_msg *sm = calloc(set->n ? set->n : 1, sizeof *sm);
	Mnv2__ModelStats **sp = calloc(set->n ? set->n : 1, sizeof *sp);
	int rc = -1;
	if (sm && sp) {
		for (size_t i = 0; i < set->n; i++) {
			model_stats(&set->models[i], &sm[i]);
			sp[i] = &sm[i].ms;
		}
		Mnv2__StatusResult res;
		mnv2__status_result__init(&res);
		res.version = (char *)info->version;
		res.uptime_s = info->uptime_s;
		res.n_models = set->n;
		res.models = l.ptr;
		res.n_stats = set->n;
		res.stats = sp;
		res.queue_depth = (uint32_t)info->queue_depth;
		res.queue_capacity = (uint32_t)info->queue_capacity;
		res.queue_high_water = (uint32_t)info->queue_high_water;
		res.connections = info->connections;
		res.threads = info->threads;
		res.intra_op_threads = info->intra_op_threads;
		res.cpu_budget = info->cpu_budget;
		res.max_inflight_per_connection = info->max_inflight_per_connection;
		res.generation = set->generation;
		Mnv2__Response r;
		mnv2d_reply_init(&r, request_id, MNV2__STATUS_CODE__STATUS_OK, NULL, NULL);
		r.result_case = MNV2__RESPONSE__RESULT_STATUS_RESULT;
		r.status_result = &res;
		rc = mnv2d_frame_pack(&r.base, frame, len);
	}
	free(sm);
	free(sp);
	free(l.info);
	free(l.ptr);
	return rc;
}

int mnv2d_reply_reload(uint64_t request_id, uint64_t generation, uint32_t models,
		       uint8_t **frame, size_t *len)
{
	Mnv2__ReloadResult res;
	mnv2__reload_result__init(&res);
	res.generation = generation;
	res.models = models;
	Mnv2__Response r;
	mnv2d_reply_init(&r, request_id, MNV2__STATUS_CODE__STATUS_OK, NULL, NULL);
	r.result_case = MNV2__RESPONSE__RESULT_RELOAD;
	r.reload = &res;
	return mnv2d_frame_pack(&r.base, frame, len);
}
