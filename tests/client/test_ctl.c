/* mnv2ctl: argument parsing, output writers, and the built binary run against a fake
 * server (exit codes, human and JSON output, Prometheus metrics, error messages). */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "fake_server.h"

/* ---- argument parsing ------------------------------------------------------------------ */

static int parse(ctl_args *a, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, errlen);
	argv[argc++] = (char *)"mnv2ctl";
	for (char *s; (s = va_arg(ap, char *));)
		argv[argc++] = s;
	va_end(ap);
	argv[argc] = NULL;
	return ctl_parse_args(argc, argv, a, err, errlen);
}

#define PARSE(a, err, ...) parse(a, err, sizeof err, __VA_ARGS__, (char *)NULL)

START_TEST(test_parse_classify)
{
	ctl_args a;
	char err[256];
	ck_assert_int_eq(PARSE(&a, err, "-s", "/tmp/x.sock", "classify", "a.jpg", "--top", "3",
			       "b.png", "--model=mnv2", "--threshold", "0.25", "--resize",
			       "center-crop", "--deadline", "150", "--json", "--timeout", "900",
			       "--filter", "bilinear"),
			 0);
	ck_assert_int_eq(a.cmd, CTL_CMD_CLASSIFY);
	ck_assert_str_eq(a.socket, "/tmp/x.sock");
	ck_assert_uint_eq(a.n_images, 2);
	ck_assert_str_eq(a.images[0], "a.jpg");
	ck_assert_str_eq(a.images[1], "b.png");
	ck_assert_uint_eq(a.opt.top_k, 3);
	ck_assert_str_eq(a.opt.model, "mnv2");
	ck_assert_float_eq(a.opt.score_threshold, 0.25f);
	ck_assert_int_eq(a.opt.resize, MNV2C_RESIZE_CENTER_CROP);
	ck_assert_int_eq(a.opt.filter, MNV2C_FILTER_BILINEAR);
	ck_assert_uint_eq(a.opt.deadline_ms, 150);
	ck_assert_int_eq(a.json, 1);
	ck_assert_int_eq(a.timeout_ms, 900);
	ck_assert_int_eq(a.raw.set, 0);
	ctl_args_free(&a);

	/* options before the command, "--" before a file named like an option */
	ck_assert_int_eq(PARSE(&a, err, "--max", "5", "detect", "--raw", "gray8:64x48:80", "--",
			       "-frame.raw"),
			 0);
	ck_assert_int_eq(a.cmd, CTL_CMD_DETECT);
	ck_assert_uint_eq(a.opt.max_detections, 5);
	ck_assert_int_eq(a.opt.filter, MNV2C_FILTER_DEFAULT);   /* not given */
	ck_assert_int_eq(a.raw.set, 1);
	ck_assert_int_eq(a.raw.format, MNV2C_PIX_GRAY8);
	ck_assert_uint_eq(a.raw.width, 64);
	ck_assert_uint_eq(a.raw.height, 48);
	ck_assert_uint_eq(a.raw.stride, 80);
	ck_assert_str_eq(a.images[0], "-frame.raw");
	ctl_args_free(&a);

	ck_assert_int_eq(PARSE(&a, err, "bench", "x.jpg", "--concurrency", "8", "--requests",
			       "50", "--detect"),
			 0);
	ck_assert_uint_eq(a.concurrency, 8);
	ck_assert_uint_eq(a.requests, 50);
	ck_assert_int_eq(a.bench_detect, 1);
	ctl_args_free(&a);

	ck_assert_int_eq(PARSE(&a, err, "--filter=antialias", "detect", "x.png"), 0);
	ck_assert_int_eq(a.opt.filter, MNV2C_FILTER_ANTIALIAS);
	ctl_args_free(&a);

	ck_assert_int_eq(PARSE(&a, err, "status", "--help"), 0);
	ck_assert_int_eq(a.cmd, CTL_CMD_HELP);
	ctl_args_free(&a);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct {
		const char *args[6];
		const char *msg;
	} cases[] = {
		{{NULL}, "no command given"},
		{{"frobnicate"}, "unknown command 'frobnicate'"},
		{{"status", "--bogus"}, "unknown option '--bogus'"},
		{{"classify"}, "'classify' needs an IMAGE argument"},
		{{"status", "extra"}, "'status' takes no arguments (got 'extra')"},
		{{"classify", "a", "--top"}, "option --top needs a value"},
		{{"classify", "a", "--top", "0"}, "--top: '0' is not a number in 1..100000"},
		{{"classify", "a", "--top", "3x"}, "--top: '3x' is not a number in 1..100000"},
		{{"classify", "a", "--top", "-3"}, "--top: '-3' is not a number in 1..100000"},
		{{"classify", "a", "--threshold", "1.5"}, "--threshold: '1.5' is not a number in 0..1"},
		{{"classify", "a", "--threshold", "nan"}, "--threshold: 'nan' is not a number in 0..1"},
		{{"classify", "a", "--resize", "fill"},
		 "--resize: 'fill' is not stretch, letterbox or center-crop"},
		{{"classify", "a", "--filter", "nearest"},
		 "--filter: 'nearest' is not antialias or bilinear"},
		{{"detect", "a", "--filter", "Bilinear"},
		 "--filter: 'Bilinear' is not antialias or bilinear"},
		{{"detect", "a", "--filter"}, "option --filter needs a value"},
		{{"status", "--filter", "bilinear"}, "option --filter does not apply to 'status'"},
		{{"classify", "a", "--max", "3"}, "option --max does not apply to 'classify'"},
		{{"detect", "a", "--top", "3"}, "option --top does not apply to 'detect'"},
		{{"status", "--model", "m"}, "option --model does not apply to 'status'"},
		{{"status", "--json=yes"}, "option --json takes no value"},
		{{"--timeout", "0", "status"}, "--timeout: '0' is not a number of ms in 1..86400000"},
		{{"metrics", "--json"}, "--json does not apply to 'metrics' (it prints Prometheus text)"},
		{{"bench", "a", "b"}, "'bench' takes exactly one IMAGE"},
		{{"classify", "a", "--raw", "yuv:2x2"},
		 "--raw: unknown pixel format 'yuv' (rgb888, bgr888, rgba8888, bgra8888, gray8, nv12, nv21, i420, yuyv, uyvy)"},
		{{"classify", "a", "--raw", "rgb888:2x"},
		 "--raw: width and height must be 1..65535 in 'rgb888:2x'"},
		{{"classify", "a", "--raw", "rgb888"}, "--raw: 'rgb888' is not FORMAT:WxH[:STRIDE]; a raw frame FILE needs --format and --size"},
		{{"classify", "a", "--raw", "rgb888:4x4:11"},
		 "--raw: stride '11' must be a number >= 12 (width x 3)"},
		{{"classify", "a", "--raw", "rgb888:4x4:12:1"},
		 "--raw: 'rgb888:4x4:12:1' is not FORMAT:WxH[:STRIDE]"},
		{{"-s", "", "status"}, "--socket: empty path"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[8] = {(char *)"mnv2ctl"};
		int argc = 1;
		for (int k = 0; cases[i].args[k]; k++)
			argv[argc++] = (char *)cases[i].args[k];
		ctl_args a;
		char err[256] = "";
		ck_assert_msg(ctl_parse_args(argc, argv, &a, err, sizeof err) == -1, "case %zu", i);
		ck_assert_str_eq(err, cases[i].msg);
		ctl_args_free(&a);
	}
}
END_TEST

/* ---- writers ---------------------------------------------------------------------------- */

/* Runs fn(f) on a memory stream and returns what it wrote (static buffer). */
static char membuf[65536];

static FILE *mem_open(void)
{
	memset(membuf, 0, sizeof membuf);
	FILE *f = fmemopen(membuf, sizeof membuf - 1, "w");
	ck_assert_ptr_nonnull(f);
	return f;
}

START_TEST(test_json_string_escaping)
{
	FILE *f = mem_open();
	json_string(f, "a\"b\\c\n\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	fputc(' ', f);
	/* invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate, >U+10FFFF */
	json_string(f, "\x80 \xc3 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xff");
	fputc(' ', f);
	json_string(f, NULL);
	fclose(f);
	ck_assert_str_eq(membuf, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\\u007f caf\xc3\xa9 \xe2\x82\xac "
				 "\xf0\x9f\x98\x80\" "
				 "\"\\ufffd \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd "
				 "\\ufffd\\ufffd\\ufffd\\ufffd \\ufffd\" \"\"");
}
END_TEST

START_TEST(test_json_float_shortest)
{
	FILE *f = mem_open();
	json_float(f, 0.1f);
	fputc(' ', f);
	json_float(f, 0.875f);
	fputc(' ', f);
	json_float(f, 16777217.0f);
	fputc(' ', f);
	json_float(f, 1.0f / 3.0f);
	fputc(' ', f);
	json_float(f, NAN);
	fputc(' ', f);
	json_float(f, -INFINITY);
	fclose(f);
	ck_assert_str_eq(membuf, "0.1 0.875 16777216 0.33333334 null null");
}
END_TEST

START_TEST(test_human_string_sanitized)
{
	FILE *f = mem_open();
	human_string(f, "ok\x1b[31mred\n\x7f");
	fclose(f);
	ck_assert_str_eq(membuf, "ok?[31mred??");
}
END_TEST

static mnv2c_server_status *sample_status(void)
{
	static mnv2c_model_info models[1] = {{.name = (char *)"mnv2", .path = (char *)"p",
					      .description = (char *)"", .kind = MNV2C_MODEL_CLASSIFIER,
					      .input_width = 224, .input_height = 224, .macs = 300,
					      .parameter_bytes = 3, .arena_bytes = 4,
					      .load_time_us = 1500, .num_labels = 1001}};
	static mnv2c_status_count counts[3] = {{0, 8}, {4, 2}, {42, 1}}; /* 42: a newer server's code */
	static mnv2c_stage_latency lat[1] = {{(char *)"inference", 1000, 2000, 3500}};
	static mnv2c_model_stats stats[1] = {{(char *)"mn\"v2", 10, 3, counts, 1, lat}};
	static mnv2c_server_status st = {(char *)"1.0", 42, 1, models, 1, stats, 1, 64, 5, 3, 2, 7,
					  1, 2, 16};
	return &st;
}

START_TEST(test_metrics_exposition)
{
	FILE *f = mem_open();
	print_metrics(f, sample_status());
	fclose(f);
	static const char *want[] = {
		"# HELP mnv2_uptime_seconds Seconds since the daemon started.\n"
		"# TYPE mnv2_uptime_seconds gauge\nmnv2_uptime_seconds 42\n",
		"mnv2_build_info{version=\"1.0\"} 1\n",
		"# TYPE mnv2_queue_capacity gauge\nmnv2_queue_capacity 64\n",
		"mnv2_queue_depth 1\n",
		"mnv2_queue_high_water 5\n",
		"mnv2_connections 3\n",
		"# TYPE mnv2_intra_op_threads gauge\nmnv2_intra_op_threads 1\n",
		"# TYPE mnv2_cpu_budget gauge\nmnv2_cpu_budget 2\n",
		"# TYPE mnv2_max_inflight_per_connection gauge\nmnv2_max_inflight_per_connection 16\n",
		"mnv2_model_info{model=\"mnv2\",kind=\"classifier\",input=\"224x224\"} 1\n",
		"mnv2_model_load_seconds{model=\"mnv2\"} 0.001500\n",
		"# TYPE mnv2_requests_total counter\nmnv2_requests_total{model=\"mn\\\"v2\"} 10\n",
		"mnv2_responses_total{model=\"mn\\\"v2\",status=\"OK\"} 8\n",
		"mnv2_responses_total{model=\"mn\\\"v2\",status=\"RESOURCE_EXHAUSTED\"} 2\n",
		"mnv2_responses_total{model=\"mn\\\"v2\",status=\"42\"} 1\n",
		"# TYPE mnv2_stage_latency_seconds summary\n",
		"mnv2_stage_latency_seconds{model=\"mn\\\"v2\",stage=\"inference\",quantile=\"0.5\"} "
		"0.001000\n",
		"mnv2_stage_latency_seconds{model=\"mn\\\"v2\",stage=\"inference\",quantile=\"0.99\"} "
		"0.003500\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(membuf, want[i]), "missing: %s\nin:\n%s", want[i], membuf);
	/* every sample belongs to a family announced by HELP and TYPE lines just before */
	char family[128] = "";
	for (char *line = strtok(membuf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			sscanf(line + 7, "%127s", family);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			ck_assert_int_eq(strncmp(line + 7, family, strlen(family)), 0);
			continue;
		}
		ck_assert_msg(strncmp(line, family, strlen(family)) == 0 &&
				      (line[strlen(family)] == '{' || line[strlen(family)] == ' '),
			      "sample '%s' outside family %s", line, family);
	}
}
END_TEST

/* ---- the binary -------------------------------------------------------------------------- */

typedef struct run_result {
	int status;
	char out[16384];
	char err[4096];
} run_result;

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	unlink(path);
}

static const char *ctl_path(void)
{
	static char path[4096];
	const char *dir = getenv("MNV2_BUILD_DIR");
	ck_assert_msg(dir != NULL, "MNV2_BUILD_DIR is not set (run through meson test)");
	snprintf(path, sizeof path, "%s/client/mnv2ctl", dir);
	return path;
}

/* Runs mnv2ctl with args (NULL-terminated), capturing stdout and stderr. */
static void run_ctl(run_result *r, const char *const *args)
{
	char outp[] = "/tmp/mnv2ctl-out-XXXXXX", errp[] = "/tmp/mnv2ctl-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp);
	const char *argv[32] = {ctl_path()};
	int n = 1;
	ck_assert(ofd >= 0 && efd >= 0);
	for (; args[n - 1]; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	r->status = WEXITSTATUS(st);
	close(ofd);
	close(efd);
	slurp(outp, r->out, sizeof r->out);
	slurp(errp, r->err, sizeof r->err);
}

#define RUN(r, ...)                                                   \
	do {                                                          \
		const char *const a_[] = {__VA_ARGS__, NULL};         \
		run_ctl(r, a_);                                       \
	} while (0)

static char image_path[32];

static void write_image(void)
{
	static const uint8_t bytes[] = {0x89, 'P', 'N', 'G', 1, 2, 3, 4, 5};
	snprintf(image_path, sizeof image_path, "/tmp/mnv2ctl-img-XXXXXX");
	int fd = mkstemp(image_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, sizeof bytes), (ssize_t)sizeof bytes);
	close(fd);
}

START_TEST(test_ctl_usage_exit_codes)
{
	run_result r;
	RUN(&r, "classify");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "mnv2ctl: 'classify' needs an IMAGE argument\n"
				"Try 'mnv2ctl --help'.\n");
	ck_assert_str_eq(r.out, "");
	RUN(&r, "detect", "x.jpg", "--max", "zero");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--max: 'zero' is not a number"));
	RUN(&r, "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: mnv2ctl"));
	RUN(&r, "--version");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "mnv2ctl 0.1.0 (protocol version 1)\n");
}
END_TEST

