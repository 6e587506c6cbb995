/* image — limits, format sniffing, decode dispatch and file loading. See mnv2/image.h. */
#include "image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

void mnv2_img_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int mnv2_img_check_dims(uint32_t w, uint32_t h, const mnv2_image_limits *lim, const char *what,
			char *err, size_t errlen)
{
	uint64_t px = (uint64_t)w * h; /* both < 2^32: cannot overflow */
	if (w == 0 || h == 0) {
		mnv2_img_seterr(err, errlen, "%s: image has no pixels (%" PRIu32 "x%" PRIu32 ")",
				what, w, h);
		return -1;
	}
	if (px > lim->max_pixels) {
		mnv2_img_seterr(err, errlen,
				"%s: image is %" PRIu32 "x%" PRIu32 " = %" PRIu64
				" pixels, over the limit of %" PRIu64 " pixels",
				what, w, h, px, lim->max_pixels);
		return -1;
	}
	if (px > SIZE_MAX / 3) {
		mnv2_img_seterr(err, errlen,
				"%s: image is %" PRIu32 "x%" PRIu32 ", too large to address here",
				what, w, h);
		return -1;
	}
	return 0;
}

int mnv2_img_alloc(mnv2_image *img, uint32_t w, uint32_t h, const char *what, char *err,
		   size_t errlen)
{
	size_t bytes = (size_t)w * h * 3; /* checked by mnv2_img_check_dims */
	img->data = malloc(bytes);
	if (!img->data) {
		mnv2_img_seterr(err, errlen, "%s: out of memory (%zu bytes for %" PRIu32 "x%" PRIu32
				" RGB pixels)", what, bytes, w, h);
		return -1;
	}
	img->width = w;
	img->height = h;
	img->stride = (size_t)w * 3;
	return 0;
}

void mnv2_image_limits_default(mnv2_image_limits *l)
{
	if (!l)
		return;
	l->max_pixels = MNV2_IMAGE_DEFAULT_MAX_PIXELS;
	l->max_bytes = MNV2_IMAGE_DEFAULT_MAX_BYTES;
}

mnv2_image_kind mnv2_image_sniff(const void *data, size_t len)
{
	const uint8_t *p = data;
	if (!p)
		return MNV2_IMAGE_UNKNOWN;
	if (len >= sizeof png_magic && memcmp(p, png_magic, sizeof png_magic) == 0)
		return MNV2_IMAGE_PNG;
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return MNV2_IMAGE_JPEG;
	return MNV2_IMAGE_UNKNOWN;
}

const char *mnv2_image_kind_name(mnv2_image_kind k)
{
	switch (k) {
	case MNV2_IMAGE_PNG:
		return "PNG";
	case MNV2_IMAGE_JPEG:
		return "JPEG";
	case MNV2_IMAGE_UNKNOWN:
		break;
	}
	return "unknown";
}

void mnv2_image_free(mnv2_image *img)
{
	if (!img)
		return;
	free(img->data);
	memset(img, 0, sizeof *img);
}

/* "not a PNG or JPEG image (starts with 47 49 46 38 39 61 ...)" */
static void unknown_format(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	char hex[3 * 8 + 4] = "";
	size_t n = len < 8 ? len : 8, o = 0;
	if (len == 0) {
		mnv2_img_seterr(err, errlen, "empty input: not a PNG or JPEG image");
		return;
	}
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(hex + o, sizeof hex - o, "%s%02x", i ? " " : "", p[i]);
	if (len > n)
		snprintf(hex + o, sizeof hex - o, " ...");
	mnv2_img_seterr(err, errlen, "not a PNG or JPEG image (starts with %s)", hex);
}

int mnv2_image_decode(const void *data, size_t len, const mnv2_image_limits *lim,
		      mnv2_image *out, char *err, size_t errlen)
{
	mnv2_image_limits def;
	mnv2_image_kind kind;
	if (!out || (!data && len)) {
		mnv2_img_seterr(err, errlen, "invalid argument to mnv2_image_decode");
		return -1;
	}
	memset(out, 0, sizeof *out);
	if (!lim) {
		mnv2_image_limits_default(&def);
		lim = &def;
	}
	kind = mnv2_image_sniff(data, len);
	if (kind == MNV2_IMAGE_UNKNOWN) {
		unknown_format(data, len, err, errlen);
		return -1;
	}
	if (len > lim->max_bytes) {
		mnv2_img_seterr(err, errlen, "%s: input is %zu bytes, over the limit of %zu bytes",
				mnv2_image_kind_name(kind), len, lim->max_bytes);
		return -1;
	}
	if (kind == MNV2_IMAGE_PNG)
		return mnv2_img_decode_png(data, len, lim, out, err, errlen);
	return mnv2_img_decode_jpeg(data, len, lim, out, err, errlen);
}

/* Reads fd to the end into a malloc'd buffer of at most cap bytes. Returns 0, 1 when the
 * input has more than cap bytes, or -1 with errno set on a read error or no memory. */
static int read_all(int fd, size_t hint, size_t cap, uint8_t **out, size_t *len)
{
	size_t limit = (cap < SIZE_MAX - 1 ? cap : SIZE_MAX - 2) + 1; /* one byte more than cap */
	size_t size = hint < limit - 1 ? hint + 1 : limit, n = 0;
	uint8_t *buf;
	if (size < 4096)
		size = 4096 < limit ? 4096 : limit;
	buf = malloc(size);
	if (!buf)
		return -1;
	for (;;) {
		ssize_t r;
		if (n == size) {
			uint8_t *nb;
			if (size == limit)
				break;
			size = size > limit / 2 ? limit : size * 2;
			nb = realloc(buf, size);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return n > cap;
}

int mnv2_image_load_file(const char *path, const mnv2_image_limits *lim, mnv2_image *out,
			 char *err, size_t errlen)
{
	mnv2_image_limits def;
	struct stat st;
	char msg[MNV2_IMAGE_ERR_LEN];
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;
	if (!path || !out) {
		mnv2_img_seterr(err, errlen, "invalid argument to mnv2_image_load_file");
		return -1;
	}
	memset(out, 0, sizeof *out);
	if (!lim) {
		mnv2_image_limits_default(&def);
		lim = &def;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		mnv2_img_seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		mnv2_img_seterr(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		mnv2_img_seterr(err, errlen, "%s: cannot read: is a directory", path);
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > lim->max_bytes) {
		mnv2_img_seterr(err, errlen, "%s: file is %" PRIu64 " bytes, over the limit of %zu bytes",
				path, (uint64_t)st.st_size, lim->max_bytes);
		close(fd);
		return -1;
	}
	errno = 0;
	rc = read_all(fd, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, lim->max_bytes, &buf, &len);
	if (rc < 0) {
		mnv2_img_seterr(err, errlen, "%s: cannot read: %s", path,
				errno ? strerror(errno) : "out of memory");
		close(fd);
		return -1;
	}
	close(fd);
	if (rc > 0) {
		mnv2_img_seterr(err, errlen, "%s: file is over the limit of %zu bytes", path,
				lim->max_bytes);
		free(buf);
		return -1;
	}
	rc = mnv2_image_decode(buf, len, lim, out, msg, sizeof msg);
	free(buf);
	if (rc != 0)
		mnv2_img_seterr(err, errlen, "%s: %s", path, msg);
	return rc;
}
