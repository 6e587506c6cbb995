/* test_fused — the fused memory plan (inverted residual chains in tiles of rows) against the
 * layer-by-layer plan: the chains found, their arena, and byte-identical outputs on every
 * kernel path, tile height and intra-op thread count.
 *
 * The reference of each model is its layer-by-layer plan on the portable path, one thread.
 * Synthetic models (tests/gen) run every case; they are small, so the test lowers the
 * model's parallel threshold (white box) to split even tiny chains over threads. The real
 * models (../shared; skipped when absent) run fewer cases, and MobileNetV2 1.0/224's fused
 * arena must stay within 400 KiB (the paper's section 5.1 figure). */
#include "mnv2/engine.h"
#include "mnv2/ssd.h"
#include "model.h"
#include "kernels/simd.h"
#include "synth_models.h"
#include "test_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mnv2_model *load(const uint8_t *buf, size_t len, const char *path, mnv2_plan_mode plan,
			int rows)
{
	mnv2_error err;
	mnv2_load_options o = { .plan = plan, .tile_rows = rows };
	mnv2_model *m = path ? mnv2_model_load_ex(path, &o, &err) :
			       mnv2_model_load_buffer_ex(buf, len, "synth", 1, &o, &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	ck_assert_int_eq(mnv2_model_plan(m), plan);
	return m;
}

/* All outputs of m after one run on `path` with `threads`, inputs from seed; malloc'd,
 * concatenated. */
static uint8_t *outputs(const mnv2_model *m, int path, int threads, uint32_t seed, size_t *len)
{
	mnv2_error err;
	mnv2_context *c = mnv2_context_create(m, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_msg(mnv2_context_set_kernel_path(c, (mnv2_kernel_path)path, &err) == 0 &&
			      mnv2_context_set_threads(c, threads, &err) == 0,
		      "%s", err.msg);
	uint8_t *all = NULL;
	for (int round = 0; round < 2; round++) { /* the second run reuses the buffers */
		for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
			size_t n;
			uint8_t *d = mnv2_context_input(c, i, &n);
			uint32_t rng = seed + (uint32_t)i;
			for (size_t k = 0; k < n; k++)
				d[k] = (uint8_t)test_rand(&rng);
		}
		ck_assert_msg(mnv2_context_run(c, &err) == 0, "%s", err.msg);
		size_t total = 0;
		for (int i = 0; i < mnv2_model_num_outputs(m); i++) {
			size_t n;
			mnv2_context_output(c, i, &n);
			total += n;
		}
		uint8_t *got = malloc(total + 1);
		ck_assert_ptr_nonnull(got);
		total = 0;
		for (int i = 0; i < mnv2_model_num_outputs(m); i++) {
			size_t n;
			const void *o = mnv2_context_output(c, i, &n);
			memcpy(got + total, o, n);
			total += n;
		}
		if (all) {
			ck_assert_msg(memcmp(all, got, total) == 0, "second run differs");
			free(got);
		} else {
			all = got;
		}
		*len = total;
	}
	mnv2_context_free(c);
	return all;
}

static void expect_same(const uint8_t *want, const uint8_t *got, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(want[i] == got[i], "%s: byte %zu of %zu: layers %u, fused %u", what, i, n,
			      want[i], got[i]);
}

/* Every tensor a chain keeps in row buffers has one reader, is no graph output, and has
 * no arena slot; chains do not overlap and follow the pattern. */
static void check_chains(const mnv2_model *m)
{
	for (int c = 0; c < m->nchains; c++) {
		const mnv2_chain *ch = &m->chains[c];
		ck_assert(c == 0 || ch->first > m->chains[c - 1].last);
		ck_assert_int_eq(m->ops[ch->dw].kind, MNV2_OP_DWCONV);
		ck_assert_int_eq(m->ops[ch->proj].kind, MNV2_OP_CONV);
		ck_assert(ch->head < 0 || m->ops[ch->head].kind == MNV2_OP_CONV);
		ck_assert(ch->add < 0 || m->ops[ch->add].kind == MNV2_OP_ADD);
		ck_assert_int_ge(ch->rows, 1);
		for (int k = 0; k < ch->nmid; k++) {
			int t = ch->mid[k], readers = 0;
			for (int o = 0; o < m->nops; o++)
				for (int i = 0; i < m->ops[o].nin; i++)
					readers += m->ops[o].in[i] == t;
			for (int i = 0; i < m->nout; i++)
				ck_assert_int_ne(m->outputs[i], t);
			ck_assert_int_eq(readers, 1);
			if (m->plan == MNV2_PLAN_FUSED)
				ck_assert(!m->tensors[t].planned);
		}
	}
}

/* The path after p among those a model loaded for `fast` runs: portable, then fast's
 * family (avx2 < avxvnni, neon < neondot) up to fast; -1 after fast. */
static int next_path(int p, int fast)
{
	if (p == fast)
		return -1;
	return p == MNV2_KPATH_PORTABLE ? mnv2_kpath_first(fast) : p + 1;
}

static void compare_model(const uint8_t *buf, size_t len, const char *path, uint32_t seed,
			  const int *rows, int nrows, int max_threads, int all_paths)
{
	mnv2_model *ref = load(buf, len, path, MNV2_PLAN_LAYERS, 0);
	size_t n, n2;
	int fast = (int)mnv2_model_kernel_path(ref);
	uint8_t *want = outputs(ref, all_paths ? MNV2_PATH_PORTABLE : fast, 1, seed, &n);
	for (int r = 0; r < nrows; r++) {
		mnv2_model *m = load(buf, len, path, MNV2_PLAN_FUSED, rows[r]);
		check_chains(m);
		if (!path)
			m->parallel_min_macs = 0; /* split every chain and op */
		for (int p = all_paths ? MNV2_PATH_PORTABLE : fast; p >= 0; p = next_path(p, fast))
			for (int t = 1; t <= max_threads; t++) {
				char what[160];
				snprintf(what, sizeof what, "%s seed %u, tile rows %d, path %s, %d threads",
					 path ? path : "synthetic", seed, rows[r],
					 mnv2_kernel_path_name((mnv2_kernel_path)p), t);
				uint8_t *got = outputs(m, p, t, seed, &n2);
				ck_assert_msg(n == n2, "%s: output sizes differ", what);
				expect_same(want, got, n, what);
				free(got);
			}
		mnv2_model_free(m);
	}
	free(want);
	mnv2_model_free(ref);
}

START_TEST(test_synthetic)
{
	static const enum synth_kind kinds[] = { SYNTH_MNV2_UINT8, SYNTH_MNV2_INT8PC,
						 SYNTH_SSDLITE_HEAD, SYNTH_IR_ODD };
	static const int rows[] = { 0, 1, 2, 3, 5 };
	for (int k = 0; k < 4; k++)
		for (uint32_t seed = 1; seed <= 2; seed++) {
			uint8_t *buf;
			size_t len;
			ck_assert_int_eq(synth_model(kinds[k], seed, NULL, &buf, &len), 0);
			compare_model(buf, len, NULL, 17 * seed + (uint32_t)k, rows, 5, 4, 1);
			free(buf);
		}
}
END_TEST

/* The chains of the odd-sized model: the first layer's (with its 3x3/2 head), one per
 * block, the ADD fused where the block has one, and no head where a branch reads the
 * expanded tensor. */
START_TEST(test_synthetic_chains)
{
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(synth_model(SYNTH_IR_ODD, 3, NULL, &buf, &len), 0);
	mnv2_model *m = load(buf, len, NULL, MNV2_PLAN_FUSED, 0);
	ck_assert_int_eq(m->nchains, 8);
	static const int has_add[8] = { 0, 1, 1, 0, 1, 0, 0, 1 };
	static const int add_p_first[8] = { 0, 0, 1, 0, 1, 0, 0, 1 };
	for (int c = 0; c < 8; c++) {
		const mnv2_chain *ch = &m->chains[c];
		ck_assert_msg((ch->add >= 0) == has_add[c], "chain %d: add %d", c, ch->add);
		if (has_add[c])
			ck_assert_int_eq(ch->add_p_first, add_p_first[c]);
		ck_assert_msg((ch->head >= 0) == (c < 7), "chain %d: head %d", c, ch->head);
	}
	ck_assert_int_eq(m->chains[0].head, 0);
	ck_assert_int_eq(m->ops[0].k.conv.k_h, 3);
	ck_assert_int_eq(m->ops[0].k.conv.stride_h, 2);
	ck_assert_uint_eq(mnv2_model_arena_bytes(m), mnv2_model_plan_arena_bytes(m, MNV2_PLAN_FUSED));
	ck_assert_int_eq(mnv2_model_num_chains(m), 8);
	mnv2_model_free(m);
	/* one-row tiles: less than the layer-by-layer arena even on maps this small */
	m = load(buf, len, NULL, MNV2_PLAN_FUSED, 1);
	ck_assert_uint_lt(mnv2_model_arena_bytes(m), mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS));
	mnv2_model_free(m);
	free(buf);
}
END_TEST

