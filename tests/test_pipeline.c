/* test_pipeline — end to end: every image in ../shared/images is decoded and resized
 * (stretch) into each golden model's input; the bytes must equal the golden .u8 input
 * exactly, and the model's output the golden output. Also checks that mnv2-model's
 * classify prints "military uniform" first for the Grace Hopper photo. */
#include "mnv2/engine.h"
#include "mnv2/image.h"
#include "mnv2/preprocess.h"
#include "test_util.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *shared;

/* golden name of an image file: "hot_dog.jpg" -> "hot_dog_jpg", "cat.png" -> "cat" */
static void golden_name(const char *file, char *out, size_t len)
{
	size_t n = strlen(file);
	if (n > 4 && !strcmp(file + n - 4, ".jpg"))
		snprintf(out, len, "%.*s_jpg", (int)(n - 4), file);
	else
		snprintf(out, len, "%.*s", (int)(n > 4 ? n - 4 : n), file);
}

static int check_model(const char *task, const char *model, const char *out_suffix)
{
	char path[1024], gname[256];
	mnv2_error err;
	snprintf(path, sizeof path, "%s/models/%s.tflite", shared, model);
	mnv2_model *m = mnv2_model_load(path, &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	mnv2_context *c = mnv2_context_create(m, &err);
	mnv2_tensor_info in;
	mnv2_model_input_info(m, 0, &in);
	snprintf(path, sizeof path, "%s/images", shared);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		golden_name(e->d_name, gname, sizeof gname);
		size_t glen, olen, bytes;
		snprintf(path, sizeof path, "%s/golden/%s/%s/%s.u8", shared, task, model, gname);
		uint8_t *want = test_read_file(path, 1 << 24, &glen);
		if (!want)
			continue; /* no golden for this image */
		mnv2_image img;
		char msg[512];
		snprintf(path, sizeof path, "%s/images/%s", shared, e->d_name);
		ck_assert_msg(mnv2_image_load_file(path, NULL, &img, msg, sizeof msg) == 0, "%s", msg);
		uint8_t *dst = mnv2_context_input(c, 0, &bytes);
		mnv2_rgb_view v = { img.data, img.width, img.height, img.stride };
		ck_assert_msg(mnv2_preprocess(&v, &in, NULL, dst, bytes, NULL, &err) == 0, "%s", err.msg);
		ck_assert_uint_eq(bytes, glen);
		ck_assert_msg(memcmp(dst, want, glen) == 0, "%s: resized input differs from golden", path);
		ck_assert_int_eq(mnv2_context_run(c, &err), 0);
		snprintf(path, sizeof path, "%s/golden/%s/%s/%s%s", shared, task, model, gname, out_suffix);
		uint8_t *gout = test_read_file(path, 1 << 24, &olen);
		ck_assert_ptr_nonnull(gout);
		const void *got = mnv2_context_output(c, 0, &bytes);
		ck_assert_msg(bytes == olen && memcmp(got, gout, olen) == 0, "%s: output differs", path);
		free(gout);
		free(want);
		mnv2_image_free(&img);
		n++;
	}
	closedir(d);
	mnv2_context_free(c);
	mnv2_model_free(m);
	return n;
}

START_TEST(images_to_classifier_goldens)
{
	ck_assert_int_ge(check_model("classify", "mobilenet_v2_1.0_224_quant", ".out"), 13);
	ck_assert_int_ge(check_model("classify", "tf2_mobilenet_v2_1.0_224_ptq", ".out"), 13);
}
END_TEST

START_TEST(images_to_detector_goldens)
{
	ck_assert_int_ge(check_model("detect", "mobilenet_ssd_v2_coco_quant_postprocess", ".boxes.f32"), 13);
	ck_assert_int_ge(check_model("detect", "ssd_mobilenet_v1_1_default_1", ".boxes.f32"), 13);
}
END_TEST

START_TEST(tool_classifies_grace_hopper)
{
	char cmd[2048], line[512] = { 0 };
	const char *b = getenv("MNV2_BUILD_DIR");
	ck_assert_ptr_nonnull(b);
	snprintf(cmd, sizeof cmd,
		 "%s/tools/mnv2-model classify %s/models/mobilenet_v2_1.0_224_quant.tflite %s/images/grace_hopper.png --labels %s/models/imagenet_labels.txt --top 1",
		 b, shared, shared, shared);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_msg(strstr(line, "military uniform") != NULL, "got: %s", line);
}
END_TEST

int main(void)
{
	shared = test_shared_dir();
	if (!shared) {
		printf("SKIP: ../shared not found; the end-to-end tests need its images and goldens\n");
		return 77;
	}
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("pipeline");
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, images_to_classifier_goldens);
	tcase_add_test(tc, images_to_detector_goldens);
	tcase_add_test(tc, tool_classifies_grace_hopper);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
