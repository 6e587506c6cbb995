/* infer — see infer.h. */
#include "infer.h"

#include "clock.h"
#include "fdframe.h"
#include "framing.h"
#include "mnv2/frame.h"
#include "mnv2/image.h"
#include "reply.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	ST_OK = MNV2__STATUS_CODE__STATUS_OK,
	ST_INVALID = MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT,
	ST_NOT_FOUND = MNV2__STATUS_CODE__STATUS_NOT_FOUND,
	ST_DEADLINE = MNV2__STATUS_CODE__STATUS_DEADLINE_EXCEEDED,
	ST_UNAVAILABLE = MNV2__STATUS_CODE__STATUS_UNAVAILABLE,
	ST_INTERNAL = MNV2__STATUS_CODE__STATUS_INTERNAL,
};

#define MSG_LEN 640

static unsigned say(char *msg, size_t len, unsigned status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return status;
}

/* The parts shared by Classify and Detect. */
typedef struct task_req {
	const char *model;
	const Mnv2__Image *image;
	const Mnv2__Options *options;
	mnv2_task kind;
} task_req;

static int task_of(const Mnv2__Request *r, task_req *t)
{
	if (r->body_case == MNV2__REQUEST__BODY_CLASSIFY && r->classify) {
		*t = (task_req){ r->classify->model, r->classify->image, r->classify->options,
				 MNV2_TASK_CLASSIFIER };
		return 0;
	}
	if (r->body_case == MNV2__REQUEST__BODY_DETECT && r->detect) {
		*t = (task_req){ r->detect->model, r->detect->image, r->detect->options,
				 MNV2_TASK_DETECTOR };
		return 0;
	}
	return -1;
}

static unsigned check_planes(const Mnv2__RawFrame *f, unsigned fmt, char *msg, size_t len)
{
	unsigned want = mnv2_frame_format_planes((mnv2_frame_format)fmt);
	if (f->n_planes && f->n_planes != want)
		return say(msg, len, ST_INVALID, "image: raw %s frame has %zu planes; it needs %u "
			   "(or none, for planes that follow each other)",
			   mnv2_frame_format_name((mnv2_frame_format)fmt), f->n_planes, want);
	for (size_t p = 0; p < f->n_planes; p++) {
		if (!f->planes[p])
			return say(msg, len, ST_INVALID, "image: raw frame plane %zu is missing", p);
#if SIZE_MAX < UINT64_MAX
		if (f->planes[p]->offset > SIZE_MAX)
			return say(msg, len, ST_INVALID, "image: raw frame plane %zu: offset %" PRIu64
				   " is too large", p, f->planes[p]->offset);
#endif
	}
	if (f->n_planes && f->stride && f->stride != f->planes[0]->stride)
		return say(msg, len, ST_INVALID, "image: raw frame stride %" PRIu32 " differs from "
			   "plane 0's stride %" PRIu32 " (give 0 or the same)", f->stride,
			   f->planes[0]->stride);
	return ST_OK;
}

static unsigned check_image(const Mnv2__Image *im, char *msg, size_t len)
{
	if (!im || im->source_case == MNV2__IMAGE__SOURCE__NOT_SET)
		return say(msg, len, ST_INVALID, "the request has no image");
	if (im->source_case == MNV2__IMAGE__SOURCE_ENCODED) {
		if (!im->encoded.len)
			return say(msg, len, ST_INVALID, "image: the encoded image is empty");
		return ST_OK;
	}
	if (im->source_case != MNV2__IMAGE__SOURCE_RAW || !im->raw)
		return say(msg, len, ST_INVALID, "image: unknown image source");
	const Mnv2__RawFrame *f = im->raw;
	unsigned fmt = (unsigned)f->format;
	if (fmt < 1 || fmt > MNV2_FRAME_FORMAT_MAX)
		return say(msg, len, ST_INVALID, "image: raw frame has unknown pixel format %d",
			   (int)f->format);
	if (!f->width || !f->height)
		return say(msg, len, ST_INVALID, "image: raw frame is %" PRIu32 "x%" PRIu32,
			   f->width, f->height);
	if ((unsigned)f->color_range > MNV2__COLOR_RANGE__COLOR_RANGE_FULL)
		return say(msg, len, ST_INVALID, "image: unknown color_range %d",
			   (int)f->color_range);
	if ((unsigned)f->color_matrix > MNV2__COLOR_MATRIX__COLOR_MATRIX_BT709)
		return say(msg, len, ST_INVALID, "image: unknown color_matrix %d",
			   (int)f->color_matrix);
	if (f->has_fd && f->data.len)
		return say(msg, len, ST_INVALID, "image: raw frame has both data (%zu bytes) and "
			   "has_fd; send its bytes one way", f->data.len);
	if (!f->has_fd && f->fd_offset)
		return say(msg, len, ST_INVALID, "image: fd_offset is set but has_fd is not");
	return check_planes(f, fmt, msg, len);
}

