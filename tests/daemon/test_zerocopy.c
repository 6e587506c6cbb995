/* Integration tests of raw camera frames in mnv2d: YUV layouts through the engine's one-pass
 * path (bytes in the request, compared with the engine's own answer), regions of interest,
 * and frames passed as file descriptors (SCM_RIGHTS): memfds sealed with F_SEAL_SHRINK,
 * every rejection, and no descriptor ever kept or leaked by the daemon (its /proc/PID/fd is
 * counted). Every wait is bounded. */
#include "harness.h"
#include "test_util.h"

#include "mnv2/client.h"
#include "mnv2/engine.h"
#include "mnv2/frame.h"
#include "mnv2/preprocess.h"
#include "mnv2/tasks.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_RECV 20000
#define ST(x) MNV2__STATUS_CODE__STATUS_##x
#define PIX(x) MNV2__PIXEL_FORMAT__PIXEL_FORMAT_##x

static td_env env;

static void env_setup(void)
{
	if (td_env_new(&env))
		fprintf(stderr, "cannot create the test environment in /tmp\n");
}

static void env_teardown(void)
{
	td_env_free(&env);
}

static void start(const char *extra)
{
	ck_assert_msg(env.dir[0] && env.sock[0], "no test environment");
	if (td_start(&env, extra, NULL))
		ck_abort_msg("mnv2d did not start:\n%s", td_log(&env));
}

static void stop_clean(void)
{
	int status = -1;
	ck_assert_msg(td_stop(&env, SIGTERM, 20000, &status) == 0, "no exit:\n%s", td_log(&env));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d:\n%s",
		      status, td_log(&env));
	td_env_free(&env);
}

static int conn(void)
{
	int fd = td_connect(env.sock, 5000);
	ck_assert_msg(fd >= 0, "cannot connect:\n%s", td_log(&env));
	return fd;
}

static Mnv2__Response *recv_ok(int fd)
{
	int eof = 0;
	Mnv2__Response *r = td_recv(fd, T_RECV, &eof);
	ck_assert_msg(r != NULL, "no response (eof %d):\n%s", eof, td_log(&env));
	return r;
}

/* Packs a request as one frame; *len gets its size. */
static uint8_t *pack_frame(const Mnv2__Request *r, size_t *len)
{
	size_t n = mnv2__request__get_packed_size(r);
	uint8_t *buf = malloc(n + 4);
	ck_assert_ptr_nonnull(buf);
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	mnv2__request__pack(r, buf + 4);
	*len = n + 4;
	return buf;
}

/* sendmsg() of bytes[0, split) with nfds descriptors, then the rest plainly. */
static void send_bytes_fds(int sock, const uint8_t *b, size_t len, size_t split,
			   const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 32)];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	ck_assert_uint_le(nfds, 32);
	struct iovec iov = { (void *)b, split };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	ck_assert_msg(n > 0, "sendmsg: %s", strerror(errno));
	ck_assert_int_eq(td_write_all(sock, b + n, len - (size_t)n, 10000), 0);
}

/* The request with fd (or none when fd < 0) in the sendmsg that starts with its frame. */
static void send_fd(int sock, const Mnv2__Request *r, int fd)
{
	size_t len;
	uint8_t *b = pack_frame(r, &len);
	send_bytes_fds(sock, b, len, len, &fd, fd >= 0);
	free(b);
}

static Mnv2__Response *roundtrip_fd(int sock, const Mnv2__Request *r, int fd)
{
	send_fd(sock, r, fd);
	Mnv2__Response *resp = recv_ok(sock);
	ck_assert_uint_eq(resp->request_id, r->request_id);
	return resp;
}

static void expect(Mnv2__Response *r, Mnv2__StatusCode code, const char *needle)
{
	ck_assert_msg(r->status == code, "status %d, want %d: %s", r->status, code, r->message);
	ck_assert_msg(strstr(r->message, needle), "message '%s' lacks '%s'", r->message, needle);
	mnv2__response__free_unpacked(r, NULL);
}

