/* mnv2/preprocess — RGB image to model input tensor, and model coordinates back to the
 * image's pixel coordinates.
 *
 * Resampling: separable triangle ("bilinear") filter on half-pixel centres, in 22-bit
 * fixed point, horizontal pass first with an 8-bit intermediate. When shrinking, the
 * filter support widens by the scale factor so every source pixel contributes (area-aware,
 * no aliasing). This is exactly Pillow's Image.resize(..., BILINEAR), the preprocessing
 * the reference outputs were made with, so an image resized here gives the same bytes.
 *
 * Modes:
 *  - stretch: the whole image to the input size, aspect not kept (SSD training default);
 *  - letterbox: the whole image scaled to fit, aspect kept, centred, the rest filled with
 *    the value that quantizes to zero (the input's zero point);
 *  - center-crop: the largest centred region with the input's aspect, scaled to fit.
 *
 * Pixel values go into the tensor honouring its type: uint8 as is, int8 as value - 128
 * (the same real value when the zero point is shifted by 128), float32 as
 * (value - mean) / std with the mean and std given (127.5, 127.5 by default).
 *
 * Filters (mnv2_preprocess_opts.filter):
 *  - antialias (default): the filter above, support widened by the scale factor. Shrinking
 *    a 1920x1080 frame to 300x300 reads every source pixel (13 x 8 taps an output pixel).
 *  - bilinear: the same triangle, never widened: each output pixel interpolates its 2 x 2
 *    nearest source pixels (half-pixel centres; OpenCV's INTER_LINEAR and TensorFlow's
 *    resize_bilinear with half_pixel_centers, up to the last bit of rounding). About 1/6 of
 *    the source rows and pixels are read for 1080p -> 300x300, so it costs a fraction of
 *    antialias; but it aliases when shrinking by more than 2x (fine patterns and noise fold
 *    into the result), and its bytes differ from the reference preprocessing the goldens
 *    and accuracy figures were made with. Upscaling is the same for both.
 *
 * Region of interest: mnv2_preprocess_roi() treats a rectangle of the image as the whole
 * image (pixels outside it are never read) and its transform maps back to the full
 * image's pixels. Raw camera frames (YUV, per-plane strides) go in through mnv2/frame.h,
 * which converts and resizes in one pass with the same resampling. */
#ifndef MNV2_PREPROCESS_H
#define MNV2_PREPROCESS_H

#include "mnv2/engine.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mnv2_resize_mode {
	MNV2_RESIZE_STRETCH = 0,
	MNV2_RESIZE_LETTERBOX = 1,
	MNV2_RESIZE_CENTER_CROP = 2,
} mnv2_resize_mode;

typedef enum mnv2_resize_filter {
	MNV2_FILTER_ANTIALIAS = 0,
	MNV2_FILTER_BILINEAR = 1,
} mnv2_resize_filter;

/* A rectangle of an image in pixels: columns [x, x + width), rows [y, y + height). */
typedef struct mnv2_rect {
	uint32_t x, y, width, height;
} mnv2_rect;

/* Maps model input coordinates to source image pixels: src = offset + model * scale,
 * with model coordinates in input pixels (0..dst_w, 0..dst_h). src_w x src_h is the whole
 * image, also when a region of interest was given (boxes are clipped to the image). */
typedef struct mnv2_transform {
	double scale_x, scale_y, offset_x, offset_y;
	uint32_t src_w, src_h, dst_w, dst_h;
} mnv2_transform;

typedef struct mnv2_rgb_view {
	const uint8_t *data;  /* RGB888 rows */
	uint32_t width, height;
	size_t stride;        /* bytes between rows, >= 3 * width */
} mnv2_rgb_view;

const char *mnv2_resize_mode_name(mnv2_resize_mode m);
int mnv2_resize_mode_parse(const char *s, mnv2_resize_mode *out); /* stretch|letterbox|center-crop */
const char *mnv2_resize_filter_name(mnv2_resize_filter f);
int mnv2_resize_filter_parse(const char *s, mnv2_resize_filter *out); /* antialias|bilinear */

/* Resamples the box [x0,x1) x [y0,y1) of src to dst_w x dst_h RGB888 (dst_stride bytes per
 * row) with the antialias filter (mnv2_resize_rgb_filter: either). Allocates only scratch
 * proportional to the sizes; returns -1 with err on bad arguments or allocation failure. */
int mnv2_resize_rgb(const mnv2_rgb_view *src, uint32_t x0, uint32_t y0, uint32_t x1,
		    uint32_t y1, uint8_t *dst, uint32_t dst_w, uint32_t dst_h, size_t dst_stride,
		    mnv2_error *err);
int mnv2_resize_rgb_filter(const mnv2_rgb_view *src, uint32_t x0, uint32_t y0, uint32_t x1,
			   uint32_t y1, uint8_t *dst, uint32_t dst_w, uint32_t dst_h,
			   size_t dst_stride, mnv2_resize_filter filter, mnv2_error *err);

/* Fills a model's NHWC [1,H,W,3] input buffer from an RGB image. */
typedef struct mnv2_preprocess_opts {
	mnv2_resize_mode mode;
	float mean, std;      /* float32 inputs only; 0/0 means 127.5/127.5 */
	mnv2_resize_filter filter;
} mnv2_preprocess_opts;

int mnv2_preprocess(const mnv2_rgb_view *src, const mnv2_tensor_info *input,
		    const mnv2_preprocess_opts *opts, void *dst, size_t dst_len,
		    mnv2_transform *tf, mnv2_error *err);

/* Checks a region of interest of a w x h image: NULL or all zero means the whole image;
 * otherwise width and height must be positive and the rectangle inside the image
 * (overflow-safe). *out gets the region. Returns 0, or -1 with err ("image: region of
 * interest 40x10 at (30,0) is not inside the 64x48 image"). */
int mnv2_roi_check(uint32_t w, uint32_t h, const mnv2_rect *roi, mnv2_rect *out,
		   mnv2_error *err);

/* mnv2_preprocess() on the region roi of src as if it were the whole image (NULL or all
 * zero: the whole image; otherwise a positive size inside src); tf maps to src's pixels. */
int mnv2_preprocess_roi(const mnv2_rgb_view *src, const mnv2_rect *roi,
			const mnv2_tensor_info *input, const mnv2_preprocess_opts *opts,
			void *dst, size_t dst_len, mnv2_transform *tf, mnv2_error *err);

/* Normalized model coordinates (0..1) to source pixel coordinates. */
void mnv2_transform_point(const mnv2_transform *tf, double xn, double yn, double *x,
			  double *y);

#ifdef __cplusplus
}
#endif
#endif
