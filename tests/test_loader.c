/* test_loader — loading models and describing them: the synthetic MobileNetV2 (uint8 and int8
 * per-channel) and SSDLite-shaped models, one-operator models of every supported operator
 * (each run and compared with a plain reference computed here), the model info accessors
 * (shapes, types, quantization, op list, MACs, parameter and arena bytes), the static
 * memory plan (no two live tensors overlap; memory is reused), rejection of unsupported
 * operators and types with a message naming them, TFLite metadata with labels in an
 * appended zip, concurrent inference from several threads, and no allocation while running.
 *
 * White-box where it says so: the plan checks read the engine's private model.h. */
#include "mnv2/engine.h"
#include "model.h"
#include "synth_models.h"
#include "test_util.h"
#include "tflite_writer.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------ */
/* Counting allocator: the executable's malloc family wraps glibc's, so a test can assert  */
/* that mnv2_context_run() allocates nothing. Not with sanitizers (they own malloc).        */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MNV2_NO_MALLOC_WRAP 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define MNV2_NO_MALLOC_WRAP 1
#endif
#endif
#if !defined(__GLIBC__)
#define MNV2_NO_MALLOC_WRAP 1
#endif

#ifndef MNV2_NO_MALLOC_WRAP
#define HAVE_ALLOC_COUNTER 1
static volatile int g_count_allocs;
static volatile unsigned long g_allocs;

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t s);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);
extern void __libc_free(void *p);

static void count_alloc(void)
{
	if (g_count_allocs)
		__atomic_add_fetch(&g_allocs, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
	count_alloc();
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t s)
{
	count_alloc();
	return __libc_calloc(n, s);
}
void *realloc(void *p, size_t n)
{
	count_alloc();
	return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n)
{
	count_alloc();
	return __libc_memalign(a, n);
}
int posix_memalign(void **out, size_t a, size_t n)
{
	count_alloc();
	void *p = __libc_memalign(a, n);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}
void free(void *p)
{
	if (p)
		count_alloc();
	__libc_free(p);
}
#endif

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                               */

static uint8_t *finish(tfw_model *m, size_t *len)
{
	uint8_t *p = NULL;
	ck_assert_msg(tfw_finish(m, &p, len) == 0, "tfw_finish: %s", tfw_last_error(m));
	tfw_free(m);
	return p;
}

static mnv2_model *load_ok(const uint8_t *p, size_t n, const char *name)
{
	mnv2_error err;
	err.msg[0] = '\0';
	mnv2_model *m = mnv2_model_load_buffer(p, n, name, 0, &err);
	ck_assert_msg(m != NULL, "%s does not load: %s", name, err.msg);
	return m;
}

/* Loading fails and the message contains every given substring (NULL-terminated list). */
static void load_fails(const uint8_t *p, size_t n, const char *name, ...)
{
	mnv2_error err;
	err.msg[0] = '\0';
	mnv2_model *m = mnv2_model_load_buffer(p, n, name, 0, &err);
	ck_assert_msg(m == NULL, "%s loaded but should not", name);
	ck_assert_msg(err.msg[0] != '\0', "%s: empty error message", name);
	va_list ap;
	va_start(ap, name);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
		ck_assert_msg(strstr(err.msg, s) != NULL, "%s: error \"%s\" does not mention \"%s\"",
			      name, err.msg, s);
	va_end(ap);
}

static void fill_random(void *p, size_t n, uint32_t seed)
{
	uint8_t *b = p;
	uint32_t s = seed ? seed : 1;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(test_rand(&s) >> 13);
}

static mnv2_context *context_ok(const mnv2_model *m)
{
	mnv2_error err;
	err.msg[0] = '\0';
	mnv2_context *c = mnv2_context_create(m, &err);
	ck_assert_msg(c != NULL, "context: %s", err.msg);
	return c;
}

static void run_ok(mnv2_context *c)
{
	mnv2_error err;
	err.msg[0] = '\0';
	ck_assert_msg(mnv2_context_run(c, &err) == 0, "run: %s", err.msg);
}

static size_t align64(size_t n) { return (n + 63) / 64 * 64; }

/* Tensors the fused plan keeps only in a chain's row buffers. */
static int in_chain(const mnv2_model *m, int t)
{
	for (int c = 0; m->plan == MNV2_PLAN_FUSED && c < m->nchains; c++)
		for (int k = 0; k < m->chains[c].nmid; k++)
			if (m->chains[c].mid[k] == t)
				return 1;
	return 0;
}

typedef struct span {
	size_t off, bytes;
	int first, last, id;
} span;

/* White-box plan check: every activation (and in the fused plan every chain's tile region)
 * has a slot inside the arena, 64-byte aligned, and no two whose lifetimes intersect share
 * a byte. Returns the sum of their bytes (each rounded up to 64). */
static size_t check_plan(const mnv2_model *m)
{
	size_t sum = 0, scratch = 0;
	int n = 0;
	span *s = calloc((size_t)m->ntensors + (size_t)m->nchains + 1, sizeof *s);
	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < m->ntensors; i++) {
		const mnv2_tensor *t = &m->tensors[i];
		if (!t->is_const && t->planned)
			s[n++] = (span){ t->offset, t->bytes, t->first_op, t->last_op, i };
	}
	for (int c = 0; m->plan == MNV2_PLAN_FUSED && c < m->nchains; c++)
		s[n++] = (span){ m->chains[c].offset, m->chains[c].bytes, m->chains[c].first,
				 m->chains[c].last, -1 - c };
	for (int i = 0; i < n; i++) {
		const span *t = &s[i];
		ck_assert_msg(t->off % 64 == 0, "slot %d offset %zu not aligned", t->id, t->off);
		ck_assert_msg(t->off + t->bytes <= m->scratch_offset && m->scratch_offset <= m->arena_bytes,
			      "slot %d [%zu,+%zu) outside the %zu-byte arena or over the op scratch",
			      t->id, t->off, t->bytes, m->arena_bytes);
		sum += align64(t->bytes);
		for (int j = i + 1; j < n; j++) {
			const span *u = &s[j];
			if (u->bytes == 0 || t->bytes == 0)
				continue;
			int live = t->first <= u->last && u->first <= t->last;
			int overlap = t->off < u->off + u->bytes && u->off < t->off + t->bytes;
			ck_assert_msg(!(live && overlap),
				      "slots %d (ops %d..%d, [%zu,+%zu)) and %d (ops %d..%d, [%zu,+%zu)) "
				      "are live together and overlap (tensor ids >= 0, chains -1 - c)",
				      t->id, t->first, t->last, t->off, t->bytes, u->id, u->first, u->last,
				      u->off, u->bytes);
		}
	}
	free(s);
	/* every non-constant tensor that an op reads or writes has a slot, but those inside a
	 * fused chain */
	for (int o = 0; o < m->nops; o++) {
		const mnv2_op *op = &m->ops[o];
		for (int k = 0; k < op->nin; k++)
			if (op->in[k] >= 0 && !m->tensors[op->in[k]].is_const)
				ck_assert_msg(m->tensors[op->in[k]].planned != in_chain(m, op->in[k]),
					      "op %d input %d: planned %d, inside a chain %d", o, k,
					      m->tensors[op->in[k]].planned, in_chain(m, op->in[k]));
		for (int k = 0; k < op->nout; k++)
			ck_assert_msg(m->tensors[op->out[k]].planned != in_chain(m, op->out[k]),
				      "op %d output %d: planned %d, inside a chain %d", o, k,
				      m->tensors[op->out[k]].planned, in_chain(m, op->out[k]));
		scratch = op->scratch_bytes > scratch ? op->scratch_bytes : scratch;
	}
	ck_assert_uint_gt(m->arena_bytes, 0);
	ck_assert_msg(m->arena_bytes <= sum + align64(scratch) + 64,
		      "arena %zu exceeds the activations' %zu bytes + scratch %zu", m->arena_bytes,
		      sum, scratch);
	return sum;
}

static size_t const_bytes(const mnv2_model *m)
{
	size_t n = 0;
	for (int i = 0; i < m->ntensors; i++)
		if (m->tensors[i].is_const)
			n += m->tensors[i].bytes;
	return n;
}

static uint64_t sum_op_macs(const mnv2_model *m)
{
	uint64_t s = 0;
	mnv2_op_info oi;
	for (int i = 0; i < mnv2_model_num_ops(m); i++) {
		ck_assert_int_eq(mnv2_model_op_info(m, i, &oi), 0);
		s += oi.macs;
	}
	return s;
}

static int has_op(const mnv2_model *m, const char *name)
{
	mnv2_op_info oi;
	for (int i = 0; i < mnv2_model_num_ops(m); i++)
		if (mnv2_model_op_info(m, i, &oi) == 0 && !strcmp(oi.name, name))
			return 1;
	return 0;
}

static void expect_tensor(const mnv2_tensor_info *t, mnv2_dtype type, int rank,
			  const int32_t *dims)
{
	ck_assert_msg(t->type == type, "tensor %s: type %d, expected %d", t->name, t->type, type);
	ck_assert_int_eq(t->rank, rank);
	size_t count = 1;
	for (int i = 0; i < rank; i++) {
		ck_assert_msg(t->dims[i] == dims[i], "tensor %s: dim %d is %d, expected %d", t->name,
			      i, t->dims[i], dims[i]);
		count *= (size_t)dims[i];
	}
	ck_assert_uint_eq(t->bytes, count * mnv2_dtype_size(type));
}

/* ------------------------------------------------------------------------------------ */
/* Synthetic models                                                                      */

static mnv2_model *load_synth(enum synth_kind kind)
{
	uint8_t *p = NULL;
	size_t n = 0;
	ck_assert_int_eq(synth_model(kind, 1, NULL, &p, &n), 0);
	mnv2_model *m = load_ok(p, n, "synth.tflite");
	free(p); /* keep=0: the model holds its own copy */
	return m;
}

/* Runs the model on a deterministic random input; returns a malloc'd copy of output o. */
static uint8_t *run_synth(const mnv2_model *m, uint32_t seed, int o, size_t *len)
{
	mnv2_context *c = context_ok(m);
	size_t n;
	void *in = mnv2_context_input(c, 0, &n);
	ck_assert_ptr_nonnull(in);
	fill_random(in, n, seed);
	run_ok(c);
	const void *out = mnv2_context_output(c, o, len);
	ck_assert_ptr_nonnull(out);
	uint8_t *copy = malloc(*len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, out, *len);
	mnv2_context_free(c);
	return copy;
}