/* A memfd holding len bytes at offset off (sealed against shrinking when seal). */
static int memfd_with(const void *data, size_t len, size_t off, int seals)
{
	int fd = memfd_create("frame", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)(off + len)), 0);
	ck_assert_int_eq(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
	if (seals)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

/* A Classify/Detect whose raw frame is in a descriptor. */
static void fd_request(td_image_req *q, int detect, uint64_t id, const char *model,
		       Mnv2__PixelFormat fmt, uint32_t w, uint32_t h, uint64_t off)
{
	td_raw_request(q, detect, id, model, fmt, w, h, NULL, 0);
	q->raw.has_fd = 1;
	q->raw.fd_offset = off;
}

/* A deterministic pattern of n bytes. */
static uint8_t *pattern(size_t n, uint32_t seed)
{
	uint8_t *p = malloc(n);
	for (size_t i = 0; p && i < n; i++)
		p[i] = (uint8_t)test_rand(&seed);
	return p;
}

/* What the engine answers for the classifier on this frame (stretch). */
static void engine_top(const mnv2_frame *f, const mnv2_rect *roi, size_t k,
		       mnv2_class_score *out)
{
	char path[256];
	snprintf(path, sizeof path, "%s/" TD_CLS ".tflite", env.dir);
	mnv2_error e;
	mnv2_model *m = mnv2_model_load(path, &e);
	ck_assert_msg(m != NULL, "%s", e.msg);
	mnv2_context *c = mnv2_context_create(m, &e);
	mnv2_tensor_info in;
	mnv2_model_input_info(m, 0, &in);
	size_t bytes;
	void *buf = mnv2_context_input(c, 0, &bytes);
	mnv2_preprocess_opts po = { .mode = MNV2_RESIZE_STRETCH };
	mnv2_transform tf;
	ck_assert_msg(mnv2_preprocess_frame(f, roi, &in, &po, buf, bytes, &tf, &e) == 0, "%s",
		      e.msg);
	ck_assert_int_eq(mnv2_context_run(c, &e), 0);
	ck_assert_uint_eq(mnv2_top_k(c, k, 0.0f, out), k);
	mnv2_context_free(c);
	mnv2_model_free(m);
}

static void expect_classes(Mnv2__Response *r, const mnv2_class_score *want, size_t k)
{
	ck_assert_msg(r->status == ST(OK), "%s", r->message);
	ck_assert_int_eq(r->result_case, MNV2__RESPONSE__RESULT_CLASSIFY);
	ck_assert_uint_eq(r->classify->n_classes, k);
	for (size_t i = 0; i < k; i++) {
		ck_assert_uint_eq(r->classify->classes[i]->index, want[i].index);
		ck_assert_float_eq(r->classify->classes[i]->score, want[i].score);
	}
	mnv2__response__free_unpacked(r, NULL);
}

/* The daemon's open descriptors once it is idle: waits (bounded) until the count is at
 * most want, and returns it. */
static int fds_settle(int want)
{
	int n = -1;
	for (int waited = 0; waited < 5000; waited += 20) {
		n = td_fd_count(env.pid);
		if (n <= want)
			break;
		usleep(20000);
	}
	return n;
}

/* How many of the daemon's mappings are memfds: clients' frames (named "frame" and "ring"
 * here, "mnv2c-frame" by the client library; the kernel shows "/memfd:NAME (deleted)").
 * The daemon makes no memfd of its own. */
static int memfd_maps(void)
{
	char p[64], line[512];
	snprintf(p, sizeof p, "/proc/%d/maps", (int)env.pid);
	FILE *f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	int n = 0;
	while (fgets(line, sizeof line, f))
		n += strstr(line, "/memfd:") != NULL;
	fclose(f);
	return n;
}

/* Waits (bounded) until the daemon maps none of our frames: the worker unmaps each right
 * after handing its response on, so a little after the last response. */
static int memfd_maps_settle(void)
{
	int n = -1;
	for (int waited = 0; waited < 5000; waited += 20) {
		if ((n = memfd_maps()) == 0)
			break;
		usleep(20000);
	}
	return n;
}

static int fds_idle(void)
{
	Mnv2__Response *st = td_status(env.sock);   /* the start-up probe has gone */
	ck_assert_ptr_nonnull(st);
	mnv2__response__free_unpacked(st, NULL);
	usleep(100000);
	return td_fd_count(env.pid);
}

/* ---- frames in the request's bytes ---- */

#define W 40
#define H 30
#define NV12_LEN (W * H + W * H / 2)

START_TEST(nv12_bytes_match_engine)
{
	start(NULL);
	int fd = conn();
	uint8_t *nv12 = pattern(NV12_LEN, 7);
	mnv2_frame f;
	mnv2_error e;
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV12, W, H, 0, nv12, NV12_LEN, &e), 0);
	mnv2_class_score want[3];
	engine_top(&f, NULL, 3, want);
	td_image_req q;
	td_raw_request(&q, 0, 1, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	q.opts.top_k = 3;
	expect_classes(roundtrip_fd(fd, &q.req, -1), want, 3);

	/* the same frame as explicit planes, chroma first, padded rows, BT.709 full range */
	size_t ys = 48, cs = 44, coff = 0, yoff = cs * (H / 2) + 16;
	size_t len = yoff + ys * H;
	uint8_t *buf = calloc(1, len);
	for (size_t y = 0; y < H; y++)
		memcpy(buf + yoff + y * ys, nv12 + y * W, W);
	for (size_t y = 0; y < H / 2; y++)
		memcpy(buf + coff + y * cs, nv12 + W * H + y * W, W);
	mnv2_frame g = { .format = MNV2_FRAME_NV12, .width = W, .height = H, .data = buf,
			 .len = len, .stride = { ys, cs }, .offset = { yoff, coff },
			 .range = MNV2_RANGE_FULL, .matrix = MNV2_MATRIX_BT709 };
	mnv2_rect roi = { 3, 5, 21, 17 };
	engine_top(&g, &roi, 3, want);
	Mnv2__Plane p0 = MNV2__PLANE__INIT, p1 = MNV2__PLANE__INIT;
	Mnv2__Plane *pp[2] = { &p0, &p1 };
	p0.stride = (uint32_t)ys;
	p0.offset = yoff;
	p1.stride = (uint32_t)cs;
	p1.offset = coff;
	Mnv2__Rect r = MNV2__RECT__INIT;
	r.x = 3;
	r.y = 5;
	r.width = 21;
	r.height = 17;
	td_raw_request(&q, 0, 2, TD_CLS, PIX(NV12), W, H, buf, len);
	q.raw.n_planes = 2;
	q.raw.planes = pp;
	q.raw.color_range = MNV2__COLOR_RANGE__COLOR_RANGE_FULL;
	q.raw.color_matrix = MNV2__COLOR_MATRIX__COLOR_MATRIX_BT709;
	q.opts.roi = &r;
	q.opts.top_k = 3;
	expect_classes(roundtrip_fd(fd, &q.req, -1), want, 3);

	/* detection with a region: image size and boxes are the whole frame's */
	td_raw_request(&q, 1, 3, TD_DET, PIX(NV12), W, H, nv12, NV12_LEN);
	q.opts.roi = &r;
	Mnv2__Response *d = roundtrip_fd(fd, &q.req, -1);
	ck_assert_msg(d->status == ST(OK), "%s", d->message);
	ck_assert_uint_eq(d->detect->image_width, W);
	ck_assert_uint_eq(d->detect->image_height, H);
	for (size_t i = 0; i < d->detect->n_detections; i++) {
		const Mnv2__Box *b = d->detect->detections[i]->box;
		ck_assert(b->xmin >= 3.0f - 1e-3f && b->xmax <= 24.0f + 1e-3f);
		ck_assert(b->ymin >= 5.0f - 1e-3f && b->ymax <= 22.0f + 1e-3f);
	}
	mnv2__response__free_unpacked(d, NULL);
	free(buf);
	free(nv12);
	close(fd);
	stop_clean();
}
END_TEST

