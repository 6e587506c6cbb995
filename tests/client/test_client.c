/* libmnv2client against scripted fake servers: blocking and pipelined calls, result
 * conversion, out-of-order responses, and every way a server can break the protocol. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_server.h"
#include "mnv2/client.h"

static mnv2c_client *pair_client(fs_script script, void *arg, fake_server **srv)
{
	int fd;
	mnv2c_error err;
	*srv = fs_start_pair(script, arg, &fd);
	mnv2c_client *c = mnv2c_from_fd(fd, &err);
	ck_assert_msg(c != NULL, "from_fd: %s", err.message);
	mnv2c_set_timeout_ms(c, 10000);
	return c;
}

static const uint8_t jpeg_bytes[] = {0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8};

/* ---- blocking calls and result conversion ------------------------------------------- */

START_TEST(test_classify_blocking)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(fs_script_echo, NULL, &srv);
	mnv2c_image im = mnv2c_image_encoded(jpeg_bytes, sizeof jpeg_bytes);
	mnv2c_options opt = {.model = "mnv2", .top_k = 3, .score_threshold = 0.25f,
			     .resize = MNV2C_RESIZE_LETTERBOX, .deadline_ms = 500,
			     .filter = MNV2C_FILTER_BILINEAR};
	mnv2c_classify_result *r = NULL;
	mnv2c_error err;
	char want[64];

	ck_assert_int_eq(mnv2c_classify(c, &im, &opt, &r, &err), MNV2C_OK);
	ck_assert_int_eq(err.code, MNV2C_OK);
	ck_assert_str_eq(r->model, "mnv2");
	ck_assert_uint_eq(r->n_classes, 3);
	ck_assert_uint_eq(r->classes[0].index, 1); /* the first request id */
	snprintf(want, sizeof want, "len=%zu sum=%08x", sizeof jpeg_bytes,
		 fs_checksum(jpeg_bytes, sizeof jpeg_bytes));
	ck_assert_str_eq(r->classes[0].label, want);
	ck_assert_str_eq(r->classes[1].label, "top_k=3 thr=0.25 max=0 resize=2 filter=2");
	ck_assert_str_eq(r->classes[2].label, "tabby \"cat\"\\\n\t\x01 caf\xc3\xa9");
	ck_assert_float_eq(r->classes[0].score, 0.5f);
	ck_assert_uint_eq(r->timing.queue_us, 1);
	ck_assert_uint_eq(r->timing.decode_us, 2);
	ck_assert_uint_eq(r->timing.preprocess_us, 3);
	ck_assert_uint_eq(r->timing.inference_us, 4);
	ck_assert_uint_eq(r->timing.postprocess_us, 5);
	ck_assert_uint_eq(r->timing.total_us, 15);
	mnv2c_classify_result_free(r);
	ck_assert_uint_eq(mnv2c_outstanding(c), 0);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

START_TEST(test_detect_status_models_reload)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(fs_script_echo, NULL, &srv);
	mnv2c_image im = mnv2c_image_encoded(jpeg_bytes, sizeof jpeg_bytes);
	mnv2c_detect_result *d;
	mnv2c_server_status *st;
	mnv2c_model_list *ml;
	mnv2c_reload_result *rl;
	mnv2c_error err;

	ck_assert_int_eq(mnv2c_detect(c, &im, NULL, &d, &err), MNV2C_OK);
	ck_assert_str_eq(d->model, "ssd_mobilenet_v2");
	ck_assert_uint_eq(d->image_width, 640);
	ck_assert_uint_eq(d->image_height, 480);
	ck_assert_uint_eq(d->n_detections, 2);
	ck_assert_str_eq(d->detections[0].label, "person");
	ck_assert_uint_eq(d->detections[1].class_id, 17);
	ck_assert_float_eq(d->detections[0].score, 0.875f);
	ck_assert_float_eq(d->detections[0].box.xmin, 10.5f);
	ck_assert_float_eq(d->detections[0].box.ymax, 200.0f);
	ck_assert_float_eq(d->detections[0].box_normalized.ymax, 200.0f / 480);
	ck_assert_uint_eq(d->timing.total_us, 15);
	mnv2c_detect_result_free(d);

	ck_assert_int_eq(mnv2c_status(c, &st, &err), MNV2C_OK);
	ck_assert_str_eq(st->version, "0.1.0-test");
	ck_assert_uint_eq(st->uptime_s, 42);
	ck_assert_uint_eq(st->n_models, 2);
	ck_assert_int_eq(st->models[1].kind, MNV2C_MODEL_DETECTOR);
	ck_assert_uint_eq(st->models[0].macs, 300774272u);
	ck_assert_uint_eq(st->n_stats, 1);
	ck_assert_uint_eq(st->stats[0].n_responses, 2);
	ck_assert_int_eq(st->stats[0].responses[1].status, MNV2C_NOT_FOUND);
	ck_assert_uint_eq(st->stats[0].responses[1].count, 2);
	ck_assert_str_eq(st->stats[0].latency[1].stage, "total");
	ck_assert_uint_eq(st->stats[0].latency[1].p99_us, 6000);
	ck_assert_uint_eq(st->queue_capacity, 64);
	ck_assert_uint_eq(st->queue_high_water, 5);
	ck_assert_uint_eq(st->max_inflight_per_connection, 16);
	ck_assert_uint_eq(st->generation, 7);
	mnv2c_server_status_free(st);

	ck_assert_int_eq(mnv2c_list_models(c, &ml, &err), MNV2C_OK);
	ck_assert_uint_eq(ml->n_models, 2);
	ck_assert_str_eq(ml->models[0].name, "mobilenet_v2");
	ck_assert_str_eq(ml->models[1].path, "/models/ssd.tflite");
	ck_assert_uint_eq(ml->models[1].input_width, 300);
	ck_assert_uint_eq(ml->models[0].num_labels, 1001);
	mnv2c_model_list_free(ml);

	ck_assert_int_eq(mnv2c_reload(c, &rl, &err), MNV2C_OK);
	ck_assert_uint_eq(rl->generation, 8);
	ck_assert_uint_eq(rl->models, 2);
	mnv2c_reload_result_free(rl);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

