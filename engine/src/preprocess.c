/* preprocess — resize modes, tensor encoding and the inverse coordinate transform; see
 * mnv2/preprocess.h. */
#include "mnv2/preprocess.h"
#include "frame_internal.h"
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Names of the resize modes and filters, indexed by their enum values. */
static const char *const mode_names[] = { "stretch", "letterbox", "center-crop" };
static const char *const filter_names[] = { "antialias", "bilinear" };
#define N_NAMES(a) ((int)(sizeof(a) / sizeof(a)[0]))

static const char *name_at(const char *const *names, int n, int i)
{
	return i >= 0 && i < n ? names[i] : "?";
}

/* The index of s among the n names, or -1. */
static int index_of(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *mnv2_resize_mode_name(mnv2_resize_mode m)
{
	return name_at(mode_names, N_NAMES(mode_names), (int)m);
}

const char *mnv2_resize_filter_name(mnv2_resize_filter f)
{
	return name_at(filter_names, N_NAMES(filter_names), (int)f);
}

int mnv2_resize_mode_parse(const char *s, mnv2_resize_mode *out)
{
	int i = index_of(mode_names, N_NAMES(mode_names), s);
	if (i >= 0)
		*out = (mnv2_resize_mode)i;
	return i >= 0 ? 0 : -1;
}

int mnv2_resize_filter_parse(const char *s, mnv2_resize_filter *out)
{
	int i = index_of(filter_names, N_NAMES(filter_names), s);
	if (i >= 0)
		*out = (mnv2_resize_filter)i;
	return i >= 0 ? 0 : -1;
}

void mnv2_transform_point(const mnv2_transform *tf, double xn, double yn, double *x,
			  double *y)
{
	*x = tf->offset_x + xn * tf->dst_w * tf->scale_x;
	*y = tf->offset_y + yn * tf->dst_h * tf->scale_y;
}

/* Converts resized RGB bytes in place into the tensor's encoding. */
static void encode(uint8_t *buf, size_t n, const mnv2_tensor_info *in,
		   const mnv2_preprocess_opts *o)
{
	if (in->type == MNV2_INT8) {
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(int8_t)((int)buf[i] - 128);
	} else if (in->type == MNV2_FLOAT32) {
		float mean = o && o->std > 0 ? o->mean : 127.5f;
		float std = o && o->std > 0 ? o->std : 127.5f;
		float *f = (float *)(void *)buf;
		for (size_t i = n; i-- > 0;) /* back to front: floats are wider than bytes */
			f[i] = ((float)buf[i] - mean) / std;
	}
}

static uint8_t zero_byte(const mnv2_tensor_info *in)
{
	if (in->type == MNV2_UINT8)
		return (uint8_t)in->zero_point;
	if (in->type == MNV2_INT8)
		return (uint8_t)(in->zero_point + 128); /* encode() subtracts 128 again */
	return 128; /* float: (128 - 127.5) / 127.5 is the nearest byte to 0.0 */
}

static int check_input(const mnv2_tensor_info *in, size_t dst_len, mnv2_error *err)
{
	if (in->rank != 4 || in->dims[0] != 1 || in->dims[3] != 3 || in->dims[1] < 1 ||
	    in->dims[2] < 1)
		return mnv2_fail(err, "preprocess: input '%s' is not a [1,H,W,3] image tensor",
				 in->name);
	if (in->type != MNV2_UINT8 && in->type != MNV2_INT8 && in->type != MNV2_FLOAT32)
		return mnv2_fail(err, "preprocess: input '%s' has type %s", in->name,
				 mnv2_dtype_name(in->type));
	if (dst_len != in->bytes)
		return mnv2_fail(err, "preprocess: buffer of %zu bytes for a %zu-byte input", dst_len,
				 in->bytes);
	return 0;
}

/* The resampler a fill reads its source with: the box [x0,x1) x [y0,y1) of the source
 * (an RGB view or a raw frame's region) to w x h RGB888 at dst. */
typedef int (*resize_fn)(const void *src, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
			 uint8_t *dst, uint32_t w, uint32_t h, size_t stride,
			 mnv2_resize_filter filter, mnv2_error *err);

/* Resize mode geometry, padding, resampling and encoding of a W x H source into the input
 * tensor; tf maps to the source's pixels. */
static int fill(const void *src, resize_fn resize, uint32_t W, uint32_t H,
		const mnv2_tensor_info *in, const mnv2_preprocess_opts *opts, void *dst,
		mnv2_transform *tf, mnv2_error *err)
{
	uint32_t S_w = (uint32_t)in->dims[2], S_h = (uint32_t)in->dims[1];
	mnv2_resize_mode mode = opts ? opts->mode : MNV2_RESIZE_STRETCH;
	uint32_t x0 = 0, y0 = 0, x1 = W, y1 = H, ox = 0, oy = 0, rw = S_w, rh = S_h;
	if (W == 0 || H == 0)
		return mnv2_fail(err, "preprocess: empty image");
	if (mode == MNV2_RESIZE_CENTER_CROP) {
		/* Largest centred box with the input's aspect: W/H vs S_w/S_h, in integers. */
		if ((uint64_t)W * S_h > (uint64_t)H * S_w) {
			uint32_t cw = (uint32_t)(((uint64_t)H * S_w + S_h / 2) / S_h);
			x0 = (W - (cw ? cw : 1)) / 2;
			x1 = x0 + (cw ? cw : 1);
		} else {
			uint32_t chh = (uint32_t)(((uint64_t)W * S_h + S_w / 2) / S_w);
			y0 = (H - (chh ? chh : 1)) / 2;
			y1 = y0 + (chh ? chh : 1);
		}
	} else if (mode == MNV2_RESIZE_LETTERBOX) {
		if ((uint64_t)W * S_h > (uint64_t)H * S_w)
			rh = (uint32_t)(((uint64_t)H * S_w + W / 2) / W);
		else
			rw = (uint32_t)(((uint64_t)W * S_h + H / 2) / H);
		rw = rw ? rw : 1;
		rh = rh ? rh : 1;
		ox = (S_w - rw) / 2;
		oy = (S_h - rh) / 2;
	}
	uint8_t *out = dst;
	size_t stride = (size_t)S_w * 3; /* float32: resize into the first bytes, then widen */
	memset(out, zero_byte(in), (size_t)S_w * S_h * 3);
	if (resize(src, x0, y0, x1, y1, out + (size_t)oy * stride + (size_t)ox * 3, rw, rh,
		   stride, opts ? opts->filter : MNV2_FILTER_ANTIALIAS, err))
		return -1;
	encode(out, (size_t)S_w * S_h * 3, in, opts);
	if (tf) {
		*tf = (mnv2_transform){ .src_w = W, .src_h = H, .dst_w = S_w, .dst_h = S_h };
		tf->scale_x = (double)(x1 - x0) / rw;
		tf->scale_y = (double)(y1 - y0) / rh;
		tf->offset_x = x0 - ox * tf->scale_x;
		tf->offset_y = y0 - oy * tf->scale_y;
	}
	return 0;
}

/* A region (already checked) moves the transform from region to image pixels. */
static void shift_transform(mnv2_transform *tf, const mnv2_rect *r, uint32_t W, uint32_t H)
{
	if (!tf)
		return;
	tf->offset_x += r->x;
	tf->offset_y += r->y;
	tf->src_w = W;
	tf->src_h = H;
}

static int resize_view(const void *src, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
		       uint8_t *dst, uint32_t w, uint32_t h, size_t stride,
		       mnv2_resize_filter filter, mnv2_error *err)
{
	return mnv2_resize_rgb_filter(src, x0, y0, x1, y1, dst, w, h, stride, filter, err);
}

int mnv2_preprocess_roi(const mnv2_rgb_view *src, const mnv2_rect *roi,
			const mnv2_tensor_info *in, const mnv2_preprocess_opts *opts,
			void *dst, size_t dst_len, mnv2_transform *tf, mnv2_error *err)
{
	mnv2_rect r;
	if (check_input(in, dst_len, err))
		return -1;
	if (src->width == 0 || src->height == 0)
		return mnv2_fail(err, "preprocess: empty image");
	if (mnv2_rect_check(src->width, src->height, roi, &r, "preprocess", err))
		return -1;
	mnv2_rgb_view v = { src->data, r.width, r.height, src->stride };
	if (v.data) /* mnv2_resize_rgb() refuses a NULL image; no arithmetic on it here */
		v.data += (size_t)r.y * src->stride + (size_t)r.x * 3;
	if (fill(&v, resize_view, r.width, r.height, in, opts, dst, tf, err))
		return -1;
	shift_transform(tf, &r, src->width, src->height);
	return 0;
}

int mnv2_preprocess(const mnv2_rgb_view *src, const mnv2_tensor_info *in,
		    const mnv2_preprocess_opts *opts, void *dst, size_t dst_len,
		    mnv2_transform *tf, mnv2_error *err)
{
	return mnv2_preprocess_roi(src, NULL, in, opts, dst, dst_len, tf, err);
}

/* ---- raw frames ---- */

typedef struct frame_src {
	const mnv2_frame *f;
	mnv2_rect r;
} frame_src;

static int resize_frame(const void *src, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
			uint8_t *dst, uint32_t w, uint32_t h, size_t stride,
			mnv2_resize_filter filter, mnv2_error *err)
{
	const frame_src *fs = src;
	return mnv2_resize_frame_filter(fs->f, &fs->r, x0, y0, x1, y1, dst, w, h, stride, filter,
					err);
}

int mnv2_rect_check(uint32_t w, uint32_t h, const mnv2_rect *roi, mnv2_rect *out,
		    const char *what, mnv2_error *err)
{
	if (!roi || (!roi->x && !roi->y && !roi->width && !roi->height)) {
		*out = (mnv2_rect){ 0, 0, w, h };
		return 0;
	}
	if (roi->width == 0 || roi->height == 0 || roi->x >= w || roi->y >= h ||
	    roi->width > w - roi->x || roi->height > h - roi->y)
		return mnv2_fail(err, "%s: region of interest %ux%u at (%u,%u) is not inside the "
				 "%ux%u image", what, roi->width, roi->height, roi->x, roi->y, w,
				 h);
	*out = *roi;
	return 0;
}

int mnv2_roi_check(uint32_t w, uint32_t h, const mnv2_rect *roi, mnv2_rect *out,
		   mnv2_error *err)
{
	return mnv2_rect_check(w, h, roi, out, "image", err);
}

int mnv2_preprocess_frame(const mnv2_frame *f, const mnv2_rect *roi,
			  const mnv2_tensor_info *in, const mnv2_preprocess_opts *opts,
			  void *dst, size_t dst_len, mnv2_transform *tf, mnv2_error *err)
{
	frame_src fs = { f, { 0, 0, 0, 0 } };
	if (check_input(in, dst_len, err) || mnv2_frame_validate(f, err) ||
	    mnv2_frame_roi(f, roi, &fs.r, err))
		return -1;
	if (fill(&fs, resize_frame, fs.r.width, fs.r.height, in, opts, dst, tf, err))
		return -1;
	shift_transform(tf, &fs.r, f->width, f->height);
	return 0;
}
