/* cfg_values — handlers for scalar values: numbers with units and ranges, booleans,
 * enumerations, strings and paths, and short lists of numbers. */
#include "cfg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*uparse_fn)(const char *s, uint64_t *out);
typedef void (*ufmt_fn)(char *out, size_t n, uint64_t v);

static void *field_ptr(void *base, const cfg_field *f, size_t extra)
{
	return (char *)base + f->off + extra;
}

static void store_u(void *base, const cfg_field *f, uint64_t v)
{
	void *p = field_ptr(base, f, 0);
	switch (f->store) {
	case ST_INT: *(int *)p = (int)v; break;
	case ST_U32: *(uint32_t *)p = (uint32_t)v; break;
	case ST_U64: *(uint64_t *)p = v; break;
	case ST_SIZE: *(size_t *)p = (size_t)v; break;
	case ST_MODE: *(mode_t *)p = (mode_t)v; break;
	case ST_FLOAT: *(float *)p = (float)v; break;
	}
}

static void fmt_dec(char *out, size_t n, uint64_t v)
{
	snprintf(out, n, "%" PRIu64, v);
}

static void fmt_octal(char *out, size_t n, uint64_t v)
{
	snprintf(out, n, "%04" PRIo64, v);
}

static int bad_value(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, const char *what,
		     const char *s)
{
	char q[64];
	cfg_quote(q, sizeof q, s, strlen(s));
	int lead0 = s[0] == '0' && s[1] >= '0' && s[1] <= '9' && f->store != ST_MODE;
	return cfg_fail_ev(c, v, "expected %s for '%s', got %s%s", what, f->key, q,
			   lead0 ? " (leading zeros are not allowed)" : "");
}

/* also: what else the key accepts (", 0 or unlimited ...") or "". */
static int out_of_range(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v,
			const char *s, ufmt_fn fmt, const char *also)
{
	char lo[32], hi[32], q[64];
	fmt(lo, sizeof lo, (uint64_t)f->min);
	fmt(hi, sizeof hi, (uint64_t)f->max);
	cfg_quote(q, sizeof q, s, strlen(s));
	return cfg_fail_ev(c, v, "'%s' must be between %s and %s%s, got %s", f->key, lo, hi,
			   also, q);
}

/* A scalar parsed by parse, range-checked, shown in errors with fmt. */
static int parse_unsigned(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v,
			  const char *what, uparse_fn parse, ufmt_fn fmt, uint64_t *out)
{
	const char *s;
	if (cfg_scalar(c, f, v, what, &s) < 0)
		return -1;
	int rc = parse(s, out);
	if (rc == CFG_BAD)
		return bad_value(c, f, v, what, s);
	if (rc == CFG_RANGE || (double)*out < f->min || (double)*out > f->max)
		return out_of_range(c, f, v, s, fmt, "");
	return 0;
}

static int h_unsigned(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base,
		      const char *what, uparse_fn parse, ufmt_fn fmt)
{
	uint64_t x;
	if (parse_unsigned(c, f, v, what, parse, fmt, &x) < 0)
		return -1;
	store_u(base, f, x);
	return 0;
}

int cfg_h_int(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return h_unsigned(c, f, v, base, "an integer", cfg_parse_u64, fmt_dec);
}

/* An integer in [min, max], or "auto" (stored as 0). */
int cfg_h_int_auto(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	const char *what = "an integer or auto", *s;
	if (cfg_scalar(c, f, v, what, &s) < 0)
		return -1;
	if (strcmp(s, "auto") != 0)
		return h_unsigned(c, f, v, base, what, cfg_parse_u64, fmt_dec);
	store_u(base, f, 0);
	return 0;
}

