/* cfg_top — the document and its top-level keys. The socket and limit keys may also be
 * grouped as in the daemon issue's example ("socket: {path, mode, group}", "limits:
 * {max_frame_bytes, ...}"); each setting may still be given only once. */
#include "cfg_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define C_OFF(member) offsetof(mnv2_config, member)

enum { T_SOCKET, T_SPATH, T_MODE, T_GROUP, T_THREADS, T_INTRA, T_BUDGET, T_QUEUE, T_INFLIGHT,
       T_FRAME, T_PIXELS, T_OUTPUT, T_CONNS, T_DEADLINE, T_WATCHDOG, T_UIDS, T_GIDS, T_LOG,
       T_MODELS, T_LIMITS, T_N };

static const cfg_strspec socket_spec = { 107, 0, NULL, NULL };  /* sun_path holds 108 */
static const cfg_strspec group_spec = { 64, 1, cfg_valid_id_name,
	"must be a group name (A-Z a-z 0-9 . _ -)" };

static const char *const log_names[] = { "error", "warn", "info", "debug", NULL };
static const cfg_enum log_enum = { log_names, NULL, "one of error, warn, info, debug" };

static int h_log_level(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	mnv2_config *cfg = base;
	int i;
	if (cfg_enum_index(c, f, v, &i) < 0)
		return -1;
	free(cfg->log_level);
	cfg->log_level = strdup(log_names[i]);
	return cfg->log_level ? 0 : cfg_fail_ev(c, v, "out of memory");
}

#define SOCKET_PATH(key, slot) \
	{ key, cfg_h_string, slot, C_OFF(socket_path), ST_INT, 0, 0, 0, &socket_spec }
#define SOCKET_MODE(key) \
	{ key, cfg_h_mode, T_MODE, C_OFF(socket_mode), ST_MODE, 0, 0777, 0, NULL }
#define SOCKET_GROUP(key) \
	{ key, cfg_h_string, T_GROUP, C_OFF(socket_group), ST_INT, 0, 0, 0, &group_spec }
#define MAX_FRAME { "max_frame_bytes", cfg_h_size, T_FRAME, C_OFF(max_frame_bytes), ST_SIZE, \
		    1024, 1073741824.0, 0, NULL }
#define MAX_PIXELS { "max_image_pixels", cfg_h_pixels, T_PIXELS, C_OFF(max_image_pixels), \
		     ST_U64, 1, 4294967296.0, 0, NULL }
#define MAX_OUTPUT { "max_output_bytes", cfg_h_size, T_OUTPUT, C_OFF(max_output_bytes), \
		     ST_SIZE, 65536, 1073741824.0, 0, NULL }
#define MAX_CONNS { "max_connections", cfg_h_int, T_CONNS, C_OFF(max_connections), ST_INT, \
		    1, 65536, 0, NULL }

static const cfg_field socket_fields[] = {
	SOCKET_PATH("path", T_SPATH), SOCKET_MODE("mode"), SOCKET_GROUP("group"),
};
static const cfg_table socket_table = { "'socket'", socket_fields,
					sizeof socket_fields / sizeof socket_fields[0] };

static const cfg_field limit_fields[] = { MAX_FRAME, MAX_PIXELS, MAX_OUTPUT, MAX_CONNS };
static const cfg_table limits_table = { "'limits'", limit_fields,
					sizeof limit_fields / sizeof limit_fields[0] };

/* socket: a path, or a mapping of path, mode and group. */
static int h_socket(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	static const cfg_field path = SOCKET_PATH("socket", T_SOCKET);
	if (v->type != YAML_MAPPING_START_EVENT)
		return cfg_h_string(c, &path, v, base);
	(void)f;
	return cfg_walk_map(c, &socket_table, base, c->seen_top);
}

static int h_limits(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	if (cfg_expect(c, f, v, YAML_MAPPING_START_EVENT, "a mapping of limits") < 0)
		return -1;
	return cfg_walk_map(c, &limits_table, base, c->seen_top);
}