START_TEST(test_options)
{
	uint8_t *buf;
	size_t len;
	mnv2_error err;
	mnv2_plan_mode p;
	ck_assert_int_eq(synth_model(SYNTH_MNV2_UINT8, 1, NULL, &buf, &len), 0);
	mnv2_load_options bad_plan = { .plan = (mnv2_plan_mode)7 }, bad_rows = { .tile_rows = -1 };
	ck_assert_ptr_null(mnv2_model_load_buffer_ex(buf, len, "x", 1, &bad_plan, &err));
	ck_assert_msg(strstr(err.msg, "plan") != NULL, "%s", err.msg);
	ck_assert_ptr_null(mnv2_model_load_buffer_ex(buf, len, "x", 1, &bad_rows, &err));
	ck_assert_msg(strstr(err.msg, "tile rows") != NULL, "%s", err.msg);
	/* the default: the plan with the smaller arena */
	mnv2_model *m = mnv2_model_load_buffer(buf, len, "x", 1, &err);
	ck_assert_ptr_nonnull(m);
	size_t layers = mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS);
	size_t fused = mnv2_model_plan_arena_bytes(m, MNV2_PLAN_FUSED);
	ck_assert_int_eq(mnv2_model_plan(m), fused < layers ? MNV2_PLAN_FUSED : MNV2_PLAN_LAYERS);
	ck_assert_uint_eq(mnv2_model_arena_bytes(m), fused < layers ? fused : layers);
	ck_assert_uint_eq(mnv2_model_plan_arena_bytes(m, MNV2_PLAN_DEFAULT), mnv2_model_arena_bytes(m));
	ck_assert_int_eq(mnv2_model_num_chains(m), 2);
	mnv2_model_free(m);
	ck_assert_int_eq(mnv2_plan_mode_parse("layers", &p), 0);
	ck_assert_int_eq(p, MNV2_PLAN_LAYERS);
	ck_assert_int_eq(mnv2_plan_mode_parse("fused", &p), 0);
	ck_assert_int_eq(p, MNV2_PLAN_FUSED);
	ck_assert_int_eq(mnv2_plan_mode_parse("tiles", &p), -1);
	ck_assert_str_eq(mnv2_plan_mode_name(MNV2_PLAN_LAYERS), "layers");
	free(buf);
}
END_TEST

