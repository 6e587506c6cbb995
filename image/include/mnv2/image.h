/* libmnv2image — untrusted image bytes (PNG, JPEG, raw camera frames) to RGB888.
 *
 * Contract:
 *  - Every decoder turns its input into a tightly packed RGB888 image (stride = 3 * width)
 *    that the caller owns and releases with mnv2_image_free().
 *  - Input is untrusted. Sizes are checked against mnv2_image_limits from the header,
 *    before any pixel buffer is allocated; truncated, corrupt or lying input answers -1
 *    and an error message (what and why), never a crash, hang or unbounded allocation.
 *  - PNG: every colour type and bit depth, interlaced or not. Alpha (and tRNS) is dropped,
 *    not composited; 16-bit samples keep their high byte (libpng's png_set_strip_16).
 *    Gamma, ICC and text chunks are ignored. Any CRC error is fatal; libpng warnings are not.
 *  - JPEG: baseline and progressive, accurate integer IDCT and fancy upsampling (libjpeg's
 *    defaults, so the same pixels as djpeg/Pillow); greyscale is replicated to RGB; CMYK
 *    and YCCK are refused; a libjpeg warning (e.g. premature end of data) is an error.
 *    The EXIF orientation (APP1 "Exif", IFD0 tag 0x0112) is applied after decoding.
 *  - Errors are returned, never printed. Messages start with "PNG: ", "JPEG: " or
 *    "raw <format>: "; mnv2_image_load_file() puts the path in front. err may be NULL;
 *    messages are cut to errlen (MNV2_IMAGE_ERR_LEN bytes is always enough).
 *  - No global mutable state: all functions may run concurrently on different images.
 */
#ifndef MNV2_IMAGE_H
#define MNV2_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MNV2_IMAGE_ERR_LEN 512

/* Raw frame pixel formats. New formats (YUV) are appended; the names stay stable. */
typedef enum mnv2_pixfmt {
	MNV2_PIX_RGB888,   /* "rgb888": R, G, B bytes */
	MNV2_PIX_BGR888,   /* "bgr888": B, G, R bytes */
	MNV2_PIX_RGBA8888, /* "rgba":   R, G, B, A bytes; A is ignored */
	MNV2_PIX_GRAY8,    /* "gray8":  one luma byte, replicated to R = G = B */
} mnv2_pixfmt;

typedef struct mnv2_image {
	uint32_t width, height;
	size_t stride; /* bytes per row, always 3 * width */
	uint8_t *data; /* RGB888, owned; NULL after mnv2_image_free() */
} mnv2_image;

typedef struct mnv2_image_limits {
	uint64_t max_pixels; /* width * height; default 8192 * 8192 */
	size_t max_bytes;    /* size of the encoded input (PNG/JPEG); default 64 MiB */
} mnv2_image_limits;

#define MNV2_IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)8192 * 8192)
#define MNV2_IMAGE_DEFAULT_MAX_BYTES ((size_t)64 << 20)

void mnv2_image_limits_default(mnv2_image_limits *l);

typedef enum mnv2_image_kind { MNV2_IMAGE_UNKNOWN, MNV2_IMAGE_PNG, MNV2_IMAGE_JPEG } mnv2_image_kind;

/* PNG (8-byte signature) or JPEG (FF D8 FF) by magic bytes. */
mnv2_image_kind mnv2_image_sniff(const void *data, size_t len);
/* "PNG", "JPEG" or "unknown". */
const char *mnv2_image_kind_name(mnv2_image_kind k);

/* Decodes a PNG or JPEG (chosen by magic bytes) into *out. lim NULL means the defaults.
 * Returns 0, or -1 with *out zeroed and a message such as "PNG: Not enough image data"
 * or "JPEG: image is 60000x60000 = 3600000000 pixels, over the limit of 67108864 pixels"
 * in err; the caller puts the file name in front. */
int mnv2_image_decode(const void *data, size_t len, const mnv2_image_limits *lim,
		      mnv2_image *out, char *err, size_t errlen);

/* Reads a file (at most lim->max_bytes, checked before reading when the size is known)
 * and decodes it. Error text starts with the path: "img.png: PNG: CRC error". */
int mnv2_image_load_file(const char *path, const mnv2_image_limits *lim, mnv2_image *out,
			 char *err, size_t errlen);

/* Converts a raw frame to RGB888. stride is the distance between rows in bytes,
 * >= width * bytes-per-pixel; 0 means exactly width * bytes-per-pixel. len must be at least
 * stride * (height - 1) + width * bytes-per-pixel (the last row needs no padding).
 * width * height is checked against lim->max_pixels; max_bytes does not apply to raw frames. */
int mnv2_image_from_raw(mnv2_pixfmt fmt, uint32_t width, uint32_t height, size_t stride,
			const void *data, size_t len, const mnv2_image_limits *lim,
			mnv2_image *out, char *err, size_t errlen);

/* Frees the pixels and zeroes *img; NULL and already-freed images are fine. */
void mnv2_image_free(mnv2_image *img);

/* "rgb888", "bgr888", "rgba", "gray8"; "unknown" for other values. */
const char *mnv2_pixfmt_name(mnv2_pixfmt f);
/* Parses the names above (also "rgba8888" and "grey8"). Returns 0, or -1 if unknown. */
int mnv2_pixfmt_parse(const char *name, mnv2_pixfmt *out);
/* Bytes per pixel of a raw format, 0 for an unknown value. */
unsigned mnv2_pixfmt_bytes_per_pixel(mnv2_pixfmt f);

/* The EXIF orientation (1..8) of a JPEG: the first APP1 "Exif" segment before the image
 * data, TIFF IFD0 tag 0x0112 of type SHORT, either byte order. Answers 1 (as stored) when
 * there is none or it is malformed or out of range. mnv2_image_decode() applies it. */
int mnv2_image_exif_orientation(const void *jpeg, size_t len);

/* Rotates/flips an RGB888 image in place (it gets a new buffer) as EXIF orientation o
 * says: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
 * 8 rotate 90 counter-clockwise; 1 and other values leave it unchanged. -1 if out of memory. */
int mnv2_image_apply_orientation(mnv2_image *img, int o, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
