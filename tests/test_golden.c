/* test_golden — our outputs against Google LiteRT's (../shared/golden).
 *
 * For every classifier directory under golden/classify/<model>/, every <img>.u8 input is
 * run through ../shared/models/<model>.tflite and the output must equal <img>.out byte
 * for byte; the top-5 class indices must agree too. Inputs are enumerated from the
 * directory, so any input added there is checked the same way. Exits 77 (skip) with a
 * message when ../shared is absent. Every model runs in several variants (loop tests): the
 * default plan, the layer-by-layer plan, and the fused plan with small tiles on 2 and 3
 * intra-op threads.
 *
 * The models run on the fastest kernel path of this CPU, or on the path named by
 * MNV2_TEST_PATH (portable, avx2, avxvnni, neon, neondot; the test fails when the model
 * cannot run it). MNV2_GOLDEN_VARIANTS=0,3 runs only those variants (indices into
 * variants[]) and MNV2_GOLDEN_SKIP_DETECT=1 leaves the detectors out: scripts/run-tests.sh
 * uses them under qemu, where every inference is slow. */
#include "mnv2/engine.h"
#include "mnv2/ssd.h"
#include "test_util.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *shared;

/* Memory plan, tile rows and threads of each variant. */
static const struct variant {
	mnv2_plan_mode plan;
	int tile_rows, threads;
} variants[] = {
	{ MNV2_PLAN_DEFAULT, 0, 1 },
	{ MNV2_PLAN_LAYERS, 0, 1 },
	{ MNV2_PLAN_FUSED, 0, 1 },
	{ MNV2_PLAN_FUSED, 1, 2 },
	{ MNV2_PLAN_FUSED, 3, 3 },
};
#define NVARIANTS ((int)(sizeof variants / sizeof variants[0]))

static mnv2_model *load_variant(const char *path, int v, mnv2_error *err)
{
	mnv2_load_options o = { .plan = variants[v].plan, .tile_rows = variants[v].tile_rows };
	mnv2_model *m = mnv2_model_load_ex(path, &o, err);
	if (m && variants[v].plan == MNV2_PLAN_FUSED)
		ck_assert_int_eq(mnv2_model_plan(m), MNV2_PLAN_FUSED);
	return m;
}

