/* dmabuf_check — mnv2d's dmabuf path against a real exporter: a V4L2 capture buffer
 * exported with VIDIOC_EXPBUF (the vivid test driver, in the guest of scripts/vm-test.sh).
 *
 * usage: dmabuf_check SOCKET /dev/videoN
 * Captures one YUYV 640x360 frame into an MMAP buffer, exports it as a dmabuf and asks the
 * daemon to detect on it:
 *  - as the frame it is: answered OK, image size 640x360;
 *  - declared larger than the buffer (1920x1080): INVALID_ARGUMENT naming the dmabuf;
 *  - at an offset past its end: INVALID_ARGUMENT;
 *  - with a region of interest: OK.
 * Prints PASS/FAIL per case; exit 0 when all pass, 1 otherwise, 77 when the device cannot
 * give a single-planar YUYV capture (nothing to check). */
#include "mnv2/client.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define W 640
#define H 360

static int failures;

static void expect(const char *what, int ok, const char *detail)
{
	printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", what, detail ? ": " : "", detail ? detail : "");
	failures += !ok;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int rc;
	while ((rc = ioctl(fd, req, arg)) < 0 && errno == EINTR)
		;
	return rc;
}

/* One YUYV W x H frame captured into buffer 0, exported: the dmabuf, or -1. */
static int capture_dmabuf(int v, uint32_t *bytes)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	f.fmt.pix.width = W;
	f.fmt.pix.height = H;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (xioctl(v, VIDIOC_S_FMT, &f) || f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV ||
	    f.fmt.pix.width != W || f.fmt.pix.height != H || f.fmt.pix.bytesperline != 2 * W)
		return -1;
	struct v4l2_requestbuffers rb = { .count = 1, .type = f.type, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_buffer b = { .index = 0, .type = f.type, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_exportbuffer e = { .type = f.type, .index = 0, .flags = O_RDONLY | O_CLOEXEC };
	int type = (int)f.type;
	if (xioctl(v, VIDIOC_REQBUFS, &rb) || rb.count < 1 || xioctl(v, VIDIOC_QBUF, &b) ||
	    xioctl(v, VIDIOC_STREAMON, &type) || xioctl(v, VIDIOC_DQBUF, &b) ||
	    xioctl(v, VIDIOC_EXPBUF, &e))
		return -1;
	*bytes = b.length;
	return e.fd;
}

/* A detect on the dmabuf declared as a YUYV w x h frame at off; roi_quarter asks about
 * the middle half of the frame only. */
static mnv2c_code detect(mnv2c_client *c, int fd, uint64_t off, uint32_t w, uint32_t h,
			 int roi_quarter, mnv2c_detect_result **res, mnv2c_error *err)
{
	mnv2c_image g = mnv2c_image_fd(MNV2C_PIX_YUYV, w, h, 0, fd, off);
	mnv2c_options o = { 0 };
	if (roi_quarter) {
		o.roi.x = w / 4;
		o.roi.y = h / 4;
		o.roi.width = w / 2;
		o.roi.height = h / 2;
	}
	return mnv2c_detect_fd(c, fd, off, &g, &o, res, err);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: dmabuf_check SOCKET /dev/videoN\n");
		return 2;
	}
	int v = open(argv[2], O_RDWR | O_CLOEXEC);
	uint32_t bytes = 0;
	int dmabuf = v < 0 ? -1 : capture_dmabuf(v, &bytes);
	if (dmabuf < 0) {
		printf("SKIP %s: no single-planar YUYV %dx%d capture with EXPBUF (%s)\n", argv[2],
		       W, H, strerror(errno));
		return 77;
	}
	mnv2c_error err;
	mnv2c_client *c = mnv2c_connect(argv[1], &err);
	if (!c) {
		printf("FAIL connect: %s\n", err.message);
		return 1;
	}
	mnv2c_detect_result *r = NULL;
	char msg[600];
	mnv2c_code st = detect(c, dmabuf, 0, W, H, 0, &r, &err);
	snprintf(msg, sizeof msg, "%s", st ? err.message : "");
	expect("dmabuf frame answered OK", st == MNV2C_OK && r && r->image_width == W &&
	       r->image_height == H, st ? msg : NULL);
	mnv2c_detect_result_free(r);
	r = NULL;
	st = detect(c, dmabuf, 0, 1920, 1080, 0, &r, &err);
	snprintf(msg, sizeof msg, "%s", st ? err.message : "answered OK");
	expect("a frame larger than the dmabuf is INVALID_ARGUMENT",
	       st == MNV2C_INVALID_ARGUMENT && strstr(err.message, "dmabuf"), msg);
	mnv2c_detect_result_free(r);
	r = NULL;
	st = detect(c, dmabuf, (uint64_t)bytes + 4096, W, H, 0, &r, &err);
	snprintf(msg, sizeof msg, "%s", st ? err.message : "answered OK");
	expect("an offset past the dmabuf's end is INVALID_ARGUMENT",
	       st == MNV2C_INVALID_ARGUMENT, msg);
	mnv2c_detect_result_free(r);
	r = NULL;
	st = detect(c, dmabuf, 0, W, H, 1, &r, &err);
	snprintf(msg, sizeof msg, "%s", st ? err.message : "");
	expect("dmabuf frame with a region answered OK", st == MNV2C_OK, st ? msg : NULL);
	mnv2c_detect_result_free(r);
	mnv2c_close(c);
	close(dmabuf);
	close(v);
	return failures ? 1 : 0;
}
