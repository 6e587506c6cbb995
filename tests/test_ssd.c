/* test_ssd — anchor generation, attached SSD post-processing on a raw SSDLite-shaped
 * graph, and the decoder/NMS semantics on hand-made inputs. */
#include "kernels/detect.h"
#include "mnv2/ssd.h"
#include "mnv2/tasks.h"
#include "synth_models.h"
#include "test_util.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(default_anchors_count_and_first)
{
	mnv2_ssd_options o;
	mnv2_error e;
	static float a[1917 * 4];
	mnv2_ssd_options_default(&o);
	ck_assert_int_eq(mnv2_ssd_anchors(&o, 300, 300, a, 1917, &e), 1917);
	/* 19x19x3 + 10x10x6 + 5x5x6 + 3x3x6 + 2x2x6 + 1x1x6 */
	ck_assert_float_eq_tol(a[0], 0.5f / 19, 1e-6);
	ck_assert_float_eq_tol(a[2], 0.1f, 1e-6);
	ck_assert_float_eq_tol(a[4 * 1 + 2], 0.2f / sqrtf(2.0f), 1e-6);
	ck_assert_float_eq_tol(a[4 * 1 + 3], 0.2f * sqrtf(2.0f), 1e-6);
	/* the first anchor of layer 1 (after 1083) has scale 0.35, aspect 1 */
	ck_assert_float_eq_tol(a[4 * 1083], 0.05f, 1e-6);
	ck_assert_float_eq_tol(a[4 * 1083 + 2], 0.35f, 1e-6);
}
END_TEST