static unsigned check_options(const Mnv2__Options *o, char *msg, size_t len)
{
	if (!o)
		return ST_OK;
	if ((int)o->resize < MNV2__RESIZE_MODE__RESIZE_DEFAULT ||
	    (int)o->resize > MNV2__RESIZE_MODE__RESIZE_CENTER_CROP)
		return say(msg, len, ST_INVALID, "options: unknown resize mode %d", (int)o->resize);
	if ((int)o->resize_filter < MNV2__RESIZE_FILTER__RESIZE_FILTER_DEFAULT ||
	    (int)o->resize_filter > MNV2__RESIZE_FILTER__RESIZE_FILTER_BILINEAR)
		return say(msg, len, ST_INVALID, "options: unknown resize filter %d",
			   (int)o->resize_filter);
	if (!(o->score_threshold >= 0.0f && o->score_threshold <= 1.0f))
		return say(msg, len, ST_INVALID, "options: score_threshold %g is not in [0, 1]",
			   (double)o->score_threshold);
	return ST_OK;
}

unsigned mnv2d_infer_validate(const Mnv2__Request *req, const mnv2d_modelset *set,
			      long *model, char *msg, size_t msglen)
{
	task_req t;
	if (task_of(req, &t))
		return say(msg, msglen, ST_INVALID, "not a classify or detect request");
	const char *kind = mnv2_task_name(t.kind);
	long i = mnv2d_modelset_find(set, t.model, t.kind);
	if (i < 0 && t.model && *t.model)
		return say(msg, msglen, ST_NOT_FOUND, "no model named '%.64s'", t.model);
	if (i < 0)
		return say(msg, msglen, ST_UNAVAILABLE, "no %s model is loaded", kind);
	const mnv2d_model *m = &set->models[i];
	if (m->kind != t.kind)
		return say(msg, msglen, ST_INVALID, "model '%s' is a %s, not a %s; send a %s "
			   "request", m->name, mnv2_task_name(m->kind), kind,
			   m->kind == MNV2_TASK_DETECTOR ? "Detect" : "Classify");
	*model = i;
	unsigned st = check_image(t.image, msg, msglen);
	return st != ST_OK ? st : check_options(t.options, msg, msglen);
}

/* ---- running ---- */

typedef struct run_state {
	mnv2d_job *job;
	const mnv2d_model *m;
	mnv2_context *ctx;
	task_req t;
	mnv2d_timing tm;
	mnv2_image img;       /* an encoded image, decoded */
	mnv2_frame frame;     /* a raw frame, described in place */
	int is_frame;
	mnv2d_fdframe map;    /* the frame's memfd/dmabuf mapping, if it came as an fd */
	mnv2_rect roi;
	mnv2_transform tf;
	char msg[MSG_LEN];
} run_state;

static void stage(run_state *s, int st, int64_t *t0)
{
	int64_t now = mnv2d_now_us();
	s->tm.us[st] = mnv2d_elapsed_us(*t0, now);
	s->tm.stages |= 1u << st;
	*t0 = now;
}

static mnv2_rect roi_of(const run_state *s)
{
	const Mnv2__Rect *r = s->t.options ? s->t.options->roi : NULL;
	return r ? (mnv2_rect){ r->x, r->y, r->width, r->height } : (mnv2_rect){ 0, 0, 0, 0 };
}