static const char *const real_models[] = {
	"mobilenet_v2_1.0_224_quant",
	"tf2_mobilenet_v2_1.0_224_ptq",
	"mobilenet_ssd_v2_coco_quant_postprocess",
	"ssd_mobilenet_v1_1_default_1",
};

static int real_path(int i, char *path, size_t len)
{
	const char *shared = test_shared_dir();
	if (!shared) {
		fprintf(stderr, "test_fused: ../shared is absent; real models skipped\n");
		return -1;
	}
	snprintf(path, len, "%s/models/%s.tflite", shared, real_models[i]);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "test_fused: %s is absent; skipped\n", path);
		return -1;
	}
	fclose(f);
	return 0;
}

/* MNV2_TEST_REAL_MODELS: a comma-separated list of the real models test_real and
 * test_real_portable run (default: all four); scripts/run-tests.sh names one under qemu,
 * where inference is ~50x slower (the golden test runs the fused plan of all four there). */
static int real_wanted(int i)
{
	const char *list = getenv("MNV2_TEST_REAL_MODELS");
	if (!list || !*list)
		return 1;
	size_t n = strlen(real_models[i]);
	for (const char *p = list; (p = strstr(p, real_models[i])); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	fprintf(stderr, "test_fused: %s not in MNV2_TEST_REAL_MODELS; skipped\n", real_models[i]);
	return 0;
}

START_TEST(test_real)
{
	char path[1024];
	if (!real_wanted(_i) || real_path(_i, path, sizeof path))
		return;
	static const int rows[] = { 0, 2 };
	compare_model(NULL, 0, path, 5, rows, 2, 3, 0);
}
END_TEST

/* Portable and every SIMD path: one tile height, one and two threads. */
START_TEST(test_real_portable)
{
	char path[1024];
	if (!real_wanted(_i) || real_path(_i, path, sizeof path))
		return;
	static const int rows[] = { 3 };
	compare_model(NULL, 0, path, 9, rows, 1, 2, 1);
}
END_TEST

/* MobileNetV2 1.0/224: fused arena within 400 KiB, layers above 1 MiB; every block is a
 * chain (17, the first layer's included). */
START_TEST(test_mnv2_arena)
{
	char path[1024];
	if (real_path(_i, path, sizeof path))
		return;
	mnv2_model *m = load(NULL, 0, path, MNV2_PLAN_FUSED, 0);
	size_t fused = mnv2_model_arena_bytes(m);
	fprintf(stderr, "test_fused: %s: fused arena %zu bytes, layers %zu bytes\n",
		real_models[_i], fused, mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS));
	ck_assert_msg(fused <= 400 * 1024, "fused arena %zu bytes > 400 KiB", fused);
	ck_assert_uint_gt(mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS), 1024 * 1024);
	ck_assert_int_eq(m->nchains, 17);
	const mnv2_conv_params *h = &m->ops[m->chains[0].head].k.conv;
	ck_assert(h->k_h == 3 && h->stride_h == 2 && h->out_h == 112 && h->out_c == 32);
	mnv2_model_free(m);
	/* the default plan is the fused one here */
	mnv2_error err;
	ck_assert_ptr_nonnull(m = mnv2_model_load(path, &err));
	ck_assert_int_eq(mnv2_model_plan(m), MNV2_PLAN_FUSED);
	ck_assert_uint_eq(mnv2_model_arena_bytes(m), fused);
	mnv2_model_free(m);
}
END_TEST

