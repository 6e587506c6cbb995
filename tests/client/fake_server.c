/* fake_server — see fake_server.h. */
#include "fake_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct fake_server {
	pthread_t thread;
	fs_script script;
	void *arg;
	int fd;        /* socketpair end, or the listening socket */
	int listening;
	int connections;
	char path[108];
};

static void *run_pair(void *p)
{
	fake_server *s = p;
	s->script(s->fd, s->arg);
	close(s->fd);
	return NULL;
}

static void *run_listen(void *p)
{
	fake_server *s = p;
	for (int i = 0; i < s->connections; i++) {
		int fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			break;
		s->script(fd, s->arg);
		close(fd);
	}
	return NULL;
}

fake_server *fs_start_pair(fs_script script, void *arg, int *client_fd)
{
	int sv[2];
	fake_server *s = calloc(1, sizeof *s);
	if (!s || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	s->script = script;
	s->arg = arg;
	s->fd = sv[0];
	*client_fd = sv[1];
	if (pthread_create(&s->thread, NULL, run_pair, s) != 0)
		abort();
	return s;
}

fake_server *fs_start_listen(fs_script script, void *arg, int connections)
{
	static const char tmpl[] = "/tmp/mnv2c-test-XXXXXX";
	char dir[sizeof tmpl];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	fake_server *s = calloc(1, sizeof *s);
	memcpy(dir, tmpl, sizeof tmpl);
	if (!s || !mkdtemp(dir))
		abort();
	snprintf(s->path, sizeof s->path, "%s/mnv2d.sock", dir);
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	s->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(s->fd, 8) != 0)
		abort();
	s->script = script;
	s->arg = arg;
	s->listening = 1;
	s->connections = connections;
	if (pthread_create(&s->thread, NULL, run_listen, s) != 0)
		abort();
	return s;
}

const char *fs_path(const fake_server *s)
{
	return s->path;
}

void fs_join(fake_server *s)
{
	pthread_join(s->thread, NULL);
	if (s->listening) {
		close(s->fd);
		unlink(s->path);
		char *slash = strrchr(s->path, '/');
		*slash = '\0';
		rmdir(s->path);
	}
	free(s);
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

Mnv2__Request *fs_read_request(int fd)
{
	uint8_t hdr[4];
	if (read_full(fd, hdr, 4) != 0)
		return NULL;
	uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
		       hdr[3];
	if (len > (64u << 20))
		return NULL;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf || read_full(fd, buf, len) != 0) {
		free(buf);
		return NULL;
	}
	Mnv2__Request *r = mnv2__request__unpack(NULL, len, buf);
	free(buf);
	return r;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_len(int fd, uint32_t len)
{
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len};
	return fs_write_all(fd, hdr, 4);
}

int fs_write_response(int fd, const Mnv2__Response *r)
{
	size_t len = mnv2__response__get_packed_size(r);
	uint8_t *buf = malloc(len + 4);
	if (!buf)
		abort();
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	mnv2__response__pack(r, buf + 4);
	int rc = fs_write_all(fd, buf, len + 4);
	free(buf);
	return rc;
}

uint32_t fs_checksum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* ---- canned responses ----------------------------------------------------------------- */

struct fs_canned {
	Mnv2__Response resp;
	Mnv2__Timing timing;
	Mnv2__ClassifyResult cls;
	Mnv2__Class classes[3], *class_ptrs[3];
	char labels[3][256];
	Mnv2__DetectResult det;
	Mnv2__Detection dets[2], *det_ptrs[2];
	Mnv2__Box boxes[2], nboxes[2];
	char model[80];
	Mnv2__StatusResult st;
	Mnv2__ModelInfo infos[2], *info_ptrs[2];
	Mnv2__ModelStats stats, *stats_ptr;
	Mnv2__StatusCount counts[2], *count_ptrs[2];
	Mnv2__StageLatency lat[2], *lat_ptrs[2];
	Mnv2__ListModelsResult models;
	Mnv2__ReloadResult reload;
};