int cfg_h_int_limit(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	const char *what = "an integer, auto or unlimited", *s;
	uint64_t x = 0;
	if (cfg_scalar(c, f, v, what, &s) < 0)
		return -1;
	int *out = field_ptr(base, f, 0), rc = CFG_OK;
	if (!strcmp(s, "auto"))
		*out = MNV2_CONFIG_INFLIGHT_AUTO;
	else if (!strcmp(s, "unlimited"))
		*out = 0;
	else if ((rc = cfg_parse_u64(s, &x)) == CFG_BAD)
		return bad_value(c, f, v, what, s);
	else if (rc == CFG_OK && (x == 0 || ((double)x >= f->min && (double)x <= f->max)))
		*out = (int)x;
	else
		return out_of_range(c, f, v, s, fmt_dec, ", 0 or unlimited (no limit), or auto");
	return 0;
}

int cfg_h_size(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return h_unsigned(c, f, v, base, "a size (bytes, or with a K, M or G suffix like 32M)",
			  cfg_parse_size, cfg_fmt_size);
}

int cfg_h_pixels(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return h_unsigned(c, f, v, base, "a pixel count like 67108864 or 8192x8192",
			  cfg_parse_pixels, fmt_dec);
}

int cfg_h_duration(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return h_unsigned(c, f, v, base, "a duration like 500ms or 2s", cfg_parse_duration_ms,
			  cfg_fmt_ms);
}

int cfg_h_mode(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return h_unsigned(c, f, v, base, "an octal mode like \"0660\"", cfg_parse_octal_mode,
			  fmt_octal);
}

int cfg_h_bool(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	const char *s, *what = "true or false";
	int b;
	if (cfg_scalar(c, f, v, what, &s) < 0)
		return -1;
	if (cfg_parse_bool(s, &b) != CFG_OK)
		return bad_value(c, f, v, what, s);
	*(int *)field_ptr(base, f, 0) = b;
	return 0;
}

static int float_range(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, const char *s)
{
	char q[64];
	cfg_quote(q, sizeof q, s, strlen(s));
	if (f->min_open)
		return cfg_fail_ev(c, v, "'%s' must be greater than %g and at most %g, got %s",
				   f->key, f->min, f->max, q);
	return cfg_fail_ev(c, v, "'%s' must be between %g and %g, got %s", f->key, f->min,
			   f->max, q);
}

static int parse_float(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, float *out)
{
	const char *s, *what = "a number";
	double d;
	if (cfg_scalar(c, f, v, what, &s) < 0)
		return -1;
	int rc = cfg_parse_double(s, c->c_locale, &d);
	if (rc == CFG_BAD)
		return bad_value(c, f, v, what, s);
	if (rc == CFG_RANGE || d < f->min || d > f->max || (f->min_open && d == f->min))
		return float_range(c, f, v, s);
	*out = (float)d;
	return 0;
}

int cfg_h_float(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return parse_float(c, f, v, field_ptr(base, f, 0));
}

int cfg_enum_index(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, int *index)
{
	const cfg_enum *e = f->extra;
	const char *s;
	char q[64];
	if (cfg_scalar(c, f, v, e->expect, &s) < 0)
		return -1;
	for (int i = 0; e->names[i]; i++)
		if (strcmp(s, e->names[i]) == 0)
			return *index = i, 0;
	const char *hint = cfg_suggest(s, strlen(s), e->names);
	cfg_quote(q, sizeof q, s, strlen(s));
	if (hint)
		return cfg_fail_ev(c, v, "expected %s for '%s', got %s (did you mean '%s'?)",
				   e->expect, f->key, q, hint);
	return cfg_fail_ev(c, v, "expected %s for '%s', got %s", e->expect, f->key, q);
}

int cfg_h_enum(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	const cfg_enum *e = f->extra;
	int i;
	if (cfg_enum_index(c, f, v, &i) < 0)
		return -1;
	*(int *)field_ptr(base, f, 0) = e->values[i];
	return 0;
}