/* SSD MobileNetV2: the box predictors read expanded tensors; those chains keep them whole. */
START_TEST(test_ssd_branches)
{
	char path[1024];
	if (real_path(2, path, sizeof path))
		return;
	mnv2_model *m = load(NULL, 0, path, MNV2_PLAN_FUSED, 0);
	check_chains(m);
	int headless = 0;
	for (int c = 0; c < m->nchains; c++)
		if (m->chains[c].head < 0) {
			const mnv2_tensor *e = &m->tensors[m->ops[m->chains[c].dw].in[0]];
			ck_assert(e->planned);
			headless++;
		}
	ck_assert_int_ge(headless, 1);
	ck_assert_uint_lt(mnv2_model_arena_bytes(m), mnv2_model_plan_arena_bytes(m, MNV2_PLAN_LAYERS));
	mnv2_model_free(m);
}
END_TEST

static Suite *fused_suite(void)
{
	Suite *s = suite_create("fused");
	TCase *tc = tcase_create("synthetic");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_synthetic_chains);
	tcase_add_test(tc, test_synthetic);
	suite_add_tcase(s, tc);
	TCase *tr = tcase_create("real");
	tcase_set_timeout(tr, 1200);
	tcase_add_loop_test(tr, test_real, 0, 4);
	tcase_add_loop_test(tr, test_real_portable, 0, 4);
	tcase_add_loop_test(tr, test_mnv2_arena, 0, 2);
	tcase_add_test(tr, test_ssd_branches);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(fused_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