static void check_common_info(const mnv2_model *m)
{
	ck_assert_uint_gt(mnv2_model_macs(m), 0);
	ck_assert(mnv2_model_macs(m) == sum_op_macs(m));
	ck_assert_uint_gt(mnv2_model_param_bytes(m), 0);
	ck_assert_uint_eq(mnv2_model_param_bytes(m), const_bytes(m));
	size_t sum = check_plan(m);
	ck_assert_msg(mnv2_model_arena_bytes(m) < sum, "no reuse: arena %zu, activations %zu",
		      mnv2_model_arena_bytes(m), sum);
	/* accessor bounds */
	mnv2_tensor_info ti;
	mnv2_op_info oi;
	ck_assert_int_eq(mnv2_model_input_info(m, -1, &ti), -1);
	ck_assert_int_eq(mnv2_model_input_info(m, mnv2_model_num_inputs(m), &ti), -1);
	ck_assert_int_eq(mnv2_model_output_info(m, mnv2_model_num_outputs(m), &ti), -1);
	ck_assert_int_eq(mnv2_model_tensor_info(m, mnv2_model_num_tensors(m), &ti), -1);
	ck_assert_int_eq(mnv2_model_tensor_info(m, -1, &ti), -1);
	ck_assert_int_eq(mnv2_model_op_info(m, mnv2_model_num_ops(m), &oi), -1);
	ck_assert_int_eq(mnv2_model_op_info(m, -1, &oi), -1);
	for (int i = 0; i < mnv2_model_num_ops(m); i++) {
		ck_assert_int_eq(mnv2_model_op_info(m, i, &oi), 0);
		ck_assert_int_eq(oi.index, i);
		ck_assert_ptr_nonnull(oi.name);
		for (int k = 0; k < oi.num_inputs; k++)
			ck_assert(oi.inputs[k] >= -1 && oi.inputs[k] < mnv2_model_num_tensors(m));
		for (int k = 0; k < oi.num_outputs; k++)
			ck_assert(oi.outputs[k] >= 0 && oi.outputs[k] < mnv2_model_num_tensors(m));
	}
	ck_assert_str_eq(mnv2_model_name(m), "synth.tflite");
	ck_assert_uint_eq(mnv2_model_num_labels(m), 0);
	ck_assert_ptr_null(mnv2_model_label(m, 0));
}

START_TEST(test_synth_mnv2_uint8)
{
	mnv2_model *m = load_synth(SYNTH_MNV2_UINT8);
	mnv2_tensor_info ti;
	static const int32_t in_dims[4] = { 1, SYNTH_MNV2_INPUT_SIZE, SYNTH_MNV2_INPUT_SIZE, 3 };
	static const int32_t out_dims[2] = { 1, SYNTH_MNV2_CLASSES };
	ck_assert_int_eq(mnv2_model_num_inputs(m), 1);
	ck_assert_int_eq(mnv2_model_num_outputs(m), 1);
	ck_assert_int_eq(mnv2_model_input_info(m, 0, &ti), 0);
	expect_tensor(&ti, MNV2_UINT8, 4, in_dims);
	ck_assert(ti.quantized && ti.scale == 1.0f / 128 && ti.zero_point == 128);
	ck_assert_int_eq(ti.quant_channels, 1);
	ck_assert_int_eq(mnv2_model_output_info(m, 0, &ti), 0);
	expect_tensor(&ti, MNV2_UINT8, 2, out_dims);
	ck_assert(ti.quantized && ti.scale == 1.0f / 256 && ti.zero_point == 0);
	mnv2_op_info oi;
	ck_assert_int_eq(mnv2_model_op_info(m, 0, &oi), 0);
	ck_assert_str_eq(oi.name, "CONV_2D");
	ck_assert_int_eq(mnv2_model_op_info(m, mnv2_model_num_ops(m) - 1, &oi), 0);
	ck_assert_str_eq(oi.name, "SOFTMAX");
	ck_assert(has_op(m, "DEPTHWISE_CONV_2D") && has_op(m, "ADD") &&
		  has_op(m, "AVERAGE_POOL_2D") && has_op(m, "RESHAPE"));
	check_common_info(m);
	/* softmax output: probabilities summing to about 1, depending on the input */
	size_t n;
	uint8_t *a = run_synth(m, 7, 0, &n), *b = run_synth(m, 8, 0, &n), *a2 = run_synth(m, 7, 0, &n);
	ck_assert_uint_eq(n, SYNTH_MNV2_CLASSES);
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += a[i];
	ck_assert_msg(sum >= 246 && sum <= 266, "softmax outputs sum to %u/256", sum);
	ck_assert_msg(memcmp(a, b, n) != 0, "output does not depend on the input");
	ck_assert_msg(memcmp(a, a2, n) == 0, "output is not deterministic");
	free(a);
	free(b);
	free(a2);
	mnv2_model_free(m);
}
END_TEST

START_TEST(test_synth_mnv2_int8pc)
{
	mnv2_model *m = load_synth(SYNTH_MNV2_INT8PC);
	mnv2_tensor_info ti;
	static const int32_t in_dims[4] = { 1, SYNTH_MNV2_INPUT_SIZE, SYNTH_MNV2_INPUT_SIZE, 3 };
	static const int32_t out_dims[2] = { 1, SYNTH_MNV2_CLASSES };
	ck_assert_int_eq(mnv2_model_input_info(m, 0, &ti), 0);
	expect_tensor(&ti, MNV2_UINT8, 4, in_dims);
	ck_assert(ti.quantized && ti.scale == 1.0f / 127.5f && ti.zero_point == 127);
	ck_assert_int_eq(mnv2_model_output_info(m, 0, &ti), 0);
	expect_tensor(&ti, MNV2_UINT8, 2, out_dims);
	mnv2_op_info oi;
	ck_assert_int_eq(mnv2_model_op_info(m, 0, &oi), 0);
	ck_assert_str_eq(oi.name, "QUANTIZE");
	ck_assert(has_op(m, "MEAN") && has_op(m, "SOFTMAX") && has_op(m, "CONV_2D"));
	/* per-channel weights are reported as such: conv weights on axis 0, depthwise on 3 */
	int per_channel = 0, dw_axis3 = 0;
	for (int i = 0; i < mnv2_model_num_ops(m); i++) {
		mnv2_model_op_info(m, i, &oi);
		if (strcmp(oi.name, "CONV_2D") && strcmp(oi.name, "DEPTHWISE_CONV_2D"))
			continue;
		ck_assert_int_eq(mnv2_model_tensor_info(m, oi.inputs[1], &ti), 0);
		ck_assert_int_eq(ti.type, MNV2_INT8);
		if (ti.quant_channels > 1) {
			per_channel++;
			ck_assert_int_eq(ti.quant_channels,
					 ti.dims[!strcmp(oi.name, "CONV_2D") ? 0 : 3]);
			dw_axis3 += !strcmp(oi.name, "DEPTHWISE_CONV_2D") && ti.quant_axis == 3;
		}
	}
	ck_assert_int_gt(per_channel, 0);
	ck_assert_int_gt(dw_axis3, 0);
	check_common_info(m);
	size_t n;
	uint8_t *a = run_synth(m, 3, 0, &n), *b = run_synth(m, 4, 0, &n);
	ck_assert_uint_eq(n, SYNTH_MNV2_CLASSES);
	ck_assert(memcmp(a, b, n) != 0);
	free(a);
	free(b);
	mnv2_model_free(m);
}
END_TEST

START_TEST(test_synth_ssdlite)
{
	mnv2_model *m = load_synth(SYNTH_SSDLITE_HEAD);
	mnv2_tensor_info ti;
	static const int32_t in_dims[4] = { 1, SYNTH_SSD_INPUT_SIZE, SYNTH_SSD_INPUT_SIZE, 3 };
	static const int32_t boxes[3] = { 1, SYNTH_SSD_ANCHORS, 4 };
	static const int32_t scores[3] = { 1, SYNTH_SSD_ANCHORS, SYNTH_SSD_CLASSES };
	ck_assert_int_eq(mnv2_model_input_info(m, 0, &ti), 0);
	expect_tensor(&ti, MNV2_UINT8, 4, in_dims);
	ck_assert_int_eq(mnv2_model_num_outputs(m), 2);
	ck_assert_int_eq(mnv2_model_output_info(m, 0, &ti), 0);
	expect_tensor(&ti, MNV2_UINT8, 3, boxes);
	ck_assert_int_eq(mnv2_model_output_info(m, 1, &ti), 0);
	expect_tensor(&ti, MNV2_UINT8, 3, scores);
	ck_assert(ti.scale == 1.0f / 256 && ti.zero_point == 0);
	ck_assert(has_op(m, "CONCATENATION") && has_op(m, "LOGISTIC") && has_op(m, "RESHAPE"));
	check_common_info(m);
	size_t n1, n2;
	uint8_t *a = run_synth(m, 5, 1, &n1), *b = run_synth(m, 6, 0, &n2);
	ck_assert_uint_eq(n1, (size_t)SYNTH_SSD_ANCHORS * SYNTH_SSD_CLASSES);
	ck_assert_uint_eq(n2, (size_t)SYNTH_SSD_ANCHORS * 4);
	int distinct = 0;
	for (size_t i = 1; i < n1; i++)
		distinct += a[i] != a[0];
	ck_assert_msg(distinct > 0, "all class scores equal");
	free(a);
	free(b);
	mnv2_model_free(m);
}
END_TEST

START_TEST(test_load_from_file)
{
	uint8_t *p = NULL;
	size_t n = 0;
	char path[] = "/tmp/mnv2-test-loader-XXXXXX";
	mnv2_error err;
	ck_assert_int_eq(synth_model(SYNTH_MNV2_UINT8, 1, NULL, &p, &n), 0);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert(write(fd, p, n) == (ssize_t)n);
	close(fd);
	mnv2_model *m = mnv2_model_load(path, &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	ck_assert_str_eq(mnv2_model_name(m), path);
	mnv2_context *c = context_ok(m);
	run_ok(c);
	mnv2_context_free(c);
	mnv2_model_free(m);
	/* a truncated file names the path */
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_assert_ptr_null(mnv2_model_load(path, &err));
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	ck_assert_int_eq(truncate(path, 4), 0);
	ck_assert_ptr_null(mnv2_model_load(path, &err));
	ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "4 bytes"), "%s", err.msg);
	unlink(path);
	ck_assert_ptr_null(mnv2_model_load(path, &err));
	ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "cannot open"), "%s", err.msg);
	ck_assert_ptr_null(mnv2_model_load("/tmp", &err));
	ck_assert_msg(strstr(err.msg, "not a regular file"), "%s", err.msg);
	ck_assert_ptr_null(mnv2_model_load("/tmp", NULL)); /* err may be NULL */
	free(p);
}
END_TEST

