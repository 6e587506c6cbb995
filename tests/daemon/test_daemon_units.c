/* Unit tests of the daemon's pure modules: stats histograms, the bounded queue, framing,
 * the logger's journal detection, and the request path (intake). */
#include "budget.h"
#include "framing.h"
#include "intake.h"
#include "log.h"
#include "queue.h"
#include "stats.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(hist_buckets)
{
	/* exact below 16; then every bucket holds values with one upper edge */
	for (uint64_t v = 0; v < 16; v++) {
		ck_assert_uint_eq(mnv2d_hist_bucket(v), v);
		ck_assert_uint_eq(mnv2d_hist_upper((unsigned)v), v);
	}
	uint64_t prev_upper = 15;
	for (unsigned b = 16; b < 200; b++) {
		uint64_t up = mnv2d_hist_upper(b);
		ck_assert_uint_gt(up, prev_upper);
		ck_assert_uint_eq(mnv2d_hist_bucket(prev_upper + 1), b);
		ck_assert_uint_eq(mnv2d_hist_bucket(up), b);
		/* relative width at most 1/16 */
		ck_assert_uint_le((up - prev_upper) * 16, prev_upper + 1);
		prev_upper = up;
	}
	ck_assert_uint_eq(mnv2d_hist_bucket(UINT64_MAX), MNV2D_HIST_BUCKETS - 1);
	ck_assert_uint_lt(mnv2d_hist_bucket((uint64_t)1 << 40), MNV2D_HIST_BUCKETS);
}
END_TEST