START_TEST(test_raw_frame_encoding)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(fs_script_echo, NULL, &srv);
	static uint8_t px[240 * 3 + 100 * 730];
	mnv2c_image im = mnv2c_image_raw(MNV2C_PIX_BGR888, 240, 101, 730, px, sizeof px);
	mnv2c_classify_result *r;
	mnv2c_error err;

	ck_assert_int_eq(mnv2c_classify(c, &im, NULL, &r, &err), MNV2C_OK);
	ck_assert_str_eq(r->model, "mobilenet_v2");
	ck_assert_str_eq(r->classes[0].label, "raw fmt=2 240x101 stride=730 len=73720");
	ck_assert_str_eq(r->classes[1].label, "top_k=0 thr=0 max=0 resize=0 filter=0");
	mnv2c_classify_result_free(r);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* Bad arguments are refused before anything is sent; the connection stays usable. */
START_TEST(test_usage_errors)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(fs_script_echo, NULL, &srv);
	static uint8_t px[300];
	mnv2c_image short_frame = mnv2c_image_raw(MNV2C_PIX_RGB888, 10, 10, 0, px, sizeof px - 1);
	mnv2c_image bad_stride = mnv2c_image_raw(MNV2C_PIX_RGB888, 10, 1, 29, px, sizeof px);
	mnv2c_image bad_fmt = mnv2c_image_raw((mnv2c_pixel_format)11, 1, 1, 0, px, sizeof px);
	mnv2c_image empty = mnv2c_image_encoded(px, 0);
	mnv2c_image big = mnv2c_image_encoded(px, sizeof px);
	mnv2c_options bad_resize = {.resize = (mnv2c_resize)7};
	mnv2c_options bad_filter = {.filter = (mnv2c_filter)3};
	mnv2c_classify_result *r;
	mnv2c_detect_result *d;
	mnv2c_server_status *st;
	mnv2c_response *resp;
	mnv2c_error err;
	uint64_t id;

	ck_assert_int_eq(mnv2c_classify(c, &short_frame, NULL, &r, &err), MNV2C_ERR_USAGE);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err.message, "raw frame: 10x10 with stride 30 needs 300 bytes, got 299");
	ck_assert_int_eq(mnv2c_classify(c, &bad_stride, NULL, &r, &err), MNV2C_ERR_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "stride 29 is less than width 10"));
	ck_assert_int_eq(mnv2c_classify(c, &bad_fmt, NULL, &r, &err), MNV2C_ERR_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "unknown pixel format 11"));
	ck_assert_int_eq(mnv2c_detect(c, &empty, NULL, &d, &err), MNV2C_ERR_USAGE);
	ck_assert_ptr_null(d);
	ck_assert_str_eq(err.message, "the image is empty");
	ck_assert_int_eq(mnv2c_classify(c, NULL, NULL, &r, &err), MNV2C_ERR_USAGE);
	ck_assert_int_eq(mnv2c_classify(c, &big, &bad_resize, &r, &err), MNV2C_ERR_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "resize mode 7"));
	ck_assert_int_eq(mnv2c_detect(c, &big, &bad_filter, &d, &err), MNV2C_ERR_USAGE);
	ck_assert_str_eq(err.message, "unknown resize filter 3");
	ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_STATUS, &big, NULL, &id, &err), MNV2C_ERR_USAGE);
	ck_assert_int_eq(mnv2c_send(c, (mnv2c_request_kind)42, NULL, NULL, &id, &err),
			 MNV2C_ERR_USAGE);
	mnv2c_set_max_frame_bytes(c, 200);
	ck_assert_int_eq(mnv2c_classify(c, &big, NULL, &r, &err), MNV2C_ERR_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "exceeds the frame limit of 200 bytes"));
	ck_assert_int_eq(mnv2c_receive(c, 0, &resp, &err), MNV2C_ERR_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "no request is outstanding"));
	mnv2c_set_max_frame_bytes(c, MNV2C_DEFAULT_MAX_FRAME_BYTES);

	/* nothing reached the server: the next request is id 1 and answered normally */
	ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_STATUS, NULL, NULL, &id, &err), MNV2C_OK);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(mnv2c_receive(c, 5000, &resp, &err), MNV2C_OK);
	ck_assert_uint_eq(resp->request_id, 1);
	ck_assert_int_eq(resp->kind, MNV2C_REQ_STATUS);
	mnv2c_response_free(resp);
	ck_assert_int_eq(mnv2c_status(c, &st, &err), MNV2C_OK);
	mnv2c_server_status_free(st);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* ---- server status codes ------------------------------------------------------------ */

