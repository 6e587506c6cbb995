/* mnv2-model — inspect and run .tflite models with libmnv2.
 *
 *   mnv2-model info MODEL
 *   mnv2-model run MODEL --input IN --output OUT.bin [--output-index N]
 *   mnv2-model classify MODEL IN [--labels FILE] [--top K] [--resize MODE]
 *                          [--filter antialias|bilinear] [--json]
 *   mnv2-model detect MODEL IN [--labels FILE] [--threshold T] [--mode MODE]
 *                          [--filter antialias|bilinear] [--json] [--draw OUT.png]
 *   mnv2-model bench MODEL [--input IN] [--threads N] [--iterations N] [--warmup N]
 *                          [--path NAME] [--profile] [--json]
 *
 * IN is a PNG or JPEG image (decoded, resized into the input tensor) or the input
 * tensor's raw bytes (exactly its size).
 */
#include "labels.h"
#include "mnv2/draw.h"
#include "mnv2/engine.h"
#include "mnv2/image.h"
#include "mnv2/preprocess.h"
#include "mnv2/ssd.h"
#include "mnv2/tasks.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: mnv2-model info MODEL\n"
		   "       mnv2-model run MODEL --input IN --output OUT.bin [--output-index N]\n"
		   "       mnv2-model classify MODEL IN [--labels FILE] [--top K] [--mode MODE]\n"
		   "                         [--filter F] [--json]\n"
		   "       mnv2-model detect MODEL IN [--labels FILE] [--threshold T] [--mode MODE]\n"
		   "                         [--filter F] [--json] [--draw OUT.png]\n"
		   "       mnv2-model bench MODEL [--input IN] [--threads N] [--iterations N] [--warmup N]\n"
		   "                              [--path portable|avx2|avxvnni|neon|neondot] [--profile]\n"
		   "                              [--json] [--ab]\n"
		   "Every command takes --plan layers|fused|default (memory plan) and --tile-rows N\n"
		   "(fused plan: output rows per tile, 0: automatic). bench --ab runs the layers and\n"
		   "the fused plan alternately in one process and prints the latency ratio.\n"
		   "IN: a PNG/JPEG image, or the input tensor's raw bytes. MODE: stretch (default),\n"
		   "letterbox, crop (center-crop); --resize is the same option. F (run and bench\n"
		   "take it too): antialias (default; the reference preprocessing) or bilinear (2x2\n"
		   "taps: cheaper on images much larger than the input, but aliases). --draw writes\n"
		   "IN with the boxes and labels as a PNG. bench without --input runs on fixed\n"
		   "pseudo-random bytes.\n");
}

static void print_shape(const mnv2_tensor_info *t)
{
	printf("[");
	for (int i = 0; i < t->rank; i++)
		printf(i ? ",%d" : "%d", t->dims[i]);
	printf("]");
}

static void print_tensor(const char *role, int i, const mnv2_tensor_info *t)
{
	printf("%s %d: %s %s ", role, i, t->name, mnv2_dtype_name(t->type));
	print_shape(t);
	if (t->quantized)
		printf(" scale %.9g zero_point %d%s", (double)t->scale, t->zero_point,
		       t->quant_channels > 1 ? " (per-channel)" : "");
	printf("\n");
}

static int cmd_info(const mnv2_model *m)
{
	mnv2_tensor_info t;
	mnv2_op_info op;
	printf("model: %s\n", mnv2_model_name(m));
	if (*mnv2_model_description(m))
		printf("description: %s\n", mnv2_model_description(m));
	if (*mnv2_model_metadata_name(m))
		printf("metadata: %s — %s\n", mnv2_model_metadata_name(m),
		       mnv2_model_metadata_description(m));
	for (int i = 0; i < mnv2_model_num_inputs(m); i++)
		if (!mnv2_model_input_info(m, i, &t))
			print_tensor("input", i, &t);
	for (int i = 0; i < mnv2_model_num_outputs(m); i++)
		if (!mnv2_model_output_info(m, i, &t))
			print_tensor("output", i, &t);
	printf("%5s  %-20s %-22s %-22s %12s\n", "index", "op", "input", "output", "MACs");
	for (int i = 0; i < mnv2_model_num_ops(m); i++) {
		mnv2_model_op_info(m, i, &op);
		printf("%5d  %-20s ", i, op.name);
		mnv2_model_tensor_info(m, op.inputs[0], &t);
		print_shape(&t);
		printf("%*s", 22 - 2 * t.rank - 1, "");
		mnv2_model_tensor_info(m, op.outputs[0], &t);
		print_shape(&t);
		printf("%*s %12llu\n", 22 - 2 * t.rank - 1, "", (unsigned long long)op.macs);
	}
	printf("MACs: %llu\n", (unsigned long long)mnv2_model_macs(m));
	printf("parameters: %zu bytes\n", mnv2_model_param_bytes(m));
	printf("arena: %zu bytes (plan %s; layers %zu bytes, fused %zu bytes)\n",
	       mnv2_model_arena_bytes(m), mnv2_plan_mode_name(mnv2_model_plan(m)),
	       mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS),
	       mnv2_model_plan_arena_bytes(m, MNV2_PLAN_FUSED));
	printf("fused chains: %d  tile buffers per extra thread: %zu bytes  workspace per thread: "
	       "%zu bytes\n",
	       mnv2_model_num_chains(m), mnv2_model_tile_bytes(m), mnv2_model_workspace_bytes(m));
	if (mnv2_model_num_labels(m))
		printf("labels: %zu (embedded)\n", mnv2_model_num_labels(m));
	return 0;
}

