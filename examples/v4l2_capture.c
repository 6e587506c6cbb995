/* v4l2_capture — frames from a V4L2 capture device (see v4l2_capture.h). */
#include "v4l2_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, V4L2CAP_ERR_LEN, fmt, ap);
	va_end(ap);
	return -1;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int rc;
	do
		rc = ioctl(fd, req, arg);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* The formats the daemon understands, best first: NV12 is what most ISPs and hardware
 * decoders produce; YUYV what USB (UVC) webcams send uncompressed. The "M" formats of
 * multi-planar devices keep each plane in a buffer of its own (planes > 1). */
static const struct {
	uint32_t fourcc;
	mnv2c_pixel_format format;
	unsigned planes;
} v4l2_formats[] = {
	{ V4L2_PIX_FMT_NV12, MNV2C_PIX_NV12, 1 },    { V4L2_PIX_FMT_NV12M, MNV2C_PIX_NV12, 2 },
	{ V4L2_PIX_FMT_NV21, MNV2C_PIX_NV21, 1 },    { V4L2_PIX_FMT_NV21M, MNV2C_PIX_NV21, 2 },
	{ V4L2_PIX_FMT_YUV420, MNV2C_PIX_I420, 1 },  { V4L2_PIX_FMT_YUV420M, MNV2C_PIX_I420, 3 },
	{ V4L2_PIX_FMT_YUYV, MNV2C_PIX_YUYV, 1 },    { V4L2_PIX_FMT_UYVY, MNV2C_PIX_UYVY, 1 },
	{ V4L2_PIX_FMT_RGB24, MNV2C_PIX_RGB888, 1 }, { V4L2_PIX_FMT_BGR24, MNV2C_PIX_BGR888, 1 },
	{ V4L2_PIX_FMT_GREY, MNV2C_PIX_GRAY8, 1 },
};

/* The first format of v4l2_formats the device offers (for dmabufs, of those in one
 * buffer: a frame is sent as one descriptor); -1 when none. */
static int v4l2_pick_format(const v4l2cap *c, uint32_t want)
{
	int best = -1;
	for (struct v4l2_fmtdesc d = { .type = c->buftype };
	     xioctl(c->fd, VIDIOC_ENUM_FMT, &d) == 0; d.index++)
		for (int i = 0; i < (int)(sizeof v4l2_formats / sizeof v4l2_formats[0]); i++)
			if (v4l2_formats[i].fourcc == d.pixelformat && (best < 0 || i < best) &&
			    (!c->dmabuf || v4l2_formats[i].planes == 1) &&
			    (!want || want == d.pixelformat))
				best = i;
	return best;
}

/* Rows of plane p of a frame h rows high (4:2:0 chroma planes have half as many). */
static uint32_t plane_rows(mnv2c_pixel_format f, unsigned p, uint32_t h)
{
	int half = p > 0 && (f == MNV2C_PIX_NV12 || f == MNV2C_PIX_NV21 || f == MNV2C_PIX_I420);
	return half ? (h + 1) / 2 : h;
}

/* A multi-planar format whose planes lie in separate buffers: the memfd gets them back to
 * back, each with the driver's stride, and the request says where each starts. */
static int v4l2_mem_planes(v4l2cap *c, const struct v4l2_pix_format_mplane *mp, size_t max,
			   char *err)
{
	uint64_t off = 0;
	c->geometry.n_planes = c->n_planes;
	for (unsigned p = 0; p < c->n_planes; p++) {
		const struct v4l2_plane_pix_format *pf = &mp->plane_fmt[p];
		uint64_t bytes = (uint64_t)pf->bytesperline * plane_rows(c->geometry.format, p,
									  mp->height);
		if (pf->bytesperline == 0 || bytes > pf->sizeimage || bytes > max)
			return fail(err, "plane %u: %u bytes per line, %u-byte images: an unexpected "
				    "layout", p, pf->bytesperline, pf->sizeimage);
		c->geometry.planes[p] = (mnv2c_plane){ .stride = pf->bytesperline, .offset = off };
		c->plane_bytes[p] = (size_t)bytes;
		off += bytes;
	}
	if (off > max)
		return fail(err, "%llu-byte frames are too large", (unsigned long long)off);
	c->frame_bytes = (size_t)off;
	return 0;
}

