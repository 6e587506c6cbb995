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
 * the achieved frame rate (and how many damaged frames a V4L2 driver flagged and this
 * dropped). Exit status: 0 when every frame was answered OK; 1 on any error
 * (bad input, a failed request, lost connection); 2 on bad usage.
 */
#include "mnv2/client.h"
#include "v4l2_capture.h"
#include "y4m.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 16 /* the driver gets MAX_INFLIGHT + 2 <= V4L2CAP_MAX_BUFFERS */
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

/* Where frames come from. next() fills a free slot: 1 a frame, 0 the end, -1 an error. */
typedef struct source {
	mnv2c_image geometry; /* format, size, stride, colour: what every request describes */
	size_t frame_bytes;
	int (*next)(struct source *s, slot *sl, uint64_t index, char *err);
	FILE *file;
	y4m_info y4m;
	v4l2cap cam;
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

/* ---- V4L2 capture (v4l2_capture.c) -------------------------------------------------- */

static int v4l2_next(source *s, slot *sl, uint64_t index, char *err)
{
	unsigned b;
	char why[V4L2CAP_ERR_LEN];
	int rc;
	while ((rc = v4l2cap_next(&s->cam, &b, why)) == 0 && !stop_requested)
		; /* a signal other than a stop: wait on */
	if (rc <= 0)
		return rc == 0 ? 0 : fail(err, "frame %llu: %s", (unsigned long long)index, why);
	if (s->cam.dmabuf) { /* zero-copy: the driver's buffer itself; queued after the answer */
		sl->fd = v4l2cap_dmabuf(&s->cam, b, &sl->fd_offset);
		sl->v4l2_index = (int)b;
		return 1;
	}
	/* MMAP: one copy into this slot's sealed memfd, and the buffer goes straight back. */
	v4l2cap_copy(&s->cam, b, sl->buf->data);
	if (v4l2cap_queue(&s->cam, b))
		return fail(err, "frame %llu: VIDIOC_QBUF: %s", (unsigned long long)index,
			    strerror(errno));
	return 1;
}

static int open_v4l2(source *s, const options *o, char *err)
{
	v4l2cap_options vo = { .device = o->device, .width = o->width, .height = o->height,
			       .fourcc = o->fourcc, .fourcc_name = o->fourcc_name,
			       .buffers = o->inflight + 2, .dmabuf = o->dmabuf,
			       .max_frame_bytes = MAX_FRAME_BYTES };
	char why[V4L2CAP_ERR_LEN];
	if (v4l2cap_open(&s->cam, &vo, why))
		return fail(err, "%s", why);
	s->geometry = s->cam.geometry;
	s->frame_bytes = s->cam.frame_bytes;
	fprintf(stderr, "camera-loop: %s: %s %ux%u, stride %u%s\n", o->device,
		mnv2c_pixel_format_name(s->geometry.format), s->geometry.width,
		s->geometry.height, s->geometry.stride,
		s->cam.n_planes > 1 ? ", planes in separate buffers" : "");
	s->next = v4l2_next;
	return 0;
}

static void source_close(source *s)
{
	if (s->file)
		fclose(s->file);
	v4l2cap_close(&s->cam);
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
	/* dmabuf: the driver's buffer goes back once its answer is in */
	if (sl->v4l2_index >= 0 && v4l2cap_queue(&L->src->cam, (unsigned)sl->v4l2_index))
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
		if (L->src->cam.dmabuf)
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
	if (L->src->cam.dropped)
		printf("camera-loop: %llu damaged frames dropped (V4L2_BUF_FLAG_ERROR)\n",
		       (unsigned long long)L->src->cam.dropped);
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
			o->fourcc = 0; /* the last --fourcc counts */
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
	source src = { 0 };
	loop L = { .src = &src };
	char err[ERR_LEN];
	mnv2c_error e;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	v4l2cap_init(&src.cam);
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