START_TEST(test_keep_buffer)
{
	/* keep=1 uses the caller's bytes in place; keep=0 copies them */
	uint8_t *p = NULL;
	size_t n = 0;
	mnv2_error err;
	ck_assert_int_eq(synth_model(SYNTH_MNV2_UINT8, 1, NULL, &p, &n), 0);
	mnv2_model *kept = mnv2_model_load_buffer(p, n, NULL, 1, &err);
	ck_assert_msg(kept != NULL, "%s", err.msg);
	ck_assert_str_eq(mnv2_model_name(kept), "<buffer>");
	mnv2_model *copied = mnv2_model_load_buffer(p, n, "copy", 0, &err);
	ck_assert_msg(copied != NULL, "%s", err.msg);
	size_t l1, l2;
	uint8_t *a = run_synth(kept, 9, 0, &l1);
	mnv2_model_free(kept);
	memset(p, 0, n); /* the copy must not see this */
	free(p);
	uint8_t *b = run_synth(copied, 9, 0, &l2);
	ck_assert_uint_eq(l1, l2);
	ck_assert_msg(memcmp(a, b, l1) == 0, "copied model differs from the kept one");
	free(a);
	free(b);
	mnv2_model_free(copied);
}
END_TEST

START_TEST(test_context_api)
{
	mnv2_model *m = load_synth(SYNTH_MNV2_UINT8);
	mnv2_context *c = context_ok(m);
	mnv2_error err;
	size_t n;
	ck_assert_ptr_eq(mnv2_context_model(c), m);
	ck_assert_ptr_null(mnv2_context_input(c, 1, &n));
	ck_assert_ptr_null(mnv2_context_input(c, -1, &n));
	ck_assert_ptr_null(mnv2_context_output(c, 1, &n));
	ck_assert_ptr_null(mnv2_context_output(c, -1, &n));
	void *in = mnv2_context_input(c, 0, &n);
	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(n, 16 * 16 * 3);
	uint8_t buf[16 * 16 * 3];
	fill_random(buf, sizeof buf, 11);
	ck_assert_int_eq(mnv2_context_set_input(c, 0, buf, sizeof buf, &err), 0);
	ck_assert(memcmp(in, buf, sizeof buf) == 0);
	ck_assert_int_eq(mnv2_context_set_input(c, 0, buf, sizeof buf - 1, &err), -1);
	ck_assert_msg(strstr(err.msg, "768") && strstr(err.msg, "767"), "%s", err.msg);
	ck_assert_int_eq(mnv2_context_set_input(c, 1, buf, sizeof buf, &err), -1);
	ck_assert_msg(strstr(err.msg, "no input 1"), "%s", err.msg);
	ck_assert_int_eq(mnv2_context_set_input(c, 0, buf, sizeof buf, NULL), 0);
	run_ok(c);
	mnv2_context_free(c);
	mnv2_context_free(NULL);
	mnv2_model_free(m);
	mnv2_model_free(NULL);
	ck_assert_str_eq(mnv2_dtype_name(MNV2_INT8), "int8");
	ck_assert_str_eq(mnv2_dtype_name(MNV2_FLOAT32), "float32");
	ck_assert_ptr_nonnull(mnv2_version());
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* One-operator models, each run and compared with a reference computed here             */

/* A model with one operator built by the case, its reference, and the expectations. */
typedef struct qp {
	float s;
	int zp;
} qp;

static int qclamp(long v, int is_signed)
{
	int lo = is_signed ? -128 : 0, hi = lo + 255;
	return v < lo ? lo : v > hi ? hi : (int)v;
}

static int q_at(const void *p, size_t i, int is_signed)
{
	return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* Compares n quantized outputs with a reference; at most tol apart. */
static void expect_close(const char *what, const void *got, const int *want, size_t n,
			 int is_signed, int tol)
{
	for (size_t i = 0; i < n; i++) {
		int g = q_at(got, i, is_signed);
		ck_assert_msg(abs(g - want[i]) <= tol, "%s: output %zu is %d, reference %d", what, i,
			      g, want[i]);
	}
}

static void rand_bytes(uint8_t *p, size_t n, uint32_t seed) { fill_random(p, n, seed); }

/* Loads the model, checks it has one operator named op, fills each input with random
 * bytes, runs it; returns the context (the caller frees context and model). */
static mnv2_context *one_op_run(tfw_model *tm, const char *op, mnv2_model **mout)
{
	size_t n;
	uint8_t *p = finish(tm, &n);
	mnv2_model *m = load_ok(p, n, op);
	free(p);
	ck_assert_int_eq(mnv2_model_num_ops(m), 1);
	mnv2_op_info oi;
	ck_assert_int_eq(mnv2_model_op_info(m, 0, &oi), 0);
	ck_assert_str_eq(oi.name, op);
	check_plan(m);
	mnv2_context *c = context_ok(m);
	for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
		size_t bytes;
		void *in = mnv2_context_input(c, i, &bytes);
		fill_random(in, bytes, 100 + (uint32_t)i);
	}
	run_ok(c);
	*mout = m;
	return c;
}

static const void *in_ptr(mnv2_context *c, int i)
{
	size_t n;
	return mnv2_context_input(c, i, &n);
}

static const void *out_ptr(mnv2_context *c, int i, size_t expect_bytes)
{
	size_t n;
	const void *p = mnv2_context_output(c, i, &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, expect_bytes);
	return p;
}

static void end_case(mnv2_context *c, mnv2_model *m)
{
	mnv2_context_free(c);
	mnv2_model_free(m);
}

/* Convolution reference: NHWC input [1,H,W,C], weights [O,K,K,C] (or [1,K,K,C] depthwise),
 * SAME padding, per-channel scale ws[o] (ws[0] for all when nws == 1). */
typedef struct conv_case {
	int H, W, C, O, K, stride, depthwise, is_signed;
	qp in, out;
	const float *ws;
	int nws, wzp;
	int act_lo, act_hi;
} conv_case;

static void conv_reference(const conv_case *cc, const void *x, const void *w,
			   const int32_t *bias, int *want, int OH, int OW)
{
	int pad_t = ((OH - 1) * cc->stride + cc->K - cc->H) / 2;
	int pad_l = ((OW - 1) * cc->stride + cc->K - cc->W) / 2;
	pad_t = pad_t < 0 ? 0 : pad_t;
	pad_l = pad_l < 0 ? 0 : pad_l;
	for (int oy = 0; oy < OH; oy++)
		for (int ox = 0; ox < OW; ox++)
			for (int o = 0; o < cc->O; o++) {
				int64_t acc = bias[o];
				int cs = cc->depthwise ? o : 0, ce = cc->depthwise ? o + 1 : cc->C;
				for (int ky = 0; ky < cc->K; ky++)
					for (int kx = 0; kx < cc->K; kx++)
						for (int ci = cs; ci < ce; ci++) {
							int iy = oy * cc->stride - pad_t + ky;
							int ix = ox * cc->stride - pad_l + kx;
							if (iy < 0 || ix < 0 || iy >= cc->H || ix >= cc->W)
								continue;
							size_t xi = ((size_t)iy * cc->W + ix) * cc->C + ci;
							size_t wi = cc->depthwise ?
									    ((size_t)ky * cc->K + kx) * cc->C + ci :
									    (((size_t)o * cc->K + ky) * cc->K + kx) * cc->C + ci;
							acc += (int64_t)(q_at(x, xi, cc->is_signed) - cc->in.zp) *
							       (q_at(w, wi, cc->is_signed) - cc->wzp);
						}
				float ws = cc->ws[cc->nws > 1 ? o : 0];
				float scale = cc->in.s * ws / cc->out.s;
				long q = lrint((double)acc * (double)scale) + cc->out.zp;
				q = q < cc->act_lo ? cc->act_lo : q > cc->act_hi ? cc->act_hi : q;
				want[((size_t)oy * OW + ox) * cc->O + o] = qclamp(q, cc->is_signed);
			}
}

START_TEST(test_op_conv2d)
{
	static const int32_t di[4] = { 1, 7, 7, 4 }, dw[4] = { 6, 3, 3, 4 }, db[1] = { 6 },
			     dout[4] = { 1, 4, 4, 6 };
	static const int32_t bias[6] = { 1000, -2000, 300, 0, 5, -700 };
	static const float ws = 0.01f, bs = 0.0005f;
	uint8_t w[6 * 3 * 3 * 4];
	rand_bytes(w, sizeof w, 21);
	int64_t wzp = 127, bzp = 0;
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int wt = tfw_const(tm, "w", TFW_UINT8, 4, dw, w, sizeof w, 1, &ws, &wzp, 0);
	int bt = tfw_const(tm, "b", TFW_INT32, 1, db, bias, sizeof bias, 1, &bs, &bzp, 0);
	int out = tfw_act(tm, "out", TFW_UINT8, 4, dout, 0.1f, 100);
	tfw_op_conv2d(tm, in, wt, bt, out, TFW_PAD_SAME, 2, 2, TFW_ACT_RELU6, 1, 1);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_model *m;
	mnv2_context *c = one_op_run(tm, "CONV_2D", &m);
	/* MACs by hand: 4x4 outputs x 6 channels x 3x3 kernel x 4 input channels */
	ck_assert_uint_eq(mnv2_model_macs(m), 4 * 4 * 6 * 3 * 3 * 4);
	ck_assert_uint_eq(mnv2_model_param_bytes(m), sizeof w + sizeof bias);
	conv_case cc = { 7, 7, 4, 6, 3, 2, 0, 0, { 0.05f, 128 }, { 0.1f, 100 }, &ws, 1, 127,
			 100, 160 /* RELU6: 0 -> 100, 6 -> 100 + 60 */ };
	int want[4 * 4 * 6];
	conv_reference(&cc, in_ptr(c, 0), w, bias, want, 4, 4);
	expect_close("CONV_2D", out_ptr(c, 0, sizeof want / sizeof want[0]), want,
		     sizeof want / sizeof want[0], 0, 1);
	end_case(c, m);
}
END_TEST

START_TEST(test_op_dwconv_int8_per_channel)
{
	static const int32_t di[4] = { 1, 6, 6, 3 }, dw[4] = { 1, 3, 3, 3 }, db[1] = { 3 },
			     dout[4] = { 1, 6, 6, 3 };
	static const int32_t bias[3] = { 100, -200, 300 };
	static const float ws[3] = { 0.01f, 0.02f, 0.005f };
	float bs[3];
	int8_t w[27];
	uint32_t s = 5;
	for (int i = 0; i < 27; i++)
		w[i] = (int8_t)test_rand_range(&s, -127, 127);
	for (int i = 0; i < 3; i++)
		bs[i] = 0.05f * ws[i];
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_INT8, 4, di, 0.05f, -1);
	int wt = tfw_const(tm, "w", TFW_INT8, 4, dw, w, sizeof w, 3, ws, NULL, 3);
	int bt = tfw_const(tm, "b", TFW_INT32, 1, db, bias, sizeof bias, 3, bs, NULL, 0);
	int out = tfw_act(tm, "out", TFW_INT8, 4, dout, 0.08f, 3);
	tfw_op_dwconv2d(tm, in, wt, bt, out, TFW_PAD_SAME, 1, 1, 1, TFW_ACT_NONE, 1, 1);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_model *m;
	mnv2_context *c = one_op_run(tm, "DEPTHWISE_CONV_2D", &m);
	ck_assert_uint_eq(mnv2_model_macs(m), 6 * 6 * 3 * 3 * 3);
	mnv2_tensor_info ti;
	ck_assert_int_eq(mnv2_model_tensor_info(m, wt, &ti), 0);
	ck_assert_int_eq(ti.quant_channels, 3);
	ck_assert_int_eq(ti.quant_axis, 3);
	ck_assert(ti.scale == ws[0]);
	conv_case cc = { 6, 6, 3, 3, 3, 1, 1, 1, { 0.05f, -1 }, { 0.08f, 3 }, ws, 3, 0, -128, 127 };
	int want[6 * 6 * 3];
	conv_reference(&cc, in_ptr(c, 0), w, bias, want, 6, 6);
	expect_close("DEPTHWISE_CONV_2D", out_ptr(c, 0, 108), want, 108, 1, 1);
	end_case(c, m);
}
END_TEST

