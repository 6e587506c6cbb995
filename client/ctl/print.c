/* mnv2ctl: human-readable tables and one-line JSON objects for each command's result. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static void json_timing(FILE *f, const mnv2c_timing *t)
{
	fprintf(f,
		"\"timing_us\": {\"queue\": %" PRIu64 ", \"decode\": %" PRIu64
		", \"preprocess\": %" PRIu64 ", \"inference\": %" PRIu64
		", \"postprocess\": %" PRIu64 ", \"total\": %" PRIu64 "}",
		t->queue_us, t->decode_us, t->preprocess_us, t->inference_us, t->postprocess_us,
		t->total_us);
}

static void human_timing(FILE *f, const mnv2c_timing *t)
{
	fprintf(f,
		"  time %.3f ms (queue %.3f, decode %.3f, preprocess %.3f, inference %.3f, "
		"postprocess %.3f)\n",
		ms(t->total_us), ms(t->queue_us), ms(t->decode_us), ms(t->preprocess_us),
		ms(t->inference_us), ms(t->postprocess_us));
}

void print_classify(FILE *f, int json, const char *image, const mnv2c_classify_result *r)
{
	if (json) {
		fputs("{\"image\": ", f);
		json_string(f, image);
		fputs(", \"model\": ", f);
		json_string(f, r->model);
		fputs(", \"top\": [", f);
		for (size_t i = 0; i < r->n_classes; i++) {
			fprintf(f, "%s{\"index\": %" PRIu32 ", \"label\": ", i ? ", " : "",
				r->classes[i].index);
			json_string(f, r->classes[i].label);
			fputs(", \"score\": ", f);
			json_float(f, r->classes[i].score);
			fputc('}', f);
		}
		fputs("], ", f);
		json_timing(f, &r->timing);
		fputs("}\n", f);
		return;
	}
	human_string(f, image);
	fputs(": ", f);
	human_string(f, r->model);
	fputc('\n', f);
	fprintf(f, "  %4s  %8s  %6s  %s\n", "rank", "score", "index", "label");
	for (size_t i = 0; i < r->n_classes; i++) {
		fprintf(f, "  %4zu  %8.5f  %6" PRIu32 "  ", i + 1, (double)r->classes[i].score,
			r->classes[i].index);
		human_string(f, r->classes[i].label);
		fputc('\n', f);
	}
	human_timing(f, &r->timing);
}

static int by_score_desc(const void *a, const void *b)
{
	const mnv2c_detection *x = *(const mnv2c_detection *const *)a;
	const mnv2c_detection *y = *(const mnv2c_detection *const *)b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x < y ? -1 : x > y; /* stable: keep the server's order on ties */
}

static void json_box(FILE *f, const mnv2c_box *b)
{
	fputs("{\"xmin\": ", f);
	json_float(f, b->xmin);
	fputs(", \"ymin\": ", f);
	json_float(f, b->ymin);
	fputs(", \"xmax\": ", f);
	json_float(f, b->xmax);
	fputs(", \"ymax\": ", f);
	json_float(f, b->ymax);
	fputc('}', f);
}

static void print_detections(FILE *f, int json, const mnv2c_detection *const *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (json) {
			fprintf(f, "%s{\"class\": %" PRIu32 ", \"label\": ", i ? ", " : "",
				d[i]->class_id);
			json_string(f, d[i]->label);
			fputs(", \"score\": ", f);
			json_float(f, d[i]->score);
			fputs(", \"box\": ", f);
			json_box(f, &d[i]->box);
			fputs(", \"box_normalized\": ", f);
			json_box(f, &d[i]->box_normalized);
			fputc('}', f);
			continue;
		}
		fputs("  ", f);
		human_string(f, d[i]->label);
		fprintf(f, " (%" PRIu32 ") %.3f [%.1f %.1f %.1f %.1f]\n", d[i]->class_id,
			(double)d[i]->score, (double)d[i]->box.xmin, (double)d[i]->box.ymin,
			(double)d[i]->box.xmax, (double)d[i]->box.ymax);
	}
}

