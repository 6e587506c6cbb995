/* test_config — libmnv2config: defaults, every key, every class of error with its exact
 * line:column, the shipped configuration files, and robustness against truncated and
 * corrupted input. */
#include "mnv2/config.h"
#include "test_util.h"

#include <check.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MNV2_CONFIG_DIR
#error "MNV2_CONFIG_DIR must name the source config/ directory"
#endif

#define ERRLEN 512
#define MODEL "models:\n  - {name: a, path: a.tflite}\n"

static int parse_n(const char *yaml, size_t len, mnv2_config *c, char *err)
{
	return mnv2_config_parse(yaml, len, "t.yaml", c, err, ERRLEN);
}

static int parse(const char *yaml, mnv2_config *c, char *err)
{
	return parse_n(yaml, strlen(yaml), c, err);
}

static int is_zeroed(const mnv2_config *c)
{
	static const mnv2_config zero;
	return memcmp(c, &zero, sizeof zero) == 0;
}

/* ---------------------------------------------------------------- defaults */

static void check_default_globals(const mnv2_config *c)
{
	ck_assert_str_eq(c->socket_path, "/run/mnv2d/mnv2d.sock");
	ck_assert_uint_eq(c->socket_mode, 0660);
	ck_assert_ptr_null(c->socket_group);
	ck_assert_int_eq(c->threads, 2);
	ck_assert_int_eq(c->intra_op_threads, 0);   /* auto */
	ck_assert_int_eq(c->cpu_budget, 0);         /* auto */
	ck_assert_int_eq(c->queue_depth, 64);
	ck_assert_int_eq(c->max_inflight_per_connection, MNV2_CONFIG_INFLIGHT_AUTO);
	ck_assert_uint_eq(c->max_frame_bytes, 32u << 20);
	ck_assert_uint_eq(c->max_image_pixels, 8192u * 8192u);
	ck_assert_uint_eq(c->max_output_bytes, 64u << 20);
	ck_assert_int_eq(c->max_connections, 256);
	ck_assert_uint_eq(c->default_deadline_ms, 0);
	ck_assert_uint_eq(c->watchdog_ms, 30000);
	ck_assert_int_eq(c->allow_ids_set, 0);
	ck_assert_uint_eq(c->n_allow_uids, 0);
	ck_assert_uint_eq(c->n_allow_gids, 0);
	ck_assert_str_eq(c->log_level, "info");
}

static void check_default_model(const mnv2_model_cfg *m)
{
	ck_assert_ptr_null(m->labels);
	ck_assert_int_eq(m->kind, MNV2_CFG_KIND_AUTO);
	ck_assert_int_eq(m->resize, 0);
	ck_assert_int_eq(m->resize_filter, 0); /* MNV2_FILTER_ANTIALIAS */
	ck_assert_int_eq(m->top_k, 5);
	ck_assert(m->score_threshold < 0);
	ck_assert_int_eq(m->max_detections, 0);
	ck_assert_int_eq(m->ssd.enabled, 0);
	ck_assert_int_eq(m->plan, 0); /* MNV2_PLAN_DEFAULT */
}