/* The raw frame's geometry over len bytes at data (not read here). */
static int describe_frame(const Mnv2__RawFrame *f, const uint8_t *data, size_t len,
			  mnv2_frame *fr, mnv2_error *e)
{
	mnv2_frame_format fmt = (mnv2_frame_format)f->format;
	if (!f->n_planes) {
		if (mnv2_frame_init(fr, fmt, f->width, f->height, f->stride, data, len, e))
			return -1;
	} else {
		*fr = (mnv2_frame){ .format = fmt, .width = f->width, .height = f->height,
				    .data = data, .len = len };
		for (size_t p = 0; p < f->n_planes && p < MNV2_FRAME_MAX_PLANES; p++) {
			fr->stride[p] = f->planes[p]->stride;
			fr->offset[p] = (size_t)f->planes[p]->offset;
		}
	}
	fr->range = f->color_range == MNV2__COLOR_RANGE__COLOR_RANGE_FULL ? MNV2_RANGE_FULL
									   : MNV2_RANGE_LIMITED;
	fr->matrix = f->color_matrix == MNV2__COLOR_MATRIX__COLOR_MATRIX_BT709
			     ? MNV2_MATRIX_BT709 : MNV2_MATRIX_BT601;
	return mnv2_frame_validate(fr, e);
}

/* The bytes a validated frame reads: the end of its furthest plane. */
static size_t frame_extent(const mnv2_frame *f)
{
	size_t end = 0;
	for (unsigned p = 0; p < mnv2_frame_format_planes(f->format); p++) {
		uint64_t rows = mnv2_frame_plane_rows(f->format, f->height, p);
		uint64_t e = f->offset[p] + f->stride[p] * (rows - 1) +
			     mnv2_frame_plane_row_bytes(f->format, f->width, p);
		if (e > end)
			end = (size_t)e;   /* validated: e <= len */
	}
	return end;
}

/* A frame in the job's file descriptor: probe (seal, size), check the geometry against
 * the bytes it holds, map exactly what the frame reads. */
static unsigned map_fd_frame(run_state *s, const Mnv2__RawFrame *f, mnv2_error *e)
{
	static const uint8_t probe_byte;   /* stands for the bytes until they are mapped */
	uint64_t avail;
	int dmabuf;
	char m[MSG_LEN - 16];
	if (!s->job->has_fd)
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: has_fd is set but the "
			   "request came without a file descriptor");
	if (mnv2d_fdframe_probe(s->job->fd, f->fd_offset, &avail, &dmabuf, m, sizeof m))
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: %s", m);
	size_t len = avail > SIZE_MAX ? SIZE_MAX : (size_t)avail;
	if (describe_frame(f, &probe_byte, len, &s->frame, e))
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: %s (the %s holds %llu bytes "
			   "from fd_offset %llu)", e->msg, dmabuf ? "dmabuf" : "memfd",
			   (unsigned long long)avail, (unsigned long long)f->fd_offset);
	size_t need = frame_extent(&s->frame);
	if (mnv2d_fdframe_map(s->job->fd, dmabuf, f->fd_offset, need, &s->map, m, sizeof m))
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: %s", m);
	s->frame.data = s->map.data;
	s->frame.len = need;
	return ST_OK;
}

static unsigned decode_frame(run_state *s, const mnv2d_limits *lim)
{
	const Mnv2__RawFrame *f = s->t.image->raw;
	mnv2_error e = { { 0 } };
	uint64_t px = (uint64_t)f->width * f->height;
	if (px > lim->max_image_pixels)
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: raw frame %" PRIu32 "x%"
			   PRIu32 " = %" PRIu64 " pixels is over the limit of %" PRIu64 " pixels",
			   f->width, f->height, px, lim->max_image_pixels);
	if (f->has_fd) {
		unsigned st = map_fd_frame(s, f, &e);
		if (st != ST_OK)
			return st;
	} else if (describe_frame(f, f->data.data, f->data.len, &s->frame, &e)) {
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: %s", e.msg);
	}
	s->is_frame = 1;
	mnv2_rect want = roi_of(s);
	if (mnv2_frame_roi(&s->frame, &want, &s->roi, &e))
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: %s", e.msg);
	return ST_OK;
}