/* The colour range and matrix a driver announces, into the request's geometry. */
static void v4l2_colour(v4l2cap *c, uint32_t quantization, uint32_t ycbcr_enc, uint32_t colorspace)
{
	if (quantization == V4L2_QUANTIZATION_FULL_RANGE)
		c->geometry.color_range = MNV2C_RANGE_FULL;
	if (ycbcr_enc == V4L2_YCBCR_ENC_709 ||
	    (ycbcr_enc == V4L2_YCBCR_ENC_DEFAULT && colorspace == V4L2_COLORSPACE_REC709))
		c->geometry.color_matrix = MNV2C_MATRIX_BT709;
}

/* VIDIOC_S_FMT with the single- or multi-planar structure; the driver may round the
 * size. Its bytesperline is plane 0's stride; in one buffer, the chroma planes follow with
 * the layout V4L2 and the daemon both assume. */
static int v4l2_apply_format(v4l2cap *c, const v4l2cap_options *o, int i, char *err)
{
	struct v4l2_format f = { .type = c->buftype };
	uint32_t w = o->width ? o->width : 1280, h = o->height ? o->height : 720;
	uint32_t fourcc = v4l2_formats[i].fourcc, stride, sizeimage, quant, enc, space;
	if (c->buftype == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		f.fmt.pix_mp = (struct v4l2_pix_format_mplane){ .width = w, .height = h,
			.pixelformat = fourcc, .field = V4L2_FIELD_NONE,
			.num_planes = (uint8_t)v4l2_formats[i].planes };
		if (xioctl(c->fd, VIDIOC_S_FMT, &f))
			return fail(err, "VIDIOC_S_FMT: %s", strerror(errno));
		const struct v4l2_pix_format_mplane *mp = &f.fmt.pix_mp;
		if (mp->pixelformat != fourcc || mp->num_planes != v4l2_formats[i].planes)
			return fail(err, "the driver changed the pixel format");
		w = mp->width, h = mp->height, stride = mp->plane_fmt[0].bytesperline;
		sizeimage = mp->plane_fmt[0].sizeimage;
		quant = mp->quantization, enc = mp->ycbcr_enc, space = mp->colorspace;
	} else {
		f.fmt.pix = (struct v4l2_pix_format){ .width = w, .height = h, .pixelformat = fourcc,
						      .field = V4L2_FIELD_NONE };
		if (xioctl(c->fd, VIDIOC_S_FMT, &f))
			return fail(err, "VIDIOC_S_FMT: %s", strerror(errno));
		if (f.fmt.pix.pixelformat != fourcc)
			return fail(err, "the driver changed the pixel format");
		w = f.fmt.pix.width, h = f.fmt.pix.height, stride = f.fmt.pix.bytesperline;
		sizeimage = f.fmt.pix.sizeimage;
		quant = f.fmt.pix.quantization, enc = f.fmt.pix.ycbcr_enc;
		space = f.fmt.pix.colorspace;
	}
	c->geometry = mnv2c_image_fd(v4l2_formats[i].format, w, h, stride, -1, 0);
	v4l2_colour(c, quant, enc, space);
	c->n_planes = v4l2_formats[i].planes;
	if (c->n_planes > 1)
		return v4l2_mem_planes(c, &f.fmt.pix_mp, o->max_frame_bytes, err);
	uint64_t need = mnv2c_frame_bytes(c->geometry.format, w, h, stride);
	if (need == 0 || need > o->max_frame_bytes || need > sizeimage)
		return fail(err, "%ux%u, %u bytes per line, %u-byte images: an unexpected layout",
			    w, h, stride, sizeimage);
	c->frame_bytes = c->plane_bytes[0] = (size_t)need;
	return 0;
}

static int v4l2_set_format(v4l2cap *c, const v4l2cap_options *o, char *err)
{
	int i = v4l2_pick_format(c, o->fourcc);
	if (i < 0 && o->fourcc)
		return fail(err, "%s does not offer %s%s, or it is not one of NV12, NM12, "
			    "NV21, NM21, YU12, YM12, YUYV, UYVY, RGB3, BGR3, GREY", o->device,
			    o->fourcc_name ? o->fourcc_name : "that format",
			    c->dmabuf ? " in one buffer (dmabuf)" : "");
	if (i < 0)
		return fail(err, "%s offers none of NV12, NM12, NV21, NM21, YU12, YM12, YUYV, UYVY, "
			    "RGB3, BGR3, GREY%s (compressed-only cameras, MJPEG for example, need a "
			    "decoder first)", o->device,
			    c->dmabuf ? " in one buffer (a dmabuf is one descriptor per frame; "
					"NM12 and the like need MMAP)" : "");
	char why[V4L2CAP_ERR_LEN];
	if (v4l2_apply_format(c, o, i, why))
		return fail(err, "%s: %s", o->device, why);
	return 0;
}