START_TEST(test_ctl_cannot_connect)
{
	run_result r;
	RUN(&r, "-s", "/nonexistent/mnv2d.sock", "status");
	ck_assert_int_eq(r.status, 3);
	ck_assert_str_eq(r.err, "mnv2ctl: cannot connect to /nonexistent/mnv2d.sock: "
				"No such file or directory\n");
	setenv("MNV2_SOCKET", "/nonexistent/env.sock", 1);
	RUN(&r, "models");
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/env.sock"));
}
END_TEST

START_TEST(test_ctl_classify_human_and_json)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 3);
	run_result r;
	char want[128];
	write_image();
	RUN(&r, "-s", fs_path(srv), "classify", image_path, "--top", "3");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, ": mobilenet_v2\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  rank     score   index  label\n"));
	snprintf(want, sizeof want, "     1   0.50000       1  len=9 sum=");
	ck_assert_msg(strstr(r.out, want), "%s", r.out);
	ck_assert_ptr_nonnull(
		strstr(r.out, "     2   0.33333     101  top_k=3 thr=0 max=0 resize=0 filter=0\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "tabby \"cat\"\\??"));
	ck_assert_ptr_nonnull(strstr(r.out, "time 0.015 ms (queue 0.001, decode 0.002"));

	/* --filter and --resize reach the wire (the fake server echoes the options) */
	RUN(&r, "-s", fs_path(srv), "classify", image_path, "--filter", "bilinear", "--resize",
	    "letterbox");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.out, "  top_k=0 thr=0 max=0 resize=2 filter=2\n"), "%s", r.out);

	RUN(&r, "-s", fs_path(srv), "--json", "classify", image_path);
	ck_assert_msg(r.status == 0, "%s", r.err);
	snprintf(want, sizeof want, "{\"image\": \"%s\", \"model\": \"mobilenet_v2\", \"top\": "
				    "[{\"index\": 1, \"label\": \"len=9 sum=",
		 image_path);
	ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "{\"index\": 102, \"label\": \"tabby \\\"cat\\\"\\\\\\n"
					    "\\t\\u0001 caf\xc3\xa9\", \"score\": 0.25}"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"timing_us\": {\"queue\": 1, \"decode\": 2, "
					    "\"preprocess\": 3, \"inference\": 4, "
					    "\"postprocess\": 5, \"total\": 15}}\n"));
	ck_assert_ptr_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1); /* one line */
	unlink(image_path);
	fs_join(srv);
}
END_TEST