START_TEST(test_op_fully_connected)
{
	static const int32_t di[2] = { 2, 16 }, dw[2] = { 5, 16 }, db[1] = { 5 }, dout[2] = { 2, 5 };
	static const int32_t bias[5] = { 10, -20, 30, -40, 50 };
	static const float ws = 0.01f, bs = 0.0005f;
	uint8_t w[80];
	rand_bytes(w, sizeof w, 22);
	int64_t wzp = 127, bzp = 0;
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_UINT8, 2, di, 0.05f, 128);
	int wt = tfw_const(tm, "w", TFW_UINT8, 2, dw, w, sizeof w, 1, &ws, &wzp, 0);
	int bt = tfw_const(tm, "b", TFW_INT32, 1, db, bias, sizeof bias, 1, &bs, &bzp, 0);
	int out = tfw_act(tm, "out", TFW_UINT8, 2, dout, 0.1f, 100);
	tfw_op_fc(tm, in, wt, bt, out, TFW_ACT_NONE, 0);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_model *m;
	mnv2_context *c = one_op_run(tm, "FULLY_CONNECTED", &m);
	ck_assert_uint_eq(mnv2_model_macs(m), 2 * 5 * 16);
	/* an FC is a 1x1 convolution of a [B,1,1,16] input */
	conv_case cc = { 1, 1, 16, 5, 1, 1, 0, 0, { 0.05f, 128 }, { 0.1f, 100 }, &ws, 1, 127, 0, 255 };
	int want[10];
	const uint8_t *x = in_ptr(c, 0);
	conv_reference(&cc, x, w, bias, want, 1, 1);
	conv_reference(&cc, x + 16, w, bias, want + 5, 1, 1);
	expect_close("FULLY_CONNECTED", out_ptr(c, 0, 10), want, 10, 0, 1);
	end_case(c, m);
}
END_TEST

/* ADD of a [1,4,4,3] tensor and b of shape db (broadcast when smaller). */
static void add_case(int rank_b, const int32_t *db, int rank_a, const int32_t *da)
{
	static const int32_t dout[4] = { 1, 4, 4, 3 };
	tfw_model *tm = tfw_new();
	int a = tfw_act(tm, "a", TFW_UINT8, rank_a, da, 0.05f, 128);
	int b = tfw_act(tm, "b", TFW_UINT8, rank_b, db, 0.04f, 120);
	int out = tfw_act(tm, "out", TFW_UINT8, 4, dout, 0.08f, 128);
	int ins[2] = { a, b };
	tfw_op_add(tm, a, b, out, TFW_ACT_RELU);
	tfw_set_io(tm, ins, 2, &out, 1);
	mnv2_model *m;
	mnv2_context *c = one_op_run(tm, "ADD", &m);
	const uint8_t *x = in_ptr(c, 0), *y = in_ptr(c, 1);
	int32_t A[4] = { 1, 1, 1, 1 }, B[4] = { 1, 1, 1, 1 };
	for (int i = 0; i < rank_a; i++)
		A[4 - rank_a + i] = da[i];
	for (int i = 0; i < rank_b; i++)
		B[4 - rank_b + i] = db[i];
	int want[48];
	for (int h = 0; h < 4; h++)
		for (int w = 0; w < 4; w++)
			for (int ch = 0; ch < 3; ch++) {
				size_t ai = ((size_t)(A[1] > 1 ? h : 0) * A[2] + (A[2] > 1 ? w : 0)) * A[3] +
					    (A[3] > 1 ? ch : 0);
				size_t bi = ((size_t)(B[1] > 1 ? h : 0) * B[2] + (B[2] > 1 ? w : 0)) * B[3] +
					    (B[3] > 1 ? ch : 0);
				double r = (x[ai] - 128) * (double)0.05f + (y[bi] - 120) * (double)0.04f;
				long q = lrint(r / (double)0.08f) + 128;
				want[(h * 4 + w) * 3 + ch] = qclamp(q < 128 ? 128 : q, 0); /* RELU */
			}
	expect_close("ADD", out_ptr(c, 0, 48), want, 48, 0, 1);
	end_case(c, m);
}

START_TEST(test_op_add)
{
	static const int32_t full[4] = { 1, 4, 4, 3 }, chan[4] = { 1, 1, 1, 3 }, vec[1] = { 3 };
	static const int32_t col[4] = { 1, 4, 1, 3 }, row[4] = { 1, 1, 4, 1 };
	add_case(4, full, 4, full);
	add_case(4, chan, 4, full); /* per-channel broadcast */
	add_case(1, vec, 4, full);  /* lower rank, right-aligned */
	add_case(4, row, 4, col);   /* both sides broadcast */
}
END_TEST

static void pool_case(int builtin, const char *name, int padding, int k, int stride, int H,
		      int OH)
{
	const int C = 4;
	int32_t di[4] = { 1, H, H, C }, dout[4] = { 1, OH, OH, C };
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int out = tfw_act(tm, "out", TFW_UINT8, 4, dout, 0.05f, 128);
	tfw_op_pool(tm, builtin, in, out, padding, stride, stride, k, k, TFW_ACT_NONE);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_model *m;
	mnv2_context *c = one_op_run(tm, name, &m);
	ck_assert_uint_eq(mnv2_model_macs(m), (uint64_t)OH * OH * C * k * k);
	const uint8_t *x = in_ptr(c, 0);
	int pad = padding == TFW_PAD_SAME ? ((OH - 1) * stride + k - H) / 2 : 0;
	pad = pad < 0 ? 0 : pad;
	int *want = calloc((size_t)OH * OH * C, sizeof *want);
	for (int oy = 0; oy < OH; oy++)
		for (int ox = 0; ox < OH; ox++)
			for (int ch = 0; ch < C; ch++) {
				int sum = 0, cnt = 0, mx = 0;
				for (int ky = 0; ky < k; ky++)
					for (int kx = 0; kx < k; kx++) {
						int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
						if (iy < 0 || ix < 0 || iy >= H || ix >= H)
							continue;
						int v = x[((size_t)iy * H + ix) * C + ch];
						sum += v;
						cnt++;
						mx = v > mx ? v : mx;
					}
				want[((size_t)oy * OH + ox) * C + ch] =
					builtin == TFW_OP_MAX_POOL_2D ? mx : (int)lrint((double)sum / cnt);
			}
	expect_close(name, out_ptr(c, 0, (size_t)OH * OH * C), want, (size_t)OH * OH * C, 0,
		     builtin == TFW_OP_MAX_POOL_2D ? 0 : 1);
	free(want);
	end_case(c, m);
}

START_TEST(test_op_pooling)
{
	pool_case(TFW_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D", TFW_PAD_VALID, 2, 2, 8, 4);
	pool_case(TFW_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D", TFW_PAD_SAME, 3, 2, 7, 4);
	pool_case(TFW_OP_MAX_POOL_2D, "MAX_POOL_2D", TFW_PAD_VALID, 2, 2, 8, 4);
	pool_case(TFW_OP_MAX_POOL_2D, "MAX_POOL_2D", TFW_PAD_SAME, 3, 2, 7, 4);
}
END_TEST

START_TEST(test_op_mean)
{
	static const int32_t di[4] = { 1, 4, 4, 8 }, da[1] = { 2 }, dout[4] = { 1, 1, 1, 8 };
	static const int32_t axes[2] = { 2, 1 };
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_INT8, 4, di, 0.05f, 0);
	int ax = tfw_const(tm, "axes", TFW_INT32, 1, da, axes, sizeof axes, 0, NULL, NULL, 0);
	int out = tfw_act(tm, "out", TFW_INT8, 4, dout, 0.03f, -5);
	tfw_op_mean(tm, in, ax, out, 1);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_model *m;
	mnv2_context *c = one_op_run(tm, "MEAN", &m);
	const int8_t *x = in_ptr(c, 0);
	int want[8];
	for (int ch = 0; ch < 8; ch++) {
		double sum = 0;
		for (int i = 0; i < 16; i++)
			sum += x[i * 8 + ch];
		want[ch] = qclamp(lrint(sum / 16 * 0.05 / 0.03) - 5, 1);
	}
	expect_close("MEAN", out_ptr(c, 0, 8), want, 8, 1, 1);
	end_case(c, m);
}
END_TEST

START_TEST(test_op_reshape_squeeze)
{
	static const int32_t di[4] = { 1, 2, 2, 3 }, ds[1] = { 2 }, dout[2] = { 1, 12 };
	static const int32_t shape[2] = { 1, 12 }, neg[2] = { 1, -1 };
	mnv2_model *m;
	/* with a shape tensor and options; with options only; with a -1 in the shape */
	for (int variant = 0; variant < 3; variant++) {
		tfw_model *tm = tfw_new();
		int in = tfw_act(tm, "in", TFW_UINT8, 4, di, 0.05f, 128);
		int st = variant == 1 ? -1 :
					tfw_const(tm, "shape", TFW_INT32, 1, ds, variant ? neg : shape, 8,
						  0, NULL, NULL, 0);
		int out = tfw_act(tm, "out", TFW_UINT8, 2, dout, 0.05f, 128);
		tfw_op_reshape(tm, in, st, out, variant ? neg : shape, 2);
		tfw_set_io(tm, &in, 1, &out, 1);
		mnv2_context *c = one_op_run(tm, "RESHAPE", &m);
		ck_assert(memcmp(out_ptr(c, 0, 12), in_ptr(c, 0), 12) == 0);
		end_case(c, m);
	}
	static const int32_t sqi[4] = { 1, 1, 1, 5 }, sqo[2] = { 1, 5 }, sq[2] = { 1, 2 };
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_INT8, 4, sqi, 0.05f, 0);
	int out = tfw_act(tm, "out", TFW_INT8, 2, sqo, 0.05f, 0);
	tfw_op_squeeze(tm, in, out, sq, 2);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_context *c = one_op_run(tm, "SQUEEZE", &m);
	ck_assert(memcmp(out_ptr(c, 0, 5), in_ptr(c, 0), 5) == 0);
	end_case(c, m);
}
END_TEST

