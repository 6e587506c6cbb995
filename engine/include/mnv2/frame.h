/* mnv2/frame — raw camera frames (YUV and RGB layouts) straight into a model's input.
 *
 * Contract:
 *  - A frame is one buffer of `len` bytes holding up to three planes; each plane has a
 *    stride (bytes from one row to the next) and an offset (bytes from the start of the
 *    buffer to its first row). The buffer may be plain memory or a mapping of a memfd or
 *    dmabuf: the engine only reads it, and only after mnv2_frame_validate() has proved that
 *    every byte it will read lies inside [data, data + len).
 *  - mnv2_frame_validate() checks, overflow-safe, before a pixel is read: the format is
 *    known; 1 <= width, height <= 65535; 4:2:2 packed formats have an even width; every
 *    plane's stride is at least its row size; offset + stride * (rows - 1) + row size of
 *    every plane is within len (the last row needs no padding); planes the format does not
 *    have are all zero. Planes may overlap each other (they are only read). Errors say
 *    what, which plane and why, e.g. "frame nv12 1920x1080: plane 1 (UV): 540 rows of 1920
 *    bytes, stride 1920, from offset 2073600 end at byte 3110400, past the 3000000-byte
 *    buffer".
 *  - mnv2_preprocess_frame() converts and resizes in one pass into the input tensor (no
 *    full-size RGB copy): it gives exactly the bytes mnv2_preprocess() gives on the RGB888
 *    image mnv2_frame_to_rgb() makes of the region of interest. Scratch memory is
 *    O(out_w * taps + out_h * taps + out_w * rows-in-flight), never proportional to the
 *    frame's area: 1920x1080 -> 300x300 needs under 64 KiB. On x86-64 the inner loops run
 *    in SSE2 (every x86-64 CPU has it; no dispatch) and give the portable loops' bytes.
 *  - No global state: all functions may run concurrently.
 *
 * Planes (w x h pixels; cw = (w + 1) / 2, ch = (h + 1) / 2 — odd sizes round chroma up):
 *   rgb888, bgr888   1 plane, 3 bytes a pixel          rows of 3w bytes, h rows
 *   rgba, bgra       1 plane, 4 bytes (alpha ignored)  rows of 4w bytes
 *   gray8            1 plane, 1 byte, R = G = B = byte (range and matrix do not apply)
 *   nv12 / nv21      Y: w bytes x h rows; UV / VU interleaved: 2cw bytes x ch rows
 *   i420             Y: w x h; U: cw x ch; V: cw x ch (three planes)
 *   yuyv / uyvy      1 plane, Y0 U Y1 V / U Y0 V Y1 per pixel pair: 2w bytes; w even
 *
 * Colour maths (YUV formats; the same integers for every format):
 *   Chroma is taken from the nearest sample: pixel (x, y) uses chroma (x / 2, y / 2) for
 *   4:2:0 and (x / 2, y) for 4:2:2 (integer division) — each 2x2 or 2x1 block of pixels
 *   shares its chroma sample, no interpolation. This matches co-sited (left) siting for the
 *   left pixel and centred siting's nearest sample for both.
 *   With d = Y - y0, u = U - 128, v = V - 128 (no input clamping) and 14-bit coefficients:
 *     R = clamp((cy*d           + crv*v + 8192) >> 14)
 *     G = clamp((cy*d - cgu*u   - cgv*v + 8192) >> 14)
 *     B = clamp((cy*d + cbu*u           + 8192) >> 14)
 *   i.e. round half up of the exact sum, clamp to 0..255. Coefficients = round(16384 * c):
 *     matrix  range    y0  cy     crv    cgu   cgv    cbu
 *     BT.601  limited  16  19077  26149  6419  13320  33050   (1.164384 1.596027 0.391762 0.812968 2.017232)
 *     BT.601  full      0  16384  22970  5638  11700  29032   (1        1.402    0.344136 0.714136 1.772)
 *     BT.709  limited  16  19077  29372  3494   8731  34610   (1.164384 1.792741 0.213249 0.532909 2.112402)
 *     BT.709  full      0  16384  25802  3069   7670  30402   (1        1.5748   0.187324 0.468124 1.8556)
 *   from Kr, Kb (BT.601: 0.299, 0.114; BT.709: 0.2126, 0.0722): crv = 2(1-Kr)s,
 *   cbu = 2(1-Kb)s, cgu = 2(1-Kb)Kb/Kg s, cgv = 2(1-Kr)Kr/Kg s, cy = 255/219 and
 *   s = 255/224 for limited range, cy = s = 1 for full range. Every result is within 0.52 of
 *   the exact real-valued formula (clamped to 0..255): the coefficients' rounding adds at
 *   most 0.5/16384 * (255 + 128 + 128) < 0.016 to the final rounding's 0.5.
 *
 * Region of interest: a rectangle of the frame (x, y, width, height in frame pixels, inside
 * the frame). The model sees that rectangle as if it were the whole image — pixels outside
 * it are never read — and the transform maps model coordinates back to full-frame pixels.
 */
