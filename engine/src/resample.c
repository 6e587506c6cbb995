/* resample — separable fixed-point triangle-filter resampling, bit-compatible with
 * Pillow's BILINEAR resize (see mnv2/preprocess.h for the contract). */
#include "mnv2/preprocess.h"
#include "model.h"
#include "resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS MNV2_RESAMPLE_BITS
#define MAX_DIM MNV2_RESAMPLE_MAX_DIM

typedef mnv2_coeffs coeffs;

static double triangle(double x)
{
	x = x < 0.0 ? -x : x;
	return x < 1.0 ? 1.0 - x : 0.0;
}

/* Weights for out_size outputs over the source span [in0, in1) of in_size samples. */
int mnv2_coeffs_make(coeffs *c, int in_size, double in0, double in1, int out_size,
		     int antialias)
{
	double scale = (in1 - in0) / out_size;
	double filterscale = scale < 1.0 || !antialias ? 1.0 : scale;
	double support = 1.0 * filterscale, ss = 1.0 / filterscale;
	c->ksize = (int)ceil(support) * 2 + 1;
	c->bounds = malloc(sizeof(int) * 2 * (size_t)out_size);
	c->k = malloc(sizeof(int32_t) * (size_t)c->ksize * (size_t)out_size);
	double *w = malloc(sizeof(double) * (size_t)c->ksize);
	if (!c->bounds || !c->k || !w) {
		free(w);
		return -1;
	}
	for (int xx = 0; xx < out_size; xx++) {
		double center = in0 + (xx + 0.5) * scale, ww = 0.0;
		int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
		xmin = xmin < 0 ? 0 : xmin;
		xmax = (xmax > in_size ? in_size : xmax) - xmin;
		if (xmax > c->ksize)
			xmax = c->ksize;
		for (int x = 0; x < xmax; x++) {
			w[x] = triangle((x + xmin - center + 0.5) * ss);
			ww += w[x];
		}
		int32_t *k = &c->k[(size_t)xx * c->ksize];
		for (int x = 0; x < c->ksize; x++) {
			double v = x < xmax ? (ww != 0.0 ? w[x] / ww : w[x]) : 0.0;
			double f = v * (1 << PRECISION_BITS);
			k[x] = (int32_t)(v < 0 ? -0.5 + f : 0.5 + f);
		}
		c->bounds[2 * xx] = xmin;
		c->bounds[2 * xx + 1] = xmax < 0 ? 0 : xmax;
	}
	free(w);
	return 0;
}

void mnv2_coeffs_free(coeffs *c)
{
	free(c->bounds);
	free(c->k);
	c->bounds = NULL;
	c->k = NULL;
}

/* Horizontal pass over rows [row0, row0 + rows) of src into tmp (width out_w). */
static void pass_h(const mnv2_rgb_view *src, int row0, int rows, const coeffs *c,
		   uint8_t *tmp, int out_w)
{
	for (int y = 0; y < rows; y++) {
		const uint8_t *in = src->data + (size_t)(row0 + y) * src->stride;
		uint8_t *out = tmp + (size_t)y * out_w * 3;
		for (int xx = 0; xx < out_w; xx++) {
			const int32_t *k = &c->k[(size_t)xx * c->ksize];
			int xmin = c->bounds[2 * xx], n = c->bounds[2 * xx + 1];
			int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
			for (int x = 0; x < n; x++) {
				const uint8_t *p = in + (size_t)(x + xmin) * 3;
				s0 += p[0] * k[x];
				s1 += p[1] * k[x];
				s2 += p[2] * k[x];
			}
			out[3 * xx] = mnv2_clip8(s0);
			out[3 * xx + 1] = mnv2_clip8(s1);
			out[3 * xx + 2] = mnv2_clip8(s2);
		}
	}
}

/* Vertical pass: bounds are relative to the first row held in `in`. */
static void pass_v(const uint8_t *in, size_t in_stride, int row_shift, const coeffs *c,
		   uint8_t *dst, size_t dst_stride, int w, int h)
{
	for (int yy = 0; yy < h; yy++) {
		const int32_t *k = &c->k[(size_t)yy * c->ksize];
		int ymin = c->bounds[2 * yy] - row_shift, n = c->bounds[2 * yy + 1];
		uint8_t *out = dst + (size_t)yy * dst_stride;
		for (int xx = 0; xx < 3 * w; xx++) {
			int32_t s = 1 << (PRECISION_BITS - 1);
			for (int y = 0; y < n; y++)
				s += in[(size_t)(y + ymin) * in_stride + xx] * k[y];
			out[xx] = mnv2_clip8(s);
		}
	}
}