START_TEST(frame_errors)
{
	start("max_image_pixels: 100000\n");
	int fd = conn();
	uint8_t *nv12 = pattern(NV12_LEN, 8);
	td_image_req q;
	Mnv2__Plane p0 = MNV2__PLANE__INIT;
	Mnv2__Plane *pp[1] = { &p0 };
	Mnv2__Rect r = MNV2__RECT__INIT;

	td_raw_request(&q, 0, 1, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN - 1);
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "plane 1 (UV)");
	td_raw_request(&q, 0, 2, TD_CLS, (Mnv2__PixelFormat)11, W, H, nv12, NV12_LEN);
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "unknown pixel format 11");
	td_raw_request(&q, 0, 3, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	q.raw.n_planes = 1;
	q.raw.planes = pp;
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "has 1 planes; it needs 2");
	td_raw_request(&q, 0, 4, TD_CLS, PIX(GRAY8), W, H, nv12, NV12_LEN);
	p0.stride = W;
	q.raw.stride = W + 1;
	q.raw.n_planes = 1;
	q.raw.planes = pp;
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "differs from plane 0");
	td_raw_request(&q, 0, 5, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	q.raw.color_range = (Mnv2__ColorRange)3;
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "color_range 3");
	td_raw_request(&q, 0, 6, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	q.raw.color_matrix = (Mnv2__ColorMatrix)7;
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "color_matrix 7");
	td_raw_request(&q, 0, 7, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	r.x = 30;
	r.width = 11;
	r.height = 1;
	q.opts.roi = &r;
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "region of interest 11x1");
	td_raw_request(&q, 0, 8, TD_CLS, PIX(YUYV), 3, 2, nv12, 100);
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "even width");
	td_raw_request(&q, 0, 9, TD_CLS, PIX(GRAY8), 400, 400, nv12, NV12_LEN);
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "over the limit");
	td_raw_request(&q, 0, 10, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	q.raw.has_fd = 1;
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "both data");
	td_raw_request(&q, 0, 11, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	q.raw.fd_offset = 4;
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "has_fd is not");
	/* an encoded image's region is checked against the decoded size */
	free(nv12);
	close(fd);
	stop_clean();
}
END_TEST