/* Whether MNV2_GOLDEN_VARIANTS (a comma-separated list of indices; unset: all) names v. */
static int variant_wanted(int v)
{
	const char *list = getenv("MNV2_GOLDEN_VARIANTS");
	if (!list || !*list)
		return 1;
	for (const char *p = list; *p;) {
		char *end;
		long i = strtol(p, &end, 10);
		if (end == p)
			break;
		if (i == v)
			return 1;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/* A context of m for variant v, on MNV2_TEST_PATH's kernel path if set. */
static mnv2_context *context_variant(const mnv2_model *m, int v)
{
	mnv2_error err;
	mnv2_context *c = mnv2_context_create(m, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_msg(mnv2_context_set_threads(c, variants[v].threads, &err) == 0, "%s", err.msg);
	const char *name = getenv("MNV2_TEST_PATH");
	if (name && *name) {
		mnv2_kernel_path kp;
		ck_assert_msg(mnv2_kernel_path_parse(name, &kp) == 0, "MNV2_TEST_PATH=%s: unknown path",
			      name);
		ck_assert_msg(mnv2_context_set_kernel_path(c, kp, &err) == 0, "%s", err.msg);
	}
	return c;
}

static void top5(const uint8_t *v, size_t n, size_t out[5])
{
	for (int k = 0; k < 5; k++) {
		size_t best = n;
		for (size_t i = 0; i < n; i++) {
			int used = 0;
			for (int j = 0; j < k; j++)
				used |= out[j] == i;
			if (!used && (best == n || v[i] > v[best]))
				best = i;
		}
		out[k] = best;
	}
}

/* Runs every input of one model directory; returns the number of inputs checked. */
static int check_model_dir(const char *model, int v)
{
	char path[1024], gold[1024];
	mnv2_error err;
	snprintf(path, sizeof path, "%s/models/%s.tflite", shared, model);
	mnv2_model *m = load_variant(path, v, &err);
	ck_assert_msg(m != NULL, "load %s: %s", path, err.msg);
	mnv2_context *c = context_variant(m, v);
	snprintf(path, sizeof path, "%s/golden/classify/%s", shared, model);
	DIR *d = opendir(path);
	ck_assert_msg(d != NULL, "cannot open %s", path);
	struct dirent *e;
	int checked = 0;
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name), inlen, outlen, bytes;
		if (nl < 4 || strcmp(e->d_name + nl - 3, ".u8"))
			continue;
		snprintf(path, sizeof path, "%s/golden/classify/%s/%s", shared, model, e->d_name);
		snprintf(gold, sizeof gold, "%s/golden/classify/%s/%.*s.out", shared, model,
			 (int)(nl - 3), e->d_name);
		uint8_t *in = test_read_file(path, 1 << 24, &inlen);
		uint8_t *want = test_read_file(gold, 1 << 24, &outlen);
		ck_assert_msg(in && want, "cannot read %s or %s", path, gold);
		ck_assert_msg(mnv2_context_set_input(c, 0, in, inlen, &err) == 0, "%s", err.msg);
		ck_assert_msg(mnv2_context_run(c, &err) == 0, "%s", err.msg);
		const uint8_t *got = mnv2_context_output(c, 0, &bytes);
		ck_assert_msg(bytes == outlen, "%s: %zu output bytes, golden has %zu", gold, bytes, outlen);
		size_t diff = 0, first = 0;
		for (size_t i = 0; i < bytes; i++)
			if (got[i] != want[i] && diff++ == 0)
				first = i;
		ck_assert_msg(diff == 0, "%s/%s: %zu bytes differ, first at %zu (%u vs golden %u)", model,
			      e->d_name, diff, first, got[first], want[first]);
		size_t a[5], b[5];
		top5(got, bytes, a);
		top5(want, outlen, b);
		for (int k = 0; k < 5; k++)
			ck_assert_msg(a[k] == b[k], "%s/%s: top-%d is %zu, golden %zu", model, e->d_name,
				      k + 1, a[k], b[k]);
		free(in);
		free(want);
		checked++;
	}
	closedir(d);
	mnv2_context_free(c);
	mnv2_model_free(m);
	return checked;
}

START_TEST(classify_uint8)
{
	if (!variant_wanted(_i))
		return;
	ck_assert_int_ge(check_model_dir("mobilenet_v2_1.0_224_quant", _i), 1);
}
END_TEST

START_TEST(classify_int8_per_channel)
{
	if (!variant_wanted(_i))
		return;
	ck_assert_int_ge(check_model_dir("tf2_mobilenet_v2_1.0_224_ptq", _i), 1);
}
END_TEST

/* Any other classifier directory that appears under golden/classify is checked too. */
START_TEST(classify_all_dirs)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/golden/classify", shared);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	int dirs = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "mobilenet_v2_1.0_224_quant") ||
		    !strcmp(e->d_name, "tf2_mobilenet_v2_1.0_224_ptq"))
			continue;
		snprintf(path, sizeof path, "%s/models/%s.tflite", shared, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		fclose(f);
		check_model_dir(e->d_name, 0);
		dirs++;
	}
	closedir(d);
	ck_assert_int_ge(dirs, 0);
}
END_TEST

/* Detectors: all four float32 outputs of TFLite_Detection_PostProcess must equal the
 * golden files byte for byte (boxes, classes, scores, count). */