START_TEST(anchors_match_trained_model)
{
	const char *shared = test_shared_dir();
	if (!shared) {
		printf("skip: ../shared absent\n");
		return;
	}
	char path[512], line[256];
	snprintf(path, sizeof path, "%s/models/mobilenet_ssd_v2_coco_quant_postprocess.anchors.csv",
		 shared);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	mnv2_ssd_options o;
	mnv2_error e;
	static float a[1917 * 4];
	mnv2_ssd_options_default(&o);
	ck_assert_int_eq(mnv2_ssd_anchors(&o, 300, 300, a, 1917, &e), 1917);
	int rows = 0;
	while (fgets(line, sizeof line, f)) {
		double v[4];
		if (sscanf(line, "%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3]) != 4)
			continue;
		for (int k = 0; k < 4; k++) /* the model stores them quantized, step 0.00645 */
			ck_assert_msg(fabs(v[k] - a[4 * rows + k]) <= 0.0033, "anchor %d.%d: %g vs %g",
				      rows, k, v[k], (double)a[4 * rows + k]);
		rows++;
	}
	fclose(f);
	ck_assert_int_eq(rows, 1917);
}
END_TEST

START_TEST(anchor_options_rejected)
{
	mnv2_ssd_options o;
	mnv2_error e;
	mnv2_ssd_options_default(&o);
	o.num_layers = 0;
	ck_assert_int_eq(mnv2_ssd_anchors(&o, 300, 300, NULL, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "num_layers"));
	mnv2_ssd_options_default(&o);
	o.aspect_ratios[1] = -1;
	ck_assert_int_eq(mnv2_ssd_anchors(&o, 300, 300, NULL, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "aspect"));
}
END_TEST

static void synth_ssd_options(mnv2_ssd_options *o)
{
	mnv2_ssd_options_default(o);
	o->num_layers = 2;
	o->feature_map_sizes[0] = 8;
	o->feature_map_sizes[1] = 4;
	o->num_aspect_ratios = 3; /* 1, 2, 0.5 */
	o->interpolated_scale_aspect_ratio = 0;
	o->max_detections = 10;
	o->nms_score_threshold = 0.3f;
}

/* Reference fast NMS, written plainly from the documented semantics. */
static int ref_fast_nms(const float *boxes, const float *best, int n, float thr, float iou_thr,
			int max, int *sel)
{
	int *order = malloc(sizeof(int) * (size_t)n), k = 0, nsel = 0;
	char *dead = calloc((size_t)n, 1);
	for (int i = 0; i < n; i++)
		if (best[i] >= thr)
			order[k++] = i;
	for (int i = 1; i < k; i++) /* insertion sort: stable */
		for (int j = i; j > 0 && best[order[j]] > best[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < k && nsel < max; i++) {
		if (dead[i])
			continue;
		sel[nsel++] = order[i];
		const float *a = &boxes[4 * order[i]];
		for (int j = i + 1; j < k; j++) {
			const float *b = &boxes[4 * order[j]];
			float aa = (a[2] - a[0]) * (a[3] - a[1]), ab = (b[2] - b[0]) * (b[3] - b[1]);
			if (aa <= 0 || ab <= 0)
				continue;
			float ih = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
			float iw = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
			float inter = fmaxf(ih, 0) * fmaxf(iw, 0);
			if (inter / (aa + ab - inter) > iou_thr)
				dead[j] = 1;
		}
	}
	free(order);
	free(dead);
	return nsel;
}

static float dq8(const mnv2_tensor_info *t, uint8_t q)
{
	return ((float)q - (float)t->zero_point) * t->scale;
}

START_TEST(attached_postprocess_matches_reference)
{
	uint8_t *bytes;
	size_t len;
	mnv2_error e;
	mnv2_ssd_options o;
	ck_assert_int_eq(synth_ssdlite_head(7, &bytes, &len), 0);
	synth_ssd_options(&o);
	mnv2_load_options lo = { .ssd = &o };
	mnv2_model *raw = mnv2_model_load_buffer(bytes, len, "raw", 0, &e);
	ck_assert_msg(raw != NULL, "%s", e.msg);
	mnv2_model *det = mnv2_model_load_buffer_ex(bytes, len, "det", 0, &lo, &e);
	ck_assert_msg(det != NULL, "%s", e.msg);
	ck_assert_int_eq(mnv2_model_task(det), MNV2_TASK_DETECTOR);
	ck_assert_int_eq(mnv2_model_task(raw), MNV2_TASK_UNKNOWN);
	mnv2_context *cr = mnv2_context_create(raw, &e), *cd = mnv2_context_create(det, &e);
	size_t in_len;
	uint8_t *in = mnv2_context_input(cr, 0, &in_len);
	uint32_t seed = 99;
	for (int round = 0; round < 5; round++) {
		for (size_t i = 0; i < in_len; i++)
			in[i] = (uint8_t)test_rand(&seed);
		ck_assert_int_eq(mnv2_context_set_input(cd, 0, in, in_len, &e), 0);
		ck_assert_int_eq(mnv2_context_run(cr, &e), 0);
		ck_assert_msg(mnv2_context_run(cd, &e) == 0, "%s", e.msg);
		/* reference: decode the raw outputs with the same anchors, then NMS */
		mnv2_tensor_info bi, si;
		mnv2_model_output_info(raw, 0, &bi);
		mnv2_model_output_info(raw, 1, &si);
		int bo = bi.dims[2] == 4 ? 0 : 1;
		if (bo)
			mnv2_model_output_info(raw, 0, &si), mnv2_model_output_info(raw, 1, &bi);
		const uint8_t *enc = mnv2_context_output(cr, bo, NULL);
		const uint8_t *sc = mnv2_context_output(cr, 1 - bo, NULL);
		int n = bi.dims[1], C = si.dims[2];
		float *anc = malloc(sizeof(float) * 4 * (size_t)n), *boxes = malloc(sizeof(float) * 4 * (size_t)n);
		float *best = malloc(sizeof(float) * (size_t)n);
		int *bestc = malloc(sizeof(int) * (size_t)n), *sel = malloc(sizeof(int) * (size_t)n);
		ck_assert_int_eq(mnv2_ssd_anchors(&o, 32, 32, anc, n, &e), n);
		for (int i = 0; i < n; i++) {
			const float *a = &anc[4 * i];
			double ty = dq8(&bi, enc[4 * i]), tx = dq8(&bi, enc[4 * i + 1]);
			double th = dq8(&bi, enc[4 * i + 2]), tw = dq8(&bi, enc[4 * i + 3]);
			float yc = (float)(ty / 10 * a[2] + a[0]), xc = (float)(tx / 10 * a[3] + a[1]);
			float hh = (float)(0.5 * exp(th / 5) * a[2]), hw = (float)(0.5 * exp(tw / 5) * a[3]);
			float *b = &boxes[4 * i];
			b[0] = yc - hh, b[1] = xc - hw, b[2] = yc + hh, b[3] = xc + hw;
			best[i] = -1;
			for (int c = 1; c < C; c++) {
				float v = dq8(&si, sc[(size_t)i * C + c]);
				if (v > best[i])
					best[i] = v, bestc[i] = c - 1;
			}
		}
		int nsel = ref_fast_nms(boxes, best, n, o.nms_score_threshold, o.nms_iou_threshold,
					o.max_detections, sel);
		const float *ob = mnv2_context_output(cd, 0, NULL), *oc = mnv2_context_output(cd, 1, NULL);
		const float *os = mnv2_context_output(cd, 2, NULL), *on = mnv2_context_output(cd, 3, NULL);
		ck_assert_int_eq((int)on[0], nsel);
		for (int i = 0; i < nsel; i++) {
			ck_assert_int_eq((int)oc[i], bestc[sel[i]]);
			ck_assert_float_eq(os[i], best[sel[i]]);
			ck_assert_int_eq(memcmp(&ob[4 * i], &boxes[4 * sel[i]], 16), 0);
		}
		free(anc), free(boxes), free(best), free(bestc), free(sel);
	}
	mnv2_context_free(cr);
	mnv2_context_free(cd);
	mnv2_model_free(raw);
	mnv2_model_free(det);
	free(bytes);
}
END_TEST

START_TEST(attach_rejects_wrong_anchor_count)
{
	uint8_t *bytes;
	size_t len;
	mnv2_error e;
	mnv2_ssd_options o;
	ck_assert_int_eq(synth_ssdlite_head(3, &bytes, &len), 0);
	synth_ssd_options(&o);
	o.feature_map_sizes[1] = 5;
	mnv2_load_options lo = { .ssd = &o };
	ck_assert_ptr_null(mnv2_model_load_buffer_ex(bytes, len, "m", 0, &lo, &e));
	ck_assert_msg(strstr(e.msg, "anchors") != NULL, "%s", e.msg);
	free(bytes);
	/* a classifier has one output: nothing to attach to */
	ck_assert_int_eq(synth_mnv2_uint8(1, &bytes, &len), 0);
	synth_ssd_options(&o);
	ck_assert_ptr_null(mnv2_model_load_buffer_ex(bytes, len, "c", 0, &lo, &e));
	ck_assert_msg(strstr(e.msg, "two outputs") != NULL, "%s", e.msg);
	free(bytes);
}
END_TEST

/* Hand-made kernel cases: three anchors, float inputs, identity anchors. */
static void hand_params(mnv2_detect_params *p, float *anchors, int n, int classes)
{
	memset(p, 0, sizeof *p);
	p->num_boxes = n;
	p->num_classes = classes;
	p->label_offset = 1;
	p->max_detections = 5;
	p->max_classes_per_detection = 1;
	p->detections_per_class = 5;
	p->score_threshold = 0.1f;
	p->iou_threshold = 0.5f;
	p->y_scale = p->x_scale = p->h_scale = p->w_scale = 1;
	p->anchors = anchors;
	p->boxes.type = MNV2_FLOAT32;
	p->scores.type = MNV2_FLOAT32;
	p->out_rows = 5;
}

START_TEST(nms_suppresses_and_keeps_ties_stable)
{
	/* anchors: two overlapping at the same place, one far away */
	float anchors[12] = { 0.5f, 0.5f, 0.2f, 0.2f, 0.5f, 0.5f, 0.2f, 0.2f, 0.1f, 0.1f, 0.1f, 0.1f };
	float enc[12] = { 0 };
	/* scores rows: [bg, c0, c1]; anchors 0 and 1 tie at 0.8 (anchor 0 must win) */
	float sc[9] = { 0, 0.8f, 0.1f, 0, 0.8f, 0.2f, 0, 0.3f, 0.6f };
	mnv2_detect_params p;
	hand_params(&p, anchors, 3, 2);
	size_t sz = mnv2_detect_scratch_bytes(&p);
	void *scratch = malloc(sz);
	float ob[20], oc[5], os[5], on;
	int bad = -1;
	ck_assert_int_eq(mnv2_detect(&p, enc, sc, scratch, ob, oc, os, &on, &bad), 0);
	ck_assert_float_eq(on, 2);          /* anchor 1 suppressed by anchor 0 */
	ck_assert_float_eq(os[0], 0.8f);
	ck_assert_float_eq(oc[0], 0);
	ck_assert_float_eq(ob[0], 0.4f);     /* ymin = 0.5 - 0.5*exp(0)*0.2 */
	ck_assert_float_eq(os[1], 0.6f);
	ck_assert_float_eq(oc[1], 1);
	ck_assert_float_eq(os[2], 0);        /* rows past the count are zero */
	/* regular NMS: per class; class 1 keeps anchors 2 (0.6) and 1 (0.2); class 0
	 * keeps anchor 0 (0.8) and anchor 2 (0.3) */
	p.use_regular_nms = 1;
	ck_assert_int_eq(mnv2_detect(&p, enc, sc, scratch, ob, oc, os, &on, &bad), 0);
	ck_assert_float_eq(on, 4);
	ck_assert_float_eq(os[0], 0.8f);
	ck_assert_float_eq(os[1], 0.6f);
	ck_assert_float_eq(os[2], 0.3f);
	ck_assert_float_eq(os[3], 0.2f);
	ck_assert_float_eq(oc[3], 1);
	/* two classes per detection (fast NMS): rows come in pairs */
	p.use_regular_nms = 0;
	p.max_classes_per_detection = 2;
	p.out_rows = 10;
	free(scratch);
	scratch = malloc(mnv2_detect_scratch_bytes(&p));
	float ob2[40], oc2[10], os2[10];
	ck_assert_int_eq(mnv2_detect(&p, enc, sc, scratch, ob2, oc2, os2, &on, &bad), 0);
	ck_assert_float_eq(on, 2);
	ck_assert_float_eq(oc2[0], 0);
	ck_assert_float_eq(oc2[1], 1);
	ck_assert_float_eq(os2[1], 0.1f);
	free(scratch);
}
END_TEST

START_TEST(nms_rejects_inverted_boxes)
{
	float anchors[4] = { 0.5f, 0.5f, -0.2f, 0.2f }; /* negative height */
	float enc[4] = { 0 }, sc[3] = { 0, 0.9f, 0.1f };
	mnv2_detect_params p;
	hand_params(&p, anchors, 1, 2);
	void *scratch = malloc(mnv2_detect_scratch_bytes(&p));
	float ob[20], oc[5], os[5], on;
	int bad = -1;
	ck_assert_int_eq(mnv2_detect(&p, enc, sc, scratch, ob, oc, os, &on, &bad), -1);
	ck_assert_int_eq(bad, 0);
	free(scratch);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssd");
	TCase *tc = tcase_create("ssd");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, default_anchors_count_and_first);
	tcase_add_test(tc, anchors_match_trained_model);
	tcase_add_test(tc, anchor_options_rejected);
	tcase_add_test(tc, attached_postprocess_matches_reference);
	tcase_add_test(tc, attach_rejects_wrong_anchor_count);
	tcase_add_test(tc, nms_suppresses_and_keeps_ties_stable);
	tcase_add_test(tc, nms_rejects_inverted_boxes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