void print_detect(FILE *f, int json, const char *image, const mnv2c_detect_result *r)
{
	const mnv2c_detection **sorted = calloc(r->n_detections + 1, sizeof *sorted);
	if (!sorted) {
		fputs("mnv2ctl: out of memory\n", stderr);
		return;
	}
	for (size_t i = 0; i < r->n_detections; i++)
		sorted[i] = &r->detections[i];
	qsort(sorted, r->n_detections, sizeof *sorted, by_score_desc);
	if (json) {
		fputs("{\"image\": ", f);
		json_string(f, image);
		fputs(", \"model\": ", f);
		json_string(f, r->model);
		fprintf(f, ", \"width\": %" PRIu32 ", \"height\": %" PRIu32 ", \"detections\": [",
			r->image_width, r->image_height);
		print_detections(f, 1, sorted, r->n_detections);
		fputs("], ", f);
		json_timing(f, &r->timing);
		fputs("}\n", f);
	} else {
		human_string(f, image);
		fputs(": ", f);
		human_string(f, r->model);
		fprintf(f, ", %" PRIu32 "x%" PRIu32 ", %zu detection%s\n", r->image_width,
			r->image_height, r->n_detections, r->n_detections == 1 ? "" : "s");
		print_detections(f, 0, sorted, r->n_detections);
		human_timing(f, &r->timing);
	}
	free(sorted);
}

void print_image_error(FILE *f, const char *image, int status, const char *message)
{
	fputs("{\"image\": ", f);
	json_string(f, image);
	fputs(", \"error\": {\"status\": ", f);
	json_string(f, mnv2c_code_name(status));
	fputs(", \"message\": ", f);
	json_string(f, message);
	fputs("}}\n", f);
}

/* ---- models and status ---------------------------------------------------------------- */

static void json_model(FILE *f, const mnv2c_model_info *m)
{
	fputs("{\"name\": ", f);
	json_string(f, m->name);
	fputs(", \"kind\": ", f);
	json_string(f, mnv2c_model_kind_name(m->kind));
	fputs(", \"path\": ", f);
	json_string(f, m->path);
	fputs(", \"description\": ", f);
	json_string(f, m->description);
	fprintf(f,
		", \"input_width\": %" PRIu32 ", \"input_height\": %" PRIu32 ", \"macs\": %" PRIu64
		", \"parameter_bytes\": %" PRIu64 ", \"arena_bytes\": %" PRIu64
		", \"load_time_us\": %" PRIu64 ", \"num_labels\": %" PRIu32 "}",
		m->input_width, m->input_height, m->macs, m->parameter_bytes, m->arena_bytes,
		m->load_time_us, m->num_labels);
}

static void json_models(FILE *f, const mnv2c_model_info *m, size_t n)
{
	fputs("\"models\": [", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		json_model(f, &m[i]);
	}
	fputc(']', f);
}

/* 1234567 -> "1.23M" */
static const char *si(uint64_t v, char *buf, size_t len)
{
	static const char units[] = " kMGTPE";
	double d = (double)v;
	int u = 0;
	while (d >= 1000.0 && u < 6) {
		d /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%.2f%c", d, units[u]);
	return buf;
}

/* 1234567 -> "1.18 MiB" */
static const char *iec(uint64_t v, char *buf, size_t len)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	int u = 0;
	while (d >= 1024.0 && u < 4) {
		d /= 1024.0;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", d, units[u]);
	return buf;
}

static void human_models(FILE *f, const mnv2c_model_info *m, size_t n, int with_path)
{
	char a[32], b[32], c[32];
	fprintf(f, "%-20s %-10s %-9s %9s %10s %10s %9s %7s\n", "MODEL", "KIND", "INPUT", "MACS",
		"PARAMS", "ARENA", "LOAD ms", "LABELS");
	for (size_t i = 0; i < n; i++) {
		char input[24];
		snprintf(input, sizeof input, "%" PRIu32 "x%" PRIu32, m[i].input_width,
			 m[i].input_height);
		human_string(f, m[i].name);
		fprintf(f, "%*s", (int)(strlen(m[i].name) < 20 ? 21 - strlen(m[i].name) : 1), "");
		fprintf(f, "%-10s %-9s %9s %10s %10s %9.1f %7" PRIu32 "\n",
			mnv2c_model_kind_name(m[i].kind), input, si(m[i].macs, a, sizeof a),
			iec(m[i].parameter_bytes, b, sizeof b), iec(m[i].arena_bytes, c, sizeof c),
			ms(m[i].load_time_us), m[i].num_labels);
		if (with_path && *m[i].path) {
			fputs("    ", f);
			human_string(f, m[i].path);
			if (*m[i].description) {
				fputs(" — ", f);
				human_string(f, m[i].description);
			}
			fputc('\n', f);
		}
	}
}

void print_models(FILE *f, int json, const mnv2c_model_list *m)
{
	if (json) {
		fputc('{', f);
		json_models(f, m->models, m->n_models);
		fputs("}\n", f);
		return;
	}
	human_models(f, m->models, m->n_models, 1);
}

/* The name of a status code, or its number for a code this client does not know. */
static const char *status_key(int status, char *buf, size_t len)
{
	const char *n = mnv2c_code_name(status);
	if (strcmp(n, "UNKNOWN") != 0)
		return n;
	snprintf(buf, len, "%d", status);
	return buf;
}

static void json_stats(FILE *f, const mnv2c_model_stats *s)
{
	char key[16];
	fputs("{\"name\": ", f);
	json_string(f, s->name);
	fprintf(f, ", \"requests\": %" PRIu64 ", \"responses\": {", s->requests);
	for (size_t i = 0; i < s->n_responses; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, status_key(s->responses[i].status, key, sizeof key));
		fprintf(f, ": %" PRIu64, s->responses[i].count);
	}
	fputs("}, \"latency_us\": {", f);
	for (size_t i = 0; i < s->n_latency; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, s->latency[i].stage);
		fprintf(f, ": {\"p50\": %" PRIu64 ", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64 "}",
			s->latency[i].p50_us, s->latency[i].p90_us, s->latency[i].p99_us);
	}
	fputs("}}", f);
}