/* Fills input 0 from `path`: a PNG/JPEG is decoded and preprocessed (tf receives the
 * mapping back to its pixels); anything else must be the tensor's exact raw bytes. */
static int fill_input(const mnv2_model *m, mnv2_context *c, const char *path,
		      const mnv2_preprocess_opts *pre, mnv2_transform *tf)
{
	size_t want, len;
	mnv2_tensor_info in;
	mnv2_image img;
	mnv2_error err;
	char msg[MNV2_IMAGE_ERR_LEN];
	uint8_t *dst = mnv2_context_input(c, 0, &want), head[8] = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "mnv2-model: %s: %s\n", path, strerror(errno));
		return -1;
	}
	len = fread(head, 1, sizeof head, f);
	if (mnv2_image_sniff(head, len) == MNV2_IMAGE_UNKNOWN) {
		rewind(f);
		size_t got = fread(dst, 1, want, f);
		int extra = fgetc(f) != EOF;
		fclose(f);
		if (got != want || extra) {
			fprintf(stderr, "mnv2-model: %s: neither PNG/JPEG nor the input's %zu raw bytes\n",
				path, want);
			return -1;
		}
		mnv2_model_input_info(m, 0, &in);
		*tf = (mnv2_transform){ 1, 1, 0, 0, (uint32_t)in.dims[2], (uint32_t)in.dims[1],
					(uint32_t)in.dims[2], (uint32_t)in.dims[1] };
		return 0;
	}
	fclose(f);
	if (mnv2_image_load_file(path, NULL, &img, msg, sizeof msg)) {
		fprintf(stderr, "mnv2-model: %s\n", msg);
		return -1;
	}
	mnv2_model_input_info(m, 0, &in);
	mnv2_rgb_view v = { img.data, img.width, img.height, img.stride };
	int r = mnv2_preprocess(&v, &in, pre, dst, want, tf, &err);
	if (r)
		fprintf(stderr, "mnv2-model: %s: %s\n", path, err.msg);
	mnv2_image_free(&img);
	return r;
}

static mnv2_context *run_model(const mnv2_model *m, const char *input,
			       const mnv2_preprocess_opts *pre, mnv2_transform *tf)
{
	mnv2_error err;
	mnv2_transform dummy;
	mnv2_context *c = mnv2_context_create(m, &err);
	if (!c) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		return NULL;
	}
	if (fill_input(m, c, input, pre, tf ? tf : &dummy)) {
		mnv2_context_free(c);
		return NULL;
	}
	if (mnv2_context_run(c, &err)) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		mnv2_context_free(c);
		return NULL;
	}
	return c;
}

