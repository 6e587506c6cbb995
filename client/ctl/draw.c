/* mnv2ctl --draw: the image decoded here (libmnv2image), the daemon's pixel boxes and
 * labels drawn on it, written as PNG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mnv2/draw.h"
#include "mnv2/image.h"

int ctl_draw_path(const char *out, size_t index, size_t n, char *buf, size_t len)
{
	if (n <= 1)
		return snprintf(buf, len, "%s", out) < (int)len ? 0 : -1;
	/* out.png -> out-3.png; a name without an extension gets the suffix at its end */
	const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - out) : strlen(out);
	int k = snprintf(buf, len, "%.*s-%zu%s", (int)stem, out, index, out + stem);
	return k >= 0 && (size_t)k < len ? 0 : -1;
}

/* A raw frame as libmnv2image reads it (the packed RGB/grey formats only). */
static int decode_raw(const ctl_raw *raw, const uint8_t *data, size_t len, mnv2_image *img,
		      char *err, size_t errlen)
{
	mnv2_pixfmt f;
	switch (raw->format) {
	case MNV2C_PIX_RGB888: f = MNV2_PIX_RGB888; break;
	case MNV2C_PIX_BGR888: f = MNV2_PIX_BGR888; break;
	case MNV2C_PIX_RGBA8888: f = MNV2_PIX_RGBA8888; break;
	case MNV2C_PIX_GRAY8: f = MNV2_PIX_GRAY8; break;
	default:
		snprintf(err, errlen, "--draw: raw %s frames cannot be drawn (rgb888, bgr888, "
			 "rgba8888 and gray8 can)", mnv2c_pixel_format_name(raw->format));
		return -1;
	}
	return mnv2_image_from_raw(f, raw->width, raw->height, raw->stride, data, len, NULL, img,
				   err, errlen);
}

int ctl_draw_detections(const char *out, const uint8_t *data, size_t len, const ctl_raw *raw,
			const mnv2c_detect_result *r, char *err, size_t errlen)
{
	mnv2_image img;
	char msg[MNV2_IMAGE_ERR_LEN];
	int rc = raw && raw->set ? decode_raw(raw, data, len, &img, msg, sizeof msg)
				 : mnv2_image_decode(data, len, NULL, &img, msg, sizeof msg);
	if (rc) {
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	mnv2_draw_box *b = calloc(r->n_detections ? r->n_detections : 1, sizeof *b);
	if (!b) {
		mnv2_image_free(&img);
		snprintf(err, errlen, "--draw: out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->n_detections; i++) {
		const mnv2c_detection *d = &r->detections[i];
		b[i] = (mnv2_draw_box){ d->box.xmin, d->box.ymin, d->box.xmax, d->box.ymax,
					d->class_id, d->score, d->label };
	}
	rc = mnv2_draw_boxes(&img, b, r->n_detections, msg, sizeof msg);
	if (!rc)
		rc = mnv2_png_write_file(&img, out, msg, sizeof msg);
	if (rc)
		snprintf(err, errlen, "%s", msg);
	free(b);
	mnv2_image_free(&img);
	return rc;
}