START_TEST(test_op_softmax)
{
	static const int32_t d[2] = { 3, 10 };
	for (int variant = 0; variant < 2; variant++) {
		int sgn = variant == 1;
		float beta = sgn ? 0.5f : 1.0f;
		tfw_model *tm = tfw_new();
		int in = tfw_act(tm, "in", sgn ? TFW_INT8 : TFW_UINT8, 2, d, 0.1f, sgn ? 0 : 128);
		int out = tfw_act(tm, "out", sgn ? TFW_INT8 : TFW_UINT8, 2, d, 1.0f / 256,
				  sgn ? -128 : 0);
		tfw_op_softmax(tm, in, out, beta);
		tfw_set_io(tm, &in, 1, &out, 1);
		mnv2_model *m;
		mnv2_context *c = one_op_run(tm, "SOFTMAX", &m);
		const void *x = in_ptr(c, 0);
		int want[30];
		for (int r = 0; r < 3; r++) {
			double mx = -1e9, sum = 0, e[10];
			for (int i = 0; i < 10; i++) {
				double v = (q_at(x, r * 10 + i, sgn) - (sgn ? 0 : 128)) * 0.1 * beta;
				e[i] = v;
				mx = v > mx ? v : mx;
			}
			for (int i = 0; i < 10; i++)
				sum += e[i] = exp(e[i] - mx);
			for (int i = 0; i < 10; i++)
				want[r * 10 + i] = qclamp(lrint(e[i] / sum * 256) + (sgn ? -128 : 0), sgn);
		}
		expect_close("SOFTMAX", out_ptr(c, 0, 30), want, 30, sgn, 1);
		end_case(c, m);
	}
}
END_TEST

START_TEST(test_op_logistic)
{
	static const int32_t d[2] = { 1, 64 };
	for (int sgn = 0; sgn < 2; sgn++) {
		tfw_model *tm = tfw_new();
		int in = tfw_act(tm, "in", sgn ? TFW_INT8 : TFW_UINT8, 2, d, 0.08f, sgn ? 3 : 128);
		int out = tfw_act(tm, "out", sgn ? TFW_INT8 : TFW_UINT8, 2, d, 1.0f / 256,
				  sgn ? -128 : 0);
		tfw_op_simple(tm, TFW_OP_LOGISTIC, &in, 1, &out, 1);
		tfw_set_io(tm, &in, 1, &out, 1);
		mnv2_model *m;
		mnv2_context *c = one_op_run(tm, "LOGISTIC", &m);
		const void *x = in_ptr(c, 0);
		int want[64];
		for (int i = 0; i < 64; i++) {
			double v = (q_at(x, i, sgn) - (sgn ? 3 : 128)) * (double)0.08f;
			want[i] = qclamp(lrint(256 / (1 + exp(-v))) + (sgn ? -128 : 0), sgn);
		}
		expect_close("LOGISTIC", out_ptr(c, 0, 64), want, 64, sgn, 1);
		end_case(c, m);
	}
}
END_TEST

START_TEST(test_op_concatenation)
{
	static const int32_t da[4] = { 1, 2, 2, 3 }, db[4] = { 1, 2, 2, 5 }, dout[4] = { 1, 2, 2, 8 };
	for (int axis = 3; axis >= -1; axis -= 4) { /* 3 and its negative form -1 */
		tfw_model *tm = tfw_new();
		int a = tfw_act(tm, "a", TFW_UINT8, 4, da, 0.05f, 128);
		int b = tfw_act(tm, "b", TFW_UINT8, 4, db, 0.1f, 100);
		int out = tfw_act(tm, "out", TFW_UINT8, 4, dout, 0.1f, 128);
		int ins[2] = { a, b };
		tfw_op_concat(tm, ins, 2, out, axis, TFW_ACT_NONE);
		tfw_set_io(tm, ins, 2, &out, 1);
		mnv2_model *m;
		mnv2_context *c = one_op_run(tm, "CONCATENATION", &m);
		const uint8_t *x = in_ptr(c, 0), *y = in_ptr(c, 1);
		int want[32];
		for (int p = 0; p < 4; p++) {
			for (int i = 0; i < 3; i++) /* requantized from scale 0.05 to 0.1 */
				want[p * 8 + i] = qclamp(lrint((x[p * 3 + i] - 128) * 0.5) + 128, 0);
			for (int i = 0; i < 5; i++) /* same scale, zero point 100 -> 128 */
				want[p * 8 + 3 + i] = qclamp(y[p * 5 + i] - 100 + 128, 0);
		}
		expect_close("CONCATENATION", out_ptr(c, 0, 32), want, 32, 0, 1);
		end_case(c, m);
	}
}
END_TEST

START_TEST(test_op_pad)
{
	static const int32_t di[4] = { 1, 3, 3, 2 }, dp[2] = { 4, 2 }, dout[4] = { 1, 5, 6, 2 };
	static const int32_t pads[8] = { 0, 0, 1, 1, 2, 1, 0, 0 };
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_UINT8, 4, di, 0.05f, 77);
	int p = tfw_const(tm, "paddings", TFW_INT32, 2, dp, pads, sizeof pads, 0, NULL, NULL, 0);
	int out = tfw_act(tm, "out", TFW_UINT8, 4, dout, 0.05f, 77);
	int ins[2] = { in, p };
	tfw_op_simple(tm, TFW_OP_PAD, ins, 2, &out, 1);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_model *m;
	mnv2_context *c = one_op_run(tm, "PAD", &m);
	const uint8_t *x = in_ptr(c, 0);
	int want[60];
	for (int h = 0; h < 5; h++)
		for (int w = 0; w < 6; w++)
			for (int ch = 0; ch < 2; ch++) {
				int ih = h - 1, iw = w - 2;
				int inside = ih >= 0 && ih < 3 && iw >= 0 && iw < 3;
				want[(h * 6 + w) * 2 + ch] = inside ? x[(ih * 3 + iw) * 2 + ch] : 77;
			}
	expect_close("PAD", out_ptr(c, 0, 60), want, 60, 0, 0);
	end_case(c, m);
}
END_TEST

START_TEST(test_op_quantize_dequantize)
{
	static const int32_t d[2] = { 1, 16 };
	mnv2_model *m;
	/* float32 -> uint8 */
	tfw_model *tm = tfw_new();
	int in = tfw_tensor(tm, "in", TFW_FLOAT32, 2, d, 0, 0, NULL, NULL, 0);
	int out = tfw_act(tm, "out", TFW_UINT8, 2, d, 0.05f, 128);
	tfw_op_simple(tm, TFW_OP_QUANTIZE, &in, 1, &out, 1);
	tfw_set_io(tm, &in, 1, &out, 1);
	mnv2_context *c = one_op_run(tm, "QUANTIZE", &m);
	float xf[16];
	int want[16];
	for (int i = 0; i < 16; i++) { /* away from rounding ties, and past both ends */
		xf[i] = (float)(i - 8) * 0.9f + 0.013f;
		want[i] = qclamp(lrint(xf[i] / 0.05) + 128, 0);
	}
	ck_assert_int_eq(mnv2_context_set_input(c, 0, xf, sizeof xf, NULL), 0);
	run_ok(c);
	expect_close("QUANTIZE float32->uint8", out_ptr(c, 0, 16), want, 16, 0, 0);
	end_case(c, m);
	/* uint8 -> int8 (requantize) */
	tm = tfw_new();
	in = tfw_act(tm, "in", TFW_UINT8, 2, d, 0.05f, 128);
	out = tfw_act(tm, "out", TFW_INT8, 2, d, 0.04f, 1);
	tfw_op_simple(tm, TFW_OP_QUANTIZE, &in, 1, &out, 1);
	tfw_set_io(tm, &in, 1, &out, 1);
	c = one_op_run(tm, "QUANTIZE", &m);
	const uint8_t *x = in_ptr(c, 0);
	for (int i = 0; i < 16; i++)
		want[i] = qclamp(lrint((x[i] - 128) * 0.05 / 0.04) + 1, 1);
	expect_close("QUANTIZE uint8->int8", out_ptr(c, 0, 16), want, 16, 1, 1);
	end_case(c, m);
	/* int8 -> float32 */
	tm = tfw_new();
	in = tfw_act(tm, "in", TFW_INT8, 2, d, 0.04f, 1);
	out = tfw_tensor(tm, "out", TFW_FLOAT32, 2, d, 0, 0, NULL, NULL, 0);
	tfw_op_simple(tm, TFW_OP_DEQUANTIZE, &in, 1, &out, 1);
	tfw_set_io(tm, &in, 1, &out, 1);
	c = one_op_run(tm, "DEQUANTIZE", &m);
	const int8_t *xs = in_ptr(c, 0);
	const float *y = out_ptr(c, 0, 64);
	for (int i = 0; i < 16; i++)
		ck_assert_msg(y[i] == (float)(xs[i] - 1) * 0.04f, "DEQUANTIZE %d: %g", i, (double)y[i]);
	end_case(c, m);
}
END_TEST

/* ---- TFLite_Detection_PostProcess -------------------------------------------------- */

typedef struct fxb_entry {
	const char *key;
	char kind; /* 'i' int, 'f' double, 'b' bool */
	double v;
} fxb_entry;

