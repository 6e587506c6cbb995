/* frame_bench — what a 1920x1080 camera frame costs to turn into a 300x300 model input:
 * one-pass NV12 (mnv2_preprocess_frame, both filters) against decoding a PNG of the same frame and
 * resizing it (mnv2_image_decode + mnv2_preprocess), with the steps in between for scale.
 *
 * usage: frame_bench [--iterations N] [--image PNG] [--model TFLITE] [--size WxH] [--only NAME]
 * --only runs just the steps whose names contain NAME (for profiling one of them).
 * The frame is the image (default ../shared/images/kite_and_cold.png) resized to the size,
 * with a little deterministic noise (±2, like a sensor) so the PNG is not unnaturally small,
 * then converted to NV12 (BT.601 limited) here; without the image, a synthetic pattern.
 * With a detector model (default ../shared/models/mobilenet_ssd_v2_coco_quant_postprocess
 * .tflite) it also times one inference, for the "below 10% of inference" target.
 * Prints one JSON object. A measurement, never a test. */
#include "mnv2/engine.h"
#include "mnv2/frame.h"
#include "mnv2/image.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef MNV2_SHARED_DIR
#define MNV2_SHARED_DIR "../shared"
#endif

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct result {
	const char *name;
	double median, min;
} result;

#define MAX_RESULTS 16
static result results[MAX_RESULTS];
static int nresults;

typedef int (*step_fn)(void *arg);

static const char *only; /* --only: run just the steps whose names contain it */

static void timeit(const char *name, step_fn fn, void *arg, int iterations)
{
	if (only && !strstr(name, only))
		return;
	double *t = malloc(sizeof(double) * (size_t)iterations);
	if (!t || fn(arg)) { /* one warm-up run, which also checks it works */
		fprintf(stderr, "frame_bench: %s failed\n", name);
		exit(1);
	}
	for (int i = 0; i < iterations; i++) {
		double t0 = now_us();
		fn(arg);
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)iterations, sizeof *t, cmp_double);
	results[nresults++] = (result){ name, t[iterations / 2], t[0] };
	free(t);
}

/* ---- the frame ---- */

typedef struct bench {
	uint32_t w, h;
	uint8_t *rgb;            /* w * h * 3 */
	uint8_t *nv12;           /* w * h * 3 / 2 */
	size_t nv12_len;
	mnv2_frame frame;
	uint8_t *yuyv;           /* the same frame as YUYV (4:2:2, chroma of the pair's left pixel) */
	mnv2_frame frame_yuyv;
	unsigned char *png;
	size_t png_len;
	mnv2_tensor_info input;  /* uint8 [1,300,300,3] */
	uint8_t *tensor;
	mnv2_resize_mode mode;
	mnv2_resize_filter filter;
	mnv2_context *ctx;
} bench;

static uint8_t clamp8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5); }

static void make_rgb(bench *b, const char *image)
{
	size_t n = (size_t)b->w * b->h * 3;
	b->rgb = malloc(n);
	mnv2_image img;
	char err[MNV2_IMAGE_ERR_LEN];
	mnv2_error e;
	uint32_t seed = 12345;
	if (image && mnv2_image_load_file(image, NULL, &img, err, sizeof err) == 0) {
		mnv2_rgb_view v = { img.data, img.width, img.height, img.stride };
		if (mnv2_resize_rgb(&v, 0, 0, img.width, img.height, b->rgb, b->w, b->h,
				    (size_t)b->w * 3, &e))
			exit(1);
		mnv2_image_free(&img);
	} else {
		fprintf(stderr, "frame_bench: %s: no image, a synthetic frame instead\n",
			image ? image : "(none)");
		for (uint32_t y = 0; y < b->h; y++)
			for (uint32_t x = 0; x < b->w; x++) {
				uint8_t *p = b->rgb + ((size_t)y * b->w + x) * 3;
				p[0] = (uint8_t)(x * 255 / b->w);
				p[1] = (uint8_t)(y * 255 / b->h);
				p[2] = (uint8_t)((x ^ y) & 255);
			}
	}
	for (size_t i = 0; i < n; i++) { /* sensor-like noise, ±2 */
		seed = seed * 1103515245u + 12345u;
		int d = (int)((seed >> 16) % 5) - 2;
		b->rgb[i] = clamp8(b->rgb[i] + d);
	}
}