static int cmd_run(const mnv2_model *m, const char *input, const char *output, int index,
		   const mnv2_preprocess_opts *pre)
{
	size_t bytes;
	if (index < 0 || index >= mnv2_model_num_outputs(m)) {
		fprintf(stderr, "mnv2-model: output index %d out of range (0..%d)\n", index,
			mnv2_model_num_outputs(m) - 1);
		return 2;
	}
	mnv2_context *c = run_model(m, input, pre, NULL);
	if (!c)
		return 1;
	const void *out = mnv2_context_output(c, index, &bytes);
	FILE *f = fopen(output, "wb");
	int ok = f && fwrite(out, 1, bytes, f) == bytes;
	if (f && fclose(f))
		ok = 0;
	if (!ok)
		fprintf(stderr, "mnv2-model: %s: cannot write: %s\n", output, strerror(errno));
	mnv2_context_free(c);
	return ok ? 0 : 1;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

typedef struct cli {
	const char *input, *output, *labels, *path, *draw;
	int index, top, json, threads, iterations, warmup, profile, ab, tile_rows;
	mnv2_plan_mode plan;
	float threshold;
	mnv2_preprocess_opts pre;   /* resize mode and filter */
} cli;

/* Label i: from --labels, else packed in the model, else "". */
static const char *label_of(const mnv2_model *m, const mnv2_labels *l, size_t i)
{
	const char *s = l->n ? (i < l->n ? l->line[i] : NULL) : mnv2_model_label(m, i);
	return s ? s : "";
}

static int cmd_classify(const mnv2_model *m, const cli *a)
{
	mnv2_labels labels = { 0 };
	char err[256];
	mnv2_class_score top[100];
	if (mnv2_model_task(m) != MNV2_TASK_CLASSIFIER) {
		fprintf(stderr, "mnv2-model: %s is not a classifier\n", mnv2_model_name(m));
		return 1;
	}
	if (a->labels && mnv2_labels_load(a->labels, &labels, err, sizeof err)) {
		fprintf(stderr, "mnv2-model: %s\n", err);
		return 1;
	}
	mnv2_context *c = run_model(m, a->input, &a->pre, NULL);
	size_t n = c ? mnv2_top_k(c, (size_t)(a->top > 100 ? 100 : a->top), a->threshold, top) : 0;
	if (c && a->json) {
		printf("{\"model\":");
		json_string(mnv2_model_name(m));
		printf(",\"classes\":[");
		for (size_t k = 0; k < n; k++) {
			printf("%s{\"index\":%u,\"score\":%.6f,\"label\":", k ? "," : "", top[k].index,
			       (double)top[k].score);
			json_string(label_of(m, &labels, top[k].index));
			printf("}");
		}
		printf("]}\n");
	} else if (c) {
		for (size_t k = 0; k < n; k++)
			printf("%zu  %.6f  %4u  %s\n", k + 1, (double)top[k].score, top[k].index,
			       label_of(m, &labels, top[k].index));
	}
	mnv2_context_free(c);
	mnv2_labels_free(&labels);
	return c ? 0 : 1;
}

/* --draw: the input image again, with the detections (original pixels) drawn on it. */
static int draw_detections(const mnv2_model *m, const mnv2_labels *labels, const cli *a,
			   const mnv2_detection *d, size_t n)
{
	mnv2_image img;
	mnv2_draw_box b[256];
	char msg[MNV2_IMAGE_ERR_LEN];
	if (mnv2_image_load_file(a->input, NULL, &img, msg, sizeof msg)) {
		fprintf(stderr, "mnv2-model: --draw needs a PNG/JPEG input: %s\n", msg);
		return -1;
	}
	for (size_t i = 0; i < n && i < 256; i++)
		b[i] = (mnv2_draw_box){ d[i].px_xmin, d[i].px_ymin, d[i].px_xmax, d[i].px_ymax,
					d[i].class_id, d[i].score, label_of(m, labels, d[i].class_id) };
	int r = mnv2_draw_boxes(&img, b, n < 256 ? n : 256, msg, sizeof msg);
	if (!r)
		r = mnv2_png_write_file(&img, a->draw, msg, sizeof msg);
	if (r)
		fprintf(stderr, "mnv2-model: %s\n", msg);
	mnv2_image_free(&img);
	return r;
}

static int cmd_detect(const mnv2_model *m, const cli *a)
{
	mnv2_labels labels = { 0 };
	mnv2_transform tf;
	mnv2_detection d[256];
	char err[256];
	if (mnv2_model_task(m) != MNV2_TASK_DETECTOR) {
		fprintf(stderr, "mnv2-model: %s is not a detector\n", mnv2_model_name(m));
		return 1;
	}
	if (a->labels && mnv2_labels_load(a->labels, &labels, err, sizeof err)) {
		fprintf(stderr, "mnv2-model: %s\n", err);
		return 1;
	}
	mnv2_context *c = run_model(m, a->input, &a->pre, &tf);
	size_t n = c ? mnv2_detections(c, &tf, a->threshold, 256, d) : 0;
	int drawn = !c || !a->draw || !draw_detections(m, &labels, a, d, n);
	if (c && a->json) {
		printf("{\"model\":");
		json_string(mnv2_model_name(m));
		printf(",\"image_width\":%u,\"image_height\":%u,\"detections\":[", tf.src_w, tf.src_h);
	}
	for (size_t i = 0; c && i < n; i++) {
		const char *label = label_of(m, &labels, d[i].class_id);
		if (a->json) {
			printf("%s{\"class_id\":%u,\"label\":", i ? "," : "", d[i].class_id);
			json_string(label);
			printf(",\"score\":%.6f,\"box\":[%.1f,%.1f,%.1f,%.1f],\"box_normalized\":[%.6f,%.6f,%.6f,%.6f]}",
			       (double)d[i].score, (double)d[i].px_xmin, (double)d[i].px_ymin,
			       (double)d[i].px_xmax, (double)d[i].px_ymax, (double)d[i].xmin,
			       (double)d[i].ymin, (double)d[i].xmax, (double)d[i].ymax);
		} else {
			printf("%-14s (%2u) %.3f  [%.0f %.0f %.0f %.0f]\n", *label ? label : "?",
			       d[i].class_id, (double)d[i].score, (double)d[i].px_xmin,
			       (double)d[i].px_ymin, (double)d[i].px_xmax, (double)d[i].px_ymax);
		}
	}
	if (c && a->json)
		printf("]}\n");
	mnv2_context_free(c);
	mnv2_labels_free(&labels);
	return c && drawn ? 0 : 1;
}

/* ---- bench ---------------------------------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n]; the median averages the middle pair. */
static double percentile(const double *v, int n, double q)
{
	if (q == 0.5)
		return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	int i = (int)ceil(q * n) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

typedef struct bench_result {
	double min, median, p90, p99, mean;
	double *op_ms;            /* mean per op (profile), or NULL */
	long peak_rss_kib;
} bench_result;

/* Sets up a context for bench: input from a->input or fixed pseudo-random bytes, path. */
static mnv2_context *bench_context(const mnv2_model *m, const cli *a)
{
	mnv2_error err;
	mnv2_transform tf;
	mnv2_kernel_path kp;
	mnv2_context *c = mnv2_context_create(m, &err);
	if (!c) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		return NULL;
	}
	if (a->path && (mnv2_kernel_path_parse(a->path, &kp) ||
			mnv2_context_set_kernel_path(c, kp, &err))) {
		fprintf(stderr, "mnv2-model: %s\n",
			mnv2_kernel_path_parse(a->path, &kp) ? "unknown kernel path" : err.msg);
		mnv2_context_free(c);
		return NULL;
	}
	if (a->input) {
		if (fill_input(m, c, a->input, &a->pre, &tf)) {
			mnv2_context_free(c);
			return NULL;
		}
	} else {
		for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
			size_t n;
			uint8_t *d = mnv2_context_input(c, i, &n);
			uint32_t x = 12345u + (uint32_t)i;
			for (size_t k = 0; k < n; k++, x = x * 1103515245u + 12345u)
				d[k] = (uint8_t)(x >> 16);
		}
	}
	return c;
}