static unsigned decode(run_state *s, const mnv2d_limits *lim)
{
	if (s->t.image->source_case != MNV2__IMAGE__SOURCE_ENCODED)
		return decode_frame(s, lim);
	mnv2_image_limits il = { .max_pixels = lim->max_image_pixels,
				 .max_bytes = lim->max_encoded_bytes };
	char err[MNV2_IMAGE_ERR_LEN];
	if (mnv2_image_decode(s->t.image->encoded.data, s->t.image->encoded.len, &il, &s->img,
			      err, sizeof err))
		return say(s->msg, sizeof s->msg, ST_INVALID, "image: %s", err);
	mnv2_error e = { { 0 } };
	mnv2_rect want = roi_of(s);
	if (mnv2_roi_check(s->img.width, s->img.height, &want, &s->roi, &e))
		return say(s->msg, sizeof s->msg, ST_INVALID, "%s", e.msg);
	return ST_OK;
}

static mnv2_resize_mode resize_mode(const run_state *s)
{
	switch (s->t.options ? s->t.options->resize : MNV2__RESIZE_MODE__RESIZE_DEFAULT) {
	case MNV2__RESIZE_MODE__RESIZE_STRETCH: return MNV2_RESIZE_STRETCH;
	case MNV2__RESIZE_MODE__RESIZE_LETTERBOX: return MNV2_RESIZE_LETTERBOX;
	case MNV2__RESIZE_MODE__RESIZE_CENTER_CROP: return MNV2_RESIZE_CENTER_CROP;
	default: return s->m->resize;
	}
}

static mnv2_resize_filter resize_filter(const run_state *s)
{
	switch (s->t.options ? s->t.options->resize_filter
			     : MNV2__RESIZE_FILTER__RESIZE_FILTER_DEFAULT) {
	case MNV2__RESIZE_FILTER__RESIZE_FILTER_ANTIALIAS: return MNV2_FILTER_ANTIALIAS;
	case MNV2__RESIZE_FILTER__RESIZE_FILTER_BILINEAR: return MNV2_FILTER_BILINEAR;
	default: return s->m->filter;
	}
}

/* The frame's descriptor goes, and with it a dmabuf's read access (SYNC_END needs the
 * descriptor, and the exporter may want the buffer back). A memfd's mapping holds no
 * descriptor and is released by the worker once the response is on its way
 * (mnv2d_infer_run). Safe to call twice. */
static void release_fd(run_state *s)
{
	if (s->map.dmabuf)
		mnv2d_fdframe_unmap(&s->map);
	mnv2d_job_close_fd(s->job);
}

static unsigned preprocess_and_run(run_state *s, int64_t *t0)
{
	mnv2_error e = { { 0 } };
	size_t bytes = 0;
	void *in = mnv2_context_input(s->ctx, 0, &bytes);
	mnv2_rgb_view v = { s->img.data, s->img.width, s->img.height, s->img.stride };
	mnv2_preprocess_opts po = { .mode = resize_mode(s), .filter = resize_filter(s) };
	int rc = !in ? -1
	       : s->is_frame ? mnv2_preprocess_frame(&s->frame, &s->roi, &s->m->input, &po, in,
						    bytes, &s->tf, &e)
			     : mnv2_preprocess_roi(&v, &s->roi, &s->m->input, &po, in, bytes,
						   &s->tf, &e);
	release_fd(s); /* the frame's bytes are read */
	if (rc)
		return say(s->msg, sizeof s->msg, ST_INTERNAL, "preprocess: %s",
			   in ? e.msg : "no input buffer");
	stage(s, MNV2D_STAGE_PREPROCESS, t0);
	if (mnv2_context_run(s->ctx, &e))
		return say(s->msg, sizeof s->msg, ST_INTERNAL, "inference: %s", e.msg);
	stage(s, MNV2D_STAGE_INFERENCE, t0);
	return ST_OK;
}

static float threshold(const run_state *s)
{
	float t = s->t.options ? s->t.options->score_threshold : 0.0f;
	return t > 0.0f ? t : s->m->score_threshold;
}