/* BT.601 limited range, chroma from the top-left pixel of each 2x2 block. */
static void make_nv12(bench *b)
{
	uint32_t w = b->w, h = b->h, cw = (w + 1) / 2, ch = (h + 1) / 2;
	b->nv12_len = (size_t)w * h + (size_t)cw * 2 * ch;
	b->nv12 = malloc(b->nv12_len);
	uint8_t *uv = b->nv12 + (size_t)w * h;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = b->rgb + ((size_t)y * w + x) * 3;
			double Y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
			b->nv12[(size_t)y * w + x] = clamp8(16 + Y * 219 / 255);
			if (!(x & 1) && !(y & 1)) {
				uint8_t *c = uv + (size_t)(y / 2) * cw * 2 + (size_t)(x / 2) * 2;
				c[0] = clamp8(128 + (p[2] - Y) / 1.772 * 224 / 255);
				c[1] = clamp8(128 + (p[0] - Y) / 1.402 * 224 / 255);
			}
		}
	b->yuyv = malloc((size_t)w * h * 2);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x + 1 < w; x += 2) {
			const uint8_t *c = uv + (size_t)(y / 2) * cw * 2 + (size_t)(x / 2) * 2;
			uint8_t *o = b->yuyv + ((size_t)y * w + x) * 2;
			o[0] = b->nv12[(size_t)y * w + x];
			o[1] = c[0];
			o[2] = b->nv12[(size_t)y * w + x + 1];
			o[3] = c[1];
		}
	mnv2_error e;
	if (mnv2_frame_init(&b->frame, MNV2_FRAME_NV12, w, h, 0, b->nv12, b->nv12_len, &e) ||
	    mnv2_frame_init(&b->frame_yuyv, MNV2_FRAME_YUYV, w & ~1u, h, (size_t)w * 2, b->yuyv,
			    (size_t)w * h * 2, &e)) {
		fprintf(stderr, "frame_bench: %s\n", e.msg);
		exit(1);
	}
}

typedef struct membuf {
	unsigned char *data;
	size_t len, cap;
} membuf;

static void png_write_mem(png_structp p, png_bytep data, png_size_t n)
{
	membuf *m = png_get_io_ptr(p);
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->data = realloc(m->data, m->cap);
		if (!m->data)
			png_error(p, "out of memory");
	}
	memcpy(m->data + m->len, data, n);
	m->len += n;
}

static void png_flush_mem(png_structp p) { (void)p; }

