/* jpeg — JPEG to RGB888 with the TurboJPEG 2.1 API.
 *
 * Default decoding flags, i.e. libjpeg's defaults: accurate integer IDCT (JDCT_ISLOW) and
 * fancy upsampling, so the pixels are those of djpeg and Pillow. TJFLAG_STOPONWARNING turns
 * libjpeg warnings (premature end of data, corrupt entropy data) into errors, and
 * TJFLAG_LIMITSCANS refuses progressive files with an unreasonable number of scans (a
 * known CPU exhaustion vector). The EXIF orientation is applied after decoding.
 */
#include "image_internal.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* TurboJPEG prefixes some messages with the function name ("tjDecompress2(): ..."). */
static const char *tj_message(tjhandle tj)
{
	const char *m = tjGetErrorStr2(tj);
	const char *p;
	if (!m || !*m)
		return "unknown error";
	p = strstr(m, "(): ");
	return p && strncmp(m, "tj", 2) == 0 ? p + 4 : m;
}

static int check_header(tjhandle tj, const uint8_t *data, size_t len,
			const mnv2_image_limits *lim, int *w, int *h, char *err, size_t errlen)
{
	/* tjDecompressHeader3() returns success without setting its outputs for a
	 * tables-only stream, which is also what a file cut before its frame header looks
	 * like: start from values that mean "no image". */
	int subsamp = -1, colorspace = -1;
	*w = *h = 0;
	if (tjDecompressHeader3(tj, data, (unsigned long)len, w, h, &subsamp, &colorspace) != 0) {
		mnv2_img_seterr(err, errlen, "JPEG: %s", tj_message(tj));
		return -1;
	}
	if (*w <= 0 || *h <= 0) {
		mnv2_img_seterr(err, errlen,
				"JPEG: no frame header (tables only, or the data ends before the image)");
		return -1;
	}
	if (colorspace == TJCS_CMYK) {
		mnv2_img_seterr(err, errlen, "JPEG: CMYK colour space is not supported");
		return -1;
	}
	if (colorspace == TJCS_YCCK) {
		mnv2_img_seterr(err, errlen,
				"JPEG: CMYK colour space is not supported (stored as YCCK)");
		return -1;
	}
	return mnv2_img_check_dims((uint32_t)*w, (uint32_t)*h, lim, "JPEG", err, errlen);
}

int mnv2_img_decode_jpeg(const uint8_t *data, size_t len, const mnv2_image_limits *lim,
			 mnv2_image *out, char *err, size_t errlen)
{
	const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
	mnv2_image img = {0};
	tjhandle tj;
	int w, h, rc;
#if SIZE_MAX > ULONG_MAX
	if (len > ULONG_MAX) {
		mnv2_img_seterr(err, errlen, "JPEG: input too large for libturbojpeg");
		return -1;
	}
#endif
	tj = tjInitDecompress();
	if (!tj) {
		mnv2_img_seterr(err, errlen, "JPEG: cannot create the decoder: %s",
				tjGetErrorStr2(NULL));
		return -1;
	}
	rc = check_header(tj, data, len, lim, &w, &h, err, errlen);
	if (rc == 0)
		rc = mnv2_img_alloc(&img, (uint32_t)w, (uint32_t)h, "JPEG", err, errlen);
	if (rc == 0 && tjDecompress2(tj, data, (unsigned long)len, img.data, w, 0, h, TJPF_RGB,
				     flags) != 0) {
		mnv2_img_seterr(err, errlen, "JPEG: %s%s",
				tjGetErrorCode(tj) == TJERR_WARNING ? "corrupt or truncated data: "
								    : "",
				tj_message(tj));
		rc = -1;
	}
	tjDestroy(tj);
	if (rc == 0)
		rc = mnv2_image_apply_orientation(&img, mnv2_image_exif_orientation(data, len),
						  err, errlen);
	if (rc != 0) {
		mnv2_image_free(&img);
		return -1;
	}
	*out = img;
	return 0;
}