static void canned_classify(fs_canned *c, const Mnv2__ClassifyRequest *q, uint64_t id)
{
	const Mnv2__Image *im = q->image;
	const Mnv2__Options *o = q->options;
	mnv2__classify_result__init(&c->cls);
	snprintf(c->model, sizeof c->model, "%s", *q->model ? q->model : "mobilenet_v2");
	c->cls.model = c->model;
	if (im && im->source_case == MNV2__IMAGE__SOURCE_ENCODED)
		snprintf(c->labels[0], sizeof c->labels[0], "len=%zu sum=%08x", im->encoded.len,
			 fs_checksum(im->encoded.data, im->encoded.len));
	else if (im && im->source_case == MNV2__IMAGE__SOURCE_RAW)
		snprintf(c->labels[0], sizeof c->labels[0], "raw fmt=%d %ux%u stride=%u len=%zu",
			 (int)im->raw->format, (unsigned)im->raw->width,
			 (unsigned)im->raw->height, (unsigned)im->raw->stride,
			 im->raw->data.len);
	else
		snprintf(c->labels[0], sizeof c->labels[0], "no image");
	snprintf(c->labels[1], sizeof c->labels[1], "top_k=%u thr=%g max=%u resize=%d filter=%d",
		 o ? (unsigned)o->top_k : 0, o ? (double)o->score_threshold : 0.0,
		 o ? (unsigned)o->max_detections : 0, o ? (int)o->resize : 0,
		 o ? (int)o->resize_filter : 0);
	snprintf(c->labels[2], sizeof c->labels[2], "tabby \"cat\"\\\n\t\x01 caf\xc3\xa9");
	for (int i = 0; i < 3; i++) {
		mnv2__class__init(&c->classes[i]);
		c->classes[i].index = i == 0 ? (uint32_t)id : (uint32_t)(100 + i);
		c->classes[i].score = 1.0f / (float)(i + 2);
		c->classes[i].label = c->labels[i];
		c->class_ptrs[i] = &c->classes[i];
	}
	c->cls.n_classes = 3;
	c->cls.classes = c->class_ptrs;
	c->resp.result_case = MNV2__RESPONSE__RESULT_CLASSIFY;
	c->resp.classify = &c->cls;
}

static void canned_detect(fs_canned *c, const Mnv2__DetectRequest *q)
{
	static const float box[2][4] = {{10.5f, 20, 100, 200}, {0, 0, 640, 480}};
	static const char *lab[2] = {"person", "dog"};
	mnv2__detect_result__init(&c->det);
	snprintf(c->model, sizeof c->model, "%s", *q->model ? q->model : "ssd_mobilenet_v2");
	c->det.model = c->model;
	c->det.image_width = 640;
	c->det.image_height = 480;
	for (int i = 0; i < 2; i++) {
		Mnv2__Detection *d = &c->dets[i];
		mnv2__detection__init(d);
		mnv2__box__init(&c->boxes[i]);
		mnv2__box__init(&c->nboxes[i]);
		c->boxes[i].xmin = box[i][0];
		c->boxes[i].ymin = box[i][1];
		c->boxes[i].xmax = box[i][2];
		c->boxes[i].ymax = box[i][3];
		c->nboxes[i].xmin = box[i][0] / 640;
		c->nboxes[i].ymin = box[i][1] / 480;
		c->nboxes[i].xmax = box[i][2] / 640;
		c->nboxes[i].ymax = box[i][3] / 480;
		d->class_id = i == 0 ? 0 : 17;
		d->label = (char *)lab[i];
		d->score = i == 0 ? 0.875f : 0.5f;
		d->box = &c->boxes[i];
		d->box_normalized = &c->nboxes[i];
		c->det_ptrs[i] = d;
	}
	c->det.n_detections = 2;
	c->det.detections = c->det_ptrs;
	c->resp.result_case = MNV2__RESPONSE__RESULT_DETECT;
	c->resp.detect = &c->det;
}

static void canned_models(fs_canned *c)
{
	static const char *names[2] = {"mobilenet_v2", "ssd_mobilenet_v2"};
	for (int i = 0; i < 2; i++) {
		Mnv2__ModelInfo *m = &c->infos[i];
		mnv2__model_info__init(m);
		m->name = (char *)names[i];
		m->kind = i == 0 ? MNV2__MODEL_KIND__MODEL_KIND_CLASSIFIER
				 : MNV2__MODEL_KIND__MODEL_KIND_DETECTOR;
		m->path = (char *)(i == 0 ? "/models/mnv2.tflite" : "/models/ssd.tflite");
		m->input_width = i == 0 ? 224 : 300;
		m->input_height = i == 0 ? 224 : 300;
		m->macs = i == 0 ? 300774272u : 800000000u;
		m->parameter_bytes = i == 0 ? 3504872u : 6000000u;
		m->arena_bytes = i == 0 ? 1204224u : 2000000u;
		m->load_time_us = i == 0 ? 12345u : 23456u;
		m->description = (char *)"test model";
		m->num_labels = i == 0 ? 1001 : 91;
		c->info_ptrs[i] = m;
	}
}

