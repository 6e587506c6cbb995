/* dmabuf_check — mnv2d's dmabuf path against a real exporter: a V4L2 capture buffer
 * exported with VIDIOC_EXPBUF (the vivid test driver, in the guest of scripts/vm-test.sh).
 *
 * usage: dmabuf_check SOCKET /dev/videoN
 * Captures one YUYV 640x360 frame into an MMAP buffer, exports it as a dmabuf and asks the
 * daemon to detect on it:
 *  - as the frame it is: answered OK, image size 640x360;
 *  - declared larger than the buffer (1920x1080): INVALID_ARGUMENT naming the dmabuf;
 *  - at an offset past its end: INVALID_ARGUMENT;
 *  - with a region of interest: OK;
 *  - the same pixels copied into a sealed memfd: exactly the same detections.
 * Prints PASS/FAIL per case; exit 0 when all pass, 1 otherwise (a failing ioctl too), 77
 * when the device offers no single-planar YUYV 640x360 capture (nothing to check; the
 * guest's vivid does, so tests/vm/inside.sh counts that as a failure). */
#include "mnv2/client.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

/* One YUYV W x H frame captured into buffer 0, exported: the dmabuf; -2 when the device
 * has no such format (nothing to check), -1 when an ioctl fails (*what says which).
 * *mapped gets the buffer mapped read-only (MAP_FAILED when it cannot be). */
static int capture_dmabuf(int v, uint32_t *bytes, const uint8_t **mapped, const char **what)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	f.fmt.pix.width = W;
	f.fmt.pix.height = H;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (xioctl(v, VIDIOC_S_FMT, &f) || f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV ||
	    f.fmt.pix.width != W || f.fmt.pix.height != H || f.fmt.pix.bytesperline != 2 * W)
		return -2;
	struct v4l2_requestbuffers rb = { .count = 1, .type = f.type, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_buffer b = { .index = 0, .type = f.type, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_exportbuffer e = { .type = f.type, .index = 0, .flags = O_RDONLY | O_CLOEXEC };
	int type = (int)f.type;
	const struct {
		unsigned long req;
		void *arg;
		const char *name;
	} steps[] = { /* one buffer, queued, streamed, filled, exported */
		{ VIDIOC_REQBUFS, &rb, "VIDIOC_REQBUFS" }, { VIDIOC_QBUF, &b, "VIDIOC_QBUF" },
		{ VIDIOC_STREAMON, &type, "VIDIOC_STREAMON" }, { VIDIOC_DQBUF, &b, "VIDIOC_DQBUF" },
		{ VIDIOC_EXPBUF, &e, "VIDIOC_EXPBUF" },
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (xioctl(v, steps[i].req, steps[i].arg)) {
			*what = steps[i].name;
			return -1;
		}
	*bytes = b.length;
	*mapped = mmap(NULL, b.length, PROT_READ, MAP_SHARED, v, b.m.offset);
	return e.fd;
}

/* The same pixels as a sealed memfd and as the dmabuf must give the same detections, to
 * the bit: the daemon read the dmabuf's bytes, not something else. */
static void compare_with_memfd(mnv2c_client *c, int dmabuf, const uint8_t *px, size_t n)
{
	mnv2c_error err;
	mnv2c_frame_buf *fb = mnv2c_frame_alloc(n, &err);
	if (!fb) {
		expect("memfd copy", 0, err.message);
		return;
	}
	memcpy(fb->data, px, n);
	mnv2c_image g = mnv2c_image_fd(MNV2C_PIX_YUYV, W, H, 0, fb->fd, 0);
	mnv2c_options o = { .score_threshold = 0.01f, .max_detections = 50 };
	mnv2c_detect_result *a = NULL, *b = NULL;
	mnv2c_code st = mnv2c_frame_seal(fb, &err);
	if (st == MNV2C_OK)
		st = mnv2c_detect_fd(c, fb->fd, 0, &g, &o, &a, &err);
	g.fd = dmabuf;
	if (st == MNV2C_OK)
		st = mnv2c_detect_fd(c, dmabuf, 0, &g, &o, &b, &err);
	int same = st == MNV2C_OK && a->n_detections == b->n_detections && a->n_detections > 0;
	for (size_t i = 0; same && i < a->n_detections; i++) {
		const mnv2c_detection *x = &a->detections[i], *y = &b->detections[i];
		same = x->class_id == y->class_id && x->score == y->score &&
		       !memcmp(&x->box, &y->box, sizeof x->box);
	}
	char msg[600];
	snprintf(msg, sizeof msg, "%s%zu detections at threshold 0.01", st ? err.message : "",
		 st ? (size_t)0 : a->n_detections);
	expect("the dmabuf and a memfd copy of it give the same detections", same, msg);
	mnv2c_detect_result_free(a);
	mnv2c_detect_result_free(b);
	mnv2c_frame_free(fb);
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
	if (v < 0) {
		printf("FAIL cannot open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	uint32_t bytes = 0;
	const uint8_t *px = MAP_FAILED;
	const char *what = "";
	int dmabuf = capture_dmabuf(v, &bytes, &px, &what);
	if (dmabuf == -2) {
		printf("SKIP %s: no single-planar YUYV %dx%d capture\n", argv[2], W, H);
		return 77;
	}
	if (dmabuf < 0) {
		printf("FAIL %s: %s: %s\n", argv[2], what, strerror(errno));
		return 1;
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
	if (px != MAP_FAILED) {
		compare_with_memfd(c, dmabuf, px, (size_t)2 * W * H);
		munmap((void *)px, bytes);
	} else {
		expect("the V4L2 buffer maps for the memfd comparison", 0, strerror(errno));
	}
	mnv2c_close(c);
	close(dmabuf);
	close(v);
	return failures ? 1 : 0;
}
