/* fuzz_request — libFuzzer harness for the daemon's request path: mnv2d_intake_next()
 * (daemon/intake.h), the function mnv2d's loop calls on every connection's input — frame
 * length check, protobuf decode, version check, Classify/Detect validation.
 *
 * The model set is real: at start-up the harness writes four synthetic models (tests/gen's
 * uint8 and int8 per-channel classifiers, the daemon tests' 2x2 detector, and the same
 * classifier once more under a long name) to a temporary directory, loads them with
 * mnv2d_modelset_load() exactly as the daemon does (no worker contexts: nothing runs
 * inference), and removes the files.
 *
 * Input: one flags byte, then the bytes a client wrote on its connection. Flags bit 0: the
 * server is shutting down; bits 1-2: max_frame_bytes 64 KiB, 1 KiB, 16 or 0. The stream is
 * taken frame by frame as the loop does, each frame first shown without its last byte
 * (and with only 3 bytes) to check it waits. Checked for every frame:
 *  - WAIT only when the frame is incomplete; CLOSE only for a length over the limit (the
 *    input is never out of memory here); otherwise consumed = 4 + length <= the bytes left;
 *  - pullup is only ever asked for bytes that are there;
 *  - ERROR: a non-OK status code, a message that is non-empty, NUL-terminated and valid
 *    UTF-8 (it goes into a proto3 string field, which other languages' decoders reject
 *    otherwise), a model index in range or -1; the error response packs and decodes back;
 *  - QUEUE: version 1, a Classify or Detect whose model (in range) is of that kind, an
 *    image present; shutting down never queues;
 *  - STATUS/LIST_MODELS/RELOAD only for those bodies.
 *
 * Built with -DMNV2_FUZZ_SEEDS instead (no libFuzzer), it is `fuzz_request_seeds DIR`: it
 * writes the seed corpus (every request kind, raw frames of every pixel format with planes,
 * options and regions of interest, pipelined frames, bad versions, unknown models, wrong
 * kinds, truncated and oversized frames) after checking that each gives the outcome it was
 * made for. scripts/fuzz.sh does both. */
#include "intake.h"
#include "models.h"
#include "reply.h"
#include "mnv2/config.h"
#include "synth_models.h"
#include "test_models.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mnv2d_modelset *g_set;

#define LONG_NAME "a-classifier-with-a-name-of-exactly-sixty-four-characters-000064"

/* ---- the model set ---- */

static int write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int rc = fwrite(d, 1, n, f) == n ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

static int write_models(const char *dir)
{
	char p[512];
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc = 0;
	if (synth_mnv2_uint8(7, &buf, &n))
		return -1;
	snprintf(p, sizeof p, "%s/cls.tflite", dir);
	rc |= write_file(p, buf, n);
	free(buf);
	if (synth_mnv2_int8pc(8, &buf, &n))
		return -1;
	snprintf(p, sizeof p, "%s/cls8.tflite", dir);
	rc |= write_file(p, buf, n);
	free(buf);
	static const char labels[] = "c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nc9\n";
	snprintf(p, sizeof p, "%s/cls.txt", dir);
	rc |= write_file(p, labels, sizeof labels - 1);
	snprintf(p, sizeof p, "%s/det.tflite", dir);
	rc |= td_write_detector(p);
	return rc;
}

