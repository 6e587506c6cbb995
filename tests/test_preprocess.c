/* test_preprocess — resampling against a plain double-precision reference, resize modes,
 * tensor encodings and the inverse coordinate transform. */
#include "mnv2/preprocess.h"
#include "test_util.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *random_image(uint32_t w, uint32_t h, uint32_t seed)
{
	uint8_t *p = malloc((size_t)w * h * 3);
	for (size_t i = 0; i < (size_t)w * h * 3; i++)
		p[i] = (uint8_t)test_rand(&seed);
	return p;
}

/* The triangle filter, support widened by the scale when shrinking, half-pixel
 * centres, normalized weights; double precision, no intermediate rounding except the
 * 8-bit horizontal result (as the contract says). */
static double tri(double x) { x = fabs(x); return x < 1 ? 1 - x : 0; }

/* The bilinear filter's reference, written the other common way (OpenCV's INTER_LINEAR):
 * the two samples around the centre, indices clamped to the edge. */
static void ref_1d_bilinear(const double *in, int n, double in0, double in1, double *out,
			    int m)
{
	double scale = (in1 - in0) / m;
	for (int o = 0; o < m; o++) {
		double c = in0 + (o + 0.5) * scale - 0.5, i0 = floor(c), f = c - i0;
		int a = (int)i0 < 0 ? 0 : (int)i0 > n - 1 ? n - 1 : (int)i0;
		int b = (int)i0 + 1 < 0 ? 0 : (int)i0 + 1 > n - 1 ? n - 1 : (int)i0 + 1;
		out[o] = (1 - f) * in[a] + f * in[b];
	}
}

static mnv2_resize_filter ref_filter;   /* which one ref_1d() computes */

static void ref_1d(const double *in, int n, double in0, double in1, double *out, int m,
		   size_t in_step, size_t out_step)
{
	if (ref_filter == MNV2_FILTER_BILINEAR) { /* only called with unit steps */
		ref_1d_bilinear(in, n, in0, in1, out, m);
		return;
	}
	double scale = (in1 - in0) / m, fs = scale < 1 ? 1 : scale, support = fs;
	for (int o = 0; o < m; o++) {
		double c = in0 + (o + 0.5) * scale, sum = 0, ww = 0;
		int lo = (int)(c - support + 0.5), hi = (int)(c + support + 0.5);
		lo = lo < 0 ? 0 : lo;
		hi = hi > n ? n : hi;
		for (int i = lo; i < hi; i++) {
			double w = tri((i - c + 0.5) / fs);
			sum += w * in[i * in_step];
			ww += w;
		}
		out[o * out_step] = ww ? sum / ww : 0;
	}
}