/* libpng's defaults (zlib level 6, adaptive filters), as most encoders write. */
static void make_png(bench *b)
{
	membuf m = { 0 };
	png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(p);
	if (setjmp(png_jmpbuf(p))) {
		fprintf(stderr, "frame_bench: PNG encoding failed\n");
		exit(1);
	}
	png_set_write_fn(p, &m, png_write_mem, png_flush_mem);
	png_set_IHDR(p, info, b->w, b->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(p, info);
	for (uint32_t y = 0; y < b->h; y++)
		png_write_row(p, b->rgb + (size_t)y * b->w * 3);
	png_write_end(p, NULL);
	png_destroy_write_struct(&p, &info);
	b->png = m.data;
	b->png_len = m.len;
}

/* ---- the steps ---- */

static int step_frame(void *arg)
{
	bench *b = arg;
	mnv2_preprocess_opts o = { .mode = b->mode, .filter = b->filter };
	mnv2_transform tf;
	return mnv2_preprocess_frame(&b->frame, NULL, &b->input, &o, b->tensor, b->input.bytes,
				     &tf, NULL);
}

static int step_yuyv(void *arg)
{
	bench *b = arg;
	mnv2_transform tf;
	return mnv2_preprocess_frame(&b->frame_yuyv, NULL, &b->input, NULL, b->tensor,
				     b->input.bytes, &tf, NULL);
}

static int step_frame_roi(void *arg)
{
	bench *b = arg;
	mnv2_rect roi = { b->w / 4, b->h / 4, b->w / 2, b->h / 2 };
	mnv2_transform tf;
	return mnv2_preprocess_frame(&b->frame, &roi, &b->input, NULL, b->tensor, b->input.bytes,
				     &tf, NULL);
}

static int step_convert_then_resize(void *arg)
{
	bench *b = arg;
	uint8_t *rgb = malloc((size_t)b->w * b->h * 3);
	mnv2_rgb_view v = { rgb, b->w, b->h, (size_t)b->w * 3 };
	mnv2_transform tf;
	int rc = !rgb || mnv2_frame_to_rgb(&b->frame, NULL, rgb, v.stride, NULL) ||
		 mnv2_preprocess(&v, &b->input, NULL, b->tensor, b->input.bytes, &tf, NULL);
	free(rgb);
	return rc;
}

static int step_png_decode(void *arg)
{
	bench *b = arg;
	mnv2_image img;
	char err[MNV2_IMAGE_ERR_LEN];
	int rc = mnv2_image_decode(b->png, b->png_len, NULL, &img, err, sizeof err);
	mnv2_image_free(&img);
	return rc;
}

static int step_png_decode_resize(void *arg)
{
	bench *b = arg;
	mnv2_image img;
	char err[MNV2_IMAGE_ERR_LEN];
	mnv2_transform tf;
	if (mnv2_image_decode(b->png, b->png_len, NULL, &img, err, sizeof err))
		return -1;
	mnv2_rgb_view v = { img.data, img.width, img.height, img.stride };
	int rc = mnv2_preprocess(&v, &b->input, NULL, b->tensor, b->input.bytes, &tf, NULL);
	mnv2_image_free(&img);
	return rc;
}

/* Today's daemon path for a raw RGB888 frame: copy to an mnv2_image, then preprocess. */
static int step_raw_rgb_image(void *arg)
{
	bench *b = arg;
	mnv2_image img;
	char err[MNV2_IMAGE_ERR_LEN];
	mnv2_transform tf;
	if (mnv2_image_from_raw(MNV2_PIX_RGB888, b->w, b->h, 0, b->rgb, (size_t)b->w * b->h * 3,
				NULL, &img, err, sizeof err))
		return -1;
	mnv2_rgb_view v = { img.data, img.width, img.height, img.stride };
	int rc = mnv2_preprocess(&v, &b->input, NULL, b->tensor, b->input.bytes, &tf, NULL);
	mnv2_image_free(&img);
	return rc;
}

static int step_inference(void *arg)
{
	bench *b = arg;
	return mnv2_context_run(b->ctx, NULL);
}

int main(int argc, char **argv)
{
	int iterations = 30;
	const char *image = MNV2_SHARED_DIR "/images/kite_and_cold.png";
	const char *model = MNV2_SHARED_DIR "/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite";
	bench b = { .w = 1920, .h = 1080 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			iterations = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--image") && i + 1 < argc)
			image = argv[++i];
		else if (!strcmp(argv[i], "--model") && i + 1 < argc)
			model = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--size") && i + 1 < argc &&
			 sscanf(argv[++i], "%ux%u", &b.w, &b.h) == 2 && b.w && b.h)
			continue;
		else {
			fprintf(stderr, "usage: frame_bench [--iterations N] [--image PNG] "
					"[--model TFLITE] [--size WxH] [--only NAME]\n");
			return 2;
		}
	}
	iterations = iterations < 1 ? 1 : iterations;
	b.input = (mnv2_tensor_info){ .name = "input", .type = MNV2_UINT8, .rank = 4,
				      .dims = { 1, 300, 300, 3 }, .bytes = 300 * 300 * 3,
				      .quantized = 1, .scale = 1 / 128.0f, .zero_point = 128 };
	b.tensor = malloc(b.input.bytes);
	make_rgb(&b, image);
	make_nv12(&b);
	make_png(&b);

	b.mode = MNV2_RESIZE_STRETCH;
	timeit("nv12_one_pass_stretch", step_frame, &b, iterations);
	b.mode = MNV2_RESIZE_LETTERBOX;
	timeit("nv12_one_pass_letterbox", step_frame, &b, iterations);
	b.mode = MNV2_RESIZE_CENTER_CROP;
	timeit("nv12_one_pass_center_crop", step_frame, &b, iterations);
	timeit("nv12_one_pass_roi_half", step_frame_roi, &b, iterations);
	timeit("yuyv_one_pass_stretch", step_yuyv, &b, iterations);
	b.mode = MNV2_RESIZE_STRETCH;
	b.filter = MNV2_FILTER_BILINEAR;
	timeit("nv12_one_pass_stretch_bilinear", step_frame, &b, iterations);
	b.filter = MNV2_FILTER_ANTIALIAS;
	timeit("nv12_convert_then_resize", step_convert_then_resize, &b, iterations);
	timeit("rgb888_raw_via_image_then_resize", step_raw_rgb_image, &b, iterations);
	timeit("png_decode", step_png_decode, &b, iterations);
	timeit("png_decode_then_resize", step_png_decode_resize, &b, iterations);

	mnv2_error e;
	mnv2_model *m = mnv2_model_load(model, &e);
	if (m && (b.ctx = mnv2_context_create(m, &e))) {
		timeit("detector_inference", step_inference, &b, iterations < 10 ? iterations : 10);
	} else {
		fprintf(stderr, "frame_bench: no detector timing: %s\n", e.msg);
	}

	printf("{\"bench\":\"frame\",\"frame\":\"%ux%u nv12\",\"input\":\"300x300x3 uint8\","
	       "\"iterations\":%d,\"png_bytes\":%zu,\"nv12_bytes\":%zu,\"results_us\":{",
	       b.w, b.h, iterations, b.png_len, b.nv12_len);
	for (int i = 0; i < nresults; i++)
		printf("%s\"%s\":{\"median\":%.0f,\"min\":%.0f}", i ? "," : "", results[i].name,
		       results[i].median, results[i].min);
	printf("}}\n");
	mnv2_context_free(b.ctx);
	mnv2_model_free(m);
	free(b.rgb);
	free(b.nv12);
	free(b.yuyv);
	free(b.png);
	free(b.tensor);
	return 0;
}