static void remove_models(const char *dir)
{
	static const char *const files[] = { "cls.tflite", "cls8.tflite", "cls.txt",
					     "det.tflite", "fuzz.yaml" };
	char p[512];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static mnv2d_modelset *load_set(void)
{
	char dir[] = "/tmp/fuzz-request-XXXXXX", name[600], err[1024];
	if (!mkdtemp(dir))
		return NULL;
	static const char yaml[] =
		"socket: /tmp/unused.sock\n"
		"models:\n"
		"  - {name: cls, path: cls.tflite, labels: cls.txt, kind: classifier}\n"
		"  - {name: det, path: det.tflite, kind: detector, max_detections: 3}\n"
		"  - {name: cls8, path: cls8.tflite, resize: letterbox, resize_filter: bilinear, "
		"top_k: 2}\n"
		"  - {name: " LONG_NAME ", path: cls.tflite, resize: center-crop}\n";
	mnv2_config cfg;
	mnv2d_modelset *set = NULL;
	snprintf(name, sizeof name, "%s/fuzz.yaml", dir);
	if (write_models(dir) == 0 &&
	    mnv2_config_parse(yaml, sizeof yaml - 1, name, &cfg, err, sizeof err) == 0) {
		set = mnv2d_modelset_load(&cfg, 0, 1, 1, err, sizeof err);
		mnv2_config_free(&cfg);
	}
	if (!set)
		fprintf(stderr, "fuzz_request: cannot load the model set: %s\n", err);
	remove_models(dir);   /* the engine keeps its own mappings */
	return set;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!(g_set = load_set()))
		abort();
	return 0;
}

/* ---- the input, as the loop's libevent buffer would give it ---- */

typedef struct flat {
	const uint8_t *p;
	size_t have;
} flat;

static void flat_copy(void *arg, void *dst, size_t n)
{
	const flat *f = arg;
	if (n > f->have)
		abort();
	memcpy(dst, f->p, n);
}

static const uint8_t *flat_pullup(void *arg, size_t n)
{
	const flat *f = arg;
	if (n > f->have)
		abort();
	return f->p;
}

static void take(const uint8_t *p, size_t have, size_t max, int stopping, mnv2d_intake *it)
{
	flat f = { p, have };
	mnv2d_input in = { have, flat_copy, flat_pullup, &f };
	mnv2d_intake_next(&in, max, g_set, stopping, it);
}

/* ---- the checks ---- */