static int check_detector_dir(const char *model, int v)
{
	static const char *names[4] = { "boxes", "classes", "scores", "count" };
	char path[1024];
	mnv2_error err;
	snprintf(path, sizeof path, "%s/models/%s.tflite", shared, model);
	mnv2_model *m = load_variant(path, v, &err);
	ck_assert_msg(m != NULL, "load %s: %s", path, err.msg);
	ck_assert_int_eq(mnv2_model_num_outputs(m), 4);
	mnv2_context *c = context_variant(m, v);
	snprintf(path, sizeof path, "%s/golden/detect/%s", shared, model);
	DIR *d = opendir(path);
	ck_assert_msg(d != NULL, "cannot open %s", path);
	struct dirent *e;
	int checked = 0;
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name), inlen;
		if (nl < 4 || strcmp(e->d_name + nl - 3, ".u8"))
			continue;
		snprintf(path, sizeof path, "%s/golden/detect/%s/%s", shared, model, e->d_name);
		uint8_t *in = test_read_file(path, 1 << 24, &inlen);
		ck_assert_msg(in != NULL, "cannot read %s", path);
		ck_assert_msg(mnv2_context_set_input(c, 0, in, inlen, &err) == 0, "%s", err.msg);
		ck_assert_msg(mnv2_context_run(c, &err) == 0, "%s", err.msg);
		for (int o = 0; o < 4; o++) {
			size_t bytes, wlen;
			snprintf(path, sizeof path, "%s/golden/detect/%s/%.*s.%s.f32", shared, model,
				 (int)(nl - 3), e->d_name, names[o]);
			uint8_t *want = test_read_file(path, 1 << 20, &wlen);
			ck_assert_msg(want != NULL, "cannot read %s", path);
			const uint8_t *got = mnv2_context_output(c, o, &bytes);
			ck_assert_msg(bytes == wlen, "%s: %zu bytes, golden %zu", path, bytes, wlen);
			ck_assert_msg(memcmp(got, want, bytes) == 0, "%s differs from ours", path);
			free(want);
		}
		free(in);
		checked++;
	}
	closedir(d);
	mnv2_context_free(c);
	mnv2_model_free(m);
	return checked;
}

START_TEST(detect_ssd_mobilenet_v2)
{
	if (!variant_wanted(_i))
		return;
	ck_assert_int_ge(check_detector_dir("mobilenet_ssd_v2_coco_quant_postprocess", _i), 1);
}
END_TEST

START_TEST(detect_ssd_mobilenet_v1)
{
	if (!variant_wanted(_i))
		return;
	ck_assert_int_ge(check_detector_dir("ssd_mobilenet_v1_1_default_1", _i), 1);
}
END_TEST

START_TEST(grace_hopper_is_military_uniform)
{
	char path[1024];
	mnv2_error err;
	size_t len, bytes;
	snprintf(path, sizeof path, "%s/models/mobilenet_v2_1.0_224_quant.tflite", shared);
	mnv2_model *m = mnv2_model_load(path, &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	snprintf(path, sizeof path, "%s/golden/classify/mobilenet_v2_1.0_224_quant/grace_hopper.u8",
		 shared);
	uint8_t *in = test_read_file(path, 1 << 24, &len);
	ck_assert_ptr_nonnull(in);
	mnv2_context *c = context_variant(m, 0);
	ck_assert_int_eq(mnv2_context_set_input(c, 0, in, len, &err), 0);
	ck_assert_int_eq(mnv2_context_run(c, &err), 0);
	const uint8_t *out = mnv2_context_output(c, 0, &bytes);
	size_t t[5];
	top5(out, bytes, t);
	ck_assert_uint_eq(t[0], 653); /* "military uniform" in imagenet_labels.txt */
	free(in);
	mnv2_context_free(c);
	mnv2_model_free(m);
}
END_TEST

int main(void)
{
	shared = test_shared_dir();
	if (!shared) {
		printf("SKIP: ../shared not found (set MNV2_SHARED_DIR); golden tests need LiteRT's outputs\n");
		return 77;
	}
	const char *path = getenv("MNV2_TEST_PATH"), *vars = getenv("MNV2_GOLDEN_VARIANTS");
	printf("golden: kernel path %s, variants %s\n", path && *path ? path : "of this CPU (fastest)",
	       vars && *vars ? vars : "all");
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("classify");
	tcase_set_timeout(tc, 900);
	tcase_add_loop_test(tc, classify_uint8, 0, NVARIANTS);
	tcase_add_loop_test(tc, classify_int8_per_channel, 0, NVARIANTS);
	tcase_add_test(tc, classify_all_dirs);
	tcase_add_test(tc, grace_hopper_is_military_uniform);
	suite_add_tcase(s, tc);
	const char *skip_detect = getenv("MNV2_GOLDEN_SKIP_DETECT");
	if (skip_detect && !strcmp(skip_detect, "1")) {
		printf("golden: MNV2_GOLDEN_SKIP_DETECT=1: detectors not checked\n");
	} else {
		TCase *td = tcase_create("detect");
		tcase_set_timeout(td, 900);
		tcase_add_loop_test(td, detect_ssd_mobilenet_v2, 0, NVARIANTS);
		tcase_add_loop_test(td, detect_ssd_mobilenet_v1, 0, NVARIANTS);
		suite_add_tcase(s, td);
	}
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
