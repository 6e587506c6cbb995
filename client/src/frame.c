/* libmnv2client: raw frame formats, their sizes, and sealed memfd frame buffers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client_internal.h"

static const struct {
	const char *name;
	mnv2c_pixel_format f;
} names[] = {
	{"rgb888", MNV2C_PIX_RGB888}, {"bgr888", MNV2C_PIX_BGR888},
	{"rgba8888", MNV2C_PIX_RGBA8888}, {"gray8", MNV2C_PIX_GRAY8},
	{"nv12", MNV2C_PIX_NV12}, {"nv21", MNV2C_PIX_NV21}, {"i420", MNV2C_PIX_I420},
	{"yuyv", MNV2C_PIX_YUYV}, {"uyvy", MNV2C_PIX_UYVY}, {"bgra8888", MNV2C_PIX_BGRA8888},
	/* aliases: parsed, never printed */
	{"rgba", MNV2C_PIX_RGBA8888}, {"bgra", MNV2C_PIX_BGRA8888}, {"grey8", MNV2C_PIX_GRAY8},
	{"yu12", MNV2C_PIX_I420}, {"yuv420p", MNV2C_PIX_I420}, {"yuy2", MNV2C_PIX_YUYV},
};

const char *mnv2c_pixel_format_name(mnv2c_pixel_format f)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].f == f)
			return names[i].name;
	return NULL;
}

int mnv2c_pixel_format_parse(const char *name, mnv2c_pixel_format *out)
{
	for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(names[i].name, name) == 0) {
			*out = names[i].f;
			return 0;
		}
	return -1;
}

/* Row bytes of plane 0 (64-bit: no overflow). */
static uint64_t row0(mnv2c_pixel_format f, uint32_t w)
{
	switch (f) {
	case MNV2C_PIX_NV12:
	case MNV2C_PIX_NV21:
	case MNV2C_PIX_I420: return w;
	default: return (uint64_t)w * mnv2c_pixel_format_bpp(f);
	}
}

uint64_t mnv2c_frame_bytes(mnv2c_pixel_format f, uint32_t width, uint32_t height,
			   uint32_t stride)
{
	uint64_t row = row0(f, width);
	if (!width || !height || !row || (stride && stride < row))
		return 0;
	uint64_t s0 = stride ? stride : row, cw = ((uint64_t)width + 1) / 2,
		 ch = ((uint64_t)height + 1) / 2;
	switch (f) {
	case MNV2C_PIX_NV12:
	case MNV2C_PIX_NV21: {
		uint64_t cs = s0 > 2 * cw ? s0 : 2 * cw;
		return s0 * height + cs * (ch - 1) + 2 * cw;
	}
	case MNV2C_PIX_I420: {
		uint64_t cs = (s0 + 1) / 2 > cw ? (s0 + 1) / 2 : cw;
		return s0 * height + cs * ch + cs * (ch - 1) + cw;
	}
	default:
		return s0 * (height - 1) + row;
	}
}

mnv2c_image mnv2c_image_fd(mnv2c_pixel_format format, uint32_t width, uint32_t height,
			   uint32_t stride, int fd, uint64_t fd_offset)
{
	mnv2c_image im = {0};
	im.kind = MNV2C_IMAGE_FD;
	im.format = format;
	im.width = width;
	im.height = height;
	im.stride = stride;
	im.fd = fd;
	im.fd_offset = fd_offset;
	return im;
}

mnv2c_frame_buf *mnv2c_frame_alloc(size_t size, mnv2c_error *err)
{
	if (size == 0 || size > (size_t)INT64_MAX) {
		mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "frame buffer size %zu is not allowed", size);
		return NULL;
	}
	mnv2c_frame_buf *b = calloc(1, sizeof *b);
	if (!b) {
		mnv2c__fail(err, MNV2C_ERR_NOMEM, ENOMEM, "out of memory");
		return NULL;
	}
	b->fd = memfd_create("mnv2c-frame", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (b->fd < 0 || ftruncate(b->fd, (off_t)size) != 0 ||
	    (b->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0)) ==
		    MAP_FAILED) {
		int e = errno;
		if (b->fd >= 0)
			close(b->fd);
		free(b);
		mnv2c__fail(err, e == ENOMEM ? MNV2C_ERR_NOMEM : MNV2C_ERR_IO, e,
			    "cannot make a %zu-byte memfd frame buffer: %s", size, strerror(e));
		return NULL;
	}
	b->size = size;
	mnv2c__ok(err);
	return b;
}

mnv2c_code mnv2c_frame_seal(mnv2c_frame_buf *b, mnv2c_error *err)
{
	if (!b)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no frame buffer");
	if (!b->sealed && fcntl(b->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
		int e = errno;
		return mnv2c__fail(err, MNV2C_ERR_IO, e, "cannot seal the frame buffer: %s",
				   strerror(e));
	}
	b->sealed = 1;
	mnv2c__ok(err);
	return MNV2C_OK;
}

void mnv2c_frame_free(mnv2c_frame_buf *b)
{
	if (!b)
		return;
	if (b->data && b->data != MAP_FAILED)
		munmap(b->data, b->size);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}