static int resample(const mnv2_rgb_view *src, uint32_t x0, uint32_t y0, uint32_t x1,
		    uint32_t y1, uint8_t *dst, int dw, int dh, size_t dst_stride, int aa)
{
	coeffs ch = { 0 }, cv = { 0 };
	uint8_t *tmp = NULL;
	int ret = -1;
	int need_h = (uint32_t)dw != src->width || x0 || x1 != (uint32_t)dw;
	int need_v = (uint32_t)dh != src->height || y0 || y1 != (uint32_t)dh;
	if (mnv2_coeffs_make(&ch, (int)src->width, x0, x1, dw, aa) ||
	    mnv2_coeffs_make(&cv, (int)src->height, y0, y1, dh, aa))
		goto out;
	int first = cv.bounds[0], last = cv.bounds[2 * dh - 2] + cv.bounds[2 * dh - 1];
	if (!need_h && !need_v) {
		for (int y = 0; y < dh; y++)
			memcpy(dst + (size_t)y * dst_stride, src->data + (size_t)y * src->stride,
			       (size_t)dw * 3);
	} else if (need_h && !need_v) {
		if (!(tmp = malloc((size_t)dw * 3 * (size_t)dh)))
			goto out;
		pass_h(src, 0, dh, &ch, tmp, dw);
		for (int y = 0; y < dh; y++)
			memcpy(dst + (size_t)y * dst_stride, tmp + (size_t)y * dw * 3, (size_t)dw * 3);
	} else if (need_h) {
		if (!(tmp = malloc((size_t)dw * 3 * (size_t)(last - first))))
			goto out;
		pass_h(src, first, last - first, &ch, tmp, dw);
		pass_v(tmp, (size_t)dw * 3, first, &cv, dst, dst_stride, dw, dh);
	} else {
		pass_v(src->data, src->stride, 0, &cv, dst, dst_stride, dw, dh);
	}
	ret = 0;
out:
	free(tmp);
	mnv2_coeffs_free(&ch);
	mnv2_coeffs_free(&cv);
	return ret;
}

int mnv2_resize_rgb(const mnv2_rgb_view *src, uint32_t x0, uint32_t y0, uint32_t x1,
		    uint32_t y1, uint8_t *dst, uint32_t dst_w, uint32_t dst_h, size_t dst_stride,
		    mnv2_error *err)
{
	return mnv2_resize_rgb_filter(src, x0, y0, x1, y1, dst, dst_w, dst_h, dst_stride,
				      MNV2_FILTER_ANTIALIAS, err);
}

int mnv2_resize_rgb_filter(const mnv2_rgb_view *src, uint32_t x0, uint32_t y0, uint32_t x1,
			   uint32_t y1, uint8_t *dst, uint32_t dst_w, uint32_t dst_h,
			   size_t dst_stride, mnv2_resize_filter filter, mnv2_error *err)
{
	if (filter != MNV2_FILTER_ANTIALIAS && filter != MNV2_FILTER_BILINEAR)
		return mnv2_fail(err, "resize: unknown filter %d", (int)filter);
	if (!src->data || !dst || src->width == 0 || src->height == 0 || src->width > MAX_DIM ||
	    src->height > MAX_DIM || src->stride < (size_t)src->width * 3)
		return mnv2_fail(err, "resize: bad source image %ux%u stride %zu", src->width,
				 src->height, src->stride);
	if (dst_w == 0 || dst_h == 0 || dst_w > MAX_DIM || dst_h > MAX_DIM ||
	    dst_stride < (size_t)dst_w * 3)
		return mnv2_fail(err, "resize: bad output size %ux%u", dst_w, dst_h);
	if (x0 >= x1 || y0 >= y1 || x1 > src->width || y1 > src->height)
		return mnv2_fail(err, "resize: box [%u,%u)x[%u,%u) outside the %ux%u image", x0, x1,
				 y0, y1, src->width, src->height);
	if (resample(src, x0, y0, x1, y1, dst, (int)dst_w, (int)dst_h, dst_stride,
		     filter == MNV2_FILTER_ANTIALIAS))
		return mnv2_fail(err, "resize: out of memory");
	return 0;
}