/* Checks a string value against spec; *s is NULL for an accepted null. */
static int check_string(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, const char **s)
{
	const cfg_strspec *spec = f->extra;
	char q[64];
	*s = NULL;
	if (spec->nullable && cfg_is_null(v))
		return 0;
	if (cfg_scalar(c, f, v, "a string", s) < 0)
		return -1;
	size_t len = strlen(*s);
	if (len == 0)
		return cfg_fail_ev(c, v, "'%s' must not be empty", f->key);
	if (len > spec->max_len)
		return cfg_fail_ev(c, v, "'%s' is too long (%zu bytes, at most %zu)", f->key, len,
				   spec->max_len);
	cfg_quote(q, sizeof q, *s, len);
	if (spec->valid && !spec->valid(*s))
		return cfg_fail_ev(c, v, "'%s' %s, got %s", f->key, spec->rule, q);
	return 0;
}

static int set_string(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base,
		      char *value)
{
	char **slot = field_ptr(base, f, 0);
	free(*slot);
	*slot = value;
	return value ? 0 : cfg_fail_ev(c, v, "out of memory");
}

int cfg_h_string(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	const char *s;
	if (check_string(c, f, v, &s) < 0)
		return -1;
	if (!s)
		return set_string(c, f, v, base, NULL), 0;
	return set_string(c, f, v, base, strdup(s));
}

int cfg_h_path(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	const char *s;
	if (check_string(c, f, v, &s) < 0)
		return -1;
	if (!s)
		return set_string(c, f, v, base, NULL), 0;
	if (c->dir && s[0] != '/' && strlen(c->dir) + 1 + strlen(s) >= CFG_MAX_SCALAR)
		return cfg_fail_ev(c, v, "'%s' is too long once joined to the directory '%s'",
				   f->key, c->dir);
	return set_string(c, f, v, base, cfg_resolve_path(c->dir, s));
}

char *cfg_resolve_path(const char *dir, const char *p)
{
	if (!dir || p[0] == '/')
		return strdup(p);
	size_t dl = strlen(dir), pl = strlen(p);
	int slash = dl > 0 && dir[dl - 1] != '/';
	char *out = malloc(dl + (size_t)slash + pl + 1);
	if (!out)
		return NULL;
	memcpy(out, dir, dl);
	if (slash)
		out[dl] = '/';
	memcpy(out + dl + (size_t)slash, p, pl + 1);
	return out;
}

/* A list of up to spec->max_items numbers, each read by item(). */
static int number_list(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base,
		       int (*item)(cfg_ctx *, const cfg_field *, const yaml_event_t *, void *,
				   int))
{
	const cfg_listspec *spec = f->extra;
	int n = 0;
	if (cfg_expect(c, f, v, YAML_SEQUENCE_START_EVENT, "a list of numbers") < 0)
		return -1;
	for (;;) {
		yaml_event_t e;
		if (cfg_next(c, &e) < 0)
			return -1;
		int end = e.type == YAML_SEQUENCE_END_EVENT, rc = 0;
		if (!end && n == spec->max_items)
			rc = cfg_fail_ev(c, &e, "'%s' has more than %d entries", f->key,
					 spec->max_items);
		else if (!end)
			rc = item(c, f, &e, base, n++);
		yaml_event_delete(&e);
		if (rc < 0)
			return -1;
		if (end)
			break;
	}
	*(int *)((char *)base + spec->count_off) = n;
	return n ? 0 : cfg_fail_ev(c, v, "'%s' must not be an empty list", f->key);
}

static int float_item(cfg_ctx *c, const cfg_field *f, const yaml_event_t *e, void *base, int i)
{
	return parse_float(c, f, e, field_ptr(base, f, (size_t)i * sizeof(float)));
}

static int int_item(cfg_ctx *c, const cfg_field *f, const yaml_event_t *e, void *base, int i)
{
	uint64_t x;
	if (parse_unsigned(c, f, e, "an integer", cfg_parse_u64, fmt_dec, &x) < 0)
		return -1;
	*(int *)field_ptr(base, f, (size_t)i * sizeof(int)) = (int)x;
	return 0;
}

int cfg_h_float_list(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return number_list(c, f, v, base, float_item);
}

int cfg_h_int_list(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	return number_list(c, f, v, base, int_item);
}