START_TEST(test_ctl_detect_json_two_images)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 1);
	run_result r;
	write_image();
	RUN(&r, "-s", fs_path(srv), "detect", image_path, image_path, "--json", "--max", "4");
	ck_assert_msg(r.status == 0, "%s", r.err);
	char *second = strchr(r.out, '\n');
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_eq(strchr(second + 1, '\n'), r.out + strlen(r.out) - 1); /* two lines */
	ck_assert_ptr_nonnull(strstr(r.out, "\"model\": \"ssd_mobilenet_v2\", \"width\": 640, "
					    "\"height\": 480, \"detections\": [{\"class\": 0, "
					    "\"label\": \"person\", \"score\": 0.875, \"box\": "
					    "{\"xmin\": 10.5, \"ymin\": 20, \"xmax\": 100, "
					    "\"ymax\": 200}"));
	unlink(image_path);
	fs_join(srv);
}
END_TEST

START_TEST(test_ctl_detect_human)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 1);
	run_result r;
	write_image();
	RUN(&r, "-s", fs_path(srv), "detect", image_path);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, ": ssd_mobilenet_v2, 640x480, 2 detections\n"
					    "  person (0) 0.875 [10.5 20.0 100.0 200.0]\n"
					    "  dog (17) 0.500 [0.0 0.0 640.0 480.0]\n"));
	unlink(image_path);
	fs_join(srv);
}
END_TEST

