/* mnv2/config — the daemon's YAML configuration: parsing, validation and defaults.
 *
 * The file is untrusted input: it is read with a size limit (1 MiB), every key is checked
 * against the schema (config/schema.md) and every error names "file:line:column: what".
 * Unknown keys are errors (a typo must not silently fall back to a default). */
#ifndef MNV2_CONFIG_H
#define MNV2_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MNV2_CONFIG_MAX_BYTES (1u << 20)
#define MNV2_CONFIG_MAX_MODELS 64
#define MNV2_CONFIG_MAX_IDS 64
/* max_inflight_per_connection: "auto" (the daemon derives it from queue_depth and threads) */
#define MNV2_CONFIG_INFLIGHT_AUTO (-1)

typedef enum mnv2_model_kind_cfg {
	MNV2_CFG_KIND_AUTO = 0,        /* decided from the model's outputs */
	MNV2_CFG_KIND_CLASSIFIER = 1,
	MNV2_CFG_KIND_DETECTOR = 2,
} mnv2_model_kind_cfg;

/* Anchor generator for SSD models without TFLite_Detection_PostProcess (TF Object
 * Detection API ssd_anchor_generator semantics). */
typedef struct mnv2_ssd_anchors_cfg {
	int enabled;
	int num_layers;                 /* default 6 */
	float min_scale, max_scale;     /* default 0.2, 0.95 */
	float aspect_ratios[8];         /* default 1, 2, 0.5, 3, 0.3333 */
	int num_aspect_ratios;
	float interpolated_scale_aspect_ratio; /* default 1.0 */
	int reduce_boxes_in_lowest_layer;      /* default 1 */
	int feature_map_sizes[8];       /* 0 = derived from the input size */
	int num_feature_maps;
	/* decoding and NMS */
	float y_scale, x_scale, h_scale, w_scale;  /* default 10, 10, 5, 5 */
	float nms_iou_threshold;        /* default 0.6 */
	float nms_score_threshold;      /* default 1e-8 */
	int max_detections;             /* default 100 */
	int use_regular_nms;            /* default 0 */
	int detections_per_class;       /* default 100 */
	/* added with the parser; mirror mnv2_ssd_options (mnv2/ssd.h) */
	int max_classes_per_detection;  /* default 1, 1..100 */
	int scores_are_logits;          /* default 0; 1: apply the sigmoid to class scores */
	int no_background;              /* default 0; 1: score column 0 is a real class */
} mnv2_ssd_anchors_cfg;

typedef struct mnv2_model_cfg {
	char *name;              /* required, unique, [A-Za-z0-9._-]{1,64} */
	char *path;              /* required: the .tflite file */
	char *labels;            /* optional label file; else labels packed in the model */
	mnv2_model_kind_cfg kind;
	int resize;              /* mnv2_resize_mode: stretch (default), letterbox, center-crop */
	int resize_filter;       /* mnv2_resize_filter: antialias (default), bilinear */
	int top_k;               /* default 5 */
	float score_threshold;   /* default 0 (classifier), 0.3 (detector) if unset (<0) */
	int max_detections;      /* default 0 = all the model gives */
	mnv2_ssd_anchors_cfg ssd;
	int plan;                /* mnv2_plan_mode: default (0), layers, fused */
	int line;                /* where it was defined, for messages */
} mnv2_model_cfg;

typedef struct mnv2_config {
	char *path;              /* the file it came from (or the given name) */
	char *socket_path;       /* default /run/mnv2d/mnv2d.sock */
	mode_t socket_mode;      /* default 0660 */
	char *socket_group;      /* default NULL: the daemon's group */
	int threads;             /* inference workers, default 2, 1..256 */
	int intra_op_threads;    /* threads per inference, 1..256; 0 = auto (default) */
	int cpu_budget;          /* CPUs for workers x intra-op threads; 0 = auto (default) */
	int queue_depth;         /* default 64, 1..65536 */
	int max_inflight_per_connection;  /* 1..65536; 0 = no limit ("unlimited");
					     MNV2_CONFIG_INFLIGHT_AUTO (default) */
	size_t max_frame_bytes;  /* default 32 MiB, 1 KiB..1 GiB */
	uint64_t max_image_pixels;   /* default 8192*8192 */
	size_t max_output_bytes; /* per-connection unsent output before disconnect, default 64 MiB */
	int max_connections;     /* default 256 */
	uint32_t default_deadline_ms;  /* 0 = none */
	uint32_t watchdog_ms;    /* worker stall limit for health, default 30000 */
	uid_t allow_uids[MNV2_CONFIG_MAX_IDS];
	size_t n_allow_uids;
	gid_t allow_gids[MNV2_CONFIG_MAX_IDS];
	size_t n_allow_gids;
	int allow_ids_set;       /* 1 when allow_uids/allow_gids appear in the file */
	char *log_level;         /* error|warn|info|debug, default info */
	mnv2_model_cfg models[MNV2_CONFIG_MAX_MODELS];
	size_t n_models;         /* at least 1 */
} mnv2_config;

/* 0 on success. On failure -1 and "file:line:column: message" in err. */
int mnv2_config_load(const char *path, mnv2_config *out, char *err, size_t errlen);
int mnv2_config_parse(const char *data, size_t len, const char *name, mnv2_config *out,
		      char *err, size_t errlen);
void mnv2_config_defaults(mnv2_config *cfg);   /* no models */
void mnv2_config_free(mnv2_config *cfg);
/* Relative model/label paths are resolved against the config file's directory.
 * Details (config/schema.md): *out needs no initialisation and is left all-zero on
 * failure (mnv2_config_free on it is harmless). An error that comes before parsing (the
 * file cannot be opened or read, is not a regular file) has no position: "file: what: why".
 * mnv2_config_load makes the directory absolute with the current directory;
 * mnv2_config_parse uses the directory part of name as written (none: paths stay
 * relative), and with name NULL messages say "<config>" and cfg->path is NULL. Parsing is
 * reentrant; allow_uids / allow_gids names are looked up with getpwnam_r / getgrnam_r. */

#ifdef __cplusplus
}
#endif
#endif