#ifndef MNV2_FRAME_H
#define MNV2_FRAME_H

#include "mnv2/engine.h"
#include "mnv2/preprocess.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Numbered as the wire protocol's PixelFormat; 0 is not a format. */
typedef enum mnv2_frame_format {
	MNV2_FRAME_UNSPECIFIED = 0,
	MNV2_FRAME_RGB888 = 1,
	MNV2_FRAME_BGR888 = 2,
	MNV2_FRAME_RGBA = 3,
	MNV2_FRAME_GRAY8 = 4,
	MNV2_FRAME_NV12 = 5,
	MNV2_FRAME_NV21 = 6,
	MNV2_FRAME_I420 = 7,
	MNV2_FRAME_YUYV = 8,
	MNV2_FRAME_UYVY = 9,
	MNV2_FRAME_BGRA = 10,
} mnv2_frame_format;

#define MNV2_FRAME_FORMAT_MAX MNV2_FRAME_BGRA
#define MNV2_FRAME_MAX_PLANES 3
#define MNV2_FRAME_MAX_DIM 65535u

typedef enum mnv2_color_range {
	MNV2_RANGE_LIMITED = 0, /* Y 16..235, chroma 16..240 (default) */
	MNV2_RANGE_FULL = 1,    /* 0..255 (JPEG/JFIF) */
} mnv2_color_range;

typedef enum mnv2_color_matrix {
	MNV2_MATRIX_BT601 = 0,  /* default: SD and most camera ISPs' YUV */
	MNV2_MATRIX_BT709 = 1,
} mnv2_color_matrix;

typedef struct mnv2_frame {
	mnv2_frame_format format;
	uint32_t width, height;
	const uint8_t *data;    /* the whole buffer; read only */
	size_t len;             /* its length in bytes */
	size_t stride[MNV2_FRAME_MAX_PLANES];
	size_t offset[MNV2_FRAME_MAX_PLANES];
	mnv2_color_range range;
	mnv2_color_matrix matrix;
} mnv2_frame;

/* "rgb888", "bgr888", "rgba", "gray8", "nv12", "nv21", "i420", "yuyv", "uyvy", "bgra";
 * "unknown" otherwise. */
const char *mnv2_frame_format_name(mnv2_frame_format f);
/* The names above, case-insensitive, also "rgba8888", "bgra8888", "grey8", "yu12" (i420),
 * "yuv420p" (i420), "yuy2" (yuyv). Returns 0, or -1 when unknown. */
int mnv2_frame_format_parse(const char *name, mnv2_frame_format *out);
/* Number of planes of a format (1..3), 0 for an unknown value. */
unsigned mnv2_frame_format_planes(mnv2_frame_format f);
/* "Y", "UV", "U", "V", "VU", "RGB", "YUYV"...: the name of plane p, "?" if none. */
const char *mnv2_frame_plane_name(mnv2_frame_format f, unsigned p);