/* ---- frames in descriptors ---- */

START_TEST(memfd_frames)
{
	start(NULL);
	int base = fds_idle();
	int fd = conn();
	uint8_t *nv12 = pattern(NV12_LEN, 9);
	mnv2_frame f;
	mnv2_error e;
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV12, W, H, 0, nv12, NV12_LEN, &e), 0);
	mnv2_class_score want[3];
	engine_top(&f, NULL, 3, want);
	td_image_req q;
	/* at offset 0, and at an offset that is not page-aligned */
	static const size_t offs[] = { 0, 4096 + 100, 3 };
	for (size_t i = 0; i < 3; i++) {
		int m = memfd_with(nv12, NV12_LEN, offs[i], F_SEAL_SHRINK | (i ? F_SEAL_GROW : 0));
		fd_request(&q, 0, 10 + i, TD_CLS, PIX(NV12), W, H, offs[i]);
		q.opts.top_k = 3;
		expect_classes(roundtrip_fd(fd, &q.req, m), want, 3);
		/* the seal holds: the sender cannot shrink the frame under the daemon */
		ck_assert_int_eq(ftruncate(m, 10), -1);
		ck_assert_int_eq(errno, EPERM);
		close(m);
	}
	/* RGB888 with a region, detection */
	uint8_t *rgb = td_solid_rgb(64, 48, 255, 0, 0);
	int m = memfd_with(rgb, 64 * 48 * 3, 0, F_SEAL_SHRINK);
	fd_request(&q, 1, 20, TD_DET, PIX(RGB888), 64, 48, 0);
	Mnv2__Rect r = MNV2__RECT__INIT;
	r.x = 32;
	r.y = 24;
	r.width = 32;
	r.height = 24;
	q.opts.roi = &r;
	Mnv2__Response *d = roundtrip_fd(fd, &q.req, m);
	ck_assert_msg(d->status == ST(OK), "%s", d->message);
	ck_assert_uint_eq(d->detect->image_width, 64);
	ck_assert_uint_eq(d->detect->image_height, 48);
	ck_assert_uint_gt(d->detect->n_detections, 0);
	for (size_t i = 0; i < d->detect->n_detections; i++)
		ck_assert(d->detect->detections[i]->box->xmin >= 32.0f - 1e-3f);
	mnv2__response__free_unpacked(d, NULL);
	/* the same frame again, same descriptor (the client keeps its copy) */
	q.req.request_id = 21;
	q.opts.roi = NULL;
	d = roundtrip_fd(fd, &q.req, m);
	ck_assert_msg(d->status == ST(OK), "%s", d->message);
	mnv2__response__free_unpacked(d, NULL);
	close(m);
	free(rgb);
	free(nv12);
	ck_assert_int_eq(fds_settle(base + 1), base + 1);   /* only our connection */
	ck_assert_int_eq(memfd_maps_settle(), 0);            /* and no frame mapped */
	close(fd);
	ck_assert_int_eq(fds_settle(base), base);
	stop_clean();
}
END_TEST