static int valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p++, n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
					     : (c & 0xf8) == 0xf0 ? 3 : 9;
		if (n == 9 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4))
			return 0;
		uint32_t cp = c & (0x3fu >> n);
		for (unsigned i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (*p & 0x3fu);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

static void check_error(const mnv2d_intake *it)
{
	if (it->status == MNV2__STATUS_CODE__STATUS_OK ||
	    it->status > MNV2__STATUS_CODE__STATUS_INTERNAL || it->req ||
	    it->model < -1 || (it->model >= 0 && (size_t)it->model >= g_set->n))
		abort();
	if (memchr(it->msg, 0, sizeof it->msg) == NULL || !it->msg[0] || !valid_utf8(it->msg))
		abort();
	uint8_t *frame;
	size_t len;
	if (mnv2d_reply_error(it->id, it->status, it->msg, &frame, &len))
		abort();
	Mnv2__Response *r = mnv2__response__unpack(NULL, len - 4, frame + 4);
	if (!r || r->request_id != it->id || r->status != (Mnv2__StatusCode)it->status ||
	    strcmp(r->message, it->msg))
		abort();
	mnv2__response__free_unpacked(r, NULL);
	free(frame);
}

static void check_queue(const mnv2d_intake *it, int stopping)
{
	const Mnv2__Request *r = it->req;
	if (stopping || !r || r->version != 1 || it->model < 0 || (size_t)it->model >= g_set->n)
		abort();
	const mnv2d_model *m = &g_set->models[it->model];
	const Mnv2__Image *im;
	if (r->body_case == MNV2__REQUEST__BODY_CLASSIFY && r->classify)
		im = m->kind == MNV2_TASK_CLASSIFIER ? r->classify->image : NULL;
	else if (r->body_case == MNV2__REQUEST__BODY_DETECT && r->detect)
		im = m->kind == MNV2_TASK_DETECTOR ? r->detect->image : NULL;
	else
		im = NULL;
	if (!im || im->source_case == MNV2__IMAGE__SOURCE__NOT_SET)
		abort();
}

static void check_answer(const mnv2d_intake *it, const uint8_t *frame)
{
	Mnv2__Request *r = mnv2__request__unpack(NULL, it->length, frame + 4);
	Mnv2__Request__BodyCase want = it->kind == MNV2D_INTAKE_STATUS ? MNV2__REQUEST__BODY_STATUS
				     : it->kind == MNV2D_INTAKE_LIST_MODELS
					     ? MNV2__REQUEST__BODY_LIST_MODELS
					     : MNV2__REQUEST__BODY_RELOAD;
	if (!r || r->version != 1 || r->body_case != want || r->request_id != it->id)
		abort();
	mnv2__request__free_unpacked(r, NULL);
}

/* One frame at p (left bytes remain): its outcome, checked. 0 when the next frame follows
 * at p + *consumed, -1 when the stream ends here. */
static int one_frame(const uint8_t *p, size_t left, size_t max, int stopping, size_t *consumed)
{
	mnv2d_intake it;
	if (left >= 3) {   /* a partial header waits */
		take(p, 3, max, stopping, &it);
		if (it.kind != MNV2D_INTAKE_WAIT)
			abort();
	}
	take(p, left, max, stopping, &it);
	if (it.kind == MNV2D_INTAKE_WAIT) {
		if (left >= 4 && left - 4 >= it.length)
			abort();
		return -1;
	}
	if (it.kind == MNV2D_INTAKE_CLOSE) {
		if (!it.too_long || it.length <= max || !it.msg[0])
			abort();
		return -1;
	}
	if (it.consumed != 4 + (size_t)it.length || it.consumed > left || it.length > max)
		abort();
	/* the same frame without its last byte waits */
	mnv2d_intake partial;
	take(p, it.consumed - 1, max, stopping, &partial);
	if (partial.kind != MNV2D_INTAKE_WAIT)
		abort();
	switch (it.kind) {
	case MNV2D_INTAKE_ERROR:
		check_error(&it);
		break;
	case MNV2D_INTAKE_QUEUE:
		check_queue(&it, stopping);
		mnv2__request__free_unpacked(it.req, NULL);
		break;
	case MNV2D_INTAKE_STATUS:
	case MNV2D_INTAKE_LIST_MODELS:
	case MNV2D_INTAKE_RELOAD:
		check_answer(&it, p);
		break;
	default:
		abort();
	}
	*consumed = it.consumed;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[4] = { 64u << 10, 1024, 16, 0 };
	if (size < 1)
		return 0;
	int stopping = data[0] & 1;
	size_t max = limits[(data[0] >> 1) & 3];
	const uint8_t *p = data + 1;
	size_t left = size - 1, used = 0;
	while (one_frame(p, left, max, stopping, &used) == 0) {
		p += used;
		left -= used;
	}
	return 0;
}

#ifdef MNV2_FUZZ_SEEDS
/* ---- the seed corpus ---- */

#include <errno.h>
#include <sys/stat.h>

typedef struct seeds {
	const char *dir;
	uint8_t buf[70000];
	size_t len;
	int n, failed;
} seeds;

static void append_raw(seeds *s, const void *d, size_t n)
{
	if (s->len + n > sizeof s->buf)
		abort();
	memcpy(s->buf + s->len, d, n);
	s->len += n;
}

static void append_len(seeds *s, uint32_t n)
{
	uint8_t h[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	append_raw(s, h, 4);
}

static void append(seeds *s, const Mnv2__Request *r)
{
	size_t n = mnv2__request__get_packed_size(r);
	append_len(s, (uint32_t)n);
	if (s->len + n > sizeof s->buf)
		abort();
	mnv2__request__pack(r, s->buf + s->len);
	s->len += n;
}

static void start(seeds *s, int flags)
{
	s->buf[0] = (uint8_t)flags;
	s->len = 1;
}

/* Writes the seed after checking its first frame's outcome (and running the harness). */
static void emit(seeds *s, const char *name, mnv2d_intake_kind want, unsigned status)
{
	static const size_t limits[4] = { 64u << 10, 1024, 16, 0 };
	mnv2d_intake it;
	take(s->buf + 1, s->len - 1, limits[(s->buf[0] >> 1) & 3], s->buf[0] & 1, &it);
	if (it.kind != want || (want == MNV2D_INTAKE_ERROR && it.status != status)) {
		fprintf(stderr, "fuzz_request_seeds: seed %s: outcome %d status %u (%s), "
			"expected %d status %u\n", name, (int)it.kind, it.status, it.msg, (int)want,
			status);
		s->failed = 1;
	}
	if (it.kind == MNV2D_INTAKE_QUEUE)
		mnv2__request__free_unpacked(it.req, NULL);
	LLVMFuzzerTestOneInput(s->buf, s->len);
	char path[600];
	snprintf(path, sizeof path, "%s/%02d-%s", s->dir, s->n++, name);
	if (write_file(path, s->buf, s->len)) {
		fprintf(stderr, "fuzz_request_seeds: cannot write %s\n", path);
		s->failed = 1;
	}
}

typedef struct req_parts {
	Mnv2__Request r;
	Mnv2__ClassifyRequest cls;
	Mnv2__DetectRequest det;
	Mnv2__Image image;
	Mnv2__RawFrame raw;
	Mnv2__Options opts;
	Mnv2__Rect roi;
	Mnv2__Plane plane[3], *planes[3];
} req_parts;

static uint8_t pixels[3 * 64 * 48];

static void image_req(req_parts *q, int detect, uint64_t id, const char *model)
{
	memset(q, 0, sizeof *q);
	mnv2__request__init(&q->r);
	q->r.version = 1;
	q->r.request_id = id;
	mnv2__image__init(&q->image);
	mnv2__options__init(&q->opts);
	mnv2__raw_frame__init(&q->raw);
	q->image.source_case = MNV2__IMAGE__SOURCE_RAW;
	q->image.raw = &q->raw;
	q->raw.format = MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGB888;
	q->raw.width = 16;
	q->raw.height = 12;
	q->raw.data.data = pixels;
	q->raw.data.len = 16 * 12 * 3;
	if (detect) {
		mnv2__detect_request__init(&q->det);
		q->det.model = (char *)model;
		q->det.image = &q->image;
		q->r.body_case = MNV2__REQUEST__BODY_DETECT;
		q->r.detect = &q->det;
	} else {
		mnv2__classify_request__init(&q->cls);
		q->cls.model = (char *)model;
		q->cls.image = &q->image;
		q->r.body_case = MNV2__REQUEST__BODY_CLASSIFY;
		q->r.classify = &q->cls;
	}
}

static void with_options(req_parts *q)
{
	if (q->r.classify)
		q->cls.options = &q->opts;
	else
		q->det.options = &q->opts;
}

static void simple(seeds *s, Mnv2__Request__BodyCase body, uint64_t id)
{
	static Mnv2__StatusRequest st = MNV2__STATUS_REQUEST__INIT;
	static Mnv2__ListModelsRequest lm = MNV2__LIST_MODELS_REQUEST__INIT;
	static Mnv2__ReloadRequest rl = MNV2__RELOAD_REQUEST__INIT;
	Mnv2__Request r;
	mnv2__request__init(&r);
	r.version = 1;
	r.request_id = id;
	r.body_case = body;
	if (body == MNV2__REQUEST__BODY_STATUS)
		r.status = &st;
	else if (body == MNV2__REQUEST__BODY_LIST_MODELS)
		r.list_models = &lm;
	else if (body == MNV2__REQUEST__BODY_RELOAD)
		r.reload = &rl;
	append(s, &r);
}

enum { OK = MNV2__STATUS_CODE__STATUS_OK, INVALID = MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT,
       NOT_FOUND = MNV2__STATUS_CODE__STATUS_NOT_FOUND,
       UNAVAILABLE = MNV2__STATUS_CODE__STATUS_UNAVAILABLE };

static void seed_simple(seeds *s)
{
	start(s, 0);
	simple(s, MNV2__REQUEST__BODY_STATUS, 7);
	emit(s, "status", MNV2D_INTAKE_STATUS, OK);
	start(s, 0);
	simple(s, MNV2__REQUEST__BODY_LIST_MODELS, 8);
	emit(s, "list-models", MNV2D_INTAKE_LIST_MODELS, OK);
	start(s, 0);
	simple(s, MNV2__REQUEST__BODY_RELOAD, 9);
	emit(s, "reload", MNV2D_INTAKE_RELOAD, OK);
	start(s, 0);
	simple(s, MNV2__REQUEST__BODY__NOT_SET, 10);
	emit(s, "no-body", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	append_len(s, 0);
	emit(s, "empty-frame", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	append_len(s, 5);
	append_raw(s, "\xff\xff\xff\xff\xff", 5);
	emit(s, "undecodable", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	append_len(s, 1u << 20);
	emit(s, "too-long", MNV2D_INTAKE_CLOSE, 0);
	start(s, 4);   /* max_frame_bytes 16 */
	simple(s, MNV2__REQUEST__BODY_STATUS, 1);
	append_len(s, 17);
	append_raw(s, pixels, 17);
	emit(s, "limit-16", MNV2D_INTAKE_STATUS, OK);
	start(s, 0);
	append_len(s, 100);
	append_raw(s, "\x08\x01", 2);
	emit(s, "truncated", MNV2D_INTAKE_WAIT, 0);
	Mnv2__Request r;
	mnv2__request__init(&r);
	r.version = 2;
	r.request_id = 11;
	start(s, 0);
	append(s, &r);
	emit(s, "version-2", MNV2D_INTAKE_ERROR, INVALID);
}

static void seed_tasks(seeds *s)
{
	req_parts q;
	for (int stop = 0; stop < 2; stop++) {
		start(s, stop);
		image_req(&q, 0, 20, "");
		append(s, &q.r);
		emit(s, stop ? "classify-stopping" : "classify-raw",
		     stop ? MNV2D_INTAKE_ERROR : MNV2D_INTAKE_QUEUE, stop ? UNAVAILABLE : OK);
	}
	start(s, 0);
	image_req(&q, 1, 21, "det");
	q.r.deadline_ms = 250;
	append(s, &q.r);
	emit(s, "detect-raw", MNV2D_INTAKE_QUEUE, OK);
	start(s, 0);
	image_req(&q, 0, 22, LONG_NAME);
	q.image.source_case = MNV2__IMAGE__SOURCE_ENCODED;
	q.image.encoded.data = (uint8_t *)"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	q.image.encoded.len = 16;
	append(s, &q.r);
	emit(s, "classify-encoded", MNV2D_INTAKE_QUEUE, OK);
	start(s, 0);
	image_req(&q, 0, 23, "nope");
	append(s, &q.r);
	emit(s, "unknown-model", MNV2D_INTAKE_ERROR, NOT_FOUND);
	start(s, 0);
	image_req(&q, 1, 24, "cls");
	append(s, &q.r);
	emit(s, "wrong-kind", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	image_req(&q, 0, 25, "cls8");
	q.cls.image = NULL;
	append(s, &q.r);
	emit(s, "no-image", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	image_req(&q, 0, 26, "cls");
	with_options(&q);
	q.opts.score_threshold = 1.5f;
	append(s, &q.r);
	emit(s, "bad-threshold", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	image_req(&q, 0, 28, "cls8");
	with_options(&q);
	q.opts.resize_filter = (Mnv2__ResizeFilter)3;
	append(s, &q.r);
	emit(s, "bad-filter", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	image_req(&q, 0, 29, "cls8");
	with_options(&q);
	q.opts.resize = (Mnv2__ResizeMode)4;
	append(s, &q.r);
	emit(s, "bad-resize", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	image_req(&q, 1, 27, "");
	with_options(&q);
	q.opts.resize = MNV2__RESIZE_MODE__RESIZE_LETTERBOX;
	q.opts.resize_filter = MNV2__RESIZE_FILTER__RESIZE_FILTER_BILINEAR;
	q.opts.max_detections = 2;
	q.opts.score_threshold = 0.25f;
	mnv2__rect__init(&q.roi);
	q.roi.x = 2;
	q.roi.y = 3;
	q.roi.width = 8;
	q.roi.height = 6;
	q.opts.roi = &q.roi;
	append(s, &q.r);
	emit(s, "options-roi", MNV2D_INTAKE_QUEUE, OK);
}

static void seed_formats(seeds *s)
{
	static const struct { Mnv2__PixelFormat f; const char *name; int planes; } fmts[] = {
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_BGR888, "bgr888", 1 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGBA8888, "rgba", 1 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_GRAY8, "gray8", 1 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_NV12, "nv12", 2 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_NV21, "nv21", 2 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_I420, "i420", 3 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_YUYV, "yuyv", 1 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_UYVY, "uyvy", 1 },
		{ MNV2__PIXEL_FORMAT__PIXEL_FORMAT_BGRA8888, "bgra", 1 },
	};
	req_parts q;
	char name[64];
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		/* tightly packed, and with explicit planes (64 bytes a row, 2048 apart) */
		for (int explicit_planes = 0; explicit_planes < 2; explicit_planes++) {
			start(s, 0);
			image_req(&q, (int)(i & 1), 30 + i, "");
			q.raw.format = fmts[i].f;
			q.raw.width = 16;
			q.raw.height = 10;
			q.raw.data.len = sizeof pixels;
			q.raw.color_range = (Mnv2__ColorRange)(i % 3);
			q.raw.color_matrix = (Mnv2__ColorMatrix)((i / 3) % 3);
			if (explicit_planes) {
				for (int p = 0; p < fmts[i].planes; p++) {
					mnv2__plane__init(&q.plane[p]);
					q.plane[p].stride = 64;
					q.plane[p].offset = (uint64_t)p * 2048;
					q.planes[p] = &q.plane[p];
				}
				q.raw.n_planes = (size_t)fmts[i].planes;
				q.raw.planes = q.planes;
			}
			append(s, &q.r);
			snprintf(name, sizeof name, "%s%s", fmts[i].name,
				 explicit_planes ? "-planes" : "");
			/* whether the server knows the format yet decides the outcome: only the
			 * corpus matters here, so no outcome is required of YUV frames */
			mnv2d_intake it;
			take(s->buf + 1, s->len - 1, 64u << 10, 0, &it);
			emit(s, name, it.kind, it.status);
			if (it.kind == MNV2D_INTAKE_QUEUE)
				mnv2__request__free_unpacked(it.req, NULL);
		}
	}
	start(s, 0);
	image_req(&q, 0, 40, "");
	q.raw.format = (Mnv2__PixelFormat)99;
	append(s, &q.r);
	emit(s, "unknown-format", MNV2D_INTAKE_ERROR, INVALID);
	start(s, 0);
	image_req(&q, 0, 41, "");
	q.raw.width = 0;
	append(s, &q.r);
	emit(s, "zero-width", MNV2D_INTAKE_ERROR, INVALID);
}

static void seed_pipelined(seeds *s)
{
	req_parts q;
	start(s, 0);
	simple(s, MNV2__REQUEST__BODY_STATUS, 1);
	image_req(&q, 0, 2, "cls");
	append(s, &q.r);
	image_req(&q, 1, 3, "det");
	append(s, &q.r);
	simple(s, MNV2__REQUEST__BODY_LIST_MODELS, 4);
	append_len(s, 3);
	append_raw(s, "\x0a\x0b\x0c", 3);
	simple(s, MNV2__REQUEST__BODY_RELOAD, 5);
	append_len(s, 0xffffffffu);
	emit(s, "pipelined", MNV2D_INTAKE_STATUS, OK);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_request_seeds DIR\n");
		return 2;
	}
	static seeds s;
	s.dir = argv[1];
	if (mkdir(s.dir, 0755) && errno != EEXIST) {
		perror(s.dir);
		return 1;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (size_t i = 0; i < sizeof pixels; i++)
		pixels[i] = (uint8_t)(i * 7 + (i / 48) * 3);
	seed_simple(&s);
	seed_tasks(&s);
	seed_formats(&s);
	seed_pipelined(&s);
	mnv2d_modelset_unref(g_set);
	printf("fuzz_request_seeds: %d seeds in %s\n", s.n, s.dir);
	return s.failed;
}
#endif