/* A copy of every input of c (a run may overwrite its inputs: each timed run gets them
 * back, outside the timing), or NULL when out of memory. */
static uint8_t *save_inputs(mnv2_context *c)
{
	const mnv2_model *m = mnv2_context_model(c);
	size_t total = 0, n;
	for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
		mnv2_context_input(c, i, &n);
		total += n;
	}
	uint8_t *snap = malloc(total ? total : 1);
	total = 0;
	for (int i = 0; snap && i < mnv2_model_num_inputs(m); i++) {
		memcpy(snap + total, mnv2_context_input(c, i, &n), n);
		total += n;
	}
	return snap;
}

static void restore_inputs(mnv2_context *c, const uint8_t *snap)
{
	const mnv2_model *m = mnv2_context_model(c);
	size_t n;
	for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
		memcpy(mnv2_context_input(c, i, &n), snap, n);
		snap += n;
	}
}

static int bench_runs(mnv2_context *c, const cli *a, int nops, bench_result *r)
{
	mnv2_error err;
	double *lat = calloc((size_t)a->iterations, sizeof *lat);
	double *op_ns = a->profile ? calloc((size_t)nops + 1, sizeof *op_ns) : NULL;
	r->op_ms = a->profile ? calloc((size_t)nops + 1, sizeof *r->op_ms) : NULL;
	uint8_t *snap = save_inputs(c);
	int ok = lat && snap && (!a->profile || (op_ns && r->op_ms));
	for (int i = 0; ok && i < a->warmup + a->iterations; i++) {
		restore_inputs(c, snap);
		double t0 = now_ms();
		ok = !(a->profile ? mnv2_context_run_profiled(c, op_ns, &err) : mnv2_context_run(c, &err));
		double t = now_ms() - t0;
		if (!ok)
			fprintf(stderr, "mnv2-model: %s\n", err.msg);
		if (ok && i >= a->warmup) {
			lat[i - a->warmup] = t;
			for (int k = 0; r->op_ms && k < nops; k++)
				r->op_ms[k] += op_ns[k] * 1e-6 / a->iterations;
		}
	}
	if (ok) {
		double sum = 0;
		for (int i = 0; i < a->iterations; i++)
			sum += lat[i];
		qsort(lat, (size_t)a->iterations, sizeof *lat, cmp_double);
		r->min = lat[0];
		r->median = percentile(lat, a->iterations, 0.5);
		r->p90 = percentile(lat, a->iterations, 0.9);
		r->p99 = percentile(lat, a->iterations, 0.99);
		r->mean = sum / a->iterations;
		struct rusage ru;
		r->peak_rss_kib = getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
	}
	free(lat);
	free(op_ns);
	free(snap);
	return ok ? 0 : -1;
}