static void check_default_ssd(const mnv2_ssd_anchors_cfg *s)
{
	static const float ratios[] = { 1.0f, 2.0f, 0.5f, 3.0f, 1.0f / 3.0f };
	ck_assert_int_eq(s->num_layers, 6);
	ck_assert_float_eq(s->min_scale, 0.2f);
	ck_assert_float_eq(s->max_scale, 0.95f);
	ck_assert_int_eq(s->num_aspect_ratios, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_float_eq(s->aspect_ratios[i], ratios[i]);
	ck_assert_float_eq(s->interpolated_scale_aspect_ratio, 1.0f);
	ck_assert_int_eq(s->reduce_boxes_in_lowest_layer, 1);
	ck_assert_int_eq(s->num_feature_maps, 0);
	ck_assert_float_eq(s->y_scale, 10.0f);
	ck_assert_float_eq(s->x_scale, 10.0f);
	ck_assert_float_eq(s->h_scale, 5.0f);
	ck_assert_float_eq(s->w_scale, 5.0f);
	ck_assert_float_eq(s->nms_iou_threshold, 0.6f);
	ck_assert_float_eq(s->nms_score_threshold, 1e-8f);
	ck_assert_int_eq(s->max_detections, 100);
	ck_assert_int_eq(s->use_regular_nms, 0);
	ck_assert_int_eq(s->detections_per_class, 100);
	ck_assert_int_eq(s->max_classes_per_detection, 1);
	ck_assert_int_eq(s->scores_are_logits, 0);
	ck_assert_int_eq(s->no_background, 0);
}

START_TEST(test_defaults)
{
	mnv2_config c;
	mnv2_config_defaults(&c);
	check_default_globals(&c);
	ck_assert_uint_eq(c.n_models, 0);
	ck_assert_ptr_null(c.path);
	mnv2_config_free(&c);
	ck_assert(is_zeroed(&c));
	mnv2_config_free(&c);   /* freeing twice is harmless */
	mnv2_config_free(NULL);
}
END_TEST

START_TEST(test_minimal)
{
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_msg(parse(MODEL, &c, err) == 0, "%s", err);
	ck_assert_str_eq(err, "");
	check_default_globals(&c);
	ck_assert_str_eq(c.path, "t.yaml");
	ck_assert_uint_eq(c.n_models, 1);
	ck_assert_str_eq(c.models[0].name, "a");
	ck_assert_str_eq(c.models[0].path, "a.tflite");
	ck_assert_int_eq(c.models[0].line, 2);
	check_default_model(&c.models[0]);
	check_default_ssd(&c.models[0].ssd);
	mnv2_config_free(&c);
}
END_TEST

START_TEST(test_thread_budget_auto)
{
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_msg(parse("intra_op_threads: auto\ncpu_budget: \"auto\"\n" MODEL, &c, err) == 0,
		      "%s", err);
	ck_assert_int_eq(c.intra_op_threads, 0);
	ck_assert_int_eq(c.cpu_budget, 0);
	mnv2_config_free(&c);
	ck_assert_msg(parse("intra_op_threads: 2\ncpu_budget: 1\n" MODEL, &c, err) == 0, "%s",
		      err);
	ck_assert_int_eq(c.intra_op_threads, 2);
	ck_assert_int_eq(c.cpu_budget, 1);
	mnv2_config_free(&c);
}
END_TEST

START_TEST(test_memory_plan)
{
	static const char *const names[] = { "default", "layers", "fused" };
	for (int i = 0; i < 3; i++) {
		mnv2_config c;
		char err[ERRLEN], yaml[128];
		snprintf(yaml, sizeof yaml, "models:\n  - {name: a, path: a.tflite, memory_plan: %s}\n",
			 names[i]);
		ck_assert_msg(parse(yaml, &c, err) == 0, "%s", err);
		ck_assert_int_eq(c.models[0].plan, i); /* mnv2_plan_mode's values */
		mnv2_config_free(&c);
	}
}
END_TEST

/* resize_filter takes mnv2_resize_filter's values (antialias 0, bilinear 1); absent, 0. */
START_TEST(test_resize_filter)
{
	static const char y[] = "models:\n"
				"  - {name: a, path: a.tflite, resize_filter: antialias}\n"
				"  - {name: b, path: b.tflite, resize_filter: bilinear}\n"
				"  - {name: c, path: c.tflite, resize: letterbox}\n";
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_msg(parse(y, &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c.n_models, 3);
	ck_assert_int_eq(c.models[0].resize_filter, 0);
	ck_assert_int_eq(c.models[1].resize_filter, 1);
	ck_assert_int_eq(c.models[2].resize_filter, 0);
	ck_assert_int_eq(c.models[2].resize, 1);   /* letterbox: a key of its own */
	mnv2_config_free(&c);
}
END_TEST

START_TEST(test_empty_ssd_section)
{
	mnv2_config c;
	char err[ERRLEN];
	const char *y = "models:\n  - name: d\n    path: d\n    ssd_anchors: {}\n";
	ck_assert_msg(parse(y, &c, err) == 0, "%s", err);
	ck_assert_int_eq(c.models[0].ssd.enabled, 1);
	check_default_ssd(&c.models[0].ssd);
	mnv2_config_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- every key */

static const char every_key[] =
	"socket: /tmp/s.sock\n"
	"socket_mode: \"0600\"\n"
	"socket_group: daemon\n"
	"threads: 8\n"
	"intra_op_threads: 3\n"
	"cpu_budget: 4\n"
	"queue_depth: 1000\n"
	"max_frame_bytes: 4M\n"
	"max_image_pixels: 4000x3000\n"
	"max_output_bytes: 128KiB\n"
	"max_connections: 17\n"
	"default_deadline: 1500ms\n"
	"watchdog: 2s\n"
	"allow_uids: [root, 1000]\n"
	"allow_gids: [7, root]\n"
	"log_level: debug\n"
	"models:\n"                                 /* 16 */
	"  - name: cls\n"                           /* 17 */
	"    path: m/cls.tflite\n"
	"    labels: /abs/labels.txt\n"
	"    kind: classifier\n"
	"    resize: center-crop\n"
	"    top_k: 3\n"
	"    score_threshold: 0.25\n"
	"  - name: det.v2-x\n"                      /* 24 */
	"    path: det.tflite\n"
	"    labels: ../labels/coco.txt\n"
	"    kind: detector\n"
	"    resize: letterbox\n"
	"    max_detections: 7\n"
	"    ssd_anchors:\n"
	"      num_layers: 5\n"
	"      min_scale: 0.1\n"
	"      max_scale: 0.9\n"
	"      aspect_ratios: [1.0, 2, 0.5]\n"
	"      interpolated_scale_aspect_ratio: 0\n"
	"      reduce_boxes_in_lowest_layer: no\n"
	"      feature_map_sizes: [19, 10, 5, 3, 2]\n"
	"      y_scale: 11\n"
	"      x_scale: 12.5\n"
	"      h_scale: 6\n"
	"      w_scale: 7\n"
	"      nms_iou_threshold: 0.5\n"
	"      nms_score_threshold: 1e-3\n"
	"      max_detections: 50\n"
	"      use_regular_nms: yes\n"
	"      detections_per_class: 25\n"
	"      max_classes_per_detection: 2\n"
	"      scores_are_logits: true\n"
	"      no_background: True\n"
	"  - name: plain\n"                         /* 50 */
	"    path: /models/plain.tflite\n"
	"    kind: detect\n"
	"    resize_filter: bilinear\n";

static void check_every_global(const mnv2_config *c)
{
	ck_assert_str_eq(c->socket_path, "/tmp/s.sock");
	ck_assert_uint_eq(c->socket_mode, 0600);
	ck_assert_str_eq(c->socket_group, "daemon");
	ck_assert_int_eq(c->threads, 8);
	ck_assert_int_eq(c->intra_op_threads, 3);
	ck_assert_int_eq(c->cpu_budget, 4);
	ck_assert_int_eq(c->queue_depth, 1000);
	ck_assert_uint_eq(c->max_frame_bytes, 4u << 20);
	ck_assert_uint_eq(c->max_image_pixels, 12000000);
	ck_assert_uint_eq(c->max_output_bytes, 128u << 10);
	ck_assert_int_eq(c->max_connections, 17);
	ck_assert_uint_eq(c->default_deadline_ms, 1500);
	ck_assert_uint_eq(c->watchdog_ms, 2000);
	ck_assert_int_eq(c->allow_ids_set, 1);
	ck_assert_uint_eq(c->n_allow_uids, 2);
	ck_assert_uint_eq(c->allow_uids[0], 0);
	ck_assert_uint_eq(c->allow_uids[1], 1000);
	ck_assert_uint_eq(c->n_allow_gids, 2);
	ck_assert_uint_eq(c->allow_gids[0], 7);
	ck_assert_uint_eq(c->allow_gids[1], 0);
	ck_assert_str_eq(c->log_level, "debug");
}

static void check_every_classifier(const mnv2_model_cfg *m)
{
	ck_assert_str_eq(m->name, "cls");
	ck_assert_str_eq(m->path, "/etc/mnv2d/m/cls.tflite");
	ck_assert_str_eq(m->labels, "/abs/labels.txt");
	ck_assert_int_eq(m->kind, MNV2_CFG_KIND_CLASSIFIER);
	ck_assert_int_eq(m->resize, 2);
	ck_assert_int_eq(m->resize_filter, 0);
	ck_assert_int_eq(m->top_k, 3);
	ck_assert_float_eq(m->score_threshold, 0.25f);
	ck_assert_int_eq(m->line, 18);
	ck_assert_int_eq(m->ssd.enabled, 0);
}

static void check_every_ssd(const mnv2_ssd_anchors_cfg *s)
{
	static const int fmaps[] = { 19, 10, 5, 3, 2 };
	ck_assert_int_eq(s->enabled, 1);
	ck_assert_int_eq(s->num_layers, 5);
	ck_assert_float_eq(s->min_scale, 0.1f);
	ck_assert_float_eq(s->max_scale, 0.9f);
	ck_assert_int_eq(s->num_aspect_ratios, 3);
	ck_assert_float_eq(s->aspect_ratios[0], 1.0f);
	ck_assert_float_eq(s->aspect_ratios[1], 2.0f);
	ck_assert_float_eq(s->aspect_ratios[2], 0.5f);
	ck_assert_float_eq(s->interpolated_scale_aspect_ratio, 0.0f);
	ck_assert_int_eq(s->reduce_boxes_in_lowest_layer, 0);
	ck_assert_int_eq(s->num_feature_maps, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(s->feature_map_sizes[i], fmaps[i]);
	ck_assert_float_eq(s->y_scale, 11.0f);
	ck_assert_float_eq(s->x_scale, 12.5f);
	ck_assert_float_eq(s->h_scale, 6.0f);
	ck_assert_float_eq(s->w_scale, 7.0f);
	ck_assert_float_eq(s->nms_iou_threshold, 0.5f);
	ck_assert_float_eq(s->nms_score_threshold, 1e-3f);
	ck_assert_int_eq(s->max_detections, 50);
	ck_assert_int_eq(s->use_regular_nms, 1);
	ck_assert_int_eq(s->detections_per_class, 25);
	ck_assert_int_eq(s->max_classes_per_detection, 2);
	ck_assert_int_eq(s->scores_are_logits, 1);
	ck_assert_int_eq(s->no_background, 1);
}

static void check_every_detector(const mnv2_model_cfg *m)
{
	ck_assert_str_eq(m->name, "det.v2-x");
	ck_assert_str_eq(m->path, "/etc/mnv2d/det.tflite");
	ck_assert_str_eq(m->labels, "/etc/mnv2d/../labels/coco.txt");
	ck_assert_int_eq(m->kind, MNV2_CFG_KIND_DETECTOR);
	ck_assert_int_eq(m->resize, 1);
	ck_assert_int_eq(m->max_detections, 7);
	ck_assert_int_eq(m->line, 25);
	check_every_ssd(&m->ssd);
}

START_TEST(test_every_key)
{
	mnv2_config c;
	char err[ERRLEN];
	int rc = mnv2_config_parse(every_key, strlen(every_key), "/etc/mnv2d/mnv2d.yaml", &c,
				   err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(c.path, "/etc/mnv2d/mnv2d.yaml");
	check_every_global(&c);
	ck_assert_uint_eq(c.n_models, 3);
	check_every_classifier(&c.models[0]);
	check_every_detector(&c.models[1]);
	ck_assert_str_eq(c.models[2].name, "plain");
	ck_assert_str_eq(c.models[2].path, "/models/plain.tflite");
	ck_assert_int_eq(c.models[2].kind, MNV2_CFG_KIND_DETECTOR);
	ck_assert_int_eq(c.models[2].line, 51);
	ck_assert_int_eq(c.models[2].resize_filter, 1);   /* bilinear */
	mnv2_config_free(&c);
}
END_TEST

/* The daemon issue's spelling: socket and limits as sections, kind classify/detect. */
START_TEST(test_grouped_keys)
{
	static const char y[] =
		"socket:\n  path: /run/x.sock\n  mode: \"0666\"\n  group: video\n"
		"limits:\n  max_frame_bytes: 33554432\n  max_image_pixels: 67108864\n"
		"  max_output_bytes: 1G\n  max_connections: 9\n"
		"models:\n  - {name: c, kind: classify, path: c}\n";
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_msg(parse(y, &c, err) == 0, "%s", err);
	ck_assert_str_eq(c.socket_path, "/run/x.sock");
	ck_assert_uint_eq(c.socket_mode, 0666);
	ck_assert_str_eq(c.socket_group, "video");
	ck_assert_uint_eq(c.max_frame_bytes, 33554432);
	ck_assert_uint_eq(c.max_image_pixels, 67108864);
	ck_assert_uint_eq(c.max_output_bytes, 1u << 30);
	ck_assert_int_eq(c.max_connections, 9);
	ck_assert_int_eq(c.models[0].kind, MNV2_CFG_KIND_CLASSIFIER);
	mnv2_config_free(&c);
}
END_TEST

/* Values at the ends of their ranges, and the other spellings of units and booleans. */
START_TEST(test_value_forms)
{
	static const char y[] =
		"socket_mode: 0\nsocket_group: ~\nthreads: 256\nqueue_depth: 65536\n"
		"max_frame_bytes: 1K\nmax_output_bytes: 1GiB\nmax_image_pixels: 4294967296\n"
		"default_deadline: 3600s\nwatchdog: 100ms\nallow_uids: []\n"
		"models:\n  - name: m\n    path: 'p'\n    labels: null\n    top_k: 10000\n"
		"    score_threshold: 1\n    ssd_anchors:\n      min_scale: 10\n"
		"      max_scale: 10\n      use_regular_nms: FALSE\n      num_layers: 1\n"
		"      feature_map_sizes: [4096]\n";
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_msg(parse(y, &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c.socket_mode, 0);
	ck_assert_ptr_null(c.socket_group);
	ck_assert_int_eq(c.threads, 256);
	ck_assert_int_eq(c.queue_depth, 65536);
	ck_assert_uint_eq(c.max_frame_bytes, 1024);
	ck_assert_uint_eq(c.max_output_bytes, 1u << 30);
	ck_assert_uint_eq(c.max_image_pixels, 4294967296u);
	ck_assert_uint_eq(c.default_deadline_ms, 3600000);
	ck_assert_uint_eq(c.watchdog_ms, 100);
	ck_assert_int_eq(c.allow_ids_set, 1);
	ck_assert_uint_eq(c.n_allow_uids, 0);
	ck_assert_ptr_null(c.models[0].labels);
	ck_assert_int_eq(c.models[0].top_k, 10000);
	ck_assert_float_eq(c.models[0].score_threshold, 1.0f);
	ck_assert_float_eq(c.models[0].ssd.max_scale, 10.0f);
	ck_assert_int_eq(c.models[0].ssd.feature_map_sizes[0], 4096);
	mnv2_config_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- paths */

START_TEST(test_relative_paths)
{
	const char *y = "models:\n  - {name: a, path: m/a.tflite, labels: l.txt}\n"
			"  - {name: b, path: /abs/b.tflite}\n";
	mnv2_config c;
	char err[ERRLEN];
	ck_assert(mnv2_config_parse(y, strlen(y), "conf/x.yaml", &c, err, ERRLEN) == 0);
	ck_assert_str_eq(c.models[0].path, "conf/m/a.tflite");
	ck_assert_str_eq(c.models[0].labels, "conf/l.txt");
	ck_assert_str_eq(c.models[1].path, "/abs/b.tflite");
	mnv2_config_free(&c);
	ck_assert(mnv2_config_parse(y, strlen(y), "/x.yaml", &c, err, ERRLEN) == 0);
	ck_assert_str_eq(c.models[0].path, "/m/a.tflite");
	mnv2_config_free(&c);
	ck_assert(mnv2_config_parse(y, strlen(y), "x.yaml", &c, err, ERRLEN) == 0);
	ck_assert_str_eq(c.models[0].path, "m/a.tflite");
	mnv2_config_free(&c);
	ck_assert(mnv2_config_parse(y, strlen(y), NULL, &c, err, ERRLEN) == 0);
	ck_assert_ptr_null(c.path);
	ck_assert_str_eq(c.models[0].path, "m/a.tflite");
	mnv2_config_free(&c);
}
END_TEST

START_TEST(test_unnamed_errors)
{
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_int_eq(mnv2_config_parse("threads: x\n", 11, NULL, &c, err, ERRLEN), -1);
	ck_assert_str_eq(err, "<config>:1:10: expected an integer for 'threads', got 'x'");
}
END_TEST

/* max_inflight_per_connection: a number at either end of its range, 0 or unlimited (no
 * limit, stored as 0), auto (stored as MNV2_CONFIG_INFLIGHT_AUTO), quoted or plain. */
START_TEST(test_inflight_forms)
{
	static const struct { const char *text; int want; } forms[] = {
		{ "1", 1 }, { "16", 16 }, { "65536", 65536 }, { "0", 0 }, { "unlimited", 0 },
		{ "\"unlimited\"", 0 }, { "auto", MNV2_CONFIG_INFLIGHT_AUTO }, { "'7'", 7 },
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		char y[256], err[ERRLEN];
		mnv2_config c;
		snprintf(y, sizeof y, "max_inflight_per_connection: %s\n" MODEL, forms[i].text);
		ck_assert_msg(parse(y, &c, err) == 0, "%s: %s", forms[i].text, err);
		ck_assert_msg(c.max_inflight_per_connection == forms[i].want, "%s: %d",
			      forms[i].text, c.max_inflight_per_connection);
		mnv2_config_free(&c);
	}
}
END_TEST

/* ---------------------------------------------------------------- errors */

typedef struct bad_case {
	const char *yaml;
	const char *pos;       /* "line:column" */
	const char *message;   /* the whole message after "t.yaml:line:column: " */
} bad_case;

#define SSD(body) "models:\n  - name: d\n    path: d\n    ssd_anchors:\n" body
#define DEEP15 "[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]"
#define DEEP16 "[" DEEP15 "]"

static const bad_case bad[] = {
	/* unknown keys, with and without a suggestion */
	{ "thread: 2\n" MODEL, "1:1",
	  "unknown key 'thread' in the top level (did you mean 'threads'?)" },
	{ "colour: red\n" MODEL, "1:1", "unknown key 'colour' in the top level" },
	{ "models:\n  - name: a\n    path: b\n    lables: l\n", "4:5",
	  "unknown key 'lables' in a model (did you mean 'labels'?)" },
	{ SSD("      num_layer: 3\n"), "5:7",
	  "unknown key 'num_layer' in 'ssd_anchors' (did you mean 'num_layers'?)" },
	{ "socket:\n  paht: /x\n" MODEL, "2:3",
	  "unknown key 'paht' in 'socket' (did you mean 'path'?)" },
	{ "limits:\n  threads: 2\n" MODEL, "2:3", "unknown key 'threads' in 'limits'" },
	{ "? [a]\n: b\n" MODEL, "1:3", "a key in the top level must be a plain string" },
	/* wrong types */
	{ "threads: two\n" MODEL, "1:10", "expected an integer for 'threads', got 'two'" },
	{ "threads: 2x\n" MODEL, "1:10", "expected an integer for 'threads', got '2x'" },
	{ "threads: -1\n" MODEL, "1:10", "expected an integer for 'threads', got '-1'" },
	{ "threads: 2.0\n" MODEL, "1:10", "expected an integer for 'threads', got '2.0'" },
	{ "queue_depth: 010\n" MODEL, "1:14",
	  "expected an integer for 'queue_depth', got '010' (leading zeros are not allowed)" },
	{ "threads: [1]\n" MODEL, "1:10", "expected an integer for 'threads', got a list" },
	{ "threads: {a: 1}\n" MODEL, "1:10", "expected an integer for 'threads', got a mapping" },
	{ "threads:\n" MODEL, "1:9", "expected an integer for 'threads', got an empty value" },
	{ "threads: ~\n" MODEL, "1:10", "expected an integer for 'threads', got '~'" },
	{ "max_frame_bytes: 32 MB\n" MODEL, "1:18",
	  "expected a size (bytes, or with a K, M or G suffix like 32M) for 'max_frame_bytes', "
	  "got '32 MB'" },
	{ "watchdog: 30\n" MODEL, "1:11",
	  "expected a duration like 500ms or 2s for 'watchdog', got '30'" },
	{ "default_deadline: 1.5s\n" MODEL, "1:19",
	  "expected a duration like 500ms or 2s for 'default_deadline', got '1.5s'" },
	{ "max_image_pixels: 8192*8192\n" MODEL, "1:19",
	  "expected a pixel count like 67108864 or 8192x8192 for 'max_image_pixels', got "
	  "'8192*8192'" },
	{ "socket_mode: \"0668\"\n" MODEL, "1:14",
	  "expected an octal mode like \"0660\" for 'socket_mode', got '0668'" },
	{ "socket: [a]\n" MODEL, "1:9", "expected a string for 'socket', got a list" },
	{ "log_level: verbose\n" MODEL, "1:12",
	  "expected one of error, warn, info, debug for 'log_level', got 'verbose'" },
	{ "log_level: wrn\n" MODEL, "1:12",
	  "expected one of error, warn, info, debug for 'log_level', got 'wrn' "
	  "(did you mean 'warn'?)" },
	{ "models:\n  - {name: a, path: b, resize: letterbx}\n", "2:32",
	  "expected one of stretch, letterbox, center-crop for 'resize', got 'letterbx' "
	  "(did you mean 'letterbox'?)" },
	{ "models:\n  - {name: a, path: b, resize_filter: nearest}\n", "2:39",
	  "expected one of antialias, bilinear for 'resize_filter', got 'nearest'" },
	{ "models:\n  - name: a\n    path: b\n    resize_filter: bilinaer\n", "4:20",
	  "expected one of antialias, bilinear for 'resize_filter', got 'bilinaer' "
	  "(did you mean 'bilinear'?)" },
	{ "models:\n  - {name: a, path: b, resize_filter: [bilinear]}\n", "2:39",
	  "expected one of antialias, bilinear for 'resize_filter', got a list" },
	{ "models:\n  - {name: a, path: b, memory_plan: fuse}\n", "2:37",
	  "expected one of default, layers, fused for 'memory_plan', got 'fuse' "
	  "(did you mean 'fused'?)" },
	{ "models:\n  - {name: a, path: b, kind: segmenter}\n", "2:30",
	  "expected one of auto, classifier, detector for 'kind', got 'segmenter'" },
	{ "models:\n  - {name: a, path: b, score_threshold: high}\n", "2:41",
	  "expected a number for 'score_threshold', got 'high'" },
	{ SSD("      min_scale: nan\n"), "5:18", "expected a number for 'min_scale', got 'nan'" },
	{ SSD("      min_scale: 0x10\n"), "5:18",
	  "expected a number for 'min_scale', got '0x10'" },
	{ SSD("      use_regular_nms: maybe\n"), "5:24",
	  "expected true or false for 'use_regular_nms', got 'maybe'" },
	{ SSD("      aspect_ratios: 1\n"), "5:22",
	  "expected a list of numbers for 'aspect_ratios', got '1'" },
	{ SSD("      aspect_ratios: [1, [2]]\n"), "5:26",
	  "expected a number for 'aspect_ratios', got a list" },
	{ SSD("      feature_map_sizes: [1, x]\n"), "5:30",
	  "expected an integer for 'feature_map_sizes', got 'x'" },
	{ "models:\n  - {name: a, path: b, ssd_anchors: [1]}\n", "2:37",
	  "expected a mapping of anchor options for 'ssd_anchors', got a list" },
	{ "models: {name: a}\n", "1:9", "expected a list of models for 'models', got a mapping" },
	{ "models:\n", "1:8", "expected a list of models for 'models', got an empty value" },
	{ "models: [a.tflite]\n", "1:10",
	  "expected a model (a mapping with 'name' and 'path') in 'models', got 'a.tflite'" },
	{ "limits: 5\n" MODEL, "1:9", "expected a mapping of limits for 'limits', got '5'" },
	{ "allow_uids: root\n" MODEL, "1:13",
	  "expected a list of ids or names for 'allow_uids', got 'root'" },
	{ "- a\n", "1:1", "the top level must be a mapping of keys to values, got a list" },
	{ "just text\n", "1:1", "the top level must be a mapping of keys to values, got 'just "
	  "text'" },
	/* out of range */
	{ "threads: 257\n" MODEL, "1:10", "'threads' must be between 1 and 256, got '257'" },
	{ "threads: 0\n" MODEL, "1:10", "'threads' must be between 1 and 256, got '0'" },
	{ "intra_op_threads: 1000\n" MODEL, "1:19",
	  "'intra_op_threads' must be between 1 and 256, got '1000'" },
	{ "intra_op_threads: 0\n" MODEL, "1:19",
	  "'intra_op_threads' must be between 1 and 256, got '0'" },
	{ "cpu_budget: 4097\n" MODEL, "1:13", "'cpu_budget' must be between 1 and 4096, got '4097'" },
	{ "cpu_budget: many\n" MODEL, "1:13",
	  "expected an integer or auto for 'cpu_budget', got 'many'" },
	{ "intra_op_threads: Auto\n" MODEL, "1:19",
	  "expected an integer or auto for 'intra_op_threads', got 'Auto'" },
	{ "queue_depth: 65537\n" MODEL, "1:14",
	  "'queue_depth' must be between 1 and 65536, got '65537'" },
	{ "max_inflight_per_connection: 65537\n" MODEL, "1:30",
	  "'max_inflight_per_connection' must be between 1 and 65536, 0 or unlimited (no limit), "
	  "or auto, got '65537'" },
	{ "max_inflight_per_connection: 99999999999999999999\n" MODEL, "1:30",
	  "'max_inflight_per_connection' must be between 1 and 65536, 0 or unlimited (no limit), "
	  "or auto, got '99999999999999999999'" },
	{ "threads: 2\nmax_inflight_per_connection: -1\n" MODEL, "2:30",
	  "expected an integer, auto or unlimited for 'max_inflight_per_connection', got '-1'" },
	{ "max_inflight_per_connection: Unlimited\n" MODEL, "1:30",
	  "expected an integer, auto or unlimited for 'max_inflight_per_connection', got "
	  "'Unlimited'" },
	{ "max_inflight_per_connection: 016\n" MODEL, "1:30",
	  "expected an integer, auto or unlimited for 'max_inflight_per_connection', got '016' "
	  "(leading zeros are not allowed)" },
	{ "max_inflight_per_connection: ~\n" MODEL, "1:30",
	  "expected an integer, auto or unlimited for 'max_inflight_per_connection', got '~'" },
	{ "max_inflight_per_connection: [2]\n" MODEL, "1:30",
	  "expected an integer, auto or unlimited for 'max_inflight_per_connection', got a list" },
	{ "max_inflight_per_connection: 2\nmax_inflight_per_connection: 3\n" MODEL, "2:1",
	  "duplicate key 'max_inflight_per_connection' (first set at 1:1)" },
	{ "max_connections: 18446744073709551616\n" MODEL, "1:18",
	  "'max_connections' must be between 1 and 65536, got '18446744073709551616'" },
	{ "max_frame_bytes: 2G\n" MODEL, "1:18",
	  "'max_frame_bytes' must be between 1K and 1G, got '2G'" },
	{ "max_frame_bytes: 1023\n" MODEL, "1:18",
	  "'max_frame_bytes' must be between 1K and 1G, got '1023'" },
	{ "max_frame_bytes: 99999999999G\n" MODEL, "1:18",
	  "'max_frame_bytes' must be between 1K and 1G, got '99999999999G'" },
	{ "max_output_bytes: 1K\n" MODEL, "1:19",
	  "'max_output_bytes' must be between 64K and 1G, got '1K'" },
	{ "max_image_pixels: 65536x65537\n" MODEL, "1:19",
	  "'max_image_pixels' must be between 1 and 4294967296, got '65536x65537'" },
	{ "max_image_pixels: 0\n" MODEL, "1:19",
	  "'max_image_pixels' must be between 1 and 4294967296, got '0'" },
	{ "watchdog: 50ms\n" MODEL, "1:11", "'watchdog' must be between 100ms and 3600s, got "
	  "'50ms'" },
	{ "default_deadline: 3601s\n" MODEL, "1:19",
	  "'default_deadline' must be between 0ms and 3600s, got '3601s'" },
	{ "socket_mode: \"1777\"\n" MODEL, "1:14",
	  "'socket_mode' must be between 0000 and 0777, got '1777'" },
	{ "models:\n  - {name: a, path: b, score_threshold: 1.5}\n", "2:41",
	  "'score_threshold' must be between 0 and 1, got '1.5'" },
	{ "models:\n  - {name: a, path: b, top_k: 0}\n", "2:31",
	  "'top_k' must be between 1 and 10000, got '0'" },
	{ SSD("      min_scale: 0\n"), "5:18",
	  "'min_scale' must be greater than 0 and at most 10, got '0'" },
	{ SSD("      max_scale: 1e999\n"), "5:18",
	  "'max_scale' must be greater than 0 and at most 10, got '1e999'" },
	{ SSD("      num_layers: 9\n"), "5:19", "'num_layers' must be between 1 and 8, got '9'" },
	{ SSD("      aspect_ratios: [1, 2, 0]\n"), "5:29",
	  "'aspect_ratios' must be greater than 0 and at most 10, got '0'" },
	{ SSD("      aspect_ratios: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n"), "5:47",
	  "'aspect_ratios' has more than 8 entries" },
	{ SSD("      aspect_ratios: []\n"), "5:22", "'aspect_ratios' must not be an empty list" },
	{ SSD("      feature_map_sizes: [0]\n"), "5:27",
	  "'feature_map_sizes' must be between 1 and 4096, got '0'" },
	{ SSD("      nms_iou_threshold: -0.1\n"), "5:26",
	  "'nms_iou_threshold' must be between 0 and 1, got '-0.1'" },
	{ "allow_uids: [4294967295]\n" MODEL, "1:14",
	  "ids in 'allow_uids' must be between 0 and 4294967294, got '4294967295'" },
	/* strings */
	{ "socket: ''\n" MODEL, "1:9", "'socket' must not be empty" },
	{ "socket: /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n" MODEL, "1:9",
	  "'socket' is too long (118 bytes, at most 107)" },
	{ "socket_group: 'a b'\n" MODEL, "1:15",
	  "'socket_group' must be a group name (A-Z a-z 0-9 . _ -), got 'a b'" },
	{ "models:\n  - {name: 'a/b', path: b}\n", "2:12",
	  "'name' must use only the characters A-Z a-z 0-9 . _ -, got 'a/b'" },
	{ "models:\n  - {name: "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, path: b}\n", "2:12",
	  "'name' is too long (65 bytes, at most 64)" },
	{ "models:\n  - {name: a, path: \"b\\0c\"}\n", "2:21",
	  "the value of 'path' contains a NUL character" },
	{ "models:\n  - {name: a, path: ''}\n", "2:21", "'path' must not be empty" },
	/* duplicates */
	{ "threads: 2\nthreads: 3\n" MODEL, "2:1", "duplicate key 'threads' (first set at 1:1)" },
	{ "models:\n  - name: a\n    path: b\n    name: c\n", "4:5",
	  "duplicate key 'name' (first set at 2:5)" },
	{ SSD("      y_scale: 1\n      y_scale: 2\n"), "6:7",
	  "duplicate key 'y_scale' (first set at 5:7)" },
	{ "socket:\n  path: /s\n  mode: \"0600\"\nsocket_mode: \"0660\"\n" MODEL, "4:1",
	  "duplicate setting: 'socket_mode' sets the same value as 'mode' at 3:3" },
	{ "max_frame_bytes: 1M\nlimits:\n  max_frame_bytes: 2M\n" MODEL, "3:3",
	  "duplicate key 'max_frame_bytes' (first set at 1:1)" },
	{ "socket: /a\nsocket:\n  path: /b\n" MODEL, "2:1",
	  "duplicate key 'socket' (first set at 1:1)" },
	{ "models:\n  - {name: a, path: b}\n  - {name: c, path: d}\n  - {name: a, path: e}\n",
	  "4:6", "duplicate model name 'a' (first defined at line 2)" },
	/* missing and empty */
	{ "models:\n  - path: b\n", "2:5", "model #1 has no 'name' (it is required)" },
	{ "models:\n  - {name: a, path: b}\n  - {path: b}\n", "3:5",
	  "model #2 has no 'name' (it is required)" },
	{ "models:\n  - name: a\n", "2:5", "model 'a' has no 'path' (it is required)" },
	{ "threads: 2\n", "1:1", "missing required key 'models'" },
	{ "\n\nthreads: 2\n", "3:1", "missing required key 'models'" },
	{ "models: []\n", "1:9", "'models' is empty: at least one model is required" },
	{ "", "1:1", "the configuration is empty ('models' is required)" },
	{ "# nothing\n", "2:1", "the configuration is empty ('models' is required)" },
	{ "---\n", "2:1", "the top level must be a mapping of keys to values, got an empty "
	  "value" },
	/* cross-key checks */
	{ SSD("      num_layers: 3\n      feature_map_sizes: [10, 5]\n"), "6:7",
	  "'feature_map_sizes' has 2 entries but 'num_layers' is 3" },
	{ SSD("      min_scale: 0.5\n      max_scale: 0.4\n"), "6:7",
	  "'max_scale' (0.4) must not be below 'min_scale' (0.5)" },
	{ SSD("      min_scale: 0.99\n"), "5:7",
	  "'max_scale' (0.95) must not be below 'min_scale' (0.99)" },
	{ "models:\n  - name: a\n    path: b\n    kind: classifier\n    ssd_anchors: {}\n", "5:5",
	  "'ssd_anchors' is for detectors, but model 'a' is a classifier" },
	/* user and group names */
	{ "allow_uids: [root, nosuchuser_xyz]\n" MODEL, "1:20",
	  "unknown user 'nosuchuser_xyz' in 'allow_uids'" },
	{ "allow_gids:\n  - root\n  - nosuchgroup_xyz\n" MODEL, "3:5",
	  "unknown group 'nosuchgroup_xyz' in 'allow_gids'" },
	{ "allow_uids: ['bad name']\n" MODEL, "1:14",
	  "'bad name' is not a valid user name in 'allow_uids'" },
	{ "allow_gids: [007]\n" MODEL, "1:14",
	  "expected a group id or name in 'allow_gids', got '007' (leading zeros are not "
	  "allowed)" },
	/* YAML syntax */
	{ "threads: 'x\n", "2:1", "YAML syntax error: found unexpected end of stream (while "
	  "scanning a quoted scalar at 1:10)" },
	{ "threads: 1\n  bad: 2\n", "2:6",
	  "YAML syntax error: mapping values are not allowed in this context" },
	{ "models:\n  - name: a\n   path: b\n", "3:4", "YAML syntax error: did not find "
	  "expected '-' indicator (while parsing a block collection at 2:3)" },
	{ "threads: [1, 2\n" MODEL, "2:7", "YAML syntax error: did not find expected ',' or ']' "
	  "(while parsing a flow sequence at 1:10)" },
	{ "threads:\t2\n\tqueue_depth: 1\n", "2:1", "YAML syntax error: found a tab character "
	  "that violates indentation (while scanning a plain scalar at 1:10)" },
	/* anchors, aliases, tags, depth, documents: refused before any key is looked at */
	{ "threads: &n 2\n" MODEL, "1:10", "anchors are not allowed (found '&n')" },
	{ "colour: *n\n" MODEL, "1:9", "aliases are not allowed (found '*n'): write the value "
	  "out" },
	{ "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	  "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", "1:4",
	  "anchors are not allowed (found '&a')" },
	{ "threads: !!int 2\n" MODEL, "1:10",
	  "tags are not allowed (found 'tag:yaml.org,2002:int')" },
	{ "threads: !local 2\n" MODEL, "1:10", "tags are not allowed (found '!local')" },
	{ "threads: " DEEP16 "\n" MODEL, "1:25", "nesting is deeper than 16 levels" },
	{ "threads: " DEEP15 "\n" MODEL, "1:10", "expected an integer for 'threads', got a list" },
	{ MODEL "---\n" MODEL, "3:1", "only one YAML document is allowed" },
	{ MODEL "...\n---\nthreads: 2\n", "4:1", "only one YAML document is allowed" },
	/* bytes: UTF-8, control characters */
	{ "threads: 2\nlog_level: \xc3\x28\n" MODEL, "2:12",
	  "invalid UTF-8 (byte 0xc3): the configuration must be UTF-8 text" },
	{ "socket: /\xc0\xaf\n" MODEL, "1:10",
	  "invalid UTF-8 (byte 0xc0): the configuration must be UTF-8 text" },
	{ "socket: /\xed\xa0\x80\n" MODEL, "1:10",
	  "invalid UTF-8 (byte 0xed): the configuration must be UTF-8 text" },
	{ "socket: /\xf4\x90\x80\x80\n" MODEL, "1:10",
	  "invalid UTF-8 (byte 0xf4): the configuration must be UTF-8 text" },
	{ "# caf\xc3\xa9 \xe2\x82\xac\nsocket: /\xe2\x82\n", "2:10",
	  "invalid UTF-8 (byte 0xe2): the configuration must be UTF-8 text" },
	{ "\xff\xfethreads: 2\n", "1:1",
	  "invalid UTF-8 (byte 0xff): the configuration must be UTF-8 text" },
	{ "threads: 2\x07\n" MODEL, "1:11", "control character U+0007 is not allowed" },
	{ "a\r\nb\r\nthreads: \x1b\n", "3:10", "control character U+001B is not allowed" },
	{ "\xef\xbb\xbfthreads: x\n" MODEL, "1:10", "expected an integer for 'threads', got 'x'" },
};

START_TEST(test_errors)
{
	const bad_case *b = &bad[_i];
	mnv2_config c;
	char err[ERRLEN], want[ERRLEN];
	memset(&c, 0xA5, sizeof c);
	ck_assert_msg(parse(b->yaml, &c, err) == -1, "case %d was accepted:\n%s", _i, b->yaml);
	snprintf(want, sizeof want, "t.yaml:%s: %s", b->pos, b->message);
	ck_assert_msg(strcmp(err, want) == 0, "case %d:\n%s\n got: %s\nwant: %s", _i, b->yaml,
		      err, want);
	ck_assert_msg(is_zeroed(&c), "case %d: the result is not left empty", _i);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char y[] = "threads: 2\n  \0\n" MODEL;
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_int_eq(parse_n(y, sizeof y - 1, &c, err), -1);
	ck_assert_str_eq(err, "t.yaml:2:3: NUL byte: the configuration must be text");
}
END_TEST

START_TEST(test_too_many_models)
{
	size_t cap = 64 * 40 + 64;
	char *y = malloc(cap);
	size_t n = (size_t)snprintf(y, cap, "models:\n");
	for (int i = 0; i <= MNV2_CONFIG_MAX_MODELS; i++)
		n += (size_t)snprintf(y + n, cap - n, "  - {name: m%d, path: p}\n", i);
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_int_eq(parse(y, &c, err), -1);
	ck_assert_str_eq(err, "t.yaml:66:5: too many models (at most 64)");
	/* 64 are fine */
	*strstr(y, "  - {name: m64") = 0;
	ck_assert_msg(parse(y, &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c.n_models, 64);
	ck_assert_str_eq(c.models[63].name, "m63");
	ck_assert_int_eq(c.models[63].line, 65);
	mnv2_config_free(&c);
	free(y);
}
END_TEST

START_TEST(test_too_many_ids)
{
	char y[1024];
	size_t n = (size_t)snprintf(y, sizeof y, "allow_uids: [");
	for (int i = 0; i <= MNV2_CONFIG_MAX_IDS; i++)
		n += (size_t)snprintf(y + n, sizeof y - n, "%s%d", i ? "," : "", i);
	snprintf(y + n, sizeof y - n, "]\n" MODEL);
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_int_eq(parse(y, &c, err), -1);
	/* entry 65 ("64"): 13 + 1 + 9 * 2 + 54 * 3 characters before it, and its comma */
	ck_assert_str_eq(err, "t.yaml:1:196: 'allow_uids' has more than 64 entries");
}
END_TEST

/* Names are resolved with the system's user and group database. */
START_TEST(test_id_names)
{
	struct passwd *pw = getpwnam("daemon");
	struct group *gr = getgrnam("daemon");
	if (!pw || !gr) {
		fprintf(stderr, "test_id_names: skipped, no 'daemon' user and group here\n");
		return;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = gr->gr_gid;
	const char *y = "allow_uids: [root, daemon, 4294967294]\nallow_gids: [root, daemon]\n"
			MODEL;
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_msg(parse(y, &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c.n_allow_uids, 3);
	ck_assert_uint_eq(c.allow_uids[0], 0);
	ck_assert_uint_eq(c.allow_uids[1], uid);
	ck_assert_uint_eq(c.allow_uids[2], 4294967294u);
	ck_assert_uint_eq(c.n_allow_gids, 2);
	ck_assert_uint_eq(c.allow_gids[0], 0);
	ck_assert_uint_eq(c.allow_gids[1], gid);
	mnv2_config_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(test_size_limit)
{
	size_t max = MNV2_CONFIG_MAX_BYTES;
	char *y = malloc(max + 2);
	size_t head = strlen(MODEL);
	memcpy(y, MODEL, head);
	memset(y + head, '#', max - head);   /* one long comment up to exactly 1 MiB */
	y[max - 1] = '\n';
	mnv2_config c;
	char err[ERRLEN];
	ck_assert_msg(parse_n(y, max, &c, err) == 0, "%s", err);
	mnv2_config_free(&c);
	y[max] = '\n';
	ck_assert_int_eq(parse_n(y, max + 1, &c, err), -1);
	ck_assert_str_eq(err, "t.yaml:1:1: the configuration is 1048577 bytes, more than the "
			 "limit of 1048576 bytes (1 MiB)");
	free(y);
}
END_TEST

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_load_files)
{
	char path[128], err[ERRLEN], cwd[4096], want[4300];
	mnv2_config c;
	make_tmpdir();
	snprintf(path, sizeof path, "%s/c.yaml", tmpdir);
	write_file(path, "models:\n  - {name: a, path: a.tflite}\n", 38);
	ck_assert_msg(mnv2_config_load(path, &c, err, sizeof err) == 0, "%s", err);
	snprintf(want, sizeof want, "%s/a.tflite", tmpdir);
	ck_assert_str_eq(c.models[0].path, want);
	ck_assert_str_eq(c.path, path);
	mnv2_config_free(&c);
	/* a relative file name: paths become absolute with the current directory */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_int_eq(chdir("/tmp"), 0);
	ck_assert_msg(mnv2_config_load(path + 5, &c, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.models[0].path, want);
	mnv2_config_free(&c);
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_msg(mnv2_config_load("c.yaml", &c, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.models[0].path, want);
	ck_assert_str_eq(c.path, "c.yaml");
	mnv2_config_free(&c);
	ck_assert_int_eq(chdir(cwd), 0);
	/* errors carry the file name */
	write_file(path, "models:\n  - {name: a}\n", 22);
	ck_assert_int_eq(mnv2_config_load(path, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:2:5: model 'a' has no 'path' (it is required)", path);
	ck_assert_str_eq(err, want);
	ck_assert(is_zeroed(&c));
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_load_errors)
{
	char path[128], err[ERRLEN], want[256];
	mnv2_config c;
	make_tmpdir();
	snprintf(path, sizeof path, "%s/missing.yaml", tmpdir);
	ck_assert_int_eq(mnv2_config_load(path, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(mnv2_config_load(tmpdir, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", tmpdir);
	ck_assert_str_eq(err, want);
	snprintf(path, sizeof path, "%s/big.yaml", tmpdir);
	size_t big = MNV2_CONFIG_MAX_BYTES + 100;
	char *data = malloc(big);
	memset(data, '\n', big);
	write_file(path, data, big);
	free(data);
	ck_assert_int_eq(mnv2_config_load(path, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:1:1: the file is larger than the limit of 1048576 "
		 "bytes (1 MiB)", path);
	ck_assert_str_eq(err, want);
	ck_assert(is_zeroed(&c));
	unlink(path);
	ck_assert_int_eq(mnv2_config_load("/dev/zero", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "/dev/zero: not a regular file");
	rmdir(tmpdir);
}
END_TEST

/* A short or missing error buffer truncates the message, never overflows. */
START_TEST(test_error_buffer)
{
	mnv2_config c;
	char small[16];
	memset(small, 'x', sizeof small);
	ck_assert_int_eq(mnv2_config_parse("threads: x\n", 11, "t.yaml", &c, small, 12), -1);
	ck_assert_str_eq(small, "t.yaml:1:10");
	ck_assert_int_eq(small[12], 'x');
	ck_assert_int_eq(mnv2_config_parse("threads: x\n", 11, "t.yaml", &c, NULL, 0), -1);
	ck_assert_int_eq(mnv2_config_parse("threads: x\n", 11, "t.yaml", &c, small, 0), -1);
	ck_assert_int_eq(mnv2_config_parse(NULL, 0, "t.yaml", &c, small, sizeof small), -1);
	ck_assert_str_eq(small, "t.yaml:1:1: the");
	ck_assert_int_eq(mnv2_config_load("/nonexistent/x", &c, small, sizeof small), -1);
	ck_assert_str_eq(small, "/nonexistent/x:");
}
END_TEST

/* ---------------------------------------------------------------- shipped files */

static void load_shipped(const char *file, mnv2_config *c)
{
	char path[1024], err[ERRLEN];
	snprintf(path, sizeof path, "%s/%s", MNV2_CONFIG_DIR, file);
	ck_assert_msg(mnv2_config_load(path, c, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c->n_models, 4);
	static const char *names[] = { "mobilenet_v2", "mobilenet_v2_int8", "ssd_mobilenet_v2",
				       "ssd_mobilenet_v1" };
	static const mnv2_model_kind_cfg kinds[] = { MNV2_CFG_KIND_CLASSIFIER,
		MNV2_CFG_KIND_CLASSIFIER, MNV2_CFG_KIND_DETECTOR, MNV2_CFG_KIND_DETECTOR };
	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(c->models[i].name, names[i]);
		ck_assert_int_eq(c->models[i].kind, kinds[i]);
		ck_assert_ptr_nonnull(c->models[i].labels);
	}
	ck_assert_uint_eq(c->socket_mode, 0660);
	ck_assert_uint_eq(c->max_frame_bytes, 32u << 20);
	ck_assert_uint_eq(c->max_image_pixels, 8192u * 8192u);
}

static int ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && strcmp(s + a - b, tail) == 0;
}

START_TEST(test_shipped_default)
{
	mnv2_config c;
	load_shipped("mnv2d.yaml", &c);
	ck_assert_str_eq(c.socket_path, "/run/mnv2d/mnv2d.sock");
	ck_assert_str_eq(c.socket_group, "video");
	ck_assert_str_eq(c.models[0].path,
			 "/usr/local/share/mnv2d/models/mobilenet_v2_1.0_224_quant.tflite");
	ck_assert_str_eq(c.models[2].labels, "/usr/local/share/mnv2d/models/coco_labels.txt");
	mnv2_config_free(&c);
}
END_TEST

START_TEST(test_shipped_dev)
{
	static const char *files[] = { "mobilenet_v2_1.0_224_quant.tflite",
		"tf2_mobilenet_v2_1.0_224_ptq.tflite",
		"mobilenet_ssd_v2_coco_quant_postprocess.tflite",
		"ssd_mobilenet_v1_1_default_1.tflite" };
	mnv2_config c;
	char tail[256];
	load_shipped("dev.yaml", &c);
	int present = 0;
	for (int i = 0; i < 4; i++) {
		snprintf(tail, sizeof tail, "/config/../models/data/%s", files[i]);
		ck_assert_msg(c.models[i].path[0] == '/' && ends_with(c.models[i].path, tail),
			      "%s", c.models[i].path);
		present += access(c.models[i].path, R_OK) == 0 &&
			   access(c.models[i].labels, R_OK) == 0;
	}
	if (present < 4)
		fprintf(stderr, "test_shipped_dev: %d of 4 models in models/data/ (run "
			"models/fetch-models.sh to check that dev.yaml finds them all)\n", present);
	mnv2_config_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- robustness */

/* On failure the message has a position within the input; on success a usable config. */
static void check_outcome(const char *buf, size_t len, const char *what, size_t at)
{
	mnv2_config c;
	char err[ERRLEN];
	int line, col, end = 0, lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n' || buf[i] == '\r';
	if (mnv2_config_parse(buf, len, "f.yaml", &c, err, sizeof err) == 0) {
		ck_assert_msg(c.n_models >= 1 && c.n_models <= MNV2_CONFIG_MAX_MODELS, "%s %zu",
			      what, at);
		for (size_t i = 0; i < c.n_models; i++)
			ck_assert(c.models[i].name && c.models[i].path);
		mnv2_config_free(&c);
		return;
	}
	ck_assert_msg(sscanf(err, "f.yaml:%d:%d: %n", &line, &col, &end) == 2 && end > 0 &&
		      err[end] != 0, "%s %zu: malformed error '%s'", what, at, err);
	ck_assert_msg(line >= 1 && line <= lines + 1 && col >= 1, "%s %zu: position of '%s'",
		      what, at, err);
	ck_assert(is_zeroed(&c));
}

START_TEST(test_truncations)
{
	size_t len = strlen(every_key);
	char *buf = malloc(len);
	for (size_t n = 0; n <= len; n++) {
		memcpy(buf, every_key, n);   /* exact length: overreads are caught by ASan */
		check_outcome(buf, n, "truncated to", n);
	}
	free(buf);
}
END_TEST

START_TEST(test_byte_flips)
{
	static const unsigned char repl[] = { 0, '\n', ':', '-', '[', '{', '&', '*', '!', '"',
					      '\'', ' ', '\t', 0x80, 0xc3, 0xff, '#', '|', '>' };
	size_t len = strlen(every_key);
	char *buf = malloc(len);
	uint32_t rng = 12345;
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof repl + 2; k++) {
			memcpy(buf, every_key, len);
			buf[i] = (char)(k < sizeof repl ? repl[k] : (int)(test_rand(&rng) & 0xff));
			check_outcome(buf, len, "byte changed at", i);
		}
	}
	free(buf);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("parse");
	tcase_add_test(t, test_defaults);
	tcase_add_test(t, test_minimal);
	tcase_add_test(t, test_thread_budget_auto);
	tcase_add_test(t, test_memory_plan);
	tcase_add_test(t, test_resize_filter);
	tcase_add_test(t, test_empty_ssd_section);
	tcase_add_test(t, test_every_key);
	tcase_add_test(t, test_grouped_keys);
	tcase_add_test(t, test_value_forms);
	tcase_add_test(t, test_inflight_forms);
	tcase_add_test(t, test_relative_paths);
	tcase_add_test(t, test_unnamed_errors);
	tcase_add_loop_test(t, test_errors, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(t, test_nul_byte);
	tcase_add_test(t, test_too_many_models);
	tcase_add_test(t, test_too_many_ids);
	tcase_add_test(t, test_id_names);
	tcase_add_test(t, test_size_limit);
	tcase_add_test(t, test_load_files);
	tcase_add_test(t, test_load_errors);
	tcase_add_test(t, test_error_buffer);
	tcase_add_test(t, test_shipped_default);
	tcase_add_test(t, test_shipped_dev);
	suite_add_tcase(s, t);
	TCase *r = tcase_create("robustness");
	tcase_add_test(r, test_truncations);
	tcase_add_test(r, test_byte_flips);
	suite_add_tcase(s, r);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
