/* cfg_model — the 'models' list: each model's keys, its optional 'ssd_anchors' section,
 * and the checks across keys (required name and path, unique names, scales in order). */
#include "cfg_internal.h"

#include <stddef.h>
#include <string.h>

#define M_OFF(member) offsetof(mnv2_model_cfg, member)
#define S_OFF(member) offsetof(mnv2_ssd_anchors_cfg, member)
#define OPEN 1

enum { M_NAME, M_PATH, M_LABELS, M_KIND, M_RESIZE, M_FILTER, M_TOPK, M_SCORE, M_MAXDET, M_SSD, M_PLAN,
       M_N };
enum { S_LAYERS, S_MIN, S_MAX, S_RATIOS, S_INTERP, S_REDUCE, S_FMAPS, S_Y, S_X, S_H, S_W,
       S_IOU, S_SCORE, S_MAXDET, S_REGULAR, S_PERCLASS, S_CLASSES, S_LOGITS, S_NOBG, S_N };

static int valid_model_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static const cfg_strspec name_spec = { 64, 0, valid_model_name,
	"must use only the characters A-Z a-z 0-9 . _ -" };
static const cfg_strspec path_spec = { CFG_MAX_SCALAR - 1, 0, NULL, NULL };
static const cfg_strspec labels_spec = { CFG_MAX_SCALAR - 1, 1, NULL, NULL };

static const char *const kind_names[] = { "auto", "classifier", "detector", "classify",
					  "detect", NULL };
static const int kind_values[] = { MNV2_CFG_KIND_AUTO, MNV2_CFG_KIND_CLASSIFIER,
				   MNV2_CFG_KIND_DETECTOR, MNV2_CFG_KIND_CLASSIFIER,
				   MNV2_CFG_KIND_DETECTOR };
static const cfg_enum kind_enum = { kind_names, kind_values,
	"one of auto, classifier, detector" };

/* The values of mnv2_resize_mode (mnv2/preprocess.h). */
static const char *const resize_names[] = { "stretch", "letterbox", "center-crop", NULL };
static const int resize_values[] = { 0, 1, 2 };
static const cfg_enum resize_enum = { resize_names, resize_values,
	"one of stretch, letterbox, center-crop" };

/* The values of mnv2_resize_filter (mnv2/preprocess.h). */
static const char *const filter_names[] = { "antialias", "bilinear", NULL };
static const int filter_values[] = { 0, 1 };
static const cfg_enum filter_enum = { filter_names, filter_values,
	"one of antialias, bilinear" };

/* The values of mnv2_plan_mode (mnv2/engine.h). */
static const char *const plan_names[] = { "default", "layers", "fused", NULL };
static const int plan_values[] = { 0, 1, 2 };
static const cfg_enum plan_enum = { plan_names, plan_values,
	"one of default, layers, fused" };

static const cfg_listspec ratios_list = { S_OFF(num_aspect_ratios), 8 };
static const cfg_listspec fmaps_list = { S_OFF(num_feature_maps), 8 };