/* _i: 0 antialias, 1 bilinear (each against its own reference). */
START_TEST(resize_matches_float_reference)
{
	uint32_t seed = 1234;
	ref_filter = _i ? MNV2_FILTER_BILINEAR : MNV2_FILTER_ANTIALIAS;
	for (int iter = 0; iter < 60; iter++) {
		uint32_t w = (uint32_t)test_rand_range(&seed, 1, 97), h = (uint32_t)test_rand_range(&seed, 1, 97);
		uint32_t dw = (uint32_t)test_rand_range(&seed, 1, 80), dh = (uint32_t)test_rand_range(&seed, 1, 80);
		uint8_t *src = random_image(w, h, seed + 1);
		uint8_t *dst = malloc((size_t)dw * dh * 3);
		mnv2_rgb_view v = { src, w, h, (size_t)w * 3 };
		mnv2_error e;
		ck_assert_int_eq(mnv2_resize_rgb_filter(&v, 0, 0, w, h, dst, dw, dh, (size_t)dw * 3,
							ref_filter, &e), 0);
		double *col = malloc(sizeof(double) * h), *tmp = malloc(sizeof(double) * (size_t)dw * h);
		double *row = malloc(sizeof(double) * w), *out = malloc(sizeof(double) * dh);
		for (int c = 0; c < 3; c++) {
			for (uint32_t y = 0; y < h; y++) { /* horizontal, rounded to 8 bits */
				for (uint32_t x = 0; x < w; x++)
					row[x] = src[((size_t)y * w + x) * 3 + c];
				ref_1d(row, (int)w, 0, w, &tmp[(size_t)y * dw], (int)dw, 1, 1);
				for (uint32_t x = 0; x < dw; x++)
					tmp[(size_t)y * dw + x] = fmin(255, fmax(0, floor(tmp[(size_t)y * dw + x] + 0.5)));
			}
			for (uint32_t x = 0; x < dw; x++) {
				for (uint32_t y = 0; y < h; y++)
					col[y] = dw == w ? src[((size_t)y * w + x) * 3 + c] : tmp[(size_t)y * dw + x];
				ref_1d(col, (int)h, 0, h, out, (int)dh, 1, 1);
				for (uint32_t y = 0; y < dh; y++) {
					double want = h == dh ? col[y] : out[y];
					int got = dst[((size_t)y * dw + x) * 3 + c];
					/* The reference may round an exact half in the 8-bit
					 * intermediate the other way (±1); the vertical pass carries
					 * that through, and the final rounding adds 0.5: 1.5 at most, plus
					 * the 22-bit weights' quantization (well under 1e-3).
					 * A wrong support, centre or weight errs by far more. */
					ck_assert_msg(fabs(got - want) <= 1.501, "%s %ux%u->%ux%u at "
						      "(%u,%u,%d): %d vs %.3f",
						      mnv2_resize_filter_name(ref_filter), w, h, dw, dh,
						      x, y, c, got, want);
				}
			}
		}
		free(col), free(tmp), free(row), free(out), free(src), free(dst);
	}
}
END_TEST

/* Upscaling: the two filters are one. Shrinking 1-pixel stripes by 60/7: antialias averages
 * them to grey, bilinear samples them (aliasing) — the documented trade. Unknown values
 * are refused; names round-trip. */
START_TEST(filters_differ_only_when_shrinking)
{
	enum { W = 60, H = 12 };
	uint8_t *src = random_image(W, H, 77), up[2][90 * 20 * 3];
	mnv2_rgb_view v = { src, W, H, W * 3 };
	mnv2_error e;
	for (int f = 0; f < 2; f++)
		ck_assert_int_eq(mnv2_resize_rgb_filter(&v, 0, 0, W, H, up[f], 90, 20, 90 * 3,
							(mnv2_resize_filter)f, &e), 0);
	ck_assert_mem_eq(up[0], up[1], sizeof up[0]);
	for (size_t i = 0; i < (size_t)W * H * 3; i++) /* vertical stripes, 1 pixel wide */
		src[i] = (i / 3) % 2 ? 255 : 0;
	uint8_t small[2][7 * 2 * 3];
	for (int f = 0; f < 2; f++)
		ck_assert_int_eq(mnv2_resize_rgb_filter(&v, 0, 0, W, H, small[f], 7, 2, 21,
							(mnv2_resize_filter)f, &e), 0);
	int aa_grey = 1, bl_not_grey = 0;
	for (size_t i = 0; i < sizeof small[0]; i++) {
		aa_grey &= abs(small[0][i] - 128) <= 24;
		bl_not_grey |= abs(small[1][i] - 128) > 24;
	}
	ck_assert_msg(aa_grey, "antialias did not average the stripes");
	ck_assert_msg(bl_not_grey, "bilinear averaged like antialias");
	ck_assert_int_eq(mnv2_resize_rgb_filter(&v, 0, 0, W, H, small[0], 7, 2, 21,
						(mnv2_resize_filter)7, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "unknown filter"));
	mnv2_resize_filter out;
	ck_assert_int_eq(mnv2_resize_filter_parse("bilinear", &out), 0);
	ck_assert_int_eq(out, MNV2_FILTER_BILINEAR);
	ck_assert_int_eq(mnv2_resize_filter_parse("antialias", &out), 0);
	ck_assert_int_eq(out, MNV2_FILTER_ANTIALIAS);
	ck_assert_int_eq(mnv2_resize_filter_parse("lanczos", &out), -1);
	ck_assert_str_eq(mnv2_resize_filter_name(MNV2_FILTER_BILINEAR), "bilinear");
	free(src);
}
END_TEST

