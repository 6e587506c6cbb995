/* orient — EXIF orientation: find it in a JPEG's APP1 segment, and apply it.
 *
 * The marker walk and the TIFF IFD0 walk check every offset against the bytes at hand;
 * anything malformed means "no orientation" (1), never an error: the pixels are still good.
 */
#include "image_internal.h"

#include <stdlib.h>
#include <string.h>

#define TAG_ORIENTATION 0x0112
#define TIFF_SHORT 3

static uint32_t rd16(const uint8_t *p, int le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : (uint32_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p, int le)
{
	return le ? rd16(p, 1) | rd16(p + 2, 1) << 16 : rd16(p, 0) << 16 | rd16(p + 2, 0);
}

/* The TIFF structure after "Exif\0\0": header, IFD0, its entries. */
static int tiff_orientation(const uint8_t *t, size_t n)
{
	uint32_t ifd, count;
	size_t e;
	int le;
	if (n < 8)
		return 1;
	if (t[0] == 'I' && t[1] == 'I')
		le = 1;
	else if (t[0] == 'M' && t[1] == 'M')
		le = 0;
	else
		return 1;
	if (rd16(t + 2, le) != 42)
		return 1;
	ifd = rd32(t + 4, le);
	if (ifd > n || n - ifd < 2)
		return 1;
	count = rd16(t + ifd, le);
	e = (size_t)ifd + 2; /* invariant: e <= n */
	for (uint32_t i = 0; i < count && n - e >= 12; i++, e += 12) {
		uint32_t v;
		if (rd16(t + e, le) != TAG_ORIENTATION)
			continue;
		if (rd16(t + e + 2, le) != TIFF_SHORT || rd32(t + e + 4, le) < 1)
			return 1;
		v = rd16(t + e + 8, le); /* a single SHORT sits at the start of the value field */
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}

int mnv2_image_exif_orientation(const void *jpeg, size_t len)
{
	const uint8_t *p = jpeg;
	size_t pos = 2;
	if (!p || len < 4 || p[0] != 0xff || p[1] != 0xd8)
		return 1;
	/* Invariant: pos <= len. Segments before the first SOS; stop at anything odd. */
	while (len - pos >= 4) {
		uint8_t m = p[pos + 1];
		size_t seglen;
		if (p[pos] != 0xff)
			return 1;
		if (m == 0xff) { /* fill byte */
			pos++;
			continue;
		}
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd8)) { /* TEM, RSTn, SOI: no length */
			pos += 2;
			continue;
		}
		if (m == 0xda || m == 0xd9) /* SOS, EOI */
			return 1;
		seglen = (size_t)p[pos + 2] << 8 | p[pos + 3];
		if (seglen < 2 || seglen > len - pos - 2)
			return 1;
		if (m == 0xe1 && seglen - 2 >= 6 && memcmp(p + pos + 4, "Exif\0\0", 6) == 0)
			return tiff_orientation(p + pos + 10, seglen - 8);
		pos += 2 + seglen;
	}
	return 1;
}

int mnv2_image_apply_orientation(mnv2_image *img, int o, char *err, size_t errlen)
{
	const uint32_t w = img->width, h = img->height;
	const int swap = o >= 5;
	const ptrdiff_t ow = swap ? (ptrdiff_t)h : (ptrdiff_t)w;
	ptrdiff_t base, step_x, step_y; /* output pixel index = base + sx*step_x + sy*step_y */
	uint8_t *dst;
	switch (o) {
	case 2: base = (ptrdiff_t)w - 1; step_x = -1; step_y = ow; break;
	case 3: base = ((ptrdiff_t)h - 1) * ow + w - 1; step_x = -1; step_y = -ow; break;
	case 4: base = ((ptrdiff_t)h - 1) * ow; step_x = 1; step_y = -ow; break;
	case 5: base = 0; step_x = ow; step_y = 1; break;
	case 6: base = (ptrdiff_t)h - 1; step_x = ow; step_y = -1; break;
	case 7: base = ((ptrdiff_t)w - 1) * ow + h - 1; step_x = -ow; step_y = -1; break;
	case 8: base = ((ptrdiff_t)w - 1) * ow; step_x = -ow; step_y = 1; break;
	default: return 0;
	}
	if (!img->data || w == 0 || h == 0)
		return 0;
	dst = malloc((size_t)w * h * 3);
	if (!dst) {
		mnv2_img_seterr(err, errlen, "out of memory to apply EXIF orientation %d", o);
		return -1;
	}
	for (uint32_t sy = 0; sy < h; sy++) {
		const uint8_t *s = img->data + (size_t)sy * img->stride;
		ptrdiff_t d = base + (ptrdiff_t)sy * step_y;
		for (uint32_t sx = 0; sx < w; sx++, s += 3, d += step_x)
			memcpy(dst + d * 3, s, 3);
	}
	free(img->data);
	img->data = dst;
	img->width = swap ? h : w;
	img->height = swap ? w : h;
	img->stride = (size_t)img->width * 3;
	return 0;
}