static size_t clamp(size_t want, size_t dflt, size_t max)
{
	size_t n = want ? want : dflt ? dflt : max;
	return n < max ? n : max;
}

static int pack(run_state *s, Mnv2__Response *r)
{
	return mnv2d_frame_pack(&r->base, &s->job->frame, &s->job->frame_len);
}

static void set_timing(run_state *s, Mnv2__Timing *tm)
{
	mnv2__timing__init(tm);
	s->tm.us[MNV2D_STAGE_TOTAL] = mnv2d_elapsed_us(s->job->t_read, mnv2d_now_us());
	s->tm.stages |= 1u << MNV2D_STAGE_TOTAL;
	tm->queue_us = s->tm.us[MNV2D_STAGE_QUEUE];
	tm->decode_us = s->tm.us[MNV2D_STAGE_DECODE];
	tm->preprocess_us = s->tm.us[MNV2D_STAGE_PREPROCESS];
	tm->inference_us = s->tm.us[MNV2D_STAGE_INFERENCE];
	tm->postprocess_us = s->tm.us[MNV2D_STAGE_POSTPROCESS];
	tm->total_us = s->tm.us[MNV2D_STAGE_TOTAL];
}

static unsigned classify(run_state *s, int64_t *t0)
{
	size_t k = clamp(s->t.options ? s->t.options->top_k : 0, s->m->top_k, s->m->outputs);
	mnv2_class_score *top = calloc(k ? k : 1, sizeof *top);
	Mnv2__Class *cls = calloc(k ? k : 1, sizeof *cls);
	Mnv2__Class **ptr = calloc(k ? k : 1, sizeof *ptr);
	unsigned st = ST_INTERNAL;
	if (top && cls && ptr) {
		size_t n = mnv2_top_k(s->ctx, k, threshold(s), top);
		for (size_t i = 0; i < n; i++) {
			mnv2__class__init(&cls[i]);
			cls[i].index = top[i].index;
			cls[i].score = top[i].score;
			cls[i].label = (char *)mnv2d_model_label(s->m, top[i].index);
			ptr[i] = &cls[i];
		}
		stage(s, MNV2D_STAGE_POSTPROCESS, t0);
		Mnv2__ClassifyResult res;
		mnv2__classify_result__init(&res);
		res.model = s->m->name;
		res.n_classes = n;
		res.classes = ptr;
		Mnv2__Timing tm;
		Mnv2__Response r;
		set_timing(s, &tm);
		mnv2d_reply_init(&r, s->job->request_id, ST_OK, NULL, &tm);
		r.result_case = MNV2__RESPONSE__RESULT_CLASSIFY;
		r.classify = &res;
		st = pack(s, &r) ? ST_INTERNAL : ST_OK;
	}
	if (st != ST_OK)
		say(s->msg, sizeof s->msg, st, "out of memory building the response");
	free(top);
	free(cls);
	free(ptr);
	return st;
}

typedef struct det_msgs {
	Mnv2__Detection *d;
	Mnv2__Detection **ptr;
	Mnv2__Box *box;   /* 2 per detection: pixels, normalized */
} det_msgs;

static void fill_detection(run_state *s, const mnv2_detection *in, det_msgs *m, size_t i)
{
	Mnv2__Detection *d = &m->d[i];
	Mnv2__Box *px = &m->box[2 * i], *nb = &m->box[2 * i + 1];
	mnv2__detection__init(d);
	mnv2__box__init(px);
	mnv2__box__init(nb);
	d->class_id = in->class_id;
	d->label = (char *)mnv2d_model_label(s->m, in->class_id);
	d->score = in->score;
	px->xmin = in->px_xmin;
	px->ymin = in->px_ymin;
	px->xmax = in->px_xmax;
	px->ymax = in->px_ymax;
	nb->xmin = in->xmin;
	nb->ymin = in->ymin;
	nb->xmax = in->xmax;
	nb->ymax = in->ymax;
	d->box = px;
	d->box_normalized = nb;
	m->ptr[i] = d;
}

