/* v4l2_capture — frames from a V4L2 capture device, for camera-loop: single- or
 * multi-planar devices (the MPLANE API of SoC camera pipelines), MMAP buffers that are
 * either mapped here (the caller copies each frame out) or exported as dmabufs (the caller
 * sends the driver's buffer itself). libc and the kernel's UAPI headers only.
 *
 * Contract:
 *  - v4l2cap_open() opens the device, picks a format the daemon reads (o->fourcc, or the
 *    best the device offers: NV12, NM12, NV21, NM21, YU12, YM12, YUYV, UYVY, RGB3, BGR3,
 *    GREY; with dmabuf only formats in one buffer), sets it, gets o->buffers buffers,
 *    maps or exports them, queues them all and starts streaming. c->geometry describes
 *    every frame (fd -1: the caller sets the descriptor): format, size, stride, colour,
 *    and for formats with planes in separate buffers (NM12, YM12) each plane's stride and
 *    offset in the copied frame, which is c->frame_bytes long.
 *  - Every size the driver reports is checked: a buffer plane shorter than the frame's
 *    share, or a dequeued one whose bytesused/data_offset do not cover it, is an error.
 *  - v4l2cap_next() waits for a filled buffer: 1 with its index, 0 when interrupted by a
 *    signal, -1 on error (a short buffer goes straight back to the driver). A buffer the
 *    driver flags V4L2_BUF_FLAG_ERROR is given back and counted in c->dropped, and the
 *    wait goes on.
 *  - A filled buffer is the caller's until v4l2cap_queue() gives it back: copy it out with
 *    v4l2cap_copy() and queue it at once, or (dmabuf) send v4l2cap_dmabuf()'s descriptor
 *    and offset and queue it after the answer.
 *  - v4l2cap_close() stops streaming and releases every mapping and descriptor; it is safe
 *    on a structure v4l2cap_init() set up, opened or not.
 *  - Errors fill err (at most V4L2CAP_ERR_LEN bytes: what, which device, why); nothing is
 *    printed. */
#ifndef MNV2_EXAMPLES_V4L2_CAPTURE_H
#define MNV2_EXAMPLES_V4L2_CAPTURE_H

#include "mnv2/client.h"

#include <linux/videodev2.h>
#include <stddef.h>
#include <stdint.h>

#define V4L2CAP_MAX_BUFFERS 32
#define V4L2CAP_ERR_LEN 512

typedef struct v4l2cap_options {
	const char *device;
	uint32_t width, height;  /* asked for; the driver may round them (0: 1280x720) */
	uint32_t fourcc;         /* 0: the best format offered */
	const char *fourcc_name; /* for messages */
	unsigned buffers;        /* 2..V4L2CAP_MAX_BUFFERS */
	int dmabuf;
	size_t max_frame_bytes;  /* larger frames are refused */
} v4l2cap_options;

typedef struct v4l2cap {
	int fd, dmabuf;
	uint32_t buftype;        /* V4L2_BUF_TYPE_VIDEO_CAPTURE or ..._CAPTURE_MPLANE */
	unsigned n_bufs, n_planes;
	mnv2c_image geometry;
	size_t frame_bytes;
	size_t plane_bytes[VIDEO_MAX_PLANES];                  /* each plane's share */
	void *map[V4L2CAP_MAX_BUFFERS][VIDEO_MAX_PLANES];
	size_t map_len[V4L2CAP_MAX_BUFFERS][VIDEO_MAX_PLANES];
	uint32_t data_offset[V4L2CAP_MAX_BUFFERS][VIDEO_MAX_PLANES]; /* of the last dequeue */
	int export_fd[V4L2CAP_MAX_BUFFERS];
	uint64_t dropped;        /* frames the driver flagged V4L2_BUF_FLAG_ERROR */
} v4l2cap;

void v4l2cap_init(v4l2cap *c);
int v4l2cap_open(v4l2cap *c, const v4l2cap_options *o, char *err);
int v4l2cap_next(v4l2cap *c, unsigned *index, char *err);
void v4l2cap_copy(const v4l2cap *c, unsigned index, uint8_t *dst);
int v4l2cap_dmabuf(const v4l2cap *c, unsigned index, uint64_t *fd_offset);
int v4l2cap_queue(v4l2cap *c, unsigned index);
void v4l2cap_close(v4l2cap *c);

#endif