static void script_errors(int fd, void *arg)
{
	(void)arg;
	static const Mnv2__StatusCode codes[] = {
		MNV2__STATUS_CODE__STATUS_NOT_FOUND, MNV2__STATUS_CODE__STATUS_RESOURCE_EXHAUSTED,
		MNV2__STATUS_CODE__STATUS_DEADLINE_EXCEEDED, MNV2__STATUS_CODE__STATUS_INTERNAL};
	for (size_t i = 0; i < 4; i++) {
		Mnv2__Request *req = fs_read_request(fd);
		Mnv2__Response r;
		char msg[64];
		if (!req)
			return;
		mnv2__response__init(&r);
		r.version = 1;
		r.request_id = req->request_id;
		r.status = codes[i];
		snprintf(msg, sizeof msg, "failure %zu for request %llu", i,
			 (unsigned long long)req->request_id);
		r.message = msg;
		fs_write_response(fd, &r);
		mnv2__request__free_unpacked(req, NULL);
	}
	fs_drain(fd);
}

START_TEST(test_server_status_codes)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(script_errors, NULL, &srv);
	mnv2c_image im = mnv2c_image_encoded(jpeg_bytes, sizeof jpeg_bytes);
	mnv2c_options opt = {.model = "nope"};
	mnv2c_classify_result *r;
	mnv2c_detect_result *d;
	mnv2c_response *resp;
	mnv2c_error err;

	ck_assert_int_eq(mnv2c_classify(c, &im, &opt, &r, &err), MNV2C_NOT_FOUND);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(err.code, MNV2C_NOT_FOUND);
	ck_assert_str_eq(err.message, "failure 0 for request 1");
	ck_assert_int_eq(mnv2c_detect(c, &im, NULL, &d, &err), MNV2C_RESOURCE_EXHAUSTED);
	ck_assert_str_eq(mnv2c_code_name(err.code), "RESOURCE_EXHAUSTED");
	/* the asynchronous path reports the status in the response itself */
	ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_DETECT, &im, NULL, NULL, &err), MNV2C_OK);
	ck_assert_int_eq(mnv2c_receive(c, 5000, &resp, &err), MNV2C_OK);
	ck_assert_int_eq(resp->status, MNV2C_DEADLINE_EXCEEDED);
	ck_assert_str_eq(resp->message, "failure 2 for request 3");
	ck_assert_ptr_null(resp->detect);
	mnv2c_response_free(resp);
	ck_assert_int_eq(mnv2c_status(c, (mnv2c_server_status **)&d, &err), MNV2C_INTERNAL);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* ---- pipelining ----------------------------------------------------------------------- */

#define PIPELINE_N 32

/* Reads all requests, then answers them in reverse order. */
static void script_reverse(int fd, void *arg)
{
	int n = *(int *)arg;
	Mnv2__Request *reqs[PIPELINE_N];
	for (int i = 0; i < n; i++)
		if (!(reqs[i] = fs_read_request(fd)))
			abort();
	for (int i = n - 1; i >= 0; i--) {
		fs_canned *cn = fs_canned_new(reqs[i]);
		fs_write_response(fd, fs_canned_response(cn));
		fs_canned_free(cn);
		mnv2__request__free_unpacked(reqs[i], NULL);
	}
	fs_drain(fd);
}