/* A v4l2_buffer for buffer index of c's type and memory; multi-planar ones point at
 * planes (VIDEO_MAX_PLANES entries). */
static struct v4l2_buffer v4l2_buf(const v4l2cap *c, unsigned index, struct v4l2_plane *planes)
{
	struct v4l2_buffer b = { .type = c->buftype, .memory = V4L2_MEMORY_MMAP, .index = index };
	if (c->buftype == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		memset(planes, 0, sizeof(struct v4l2_plane) * VIDEO_MAX_PLANES);
		b.m.planes = planes;
		b.length = VIDEO_MAX_PLANES;
	}
	return b;
}

/* Plane p of a queried or dequeued buffer: its length, mmap offset, bytes used and where
 * the data starts in it (data_offset: multi-planar only). */
typedef struct plane_info {
	uint32_t length, mem_offset, bytesused, data_offset;
} plane_info;

static plane_info v4l2_plane(const v4l2cap *c, const struct v4l2_buffer *b, unsigned p)
{
	if (c->buftype != V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
		return (plane_info){ b->length, b->m.offset, b->bytesused, 0 };
	const struct v4l2_plane *q = &b->m.planes[p];
	return (plane_info){ q->length, q->m.mem_offset, q->bytesused, q->data_offset };
}

/* Buffer i's planes: mapped (MMAP mode) or exported as a dmabuf (one plane). */
static int v4l2_setup_buffer(v4l2cap *c, const v4l2cap_options *o, unsigned i, char *err)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b = v4l2_buf(c, i, planes);
	if (xioctl(c->fd, VIDIOC_QUERYBUF, &b))
		return fail(err, "%s: VIDIOC_QUERYBUF: %s", o->device, strerror(errno));
	for (unsigned p = 0; p < c->n_planes; p++) {
		plane_info pi = v4l2_plane(c, &b, p);
		if (pi.length < c->plane_bytes[p])
			return fail(err, "%s: buffer %u plane %u has %u bytes, frames need %zu",
				    o->device, i, p, pi.length, c->plane_bytes[p]);
		if (c->dmabuf) {
			struct v4l2_exportbuffer e = { .type = c->buftype, .index = i,
						       .flags = O_RDONLY | O_CLOEXEC };
			if (xioctl(c->fd, VIDIOC_EXPBUF, &e))
				return fail(err, "%s: VIDIOC_EXPBUF: %s (try without dmabuf export)",
					    o->device, strerror(errno));
			c->export_fd[i] = e.fd;
			continue;
		}
		void *m = mmap(NULL, pi.length, PROT_READ, MAP_SHARED, c->fd, pi.mem_offset);
		if (m == MAP_FAILED)
			return fail(err, "%s: mmap: %s", o->device, strerror(errno));
		c->map[i][p] = m;
		c->map_len[i][p] = pi.length;
	}
	if (xioctl(c->fd, VIDIOC_QBUF, &b))
		return fail(err, "%s: VIDIOC_QBUF: %s", o->device, strerror(errno));
	return 0;
}

/* Driver buffers: mapped or exported, then queued, and streaming on. */
static int v4l2_buffers(v4l2cap *c, const v4l2cap_options *o, char *err)
{
	struct v4l2_requestbuffers rb = { .count = o->buffers, .type = c->buftype,
					  .memory = V4L2_MEMORY_MMAP };
	if (xioctl(c->fd, VIDIOC_REQBUFS, &rb))
		return fail(err, "%s: VIDIOC_REQBUFS: %s", o->device, strerror(errno));
	if (rb.count < 2 || rb.count > V4L2CAP_MAX_BUFFERS)
		return fail(err, "%s: the driver gave %u buffers", o->device, rb.count);
	c->n_bufs = rb.count;
	for (unsigned i = 0; i < c->n_bufs; i++)
		if (v4l2_setup_buffer(c, o, i, err))
			return -1;
	int type = (int)c->buftype;
	if (xioctl(c->fd, VIDIOC_STREAMON, &type))
		return fail(err, "%s: VIDIOC_STREAMON: %s", o->device, strerror(errno));
	return 0;
}