START_TEST(resize_identity_and_constant)
{
	uint8_t *src = random_image(31, 17, 5), *dst = malloc(31 * 17 * 3);
	mnv2_rgb_view v = { src, 31, 17, 31 * 3 };
	mnv2_error e;
	ck_assert_int_eq(mnv2_resize_rgb(&v, 0, 0, 31, 17, dst, 31, 17, 31 * 3, &e), 0);
	ck_assert_int_eq(memcmp(src, dst, 31 * 17 * 3), 0);
	memset(src, 77, 31 * 17 * 3);
	uint8_t big[64 * 40 * 3];
	ck_assert_int_eq(mnv2_resize_rgb(&v, 0, 0, 31, 17, big, 64, 40, 64 * 3, &e), 0);
	for (size_t i = 0; i < sizeof big; i++)
		ck_assert_int_eq(big[i], 77);
	free(src);
	free(dst);
}
END_TEST

START_TEST(resize_rejects_bad_arguments)
{
	uint8_t px[12] = { 0 }, out[12];
	mnv2_rgb_view v = { px, 2, 2, 6 };
	mnv2_error e;
	ck_assert_int_eq(mnv2_resize_rgb(&v, 0, 0, 3, 2, out, 2, 2, 6, &e), -1); /* box past edge */
	ck_assert_int_eq(mnv2_resize_rgb(&v, 1, 0, 1, 2, out, 2, 2, 6, &e), -1); /* empty box */
	ck_assert_int_eq(mnv2_resize_rgb(&v, 0, 0, 2, 2, out, 0, 2, 6, &e), -1);
	v.stride = 5;
	ck_assert_int_eq(mnv2_resize_rgb(&v, 0, 0, 2, 2, out, 2, 2, 6, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "stride"));
}
END_TEST

static mnv2_tensor_info input_info(mnv2_dtype t, int s, int32_t zp)
{
	mnv2_tensor_info in = { .name = "in", .type = t, .rank = 4, .dims = { 1, s, s, 3 },
				.quantized = 1, .scale = 1 / 128.0f, .zero_point = zp };
	in.bytes = (size_t)s * s * 3 * (t == MNV2_FLOAT32 ? 4 : 1);
	return in;
}

START_TEST(letterbox_pads_with_zero_point_and_maps_back)
{
	/* 40x20 image into 10x10: content 10x5 in rows 2..6, pad rows hold the zero point */
	uint8_t *src = malloc(40 * 20 * 3);
	memset(src, 200, 40 * 20 * 3);
	mnv2_rgb_view v = { src, 40, 20, 120 };
	mnv2_tensor_info in = input_info(MNV2_UINT8, 10, 128);
	uint8_t dst[300];
	mnv2_transform tf;
	mnv2_error e;
	mnv2_preprocess_opts o = { .mode = MNV2_RESIZE_LETTERBOX };
	ck_assert_int_eq(mnv2_preprocess(&v, &in, &o, dst, sizeof dst, &tf, &e), 0);
	for (int y = 0; y < 10; y++)
		for (int x = 0; x < 10; x++)
			ck_assert_int_eq(dst[(y * 10 + x) * 3], (y >= 2 && y < 7) ? 200 : 128);
	double px, py;
	mnv2_transform_point(&tf, 0.0, 0.2, &px, &py); /* top-left of the content */
	ck_assert_double_eq_tol(px, 0, 1e-9);
	ck_assert_double_eq_tol(py, 0, 1e-9);
	mnv2_transform_point(&tf, 1.0, 0.7, &px, &py); /* bottom-right of the content */
	ck_assert_double_eq_tol(px, 40, 1e-9);
	ck_assert_double_eq_tol(py, 20, 1e-9);
	free(src);
}
END_TEST

