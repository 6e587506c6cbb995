/* image_internal — helpers shared by the libmnv2image decoders (not installed). */
#ifndef MNV2_IMAGE_INTERNAL_H
#define MNV2_IMAGE_INTERNAL_H

#include "mnv2/image.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define MNV2_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MNV2_PRINTF(f, a)
#endif

/* snprintf into err (when err is not NULL and errlen > 0). */
void mnv2_img_seterr(char *err, size_t errlen, const char *fmt, ...) MNV2_PRINTF(3, 4);

/* Checks a header's dimensions against the limits before any pixel buffer exists:
 * non-zero, width * height <= max_pixels, and 3 * width * height fits in size_t.
 * what prefixes the message ("PNG", "JPEG", "raw rgb888"). */
int mnv2_img_check_dims(uint32_t w, uint32_t h, const mnv2_image_limits *lim, const char *what,
			char *err, size_t errlen);

/* Allocates img->data for w x h RGB888 (dimensions already checked) and sets the fields. */
int mnv2_img_alloc(mnv2_image *img, uint32_t w, uint32_t h, const char *what, char *err,
		   size_t errlen);

int mnv2_img_decode_png(const uint8_t *data, size_t len, const mnv2_image_limits *lim,
			mnv2_image *out, char *err, size_t errlen);
int mnv2_img_decode_jpeg(const uint8_t *data, size_t len, const mnv2_image_limits *lim,
			 mnv2_image *out, char *err, size_t errlen);

#endif