START_TEST(test_ctl_status_models_reload_metrics)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 6);
	run_result r;
	RUN(&r, "-s", fs_path(srv), "status");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "mnv2d 0.1.0-test, up 0d 00:00:42 (42 s), generation 7\n"
					    "threads 2, connections 3, queue 1/64 (high water 5), "
					    "at most 16 per connection\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "mobilenet_v2         classifier 224x224     "
					    "300.77M    3.3 MiB    1.1 MiB      12.3    1001\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "mobilenet_v2: 10 requests; responses OK 8, "
					    "NOT_FOUND 2\n"));
	ck_assert_msg(strstr(r.out, "  stage            p50 ms     p90 ms     p99 ms\n  inference         1.000      2.000      3.000\n"), "%s", r.out);
	RUN(&r, "-s", fs_path(srv), "status", "--json");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "\"queue\": {\"depth\": 1, \"capacity\": 64, "
					    "\"high_water\": 5, \"per_connection\": 16}"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"responses\": {\"OK\": 8, \"NOT_FOUND\": 2}"));
	RUN(&r, "-s", fs_path(srv), "models");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "    /models/ssd.tflite — test model\n"));
	RUN(&r, "-s", fs_path(srv), "models", "--json");
	ck_assert_ptr_nonnull(strstr(r.out, "{\"models\": [{\"name\": \"mobilenet_v2\", "
					    "\"kind\": \"classifier\""));
	RUN(&r, "-s", fs_path(srv), "reload");
	ck_assert_str_eq(r.out, "reloaded: generation 8, 2 models\n");
	RUN(&r, "-s", fs_path(srv), "metrics");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "mnv2_responses_total{model=\"mobilenet_v2\","
					    "status=\"NOT_FOUND\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "mnv2_stage_latency_seconds{model=\"mobilenet_v2\","
					    "stage=\"total\",quantile=\"0.9\"} 0.004000\n"));
	fs_join(srv);
}
END_TEST

