/* camera-loop — feed camera frames to mnv2d without copying them into the socket, and print
 * what the detector sees.
 *
 *   camera-loop --device /dev/video0 [--dmabuf] [--fourcc NV12] [--size 1280x720]
 *                                                                      a V4L2 camera
 *   camera-loop --y4m clip.y4m                                         a YUV4MPEG2 file
 *   camera-loop --raw clip.nv12 --format nv12 --size 1920x1080         raw frames, back to back
 *   options: --socket PATH --model NAME --threshold T --filter F --inflight N --frames N
 *
 * How a frame travels (see README.md, "Frames without copies"):
 *  - The request carries no pixels. The frame lies in a file descriptor that is passed with
 *    SCM_RIGHTS; mnv2d maps it read-only and converts + resizes it in one pass straight
 *    into the model's input.
 *  - Files and V4L2 MMAP buffers: each frame is written once into a sealed memfd
 *    (mnv2c_frame_alloc + mnv2c_frame_seal: the daemon refuses memfds that could shrink
 *    under its mapping). For a file that write *is* the read; for MMAP it is one memcpy
 *    (about 0.3 ms for a 1080p NV12 frame), which hands the driver its buffer back at once.
 *  - V4L2 devices may be single- or multi-planar (the MPLANE API of SoC camera pipelines).
 *    Formats with each plane in a buffer of its own (NM12, YM12) are copied plane after
 *    plane into the memfd, and the request says where each plane starts.
 *  - V4L2 with --dmabuf: each driver buffer is exported once (VIDIOC_EXPBUF) and its
 *    dmabuf is sent as is — no copy at all — but the buffer stays out of the driver's
 *    queue until the daemon has answered, so the driver gets --inflight + 2 buffers.
 *  - Up to --inflight requests (default 2) are outstanding: while the daemon works on one
 *    frame, the next is captured and queued. A slot (buffer) is reused only after its
 *    answer has arrived, because the daemon reads the pixels in place. The daemon's
 *    max_inflight_per_connection must allow as many (its default, for the default queue of
 *    64, is 16: the largest --inflight).
 *
 * Output: per frame a summary line and one line per detection (boxes in frame pixels), then
 * the achieved frame rate. Exit status: 0 when every frame was answered OK; 1 on any error
 * (bad input, a failed request, lost connection); 2 on bad usage.
 */
#include "mnv2/client.h"
#include "y4m.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/videodev2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 16
#define MAX_FRAME_BYTES ((size_t)256 << 20) /* refuse sources with larger frames */
#define RECV_TIMEOUT_MS 30000                /* an answer takes longer: give up */
#define ERR_LEN 512

typedef struct options {
	const char *device, *raw, *y4m, *socket, *model;
	mnv2c_pixel_format format;
	uint32_t width, height;
	unsigned inflight;
	uint64_t max_frames; /* 0: until the source ends */
	float threshold;
	mnv2c_filter filter;
	int dmabuf;
	uint32_t fourcc; /* --fourcc: this V4L2 format rather than the best one offered */
	const char *fourcc_name;
} options;

/* One frame's buffer and the request that reads it. */
typedef struct slot {
	mnv2c_frame_buf *buf; /* files and MMAP: the sealed memfd the frame is written into */
	int fd;               /* the descriptor sent: buf->fd, or a V4L2 buffer's dmabuf */
	uint64_t fd_offset;   /* where in fd the frame starts (a driver's data_offset) */
	int v4l2_index;       /* --dmabuf: the driver buffer to queue again after the answer */
	uint64_t request_id;  /* 0: the slot is free */
	uint64_t frame;
	double sent_ms;
} slot;

#define V4L2_MAX_BUFFERS (MAX_INFLIGHT + 2)