START_TEST(test_pipelined_out_of_order)
{
	int n = PIPELINE_N;
	fake_server *srv;
	mnv2c_client *c = pair_client(script_reverse, &n, &srv);
	uint64_t ids[PIPELINE_N];
	uint8_t imgs[PIPELINE_N][16];
	mnv2c_error err;

	for (int i = 0; i < n; i++) {
		memset(imgs[i], i, sizeof imgs[i]);
		mnv2c_image im = mnv2c_image_encoded(imgs[i], sizeof imgs[i]);
		mnv2c_request_kind k = i % 3 == 0 ? MNV2C_REQ_DETECT : MNV2C_REQ_CLASSIFY;
		ck_assert_int_eq(mnv2c_send(c, k, &im, NULL, &ids[i], &err), MNV2C_OK);
		ck_assert_uint_eq(ids[i], (uint64_t)i + 1);
	}
	ck_assert_uint_eq(mnv2c_outstanding(c), n);
	for (int i = n - 1; i >= 0; i--) {
		mnv2c_response *r;
		ck_assert_int_eq(mnv2c_receive(c, 5000, &r, &err), MNV2C_OK);
		ck_assert_uint_eq(r->request_id, ids[i]);
		ck_assert_int_eq(r->status, MNV2C_OK);
		if (i % 3 == 0) {
			ck_assert_int_eq(r->kind, MNV2C_REQ_DETECT);
			ck_assert_ptr_nonnull(r->detect);
			ck_assert_ptr_null(r->classify);
		} else {
			char want[64];
			ck_assert_int_eq(r->kind, MNV2C_REQ_CLASSIFY);
			snprintf(want, sizeof want, "len=16 sum=%08x", fs_checksum(imgs[i], 16));
			ck_assert_str_eq(r->classify->classes[0].label, want);
			ck_assert_uint_eq(r->classify->classes[0].index, ids[i]);
		}
		mnv2c_response_free(r);
	}
	ck_assert_uint_eq(mnv2c_outstanding(c), 0);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* A blocking call in the middle of pipelined requests picks its own answer and keeps the
 * others for mnv2c_receive. */
START_TEST(test_blocking_call_amid_pipeline)
{
	int n = 4;
	fake_server *srv;
	mnv2c_client *c = pair_client(script_reverse, &n, &srv);
	mnv2c_error err;
	mnv2c_server_status *st;
	mnv2c_response *r;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_LIST_MODELS, NULL, NULL, NULL, &err),
				 MNV2C_OK);
	ck_assert_int_eq(mnv2c_status(c, &st, &err), MNV2C_OK); /* id 4, answered first */
	ck_assert_uint_eq(st->generation, 7);
	mnv2c_server_status_free(st);
	for (uint64_t want = 3; want >= 1; want--) {
		ck_assert_int_eq(mnv2c_receive(c, 5000, &r, &err), MNV2C_OK);
		ck_assert_uint_eq(r->request_id, want);
		ck_assert_ptr_nonnull(r->models);
		mnv2c_response_free(r);
	}
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* Large requests and large responses at once: the server writes (blocking) while the
 * client is still sending, so mnv2c_send must read responses while it waits to write. */
#define FLOOD_N 48
#define FLOOD_BYTES (256 * 1024)

static void script_big_answers(int fd, void *arg)
{
	(void)arg;
	static char label[FLOOD_BYTES];
	memset(label, 'x', sizeof label - 1);
	Mnv2__Request *req;
	while ((req = fs_read_request(fd))) {
		Mnv2__Response r;
		Mnv2__ClassifyResult cr;
		Mnv2__Class cl, *clp = &cl;
		mnv2__response__init(&r);
		mnv2__classify_result__init(&cr);
		mnv2__class__init(&cl);
		r.version = 1;
		r.request_id = req->request_id;
		r.result_case = MNV2__RESPONSE__RESULT_CLASSIFY;
		r.classify = &cr;
		cr.n_classes = 1;
		cr.classes = &clp;
		cl.label = label;
		cl.index = fs_checksum(req->classify->image->encoded.data,
				       req->classify->image->encoded.len);
		int rc = fs_write_response(fd, &r);
		mnv2__request__free_unpacked(req, NULL);
		if (rc != 0)
			break;
	}
}

START_TEST(test_flood_no_deadlock)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(script_big_answers, NULL, &srv);
	uint8_t *img = malloc(FLOOD_BYTES);
	uint32_t sums[FLOOD_N + 1];
	mnv2c_error err;
	int got = 0;

	mnv2c_set_max_pending_bytes(c, 1 << 20);
	for (int i = 0; i < FLOOD_N; i++) {
		uint64_t id;
		memset(img, i * 7 + 1, FLOOD_BYTES);
		mnv2c_image im = mnv2c_image_encoded(img, FLOOD_BYTES);
		ck_assert_msg(mnv2c_send(c, MNV2C_REQ_CLASSIFY, &im, NULL, &id, &err) == MNV2C_OK,
			      "send %d: %s", i, err.message);
		sums[id] = fs_checksum(img, FLOOD_BYTES);
	}
	free(img);
	while (mnv2c_outstanding(c) > 0) {
		mnv2c_response *r;
		ck_assert_msg(mnv2c_receive(c, 10000, &r, &err) == MNV2C_OK, "%s", err.message);
		ck_assert_uint_eq(r->classify->classes[0].index, sums[r->request_id]);
		ck_assert_uint_eq(strlen(r->classify->classes[0].label), FLOOD_BYTES - 1);
		mnv2c_response_free(r);
		got++;
	}
	ck_assert_int_eq(got, FLOOD_N);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* poll() integration: the fd and the events it asks for drive all I/O. */
START_TEST(test_poll_integration)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(fs_script_echo, NULL, &srv);
	mnv2c_error err;
	int seen = 0, rounds = 0;

	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_RELOAD, NULL, NULL, NULL, &err), MNV2C_OK);
	ck_assert_int_ge(mnv2c_fd(c), 0);
	while (seen < 5 && rounds++ < 1000) {
		struct pollfd p = {mnv2c_fd(c), mnv2c_events(c), 0};
		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		mnv2c_response *r;
		mnv2c_code rc;
		while ((rc = mnv2c_receive(c, 0, &r, &err)) == MNV2C_OK) {
			ck_assert_uint_eq(r->reload->generation, 8);
			mnv2c_response_free(r);
			seen++;
		}
		ck_assert_msg(rc == MNV2C_ERR_TIMEOUT || (rc == MNV2C_ERR_USAGE && seen == 5),
			      "%s", err.message);
	}
	ck_assert_int_eq(seen, 5);
	ck_assert_int_eq(mnv2c_events(c), POLLIN);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

