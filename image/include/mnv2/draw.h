/* mnv2/draw — detection boxes and labels drawn on an RGB888 image, and PNG output.
 *
 * Contract:
 *  - Drawing works on a mnv2_image (tightly packed RGB888, as libmnv2image decodes) in
 *    place. Nothing is ever written outside the image: boxes and text are clipped, and
 *    coordinates may lie anywhere (far outside, NaN or infinite coordinates draw nothing).
 *  - A box [xmin, xmax) x [ymin, ymax) in pixel coordinates covers the pixel columns
 *    lround(xmin) .. lround(xmax) - 1 (at least one); its outline is MNV2_DRAW_LINE pixels
 *    wide, drawn inside that span, in the class's colour (mnv2_draw_class_colour).
 *  - The label ("kite 0.95": the text, a space, the score with two decimals) is written
 *    with a built-in 5x7 bitmap font (printable ASCII; other bytes show as '?') at scale
 *    MNV2_DRAW_SCALE on a filled bar of the class's colour, just above the box's top edge,
 *    or inside the box when there is no room above; shifted left to stay on the image.
 *  - Errors are returned, never printed; no global mutable state.
 */
#ifndef MNV2_DRAW_H
#define MNV2_DRAW_H

#include "mnv2/image.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MNV2_DRAW_LINE 2                  /* box outline width in pixels */
#define MNV2_DRAW_SCALE 2                 /* font scale of labels */
#define MNV2_FONT_W 5                     /* glyph size in font pixels */
#define MNV2_FONT_H 7
#define MNV2_FONT_ADVANCE (MNV2_FONT_W + 1) /* one column of spacing */

typedef struct mnv2_draw_box {
	float xmin, ymin, xmax, ymax; /* original image pixels */
	uint32_t class_id;            /* picks the colour */
	float score;                  /* printed after the label; < 0: not printed */
	const char *label;            /* NULL or "": "class N" */
} mnv2_draw_box;

/* The colour of class id (hues a golden angle apart, bright): distinct for ids 0..143. */
void mnv2_draw_class_colour(uint32_t class_id, uint8_t rgb[3]);

/* The 7 rows of a character's glyph, bit 4 the leftmost pixel; '?' for non-printables. */
const uint8_t *mnv2_font_glyph(unsigned char c);

/* Fills the rectangle [x0, x1) x [y0, y1), clipped to the image. */
void mnv2_draw_fill(mnv2_image *img, long x0, long y0, long x1, long y1, const uint8_t rgb[3]);

/* Writes text with its top-left corner at (x, y), each font pixel a scale x scale square
 * (scale 1..16), only the glyphs' set pixels, clipped. Returns the text's width in pixels. */
long mnv2_draw_text(mnv2_image *img, long x, long y, const char *text, int scale,
		    const uint8_t rgb[3]);

/* Draws the outline and the label of each box (in order, so later boxes lie on top).
 * Returns 0, or -1 with a message when img has no pixels or boxes is NULL with n > 0. */
int mnv2_draw_boxes(mnv2_image *img, const mnv2_draw_box *boxes, size_t n, char *err,
		    size_t errlen);

/* Encodes img as an 8-bit RGB PNG into a malloc'ed buffer (*out, *len; the caller frees).
 * Returns 0, or -1 with *out NULL and a message starting "PNG: ". */
int mnv2_png_encode(const mnv2_image *img, uint8_t **out, size_t *len, char *err,
		    size_t errlen);

/* Encodes img as PNG and writes it to path (replaced if it exists). Returns 0, or -1 with a
 * message starting with the path. */
int mnv2_png_write_file(const mnv2_image *img, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