static void op_shape(const mnv2_model *m, int i, char *buf, size_t len)
{
	mnv2_op_info op;
	mnv2_tensor_info t;
	size_t o = 0;
	buf[0] = '\0';
	if (mnv2_model_op_info(m, i, &op) || mnv2_model_tensor_info(m, op.outputs[0], &t))
		return;
	for (int d = 0; d < t.rank && o + 12 < len; d++)
		o += (size_t)snprintf(buf + o, len - o, d ? ",%d" : "%d", t.dims[d]);
}

static double gmacs(uint64_t macs, double ms) { return ms > 0 ? (double)macs / ms * 1e-6 : 0; }

static void bench_print_json(const mnv2_model *m, const mnv2_context *c, const cli *a,
			     const bench_result *r)
{
	uint64_t macs = mnv2_model_macs(m);
	printf("{\"model\":");
	json_string(mnv2_model_name(m));
	printf(",\"path\":\"%s\",\"threads\":%d,\"iterations\":%d,\"warmup\":%d,"
	       "\"latency_ms\":{\"min\":%.4f,\"median\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"mean\":%.4f},"
	       "\"macs\":%llu,\"gmac_per_s\":%.3f,\"arena_bytes\":%zu,\"workspace_bytes\":%zu,"
	       "\"param_bytes\":%zu,\"peak_rss_bytes\":%ld,\"plan\":\"%s\",\"chains\":%d,"
	       "\"arena_layers_bytes\":%zu,\"arena_fused_bytes\":%zu,\"tile_bytes\":%zu",
	       mnv2_kernel_path_name(mnv2_context_kernel_path(c)), mnv2_context_threads(c),
	       a->iterations, a->warmup, r->min, r->median, r->p90, r->p99, r->mean, (unsigned long long)macs,
	       gmacs(macs, r->median), mnv2_model_arena_bytes(m), mnv2_model_workspace_bytes(m),
	       mnv2_model_param_bytes(m), r->peak_rss_kib * 1024,
	       mnv2_plan_mode_name(mnv2_model_plan(m)), mnv2_model_num_chains(m),
	       mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS),
	       mnv2_model_plan_arena_bytes(m, MNV2_PLAN_FUSED), mnv2_model_tile_bytes(m));
	if (r->op_ms) {
		double total = 0;
		for (int i = 0; i < mnv2_model_num_ops(m); i++)
			total += r->op_ms[i];
		printf(",\"ops\":[");
		for (int i = 0; i < mnv2_model_num_ops(m); i++) {
			mnv2_op_info op;
			char shape[96];
			mnv2_model_op_info(m, i, &op);
			op_shape(m, i, shape, sizeof shape);
			printf("%s{\"index\":%d,\"op\":\"%s\",\"shape\":[%s],\"macs\":%llu,\"ms\":%.5f,"
			       "\"gmac_per_s\":%.3f,\"percent\":%.2f}",
			       i ? "," : "", i, op.name, shape, (unsigned long long)op.macs, r->op_ms[i],
			       gmacs(op.macs, r->op_ms[i]), total > 0 ? 100 * r->op_ms[i] / total : 0);
		}
		printf("]");
	}
	printf("}\n");
}