START_TEST(center_crop_and_stretch_map_back)
{
	uint8_t *src = random_image(60, 30, 9);
	mnv2_rgb_view v = { src, 60, 30, 180 };
	mnv2_tensor_info in = input_info(MNV2_UINT8, 10, 128);
	uint8_t dst[300], ref[300];
	mnv2_transform tf;
	mnv2_error e;
	mnv2_preprocess_opts o = { .mode = MNV2_RESIZE_CENTER_CROP };
	ck_assert_int_eq(mnv2_preprocess(&v, &in, &o, dst, sizeof dst, &tf, &e), 0);
	/* same as resizing the centred 30x30 box */
	ck_assert_int_eq(mnv2_resize_rgb(&v, 15, 0, 45, 30, ref, 10, 10, 30, &e), 0);
	ck_assert_int_eq(memcmp(dst, ref, 300), 0);
	double px, py;
	mnv2_transform_point(&tf, 0, 0, &px, &py);
	ck_assert_double_eq_tol(px, 15, 1e-9);
	mnv2_transform_point(&tf, 1, 1, &px, &py);
	ck_assert_double_eq_tol(px, 45, 1e-9);
	ck_assert_double_eq_tol(py, 30, 1e-9);
	o.mode = MNV2_RESIZE_STRETCH;
	ck_assert_int_eq(mnv2_preprocess(&v, &in, &o, dst, sizeof dst, &tf, &e), 0);
	mnv2_transform_point(&tf, 0.5, 0.5, &px, &py);
	ck_assert_double_eq_tol(px, 30, 1e-9);
	ck_assert_double_eq_tol(py, 15, 1e-9);
	free(src);
}
END_TEST

START_TEST(int8_and_float_encodings)
{
	uint8_t px[3] = { 0, 128, 255 };
	mnv2_rgb_view v = { px, 1, 1, 3 };
	mnv2_tensor_info i8 = input_info(MNV2_INT8, 1, 0), f32 = input_info(MNV2_FLOAT32, 1, 0);
	int8_t q[3];
	float f[3];
	mnv2_error e;
	ck_assert_int_eq(mnv2_preprocess(&v, &i8, NULL, q, 3, NULL, &e), 0);
	ck_assert_int_eq(q[0], -128);
	ck_assert_int_eq(q[1], 0);
	ck_assert_int_eq(q[2], 127);
	ck_assert_int_eq(mnv2_preprocess(&v, &f32, NULL, f, 12, NULL, &e), 0);
	ck_assert_float_eq_tol(f[0], -1.0f, 1e-6);
	ck_assert_float_eq_tol(f[2], 1.0f, 1e-6);
	/* a tensor that is not an image is refused */
	mnv2_tensor_info bad = i8;
	bad.dims[3] = 4;
	ck_assert_int_eq(mnv2_preprocess(&v, &bad, NULL, q, 3, NULL, &e), -1);
	ck_assert_int_eq(mnv2_preprocess(&v, &i8, NULL, q, 2, NULL, &e), -1);
}
END_TEST

START_TEST(resize_mode_names)
{
	mnv2_resize_mode m;
	ck_assert_int_eq(mnv2_resize_mode_parse("letterbox", &m), 0);
	ck_assert_int_eq(m, MNV2_RESIZE_LETTERBOX);
	ck_assert_int_eq(mnv2_resize_mode_parse("center-crop", &m), 0);
	ck_assert_int_eq(mnv2_resize_mode_parse("crop", &m), -1);
	ck_assert_str_eq(mnv2_resize_mode_name(MNV2_RESIZE_STRETCH), "stretch");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("preprocess");
	TCase *tc = tcase_create("preprocess");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, resize_matches_float_reference, 0, 2);
	tcase_add_test(tc, filters_differ_only_when_shrinking);
	tcase_add_test(tc, resize_identity_and_constant);
	tcase_add_test(tc, resize_rejects_bad_arguments);
	tcase_add_test(tc, letterbox_pads_with_zero_point_and_maps_back);
	tcase_add_test(tc, center_crop_and_stretch_map_back);
	tcase_add_test(tc, int8_and_float_encodings);
	tcase_add_test(tc, resize_mode_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