static const cfg_field top_fields[] = {
	{ "socket", h_socket, T_SOCKET, 0, ST_INT, 0, 0, 0, NULL },
	SOCKET_MODE("socket_mode"),
	SOCKET_GROUP("socket_group"),
	{ "threads", cfg_h_int, T_THREADS, C_OFF(threads), ST_INT, 1, 256, 0, NULL },
	{ "intra_op_threads", cfg_h_int_auto, T_INTRA, C_OFF(intra_op_threads), ST_INT, 1, 256,
	  0, NULL },
	{ "cpu_budget", cfg_h_int_auto, T_BUDGET, C_OFF(cpu_budget), ST_INT, 1, 4096, 0, NULL },
	{ "queue_depth", cfg_h_int, T_QUEUE, C_OFF(queue_depth), ST_INT, 1, 65536, 0, NULL },
	{ "max_inflight_per_connection", cfg_h_int_limit, T_INFLIGHT,
	  C_OFF(max_inflight_per_connection), ST_INT, 1, 65536, 0, NULL },
	MAX_FRAME, MAX_PIXELS, MAX_OUTPUT, MAX_CONNS,
	{ "default_deadline", cfg_h_duration, T_DEADLINE, C_OFF(default_deadline_ms), ST_U32, 0,
	  3600000, 0, NULL },
	{ "watchdog", cfg_h_duration, T_WATCHDOG, C_OFF(watchdog_ms), ST_U32, 100, 3600000, 0,
	  NULL },
	{ "allow_uids", cfg_h_uids, T_UIDS, 0, ST_INT, 0, 0, 0, NULL },
	{ "allow_gids", cfg_h_gids, T_GIDS, 0, ST_INT, 0, 0, 0, NULL },
	{ "log_level", h_log_level, T_LOG, 0, ST_INT, 0, 0, 0, &log_enum },
	{ "models", cfg_h_models, T_MODELS, 0, ST_INT, 0, 0, 0, NULL },
	{ "limits", h_limits, T_LIMITS, 0, ST_INT, 0, 0, 0, NULL },
};
static const cfg_table top_table = { "the top level", top_fields,
				     sizeof top_fields / sizeof top_fields[0] };

/* Reads one event that must be of type t (the structure libyaml guarantees). */
static int expect_event(cfg_ctx *c, yaml_event_type_t t, const char *msg)
{
	yaml_event_t ev;
	if (cfg_next(c, &ev) < 0)
		return -1;
	int rc = ev.type == t ? 0 : cfg_fail_ev(c, &ev, "%s", msg);
	yaml_event_delete(&ev);
	return rc;
}

/* The root mapping, from its first event. */
static int parse_root(cfg_ctx *c, const yaml_event_t *root)
{
	cfg_seen seen[T_N] = { { 0, 0, NULL } };
	char got[64];
	if (root->type != YAML_MAPPING_START_EVENT) {
		cfg_describe(root, got, sizeof got);
		return cfg_fail_ev(c, root, "the top level must be a mapping of keys to values, "
				   "got %s", got);
	}
	c->seen_top = seen;
	int rc = cfg_walk_map(c, &top_table, c->cfg, seen);
	c->seen_top = NULL;
	if (rc == 0 && seen[T_MODELS].line == 0)
		rc = cfg_fail_ev(c, root, "missing required key 'models'");
	return rc;
}

/* The document start (or the end of an empty stream), then the root. */
static int parse_body(cfg_ctx *c)
{
	yaml_event_t ev;
	int rc;
	if (cfg_next(c, &ev) < 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		rc = cfg_fail_ev(c, &ev, "the configuration is empty ('models' is required)");
		yaml_event_delete(&ev);
		return rc;
	}
	yaml_event_delete(&ev);   /* DOCUMENT_START */
	if (cfg_next(c, &ev) < 0)
		return -1;
	rc = parse_root(c, &ev);
	yaml_event_delete(&ev);
	return rc;
}

int cfg_parse_document(cfg_ctx *c)
{
	if (expect_event(c, YAML_STREAM_START_EVENT, "expected the start of the stream") < 0 ||
	    parse_body(c) < 0 ||
	    expect_event(c, YAML_DOCUMENT_END_EVENT, "expected the end of the document") < 0 ||
	    expect_event(c, YAML_STREAM_END_EVENT, "only one YAML document is allowed") < 0)
		return -1;
	return 0;
}