static void bench_print_text(const mnv2_model *m, const mnv2_context *c, const cli *a,
			     const bench_result *r)
{
	uint64_t macs = mnv2_model_macs(m);
	printf("model: %s\n", mnv2_model_name(m));
	printf("path: %s  threads: %d  iterations: %d  warmup: %d\n",
	       mnv2_kernel_path_name(mnv2_context_kernel_path(c)), mnv2_context_threads(c),
	       a->iterations, a->warmup);
	printf("latency ms: min %.3f  median %.3f  p90 %.3f  p99 %.3f  mean %.3f\n", r->min,
	       r->median, r->p90, r->p99, r->mean);
	printf("MACs: %llu  GMAC/s (median): %.2f\n", (unsigned long long)macs,
	       gmacs(macs, r->median));
	printf("arena: %zu bytes  workspace: %zu bytes  parameters: %zu bytes  peak RSS: %ld KiB\n",
	       mnv2_model_arena_bytes(m), mnv2_model_workspace_bytes(m), mnv2_model_param_bytes(m),
	       r->peak_rss_kib);
	printf("plan: %s  chains: %d  arena layers: %zu bytes  fused: %zu bytes  tile buffers per "
	       "extra thread: %zu bytes\n",
	       mnv2_plan_mode_name(mnv2_model_plan(m)), mnv2_model_num_chains(m),
	       mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS),
	       mnv2_model_plan_arena_bytes(m, MNV2_PLAN_FUSED), mnv2_model_tile_bytes(m));
	if (!r->op_ms)
		return;
	double total = 0;
	for (int i = 0; i < mnv2_model_num_ops(m); i++)
		total += r->op_ms[i];
	printf("\n%5s  %-20s %-18s %12s %9s %8s %6s\n", "index", "op", "shape", "MACs", "ms",
	       "GMAC/s", "%");
	for (int i = 0; i < mnv2_model_num_ops(m); i++) {
		mnv2_op_info op;
		char shape[96];
		mnv2_model_op_info(m, i, &op);
		op_shape(m, i, shape, sizeof shape);
		printf("%5d  %-20s %-18s %12llu %9.4f %8.2f %6.2f\n", i, op.name, shape,
		       (unsigned long long)op.macs, r->op_ms[i], gmacs(op.macs, r->op_ms[i]),
		       total > 0 ? 100 * r->op_ms[i] / total : 0);
	}
	printf("%5s  %-20s %-18s %12llu %9.4f %8.2f %6.2f\n", "", "total", "",
	       (unsigned long long)macs, total, gmacs(macs, total), 100.0);
}

static int cmd_bench(const mnv2_model *m, const cli *a)
{
	bench_result r = { 0 };
	mnv2_error err;
	mnv2_context *c = bench_context(m, a);
	if (!c)
		return 1;
	if (mnv2_context_set_threads(c, a->threads, &err)) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		mnv2_context_free(c);
		return 2;
	}
	int ret = bench_runs(c, a, mnv2_model_num_ops(m), &r);
	if (!ret && a->json)
		bench_print_json(m, c, a, &r);
	else if (!ret)
		bench_print_text(m, c, a, &r);
	free(r.op_ms);
	mnv2_context_free(c);
	return ret ? 1 : 0;
}

/* A/B: the layer-by-layer and the fused plan of the same file, run alternately in one
 * process (timing drifts; alternating exposes both plans to the same drift). */
static mnv2_context *ab_context(mnv2_model *m, const cli *a)
{
	mnv2_error err;
	mnv2_context *c = m ? bench_context(m, a) : NULL;
	if (c && mnv2_context_set_threads(c, a->threads, &err)) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		mnv2_context_free(c);
		c = NULL;
	}
	return c;
}

static void ab_stats(double *lat, int n, bench_result *r)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	r->min = lat[0];
	r->median = percentile(lat, n, 0.5);
	r->p90 = percentile(lat, n, 0.9);
	r->p99 = percentile(lat, n, 0.99);
	r->mean = sum / n;
}

