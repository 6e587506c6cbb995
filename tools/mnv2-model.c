/* mnv2-model — inspect and run .tflite models with libmnv2.
 *
 *   mnv2-model info MODEL
 *   mnv2-model run MODEL --input IN.u8 --output OUT.bin [--output-index N]
 *   mnv2-model classify MODEL IN.u8 [--labels FILE] [--top K] [--json]
 */
#include "labels.h"
#include "mnv2/engine.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: mnv2-model info MODEL\n"
		   "       mnv2-model run MODEL --input IN.u8 --output OUT.bin [--output-index N]\n"
		   "       mnv2-model classify MODEL IN.u8 [--labels FILE] [--top K] [--json]\n");
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

/* Reads exactly `want` bytes from path into dst. */
static int read_input(const char *path, void *dst, size_t want)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "mnv2-model: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t got = fread(dst, 1, want, f);
	int extra = fgetc(f) != EOF;
	fclose(f);
	if (got != want || extra) {
		fprintf(stderr, "mnv2-model: %s: the model's input takes exactly %zu bytes\n", path,
			want);
		return -1;
	}
	return 0;
}

static mnv2_context *run_model(const mnv2_model *m, const char *input)
{
	mnv2_error err;
	size_t bytes;
	mnv2_context *c = mnv2_context_create(m, &err);
	if (!c) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		return NULL;
	}
	void *in = mnv2_context_input(c, 0, &bytes);
	if (read_input(input, in, bytes) || mnv2_context_run(c, &err)) {
		if (in)
			fprintf(stderr, "mnv2-model: %s\n", err.msg);
		mnv2_context_free(c);
		return NULL;
	}
	return c;
}

static int cmd_run(const mnv2_model *m, const char *input, const char *output, int index)
{
	size_t bytes;
	if (index < 0 || index >= mnv2_model_num_outputs(m)) {
		fprintf(stderr, "mnv2-model: output index %d out of range (0..%d)\n", index,
			mnv2_model_num_outputs(m) - 1);
		return 2;
	}
	mnv2_context *c = run_model(m, input);
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

/* Dequantized score of output element i. */
static double score_of(const mnv2_tensor_info *t, const void *data, size_t i)
{
	switch (t->type) {
	case MNV2_UINT8: return t->scale * (((const uint8_t *)data)[i] - t->zero_point);
	case MNV2_INT8: return t->scale * (((const int8_t *)data)[i] - t->zero_point);
	case MNV2_FLOAT32: return ((const float *)data)[i];
	default: return 0.0;
	}
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

static int cmd_classify(const mnv2_model *m, const char *input, const char *labels_path,
			int top, int json)
{
	mnv2_labels labels = { 0 };
	mnv2_tensor_info t;
	char err[256];
	size_t bytes;
	if (labels_path && mnv2_labels_load(labels_path, &labels, err, sizeof err)) {
		fprintf(stderr, "mnv2-model: %s\n", err);
		return 1;
	}
	mnv2_context *c = run_model(m, input);
	if (!c) {
		mnv2_labels_free(&labels);
		return 1;
	}
	mnv2_model_output_info(m, 0, &t);
	const void *out = mnv2_context_output(c, 0, &bytes);
	size_t n = bytes / (t.type == MNV2_FLOAT32 ? 4 : 1);
	char *taken = calloc(n ? n : 1, 1);
	if (json)
		printf("{\"model\":");
	if (json)
		json_string(mnv2_model_name(m));
	if (json)
		printf(",\"top\":[");
	for (int k = 0; taken && k < top && (size_t)k < n; k++) {
		size_t best = n;
		for (size_t i = 0; i < n; i++) /* ties: the lower index wins */
			if (!taken[i] && (best == n || score_of(&t, out, i) > score_of(&t, out, best)))
				best = i;
		taken[best] = 1;
		const char *label = labels.n ? (best < labels.n ? labels.line[best] : "?")
					     : mnv2_model_label(m, best);
		if (json) {
			printf("%s{\"index\":%zu,\"score\":%.6f,\"label\":", k ? "," : "", best,
			       score_of(&t, out, best));
			json_string(label ? label : "");
			printf("}");
		} else {
			printf("%d  %.6f  %4zu  %s\n", k + 1, score_of(&t, out, best), best,
			       label ? label : "");
		}
	}
	if (json)
		printf("]}\n");
	free(taken);
	mnv2_context_free(c);
	mnv2_labels_free(&labels);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' }, { "output", required_argument, NULL, 'o' },
		{ "output-index", required_argument, NULL, 'x' }, { "labels", required_argument, NULL, 'l' },
		{ "top", required_argument, NULL, 'k' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 },
	};
	const char *input = NULL, *output = NULL, *labels = NULL;
	int index = 0, top = 5, json = 0, o;
	char *end;
	while ((o = getopt_long(argc, argv, "i:o:x:l:k:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'i': input = optarg; break;
		case 'o': output = optarg; break;
		case 'l': labels = optarg; break;
		case 'j': json = 1; break;
		case 'x':
		case 'k': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 100000) {
				fprintf(stderr, "mnv2-model: bad number '%s'\n", optarg);
				return 2;
			}
			*(o == 'x' ? &index : &top) = (int)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind], *path = argv[optind + 1];
	if (!strcmp(cmd, "classify") && argc - optind >= 3)
		input = argv[optind + 2];
	if (strcmp(cmd, "info") && !input) {
		usage(stderr);
		return 2;
	}
	mnv2_error err;
	mnv2_model *m = mnv2_model_load(path, &err);
	if (!m) {
		fprintf(stderr, "mnv2-model: %s\n", err.msg);
		return 1;
	}
	int ret = 2;
	if (!strcmp(cmd, "info"))
		ret = cmd_info(m);
	else if (!strcmp(cmd, "run") && output)
		ret = cmd_run(m, input, output, index);
	else if (!strcmp(cmd, "classify"))
		ret = cmd_classify(m, input, labels, top, json);
	else
		usage(stderr);
	mnv2_model_free(m);
	return ret;
}