/* Where frames come from. next() fills a free slot: 1 a frame, 0 the end, -1 an error. */
typedef struct source {
	mnv2c_image geometry; /* format, size, stride, colour: what every request describes */
	size_t frame_bytes;
	int (*next)(struct source *s, slot *sl, uint64_t index, char *err);
	FILE *file;
	y4m_info y4m;
	/* V4L2: buffers of n_planes memory planes (1 but for formats like NV12M), each
	 * holding plane_bytes of the frame, which are copied to the memfd back to back */
	int vfd, dmabuf;
	uint32_t buftype;     /* V4L2_BUF_TYPE_VIDEO_CAPTURE or ..._CAPTURE_MPLANE */
	unsigned n_bufs, n_planes;
	size_t plane_bytes[VIDEO_MAX_PLANES];
	void *map[V4L2_MAX_BUFFERS][VIDEO_MAX_PLANES];
	size_t map_len[V4L2_MAX_BUFFERS][VIDEO_MAX_PLANES];
	int export_fd[V4L2_MAX_BUFFERS];
} source;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, ERR_LEN, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- files: raw frames back to back, or Y4M ------------------------------------------- */

static int raw_next(source *s, slot *sl, uint64_t index, char *err)
{
	size_t got = fread(sl->buf->data, 1, s->frame_bytes, s->file);
	if (got == 0 && feof(s->file))
		return 0;
	if (got != s->frame_bytes)
		return fail(err, "frame %llu: truncated: %zu of %zu bytes", (unsigned long long)index,
			    got, s->frame_bytes);
	return 1;
}

static int y4m_next(source *s, slot *sl, uint64_t index, char *err)
{
	char why[Y4M_ERR_LEN];
	int rc = y4m_read_frame(s->file, &s->y4m, index, sl->buf->data, sl->buf->size, why);
	if (rc < 0)
		fail(err, "%s", why);
	return rc;
}

static int open_raw(source *s, const options *o, char *err)
{
	uint64_t n = mnv2c_frame_bytes(o->format, o->width, o->height, 0);
	if (n == 0 || n > MAX_FRAME_BYTES)
		return fail(err, "--raw: %s %ux%u is not a frame size this example handles",
			    mnv2c_pixel_format_name(o->format), o->width, o->height);
	if (!(s->file = fopen(o->raw, "rb")))
		return fail(err, "cannot open %s: %s", o->raw, strerror(errno));
	s->geometry = mnv2c_image_fd(o->format, o->width, o->height, 0, -1, 0);
	s->frame_bytes = (size_t)n;
	s->next = raw_next;
	return 0;
}

static int open_y4m(source *s, const options *o, char *err)
{
	char why[Y4M_ERR_LEN];
	if (!(s->file = fopen(o->y4m, "rb")))
		return fail(err, "cannot open %s: %s", o->y4m, strerror(errno));
	if (y4m_read_header(s->file, MAX_FRAME_BYTES, &s->y4m, why))
		return fail(err, "%s: %s", o->y4m, why);
	/* Y4M's 4:2:0 planes are exactly I420: Y, then U and V of ceil(w/2) x ceil(h/2). */
	s->geometry = mnv2c_image_fd(MNV2C_PIX_I420, s->y4m.width, s->y4m.height, 0, -1, 0);
	s->geometry.color_range = s->y4m.full_range ? MNV2C_RANGE_FULL : MNV2C_RANGE_LIMITED;
	s->frame_bytes = s->y4m.frame_bytes;
	s->next = y4m_next;
	return 0;
}

/* ---- V4L2 capture ------------------------------------------------------------------- */

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

/* The first format of v4l2_formats the device offers (with --dmabuf, of those in one
 * buffer: a frame is sent as one descriptor); -1 when none. */