int v4l2cap_queue(v4l2cap *c, unsigned index)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b = v4l2_buf(c, index, planes);
	if (c->buftype == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
		b.length = c->n_planes;
	return xioctl(c->fd, VIDIOC_QBUF, &b);
}

/* Whether every plane of a dequeued buffer holds a whole frame's share. */
static int v4l2_filled(const v4l2cap *c, const struct v4l2_buffer *b, char *err)
{
	for (unsigned p = 0; p < c->n_planes; p++) {
		plane_info pi = v4l2_plane(c, b, p);
		if (pi.bytesused > pi.length || pi.data_offset > pi.bytesused ||
		    pi.bytesused - pi.data_offset < c->plane_bytes[p] ||
		    (c->map[b->index][p] && pi.bytesused > c->map_len[b->index][p]))
			return fail(err, "buffer %u plane %u holds %u bytes from %u, a frame needs "
				    "%zu", b->index, p, pi.bytesused, pi.data_offset, c->plane_bytes[p]);
	}
	return 0;
}

int v4l2cap_next(v4l2cap *c, unsigned *index, char *err)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	for (;;) {
		b = v4l2_buf(c, 0, planes);
		if (ioctl(c->fd, VIDIOC_DQBUF, &b) < 0) /* blocks until the camera delivers */
			return errno == EINTR ? 0 /* a signal: the caller decides whether to go on */
					      : fail(err, "VIDIOC_DQBUF: %s", strerror(errno));
		if (b.index >= c->n_bufs)
			return fail(err, "the driver returned buffer %u of %u", b.index, c->n_bufs);
		if (!(b.flags & V4L2_BUF_FLAG_ERROR))
			break;
		/* a frame the driver says is damaged (a glitch on the sensor link): dropped */
		c->dropped++;
		if (v4l2cap_queue(c, b.index))
			return fail(err, "VIDIOC_QBUF: %s", strerror(errno));
	}
	if (v4l2_filled(c, &b, err)) {
		v4l2cap_queue(c, b.index);
		return -1;
	}
	for (unsigned p = 0; p < c->n_planes; p++)
		c->data_offset[b.index][p] = v4l2_plane(c, &b, p).data_offset;
	*index = b.index;
	return 1;
}

void v4l2cap_copy(const v4l2cap *c, unsigned index, uint8_t *dst)
{
	for (unsigned p = 0; p < c->n_planes; p++) {
		memcpy(dst, (const uint8_t *)c->map[index][p] + c->data_offset[index][p],
		       c->plane_bytes[p]);
		dst += c->plane_bytes[p];
	}
}

int v4l2cap_dmabuf(const v4l2cap *c, unsigned index, uint64_t *fd_offset)
{
	*fd_offset = c->data_offset[index][0];
	return c->export_fd[index];
}

void v4l2cap_init(v4l2cap *c)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	for (unsigned i = 0; i < V4L2CAP_MAX_BUFFERS; i++)
		c->export_fd[i] = -1;
}

int v4l2cap_open(v4l2cap *c, const v4l2cap_options *o, char *err)
{
	struct v4l2_capability cap;
	c->dmabuf = o->dmabuf;
	if ((c->fd = open(o->device, O_RDWR | O_CLOEXEC)) < 0)
		return fail(err, "cannot open %s: %s", o->device, strerror(errno));
	if (xioctl(c->fd, VIDIOC_QUERYCAP, &cap))
		return fail(err, "%s is not a V4L2 device: %s", o->device, strerror(errno));
	uint32_t caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
	if (!(caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) ||
	    !(caps & V4L2_CAP_STREAMING))
		return fail(err, "%s: not a streaming video capture device", o->device);
	c->buftype = caps & V4L2_CAP_VIDEO_CAPTURE ? V4L2_BUF_TYPE_VIDEO_CAPTURE
						   : V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	return v4l2_set_format(c, o, err) || v4l2_buffers(c, o, err) ? -1 : 0;
}

void v4l2cap_close(v4l2cap *c)
{
	if (c->fd < 0)
		return;
	int type = (int)c->buftype;
	xioctl(c->fd, VIDIOC_STREAMOFF, &type);
	for (unsigned i = 0; i < c->n_bufs; i++) {
		for (unsigned p = 0; p < VIDEO_MAX_PLANES; p++)
			if (c->map[i][p])
				munmap(c->map[i][p], c->map_len[i][p]);
		if (c->export_fd[i] >= 0)
			close(c->export_fd[i]);
	}
	close(c->fd);
	v4l2cap_init(c);
}