static void script_not_found(int fd, void *arg)
{
	(void)arg;
	Mnv2__Request *req;
	while ((req = fs_read_request(fd))) {
		Mnv2__Response r;
		mnv2__response__init(&r);
		r.version = 1;
		r.request_id = req->request_id;
		r.status = MNV2__STATUS_CODE__STATUS_NOT_FOUND;
		r.message = (char *)"no model named 'nope'";
		fs_write_response(fd, &r);
		mnv2__request__free_unpacked(req, NULL);
	}
}

START_TEST(test_ctl_server_error)
{
	fake_server *srv = fs_start_listen(script_not_found, NULL, 2);
	run_result r;
	write_image();
	RUN(&r, "-s", fs_path(srv), "classify", image_path, "--model", "nope");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "mnv2ctl: NOT_FOUND: no model named 'nope'\n");
	ck_assert_str_eq(r.out, "");
	RUN(&r, "-s", fs_path(srv), "--json", "classify", image_path, image_path);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "\"error\": {\"status\": \"NOT_FOUND\", "
					    "\"message\": \"no model named 'nope'\"}}\n"));
	ck_assert_ptr_nonnull(strstr(r.err, " [image "));
	unlink(image_path);
	fs_join(srv);
}
END_TEST

START_TEST(test_ctl_bad_inputs)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 3);
	run_result r;
	write_image();
	RUN(&r, "-s", fs_path(srv), "classify", "/nonexistent.jpg");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "mnv2ctl: /nonexistent.jpg: No such file or directory\n");
	/* a 9-byte file is too short for a 2x2 RGB frame: refused before sending */
	RUN(&r, "-s", fs_path(srv), "classify", "--raw", "rgb888:2x2", image_path);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "needs 12 bytes, got 9"));
	RUN(&r, "-s", fs_path(srv), "classify", "--raw", "gray8:3x3", image_path);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "raw fmt=4 3x3 stride=0 len=9"));
	unlink(image_path);
	fs_join(srv);
}
END_TEST