/* Bytes of one row of plane p (no padding) and its number of rows; 0 when the plane does
 * not exist. Pure arithmetic on the format and size; 64-bit so nothing overflows. */
uint64_t mnv2_frame_plane_row_bytes(mnv2_frame_format f, uint32_t width, unsigned p);
uint32_t mnv2_frame_plane_rows(mnv2_frame_format f, uint32_t height, unsigned p);

/* Describes a frame whose planes follow each other in the buffer (the V4L2 single-planar
 * layout): plane 0 has stride0 (0: its row size); NV12/NV21's chroma plane has
 * max(stride0, 2cw), I420's chroma planes max(ceil(stride0 / 2), cw); plane p + 1 starts
 * at offset[p] + stride[p] * rows[p]. BT.601 limited range. Checks the format, the size and
 * the arithmetic (not len: mnv2_frame_validate() does). Returns 0, or -1 with err. */
int mnv2_frame_init(mnv2_frame *f, mnv2_frame_format fmt, uint32_t width, uint32_t height,
		    size_t stride0, const void *data, size_t len, mnv2_error *err);

/* Checks everything listed in the contract above. Returns 0, or -1 with err. */
int mnv2_frame_validate(const mnv2_frame *f, mnv2_error *err);

/* Checks a region of interest against the frame size (overflow-safe): NULL or all four
 * fields zero means the whole frame; otherwise width and height must be positive and the
 * rectangle inside the frame. *out gets the region. Returns 0, or -1 with err. */
int mnv2_frame_roi(const mnv2_frame *f, const mnv2_rect *roi, mnv2_rect *out,
		   mnv2_error *err);

/* Converts the region roi (NULL: the whole frame) of a validated frame to RGB888 rows
 * (dst_stride >= 3 * roi width) with the colour maths above — the reference the one-pass
 * path is defined against; useful for tests and debugging, not the hot path. Validates
 * the frame itself. Returns 0, or -1 with err. */
int mnv2_frame_to_rgb(const mnv2_frame *f, const mnv2_rect *roi, uint8_t *dst,
		      size_t dst_stride, mnv2_error *err);

/* One pass: the box [x0,x1) x [y0,y1) of the frame's region roi (box coordinates relative to
 * the region; NULL roi: the whole frame) resampled to dst_w x dst_h RGB888, byte for byte
 * what mnv2_resize_rgb() gives on mnv2_frame_to_rgb()'s image of the region. Validates the
 * frame. Returns 0, or -1 with err (bad geometry, out of memory). */
int mnv2_resize_frame(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0, uint32_t y0,
		      uint32_t x1, uint32_t y1, uint8_t *dst, uint32_t dst_w, uint32_t dst_h,
		      size_t dst_stride, mnv2_error *err);
/* The same with either filter (mnv2/preprocess.h); mnv2_resize_frame() is antialias. The
 * bytes equal mnv2_resize_rgb_filter()'s with the same filter. */
int mnv2_resize_frame_filter(const mnv2_frame *f, const mnv2_rect *roi, uint32_t x0,
			     uint32_t y0, uint32_t x1, uint32_t y1, uint8_t *dst,
			     uint32_t dst_w, uint32_t dst_h, size_t dst_stride,
			     mnv2_resize_filter filter, mnv2_error *err);

/* Fills a model's NHWC [1,H,W,3] input from a raw frame (or its region roi) in one pass:
 * the same modes, encodings and transform as mnv2_preprocess(), as if the region were the
 * image; tf maps to full-frame pixels (src_w x src_h = the whole frame). */
int mnv2_preprocess_frame(const mnv2_frame *f, const mnv2_rect *roi,
			  const mnv2_tensor_info *input, const mnv2_preprocess_opts *opts,
			  void *dst, size_t dst_len, mnv2_transform *tf, mnv2_error *err);

#ifdef __cplusplus
}
#endif
#endif
