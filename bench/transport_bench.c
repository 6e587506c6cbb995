/* transport_bench — what it costs to get a 1920x1080 NV12 camera frame into mnv2d's SSD
 * detector, per stage, for three ways of sending it:
 *   memfd  the frame in a sealed memfd, passed with SCM_RIGHTS (mnv2c_detect_fd): no pixel
 *          crosses the socket; the daemon maps it and converts + resizes in one pass;
 *   memfd_bilinear  the same with the bilinear filter (mnv2c_options.filter): 2 x 2 taps
 *          per output pixel instead of the antialias filter's every source pixel;
 *   png    what a client without the fd path would do: NV12 -> RGB, PNG-encode (both timed
 *          on the client's side, separately), send the bytes (mnv2c_detect); the daemon
 *          decodes the PNG, then resizes.
 * Each iteration runs all three against one daemon, so drifting machine speed hits all
 * alike, in an order where each way follows each other way equally often (see main()).
 * Stages come from the daemon's timing breakdown in each response (queue, decode,
 * preprocess, inference, postprocess, total); "transport" is the client's round
 * trip minus the daemon's total (socket, protobuf, descriptor passing, wake-ups). The
 * figure of merit is (transport + decode + preprocess) / inference: issue 7 wants it below
 * 10% for the memfd path.
 *
 * usage: transport_bench [--iterations N] [--warmup N] [--image FILE] [--model TFLITE]
 *                        [--mnv2d EXE | --socket PATH] [--json]
 * Without --socket it starts EXE (default: this build's daemon/mnv2d) on a temporary socket
 * with one worker and one intra-op thread, serving only the model (default
 * models/data/mobilenet_ssd_v2_coco_quant_postprocess.tflite, else ../shared/models), and
 * stops it at the end. The frame is the image (default models/data/kite_and_cold.jpg) resized
 * to 1920x1080 with ±2 sensor-like noise, converted to NV12 (BT.601 limited) here. A
 * measurement, never a test. */
#include "mnv2/client.h"
#include "mnv2/draw.h"
#include "mnv2/frame.h"
#include "mnv2/image.h"
#include "mnv2/preprocess.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MNV2_SOURCE_DIR
#define MNV2_SOURCE_DIR "."
#endif
#ifndef MNV2_BUILD_DIR
#define MNV2_BUILD_DIR "build"
#endif
#ifndef MNV2_SHARED_DIR
#define MNV2_SHARED_DIR "../shared"
#endif

#define FW 1920
#define FH 1080
#define MODEL_NAME "ssd"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "transport_bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static const char *first_readable(const char *a, const char *b)
{
	return access(a, R_OK) == 0 ? a : access(b, R_OK) == 0 ? b : NULL;
}

/* ---- the frame ---- */

static uint8_t clamp8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5); }

static uint8_t *make_rgb(const char *image)
{
	uint8_t *rgb = malloc((size_t)FW * FH * 3);
	mnv2_image img;
	char err[MNV2_IMAGE_ERR_LEN];
	mnv2_error e;
	uint32_t seed = 12345;
	if (!rgb)
		die("out of memory");
	if (image && mnv2_image_load_file(image, NULL, &img, err, sizeof err) == 0) {
		mnv2_rgb_view v = { img.data, img.width, img.height, img.stride };
		if (mnv2_resize_rgb(&v, 0, 0, img.width, img.height, rgb, FW, FH, (size_t)FW * 3, &e))
			die("resize: %s", e.msg);
		mnv2_image_free(&img);
	} else {
		fprintf(stderr, "transport_bench: %s: no image, a synthetic frame instead\n",
			image ? image : "(none)");
		for (uint32_t y = 0; y < FH; y++)
			for (uint32_t x = 0; x < FW; x++) {
				uint8_t *p = rgb + ((size_t)y * FW + x) * 3;
				p[0] = (uint8_t)(x * 255 / FW);
				p[1] = (uint8_t)(y * 255 / FH);
				p[2] = (uint8_t)((x ^ y) & 255);
			}
	}
	for (size_t i = 0; i < (size_t)FW * FH * 3; i++) { /* sensor-like noise, ±2 */
		seed = seed * 1103515245u + 12345u;
		rgb[i] = clamp8(rgb[i] + (int)((seed >> 16) % 5) - 2);
	}
	return rgb;
}