static void count_cb(const mnv2c_response *r, void *user)
{
	uint64_t *mask = user;
	ck_assert_int_eq(r->status, MNV2C_OK);
	*mask |= (uint64_t)1 << r->request_id;
}

START_TEST(test_dispatch_callback)
{
	int n = 6;
	fake_server *srv;
	mnv2c_client *c = pair_client(script_reverse, &n, &srv);
	mnv2c_error err;
	uint64_t mask = 0;
	size_t total = 0, k;

	for (int i = 0; i < n; i++)
		ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_STATUS, NULL, NULL, NULL, &err), MNV2C_OK);
	ck_assert_int_eq(mnv2c_flush(c, 5000, &err), MNV2C_OK);
	while (total < (size_t)n) {
		ck_assert_int_eq(mnv2c_dispatch(c, 5000, count_cb, &mask, &k, &err), MNV2C_OK);
		ck_assert_uint_ge(k, 1);
		total += k;
	}
	ck_assert_uint_eq(total, 6);
	ck_assert_uint_eq(mask, 0x7e); /* ids 1..6 */
	ck_assert_int_eq(mnv2c_dispatch(c, 0, count_cb, &mask, &k, &err), MNV2C_ERR_USAGE);
	ck_assert_uint_eq(k, 0);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* ---- timeouts --------------------------------------------------------------------------- */

/* Answers the first request late, then everything normally. */
static void script_slow_first(int fd, void *arg)
{
	(void)arg;
	Mnv2__Request *req = fs_read_request(fd);
	if (!req)
		return;
	usleep(300 * 1000);
	fs_canned *cn = fs_canned_new(req);
	fs_write_response(fd, fs_canned_response(cn));
	fs_canned_free(cn);
	mnv2__request__free_unpacked(req, NULL);
	fs_script_echo(fd, NULL);
}

START_TEST(test_timeout_then_late_answer_dropped)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(script_slow_first, NULL, &srv);
	mnv2c_image im = mnv2c_image_encoded(jpeg_bytes, sizeof jpeg_bytes);
	mnv2c_classify_result *r;
	mnv2c_error err;

	mnv2c_set_timeout_ms(c, 50);
	ck_assert_int_eq(mnv2c_timeout_ms(c), 50);
	ck_assert_int_eq(mnv2c_classify(c, &im, NULL, &r, &err), MNV2C_ERR_TIMEOUT);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(mnv2c_outstanding(c), 0); /* abandoned */
	mnv2c_set_timeout_ms(c, 5000);
	/* the late answer to request 1 arrives first and is dropped silently */
	ck_assert_int_eq(mnv2c_classify(c, &im, NULL, &r, &err), MNV2C_OK);
	ck_assert_uint_eq(r->classes[0].index, 2);
	mnv2c_classify_result_free(r);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

START_TEST(test_receive_timeout_keeps_connection)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(script_slow_first, NULL, &srv);
	mnv2c_response *r;
	mnv2c_error err;
	uint64_t id;

	ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_STATUS, NULL, NULL, &id, &err), MNV2C_OK);
	ck_assert_int_eq(mnv2c_receive(c, 0, &r, &err), MNV2C_ERR_TIMEOUT);
	ck_assert_int_eq(mnv2c_receive(c, 20, &r, &err), MNV2C_ERR_TIMEOUT);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(mnv2c_receive(c, -1, &r, &err), MNV2C_OK);
	ck_assert_uint_eq(r->request_id, id);
	mnv2c_response_free(r);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

/* ---- broken servers ------------------------------------------------------------------- */

typedef struct bad_reply {
	const uint8_t *bytes; /* written after reading one request */
	size_t len;
	int keep_open;        /* drain until the client closes instead of closing */
} bad_reply;

static void script_bad(int fd, void *arg)
{
	const bad_reply *b = arg;
	Mnv2__Request *req = fs_read_request(fd);
	if (req)
		mnv2__request__free_unpacked(req, NULL);
	fs_write_all(fd, b->bytes, b->len);
	if (b->keep_open)
		fs_drain(fd);
}

/* Runs one status call against a server that answers with b; returns the error. */
static mnv2c_code broken_call(const bad_reply *b, size_t max_frame, mnv2c_error *err)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(script_bad, (void *)b, &srv);
	mnv2c_server_status *st;
	if (max_frame)
		mnv2c_set_max_frame_bytes(c, max_frame);
	mnv2c_code rc = mnv2c_status(c, &st, err);
	ck_assert_ptr_null(st);
	/* sticky: the next call fails the same way without touching the socket */
	mnv2c_error again;
	ck_assert_int_eq(mnv2c_status(c, &st, &again), rc);
	ck_assert_str_eq(again.message, err->message);
	ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_STATUS, NULL, NULL, NULL, &again), rc);
	mnv2c_close(c);
	fs_join(srv);
	return rc;
}

START_TEST(test_oversized_length)
{
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xf0, 1, 2, 3};
	bad_reply b = {huge, sizeof huge, 1};
	mnv2c_error err;
	ck_assert_int_eq(broken_call(&b, 0, &err), MNV2C_ERR_PROTOCOL);
	ck_assert_str_eq(err.message, "response frame length 4294967280 exceeds the limit of "
				      "33554432 bytes (length bytes ff ff ff f0)");
}
END_TEST