static int cmd_bench_ab(const char *path, const cli *a)
{
	mnv2_error err;
	mnv2_load_options lo[2] = { { .plan = MNV2_PLAN_LAYERS, .tile_rows = a->tile_rows },
				    { .plan = MNV2_PLAN_FUSED, .tile_rows = a->tile_rows } };
	mnv2_model *m[2] = { NULL, NULL };
	mnv2_context *c[2] = { NULL, NULL };
	double *lat[2] = { calloc((size_t)a->iterations, sizeof(double)),
			   calloc((size_t)a->iterations, sizeof(double)) };
	bench_result r[2];
	memset(r, 0, sizeof r);
	int ok = lat[0] && lat[1];
	uint8_t *snap[2] = { NULL, NULL };
	for (int k = 0; ok && k < 2; k++) {
		if (!(m[k] = mnv2_model_load_ex(path, &lo[k], &err)))
			fprintf(stderr, "mnv2-model: %s\n", err.msg);
		ok = (c[k] = ab_context(m[k], a)) != NULL && (snap[k] = save_inputs(c[k])) != NULL;
	}
	for (int i = 0; ok && i < a->warmup + a->iterations; i++)
		for (int k = 0; ok && k < 2; k++) {
			int x = (i + k) % 2; /* alternate which plan goes first */
			restore_inputs(c[x], snap[x]);
			double t0 = now_ms();
			ok = !mnv2_context_run(c[x], &err);
			if (!ok)
				fprintf(stderr, "mnv2-model: %s\n", err.msg);
			if (i >= a->warmup)
				lat[x][i - a->warmup] = now_ms() - t0;
		}
	/* each iteration's fused/layers ratio (the two ran back to back): their median is
	 * robust to drift and to load from other processes */
	double *pair = ok ? calloc((size_t)a->iterations, sizeof *pair) : NULL, paired = 0;
	ok = ok && pair;
	for (int i = 0; ok && i < a->iterations; i++)
		pair[i] = lat[1][i] / lat[0][i];
	if (ok) {
		qsort(pair, (size_t)a->iterations, sizeof *pair, cmp_double);
		paired = percentile(pair, a->iterations, 0.5);
	}
	free(pair);
	for (int k = 0; ok && k < 2; k++)
		ab_stats(lat[k], a->iterations, &r[k]);
	if (ok && a->json) {
		printf("{\"model\":");
		json_string(mnv2_model_name(m[0]));
		printf(",\"path\":\"%s\",\"threads\":%d,\"iterations\":%d,\"warmup\":%d",
		       mnv2_kernel_path_name(mnv2_context_kernel_path(c[0])), a->threads,
		       a->iterations, a->warmup);
		for (int k = 0; k < 2; k++)
			printf(",\"%s\":{\"arena_bytes\":%zu,\"latency_ms\":{\"min\":%.4f,"
			       "\"median\":%.4f,\"p90\":%.4f,\"mean\":%.4f}}",
			       k ? "fused" : "layers", mnv2_model_arena_bytes(m[k]), r[k].min,
			       r[k].median, r[k].p90, r[k].mean);
		printf(",\"ratio_median\":%.4f,\"ratio_min\":%.4f,\"ratio_paired_median\":%.4f}\n",
		       r[1].median / r[0].median, r[1].min / r[0].min, paired);
	} else if (ok) {
		printf("model: %s\npath: %s  threads: %d  iterations: %d (interleaved)\n",
		       mnv2_model_name(m[0]), mnv2_kernel_path_name(mnv2_context_kernel_path(c[0])),
		       a->threads, a->iterations);
		for (int k = 0; k < 2; k++)
			printf("%-6s arena %8zu bytes  latency ms: min %.3f  median %.3f  p90 %.3f  "
			       "mean %.3f\n",
			       k ? "fused" : "layers", mnv2_model_arena_bytes(m[k]), r[k].min,
			       r[k].median, r[k].p90, r[k].mean);
		printf("fused/layers: medians %.4f  minima %.4f  median of paired runs %.4f\n",
		       r[1].median / r[0].median, r[1].min / r[0].min, paired);
	}
	for (int k = 0; k < 2; k++) {
		mnv2_context_free(c[k]);
		mnv2_model_free(m[k]);
		free(lat[k]);
		free(snap[k]);
	}
	return ok ? 0 : 1;
}