static void le(uint8_t *p, uint64_t v, int w)
{
	for (int i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A FlexBuffers map (keys sorted by the caller) with 8-byte values. */
static size_t flexbuf_map(const fxb_entry *e, int n, uint8_t *out, size_t cap)
{
	size_t pos = 0, kpos[32];
	ck_assert_int_le(n, 32);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(e[i].key) + 1;
		ck_assert_uint_le(pos + l, cap);
		kpos[i] = pos;
		memcpy(out + pos, e[i].key, l);
		pos += l;
	}
	pos = (pos + 7) & ~(size_t)7;
	ck_assert_uint_le(pos + 8 * (size_t)(2 * n + 6) + (size_t)n, cap);
	le(out + pos, (uint64_t)n, 8);
	size_t keys = pos + 8;
	for (int i = 0; i < n; i++)
		le(out + keys + 8 * i, keys + 8 * i - kpos[i], 8);
	size_t kfield = keys + 8 * (size_t)n, vals = kfield + 24;
	le(out + kfield, kfield - keys, 8);
	le(out + kfield + 8, 8, 8);
	le(out + kfield + 16, (uint64_t)n, 8);
	for (int i = 0; i < n; i++) {
		uint64_t bits;
		if (e[i].kind == 'f')
			memcpy(&bits, &e[i].v, 8);
		else
			bits = (uint64_t)(int64_t)e[i].v;
		le(out + vals + 8 * i, bits, 8);
		out[vals + 8 * (size_t)n + i] =
			(uint8_t)(((e[i].kind == 'f' ? 3 : e[i].kind == 'b' ? 26 : 1) << 2) | 3);
	}
	pos = (vals + 9 * (size_t)n + 7) & ~(size_t)7;
	le(out + pos, pos - vals, 8);
	out[pos + 8] = (uint8_t)((9 << 2) | 3);
	out[pos + 9] = 8;
	return pos + 10;
}

START_TEST(test_op_detection_postprocess)
{
	enum { N = 8, C = 3 };
	static const int32_t db[3] = { 1, N, 4 }, ds[3] = { 1, N, C + 1 }, da[2] = { N, 4 };
	static const fxb_entry opts[] = {
		{ "detections_per_class", 'i', 100 }, { "h_scale", 'f', 5 },
		{ "max_classes_per_detection", 'i', 1 }, { "max_detections", 'i', 5 },
		{ "nms_iou_threshold", 'f', 0.6 }, { "nms_score_threshold", 'f', 0.3 },
		{ "num_classes", 'i', C }, { "use_regular_nms", 'b', 0 }, { "w_scale", 'f', 5 },
		{ "x_scale", 'f', 10 }, { "y_scale", 'f', 10 },
	};
	float anchors[N * 4];
	for (int i = 0; i < N; i++) { /* disjoint boxes on a diagonal */
		anchors[4 * i] = 0.0625f + 0.125f * (float)i;
		anchors[4 * i + 1] = 0.0625f + 0.125f * (float)i;
		anchors[4 * i + 2] = 0.125f;
		anchors[4 * i + 3] = 0.0625f;
	}
	uint8_t fx[1024];
	size_t fl = flexbuf_map(opts, (int)(sizeof opts / sizeof opts[0]), fx, sizeof fx);
	tfw_model *tm = tfw_new();
	int boxes = tfw_act(tm, "boxes", TFW_UINT8, 3, db, 0.05f, 128);
	int scores = tfw_act(tm, "scores", TFW_UINT8, 3, ds, 1.0f / 256, 0);
	int anc = tfw_const(tm, "anchors", TFW_FLOAT32, 2, da, anchors, sizeof anchors, 0, NULL, NULL,
			    0);
	int outs[4], ins[3] = { boxes, scores, anc }, gin[2] = { boxes, scores };
	static const char *names[4] = { "det_boxes", "det_classes", "det_scores", "num_det" };
	for (int i = 0; i < 4; i++)
		outs[i] = tfw_tensor(tm, names[i], TFW_FLOAT32, 0, NULL, 0, 0, NULL, NULL, 0);
	tfw_op_custom(tm, "TFLite_Detection_PostProcess", ins, 3, outs, 4, fx, fl);
	tfw_set_io(tm, gin, 2, outs, 4);
	size_t n;
	uint8_t *p = finish(tm, &n);
	mnv2_model *m = load_ok(p, n, "detect.tflite");
	free(p);
	mnv2_op_info oi;
	ck_assert_int_eq(mnv2_model_op_info(m, 0, &oi), 0);
	ck_assert_str_eq(oi.name, "TFLite_Detection_PostProcess");
	/* the operator defines its output shapes: max_detections x max_classes rows */
	mnv2_tensor_info ti;
	static const int32_t ob[3] = { 1, 5, 4 }, orow[2] = { 1, 5 }, one[1] = { 1 };
	ck_assert_int_eq(mnv2_model_output_info(m, 0, &ti), 0);
	expect_tensor(&ti, MNV2_FLOAT32, 3, ob);
	ck_assert_int_eq(mnv2_model_output_info(m, 1, &ti), 0);
	expect_tensor(&ti, MNV2_FLOAT32, 2, orow);
	ck_assert_int_eq(mnv2_model_output_info(m, 3, &ti), 0);
	expect_tensor(&ti, MNV2_FLOAT32, 1, one);
	check_plan(m);
	mnv2_context *c = context_ok(m);
	size_t nb, ns;
	uint8_t *bx = mnv2_context_input(c, 0, &nb), *sc = mnv2_context_input(c, 1, &ns);
	ck_assert_uint_eq(nb, N * 4);
	ck_assert_uint_eq(ns, N * (C + 1));
	memset(bx, 128, nb); /* zero encodings: boxes are the anchors */
	memset(sc, 0, ns);
	sc[2 * (C + 1) + 3] = 200; /* anchor 2, class 3 -> label 2 */
	sc[5 * (C + 1) + 1] = 150; /* anchor 5, class 1 -> label 0 */
	sc[6 * (C + 1) + 0] = 250; /* background: ignored */
	sc[7 * (C + 1) + 2] = 50;  /* below the threshold */
	run_ok(c);
	const float *ob_ = out_ptr(c, 0, 5 * 4 * 4), *ocl = out_ptr(c, 1, 20),
		    *osc = out_ptr(c, 2, 20), *ocnt = out_ptr(c, 3, 4);
	ck_assert_msg(ocnt[0] == 2.0f, "%g detections", (double)ocnt[0]);
	ck_assert(ocl[0] == 2.0f && ocl[1] == 0.0f);
	ck_assert(fabsf(osc[0] - 200.0f / 256) < 1e-6f && fabsf(osc[1] - 150.0f / 256) < 1e-6f);
	float y2 = 0.0625f + 0.125f * 2;
	ck_assert(fabsf(ob_[0] - (y2 - 0.0625f)) < 1e-6f && fabsf(ob_[2] - (y2 + 0.0625f)) < 1e-6f);
	ck_assert(fabsf(ob_[1] - (y2 - 0.03125f)) < 1e-6f && fabsf(ob_[3] - (y2 + 0.03125f)) < 1e-6f);
	for (int i = 8; i < 20; i++) /* rows past the count are zero */
		ck_assert(ob_[i] == 0.0f);
	mnv2_context_free(c);
	mnv2_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Planner: reuse on a chain, and the bound with a residual connection                   */

START_TEST(test_plan_chain_reuses_memory)
{
	enum { OPS = 6 };
	static const int32_t d[4] = { 1, 32, 32, 8 }; /* 8 KiB per tensor */
	tfw_model *tm = tfw_new();
	int t[OPS + 1];
	t[0] = tfw_act(tm, "t0", TFW_UINT8, 4, d, 0.05f, 128);
	for (int i = 1; i <= OPS; i++) {
		char name[8];
		snprintf(name, sizeof name, "t%d", i);
		t[i] = tfw_act(tm, name, TFW_UINT8, 4, d, 1.0f / 256, 0);
		tfw_op_simple(tm, TFW_OP_LOGISTIC, &t[i - 1], 1, &t[i], 1);
	}
	tfw_set_io(tm, &t[0], 1, &t[OPS], 1);
	size_t n;
	uint8_t *p = finish(tm, &n);
	mnv2_model *m = load_ok(p, n, "chain");
	free(p);
	size_t sum = check_plan(m);
	ck_assert_uint_eq(sum, (OPS + 1) * 8192);
	/* ping-pong: two live tensors at any time */
	ck_assert_msg(mnv2_model_arena_bytes(m) == 2 * 8192, "arena %zu for a chain of %d ops",
		      mnv2_model_arena_bytes(m), OPS);
	ck_assert_uint_eq(mnv2_model_param_bytes(m), 0);
	mnv2_context *c = context_ok(m);
	run_ok(c);
	mnv2_context_free(c);
	mnv2_model_free(m);
}
END_TEST

START_TEST(test_plan_residual)
{
	/* t0 -> t1 -> t2 -> t3 = ADD(t1, t3'), t1 stays live across two ops: three slots */
	static const int32_t d[4] = { 1, 16, 16, 16 }; /* 4 KiB */
	tfw_model *tm = tfw_new();
	int t0 = tfw_act(tm, "t0", TFW_UINT8, 4, d, 0.05f, 128);
	int t1 = tfw_act(tm, "t1", TFW_UINT8, 4, d, 1.0f / 256, 0);
	int t2 = tfw_act(tm, "t2", TFW_UINT8, 4, d, 1.0f / 256, 0);
	int t3 = tfw_act(tm, "t3", TFW_UINT8, 4, d, 1.0f / 256, 0);
	int t4 = tfw_act(tm, "t4", TFW_UINT8, 4, d, 1.0f / 128, 0);
	tfw_op_simple(tm, TFW_OP_LOGISTIC, &t0, 1, &t1, 1);
	tfw_op_simple(tm, TFW_OP_LOGISTIC, &t1, 1, &t2, 1);
	tfw_op_simple(tm, TFW_OP_LOGISTIC, &t2, 1, &t3, 1);
	tfw_op_add(tm, t1, t3, t4, TFW_ACT_NONE);
	tfw_set_io(tm, &t0, 1, &t4, 1);
	size_t n;
	uint8_t *p = finish(tm, &n);
	mnv2_model *m = load_ok(p, n, "residual");
	free(p);
	check_plan(m);
	ck_assert_msg(mnv2_model_arena_bytes(m) == 3 * 4096, "arena %zu",
		      mnv2_model_arena_bytes(m));
	mnv2_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Unsupported operators and types                                                       */

static uint8_t *one_unary(int builtin, const char *custom, int type, size_t *n)
{
	static const int32_t d[2] = { 1, 8 };
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "in", TFW_UINT8, 2, d, 0.05f, 128);
	int out = tfw_act(tm, "out", type, 2, d, 0.05f, 128);
	int in2 = tfw_act(tm, "in2", TFW_UINT8, 2, d, 0.05f, 128);
	int out2 = tfw_act(tm, "out2", TFW_UINT8, 2, d, 0.05f, 128);
	tfw_op_simple(tm, TFW_OP_LOGISTIC, &in2, 1, &out2, 1); /* op 0: fine */
	if (custom)
		tfw_op_custom(tm, custom, &in, 1, &out, 1, NULL, 0);
	else
		tfw_op_simple(tm, builtin, &in, 1, &out, 1);
	int ins[2] = { in2, in }, outs[2] = { out2, out };
	tfw_set_io(tm, ins, 2, outs, 2);
	return finish(tm, n);
}

START_TEST(test_unsupported_operators)
{
	size_t n;
	uint8_t *p = one_unary(18 /* MUL */, NULL, TFW_UINT8, &n);
	load_fails(p, n, "mul.tflite", "mul.tflite", "operator 1", "MUL", "18", "unsupported", NULL);
	free(p);
	p = one_unary(TFW_OP_L2_POOL_2D, NULL, TFW_UINT8, &n);
	load_fails(p, n, "l2.tflite", "l2.tflite", "operator 1", "L2_POOL_2D", "12", NULL);
	free(p);
	p = one_unary(0, "Foo", TFW_UINT8, &n);
	load_fails(p, n, "foo.tflite", "foo.tflite", "operator 1", "Foo", "custom", NULL);
	free(p);
}
END_TEST

START_TEST(test_unsupported_types)
{
	size_t n;
	uint8_t *p = one_unary(TFW_OP_LOGISTIC, NULL, TFW_FLOAT16, &n);
	load_fails(p, n, "f16.tflite", "f16.tflite", "tensor 1", "out", "type float16 (1)", NULL);
	free(p);
	p = one_unary(TFW_OP_LOGISTIC, NULL, TFW_STRING, &n);
	load_fails(p, n, "str.tflite", "str.tflite", "tensor 1", "out", "type string (5)", NULL);
	free(p);
	p = one_unary(TFW_OP_LOGISTIC, NULL, TFW_INT16, &n);
	load_fails(p, n, "i16.tflite", "i16.tflite", "type int16 (7)", NULL);
	free(p);
	/* a supported type the operator cannot take */
	p = one_unary(TFW_OP_LOGISTIC, NULL, TFW_INT32, &n);
	load_fails(p, n, "i32.tflite", "operator 1", "LOGISTIC", "int32", NULL);
	free(p);
}
END_TEST

/* Unsupported element types are named ("float16", not only "type 1"). */
START_TEST(test_unsupported_named)
{
	size_t n;
	uint8_t *p = one_unary(TFW_OP_LOGISTIC, NULL, TFW_FLOAT16, &n);
	load_fails(p, n, "f16.tflite", "float16", NULL);
	free(p);
	p = one_unary(TFW_OP_LOGISTIC, NULL, TFW_STRING, &n);
	load_fails(p, n, "str.tflite", "string", NULL);
	free(p);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Metadata and labels                                                                   */

typedef struct fwd {
	uint8_t b[2048];
	size_t n;
} fwd;

static size_t fwd_alloc(fwd *w, size_t len)
{
	size_t p = (w->n + 3) & ~(size_t)3;
	ck_assert_uint_le(p + len, sizeof w->b);
	memset(w->b + p, 0, len);
	w->n = p + len;
	return p;
}

/* A table with nf 4-byte slots, `present` a bit mask, laid out after its vtable. */
static size_t fwd_table(fwd *w, int nf, unsigned present)
{
	size_t vt = fwd_alloc(w, 4 + 2 * (size_t)nf), t = fwd_alloc(w, 4 + 4 * (size_t)nf);
	le(w->b + vt, 4 + 2 * (uint64_t)nf, 2);
	le(w->b + vt + 2, 4 + 4 * (uint64_t)nf, 2);
	for (int i = 0; i < nf; i++)
		le(w->b + vt + 4 + 2 * i, (present >> i) & 1 ? 4 + 4 * (uint64_t)i : 0, 2);
	le(w->b + t, t - vt, 4);
	return t;
}

static void fwd_ref(fwd *w, size_t at, size_t target) { le(w->b + at, target - at, 4); }
static size_t fwd_field(size_t table, int f) { return table + 4 + 4 * (size_t)f; }

static size_t fwd_string(fwd *w, const char *s)
{
	size_t l = strlen(s), p = fwd_alloc(w, 4 + l + 1);
	le(w->b + p, l, 4);
	memcpy(w->b + p + 4, s, l);
	return p;
}

static size_t fwd_vec1(fwd *w, size_t *elem)
{
	size_t p = fwd_alloc(w, 8);
	le(w->b + p, 1, 4);
	*elem = p + 4;
	return p;
}

/* ModelMetadata: name, description, subgraph_metadata[0].output_tensor_metadata[0]
 * .associated_files[0] = { file, type }; at_model_level puts the file in
 * ModelMetadata.associated_files instead. */
static size_t model_metadata(fwd *w, const char *file, int type, int at_model_level)
{
	size_t e, root = fwd_alloc(w, 8);
	memcpy(w->b + 4, "M001", 4);
	size_t md = fwd_table(w, 7, at_model_level ? 0x43 : 0x0b);
	fwd_ref(w, root, md);
	fwd_ref(w, fwd_field(md, 0), fwd_string(w, "Synthetic classifier"));
	fwd_ref(w, fwd_field(md, 1), fwd_string(w, "Ten classes of noise"));
	size_t holder, field;
	if (at_model_level) {
		holder = md;
		field = 6;
	} else {
		fwd_ref(w, fwd_field(md, 3), fwd_vec1(w, &e));
		size_t sg = fwd_table(w, 4, 0x8);
		fwd_ref(w, e, sg);
		fwd_ref(w, fwd_field(sg, 3), fwd_vec1(w, &e));
		holder = fwd_table(w, 7, 0x40);
		fwd_ref(w, e, holder);
		field = 6;
	}
	fwd_ref(w, fwd_field(holder, (int)field), fwd_vec1(w, &e));
	size_t af = fwd_table(w, 3, 0x5);
	fwd_ref(w, e, af);
	fwd_ref(w, fwd_field(af, 0), fwd_string(w, file));
	le(w->b + fwd_field(af, 2), (uint64_t)type, 1);
	return w->n;
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* A zip with one member (method 0 stored or 8 "deflated": the bytes are the same, only
 * the method differs); offsets relative to the archive's start. */
static size_t make_zip(const char *name, const char *data, int method, uint8_t *out, size_t cap)
{
	size_t nl = strlen(name), dl = strlen(data), p;
	uint32_t crc = crc32((const uint8_t *)data, dl);
	size_t total = 30 + nl + dl + 46 + nl + 22;
	ck_assert_uint_le(total, cap);
	memset(out, 0, total);
	le(out, 0x04034b50u, 4);
	le(out + 4, 20, 2);
	le(out + 8, (uint64_t)method, 2);
	le(out + 14, crc, 4);
	le(out + 18, dl, 4);
	le(out + 22, dl, 4);
	le(out + 26, nl, 2);
	memcpy(out + 30, name, nl);
	memcpy(out + 30 + nl, data, dl);
	size_t cd = p = 30 + nl + dl;
	le(out + p, 0x02014b50u, 4);
	le(out + p + 4, 20, 2);
	le(out + p + 6, 20, 2);
	le(out + p + 10, (uint64_t)method, 2);
	le(out + p + 16, crc, 4);
	le(out + p + 20, dl, 4);
	le(out + p + 24, dl, 4);
	le(out + p + 28, nl, 2);
	memcpy(out + p + 46, name, nl);
	p += 46 + nl;
	le(out + p, 0x06054b50u, 4);
	le(out + p + 8, 1, 2);
	le(out + p + 10, 1, 2);
	le(out + p + 12, p - cd, 4);
	le(out + p + 16, cd, 4);
	return p + 22;
}

/* The synthetic uint8 classifier rebuilt small: one SOFTMAX, with metadata and a zip. */
static uint8_t *model_with_metadata(const uint8_t *meta, size_t meta_len, const uint8_t *zip,
				    size_t zip_len, size_t *n)
{
	static const int32_t d[2] = { 1, 3 };
	tfw_model *tm = tfw_new();
	int in = tfw_act(tm, "logits", TFW_UINT8, 2, d, 0.1f, 128);
	int out = tfw_act(tm, "probs", TFW_UINT8, 2, d, 1.0f / 256, 0);
	tfw_op_softmax(tm, in, out, 1.0f);
	tfw_set_io(tm, &in, 1, &out, 1);
	tfw_set_description(tm, "TOCO Converted.");
	if (meta)
		tfw_add_metadata(tm, "TFLITE_METADATA", meta, meta_len);
	size_t fl;
	uint8_t *fb = finish(tm, &fl);
	uint8_t *all = malloc(fl + zip_len);
	ck_assert_ptr_nonnull(all);
	memcpy(all, fb, fl);
	if (zip_len)
		memcpy(all + fl, zip, zip_len);
	free(fb);
	*n = fl + zip_len;
	return all;
}

static const char LABELS[] = "background\ncat\r\ndog\nhot dog";

START_TEST(test_metadata_labels)
{
	for (int level = 0; level < 2; level++) {
		fwd w = { .n = 0 };
		size_t ml = model_metadata(&w, "labels.txt", 2, level);
		uint8_t zip[512];
		size_t zl = make_zip("labels.txt", LABELS, 0, zip, sizeof zip), n;
		uint8_t *p = model_with_metadata(w.b, ml, zip, zl, &n);
		mnv2_model *m = load_ok(p, n, "meta.tflite");
		free(p);
		ck_assert_str_eq(mnv2_model_description(m), "TOCO Converted.");
		ck_assert_str_eq(mnv2_model_metadata_name(m), "Synthetic classifier");
		ck_assert_str_eq(mnv2_model_metadata_description(m), "Ten classes of noise");
		ck_assert_uint_eq(mnv2_model_num_labels(m), 4);
		ck_assert_str_eq(mnv2_model_label(m, 0), "background");
		ck_assert_str_eq(mnv2_model_label(m, 1), "cat"); /* CR stripped */
		ck_assert_str_eq(mnv2_model_label(m, 2), "dog");
		ck_assert_str_eq(mnv2_model_label(m, 3), "hot dog"); /* no final newline */
		ck_assert_ptr_null(mnv2_model_label(m, 4));
		mnv2_model_free(m);
	}
}
END_TEST

/* Metadata present, labels not usable: the load succeeds without labels. */
static void expect_no_labels(const uint8_t *meta, size_t ml, const uint8_t *zip, size_t zl,
			     const char *what)
{
	size_t n;
	uint8_t *p = model_with_metadata(meta, ml, zip, zl, &n);
	mnv2_model *m = load_ok(p, n, what);
	free(p);
	ck_assert_msg(mnv2_model_num_labels(m) == 0, "%s: %zu labels", what,
		      mnv2_model_num_labels(m));
	ck_assert_ptr_null(mnv2_model_label(m, 0));
	mnv2_model_free(m);
}

START_TEST(test_metadata_labels_unusable)
{
	fwd w = { .n = 0 };
	size_t ml = model_metadata(&w, "labels.txt", 2, 0);
	uint8_t zip[512], bad[512];
	size_t zl;
	/* a deflated member */
	zl = make_zip("labels.txt", LABELS, 8, zip, sizeof zip);
	expect_no_labels(w.b, ml, zip, zl, "deflated");
	/* no zip at all, and a zip without that member */
	expect_no_labels(w.b, ml, NULL, 0, "no zip");
	zl = make_zip("other.txt", LABELS, 0, zip, sizeof zip);
	expect_no_labels(w.b, ml, zip, zl, "other member");
	/* corrupt archives: every single-field corruption of the directory and headers */
	zl = make_zip("labels.txt", LABELS, 0, zip, sizeof zip);
	size_t nl = strlen("labels.txt"), dl = strlen(LABELS), cd = 30 + nl + dl,
	       eocd = cd + 46 + nl;
	static const struct {
		int area; /* 0 local header, 1 central directory, 2 end record */
		size_t off, width;
		uint32_t value;
	} corrupt[] = {
		{ 2, 16, 4, 0xffffffffu }, /* directory offset */
		{ 2, 12, 4, 0xfffffff0u }, /* directory size */
		{ 2, 10, 2, 0 },           /* no entries */
		{ 1, 0, 4, 0x12345678u },  /* directory signature */
		{ 1, 42, 4, 0x7fffffffu }, /* local header offset */
		{ 1, 20, 4, 0x7fffffffu }, /* compressed size */
		{ 1, 28, 2, 0xffff },      /* name length */
		{ 1, 30, 2, 0xffff },      /* extra length */
		{ 0, 0, 4, 0 },            /* local signature */
		{ 0, 26, 2, 0xffff },      /* local name length */
		{ 0, 28, 2, 0xfff0 },      /* local extra length */
	};
	for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
		memcpy(bad, zip, zl);
		size_t base = corrupt[i].area == 0 ? 0 : corrupt[i].area == 1 ? cd : eocd;
		le(bad + base + corrupt[i].off, corrupt[i].value, (int)corrupt[i].width);
		char what[64];
		snprintf(what, sizeof what, "corrupt zip %zu", i);
		expect_no_labels(w.b, ml, bad, zl, what);
	}
	/* the archive cut short anywhere */
	for (size_t cut = 0; cut < zl; cut += 7)
		expect_no_labels(w.b, ml, zip, cut, "truncated zip");
	/* labels of the wrong file type (2 is TENSOR_AXIS_LABELS; 1 DESCRIPTIONS) */
	fwd w2 = { .n = 0 };
	size_t ml2 = model_metadata(&w2, "labels.txt", 1, 0);
	zl = make_zip("labels.txt", LABELS, 0, zip, sizeof zip);
	expect_no_labels(w2.b, ml2, zip, zl, "wrong file type");
	/* a corrupt metadata record: identifier, then garbage */
	fwd w3 = w;
	memcpy(w3.b + 4, "M002", 4);
	expect_no_labels(w3.b, ml, zip, zl, "wrong identifier");
	uint8_t junk[64];
	fill_random(junk, sizeof junk, 3);
	expect_no_labels(junk, sizeof junk, zip, zl, "junk metadata");
}
END_TEST

START_TEST(test_metadata_absent)
{
	size_t n;
	uint8_t *p = model_with_metadata(NULL, 0, NULL, 0, &n);
	mnv2_model *m = load_ok(p, n, "plain");
	free(p);
	ck_assert_str_eq(mnv2_model_metadata_name(m), "");
	ck_assert_str_eq(mnv2_model_metadata_description(m), "");
	ck_assert_uint_eq(mnv2_model_num_labels(m), 0);
	mnv2_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Concurrency and allocation-free inference                                             */

enum { THREADS = 4, ROUNDS = 25 };

typedef struct worker {
	const mnv2_model *m;
	const uint8_t *input;
	size_t in_len;
	uint8_t *out[2];
	size_t out_len[2];
	int mismatches;
	char err[MNV2_ERROR_LEN];
} worker;

static void *worker_main(void *arg)
{
	worker *w = arg;
	mnv2_error err;
	mnv2_context *c = mnv2_context_create(w->m, &err);
	if (!c) {
		snprintf(w->err, sizeof w->err, "%s", err.msg);
		return NULL;
	}
	for (int r = 0; r < ROUNDS; r++) {
		if (mnv2_context_set_input(c, 0, w->input, w->in_len, &err) ||
		    mnv2_context_run(c, &err)) {
			snprintf(w->err, sizeof w->err, "%s", err.msg);
			break;
		}
		for (int o = 0; o < mnv2_model_num_outputs(w->m) && o < 2; o++) {
			size_t n;
			const void *p = mnv2_context_output(c, o, &n);
			if (r == 0) {
				w->out[o] = malloc(n);
				w->out_len[o] = n;
				if (w->out[o])
					memcpy(w->out[o], p, n);
			} else if (!w->out[o] || n != w->out_len[o] || memcmp(w->out[o], p, n)) {
				w->mismatches++;
			}
		}
		/* scribble over the arena's input between rounds */
		size_t n;
		memset(mnv2_context_input(c, 0, &n), r & 0xff, n);
	}
	mnv2_context_free(c);
	return NULL;
}

static void concurrency_case(enum synth_kind kind)
{
	mnv2_model *m = load_synth(kind);
	mnv2_tensor_info ti;
	ck_assert_int_eq(mnv2_model_input_info(m, 0, &ti), 0);
	uint8_t *input = malloc(ti.bytes);
	fill_random(input, ti.bytes, 1234);
	/* single-threaded reference */
	mnv2_context *c = context_ok(m);
	ck_assert_int_eq(mnv2_context_set_input(c, 0, input, ti.bytes, NULL), 0);
	run_ok(c);
	worker ws[THREADS];
	pthread_t th[THREADS];
	memset(ws, 0, sizeof ws);
	for (int i = 0; i < THREADS; i++) {
		ws[i].m = m;
		ws[i].input = input;
		ws[i].in_len = ti.bytes;
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &ws[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_msg(ws[i].err[0] == '\0', "thread %d: %s", i, ws[i].err);
		ck_assert_msg(ws[i].mismatches == 0, "thread %d: %d rounds differ", i,
			      ws[i].mismatches);
		for (int o = 0; o < mnv2_model_num_outputs(m) && o < 2; o++) {
			size_t n;
			const void *ref = mnv2_context_output(c, o, &n);
			ck_assert_uint_eq(ws[i].out_len[o], n);
			ck_assert_msg(memcmp(ws[i].out[o], ref, n) == 0,
				      "thread %d output %d differs from the single-threaded run", i, o);
			free(ws[i].out[o]);
		}
	}
	mnv2_context_free(c);
	free(input);
	mnv2_model_free(m);
}

START_TEST(test_concurrent_contexts)
{
	concurrency_case(SYNTH_MNV2_INT8PC);
	concurrency_case(SYNTH_SSDLITE_HEAD);
}
END_TEST

START_TEST(test_run_does_not_allocate)
{
#ifdef HAVE_ALLOC_COUNTER
	static const enum synth_kind kinds[3] = { SYNTH_MNV2_UINT8, SYNTH_MNV2_INT8PC,
						  SYNTH_SSDLITE_HEAD };
	/* the counter itself works */
	g_allocs = 0;
	g_count_allocs = 1;
	void *volatile probe = malloc(16); /* volatile: the pair must not be elided */
	free(probe);
	g_count_allocs = 0;
	ck_assert_msg(g_allocs == 2, "the allocation counter saw %lu calls, expected 2", g_allocs);
	for (int k = 0; k < 3; k++) {
		mnv2_model *m = load_synth(kinds[k]);
		mnv2_context *c = context_ok(m);
		size_t n;
		fill_random(mnv2_context_input(c, 0, &n), n, 77);
		mnv2_error err;
		g_allocs = 0;
		g_count_allocs = 1;
		int r = mnv2_context_run(c, &err);
		r |= mnv2_context_run(c, &err);
		(void)mnv2_context_output(c, 0, &n);
		g_count_allocs = 0;
		ck_assert_int_eq(r, 0);
		ck_assert_msg(g_allocs == 0, "model %d: inference made %lu allocator calls", k,
			      g_allocs);
		mnv2_context_free(c);
		mnv2_model_free(m);
	}
#else
	fprintf(stderr, "test_run_does_not_allocate: skipped (sanitizer owns malloc)\n");
#endif
}
END_TEST

/* ------------------------------------------------------------------------------------ */

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("synthetic");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_synth_mnv2_uint8);
	tcase_add_test(tc, test_synth_mnv2_int8pc);
	tcase_add_test(tc, test_synth_ssdlite);
	tcase_add_test(tc, test_load_from_file);
	tcase_add_test(tc, test_keep_buffer);
	tcase_add_test(tc, test_context_api);
	suite_add_tcase(s, tc);

	tc = tcase_create("operators");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_op_conv2d);
	tcase_add_test(tc, test_op_dwconv_int8_per_channel);
	tcase_add_test(tc, test_op_fully_connected);
	tcase_add_test(tc, test_op_add);
	tcase_add_test(tc, test_op_pooling);
	tcase_add_test(tc, test_op_mean);
	tcase_add_test(tc, test_op_reshape_squeeze);
	tcase_add_test(tc, test_op_softmax);
	tcase_add_test(tc, test_op_logistic);
	tcase_add_test(tc, test_op_concatenation);
	tcase_add_test(tc, test_op_pad);
	tcase_add_test(tc, test_op_quantize_dequantize);
	tcase_add_test(tc, test_op_detection_postprocess);
	tcase_add_test(tc, test_unsupported_operators);
	tcase_add_test(tc, test_unsupported_types);
	tcase_add_test(tc, test_unsupported_named);
	suite_add_tcase(s, tc);

	tc = tcase_create("plan");
	tcase_add_test(tc, test_plan_chain_reuses_memory);
	tcase_add_test(tc, test_plan_residual);
	suite_add_tcase(s, tc);

	tc = tcase_create("metadata");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_metadata_labels);
	tcase_add_test(tc, test_metadata_labels_unusable);
	tcase_add_test(tc, test_metadata_absent);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_concurrent_contexts);
	tcase_add_test(tc, test_run_does_not_allocate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
