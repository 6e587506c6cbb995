/* frame_internal — what the raw frame modules (frame.c, frame_convert.c, frame_resize.c)
 * and preprocess.c share inside the engine. */
#ifndef MNV2_FRAME_INTERNAL_H
#define MNV2_FRAME_INTERNAL_H

#include "mnv2/frame.h"

/* A region of a w x h image: NULL or all zero means the whole image; anything else must
 * have a positive size and lie inside. *out gets the region. "what" starts the message. */
int mnv2_rect_check(uint32_t w, uint32_t h, const mnv2_rect *roi, mnv2_rect *out,
		    const char *what, mnv2_error *err);

/* Row y of plane p of a frame: plane 0 has a row per frame row; the chroma planes (planes
 * 1 and 2, of the 4:2:0 formats) one per two. */
static inline const uint8_t *mnv2_frame_row(const mnv2_frame *f, int p, uint32_t y)
{
	return f->data + f->offset[p] + (size_t)(p ? y >> 1 : y) * f->stride[p];
}

/* Whether fmt is one of the 4:2:0 formats (NV12, NV21, I420). */
static inline int mnv2_frame_is_420(mnv2_frame_format fmt)
{
	return fmt == MNV2_FRAME_NV12 || fmt == MNV2_FRAME_NV21 || fmt == MNV2_FRAME_I420;
}

/* Reads converted pixels out of a validated frame (see the colour maths in mnv2/frame.h). */
#define MNV2_CLIP_BIAS 512   /* clip[] index of 0 */
#define MNV2_CLIP_SIZE 1088  /* covers every sum of the four coefficient tables */
typedef struct mnv2_frame_reader {
	const mnv2_frame *f;
	int32_t y0, cy, crv, cgu, cgv, cbu;  /* the coefficient table row */
	int32_t luma[256];               /* cy * (Y - y0) + rounding + bias, 14-bit */
	uint8_t clip[MNV2_CLIP_SIZE];    /* clip[i] = clamp(i - MNV2_CLIP_BIAS, 0, 255) */
} mnv2_frame_reader;

void mnv2_frame_reader_init(mnv2_frame_reader *r, const mnv2_frame *f);
/* Pixels [x0, x0 + n) of frame row y (frame coordinates, inside the frame) as RGB888. */
void mnv2_frame_read(const mnv2_frame_reader *r, uint32_t y, uint32_t x0, uint32_t n,
		     uint8_t *rgb);
/* Pixels x[i] and x[i] + 1 of frame row y for i < n (both inside the frame) as RGB888,
 * six bytes per i: what a two-tap filter reads, and nothing else. */
void mnv2_frame_read_pairs(const mnv2_frame_reader *r, uint32_t y, const int32_t *x,
			   uint32_t n, uint8_t *rgb);

/* mnv2_resize_frame_filter() with the portable loops only (simd 0), the SSE2 loops where built
 * (1: x86-64), or the best the CPU has (2: AVX2 where built and supported, else as 1); all
 * give the same bytes, which the tests check. mnv2_resize_frame_filter() is simd 2. */
int mnv2_resize_frame_path(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0,
			   uint32_t y0, uint32_t x1, uint32_t y1, uint8_t *dst, uint32_t dst_w,
			   uint32_t dst_h, size_t dst_stride, mnv2_resize_filter filter, int simd,
			   mnv2_error *err);

#endif