static int parse_number(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out >= lo && *out <= hi)) {
		fprintf(stderr, "mnv2-model: bad number '%s' (expected %g..%g)\n", s, lo, hi);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' }, { "output", required_argument, NULL, 'o' },
		{ "output-index", required_argument, NULL, 'x' }, { "labels", required_argument, NULL, 'l' },
		{ "top", required_argument, NULL, 'k' }, { "threshold", required_argument, NULL, 't' },
		{ "resize", required_argument, NULL, 'r' }, { "mode", required_argument, NULL, 'r' },
		{ "draw", required_argument, NULL, 'D' }, { "json", no_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 'T' },
		{ "iterations", required_argument, NULL, 'N' },
		{ "warmup", required_argument, NULL, 'W' }, { "path", required_argument, NULL, 'P' },
		{ "profile", no_argument, NULL, 'p' }, { "plan", required_argument, NULL, 'L' },
		{ "tile-rows", required_argument, NULL, 'R' }, { "ab", no_argument, NULL, 'A' },
		{ "filter", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 },
	};
	cli a = { .top = 5, .threshold = -1, .threads = 1, .iterations = 100, .warmup = 10,
		  .pre = { .mode = MNV2_RESIZE_STRETCH, .filter = MNV2_FILTER_ANTIALIAS } };
	double v;
	int o;
	while ((o = getopt_long(argc, argv, "i:o:x:l:k:t:r:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'i': a.input = optarg; break;
		case 'o': a.output = optarg; break;
		case 'l': a.labels = optarg; break;
		case 'j': a.json = 1; break;
		case 'x':
		case 'k':
			if (parse_number(optarg, 0, 100000, &v))
				return 2;
			*(o == 'x' ? &a.index : &a.top) = (int)v;
			break;
		case 't':
			if (parse_number(optarg, 0, 1, &v))
				return 2;
			a.threshold = (float)v;
			break;
		case 'r':
			if (mnv2_resize_mode_parse(strcmp(optarg, "crop") ? optarg : "center-crop",
						   &a.pre.mode)) {
				fprintf(stderr, "mnv2-model: unknown resize mode '%s'\n", optarg);
				return 2;
			}
			break;
		case 'F':
			if (mnv2_resize_filter_parse(optarg, &a.pre.filter)) {
				fprintf(stderr, "mnv2-model: unknown resize filter '%s' (antialias or "
					"bilinear)\n", optarg);
				return 2;
			}
			break;
		case 'T':
		case 'N':
		case 'W':
			if (parse_number(optarg, o == 'W' ? 0 : 1, o == 'T' ? 64 : 1000000, &v))
				return 2;
			*(o == 'T' ? &a.threads : o == 'N' ? &a.iterations : &a.warmup) = (int)v;
			break;
		case 'P': a.path = optarg; break;
		case 'D': a.draw = optarg; break;
		case 'p': a.profile = 1; break;
		case 'A': a.ab = 1; break;
		case 'L':
			if (mnv2_plan_mode_parse(optarg, &a.plan)) {
				fprintf(stderr, "mnv2-model: unknown plan '%s'\n", optarg);
				return 2;
			}
			break;
		case 'R':
			if (parse_number(optarg, 0, 4096, &v))
				return 2;
			a.tile_rows = (int)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind], *path = argv[optind + 1];
	int is_task = !strcmp(cmd, "classify") || !strcmp(cmd, "detect");
	if (is_task && argc - optind >= 3)
		a.input = argv[optind + 2];
	if (a.threshold < 0)
		a.threshold = !strcmp(cmd, "detect") ? 0.3f : 0.0f;
	int no_input = !strcmp(cmd, "info") || !strcmp(cmd, "bench");
	if ((!no_input && !a.input) || (!strcmp(cmd, "run") && !a.output) ||
	    (!no_input && strcmp(cmd, "run") && !is_task)) {
		usage(stderr);
		return 2;
	}
	if (a.ab && !strcmp(cmd, "bench"))
		return cmd_bench_ab(path, &a);
	mnv2_error err;
	mnv2_load_options lo = { .plan = a.plan, .tile_rows = a.tile_rows };
	mnv2_model *m = mnv2_model_load_ex(path, &lo, &err);
	if (!m) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		return 1;
	}
	int ret;
	if (!strcmp(cmd, "info"))
		ret = cmd_info(m);
	else if (!strcmp(cmd, "run"))
		ret = cmd_run(m, a.input, a.output, a.index, &a.pre);
	else if (!strcmp(cmd, "bench"))
		ret = cmd_bench(m, &a);
	else if (!strcmp(cmd, "classify"))
		ret = cmd_classify(m, &a);
	else
		ret = cmd_detect(m, &a);
	mnv2_model_free(m);
	return ret;
}