START_TEST(fd_rejections)
{
	start(NULL);
	int base = fds_idle();
	int fd = conn();
	uint8_t *nv12 = pattern(NV12_LEN, 10);
	td_image_req q;
	int m;

	m = memfd_with(nv12, NV12_LEN, 0, 0);   /* not sealed */
	fd_request(&q, 0, 1, TD_CLS, PIX(NV12), W, H, 0);
	expect(roundtrip_fd(fd, &q.req, m), ST(INVALID_ARGUMENT), "not sealed with F_SEAL_SHRINK");
	close(m);
	m = memfd_with(nv12, NV12_LEN - 1, 0, F_SEAL_SHRINK);   /* too small */
	fd_request(&q, 0, 2, TD_CLS, PIX(NV12), W, H, 0);
	expect(roundtrip_fd(fd, &q.req, m), ST(INVALID_ARGUMENT), "plane 1 (UV)");
	close(m);
	m = memfd_with(nv12, NV12_LEN, 0, F_SEAL_SHRINK);
	fd_request(&q, 0, 3, TD_CLS, PIX(NV12), W, H, NV12_LEN);   /* offset past the end */
	expect(roundtrip_fd(fd, &q.req, m), ST(INVALID_ARGUMENT), "past the end");
	fd_request(&q, 0, 4, TD_CLS, PIX(NV12), W, H, 1);           /* one byte short */
	expect(roundtrip_fd(fd, &q.req, m), ST(INVALID_ARGUMENT), "holds 1799 bytes");
	/* two descriptors with one frame */
	fd_request(&q, 0, 5, TD_CLS, PIX(NV12), W, H, 0);
	size_t len;
	uint8_t *b = pack_frame(&q.req, &len);
	int two[2] = { m, m };
	send_bytes_fds(fd, b, len, len, two, 2);
	free(b);
	expect(recv_ok(fd), ST(INVALID_ARGUMENT), "2 file descriptors");
	/* a descriptor with a request that does not use one */
	td_raw_request(&q, 0, 6, TD_CLS, PIX(NV12), W, H, nv12, NV12_LEN);
	expect(roundtrip_fd(fd, &q.req, m), ST(INVALID_ARGUMENT), "does not use one");
	Mnv2__Request st;
	Mnv2__StatusRequest sr = MNV2__STATUS_REQUEST__INIT;
	td_request(&st, 7);
	st.body_case = MNV2__REQUEST__BODY_STATUS;
	st.status = &sr;
	expect(roundtrip_fd(fd, &st, m), ST(INVALID_ARGUMENT), "does not use one");
	/* has_fd without a descriptor */
	fd_request(&q, 0, 8, TD_CLS, PIX(NV12), W, H, 0);
	expect(roundtrip_fd(fd, &q.req, -1), ST(INVALID_ARGUMENT), "no file descriptor came");
	/* a descriptor in a sendmsg that starts inside the payload */
	fd_request(&q, 0, 9, TD_CLS, PIX(NV12), W, H, 0);
	b = pack_frame(&q.req, &len);
	ck_assert_int_eq(td_write_all(fd, b, 5, 5000), 0);
	usleep(20000);
	send_bytes_fds(fd, b + 5, len - 5, len - 5, &m, 1);
	free(b);
	expect(recv_ok(fd), ST(INVALID_ARGUMENT), "began inside the request's payload");
	/* not a memfd or a dmabuf: a pipe, a directory, a regular file, a socket */
	int pp[2];
	ck_assert_int_eq(pipe(pp), 0);
	fd_request(&q, 0, 10, TD_CLS, PIX(NV12), W, H, 0);
	expect(roundtrip_fd(fd, &q.req, pp[0]), ST(INVALID_ARGUMENT), "is a pipe");
	int dir = open(env.dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dir, 0);
	q.req.request_id = 11;
	expect(roundtrip_fd(fd, &q.req, dir), ST(INVALID_ARGUMENT), "is a directory");
	char path[256];
	snprintf(path, sizeof path, "%s/frame.raw", env.dir);
	int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(file, nv12, NV12_LEN), NV12_LEN);
	q.req.request_id = 12;
	expect(roundtrip_fd(fd, &q.req, file), ST(INVALID_ARGUMENT), "is a regular file");
	q.req.request_id = 13;
	expect(roundtrip_fd(fd, &q.req, fd), ST(INVALID_ARGUMENT), "is a socket");
	/* a memfd opened write-only (through /proc) cannot be mapped for reading */
	snprintf(path, sizeof path, "/proc/self/fd/%d", m);
	int wo = open(path, O_WRONLY);
	ck_assert_int_ge(wo, 0);
	q.req.request_id = 14;
	expect(roundtrip_fd(fd, &q.req, wo), ST(INVALID_ARGUMENT), "cannot map");
	close(wo);
	/* the connection still serves, and nothing was kept */
	q.req.request_id = 15;
	Mnv2__Response *ok = roundtrip_fd(fd, &q.req, m);
	ck_assert_msg(ok->status == ST(OK), "%s", ok->message);
	mnv2__response__free_unpacked(ok, NULL);
	ck_assert_int_eq(fds_settle(base + 1), base + 1);
	/* more descriptors than a recvmsg takes: the connection is closed, none kept */
	int many[20];
	for (int i = 0; i < 20; i++)
		many[i] = pp[1];
	b = pack_frame(&q.req, &len);
	send_bytes_fds(fd, b, len, len, many, 20);
	free(b);
	ck_assert(td_wait_closed(fd, 5000));
	close(fd);
	ck_assert_int_eq(fds_settle(base), base);
	ck_assert_int_eq(memfd_maps_settle(), 0);
	ck_assert(strstr(td_log(&env), "ancillary data truncated") != NULL);
	close(pp[0]);
	close(pp[1]);
	close(dir);
	close(file);
	close(m);
	free(nv12);
	stop_clean();
}
END_TEST

/* Slow requests with descriptors pile up in the queue; the client disconnects: every one is
 * dropped and closed. A full queue refuses (and closes) at once. */