static void canned_status(fs_canned *c)
{
	static const char *stages[2] = {"inference", "total"};
	canned_models(c);
	mnv2__status_result__init(&c->st);
	c->st.version = (char *)"0.1.0-test";
	c->st.uptime_s = 42;
	c->st.n_models = 2;
	c->st.models = c->info_ptrs;
	mnv2__model_stats__init(&c->stats);
	c->stats.name = (char *)"mobilenet_v2";
	c->stats.requests = 10;
	for (int i = 0; i < 2; i++) {
		mnv2__status_count__init(&c->counts[i]);
		c->counts[i].status = i == 0 ? MNV2__STATUS_CODE__STATUS_OK
					     : MNV2__STATUS_CODE__STATUS_NOT_FOUND;
		c->counts[i].count = i == 0 ? 8 : 2;
		c->count_ptrs[i] = &c->counts[i];
		mnv2__stage_latency__init(&c->lat[i]);
		c->lat[i].stage = (char *)stages[i];
		c->lat[i].p50_us = 1000u * (i + 1);
		c->lat[i].p90_us = 2000u * (i + 1);
		c->lat[i].p99_us = 3000u * (i + 1);
		c->lat_ptrs[i] = &c->lat[i];
	}
	c->stats.n_responses = 2;
	c->stats.responses = c->count_ptrs;
	c->stats.n_latency = 2;
	c->stats.latency = c->lat_ptrs;
	c->stats_ptr = &c->stats;
	c->st.n_stats = 1;
	c->st.stats = &c->stats_ptr;
	c->st.queue_depth = 1;
	c->st.queue_capacity = 64;
	c->st.queue_high_water = 5;
	c->st.max_inflight_per_connection = 16;
	c->st.connections = 3;
	c->st.threads = 2;
	c->st.generation = 7;
	c->resp.result_case = MNV2__RESPONSE__RESULT_STATUS_RESULT;
	c->resp.status_result = &c->st;
}

fs_canned *fs_canned_new(const Mnv2__Request *req)
{
	fs_canned *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	mnv2__response__init(&c->resp);
	mnv2__timing__init(&c->timing);
	c->resp.version = 1;
	c->resp.request_id = req->request_id;
	c->timing.queue_us = 1;
	c->timing.decode_us = 2;
	c->timing.preprocess_us = 3;
	c->timing.inference_us = 4;
	c->timing.postprocess_us = 5;
	c->timing.total_us = 15;
	c->resp.timing = &c->timing;
	switch (req->body_case) {
	case MNV2__REQUEST__BODY_CLASSIFY:
		canned_classify(c, req->classify, req->request_id);
		break;
	case MNV2__REQUEST__BODY_DETECT:
		canned_detect(c, req->detect);
		break;
	case MNV2__REQUEST__BODY_STATUS:
		canned_status(c);
		break;
	case MNV2__REQUEST__BODY_LIST_MODELS:
		canned_models(c);
		mnv2__list_models_result__init(&c->models);
		c->models.n_models = 2;
		c->models.models = c->info_ptrs;
		c->resp.result_case = MNV2__RESPONSE__RESULT_MODELS;
		c->resp.models = &c->models;
		break;
	case MNV2__REQUEST__BODY_RELOAD:
		mnv2__reload_result__init(&c->reload);
		c->reload.generation = 8;
		c->reload.models = 2;
		c->resp.result_case = MNV2__RESPONSE__RESULT_RELOAD;
		c->resp.reload = &c->reload;
		break;
	default:
		c->resp.status = MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT;
		c->resp.message = (char *)"request has no body";
		break;
	}
	return c;
}

Mnv2__Response *fs_canned_response(fs_canned *c)
{
	return &c->resp;
}

void fs_canned_free(fs_canned *c)
{
	free(c);
}

void fs_script_echo(int fd, void *arg)
{
	(void)arg;
	Mnv2__Request *req;
	while ((req = fs_read_request(fd))) {
		fs_canned *c = fs_canned_new(req);
		int rc = fs_write_response(fd, fs_canned_response(c));
		fs_canned_free(c);
		mnv2__request__free_unpacked(req, NULL);
		if (rc != 0)
			break;
	}
}

void fs_drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof buf) > 0) {
	}
}