START_TEST(test_ctl_bench)
{
	fake_server *srv = fs_start_listen(fs_script_echo, NULL, 1);
	run_result r;
	write_image();
	RUN(&r, "-s", fs_path(srv), "bench", image_path, "--requests", "40", "--concurrency", "5",
	    "--json");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strncmp(r.out, "{\"requests\": 40, \"concurrency\": 5, \"ok\": 40, "
				     "\"errors\": {}, \"seconds\": ", 63) == 0, "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "\"latency_ms\": {\"p50\": "));
	unlink(image_path);
	fs_join(srv);
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("mnv2ctl");
	TCase *t = tcase_create("units");
	tcase_add_test(t, test_parse_classify);
	tcase_add_test(t, test_parse_errors);
	tcase_add_test(t, test_json_string_escaping);
	tcase_add_test(t, test_json_float_shortest);
	tcase_add_test(t, test_human_string_sanitized);
	tcase_add_test(t, test_metrics_exposition);
	suite_add_tcase(s, t);
	t = tcase_create("binary");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_ctl_usage_exit_codes);
	tcase_add_test(t, test_ctl_cannot_connect);
	tcase_add_test(t, test_ctl_classify_human_and_json);
	tcase_add_test(t, test_ctl_detect_json_two_images);
	tcase_add_test(t, test_ctl_detect_human);
	tcase_add_test(t, test_ctl_status_models_reload_metrics);
	tcase_add_test(t, test_ctl_server_error);
	tcase_add_test(t, test_ctl_bad_inputs);
	tcase_add_test(t, test_ctl_bench);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