START_TEST(test_length_over_configured_max)
{
	static const uint8_t len1025[] = {0, 0, 4, 1};
	bad_reply b = {len1025, sizeof len1025, 1};
	mnv2c_error err;
	ck_assert_int_eq(broken_call(&b, 1024, &err), MNV2C_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(err.message, "length 1025 exceeds the limit of 1024 bytes"));
}
END_TEST

START_TEST(test_truncated_frame)
{
	static const uint8_t trunc[] = {0, 0, 0, 100, 8, 1, 16, 1, 0, 0, 0, 0, 0, 0};
	bad_reply b = {trunc, sizeof trunc, 0};
	mnv2c_error err;
	ck_assert_int_eq(broken_call(&b, 0, &err), MNV2C_ERR_CLOSED);
	ck_assert_str_eq(err.message, "server closed the connection in the middle of a frame "
				      "(10 of 100 payload bytes received)");
}
END_TEST

START_TEST(test_close_mid_length)
{
	static const uint8_t two[] = {0, 0};
	bad_reply b = {two, sizeof two, 0};
	mnv2c_error err;
	ck_assert_int_eq(broken_call(&b, 0, &err), MNV2C_ERR_CLOSED);
	ck_assert_ptr_nonnull(strstr(err.message, "(2 of 4 length bytes received)"));
}
END_TEST

START_TEST(test_close_without_answer)
{
	bad_reply b = {NULL, 0, 0};
	mnv2c_error err;
	ck_assert_int_eq(broken_call(&b, 0, &err), MNV2C_ERR_CLOSED);
	ck_assert_str_eq(err.message, "server closed the connection");
	ck_assert_str_eq(mnv2c_code_name(err.code), "CONNECTION_CLOSED");
}
END_TEST

