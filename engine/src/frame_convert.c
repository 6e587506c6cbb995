/* frame_convert — raw frame pixels to RGB888 with the integer colour maths documented in
 * mnv2/frame.h; also the whole-region reference conversion mnv2_frame_to_rgb(). */
#include "frame_internal.h"
#include "model.h"

#include <string.h>

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#define COEF_BITS 14
#define COEF_HALF (1 << (COEF_BITS - 1))

/* y0, cy, crv, cgu, cgv, cbu = round(16384 * c); see the table in mnv2/frame.h. */
static const int32_t coefs[2][2][6] = {
	[MNV2_MATRIX_BT601] = {
		[MNV2_RANGE_LIMITED] = { 16, 19077, 26149, 6419, 13320, 33050 },
		[MNV2_RANGE_FULL] = { 0, 16384, 22970, 5638, 11700, 29032 },
	},
	[MNV2_MATRIX_BT709] = {
		[MNV2_RANGE_LIMITED] = { 16, 19077, 29372, 3494, 8731, 34610 },
		[MNV2_RANGE_FULL] = { 0, 16384, 25802, 3069, 7670, 30402 },
	},
};

/* Sums stay within [-4.8e6, 9.4e6] (|cy * d| <= 19077 * 255, |chroma| <= 34610 * 128):
 * with the bias they index clip[] from above 200 to below 1088, never negative. */
void mnv2_frame_reader_init(mnv2_frame_reader *r, const mnv2_frame *f)
{
	const int32_t *c = coefs[f->matrix == MNV2_MATRIX_BT709][f->range == MNV2_RANGE_FULL];
	r->f = f;
	r->y0 = c[0];
	r->cy = c[1];
	r->crv = c[2];
	r->cgu = c[3];
	r->cgv = c[4];
	r->cbu = c[5];
	for (int y = 0; y < 256; y++)
		r->luma[y] = c[1] * (y - c[0]) + COEF_HALF + (MNV2_CLIP_BIAS << COEF_BITS);
	for (int i = 0; i < MNV2_CLIP_SIZE; i++)
		r->clip[i] = (uint8_t)(i < MNV2_CLIP_BIAS ? 0 : i > MNV2_CLIP_BIAS + 255 ? 255
								       : i - MNV2_CLIP_BIAS);
}

/* One pixel: the biased sums' top bits index the clamp table (round half up, clamp). */
static ALWAYS_INLINE void yuv_pixel(const mnv2_frame_reader *r, uint8_t *o, int y, int32_t rv,
				    int32_t guv, int32_t bu)
{
	int32_t l = r->luma[y];
	o[0] = r->clip[(uint32_t)(l + rv) >> COEF_BITS];
	o[1] = r->clip[(uint32_t)(l - guv) >> COEF_BITS];
	o[2] = r->clip[(uint32_t)(l + bu) >> COEF_BITS];
}

/* Pixels [x0, x0 + n) of one row: luma at yp[x * ys], chroma of pixel x at
 * up/vp[(x / 2) * cs]. Inlined per format so the steps are constants. */
static ALWAYS_INLINE void yuv_row(const mnv2_frame_reader *r, const uint8_t *yp, unsigned ys,
				  const uint8_t *up, const uint8_t *vp, unsigned cs, uint32_t x0,
				  uint32_t n, uint8_t *out)
{
	uint32_t x = x0, end = x0 + n;
	int32_t crv = r->crv, cgu = r->cgu, cgv = r->cgv, cbu = r->cbu;
	if (x & 1) { /* an odd first pixel: the second of its pair */
		size_t c = (size_t)(x >> 1) * cs;
		int u = up[c] - 128, v = vp[c] - 128;
		yuv_pixel(r, out, yp[(size_t)x * ys], crv * v, cgu * u + cgv * v, cbu * u);
		out += 3;
		x++;
	}
	for (; x + 1 < end; x += 2, out += 6) { /* pairs sharing a chroma sample */
		size_t c = (size_t)(x >> 1) * cs;
		int u = up[c] - 128, v = vp[c] - 128;
		int32_t rv = crv * v, guv = cgu * u + cgv * v, bu = cbu * u;
		yuv_pixel(r, out, yp[(size_t)x * ys], rv, guv, bu);
		yuv_pixel(r, out + 3, yp[(size_t)(x + 1) * ys], rv, guv, bu);
	}
	if (x < end) { /* an even last pixel */
		size_t c = (size_t)(x >> 1) * cs;
		int u = up[c] - 128, v = vp[c] - 128;
		yuv_pixel(r, out, yp[(size_t)x * ys], crv * v, cgu * u + cgv * v, cbu * u);
	}
}

/* Packed 8-bit pixels of bpp bytes with R, G, B at byte ri, gi, bi. */
static void packed_row(const uint8_t *p, unsigned bpp, unsigned ri, unsigned gi, unsigned bi,
		       uint32_t n, uint8_t *out)
{
	for (uint32_t i = 0; i < n; i++, p += bpp, out += 3) {
		out[0] = p[ri];
		out[1] = p[gi];
		out[2] = p[bi];
	}
}

