/* fuzz_load — libFuzzer harness for the model loader: load + plan (+ one run).
 *
 * Every input is handed to mnv2_model_load_buffer() without a copy (keep=1), so ASan sees
 * any read past the fuzzer's exactly-sized buffer. A failed load must leave a non-empty
 * error message. A model that loads is described through every public accessor (so the
 * planner's and parser's results are read back), and when its arena is at most 64 MiB and
 * its work at most 50M multiply-accumulates (so one run stays fast under sanitizers), a
 * context is created and the model runs once on a zero input and once on a 0xff input.
 * Copy-like operators (RESHAPE, CONCATENATION, PAD) count no MACs, so the bytes all
 * operators write are bounded too (256 MiB per run).
 *
 * Build: scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined). Built with
 * -DMNV2_FUZZ_STANDALONE instead, it is an ordinary program (any compiler, no libFuzzer):
 * `fuzz_load_replay PATH...` runs the harness once on every file given or found in a
 * given directory, so a seed corpus or saved reproducers can run as a regression test. */
#include "mnv2/engine.h"
#include "mnv2/ssd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef MNV2_FUZZ_STANDALONE
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#endif

#define FUZZ_MAX_ARENA ((size_t)64 << 20)
#define FUZZ_MAX_MACS 50000000ull
#define FUZZ_MAX_BYTES_MOVED ((uint64_t)256 << 20)

/* Touches every byte of a string the engine returns, so a dangling or unterminated one
 * trips ASan here rather than in a client. */
static size_t touch(const char *s)
{
	if (!s)
		abort();
	return strlen(s);
}

/* Bytes all operators write in one run. */
static uint64_t bytes_written(const mnv2_model *m)
{
	uint64_t total = 0;
	mnv2_op_info oi;
	mnv2_tensor_info ti;
	for (int i = 0; i < mnv2_model_num_ops(m); i++)
		if (mnv2_model_op_info(m, i, &oi) == 0)
			for (int k = 0; k < oi.num_outputs; k++)
				if (mnv2_model_tensor_info(m, oi.outputs[k], &ti) == 0)
					total += ti.bytes;
	return total;
}

static void describe(const mnv2_model *m)
{
	mnv2_tensor_info ti;
	mnv2_op_info oi;
	size_t sum = 0;
	for (int i = 0; i < mnv2_model_num_inputs(m); i++)
		if (mnv2_model_input_info(m, i, &ti) == 0)
			sum += touch(ti.name) + ti.bytes;
	for (int i = 0; i < mnv2_model_num_outputs(m); i++)
		if (mnv2_model_output_info(m, i, &ti) == 0)
			sum += touch(ti.name) + ti.bytes;
	for (int i = 0; i < mnv2_model_num_tensors(m); i++)
		if (mnv2_model_tensor_info(m, i, &ti) == 0) {
			if (ti.rank < 0 || ti.rank > MNV2_MAX_RANK)
				abort();
			sum += touch(ti.name);
		}
	for (int i = 0; i < mnv2_model_num_ops(m); i++) {
		if (mnv2_model_op_info(m, i, &oi) != 0)
			abort();
		sum += touch(oi.name);
		for (int k = 0; k < oi.num_inputs; k++)
			if (oi.inputs[k] < -1 || oi.inputs[k] >= mnv2_model_num_tensors(m))
				abort();
		for (int k = 0; k < oi.num_outputs; k++)
			if (oi.outputs[k] < 0 || oi.outputs[k] >= mnv2_model_num_tensors(m))
				abort();
	}
	sum += touch(mnv2_model_name(m)) + touch(mnv2_model_description(m));
	sum += touch(mnv2_model_metadata_name(m)) + touch(mnv2_model_metadata_description(m));
	for (size_t i = 0; i < mnv2_model_num_labels(m); i++)
		sum += touch(mnv2_model_label(m, i));
	if (mnv2_model_label(m, mnv2_model_num_labels(m)) != NULL)
		abort();
	(void)sum;
}

static void run_once(const mnv2_model *m, int fill)
{
	mnv2_error err;
	err.msg[0] = '\0';
	mnv2_context *c = mnv2_context_create(m, &err);
	if (!c)
		return; /* the arena could not be allocated: allowed, not a finding */
	for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
		size_t n = 0;
		void *p = mnv2_context_input(c, i, &n);
		if (!p)
			abort();
		memset(p, fill, n);
	}
	if (mnv2_context_run(c, &err) != 0 && !err.msg[0])
		abort(); /* a failed run must say why */
	for (int i = 0; i < mnv2_model_num_outputs(m); i++) {
		size_t n = 0;
		const uint8_t *p = mnv2_context_output(c, i, &n);
		volatile uint8_t acc = 0;
		if (!p)
			abort();
		for (size_t k = 0; k < n; k++) /* outputs must lie inside memory we own */
			acc ^= p[k];
		(void)acc;
	}
	mnv2_context_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mnv2_error err;
	err.msg[0] = '\0';
	mnv2_model *m = mnv2_model_load_buffer(data, size, "fuzz.tflite", 1, &err);
	if (!m) {
		if (!err.msg[0] || !memchr(err.msg, '\0', sizeof err.msg))
			abort(); /* every failure names its reason */
		return 0;
	}
	describe(m);
	int small = mnv2_model_arena_bytes(m) <= FUZZ_MAX_ARENA &&
		    mnv2_model_macs(m) <= FUZZ_MAX_MACS && bytes_written(m) <= FUZZ_MAX_BYTES_MOVED;
	if (small) {
		run_once(m, 0);
		run_once(m, 0xff);
	}
	int chains = mnv2_model_num_chains(m);
	mnv2_model_free(m);
	if (small && chains) { /* the fused plan with one-row tiles, whatever the default */
		mnv2_load_options o = { .plan = MNV2_PLAN_FUSED, .tile_rows = 1 };
		err.msg[0] = '\0';
		if (!(m = mnv2_model_load_buffer_ex(data, size, "fuzz.tflite", 1, &o, &err))) {
			if (!err.msg[0])
				abort();
			return 0;
		}
		if (mnv2_model_arena_bytes(m) <= FUZZ_MAX_ARENA)
			run_once(m, 0x80);
		mnv2_model_free(m);
	}
	return 0;
}

#ifdef MNV2_FUZZ_STANDALONE
#define REPLAY_MAX_BYTES ((size_t)64 << 20)

/* Runs the harness on one file; returns 0 when it could be read. */
static int replay_file(const char *path)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size > REPLAY_MAX_BYTES) {
		fprintf(stderr, "fuzz_load_replay: cannot read %s (or over 64 MiB)\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1); /* exactly sized, as libFuzzer passes it */
	int ok = buf && fread(buf, 1, n, f) == n;
	fclose(f);
	if (ok)
		LLVMFuzzerTestOneInput(buf, n);
	else
		fprintf(stderr, "fuzz_load_replay: cannot read %s\n", path);
	free(buf);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	int bad = 0, runs = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz_load_replay: %s does not exist\n", argv[i]);
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= replay_file(argv[i]) != 0;
			runs++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			if (snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name) >= (int)sizeof path)
				continue;
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				bad |= replay_file(path) != 0;
				runs++;
			}
		}
		if (d)
			closedir(d);
		else
			bad = 1;
	}
	printf("fuzz_load_replay: %d inputs\n", runs);
	return bad || runs == 0;
}
#endif