static const cfg_field ssd_fields[] = {
	{ "num_layers", cfg_h_int, S_LAYERS, S_OFF(num_layers), ST_INT, 1, 8, 0, NULL },
	{ "min_scale", cfg_h_float, S_MIN, S_OFF(min_scale), ST_FLOAT, 0, 10, OPEN, NULL },
	{ "max_scale", cfg_h_float, S_MAX, S_OFF(max_scale), ST_FLOAT, 0, 10, OPEN, NULL },
	{ "aspect_ratios", cfg_h_float_list, S_RATIOS, S_OFF(aspect_ratios), ST_FLOAT, 0, 10,
	  OPEN, &ratios_list },
	{ "interpolated_scale_aspect_ratio", cfg_h_float, S_INTERP,
	  S_OFF(interpolated_scale_aspect_ratio), ST_FLOAT, 0, 10, 0, NULL },
	{ "reduce_boxes_in_lowest_layer", cfg_h_bool, S_REDUCE,
	  S_OFF(reduce_boxes_in_lowest_layer), ST_INT, 0, 1, 0, NULL },
	{ "feature_map_sizes", cfg_h_int_list, S_FMAPS, S_OFF(feature_map_sizes), ST_INT, 1,
	  4096, 0, &fmaps_list },
	{ "y_scale", cfg_h_float, S_Y, S_OFF(y_scale), ST_FLOAT, 0, 1000, OPEN, NULL },
	{ "x_scale", cfg_h_float, S_X, S_OFF(x_scale), ST_FLOAT, 0, 1000, OPEN, NULL },
	{ "h_scale", cfg_h_float, S_H, S_OFF(h_scale), ST_FLOAT, 0, 1000, OPEN, NULL },
	{ "w_scale", cfg_h_float, S_W, S_OFF(w_scale), ST_FLOAT, 0, 1000, OPEN, NULL },
	{ "nms_iou_threshold", cfg_h_float, S_IOU, S_OFF(nms_iou_threshold), ST_FLOAT, 0, 1, 0,
	  NULL },
	{ "nms_score_threshold", cfg_h_float, S_SCORE, S_OFF(nms_score_threshold), ST_FLOAT, 0,
	  1, 0, NULL },
	{ "max_detections", cfg_h_int, S_MAXDET, S_OFF(max_detections), ST_INT, 1, 10000, 0,
	  NULL },
	{ "use_regular_nms", cfg_h_bool, S_REGULAR, S_OFF(use_regular_nms), ST_INT, 0, 1, 0,
	  NULL },
	{ "detections_per_class", cfg_h_int, S_PERCLASS, S_OFF(detections_per_class), ST_INT, 1,
	  10000, 0, NULL },
	{ "max_classes_per_detection", cfg_h_int, S_CLASSES, S_OFF(max_classes_per_detection),
	  ST_INT, 1, 100, 0, NULL },
	{ "scores_are_logits", cfg_h_bool, S_LOGITS, S_OFF(scores_are_logits), ST_INT, 0, 1, 0,
	  NULL },
	{ "no_background", cfg_h_bool, S_NOBG, S_OFF(no_background), ST_INT, 0, 1, 0, NULL },
};
static const cfg_table ssd_table = { "'ssd_anchors'", ssd_fields,
				     sizeof ssd_fields / sizeof ssd_fields[0] };

static int check_ssd(cfg_ctx *c, const mnv2_ssd_anchors_cfg *s, const cfg_seen *seen)
{
	if (s->max_scale < s->min_scale) {
		const cfg_seen *at = seen[S_MAX].line ? &seen[S_MAX] : &seen[S_MIN];
		return cfg_fail(&c->err, at->line, at->col, "'max_scale' (%g) must not be below "
				"'min_scale' (%g)", (double)s->max_scale, (double)s->min_scale);
	}
	if (s->num_feature_maps && s->num_feature_maps != s->num_layers) {
		const cfg_seen *at = &seen[S_FMAPS];
		return cfg_fail(&c->err, at->line, at->col, "'feature_map_sizes' has %d entries "
				"but 'num_layers' is %d", s->num_feature_maps, s->num_layers);
	}
	return 0;
}

static int h_ssd(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	mnv2_model_cfg *m = base;
	cfg_seen seen[S_N] = { { 0, 0, NULL } };
	if (cfg_expect(c, f, v, YAML_MAPPING_START_EVENT, "a mapping of anchor options") < 0 ||
	    cfg_walk_map(c, &ssd_table, &m->ssd, seen) < 0)
		return -1;
	m->ssd.enabled = 1;
	return check_ssd(c, &m->ssd, seen);
}

static const cfg_field model_fields[] = {
	{ "name", cfg_h_string, M_NAME, M_OFF(name), ST_INT, 0, 0, 0, &name_spec },
	{ "path", cfg_h_path, M_PATH, M_OFF(path), ST_INT, 0, 0, 0, &path_spec },
	{ "labels", cfg_h_path, M_LABELS, M_OFF(labels), ST_INT, 0, 0, 0, &labels_spec },
	{ "kind", cfg_h_enum, M_KIND, M_OFF(kind), ST_INT, 0, 0, 0, &kind_enum },
	{ "resize", cfg_h_enum, M_RESIZE, M_OFF(resize), ST_INT, 0, 0, 0, &resize_enum },
	{ "resize_filter", cfg_h_enum, M_FILTER, M_OFF(resize_filter), ST_INT, 0, 0, 0,
	  &filter_enum },
	{ "top_k", cfg_h_int, M_TOPK, M_OFF(top_k), ST_INT, 1, 10000, 0, NULL },
	{ "score_threshold", cfg_h_float, M_SCORE, M_OFF(score_threshold), ST_FLOAT, 0, 1, 0,
	  NULL },
	{ "max_detections", cfg_h_int, M_MAXDET, M_OFF(max_detections), ST_INT, 0, 10000, 0,
	  NULL },
	{ "ssd_anchors", h_ssd, M_SSD, 0, ST_INT, 0, 0, 0, NULL },
	{ "memory_plan", cfg_h_enum, M_PLAN, M_OFF(plan), ST_INT, 0, 0, 0, &plan_enum },
};
static const cfg_table model_table = { "a model", model_fields,
				       sizeof model_fields / sizeof model_fields[0] };