START_TEST(test_garbage_payload)
{
	static const uint8_t junk[] = {0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	bad_reply b = {junk, sizeof junk, 1};
	mnv2c_error err;
	ck_assert_int_eq(broken_call(&b, 0, &err), MNV2C_ERR_PROTOCOL);
	ck_assert_str_eq(err.message, "cannot decode a 8-byte response frame as mnv2.Response");
}
END_TEST

START_TEST(test_garbage_text)
{
	/* "HTTP/1.1 400" read as a length is 0x48545450: over the limit */
	static const uint8_t text[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	bad_reply b = {text, sizeof text - 1, 1};
	mnv2c_error err;
	ck_assert_int_eq(broken_call(&b, 0, &err), MNV2C_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(err.message, "length 1213486160 exceeds"));
}
END_TEST

/* A well-formed frame with something wrong in it, built from a Response. */
static void packed_frame(const Mnv2__Response *r, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n = mnv2__response__get_packed_size(r);
	ck_assert_uint_le(n + 4, cap);
	buf[0] = buf[1] = 0;
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	mnv2__response__pack(r, buf + 4);
	*len = n + 4;
}

START_TEST(test_bad_response_fields)
{
	static const struct {
		uint32_t version;
		uint64_t id;
		int status;
		Mnv2__Response__ResultCase rc;
		mnv2c_code want;
		const char *msg;
	} cases[] = {
		{2, 1, 0, MNV2__RESPONSE__RESULT_STATUS_RESULT, MNV2C_ERR_PROTOCOL,
		 "server speaks protocol version 2, this client version 1"},
		{0, 1, 0, MNV2__RESPONSE__RESULT_STATUS_RESULT, MNV2C_ERR_PROTOCOL,
		 "server speaks protocol version 0, this client version 1"},
		{1, 99, 0, MNV2__RESPONSE__RESULT_STATUS_RESULT, MNV2C_ERR_PROTOCOL,
		 "server answered request_id 99, which is not outstanding"},
		{1, 1, 0, MNV2__RESPONSE__RESULT_RELOAD, MNV2C_ERR_PROTOCOL,
		 "server answered request_id 1 with result field 14, expected 12"},
		{1, 1, 0, MNV2__RESPONSE__RESULT__NOT_SET, MNV2C_ERR_PROTOCOL,
		 "server answered request_id 1 with result field 0, expected 12"},
		{1, 0, 0, MNV2__RESPONSE__RESULT__NOT_SET, MNV2C_ERR_PROTOCOL,
		 "server sent an OK response for request_id 0"},
		{1, 0, 3, MNV2__RESPONSE__RESULT__NOT_SET, MNV2C_PERMISSION_DENIED,
		 "uid 1234 may not use this socket"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Mnv2__Response r;
		Mnv2__StatusResult st;
		Mnv2__ReloadResult rl;
		uint8_t buf[256];
		size_t len;
		mnv2c_error err;
		mnv2__response__init(&r);
		mnv2__status_result__init(&st);
		mnv2__reload_result__init(&rl);
		r.version = cases[i].version;
		r.request_id = cases[i].id;
		r.status = (Mnv2__StatusCode)cases[i].status;
		r.result_case = cases[i].rc;
		if (cases[i].rc == MNV2__RESPONSE__RESULT_STATUS_RESULT)
			r.status_result = &st;
		else if (cases[i].rc == MNV2__RESPONSE__RESULT_RELOAD)
			r.reload = &rl;
		if (cases[i].status)
			r.message = (char *)cases[i].msg;
		packed_frame(&r, buf, sizeof buf, &len);
		bad_reply b = {buf, len, 0};
		ck_assert_int_eq(broken_call(&b, 0, &err), cases[i].want);
		ck_assert_str_eq(err.message, cases[i].msg);
	}
}
END_TEST

/* The server refuses the peer at once (request_id 0, PERMISSION_DENIED) and closes without
 * reading; the client reports the server's reason, not a broken pipe. */
static void script_deny(int fd, void *arg)
{
	(void)arg;
	Mnv2__Response r;
	mnv2__response__init(&r);
	r.version = 1;
	r.status = MNV2__STATUS_CODE__STATUS_PERMISSION_DENIED;
	r.message = (char *)"uid 1234 is not allowed";
	fs_write_response(fd, &r);
	shutdown(fd, SHUT_RDWR);
}

START_TEST(test_permission_denied_on_connect)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(script_deny, NULL, &srv);
	mnv2c_image im = mnv2c_image_encoded(jpeg_bytes, sizeof jpeg_bytes);
	mnv2c_classify_result *r;
	mnv2c_error err;

	fs_join(srv); /* the server has already closed when the request goes out */
	ck_assert_int_eq(mnv2c_classify(c, &im, NULL, &r, &err), MNV2C_PERMISSION_DENIED);
	ck_assert_str_eq(err.message, "uid 1234 is not allowed");
	mnv2c_close(c);
}
END_TEST

/* Responses already received before the server hung up are still handed out. */
static void script_two_then_close(int fd, void *arg)
{
	(void)arg;
	Mnv2__Request *a = fs_read_request(fd), *b = fs_read_request(fd), *cq = fs_read_request(fd);
	Mnv2__Request *qs[2] = {b, a};
	for (int i = 0; i < 2; i++) {
		fs_canned *cn = fs_canned_new(qs[i]);
		fs_write_response(fd, fs_canned_response(cn));
		fs_canned_free(cn);
	}
	mnv2__request__free_unpacked(a, NULL);
	mnv2__request__free_unpacked(b, NULL);
	mnv2__request__free_unpacked(cq, NULL);
}

START_TEST(test_responses_before_close_delivered)
{
	fake_server *srv;
	mnv2c_client *c = pair_client(script_two_then_close, NULL, &srv);
	mnv2c_response *r;
	mnv2c_error err;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(mnv2c_send(c, MNV2C_REQ_STATUS, NULL, NULL, NULL, &err), MNV2C_OK);
	fs_join(srv);
	ck_assert_int_eq(mnv2c_receive(c, 5000, &r, &err), MNV2C_OK);
	ck_assert_uint_eq(r->request_id, 2);
	mnv2c_response_free(r);
	ck_assert_int_eq(mnv2c_receive(c, 5000, &r, &err), MNV2C_OK);
	ck_assert_uint_eq(r->request_id, 1);
	mnv2c_response_free(r);
	ck_assert_int_eq(mnv2c_receive(c, 5000, &r, &err), MNV2C_ERR_CLOSED);
	ck_assert_ptr_null(r);
	mnv2c_close(c);
}
END_TEST

/* ---- connecting ---------------------------------------------------------------------- */

START_TEST(test_connect_real_socket)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 1);
	mnv2c_error err;
	mnv2c_client *c = mnv2c_connect(fs_path(srv), &err);
	mnv2c_model_list *ml;
	ck_assert_msg(c != NULL, "%s", err.message);
	ck_assert_int_eq(mnv2c_list_models(c, &ml, &err), MNV2C_OK);
	ck_assert_uint_eq(ml->n_models, 2);
	mnv2c_model_list_free(ml);
	mnv2c_close(c);
	fs_join(srv);
}
END_TEST

START_TEST(test_connect_env_default)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 1);
	mnv2c_error err;
	mnv2c_reload_result *rl;

	setenv("MNV2_SOCKET", fs_path(srv), 1);
	ck_assert_str_eq(mnv2c_default_socket_path(), fs_path(srv));
	mnv2c_client *c = mnv2c_connect(NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.message);
	ck_assert_int_eq(mnv2c_reload(c, &rl, &err), MNV2C_OK);
	mnv2c_reload_result_free(rl);
	mnv2c_close(c);
	fs_join(srv);
	setenv("MNV2_SOCKET", "", 1);
	ck_assert_str_eq(mnv2c_default_socket_path(), "/run/mnv2d/mnv2d.sock");
	unsetenv("MNV2_SOCKET");
	ck_assert_str_eq(mnv2c_default_socket_path(), MNV2C_DEFAULT_SOCKET);
}
END_TEST