START_TEST(hist_percentiles)
{
	static mnv2d_hist h;
	memset(&h, 0, sizeof h);
	ck_assert_uint_eq(mnv2d_hist_percentile(&h, NULL, 50), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		mnv2d_hist_add(&h, v * 100);   /* 100 .. 100000 µs */
	uint64_t p50 = mnv2d_hist_percentile(&h, NULL, 50), p90 = mnv2d_hist_percentile(&h, NULL, 90),
		 p99 = mnv2d_hist_percentile(&h, NULL, 99), p100 = mnv2d_hist_percentile(&h, NULL, 100);
	ck_assert_uint_ge(p50, 50000);
	ck_assert_uint_le(p50, 50000 + 50000 / 16);
	ck_assert_uint_ge(p90, 90000);
	ck_assert_uint_le(p90, 90000 + 90000 / 16);
	ck_assert_uint_ge(p99, 99000);
	ck_assert_uint_le(p99, 100000);   /* capped at the largest value */
	ck_assert_uint_eq(p100, 100000);
	static mnv2d_hist h2;
	for (int i = 0; i < 1000; i++)
		mnv2d_hist_add(&h2, 1);   /* together: half the values are 1 */
	ck_assert_uint_eq(mnv2d_hist_percentile(&h, &h2, 50), 1);
	ck_assert_uint_ge(mnv2d_hist_percentile(&h, &h2, 99), 98000);
	memset(&h, 0, sizeof h);
	mnv2d_hist_add(&h, 7);
	ck_assert_uint_eq(mnv2d_hist_percentile(&h, NULL, 50), 7);
	ck_assert_uint_eq(mnv2d_hist_percentile(&h, NULL, 99), 7);
}
END_TEST

START_TEST(stats_windows)
{
	mnv2d_stats *s = malloc(sizeof *s);
	ck_assert_int_eq(mnv2d_stats_init(s), 0);
	const int64_t sec = 1000000, t0 = 1000 * sec;
	const unsigned total = 1u << MNV2D_STAGE_TOTAL;
	mnv2d_timing slow = { .us = { [MNV2D_STAGE_TOTAL] = 9000 }, .stages = total };
	mnv2d_timing fast = { .us = { [MNV2D_STAGE_TOTAL] = 10 }, .stages = total };
	mnv2d_stats_snapshot snap;
	for (int i = 0; i < 10; i++)
		mnv2d_stats_response_at(s, 0, &slow, t0 + i);
	/* next window: the slow ones still count */
	for (int i = 0; i < 10; i++)
		mnv2d_stats_response_at(s, 0, &fast, t0 + 70 * sec);
	mnv2d_stats_snapshot_at(s, &snap, t0 + 71 * sec);
	ck_assert_uint_eq(snap.count[MNV2D_STAGE_TOTAL], 20);
	ck_assert_uint_eq(snap.p99[MNV2D_STAGE_TOTAL], 9000);
	ck_assert_uint_eq(snap.p50[MNV2D_STAGE_TOTAL], 10);
	/* one window later the slow ones are gone; counters stay */
	mnv2d_stats_snapshot_at(s, &snap, t0 + 135 * sec);
	ck_assert_uint_eq(snap.count[MNV2D_STAGE_TOTAL], 10);
	ck_assert_uint_eq(snap.p99[MNV2D_STAGE_TOTAL], 10);
	ck_assert_uint_eq(snap.responses[0], 20);
	/* a long silence empties both */
	mnv2d_stats_snapshot_at(s, &snap, t0 + 1000 * sec);
	ck_assert_uint_eq(snap.count[MNV2D_STAGE_TOTAL], 0);
	ck_assert_uint_eq(snap.p50[MNV2D_STAGE_TOTAL], 0);
	mnv2d_stats_destroy(s);
	free(s);
}
END_TEST

START_TEST(stats_counts)
{
	mnv2d_stats *s = malloc(sizeof *s);
	ck_assert_int_eq(mnv2d_stats_init(s), 0);
	mnv2d_timing t = { .us = { 10, 20, 30, 40, 50, 150 }, .stages = 0x3f };
	mnv2d_timing q = { .us = { 999 }, .stages = 1 };
	for (int i = 0; i < 3; i++)
		mnv2d_stats_request(s);
	mnv2d_stats_response(s, 0, &t);
	mnv2d_stats_response(s, 0, &t);
	mnv2d_stats_response(s, 5, &q);
	mnv2d_stats_response(s, 4, NULL);
	mnv2d_stats_response(s, 99, NULL);   /* out of range: ignored */
	mnv2d_stats_snapshot snap;
	mnv2d_stats_snapshot_get(s, &snap);
	ck_assert_uint_eq(snap.requests, 3);
	ck_assert_uint_eq(snap.responses[0], 2);
	ck_assert_uint_eq(snap.responses[5], 1);
	ck_assert_uint_eq(snap.responses[4], 1);
	ck_assert_uint_eq(snap.count[MNV2D_STAGE_QUEUE], 3);
	ck_assert_uint_eq(snap.count[MNV2D_STAGE_TOTAL], 2);
	ck_assert_uint_eq(snap.p50[MNV2D_STAGE_INFERENCE], 40);
	ck_assert_uint_eq(snap.p99[MNV2D_STAGE_QUEUE], 999);
	ck_assert_str_eq(mnv2d_stage_name(MNV2D_STAGE_POSTPROCESS), "postprocess");
	mnv2d_stats_destroy(s);
	free(s);
}
END_TEST

static mnv2d_job *job(void *owner, uint64_t id)
{
	mnv2d_job *j = calloc(1, sizeof *j);
	j->owner = owner;
	j->request_id = id;
	return j;
}

START_TEST(queue_bounds_and_cancel)
{
	mnv2d_queue q;
	int a, b;
	ck_assert_int_eq(mnv2d_queue_init(&q, 3), 0);
	mnv2d_job *j1 = job(&a, 1), *j2 = job(&b, 2), *j3 = job(&a, 3), *j4 = job(&b, 4);
	ck_assert_int_eq(mnv2d_queue_push(&q, j1), 0);
	ck_assert_int_eq(mnv2d_queue_push(&q, j2), 0);
	ck_assert_int_eq(mnv2d_queue_push(&q, j3), 0);
	ck_assert_int_eq(mnv2d_queue_push(&q, j4), -1);   /* full */
	size_t depth, cap, hw;
	mnv2d_queue_counts(&q, &depth, &cap, &hw);
	ck_assert_uint_eq(depth, 3);
	ck_assert_uint_eq(cap, 3);
	ck_assert_uint_eq(hw, 3);
	mnv2d_job *c = mnv2d_queue_cancel(&q, &a);   /* a's jobs, in order */
	ck_assert_ptr_eq(c, j1);
	ck_assert_ptr_eq(c->next, j3);
	ck_assert_ptr_null(j3->next);
	ck_assert_ptr_null(mnv2d_queue_cancel(&q, &a));
	ck_assert_int_eq(mnv2d_queue_push(&q, j4), 0);
	mnv2d_queue_counts(&q, &depth, &cap, &hw);
	ck_assert_uint_eq(depth, 2);
	ck_assert_uint_eq(hw, 3);
	ck_assert_ptr_eq(mnv2d_queue_pop(&q), j2);   /* FIFO */
	mnv2d_queue_close(&q);
	ck_assert_int_eq(mnv2d_queue_push(&q, j1), -1);   /* closed */
	ck_assert_ptr_eq(mnv2d_queue_pop(&q), j4);       /* drained after close */
	ck_assert_ptr_null(mnv2d_queue_pop(&q));
	mnv2d_queue_destroy(&q);
	free(j1);
	free(j2);
	free(j3);
	free(j4);
}
END_TEST

static void *popper(void *arg)
{
	return mnv2d_queue_pop(arg);
}

START_TEST(queue_close_wakes_waiters)
{
	mnv2d_queue q;
	pthread_t t[3];
	ck_assert_int_eq(mnv2d_queue_init(&q, 4), 0);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, popper, &q);
	mnv2d_job *j = job(NULL, 1);
	ck_assert_int_eq(mnv2d_queue_push(&q, j), 0);
	usleep(10000);
	mnv2d_queue_close(&q);
	int got = 0;
	for (int i = 0; i < 3; i++) {
		void *r;
		pthread_join(t[i], &r);
		got += r == j;
	}
	ck_assert_int_eq(got, 1);
	mnv2d_queue_destroy(&q);
	free(j);
}
END_TEST