static int v4l2_pick_format(const source *s, uint32_t want)
{
	int best = -1;
	for (struct v4l2_fmtdesc d = { .type = s->buftype };
	     xioctl(s->vfd, VIDIOC_ENUM_FMT, &d) == 0; d.index++)
		for (int i = 0; i < (int)(sizeof v4l2_formats / sizeof v4l2_formats[0]); i++)
			if (v4l2_formats[i].fourcc == d.pixelformat && (best < 0 || i < best) &&
			    (!s->dmabuf || v4l2_formats[i].planes == 1) &&
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
static int v4l2_mem_planes(source *s, const struct v4l2_pix_format_mplane *mp, char *err)
{
	uint64_t off = 0;
	s->geometry.n_planes = s->n_planes;
	for (unsigned p = 0; p < s->n_planes; p++) {
		const struct v4l2_plane_pix_format *pf = &mp->plane_fmt[p];
		uint64_t bytes = (uint64_t)pf->bytesperline * plane_rows(s->geometry.format, p,
									  mp->height);
		if (pf->bytesperline == 0 || bytes > pf->sizeimage || bytes > MAX_FRAME_BYTES)
			return fail(err, "plane %u: %u bytes per line, %u-byte images: an unexpected "
				    "layout", p, pf->bytesperline, pf->sizeimage);
		s->geometry.planes[p] = (mnv2c_plane){ .stride = pf->bytesperline, .offset = off };
		s->plane_bytes[p] = (size_t)bytes;
		off += bytes;
	}
	if (off > MAX_FRAME_BYTES)
		return fail(err, "%llu-byte frames are too large", (unsigned long long)off);
	s->frame_bytes = (size_t)off;
	return 0;
}

/* The colour range and matrix a driver announces, into the request's geometry. */
static void v4l2_colour(source *s, uint32_t quantization, uint32_t ycbcr_enc, uint32_t colorspace)
{
	if (quantization == V4L2_QUANTIZATION_FULL_RANGE)
		s->geometry.color_range = MNV2C_RANGE_FULL;
	if (ycbcr_enc == V4L2_YCBCR_ENC_709 ||
	    (ycbcr_enc == V4L2_YCBCR_ENC_DEFAULT && colorspace == V4L2_COLORSPACE_REC709))
		s->geometry.color_matrix = MNV2C_MATRIX_BT709;
}

/* VIDIOC_S_FMT with the single- or multi-planar structure; the driver may round the
 * size. Its bytesperline is plane 0's stride; in one buffer, the chroma planes follow with
 * the layout V4L2 and the daemon both assume. */
static int v4l2_apply_format(source *s, const options *o, int i, char *err)
{
	struct v4l2_format f = { .type = s->buftype };
	uint32_t w = o->width ? o->width : 1280, h = o->height ? o->height : 720;
	uint32_t fourcc = v4l2_formats[i].fourcc, stride, sizeimage, quant, enc, space;
	if (s->buftype == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		f.fmt.pix_mp = (struct v4l2_pix_format_mplane){ .width = w, .height = h,
			.pixelformat = fourcc, .field = V4L2_FIELD_NONE,
			.num_planes = (uint8_t)v4l2_formats[i].planes };
		if (xioctl(s->vfd, VIDIOC_S_FMT, &f))
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
		if (xioctl(s->vfd, VIDIOC_S_FMT, &f))
			return fail(err, "VIDIOC_S_FMT: %s", strerror(errno));
		if (f.fmt.pix.pixelformat != fourcc)
			return fail(err, "the driver changed the pixel format");
		w = f.fmt.pix.width, h = f.fmt.pix.height, stride = f.fmt.pix.bytesperline;
		sizeimage = f.fmt.pix.sizeimage;
		quant = f.fmt.pix.quantization, enc = f.fmt.pix.ycbcr_enc;
		space = f.fmt.pix.colorspace;
	}
	s->geometry = mnv2c_image_fd(v4l2_formats[i].format, w, h, stride, -1, 0);
	v4l2_colour(s, quant, enc, space);
	s->n_planes = v4l2_formats[i].planes;
	if (s->n_planes > 1)
		return v4l2_mem_planes(s, &f.fmt.pix_mp, err);
	uint64_t need = mnv2c_frame_bytes(s->geometry.format, w, h, stride);
	if (need == 0 || need > MAX_FRAME_BYTES || need > sizeimage)
		return fail(err, "%ux%u, %u bytes per line, %u-byte images: an unexpected layout",
			    w, h, stride, sizeimage);
	s->frame_bytes = s->plane_bytes[0] = (size_t)need;
	return 0;
}

static int v4l2_set_format(source *s, const options *o, char *err)
{
	int i = v4l2_pick_format(s, o->fourcc);
	if (i < 0 && o->fourcc)
		return fail(err, "%s does not offer --fourcc %s%s, or it is not one of NV12, NM12, "
			    "NV21, NM21, YU12, YM12, YUYV, UYVY, RGB3, BGR3, GREY", o->device,
			    o->fourcc_name, s->dmabuf ? " in one buffer (--dmabuf)" : "");
	if (i < 0)
		return fail(err, "%s offers none of NV12, NV21, YU12, YUYV, UYVY, RGB3, BGR3, GREY%s "
			    "(compressed-only cameras, MJPEG for example, need a decoder first)",
			    o->device, s->dmabuf ? " in one buffer (--dmabuf sends one descriptor "
						   "per frame; NV12M and the like need MMAP)" : "");
	char why[ERR_LEN];
	if (v4l2_apply_format(s, o, i, why))
		return fail(err, "%s: %s", o->device, why);
	fprintf(stderr, "camera-loop: %s: %s %ux%u, stride %u%s\n", o->device,
		mnv2c_pixel_format_name(s->geometry.format), s->geometry.width,
		s->geometry.height, s->geometry.stride,
		s->n_planes > 1 ? ", planes in separate buffers" : "");
	return 0;
}

/* A v4l2_buffer for buffer index of s's type and memory; multi-planar ones point at
 * planes (VIDEO_MAX_PLANES entries). */
static struct v4l2_buffer v4l2_buf(const source *s, unsigned index, struct v4l2_plane *planes)
{
	struct v4l2_buffer b = { .type = s->buftype, .memory = V4L2_MEMORY_MMAP, .index = index };
	if (s->buftype == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
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

static plane_info v4l2_plane(const source *s, const struct v4l2_buffer *b, unsigned p)
{
	if (s->buftype != V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
		return (plane_info){ b->length, b->m.offset, b->bytesused, 0 };
	const struct v4l2_plane *q = &b->m.planes[p];
	return (plane_info){ q->length, q->m.mem_offset, q->bytesused, q->data_offset };
}

/* Buffer i's planes: mapped (MMAP mode) or exported as a dmabuf (--dmabuf, one plane). */
static int v4l2_setup_buffer(source *s, const options *o, unsigned i, char *err)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b = v4l2_buf(s, i, planes);
	if (xioctl(s->vfd, VIDIOC_QUERYBUF, &b))
		return fail(err, "%s: VIDIOC_QUERYBUF: %s", o->device, strerror(errno));
	for (unsigned p = 0; p < s->n_planes; p++) {
		plane_info pi = v4l2_plane(s, &b, p);
		if (pi.length < s->plane_bytes[p])
			return fail(err, "%s: buffer %u plane %u has %u bytes, frames need %zu",
				    o->device, i, p, pi.length, s->plane_bytes[p]);
		if (s->dmabuf) {
			struct v4l2_exportbuffer e = { .type = s->buftype, .index = i,
						       .flags = O_RDONLY | O_CLOEXEC };
			if (xioctl(s->vfd, VIDIOC_EXPBUF, &e))
				return fail(err, "%s: VIDIOC_EXPBUF: %s (try without --dmabuf)",
					    o->device, strerror(errno));
			s->export_fd[i] = e.fd;
			continue;
		}
		void *m = mmap(NULL, pi.length, PROT_READ, MAP_SHARED, s->vfd, pi.mem_offset);
		if (m == MAP_FAILED)
			return fail(err, "%s: mmap: %s", o->device, strerror(errno));
		s->map[i][p] = m;
		s->map_len[i][p] = pi.length;
	}
	if (xioctl(s->vfd, VIDIOC_QBUF, &b))
		return fail(err, "%s: VIDIOC_QBUF: %s", o->device, strerror(errno));
	return 0;
}

/* Driver buffers: mapped or exported, then queued, and streaming on. */
static int v4l2_buffers(source *s, const options *o, char *err)
{
	struct v4l2_requestbuffers rb = { .count = o->inflight + 2, .type = s->buftype,
					  .memory = V4L2_MEMORY_MMAP };
	if (xioctl(s->vfd, VIDIOC_REQBUFS, &rb))
		return fail(err, "%s: VIDIOC_REQBUFS: %s", o->device, strerror(errno));
	if (rb.count < 2 || rb.count > V4L2_MAX_BUFFERS)
		return fail(err, "%s: the driver gave %u buffers", o->device, rb.count);
	s->n_bufs = rb.count;
	for (unsigned i = 0; i < s->n_bufs; i++)
		if (v4l2_setup_buffer(s, o, i, err))
			return -1;
	int type = (int)s->buftype;
	if (xioctl(s->vfd, VIDIOC_STREAMON, &type))
		return fail(err, "%s: VIDIOC_STREAMON: %s", o->device, strerror(errno));
	return 0;
}

static int v4l2_queue(source *s, int index)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b = v4l2_buf(s, (unsigned)index, planes);
	if (s->buftype == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
		b.length = s->n_planes;
	return xioctl(s->vfd, VIDIOC_QBUF, &b);
}

/* Whether every plane of a dequeued buffer holds a whole frame's share. */
static int v4l2_filled(const source *s, const struct v4l2_buffer *b, char *err, uint64_t index)
{
	for (unsigned p = 0; p < s->n_planes; p++) {
		plane_info pi = v4l2_plane(s, b, p);
		if (pi.bytesused > pi.length || pi.data_offset > pi.bytesused ||
		    pi.bytesused - pi.data_offset < s->plane_bytes[p])
			return fail(err, "frame %llu: buffer %u plane %u holds %u bytes from %u, a "
				    "frame needs %zu", (unsigned long long)index, b->index, p,
				    pi.bytesused, pi.data_offset, s->plane_bytes[p]);
	}
	return 0;
}

static int v4l2_next(source *s, slot *sl, uint64_t index, char *err)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b = v4l2_buf(s, 0, planes);
	if (xioctl(s->vfd, VIDIOC_DQBUF, &b)) /* blocks until the camera delivers */
		return errno == EINTR && stop_requested ? 0
			: fail(err, "frame %llu: VIDIOC_DQBUF: %s", (unsigned long long)index,
			       strerror(errno));
	if (b.index >= s->n_bufs)
		return fail(err, "frame %llu: the driver returned buffer %u of %u",
			    (unsigned long long)index, b.index, s->n_bufs);
	if (v4l2_filled(s, &b, err, index)) {
		v4l2_queue(s, (int)b.index);
		return -1;
	}
	if (s->dmabuf) { /* zero-copy: the driver's buffer itself; queued again after the answer */
		sl->fd = s->export_fd[b.index];
		sl->fd_offset = v4l2_plane(s, &b, 0).data_offset;
		sl->v4l2_index = (int)b.index;
		return 1;
	}
	/* MMAP: one copy into this slot's sealed memfd, and the buffer goes straight back. */
	uint8_t *dst = sl->buf->data;
	for (unsigned p = 0; p < s->n_planes; p++) {
		memcpy(dst, (const uint8_t *)s->map[b.index][p] + v4l2_plane(s, &b, p).data_offset,
		       s->plane_bytes[p]);
		dst += s->plane_bytes[p];
	}
	if (v4l2_queue(s, (int)b.index))
		return fail(err, "frame %llu: VIDIOC_QBUF: %s", (unsigned long long)index,
			    strerror(errno));
	return 1;
}

static int open_v4l2(source *s, const options *o, char *err)
{
	struct v4l2_capability cap;
	s->dmabuf = o->dmabuf;
	if ((s->vfd = open(o->device, O_RDWR | O_CLOEXEC)) < 0)
		return fail(err, "cannot open %s: %s", o->device, strerror(errno));
	if (xioctl(s->vfd, VIDIOC_QUERYCAP, &cap))
		return fail(err, "%s is not a V4L2 device: %s", o->device, strerror(errno));
	uint32_t caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
	if (!(caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) ||
	    !(caps & V4L2_CAP_STREAMING))
		return fail(err, "%s: not a streaming video capture device", o->device);
	s->buftype = caps & V4L2_CAP_VIDEO_CAPTURE ? V4L2_BUF_TYPE_VIDEO_CAPTURE
						   : V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	if (v4l2_set_format(s, o, err) || v4l2_buffers(s, o, err))
		return -1;
	s->next = v4l2_next;
	return 0;
}

static void source_close(source *s)
{
	if (s->file)
		fclose(s->file);
	if (s->vfd >= 0) {
		int type = (int)s->buftype;
		xioctl(s->vfd, VIDIOC_STREAMOFF, &type);
		for (unsigned i = 0; i < s->n_bufs; i++) {
			for (unsigned p = 0; p < VIDEO_MAX_PLANES; p++)
				if (s->map[i][p])
					munmap(s->map[i][p], s->map_len[i][p]);
			if (s->export_fd[i] >= 0)
				close(s->export_fd[i]);
		}
		close(s->vfd);
	}
}

/* ---- requests and answers ------------------------------------------------------------ */

typedef struct loop {
	mnv2c_client *client;
	source *src;
	slot slots[MAX_INFLIGHT];
	unsigned n_slots;
	uint64_t answered, failed, detections;
} loop;

static void print_answer(const slot *sl, const mnv2c_response *r, double rtt_ms)
{
	const mnv2c_detect_result *d = r->detect;
	printf("frame %llu: %zu detection%s, round trip %.1f ms (daemon: queue %.1f, "
	       "preprocess %.1f, inference %.1f ms)\n",
	       (unsigned long long)sl->frame, d->n_detections, d->n_detections == 1 ? "" : "s",
	       rtt_ms, r->timing.queue_us / 1e3, r->timing.preprocess_us / 1e3,
	       r->timing.inference_us / 1e3);
	for (size_t i = 0; i < d->n_detections; i++) {
		const mnv2c_detection *x = &d->detections[i];
		printf("frame %llu: %s (class %u) score %.3f box %.1f %.1f %.1f %.1f\n",
		       (unsigned long long)sl->frame, x->label[0] ? x->label : "?", x->class_id,
		       x->score, x->box.xmin, x->box.ymin, x->box.xmax, x->box.ymax);
	}
}

/* Waits for one answer and frees its slot; -1 when the connection is lost. */
static int wait_one(loop *L)
{
	mnv2c_response *r = NULL;
	mnv2c_error e;
	mnv2c_code rc = mnv2c_receive(L->client, RECV_TIMEOUT_MS, &r, &e);
	if (rc != MNV2C_OK) {
		fprintf(stderr, "camera-loop: no answer: %s\n", e.message);
		return -1;
	}
	slot *sl = NULL;
	for (unsigned i = 0; i < L->n_slots; i++)
		if (L->slots[i].request_id == r->request_id)
			sl = &L->slots[i];
	if (!sl) { /* the library only hands out answers to our requests */
		fprintf(stderr, "camera-loop: an answer to unknown request %llu\n",
			(unsigned long long)r->request_id);
		mnv2c_response_free(r);
		return -1;
	}
	if (r->status == MNV2C_OK) {
		print_answer(sl, r, now_ms() - sl->sent_ms);
		L->answered++;
		L->detections += r->detect->n_detections;
	} else {
		fprintf(stderr, "camera-loop: frame %llu: %s: %s\n", (unsigned long long)sl->frame,
			mnv2c_code_name(r->status), r->message);
		L->failed++;
	}
	if (sl->v4l2_index >= 0 && v4l2_queue(L->src, sl->v4l2_index)) /* dmabuf: back to the driver */
		fprintf(stderr, "camera-loop: VIDIOC_QBUF: %s\n", strerror(errno));
	sl->v4l2_index = -1;
	sl->request_id = 0;
	mnv2c_response_free(r);
	return 0;
}

static slot *free_slot(loop *L)
{
	for (unsigned i = 0; i < L->n_slots; i++)
		if (!L->slots[i].request_id)
			return &L->slots[i];
	return NULL;
}

/* One sealed memfd per slot (not needed when every frame is a V4L2 dmabuf). */
static int make_slots(loop *L, unsigned n, char *err)
{
	mnv2c_error e;
	L->n_slots = n;
	for (unsigned i = 0; i < n; i++) {
		slot *sl = &L->slots[i];
		sl->v4l2_index = -1;
		if (L->src->dmabuf)
			continue;
		if (!(sl->buf = mnv2c_frame_alloc(L->src->frame_bytes, &e)) ||
		    mnv2c_frame_seal(sl->buf, &e) != MNV2C_OK)
			return fail(err, "frame buffer: %s", e.message);
		sl->fd = sl->buf->fd;
	}
	return 0;
}

static int run(loop *L, const options *o)
{
	mnv2c_options ro = { .model = o->model, .score_threshold = o->threshold,
			     .filter = o->filter };
	mnv2c_error e;
	char err[ERR_LEN];
	int status = 0;
	double t0 = now_ms();
	uint64_t frame = 0;
	for (; !stop_requested && (!o->max_frames || frame < o->max_frames); frame++) {
		slot *sl;
		while (!(sl = free_slot(L))) /* all in flight: the oldest answers first, usually */
			if (wait_one(L))
				return 1;
		int got = L->src->next(L->src, sl, frame, err);
		if (got == 0)
			break;
		if (got < 0) {
			fprintf(stderr, "camera-loop: %s\n", err);
			status = 1;
			break;
		}
		sl->frame = frame;
		sl->sent_ms = now_ms();
		if (mnv2c_send_fd(L->client, MNV2C_REQ_DETECT, sl->fd, sl->fd_offset,
				  &L->src->geometry, &ro,
				  &sl->request_id, &e) != MNV2C_OK) {
			fprintf(stderr, "camera-loop: frame %llu: cannot send: %s\n",
				(unsigned long long)frame, e.message);
			sl->request_id = 0;
			return 1;
		}
	}
	while (mnv2c_outstanding(L->client) > 0) /* the last frames' answers */
		if (wait_one(L))
			return 1;
	double s = (now_ms() - t0) / 1e3;
	printf("camera-loop: %llu frames, %llu answered, %llu failed, %llu detections in %.2f s: "
	       "%.1f fps\n",
	       (unsigned long long)frame, (unsigned long long)L->answered,
	       (unsigned long long)L->failed, (unsigned long long)L->detections, s,
	       s > 0 ? (double)L->answered / s : 0.0);
	return status || L->failed ? 1 : 0;
}

/* ---- command line -------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: camera-loop (--device DEV [--dmabuf] [--fourcc CODE] [--size WxH] |\n"
		"                    --y4m FILE |\n"
		"                    --raw FILE --format FMT --size WxH) [options]\n"
		"  --socket PATH    mnv2d's socket (default $MNV2_SOCKET or " MNV2C_DEFAULT_SOCKET ")\n"
		"  --model NAME     detector to use (default: the daemon's first detector)\n"
		"  --threshold T    drop detections scoring below T (0..1; default: the model's)\n"
		"  --filter F       antialias or bilinear (cheaper on frames far larger than the\n"
		"                   model's input; default: the model's configured filter)\n"
		"  --inflight N     requests outstanding at once, 1..%d (default 2)\n"
		"  --frames N       stop after N frames (default: until the source ends)\n"
		"  --dmabuf         V4L2: send the driver's buffers as dmabufs (VIDIOC_EXPBUF)\n"
		"  --fourcc CODE    V4L2: capture in this format rather than the best one the\n"
		"                   device offers: NV12 NM12 (NV12M) NV21 NM21 YU12 YM12 (YUV420M)\n"
		"                   YUYV UYVY RGB3 BGR3 GREY\n"
		"  FMT: nv12 nv21 i420 yuyv uyvy rgb888 bgr888 rgba bgra gray8\n",
		MAX_INFLIGHT);
}

static int parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;
	if (end == s || *end != 'x')
		return -1;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end || a == 0 || b == 0 || a > 65535 || b > 65535)
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end || errno || *s == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* 0, or 2 after printing what is wrong. */
static int parse_args(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' }, { "dmabuf", no_argument, NULL, 'D' },
		{ "raw", required_argument, NULL, 'r' },    { "y4m", required_argument, NULL, 'y' },
		{ "format", required_argument, NULL, 'f' }, { "size", required_argument, NULL, 'S' },
		{ "socket", required_argument, NULL, 's' }, { "model", required_argument, NULL, 'm' },
		{ "threshold", required_argument, NULL, 't' },
		{ "filter", required_argument, NULL, 'F' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "frames", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ "fourcc", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	char *end;
	int c;
	*o = (options){ .inflight = 2 };
	while ((c = getopt_long(argc, argv, "s:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 'D': o->dmabuf = 1; break;
		case 'r': o->raw = optarg; break;
		case 'y': o->y4m = optarg; break;
		case 's': o->socket = optarg; break;
		case 'm': o->model = optarg; break;
		case 'f':
			if (mnv2c_pixel_format_parse(optarg, &o->format)) {
				fprintf(stderr, "camera-loop: unknown --format '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S':
			if (parse_size(optarg, &o->width, &o->height)) {
				fprintf(stderr, "camera-loop: --size wants WxH, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			o->threshold = strtof(optarg, &end);
			if (end == optarg || *end || !(o->threshold >= 0.0f && o->threshold <= 1.0f)) {
				fprintf(stderr, "camera-loop: --threshold wants 0..1, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'F':
			if (!strcmp(optarg, "antialias") || !strcmp(optarg, "bilinear")) {
				o->filter = optarg[0] == 'a' ? MNV2C_FILTER_ANTIALIAS
							     : MNV2C_FILTER_BILINEAR;
				break;
			}
			fprintf(stderr, "camera-loop: --filter wants antialias or bilinear, not "
					"'%s'\n", optarg);
			return 2;
		case 'i':
			if (parse_uint(optarg, MAX_INFLIGHT, &v) || v == 0) {
				fprintf(stderr, "camera-loop: --inflight wants 1..%d\n", MAX_INFLIGHT);
				return 2;
			}
			o->inflight = (unsigned)v;
			break;
		case 'n':
			if (parse_uint(optarg, UINT64_MAX, &v)) {
				fprintf(stderr, "camera-loop: --frames wants a count, not '%s'\n", optarg);
				return 2;
			}
			o->max_frames = v;
			break;
		case 'c':
			if (strlen(optarg) < 1 || strlen(optarg) > 4) {
				fprintf(stderr, "camera-loop: --fourcc wants a V4L2 four-character code "
						"(NV12, NM12, YUYV...), not '%s'\n", optarg);
				return 2;
			}
			o->fourcc_name = optarg;
			for (size_t k = 0; k < 4; k++) /* short codes are padded with spaces */
				o->fourcc |= (uint32_t)(uint8_t)(k < strlen(optarg) ? optarg[k] : ' ')
					     << (8 * k);
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	int sources = !!o->device + !!o->raw + !!o->y4m;
	if (optind < argc || sources != 1) {
		fprintf(stderr, "camera-loop: %s\n", optind < argc ? "unexpected argument"
				: "give exactly one of --device, --y4m, --raw");
		usage(stderr);
		return 2;
	}
	if (o->raw && (!o->format || !o->width)) {
		fprintf(stderr, "camera-loop: --raw needs --format and --size\n");
		return 2;
	}
	if ((o->dmabuf || o->fourcc) && !o->device) {
		fprintf(stderr, "camera-loop: --dmabuf and --fourcc apply to --device only\n");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	options o;
	source src = { .vfd = -1 };
	loop L = { .src = &src };
	char err[ERR_LEN];
	mnv2c_error e;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	for (int i = 0; i < V4L2_MAX_BUFFERS; i++)
		src.export_fd[i] = -1;
	/* Ctrl-C: stop capturing, collect the answers still due, print the summary. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = 1;
	if ((o.device ? open_v4l2(&src, &o, err) : o.y4m ? open_y4m(&src, &o, err)
							  : open_raw(&src, &o, err)) ||
	    make_slots(&L, o.inflight, err)) {
		fprintf(stderr, "camera-loop: %s\n", err);
		goto out;
	}
	if (!(L.client = mnv2c_connect(o.socket, &e))) {
		fprintf(stderr, "camera-loop: %s\n", e.message);
		goto out;
	}
	mnv2c_set_timeout_ms(L.client, RECV_TIMEOUT_MS);
	rc = run(&L, &o);
out:
	mnv2c_close(L.client);
	for (unsigned i = 0; i < L.n_slots; i++)
		mnv2c_frame_free(L.slots[i].buf);
	source_close(&src);
	return rc;
}