START_TEST(test_connect_errors)
{
	mnv2c_error err;
	char longpath[200];

	ck_assert_ptr_null(mnv2c_connect("/nonexistent-dir/mnv2d.sock", &err));
	ck_assert_int_eq(err.code, MNV2C_ERR_CONNECT);
	ck_assert_int_eq(err.sys_errno, ENOENT);
	ck_assert_str_eq(err.message,
			 "cannot connect to /nonexistent-dir/mnv2d.sock: No such file or directory");
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	ck_assert_ptr_null(mnv2c_connect_timeout(longpath, 100, &err));
	ck_assert_int_eq(err.code, MNV2C_ERR_CONNECT);
	ck_assert_ptr_nonnull(strstr(err.message, "socket path too long (199 bytes, at most 107)"));
	ck_assert_ptr_null(mnv2c_connect("", &err));
	ck_assert_ptr_nonnull(strstr(err.message, "socket path empty"));
	/* a regular file is not a socket */
	ck_assert_ptr_null(mnv2c_connect("/dev/null", &err));
	ck_assert_int_eq(err.sys_errno, ECONNREFUSED);
	ck_assert_ptr_null(mnv2c_from_fd(-1, &err));
	ck_assert_int_eq(err.code, MNV2C_ERR_USAGE);
	mnv2c_close(NULL); /* allowed */
}
END_TEST

START_TEST(test_names_and_helpers)
{
	ck_assert_str_eq(mnv2c_code_name(MNV2C_OK), "OK");
	ck_assert_str_eq(mnv2c_code_name(MNV2C_INVALID_ARGUMENT), "INVALID_ARGUMENT");
	ck_assert_str_eq(mnv2c_code_name(MNV2C_UNAVAILABLE), "UNAVAILABLE");
	ck_assert_str_eq(mnv2c_code_name(MNV2C_ERR_TIMEOUT), "TIMEOUT");
	ck_assert_str_eq(mnv2c_code_name(MNV2C_ERR_PROTOCOL), "PROTOCOL_ERROR");
	ck_assert_str_eq(mnv2c_code_name(99), "UNKNOWN");
	ck_assert_str_eq(mnv2c_model_kind_name(MNV2C_MODEL_CLASSIFIER), "classifier");
	ck_assert_str_eq(mnv2c_model_kind_name(5), "unspecified");
	ck_assert_uint_eq(mnv2c_pixel_format_bpp(MNV2C_PIX_RGBA8888), 4);
	ck_assert_uint_eq(mnv2c_pixel_format_bpp(MNV2C_PIX_GRAY8), 1);
	ck_assert_uint_eq(mnv2c_pixel_format_bpp(MNV2C_PIX_UNSPECIFIED), 0);
	/* the public enums mirror the wire enums */
	ck_assert_int_eq(MNV2C_INTERNAL, MNV2__STATUS_CODE__STATUS_INTERNAL);
	ck_assert_int_eq(MNV2C_RESIZE_CENTER_CROP, MNV2__RESIZE_MODE__RESIZE_CENTER_CROP);
	ck_assert_int_eq(MNV2C_FILTER_ANTIALIAS, MNV2__RESIZE_FILTER__RESIZE_FILTER_ANTIALIAS);
	ck_assert_int_eq(MNV2C_FILTER_BILINEAR, MNV2__RESIZE_FILTER__RESIZE_FILTER_BILINEAR);
	ck_assert_int_eq(MNV2C_PIX_GRAY8, MNV2__PIXEL_FORMAT__PIXEL_FORMAT_GRAY8);
	ck_assert_int_eq(MNV2C_MODEL_DETECTOR, MNV2__MODEL_KIND__MODEL_KIND_DETECTOR);
	ck_assert_int_eq(MNV2C_PROTOCOL_VERSION, MNV2__PROTOCOL_VERSION__PROTOCOL_VERSION_1);
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *t = tcase_create("calls");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_classify_blocking);
	tcase_add_test(t, test_detect_status_models_reload);
	tcase_add_test(t, test_raw_frame_encoding);
	tcase_add_test(t, test_usage_errors);
	tcase_add_test(t, test_server_status_codes);
	tcase_add_test(t, test_names_and_helpers);
	suite_add_tcase(s, t);

	t = tcase_create("pipelining");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_pipelined_out_of_order);
	tcase_add_test(t, test_blocking_call_amid_pipeline);
	tcase_add_test(t, test_flood_no_deadlock);
	tcase_add_test(t, test_poll_integration);
	tcase_add_test(t, test_dispatch_callback);
	tcase_add_test(t, test_timeout_then_late_answer_dropped);
	tcase_add_test(t, test_receive_timeout_keeps_connection);
	suite_add_tcase(s, t);

	t = tcase_create("broken-server");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_oversized_length);
	tcase_add_test(t, test_length_over_configured_max);
	tcase_add_test(t, test_truncated_frame);
	tcase_add_test(t, test_close_mid_length);
	tcase_add_test(t, test_close_without_answer);
	tcase_add_test(t, test_garbage_payload);
	tcase_add_test(t, test_garbage_text);
	tcase_add_test(t, test_bad_response_fields);
	tcase_add_test(t, test_permission_denied_on_connect);
	tcase_add_test(t, test_responses_before_close_delivered);
	suite_add_tcase(s, t);

	t = tcase_create("connect");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_connect_real_socket);
	tcase_add_test(t, test_connect_env_default);
	tcase_add_test(t, test_connect_errors);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(client_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