START_TEST(framing_lengths)
{
	uint8_t h[4];
	mnv2d_frame_put_length(h, 0x01020304u);
	ck_assert_uint_eq(h[0], 1);
	ck_assert_uint_eq(h[3], 4);
	ck_assert_uint_eq(mnv2d_frame_length(h), 0x01020304u);
	static const uint8_t big[4] = { 0xff, 0xff, 0xff, 0xff };
	ck_assert_uint_eq(mnv2d_frame_length(big), 0xffffffffu);
	Mnv2__Response r = MNV2__RESPONSE__INIT;
	r.version = 1;
	r.request_id = 300;
	r.message = "hello";
	uint8_t *f;
	size_t n;
	ck_assert_int_eq(mnv2d_frame_pack(&r.base, &f, &n), 0);
	ck_assert_uint_eq(mnv2d_frame_length(f), n - 4);
	Mnv2__Response *back = mnv2__response__unpack(NULL, n - 4, f + 4);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->request_id, 300);
	ck_assert_str_eq(back->message, "hello");
	mnv2__response__free_unpacked(back, NULL);
	free(f);
}
END_TEST

START_TEST(log_journal_and_levels)
{
	char path[] = "/tmp/mnv2d-log-XXXXXX", js[64];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	fstat(fd, &st);
	snprintf(js, sizeof js, "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	ck_assert_int_eq(mnv2d_log_is_journal(js, fd), 1);
	ck_assert_int_eq(mnv2d_log_is_journal("1:2", fd), 0);
	ck_assert_int_eq(mnv2d_log_is_journal("garbage", fd), 0);
	ck_assert_int_eq(mnv2d_log_is_journal(NULL, fd), 0);
	mnv2d_log lg;
	setenv("JOURNAL_STREAM", js, 1);
	mnv2d_log_init(&lg, fd, MNV2D_LOG_INFO);
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(lg.journal, 1);
	LOG_WARN(&lg, "disk %d", 1);
	LOG_DEBUG(&lg, "hidden");
	mnv2d_log_set_level(&lg, MNV2D_LOG_DEBUG);
	LOG_DEBUG(&lg, "shown");
	mnv2d_log_init(&lg, fd, MNV2D_LOG_ERROR);
	ck_assert_int_eq(lg.journal, 0);
	LOG_ERR(&lg, "plain");
	LOG_INFO(&lg, "hidden too");
	char buf[256] = { 0 };
	ck_assert_int_gt(pread(fd, buf, sizeof buf - 1, 0), 0);
	ck_assert_str_eq(buf, "<4>disk 1\n<7>shown\nmnv2d: error: plain\n");
	close(fd);
	unlink(path);
	mnv2d_level l;
	ck_assert_int_eq(mnv2d_log_parse_level("warn", &l), 0);
	ck_assert_int_eq(l, MNV2D_LOG_WARN);
	ck_assert_int_eq(mnv2d_log_parse_level("debug", &l), 0);
	ck_assert_int_eq(l, MNV2D_LOG_DEBUG);
	ck_assert_int_eq(mnv2d_log_parse_level("loud", &l), -1);
}
END_TEST

START_TEST(log_line_is_bounded)
{
	char path[] = "/tmp/mnv2d-log-XXXXXX";
	int fd = mkstemp(path);
	mnv2d_log lg;
	mnv2d_log_init(&lg, fd, MNV2D_LOG_INFO);
	lg.journal = 0;
	char *big = malloc(5000);
	memset(big, 'x', 4999);
	big[4999] = 0;
	LOG_INFO(&lg, "%s", big);
	struct stat st;
	fstat(fd, &st);
	ck_assert_int_eq(st.st_size, MNV2D_LOG_LINE - 1);
	char last;
	ck_assert_int_eq(pread(fd, &last, 1, st.st_size - 1), 1);
	ck_assert_int_eq(last, '\n');
	free(big);
	close(fd);
	unlink(path);
}
END_TEST

/* ---- intake: the request path from buffered bytes (a flat array here) ---- */

typedef struct flat_in {
	const uint8_t *p;
	size_t have;
} flat_in;

static void flat_copy(void *arg, void *dst, size_t n)
{
	const flat_in *f = arg;
	ck_assert_uint_le(n, f->have);
	memcpy(dst, f->p, n);
}

static const uint8_t *flat_pullup(void *arg, size_t n)
{
	const flat_in *f = arg;
	ck_assert_uint_le(n, f->have);
	return f->p;
}

static void intake(const uint8_t *p, size_t have, size_t max, const mnv2d_modelset *set,
		   mnv2d_intake *it)
{
	flat_in f = { p, have };
	mnv2d_input in = { have, flat_copy, flat_pullup, &f };
	mnv2d_intake_next(&in, max, set, 0, it);
}

/* A framed Classify request naming `model` (raw 1x1 RGB image). */
static size_t classify_frame(uint8_t *buf, size_t cap, const char *model)
{
	static uint8_t px[3];
	/* the *_init() functions: protoc-c's INIT macros trip -Wmissing-braces */
	Mnv2__RawFrame raw;
	mnv2__raw_frame__init(&raw);
	raw.format = MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGB888;
	raw.width = raw.height = 1;
	raw.data.data = px;
	raw.data.len = 3;
	Mnv2__Image im;
	mnv2__image__init(&im);
	im.source_case = MNV2__IMAGE__SOURCE_RAW;
	im.raw = &raw;
	Mnv2__ClassifyRequest c;
	mnv2__classify_request__init(&c);
	c.model = (char *)model;
	c.image = &im;
	Mnv2__Request r;
	mnv2__request__init(&r);
	r.version = 1;
	r.request_id = 77;
	r.body_case = MNV2__REQUEST__BODY_CLASSIFY;
	r.classify = &c;
	size_t n = mnv2__request__get_packed_size(&r);
	ck_assert_uint_le(n + 4, cap);
	mnv2d_frame_put_length(buf, (uint32_t)n);
	mnv2__request__pack(&r, buf + 4);
	return n + 4;
}

static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 1
		      : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 3 : -1;
		if (n < 0)
			return 0;
		for (p++; n > 0; n--, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

START_TEST(intake_outcomes)
{
	static mnv2d_modelset none;   /* no models: every Classify/Detect is refused */
	uint8_t buf[256];
	mnv2d_intake it;
	size_t n = classify_frame(buf, sizeof buf, "");
	intake(buf, 3, 1024, &none, &it);
	ck_assert_int_eq(it.kind, MNV2D_INTAKE_WAIT);
	intake(buf, n - 1, 1024, &none, &it);
	ck_assert_int_eq(it.kind, MNV2D_INTAKE_WAIT);
	intake(buf, n, 1024, &none, &it);
	ck_assert_int_eq(it.kind, MNV2D_INTAKE_ERROR);
	ck_assert_uint_eq(it.consumed, n);
	ck_assert_uint_eq(it.id, 77);
	ck_assert_uint_eq(it.status, MNV2__STATUS_CODE__STATUS_UNAVAILABLE);
	ck_assert_str_eq(it.msg, "no classifier model is loaded");
	/* the limit is checked on the header alone, before the payload has arrived */
	intake(buf, 4, n - 5, &none, &it);
	ck_assert_int_eq(it.kind, MNV2D_INTAKE_CLOSE);
	ck_assert_int_eq(it.too_long, 1);
	/* an undecodable frame: request id 0, the connection goes on */
	static const uint8_t junk[7] = { 0, 0, 0, 3, 0xff, 0xff, 0xff };
	intake(junk, sizeof junk, 1024, &none, &it);
	ck_assert_int_eq(it.kind, MNV2D_INTAKE_ERROR);
	ck_assert_int_eq(it.undecodable, 1);
	ck_assert_uint_eq(it.consumed, 7);
	ck_assert_str_eq(it.msg, "a 3-byte frame does not decode as an mnv2.Request");
	/* an empty frame is an empty Request: version 0 */
	static const uint8_t empty[4] = { 0 };
	intake(empty, 4, 1024, &none, &it);
	ck_assert_int_eq(it.kind, MNV2D_INTAKE_ERROR);
	ck_assert_str_eq(it.msg, "unsupported protocol version 0; this server speaks 1");
}
END_TEST

/* Found by fuzz_request: a model name that is not UTF-8, or a valid one cut at 64 bytes in
 * the middle of a character, came back in the NOT_FOUND message, and a proto3 string that
 * is not UTF-8 makes other languages' decoders (Python's) refuse the whole response. */
START_TEST(intake_messages_are_utf8)
{
	static mnv2d_modelset none;
	uint8_t buf[512];
	mnv2d_intake it;
	/* 63 ASCII bytes, then "é" (2 bytes): the 64-byte cut splits it */
	char name[80];
	memset(name, 'a', 63);
	strcpy(name + 63, "\xc3\xa9tail");
	size_t n = classify_frame(buf, sizeof buf, name);
	intake(buf, n, 1024, &none, &it);
	ck_assert_int_eq(it.kind, MNV2D_INTAKE_ERROR);
	ck_assert_uint_eq(it.status, MNV2__STATUS_CODE__STATUS_NOT_FOUND);
	ck_assert_msg(utf8_ok(it.msg), "not UTF-8: %s", it.msg);
	ck_assert_ptr_nonnull(strstr(it.msg, "aaa?'"));
	/* bytes that are no UTF-8 at all; a well-formed "é" stays as it is */
	n = classify_frame(buf, sizeof buf, "x\xcdy\xff\xed\xa0\x80\xc3\xa9z");
	intake(buf, n, 1024, &none, &it);
	ck_assert_msg(utf8_ok(it.msg), "not UTF-8: %s", it.msg);
	ck_assert_str_eq(it.msg, "no model named 'x?y????\xc3\xa9z'");
}
END_TEST

/* The CPU budget: auto sizes, lowering an explicit intra-op count, and what is said. */
START_TEST(budget_plans)
{
	static const struct {
		unsigned avail, budget, workers, intra;   /* in */
		unsigned cpus, want_intra;                /* out */
		const char *note;                         /* substring, or "" for none */
	} cases[] = {
		{ 2, 0, 2, 0, 2, 1, "" },                  /* default config on 2 CPUs */
		{ 8, 0, 2, 0, 8, 4, "" },                  /* auto: budget / workers */
		{ 8, 0, 3, 0, 8, 2, "" },                  /* rounded down */
		{ 2, 0, 1, 2, 2, 2, "" },                  /* explicit and within the budget */
		{ 4, 0, 2, 4, 4, 2,
		  "2 workers x intra_op_threads 4 would need 8 CPUs, the CPU budget is 4: using 2 "
		  "intra-op threads per inference" },
		{ 8, 2, 1, 4, 2, 2, "would need 4 CPUs, the CPU budget is 2" },   /* cpu_budget */
		{ 2, 0, 3, 0, 2, 1,
		  "3 workers exceed the CPU budget of 2: inferences will share CPUs" },
		{ 2, 0, 4, 2, 2, 1, "using 1 intra-op thread per inference; 4 workers exceed" },
		{ 2, 6, 2, 3, 6, 3, "cpu_budget 6 exceeds the 2 CPUs this process may use" },
		{ 0, 0, 1, 0, 1, 1, "" },                  /* unknown CPU count: one */
		{ 256, 0, 256, 256, 256, 1, "would need 65536 CPUs" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mnv2d_budget b;
		char note[512];
		int said = mnv2d_budget_plan(cases[i].avail, cases[i].budget, cases[i].workers,
					     cases[i].intra, &b, note, sizeof note);
		ck_assert_msg(b.cpus == cases[i].cpus && b.intra == cases[i].want_intra &&
				      b.workers == cases[i].workers,
			      "case %zu: cpus %u intra %u workers %u", i, b.cpus, b.intra,
			      b.workers);
		ck_assert_int_eq(said, cases[i].note[0] != '\0');
		ck_assert_msg(strstr(note, cases[i].note), "case %zu: note '%s'", i, note);
		ck_assert_uint_le(b.workers * b.intra, b.cpus > b.workers ? b.cpus : b.workers);
	}
	/* a short note buffer truncates, never overflows */
	mnv2d_budget b;
	char tiny[8];
	ck_assert_int_eq(mnv2d_budget_plan(2, 0, 4, 4, &b, tiny, sizeof tiny), 1);
	ck_assert_uint_lt(strlen(tiny), sizeof tiny);
	ck_assert_uint_ge(mnv2d_budget_cpus(), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_units");
	TCase *tc = tcase_create("units");
	tcase_add_test(tc, hist_buckets);
	tcase_add_test(tc, budget_plans);
	tcase_add_test(tc, hist_percentiles);
	tcase_add_test(tc, stats_counts);
	tcase_add_test(tc, stats_windows);
	tcase_add_test(tc, queue_bounds_and_cancel);
	tcase_add_test(tc, queue_close_wakes_waiters);
	tcase_add_test(tc, framing_lengths);
	tcase_add_test(tc, log_journal_and_levels);
	tcase_add_test(tc, log_line_is_bounded);
	tcase_add_test(tc, intake_outcomes);
	tcase_add_test(tc, intake_messages_are_utf8);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