/* BT.601 limited range, chroma from the top-left pixel of each 2x2 block. */
static void rgb_to_nv12(const uint8_t *rgb, uint8_t *nv12)
{
	uint8_t *uv = nv12 + (size_t)FW * FH;
	for (uint32_t y = 0; y < FH; y++)
		for (uint32_t x = 0; x < FW; x++) {
			const uint8_t *p = rgb + ((size_t)y * FW + x) * 3;
			double Y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
			nv12[(size_t)y * FW + x] = clamp8(16 + Y * 219 / 255);
			if (!(x & 1) && !(y & 1)) {
				uint8_t *c = uv + (size_t)(y / 2) * FW + (size_t)(x / 2) * 2;
				c[0] = clamp8(128 + (p[2] - Y) / 1.772 * 224 / 255);
				c[1] = clamp8(128 + (p[0] - Y) / 1.402 * 224 / 255);
			}
		}
}

/* ---- the daemon ---- */

typedef struct daemon_proc {
	char dir[64], sock[128];
	pid_t pid;
} daemon_proc;

static void start_daemon(daemon_proc *d, const char *exe, const char *model)
{
	char cfg[256], log[256];
	snprintf(d->dir, sizeof d->dir, "/tmp/mnv2-transport-XXXXXX");
	if (!mkdtemp(d->dir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(d->sock, sizeof d->sock, "%s/s.sock", d->dir);
	snprintf(cfg, sizeof cfg, "%s/c.yaml", d->dir);
	snprintf(log, sizeof log, "%s/log", d->dir);
	FILE *f = fopen(cfg, "w");
	if (!f)
		die("%s: %s", cfg, strerror(errno));
	fprintf(f, "socket: %s\nthreads: 1\nintra_op_threads: 1\nlog_level: warn\n"
		   "models:\n  - name: " MODEL_NAME "\n    path: %s\n    kind: detector\n",
		d->sock, model);
	fclose(f);
	d->pid = fork();
	if (d->pid < 0)
		die("fork: %s", strerror(errno));
	if (d->pid == 0) {
		if (!freopen(log, "w", stderr))
			_exit(126);
		execl(exe, exe, "-c", cfg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) { /* up to 30 s for the model to load */
		struct stat st;
		if (stat(d->sock, &st) == 0) {
			mnv2c_error e;
			mnv2c_client *c = mnv2c_connect(d->sock, &e);
			if (c) {
				mnv2c_close(c);
				return;
			}
		}
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			die("%s exited; see %s", exe, log);
		usleep(100000);
	}
	die("%s did not start; see %s", exe, log);
}

static void stop_daemon(daemon_proc *d)
{
	char p[256];
	kill(d->pid, SIGTERM);
	waitpid(d->pid, NULL, 0);
	snprintf(p, sizeof p, "%s/c.yaml", d->dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/log", d->dir);
	unlink(p);
	rmdir(d->dir);
}

/* ---- measurements ---- */

enum { S_COPY, S_CONVERT, S_ENCODE, S_RTT, S_TRANSPORT, S_QUEUE, S_DECODE, S_PRE, S_INFER,
       S_POST, S_TOTAL, S_RATIO, N_STAGES };
static const char *stage_names[N_STAGES] = {
	"client_copy_into_memfd", "client_nv12_to_rgb", "client_png_encode", "round_trip",
	"transport", "queue", "decode", "preprocess", "inference", "postprocess",
	"daemon_total", "ratio",
};

typedef struct series {
	double *v[N_STAGES];
	int n;
} series;

static void record(series *s, int i, double copy, double conv, double enc, double rtt,
		   const mnv2c_timing *t)
{
	double total = (double)t->total_us;
	double transport = rtt - total;
	double vals[N_STAGES] = { copy, conv, enc, rtt, transport, (double)t->queue_us,
				  (double)t->decode_us, (double)t->preprocess_us,
				  (double)t->inference_us, (double)t->postprocess_us, total, 0 };
	vals[S_RATIO] = (conv + enc + transport + vals[S_DECODE] + vals[S_PRE]) / vals[S_INFER];
	for (int k = 0; k < N_STAGES; k++)
		s->v[k][i] = vals[k];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void check_detect(mnv2c_code rc, const mnv2c_error *e)
{
	if (rc != MNV2C_OK)
		die("detect: %s", e->message);
}

/* memfd with the default (antialias) filter, memfd with bilinear, PNG */
enum { MEM, MEM_BILINEAR, PNG, N_WAYS };
static const char *const way_names[N_WAYS] = { "memfd", "memfd_bilinear", "png" };

/* What one request needs: the connection, the frame (memfd and plain) and its RGB. */
typedef struct rig {
	mnv2c_client *c;
	mnv2c_frame_buf *fb;
	const uint8_t *nv12;
	size_t nv12_len;
	const mnv2c_image *geom;
	const mnv2_frame *frame;
	const mnv2_image *back;
	uint8_t *rgb;
	mnv2c_options opt[N_WAYS];
} rig;

/* One detect, recorded as iteration i of s (s NULL: warm-up): through the memfd, the copy
 * into it timed (what a V4L2 MMAP capture costs; dmabuf: none — reported, not counted in
 * the ratio); or as PNG, the client's conversion and encoding timed, *png_bytes set.
 * Returns the number of detections. */
static size_t one_request(rig *g, int png, const mnv2c_options *opt, series *s, int i,
			  size_t *png_bytes)
{
	mnv2c_detect_result *r = NULL;
	mnv2c_error e;
	double copy = 0, conv = 0, encode = 0, t0, rtt;
	uint8_t *enc = NULL;
	if (!png) {
		t0 = now_us();
		memcpy(g->fb->data, g->nv12, g->nv12_len);
		copy = now_us() - t0;
		t0 = now_us();
		check_detect(mnv2c_detect_fd(g->c, g->fb->fd, 0, g->geom, opt, &r, &e), &e);
		rtt = now_us() - t0;
	} else {
		char err[256];
		mnv2_error fe;
		size_t enc_len = 0;
		t0 = now_us();
		if (mnv2_frame_to_rgb(g->frame, NULL, g->rgb, (size_t)FW * 3, &fe))
			die("to RGB: %s", fe.msg);
		conv = now_us() - t0;
		t0 = now_us();
		if (mnv2_png_encode(g->back, &enc, &enc_len, err, sizeof err))
			die("%s", err);
		encode = now_us() - t0;
		mnv2c_image pimg = mnv2c_image_encoded(enc, enc_len);
		t0 = now_us();
		check_detect(mnv2c_detect(g->c, &pimg, opt, &r, &e), &e);
		rtt = now_us() - t0;
		*png_bytes = enc_len;
	}
	if (s)
		record(s, i, copy, conv, encode, rtt, &r->timing);
	size_t n = r->n_detections;
	mnv2c_detect_result_free(r);
	free(enc);
	return n;
}

int main(int argc, char **argv)
{
	int iterations = 30, warmup = 3, json = 0;
	const char *image = NULL, *model = NULL, *exe = MNV2_BUILD_DIR "/daemon/mnv2d",
		   *socket = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--json"))
			json = 1;
		else if (v && !strcmp(a, "--iterations") && (iterations = atoi(v)) > 0)
			i++;
		else if (v && !strcmp(a, "--warmup") && (warmup = atoi(v)) >= 0)
			i++;
		else if (v && !strcmp(a, "--image"))
			image = argv[++i];
		else if (v && !strcmp(a, "--model"))
			model = argv[++i];
		else if (v && !strcmp(a, "--mnv2d"))
			exe = argv[++i];
		else if (v && !strcmp(a, "--socket"))
			socket = argv[++i];
		else {
			fprintf(stderr, "usage: transport_bench [--iterations N] [--warmup N] "
					"[--image FILE] [--model TFLITE] [--mnv2d EXE | --socket PATH] "
					"[--json]\n");
			return 2;
		}
	}
	if (!image)
		image = first_readable(MNV2_SOURCE_DIR "/models/data/kite_and_cold.jpg",
				       MNV2_SHARED_DIR "/images/kite_and_cold.jpg");
	if (!model && !socket)
		model = first_readable(
			MNV2_SOURCE_DIR "/models/data/mobilenet_ssd_v2_coco_quant_postprocess.tflite",
			MNV2_SHARED_DIR "/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite");
	if (!model && !socket)
		die("no SSD model: fetch it (models/README.md) or give --model");

	/* The frame, as a camera would leave it: NV12 in a sealed memfd. */
	uint8_t *rgb = make_rgb(image);
	size_t nv12_len = (size_t)FW * FH * 3 / 2;
	uint8_t *nv12 = malloc(nv12_len);
	mnv2c_error e;
	mnv2c_frame_buf *fb = mnv2c_frame_alloc(nv12_len, &e);
	if (!nv12 || !fb || mnv2c_frame_seal(fb, &e) != MNV2C_OK)
		die("frame buffer: %s", fb ? e.message : "out of memory");
	rgb_to_nv12(rgb, nv12);
	memcpy(fb->data, nv12, nv12_len);
	mnv2c_image geom = mnv2c_image_fd(MNV2C_PIX_NV12, FW, FH, 0, -1, 0);
	mnv2_frame frame;
	mnv2_error fe;
	if (mnv2_frame_init(&frame, MNV2_FRAME_NV12, FW, FH, 0, nv12, nv12_len, &fe))
		die("frame: %s", fe.msg);
	mnv2_image back = { FW, FH, (size_t)FW * 3, rgb }; /* the client's RGB for PNG */

	daemon_proc d = { .pid = -1 };
	if (!socket) {
		start_daemon(&d, exe, model);
		socket = d.sock;
	}
	mnv2c_client *c = mnv2c_connect(socket, &e);
	if (!c)
		die("%s", e.message);
	mnv2c_options opt = { .model = socket == d.sock ? MODEL_NAME : NULL };

	series ser[N_WAYS];
	memset(ser, 0, sizeof ser);
	for (int w = 0; w < N_WAYS; w++)
		for (int k = 0; k < N_STAGES; k++)
			if (!(ser[w].v[k] = calloc((size_t)iterations, sizeof(double))))
				die("out of memory");
	mnv2c_options opt_bl = opt;
	opt_bl.filter = MNV2C_FILTER_BILINEAR;
	size_t png_bytes = 0, n_det = 0, n_det_bl = 0;
	rig g = { c, fb, nv12, nv12_len, &geom, &frame, &back, rgb, { opt, opt_bl, opt } };
	/* Alternating M B P and M P B makes the request stream M B P M P B M B P ..., in which
	 * each way follows each other way equally often: what the previous request left in
	 * the caches (a PNG decode evicts everything) hits all three alike. */
	static const int order[2][N_WAYS] = { { MEM, MEM_BILINEAR, PNG },
					      { MEM, PNG, MEM_BILINEAR } };
	for (int i = -warmup; i < iterations; i++)
		for (int j = 0; j < N_WAYS; j++) {
			int w = order[(i + warmup) & 1][j];
			size_t n = one_request(&g, w == PNG, &g.opt[w], i >= 0 ? &ser[w] : NULL, i,
					       &png_bytes);
			if (w == MEM)
				n_det = n;
			else if (w == MEM_BILINEAR)
				n_det_bl = n;
		}
	mnv2c_close(c);
	if (d.pid > 0)
		stop_daemon(&d);

	double med[N_WAYS][N_STAGES], rom[N_WAYS];
	for (int w = 0; w < N_WAYS; w++) {
		for (int k = 0; k < N_STAGES; k++)
			med[w][k] = median(ser[w].v[k], iterations);
		/* The ratio of the stages' medians too: a loaded machine makes the per-request
		 * ratio vary (one slow inference, one slow preprocess), and the two differ. */
		const double *m = med[w];
		rom[w] = (m[S_CONVERT] + m[S_ENCODE] + m[S_TRANSPORT] + m[S_DECODE] + m[S_PRE]) /
			 m[S_INFER];
	}
	char date[32];
	time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	struct utsname u;
	uname(&u);
	if (json) {
		printf("{\"bench\":\"transport\",\"date\":\"%s\",\"host\":\"%s\",\"frame\":\"nv12 "
		       "%dx%d\",\"iterations\":%d,\"png_bytes\":%zu,\"detections\":%zu,"
		       "\"detections_bilinear\":%zu", date, u.nodename, FW, FH, iterations, png_bytes,
		       n_det, n_det_bl);
		for (int w = 0; w < N_WAYS; w++) {
			printf(",\"%s\":{", way_names[w]);
			for (int k = 0; k < N_STAGES; k++)
				printf("%s\"%s%s\":%.*f", k ? "," : "", stage_names[k],
				       k == S_RATIO ? "" : "_us", k == S_RATIO ? 4 : 1, med[w][k]);
			printf(",\"ratio_of_medians\":%.4f}", rom[w]);
		}
		printf("}\n");
	} else {
		printf("transport_bench %s on %s: NV12 %dx%d into the SSD detector, median of %d "
		       "(interleaved), PNG %zu bytes; %zu detections (bilinear: %zu)\n",
		       date, u.nodename, FW, FH, iterations, png_bytes, n_det, n_det_bl);
		printf("%-24s %12s %16s %12s\n", "stage (us)", way_names[0], way_names[1],
		       way_names[2]);
		for (int k = 0; k < N_STAGES; k++)
			printf(k == S_RATIO ? "%-24s %12.3f %16.3f %12.3f\n"
					    : "%-24s %12.0f %16.0f %12.0f\n",
			       stage_names[k], med[0][k], med[1][k], med[2][k]);
		printf("%-24s %12.3f %16.3f %12.3f\n", "ratio_of_medians", rom[0], rom[1], rom[2]);
		printf("ratio = (client conversion + encoding + transport + decode + preprocess) / "
		       "inference (medians of per-request ratios); target for memfd: < 0.10\n");
	}
	for (int w = 0; w < N_WAYS; w++)
		for (int k = 0; k < N_STAGES; k++)
			free(ser[w].v[k]);
	mnv2c_frame_free(fb);
	free(nv12);
	free(rgb);
	return 0;
}
