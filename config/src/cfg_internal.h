/* cfg_internal — shared pieces of libmnv2config (not installed).
 *
 * The input is checked as bytes (size, UTF-8, NUL), then read twice with libyaml's event
 * parser: a first pass checks the YAML itself (syntax, no anchors / aliases / tags, depth,
 * one document), a second walks the schema by recursive descent. No document tree is
 * built, so memory stays proportional to the nesting depth, never to the size of the
 * input. Every error stops the parse at once and is written, with its position, into the
 * caller's buffer. */
#ifndef MNV2_CFG_INTERNAL_H
#define MNV2_CFG_INTERNAL_H

#include "mnv2/config.h"

#include <locale.h>
#include <stdint.h>
#include <yaml.h>

#define CFG_MAX_DEPTH 16       /* nested mappings and lists */
#define CFG_MAX_SCALAR 4096    /* longest accepted value (a path), in bytes */

/* ---- errors (cfg_error.c) ---- */
typedef struct cfg_err {
	const char *file;      /* name used in messages */
	char *buf;
	size_t len;
} cfg_err;

/* Writes "file:line:col: message" (line and col 1-based); returns -1. */
int cfg_fail(cfg_err *e, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Copies at most 40 bytes of s (len bytes) quoted into out, control bytes as '?'. */
void cfg_quote(char *out, size_t outlen, const char *s, size_t len);
/* The closest of names (NULL-terminated list) within edit distance 2, or NULL. */
const char *cfg_suggest(const char *word, size_t len, const char *const *names);

/* ---- raw bytes (cfg_bytes.c) ---- */
/* Checks the size limit, UTF-8 validity, NUL and control characters. */
int cfg_check_bytes(const char *data, size_t len, cfg_err *e);
/* 1-based line and column (in characters, as libyaml counts) of byte offset off. */
void cfg_offset_pos(const char *data, size_t len, size_t off, int *line, int *col);

/* ---- scalar syntax (cfg_scalar.c); each returns 0, or CFG_BAD / CFG_RANGE ---- */
enum { CFG_OK = 0, CFG_BAD = -1, CFG_RANGE = -2 };
int cfg_parse_u64(const char *s, uint64_t *out);            /* decimal, no sign */
int cfg_parse_size(const char *s, uint64_t *out);           /* 32M, 4KiB, 1024 */
int cfg_parse_duration_ms(const char *s, uint64_t *out);    /* 500ms, 2s */
int cfg_parse_pixels(const char *s, uint64_t *out);         /* 67108864 or 8192x8192 */
int cfg_parse_octal_mode(const char *s, uint64_t *out);     /* "0660" */
int cfg_parse_bool(const char *s, int *out);                /* true/false/yes/no */
int cfg_parse_double(const char *s, locale_t c_locale, double *out);
/* The text of a value in the unit it was written in: 32M, 1G, 1500ms, 2s. */
void cfg_fmt_size(char *out, size_t n, uint64_t v);
void cfg_fmt_ms(char *out, size_t n, uint64_t v);

/* ---- the event reader (cfg_reader.c) ---- */
typedef struct cfg_seen {
	int line, col;         /* 0: not set yet */
	const char *key;
} cfg_seen;

typedef struct cfg_ctx {
	yaml_parser_t parser;
	const char *data;      /* the input, for positions of reader errors */
	size_t len;
	int depth;
	cfg_err err;
	locale_t c_locale;     /* "C" numeric locale for strtod_l */
	const char *dir;       /* base of relative paths, or NULL to keep them relative */
	mnv2_config *cfg;
	cfg_seen *seen_top;    /* keys set at the top level (shared with socket:, limits:) */
} cfg_ctx;

int cfg_reader_init(cfg_ctx *c, const char *data, size_t len);
void cfg_reader_done(cfg_ctx *c);
/* The first pass: reads the whole stream through the gate below (so YAML-level errors
 * come before schema errors and nothing nests deeper than CFG_MAX_DEPTH), refuses a
 * second document, then rewinds the parser for the schema pass. */
int cfg_check_structure(cfg_ctx *c);
/* Next event; refuses aliases, anchors, tags and nesting deeper than CFG_MAX_DEPTH.
 * On success the caller owns ev (yaml_event_delete). */
int cfg_next(cfg_ctx *c, yaml_event_t *ev);
static inline int cfg_line(const yaml_event_t *ev) { return (int)ev->start_mark.line + 1; }
static inline int cfg_col(const yaml_event_t *ev) { return (int)ev->start_mark.column + 1; }
int cfg_fail_ev(cfg_ctx *c, const yaml_event_t *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- the schema walk (cfg_walk.c) ---- */
typedef struct cfg_field cfg_field;
typedef int (*cfg_handler)(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);

typedef enum cfg_store { ST_INT, ST_U32, ST_U64, ST_SIZE, ST_MODE, ST_FLOAT } cfg_store;

struct cfg_field {
	const char *key;
	cfg_handler parse;
	int slot;              /* index into the seen[] of the mapping's owner */
	size_t off;            /* where the value goes in the base struct */
	cfg_store store;
	double min, max;       /* accepted range (inclusive unless min_open) */
	int min_open;          /* 1: the minimum itself is excluded */
	const void *extra;     /* handler-specific: enum names, sub-table, count offset */
};

typedef struct cfg_table {
	const char *what;      /* "the top level", "a model", "'ssd_anchors'" */
	const cfg_field *fields;
	size_t n;
} cfg_table;

/* Walks the pairs of a mapping whose MAPPING_START was just read, up to its end. */
int cfg_walk_map(cfg_ctx *c, const cfg_table *t, void *base, cfg_seen *seen);
/* Describes a value for "got ...": 'text', an empty value, a list, a mapping. */
void cfg_describe(const yaml_event_t *v, char *out, size_t n);
/* The scalar text of v (NUL-terminated, no embedded NUL) or fails "expected <what>". */
int cfg_scalar(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, const char *what,
	       const char **text);
int cfg_expect(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, yaml_event_type_t t,
	       const char *what);
int cfg_is_null(const yaml_event_t *v);

/* Scalar handlers. */
int cfg_h_int(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
/* An integer, or "auto" stored as 0. */
int cfg_h_int_auto(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
/* An ST_INT limit: an integer in [min, max], "auto" (stored as MNV2_CONFIG_INFLIGHT_AUTO),
 * or "unlimited" / 0 (stored as 0). */
int cfg_h_int_limit(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_size(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_pixels(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_duration(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_mode(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_bool(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_float(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
/* The index in ((const cfg_enum *)f->extra)->names of the value, or fails. */
int cfg_enum_index(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, int *index);
int cfg_h_enum(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_string(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_path(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_float_list(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_int_list(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);

/* Enum values: names[i] maps to values[i]; extra of an ST_INT enum field. */
typedef struct cfg_enum {
	const char *const *names;  /* NULL-terminated */
	const int *values;
	const char *expect;        /* "one of error, warn, info, debug" */
} cfg_enum;

/* String constraints; extra of a cfg_h_string / cfg_h_path field. */
typedef struct cfg_strspec {
	size_t max_len;
	int nullable;              /* null / empty leaves the field NULL */
	int (*valid)(const char *s);   /* optional character check */
	const char *rule;          /* what valid() requires, for the message */
} cfg_strspec;

/* Lists of numbers: extra of a list field. */
typedef struct cfg_listspec {
	size_t count_off;          /* int counter in the base struct */
	int max_items;
} cfg_listspec;

/* ---- the sections (cfg_top.c, cfg_model.c, cfg_ids.c) ---- */
int cfg_parse_document(cfg_ctx *c);
int cfg_h_models(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_uids(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
int cfg_h_gids(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base);
/* A user or group name: [A-Za-z0-9._-], not starting with '-', optional final '$'. */
int cfg_valid_id_name(const char *s);
void cfg_model_defaults(mnv2_model_cfg *m);
/* dir + "/" + p for a relative p (p alone when dir is NULL or p is absolute); a malloc'd
 * string, NULL when out of memory. */
char *cfg_resolve_path(const char *dir, const char *p);

#endif