void cfg_model_defaults(mnv2_model_cfg *m)
{
	*m = (mnv2_model_cfg){
		.kind = MNV2_CFG_KIND_AUTO, .resize = 0, .resize_filter = 0, .top_k = 5,
		.score_threshold = -1.0f, .max_detections = 0,
		.ssd = {
			.enabled = 0, .num_layers = 6, .min_scale = 0.2f, .max_scale = 0.95f,
			.aspect_ratios = { 1.0f, 2.0f, 0.5f, 3.0f, 1.0f / 3.0f },
			.num_aspect_ratios = 5, .interpolated_scale_aspect_ratio = 1.0f,
			.reduce_boxes_in_lowest_layer = 1, .num_feature_maps = 0,
			.y_scale = 10, .x_scale = 10, .h_scale = 5, .w_scale = 5,
			.nms_iou_threshold = 0.6f, .nms_score_threshold = 1e-8f,
			.max_detections = 100, .use_regular_nms = 0, .detections_per_class = 100,
			.max_classes_per_detection = 1, .scores_are_logits = 0, .no_background = 0,
		},
	};
}

/* Checks across the keys of model number idx once its mapping has ended. */
static int check_model(cfg_ctx *c, const yaml_event_t *start, const mnv2_config *cfg,
		       size_t idx, const cfg_seen *seen)
{
	const mnv2_model_cfg *m = &cfg->models[idx];
	if (!m->name)
		return cfg_fail_ev(c, start, "model #%zu has no 'name' (it is required)", idx + 1);
	if (!m->path)
		return cfg_fail_ev(c, start, "model '%s' has no 'path' (it is required)", m->name);
	for (size_t i = 0; i < idx; i++)
		if (strcmp(cfg->models[i].name, m->name) == 0)
			return cfg_fail(&c->err, seen[M_NAME].line, seen[M_NAME].col,
					"duplicate model name '%s' (first defined at line %d)",
					m->name, cfg->models[i].line);
	if (m->ssd.enabled && m->kind == MNV2_CFG_KIND_CLASSIFIER)
		return cfg_fail(&c->err, seen[M_SSD].line, seen[M_SSD].col,
				"'ssd_anchors' is for detectors, but model '%s' is a classifier",
				m->name);
	return 0;
}

static int parse_model(cfg_ctx *c, const yaml_event_t *start, mnv2_config *cfg)
{
	size_t idx = cfg->n_models++;   /* counted at once, so a failure frees its strings */
	mnv2_model_cfg *m = &cfg->models[idx];
	cfg_seen seen[M_N] = { { 0, 0, NULL } };
	cfg_model_defaults(m);
	m->line = cfg_line(start);
	if (cfg_walk_map(c, &model_table, m, seen) < 0)
		return -1;
	return check_model(c, start, cfg, idx, seen);
}

/* One entry of the list (its first event already read). */
static int model_entry(cfg_ctx *c, const yaml_event_t *e, mnv2_config *cfg)
{
	char got[64];
	if (cfg->n_models == MNV2_CONFIG_MAX_MODELS)
		return cfg_fail_ev(c, e, "too many models (at most %d)", MNV2_CONFIG_MAX_MODELS);
	if (e->type != YAML_MAPPING_START_EVENT) {
		cfg_describe(e, got, sizeof got);
		return cfg_fail_ev(c, e, "expected a model (a mapping with 'name' and 'path') in "
				   "'models', got %s", got);
	}
	return parse_model(c, e, cfg);
}

int cfg_h_models(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	mnv2_config *cfg = base;
	if (cfg_expect(c, f, v, YAML_SEQUENCE_START_EVENT, "a list of models") < 0)
		return -1;
	for (;;) {
		yaml_event_t e;
		if (cfg_next(c, &e) < 0)
			return -1;
		int end = e.type == YAML_SEQUENCE_END_EVENT;
		int rc = end ? 0 : model_entry(c, &e, cfg);
		yaml_event_delete(&e);
		if (rc < 0)
			return -1;
		if (end)
			break;
	}
	if (cfg->n_models == 0)
		return cfg_fail_ev(c, v, "'models' is empty: at least one model is required");
	return 0;
}