START_TEST(fd_queued_disconnect_and_full)
{
	start("threads: 1\nqueue_depth: 3\nmax_inflight_per_connection: unlimited\n");
	int base = fds_idle();
	static uint8_t frame[48 * 48 * 3];
	int m = memfd_with(frame, sizeof frame, 0, F_SEAL_SHRINK);
	int fd = conn();
	td_image_req q;
	for (uint64_t id = 1; id <= 6; id++) {
		fd_request(&q, 0, id, TD_SLOW, PIX(RGB888), 48, 48, 0);
		send_fd(fd, &q.req, m);
	}
	/* one runs, three queued, two refused at once */
	int full = 0;
	for (int i = 0; i < 2; i++) {
		Mnv2__Response *r = recv_ok(fd);
		full += r->status == ST(RESOURCE_EXHAUSTED);
		mnv2__response__free_unpacked(r, NULL);
	}
	ck_assert_int_eq(full, 2);
	ck_assert_int_le(td_fd_count(env.pid), base + 1 + 4);
	close(fd);   /* the queued ones are cancelled, the running one finishes */
	ck_assert_int_eq(fds_settle(base), base);
	ck_assert_int_eq(memfd_maps_settle(), 0);

	/* deadline passed while queued: answered, descriptor closed */
	fd = conn();
	fd_request(&q, 0, 10, TD_SLOW, PIX(RGB888), 48, 48, 0);
	send_fd(fd, &q.req, m);
	fd_request(&q, 0, 11, TD_SLOW, PIX(RGB888), 48, 48, 0);
	q.req.deadline_ms = 1;
	send_fd(fd, &q.req, m);
	int deadline = 0;
	for (int i = 0; i < 2; i++) {
		Mnv2__Response *r = recv_ok(fd);
		deadline += r->status == ST(DEADLINE_EXCEEDED);
		mnv2__response__free_unpacked(r, NULL);
	}
	ck_assert_int_eq(deadline, 1);
	ck_assert_int_eq(fds_settle(base + 1), base + 1);
	ck_assert_int_eq(memfd_maps_settle(), 0);
	/* SIGTERM with descriptors queued: they still run, and the daemon exits 0 */
	for (uint64_t id = 20; id < 23; id++) {
		fd_request(&q, 0, id, TD_SLOW, PIX(RGB888), 48, 48, 0);
		send_fd(fd, &q.req, m);
	}
	usleep(50000);
	kill(env.pid, SIGTERM);
	for (int i = 0; i < 3; i++) {
		Mnv2__Response *r = recv_ok(fd);
		ck_assert_msg(r->status == ST(OK), "%s", r->message);
		mnv2__response__free_unpacked(r, NULL);
	}
	close(fd);
	close(m);
	int status = -1;
	ck_assert_int_eq(td_wait(&env, 20000, &status), 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	td_env_free(&env);
}
END_TEST

/* Many frames through one memfd ring on one connection, pipelined: every answer right,
 * nothing kept. */
START_TEST(fd_pipelined_ring)
{
	start("threads: 2\nqueue_depth: 64\nmax_inflight_per_connection: 40\n");   /* FRAMES */
	int base = fds_idle();
	enum { N = 4, FRAMES = 40 };
	size_t slot = 8192;
	int m = memfd_create("ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_eq(ftruncate(m, (off_t)(slot * N)), 0);
	ck_assert_int_eq(fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	uint8_t *ring = mmap(NULL, slot * N, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	ck_assert(ring != MAP_FAILED);
	uint8_t *nv12 = pattern(NV12_LEN, 11);
	for (int i = 0; i < N; i++)
		memcpy(ring + slot * (size_t)i, nv12, NV12_LEN);
	mnv2_frame f;
	mnv2_error e;
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV12, W, H, 0, nv12, NV12_LEN, &e), 0);
	mnv2_class_score want[1];
	engine_top(&f, NULL, 1, want);
	int fd = conn();
	for (int i = 0; i < FRAMES; i++) {
		td_image_req q;
		fd_request(&q, 0, 100 + (uint64_t)i, TD_CLS, PIX(NV12), W, H,
			   slot * (size_t)(i % N));
		send_fd(fd, &q.req, m);
	}
	int got[FRAMES] = { 0 };
	for (int i = 0; i < FRAMES; i++) {
		Mnv2__Response *r = recv_ok(fd);
		uint64_t k = r->request_id - 100;
		ck_assert_uint_lt(k, FRAMES);
		ck_assert_int_eq(got[k]++, 0);
		ck_assert_msg(r->status == ST(OK), "%s", r->message);
		ck_assert_uint_eq(r->classify->classes[0]->index, want[0].index);
		mnv2__response__free_unpacked(r, NULL);
	}
	close(fd);
	ck_assert_int_eq(fds_settle(base), base);
	ck_assert_int_eq(memfd_maps_settle(), 0);
	munmap(ring, slot * N);
	close(m);
	free(nv12);
	stop_clean();
}
END_TEST


/* libmnv2client: a sealed memfd frame buffer, blocking and pipelined descriptor calls; the
 * client keeps no duplicate once a request is sent. */
START_TEST(client_fd_api)
{
	start("threads: 2\nqueue_depth: 64\nmax_inflight_per_connection: 30\n");   /* N below */
	int base = fds_idle();
	uint8_t *nv12 = pattern(NV12_LEN, 12);
	mnv2_frame f;
	mnv2_error e;
	ck_assert_int_eq(mnv2_frame_init(&f, MNV2_FRAME_NV12, W, H, 0, nv12, NV12_LEN, &e), 0);
	mnv2_class_score want[2], want_roi[2];
	mnv2_rect roi = { 8, 4, 20, 20 };
	engine_top(&f, NULL, 2, want);
	engine_top(&f, &roi, 2, want_roi);
	ck_assert_uint_eq(mnv2c_frame_bytes(MNV2C_PIX_NV12, W, H, 0), NV12_LEN);
	mnv2c_error err;
	mnv2c_client *c = mnv2c_connect(env.sock, &err);
	ck_assert_msg(c != NULL, "%s", err.message);
	int mine = td_fd_count(getpid());
	enum { RING = 3 };
	mnv2c_frame_buf *b = mnv2c_frame_alloc(NV12_LEN * RING, &err);
	ck_assert_msg(b != NULL, "%s", err.message);
	for (int i = 0; i < RING; i++)
		memcpy((uint8_t *)b->data + (size_t)i * NV12_LEN, nv12, NV12_LEN);
	/* unsealed: the server refuses it */
	mnv2c_image geo = mnv2c_image_fd(MNV2C_PIX_NV12, W, H, 0, -1, 0);
	mnv2c_classify_result *r = NULL;
	mnv2c_options o = { .top_k = 2 };
	ck_assert_int_eq(mnv2c_classify_fd(c, b->fd, 0, &geo, &o, &r, &err),
			 MNV2C_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(strstr(err.message, "F_SEAL_SHRINK"));
	ck_assert_int_eq(mnv2c_frame_seal(b, &err), MNV2C_OK);
	ck_assert_int_eq(ftruncate(b->fd, 1), -1);   /* sealed: cannot shrink under the server */
	ck_assert_int_eq(mnv2c_classify_fd(c, b->fd, NV12_LEN, &geo, &o, &r, &err), MNV2C_OK);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(r->classes[i].index, want[i].index);
		ck_assert_float_eq(r->classes[i].score, want[i].score);
	}
	mnv2c_classify_result_free(r);
	o.roi.x = 8;
	o.roi.y = 4;
	o.roi.width = 20;
	o.roi.height = 20;
	ck_assert_int_eq(mnv2c_classify_fd(c, b->fd, 0, &geo, &o, &r, &err), MNV2C_OK);
	for (int i = 0; i < 2; i++)
		ck_assert_uint_eq(r->classes[i].index, want_roi[i].index);
	mnv2c_classify_result_free(r);
	/* pipelined through the ring, mixed with plain requests */
	o = (mnv2c_options){ .top_k = 2 };
	enum { N = 30 };
	mnv2c_image plain = mnv2c_image_raw(MNV2C_PIX_NV12, W, H, 0, nv12, NV12_LEN);
	for (int i = 0; i < N; i++) {
		mnv2c_code rc = i % 3 == 2 ? mnv2c_send(c, MNV2C_REQ_CLASSIFY, &plain, &o, NULL, &err)
					   : mnv2c_send_fd(c, MNV2C_REQ_CLASSIFY, b->fd,
							   (uint64_t)(i % RING) * NV12_LEN, &geo,
							   &o, NULL, &err);
		ck_assert_msg(rc == MNV2C_OK, "%s", err.message);
	}
	for (int i = 0; i < N; i++) {
		mnv2c_response *resp = NULL;
		ck_assert_int_eq(mnv2c_receive(c, 20000, &resp, &err), MNV2C_OK);
		ck_assert_msg(resp->status == MNV2C_OK, "%s", resp->message);
		ck_assert_uint_eq(resp->classify->classes[0].index, want[0].index);
		mnv2c_response_free(resp);
	}
	/* a detection with a region, blocking */
	mnv2c_detect_result *d = NULL;
	o.roi.width = 10;
	o.roi.height = 10;
	ck_assert_int_eq(mnv2c_detect_fd(c, b->fd, 0, &geo, &o, &d, &err), MNV2C_OK);
	ck_assert_uint_eq(d->image_width, W);
	ck_assert_uint_eq(d->image_height, H);
	mnv2c_detect_result_free(d);
	ck_assert_int_eq(td_fd_count(getpid()), mine + 1);   /* the memfd; no duplicates left */
	mnv2c_frame_free(b);
	mnv2c_close(c);
	ck_assert_int_eq(fds_settle(base), base);
	ck_assert_int_eq(memfd_maps_settle(), 0);
	free(nv12);
	stop_clean();
}
END_TEST

/* Runs a shell command line; its stdout (static buffer) and exit status. */
static const char *run_cmd(const char *cmd, int *status)
{
	static char out[8192];
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	*status = pclose(p);
	return out;
}

/* mnv2ctl --raw FILE --format nv12 --size WxH [--roi]: through a memfd, same answer as the
 * engine's. */
START_TEST(mnv2ctl_raw_file)
{
	start(NULL);
	int base = fds_idle();
	uint8_t *nv12 = pattern(NV12_LEN, 13);
	char path[256], cmd[1024];
	snprintf(path, sizeof path, "%s/frame.nv12", env.dir);
	FILE *f = fopen(path, "wb");
	ck_assert_uint_eq(fwrite(nv12, 1, NV12_LEN, f), NV12_LEN);
	fclose(f);
	mnv2_frame fr;
	mnv2_error e;
	ck_assert_int_eq(mnv2_frame_init(&fr, MNV2_FRAME_NV12, W, H, 0, nv12, NV12_LEN, &e), 0);
	mnv2_class_score want[1];
	mnv2_rect roi = { 2, 3, 30, 20 };
	int status;
	char needle[64];
	engine_top(&fr, NULL, 1, want);
	snprintf(cmd, sizeof cmd, "%s/client/mnv2ctl -s %s --json classify --raw %s --format "
		 "nv12 --size %dx%d --top 1 2>&1", td_build_dir(), env.sock, path, W, H);
	const char *out = run_cmd(cmd, &status);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
	snprintf(needle, sizeof needle, "\"index\": %u", want[0].index);
	ck_assert_msg(strstr(out, needle), "%s lacks %s", out, needle);
	engine_top(&fr, &roi, 1, want);
	snprintf(cmd, sizeof cmd, "%s/client/mnv2ctl -s %s --json classify --raw %s --format "
		 "nv12 --size %dx%d --top 1 --roi 2,3,30,20 2>&1", td_build_dir(), env.sock, path,
		 W, H);
	out = run_cmd(cmd, &status);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
	snprintf(needle, sizeof needle, "\"index\": %u", want[0].index);
	ck_assert_msg(strstr(out, needle), "%s lacks %s", out, needle);
	/* detect; the old --raw FORMAT:WxH form sends the bytes */
	snprintf(cmd, sizeof cmd, "%s/client/mnv2ctl -s %s --json detect %s --raw nv12:%dx%d "
		 "--roi 0,0,20,15 2>&1", td_build_dir(), env.sock, path, W, H);
	out = run_cmd(cmd, &status);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
	ck_assert_msg(strstr(out, "\"width\": 40, \"height\": 30"), "%s", out);
	/* a file too short for its geometry: the daemon says why */
	snprintf(cmd, sizeof cmd, "%s/client/mnv2ctl -s %s classify --raw %s --format nv12 "
		 "--size 40x31 2>&1", td_build_dir(), env.sock, path);
	out = run_cmd(cmd, &status);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "%s", out);
	ck_assert_msg(strstr(out, "INVALID_ARGUMENT") && strstr(out, "memfd holds 1800 bytes"),
		      "%s", out);
	ck_assert_int_eq(fds_settle(base), base);
	ck_assert_int_eq(memfd_maps_settle(), 0);
	free(nv12);
	stop_clean();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("zerocopy");
	struct {
		const char *name;
		const TTest *t;
	} tests[] = {
		{ "nv12_bytes", nv12_bytes_match_engine },
		{ "frame_errors", frame_errors },
		{ "memfd_frames", memfd_frames },
		{ "fd_rejections", fd_rejections },
		{ "fd_queued", fd_queued_disconnect_and_full },
		{ "fd_ring", fd_pipelined_ring },
		{ "client_fd_api", client_fd_api },
		{ "mnv2ctl_raw_file", mnv2ctl_raw_file },
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);
		tcase_set_timeout(tc, 120);
		tcase_add_unchecked_fixture(tc, env_setup, env_teardown);
		tcase_add_test(tc, tests[i].t);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
