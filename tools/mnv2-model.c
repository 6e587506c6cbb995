/* mnv2-model — inspect and run .tflite models with libmnv2.
 *
 *   mnv2-model info MODEL
 *   mnv2-model run MODEL --input IN --output OUT.bin [--output-index N]
 *   mnv2-model classify MODEL IN [--labels FILE] [--top K] [--resize MODE] [--json]
 *   mnv2-model detect MODEL IN [--labels FILE] [--threshold T] [--resize MODE] [--json]
 *
 * IN is a PNG or JPEG image (decoded, resized into the input tensor) or the input
 * tensor's raw bytes (exactly its size).
 */
#include "labels.h"
#include "mnv2/engine.h"
#include "mnv2/image.h"
#include "mnv2/preprocess.h"
#include "mnv2/tasks.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: mnv2-model info MODEL\n"
		   "       mnv2-model run MODEL --input IN --output OUT.bin [--output-index N]\n"
		   "       mnv2-model classify MODEL IN [--labels FILE] [--top K] [--resize MODE] [--json]\n"
		   "       mnv2-model detect MODEL IN [--labels FILE] [--threshold T] [--resize MODE] [--json]\n"
		   "IN: a PNG/JPEG image, or the input tensor's raw bytes. MODE: stretch (default),\n"
		   "letterbox, center-crop.\n");
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
	printf("arena: %zu bytes\n", mnv2_model_arena_bytes(m));
	if (mnv2_model_num_labels(m))
		printf("labels: %zu (embedded)\n", mnv2_model_num_labels(m));
	return 0;
}

/* Fills input 0 from `path`: a PNG/JPEG is decoded and preprocessed (tf receives the
 * mapping back to its pixels); anything else must be the tensor's exact raw bytes. */
static int fill_input(const mnv2_model *m, mnv2_context *c, const char *path,
		      mnv2_resize_mode mode, mnv2_transform *tf)
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
	mnv2_preprocess_opts o = { .mode = mode };
	int r = mnv2_preprocess(&v, &in, &o, dst, want, tf, &err);
	if (r)
		fprintf(stderr, "mnv2-model: %s: %s\n", path, err.msg);
	mnv2_image_free(&img);
	return r;
}

static mnv2_context *run_model(const mnv2_model *m, const char *input, mnv2_resize_mode mode,
			       mnv2_transform *tf)
{
	mnv2_error err;
	mnv2_transform dummy;
	mnv2_context *c = mnv2_context_create(m, &err);
	if (!c) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		return NULL;
	}
	if (fill_input(m, c, input, mode, tf ? tf : &dummy)) {
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
		   mnv2_resize_mode mode)
{
	size_t bytes;
	if (index < 0 || index >= mnv2_model_num_outputs(m)) {
		fprintf(stderr, "mnv2-model: output index %d out of range (0..%d)\n", index,
			mnv2_model_num_outputs(m) - 1);
		return 2;
	}
	mnv2_context *c = run_model(m, input, mode, NULL);
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
	const char *input, *output, *labels;
	int index, top, json;
	float threshold;
	mnv2_resize_mode mode;
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
	mnv2_context *c = run_model(m, a->input, a->mode, NULL);
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
	mnv2_context *c = run_model(m, a->input, a->mode, &tf);
	size_t n = c ? mnv2_detections(c, &tf, a->threshold, 256, d) : 0;
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
	return c ? 0 : 1;
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
		{ "resize", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 },
	};
	cli a = { .top = 5, .threshold = -1, .mode = MNV2_RESIZE_STRETCH };
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
			if (mnv2_resize_mode_parse(optarg, &a.mode)) {
				fprintf(stderr, "mnv2-model: unknown resize mode '%s'\n", optarg);
				return 2;
			}
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
	if ((strcmp(cmd, "info") && !a.input) || (!strcmp(cmd, "run") && !a.output) ||
	    (strcmp(cmd, "info") && strcmp(cmd, "run") && !is_task)) {
		usage(stderr);
		return 2;
	}
	mnv2_error err;
	mnv2_model *m = mnv2_model_load(path, &err);
	if (!m) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		return 1;
	}
	int ret;
	if (!strcmp(cmd, "info"))
		ret = cmd_info(m);
	else if (!strcmp(cmd, "run"))
		ret = cmd_run(m, a.input, a.output, a.index, a.mode);
	else if (!strcmp(cmd, "classify"))
		ret = cmd_classify(m, &a);
	else
		ret = cmd_detect(m, &a);
	mnv2_model_free(m);
	return ret;
}