static unsigned detect(run_state *s, int64_t *t0)
{
	size_t max = clamp(s->t.options ? s->t.options->max_detections : 0, s->m->max_detections,
			   s->m->outputs);
	size_t cap = max ? max : 1;
	mnv2_detection *det = calloc(cap, sizeof *det);
	det_msgs m = { calloc(cap, sizeof *m.d), calloc(cap, sizeof *m.ptr),
		       calloc(2 * cap, sizeof *m.box) };
	unsigned st = ST_INTERNAL;
	if (det && m.d && m.ptr && m.box) {
		size_t n = mnv2_detections(s->ctx, &s->tf, threshold(s), max, det);
		for (size_t i = 0; i < n; i++)
			fill_detection(s, &det[i], &m, i);
		stage(s, MNV2D_STAGE_POSTPROCESS, t0);
		Mnv2__DetectResult res;
		mnv2__detect_result__init(&res);
		res.model = s->m->name;
		res.n_detections = n;
		res.detections = m.ptr;
		res.image_width = s->tf.src_w;
		res.image_height = s->tf.src_h;
		Mnv2__Timing tm;
		Mnv2__Response r;
		set_timing(s, &tm);
		mnv2d_reply_init(&r, s->job->request_id, ST_OK, NULL, &tm);
		r.result_case = MNV2__RESPONSE__RESULT_DETECT;
		r.detect = &res;
		st = pack(s, &r) ? ST_INTERNAL : ST_OK;
	}
	if (st != ST_OK)
		say(s->msg, sizeof s->msg, st, "out of memory building the response");
	free(det);
	free(m.d);
	free(m.ptr);
	free(m.box);
	return st;
}

static unsigned run(run_state *s, const mnv2d_limits *lim, int64_t t_dequeue)
{
	if (s->job->deadline && t_dequeue > s->job->deadline)
		return say(s->msg, sizeof s->msg, ST_DEADLINE,
			   "the deadline (%" PRId64 " ms) passed while the request waited %" PRIu64
			   " ms in the queue", (s->job->deadline - s->job->t_read) / 1000,
			   s->tm.us[MNV2D_STAGE_QUEUE] / 1000);
	if (!s->ctx)
		return say(s->msg, sizeof s->msg, ST_INTERNAL, "no inference context");
	int64_t t0 = t_dequeue;
	unsigned st = decode(s, lim);
	if (st != ST_OK)
		return st;
	stage(s, MNV2D_STAGE_DECODE, &t0);
	if ((st = preprocess_and_run(s, &t0)) != ST_OK)
		return st;
	return s->t.kind == MNV2_TASK_CLASSIFIER ? classify(s, &t0) : detect(s, &t0);
}

unsigned mnv2d_infer_run(mnv2d_job *job, size_t worker, const mnv2d_limits *lim,
			 int64_t t_dequeue, mnv2d_fdframe *release)
{
	run_state s = { .job = job, .map = { .fd = -1 } };
	s.m = &job->set->models[job->model];
	s.ctx = mnv2d_modelset_context(job->set, worker, job->model);
	s.tm.us[MNV2D_STAGE_QUEUE] = mnv2d_elapsed_us(job->t_read, t_dequeue);
	s.tm.stages = 1u << MNV2D_STAGE_QUEUE;
	unsigned st = task_of(job->req, &s.t)
			      ? say(s.msg, sizeof s.msg, ST_INTERNAL, "not a classify or detect job")
			      : run(&s, lim, t_dequeue);
	mnv2_image_free(&s.img);
	release_fd(&s);            /* never kept past its request, on any path */
	*release = s.map;          /* a memfd's mapping, if any: the caller's to unmap */
	if (st != ST_OK) {
		Mnv2__Timing tm;
		Mnv2__Response r;
		set_timing(&s, &tm);
		mnv2d_reply_init(&r, job->request_id, st, s.msg, &tm);
		if (pack(&s, &r)) {
			job->frame = NULL;
			job->frame_len = 0;
		}
	}
	/* statistics describe successful requests' stages; every response counts by code */
	if (st != ST_OK)
		s.tm.stages &= 1u << MNV2D_STAGE_QUEUE;
	mnv2d_stats_response(&((mnv2d_model *)s.m)->stats, st, &s.tm);
	job->status = st;
	return st;
}