void mnv2_frame_read(const mnv2_frame_reader *r, uint32_t y, uint32_t x0, uint32_t n,
		     uint8_t *rgb)
{
	const mnv2_frame *f = r->f;
	const uint8_t *p0 = mnv2_frame_row(f, 0, y), *p1 = mnv2_frame_row(f, 1, y);
	const uint8_t *p2 = mnv2_frame_row(f, 2, y);
	switch (f->format) {
	case MNV2_FRAME_RGB888: memcpy(rgb, p0 + (size_t)x0 * 3, (size_t)n * 3); break;
	case MNV2_FRAME_BGR888: packed_row(p0 + (size_t)x0 * 3, 3, 2, 1, 0, n, rgb); break;
	case MNV2_FRAME_RGBA: packed_row(p0 + (size_t)x0 * 4, 4, 0, 1, 2, n, rgb); break;
	case MNV2_FRAME_BGRA: packed_row(p0 + (size_t)x0 * 4, 4, 2, 1, 0, n, rgb); break;
	case MNV2_FRAME_GRAY8: packed_row(p0 + x0, 1, 0, 0, 0, n, rgb); break;
	case MNV2_FRAME_NV12: yuv_row(r, p0, 1, p1, p1 + 1, 2, x0, n, rgb); break;
	case MNV2_FRAME_NV21: yuv_row(r, p0, 1, p1 + 1, p1, 2, x0, n, rgb); break;
	case MNV2_FRAME_I420: yuv_row(r, p0, 1, p1, p2, 1, x0, n, rgb); break;
	case MNV2_FRAME_YUYV: yuv_row(r, p0, 2, p0 + 1, p0 + 3, 4, x0, n, rgb); break;
	case MNV2_FRAME_UYVY: yuv_row(r, p0 + 1, 2, p0, p0 + 2, 4, x0, n, rgb); break;
	default: memset(rgb, 0, (size_t)n * 3); break; /* validated frames never get here */
	}
}

/* Pixel pairs of one YUV row (see yuv_row for the steps): each pixel with its own chroma,
 * since a pair starting at an odd x straddles two chroma samples. */
static ALWAYS_INLINE void yuv_pairs(const mnv2_frame_reader *r, const uint8_t *yp, unsigned ys,
				    const uint8_t *up, const uint8_t *vp, unsigned cs,
				    const int32_t *x, uint32_t n, uint8_t *out)
{
	int32_t crv = r->crv, cgu = r->cgu, cgv = r->cgv, cbu = r->cbu;
	for (uint32_t i = 0; i < n; i++, out += 6)
		for (uint32_t k = 0; k < 2; k++) {
			uint32_t px = (uint32_t)x[i] + k;
			size_t c = (size_t)(px >> 1) * cs;
			int u = up[c] - 128, v = vp[c] - 128;
			yuv_pixel(r, out + 3 * k, yp[(size_t)px * ys], crv * v, cgu * u + cgv * v,
				  cbu * u);
		}
}

void mnv2_frame_read_pairs(const mnv2_frame_reader *r, uint32_t y, const int32_t *x,
			   uint32_t n, uint8_t *rgb)
{
	const mnv2_frame *f = r->f;
	const uint8_t *p0 = mnv2_frame_row(f, 0, y), *p1 = mnv2_frame_row(f, 1, y);
	const uint8_t *p2 = mnv2_frame_row(f, 2, y);
	switch (f->format) {
	case MNV2_FRAME_NV12: yuv_pairs(r, p0, 1, p1, p1 + 1, 2, x, n, rgb); return;
	case MNV2_FRAME_NV21: yuv_pairs(r, p0, 1, p1 + 1, p1, 2, x, n, rgb); return;
	case MNV2_FRAME_I420: yuv_pairs(r, p0, 1, p1, p2, 1, x, n, rgb); return;
	case MNV2_FRAME_YUYV: yuv_pairs(r, p0, 2, p0 + 1, p0 + 3, 4, x, n, rgb); return;
	case MNV2_FRAME_UYVY: yuv_pairs(r, p0 + 1, 2, p0, p0 + 2, 4, x, n, rgb); return;
	default: /* RGB-like and grey: a plain read of two pixels each */
		for (uint32_t i = 0; i < n; i++)
			mnv2_frame_read(r, y, (uint32_t)x[i], 2, rgb + 6 * (size_t)i);
	}
}

int mnv2_frame_to_rgb(const mnv2_frame *f, const mnv2_rect *roi, uint8_t *dst,
		      size_t dst_stride, mnv2_error *err)
{
	mnv2_rect r;
	mnv2_frame_reader rd;
	if (mnv2_frame_validate(f, err) || mnv2_frame_roi(f, roi, &r, err))
		return -1;
	if (!dst || dst_stride < (size_t)r.width * 3)
		return mnv2_fail(err, "frame to RGB: output stride %zu is less than %zu bytes",
				 dst_stride, (size_t)r.width * 3);
	mnv2_frame_reader_init(&rd, f);
	for (uint32_t y = 0; y < r.height; y++)
		mnv2_frame_read(&rd, r.y + y, r.x, r.width, dst + (size_t)y * dst_stride);
	return 0;
}
