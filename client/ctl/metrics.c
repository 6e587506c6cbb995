/* mnv2ctl metrics: the status result as Prometheus text exposition format 0.0.4.
 * Each family gets one HELP and one TYPE line followed by all its samples; label values
 * are escaped (backslash, double quote, newline); times are in seconds. */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void model_label(FILE *f, const char *name, const char *model)
{
	fprintf(f, "%s{model=", name);
	label_value(f, model);
}

static void gauge_u64(FILE *f, const char *name, const char *help, uint64_t v,
		      const char *type)
{
	family(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void per_model_u64(FILE *f, const mnv2c_server_status *s, const char *name,
			  const char *help, size_t offset)
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < s->n_models; i++) {
		uint64_t v;
		memcpy(&v, (const char *)&s->models[i] + offset, sizeof v);
		model_label(f, name, s->models[i].name);
		fprintf(f, "} %" PRIu64 "\n", v);
	}
}

static void status_label(FILE *f, int status)
{
	const char *n = mnv2c_code_name(status);
	if (strcmp(n, "UNKNOWN") == 0)
		fprintf(f, "\"%d\"", status);
	else
		fprintf(f, "\"%s\"", n);
}

static void print_latency(FILE *f, const mnv2c_server_status *s)
{
	static const char *q[3] = {"0.5", "0.9", "0.99"};
	const char *name = "mnv2_stage_latency_seconds";
	family(f, name, "summary",
	       "Request latency by model and stage (queue, decode, preprocess, inference, "
	       "postprocess, total), as quantiles over the server's recent requests.");
	for (size_t i = 0; i < s->n_stats; i++)
		for (size_t j = 0; j < s->stats[i].n_latency; j++) {
			const mnv2c_stage_latency *l = &s->stats[i].latency[j];
			uint64_t v[3] = {l->p50_us, l->p90_us, l->p99_us};
			for (int k = 0; k < 3; k++) {
				model_label(f, name, s->stats[i].name);
				fputs(",stage=", f);
				label_value(f, l->stage);
				fprintf(f, ",quantile=\"%s\"} %.6f\n", q[k], (double)v[k] / 1e6);
			}
		}
}

void print_metrics(FILE *f, const mnv2c_server_status *s)
{
	family(f, "mnv2_build_info", "gauge", "The daemon's software version (value always 1).");
	fputs("mnv2_build_info{version=", f);
	label_value(f, s->version);
	fputs("} 1\n", f);
	gauge_u64(f, "mnv2_uptime_seconds", "Seconds since the daemon started.", s->uptime_s,
		  "gauge");
	gauge_u64(f, "mnv2_reload_generation", "Incremented by every successful reload.",
		  s->generation, "gauge");
	gauge_u64(f, "mnv2_connections", "Client connections open now.", s->connections, "gauge");
	gauge_u64(f, "mnv2_worker_threads", "Inference worker threads.", s->threads, "gauge");
	gauge_u64(f, "mnv2_intra_op_threads", "Threads inside one inference.",
		  s->intra_op_threads, "gauge");
	gauge_u64(f, "mnv2_cpu_budget", "CPUs shared by the workers and their intra-op threads.",
		  s->cpu_budget, "gauge");
	gauge_u64(f, "mnv2_queue_depth", "Requests waiting in the queue now.", s->queue_depth,
		  "gauge");
	gauge_u64(f, "mnv2_queue_high_water", "Largest queue depth since the daemon started.",
		  s->queue_high_water, "gauge");
	gauge_u64(f, "mnv2_queue_capacity", "Queue capacity; a full queue answers "
		  "RESOURCE_EXHAUSTED.", s->queue_capacity, "gauge");
	gauge_u64(f, "mnv2_max_inflight_per_connection", "Requests one connection may have "
		  "queued or running; beyond it RESOURCE_EXHAUSTED (0: no limit).",
		  s->max_inflight_per_connection, "gauge");

	family(f, "mnv2_model_info", "gauge", "Loaded models (value always 1).");
	for (size_t i = 0; i < s->n_models; i++) {
		model_label(f, "mnv2_model_info", s->models[i].name);
		fprintf(f, ",kind=\"%s\",input=\"%" PRIu32 "x%" PRIu32 "\"} 1\n",
			mnv2c_model_kind_name(s->models[i].kind), s->models[i].input_width,
			s->models[i].input_height);
	}
	per_model_u64(f, s, "mnv2_model_macs", "Multiply-accumulates per inference.",
		      offsetof(mnv2c_model_info, macs));
	per_model_u64(f, s, "mnv2_model_parameter_bytes", "Bytes of constant tensors.",
		      offsetof(mnv2c_model_info, parameter_bytes));
	per_model_u64(f, s, "mnv2_model_arena_bytes", "Bytes of each worker's activation arena.",
		      offsetof(mnv2c_model_info, arena_bytes));
	family(f, "mnv2_model_load_seconds", "gauge", "Time the model took to load.");
	for (size_t i = 0; i < s->n_models; i++) {
		model_label(f, "mnv2_model_load_seconds", s->models[i].name);
		fprintf(f, "} %.6f\n", (double)s->models[i].load_time_us / 1e6);
	}

	family(f, "mnv2_requests_total", "counter", "Requests received, by model.");
	for (size_t i = 0; i < s->n_stats; i++) {
		model_label(f, "mnv2_requests_total", s->stats[i].name);
		fprintf(f, "} %" PRIu64 "\n", s->stats[i].requests);
	}
	family(f, "mnv2_responses_total", "counter", "Responses sent, by model and status code.");
	for (size_t i = 0; i < s->n_stats; i++)
		for (size_t j = 0; j < s->stats[i].n_responses; j++) {
			model_label(f, "mnv2_responses_total", s->stats[i].name);
			fputs(",status=", f);
			status_label(f, s->stats[i].responses[j].status);
			fprintf(f, "} %" PRIu64 "\n", s->stats[i].responses[j].count);
		}
	print_latency(f, s);
}