static void human_stats(FILE *f, const mnv2c_model_stats *s)
{
	char key[16];
	fputc('\n', f);
	human_string(f, s->name);
	fprintf(f, ": %" PRIu64 " requests; responses", s->requests);
	for (size_t i = 0; i < s->n_responses; i++)
		fprintf(f, "%s %s %" PRIu64, i ? "," : "",
			status_key(s->responses[i].status, key, sizeof key), s->responses[i].count);
	if (s->n_responses == 0)
		fputs(" none", f);
	fputc('\n', f);
	if (s->n_latency == 0)
		return;
	fprintf(f, "  %-12s %10s %10s %10s\n", "stage", "p50 ms", "p90 ms", "p99 ms");
	for (size_t i = 0; i < s->n_latency; i++) {
		char stage[13];
		snprintf(stage, sizeof stage, "%s", s->latency[i].stage);
		fputs("  ", f);
		human_string(f, stage);
		fprintf(f, "%*s %10.3f %10.3f %10.3f\n", (int)(12 - strlen(stage)), "",
			ms(s->latency[i].p50_us), ms(s->latency[i].p90_us), ms(s->latency[i].p99_us));
	}
}

void print_status(FILE *f, int json, const mnv2c_server_status *s)
{
	if (json) {
		fputs("{\"version\": ", f);
		json_string(f, s->version);
		fprintf(f,
			", \"uptime_s\": %" PRIu64 ", \"generation\": %" PRIu64
			", \"threads\": %" PRIu32 ", \"intra_op_threads\": %" PRIu32
			", \"cpu_budget\": %" PRIu32 ", \"connections\": %" PRIu32
			", \"queue\": {\"depth\": %" PRIu32 ", \"capacity\": %" PRIu32
			", \"high_water\": %" PRIu32 ", \"per_connection\": %" PRIu32 "}, ",
			s->uptime_s, s->generation, s->threads, s->intra_op_threads, s->cpu_budget,
			s->connections, s->queue_depth, s->queue_capacity, s->queue_high_water,
			s->max_inflight_per_connection);
		json_models(f, s->models, s->n_models);
		fputs(", \"stats\": [", f);
		for (size_t i = 0; i < s->n_stats; i++) {
			fputs(i ? ", " : "", f);
			json_stats(f, &s->stats[i]);
		}
		fputs("]}\n", f);
		return;
	}
	uint64_t up = s->uptime_s;
	fputs("mnv2d ", f);
	human_string(f, s->version);
	fprintf(f, ", up %" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 " (%" PRIu64
		   " s), generation %" PRIu64 "\n",
		up / 86400, up / 3600 % 24, up / 60 % 60, up % 60, up, s->generation);
	fprintf(f, "threads %" PRIu32, s->threads);
	if (s->intra_op_threads)
		fprintf(f, " x %" PRIu32 " intra-op (CPU budget %" PRIu32 ")", s->intra_op_threads,
			s->cpu_budget);
	fprintf(f, ", connections %" PRIu32 ", queue %" PRIu32 "/%" PRIu32 " (high water %" PRIu32
		")", s->connections, s->queue_depth, s->queue_capacity, s->queue_high_water);
	if (s->max_inflight_per_connection)
		fprintf(f, ", at most %" PRIu32 " per connection", s->max_inflight_per_connection);
	fputs("\n\n", f);
	human_models(f, s->models, s->n_models, 0);
	for (size_t i = 0; i < s->n_stats; i++)
		human_stats(f, &s->stats[i]);
}

void print_reload(FILE *f, int json, const mnv2c_reload_result *r)
{
	if (json)
		fprintf(f, "{\"generation\": %" PRIu64 ", \"models\": %" PRIu32 "}\n", r->generation,
			r->models);
	else
		fprintf(f, "reloaded: generation %" PRIu64 ", %" PRIu32 " model%s\n", r->generation,
			r->models, r->models == 1 ? "" : "s");
}
