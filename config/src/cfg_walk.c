/* cfg_walk — the generic part of the schema walk: a mapping's keys against a table of
 * fields (unknown keys with a suggestion, duplicate keys), and the type checks every
 * value handler starts with. */
#include "cfg_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_FIELDS 40

static const char *scalar_text(const yaml_event_t *v, size_t *len)
{
	*len = v->data.scalar.length;
	return (const char *)v->data.scalar.value;
}

int cfg_is_null(const yaml_event_t *v)
{
	size_t n;
	if (v->type != YAML_SCALAR_EVENT || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *s = scalar_text(v, &n);
	return n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

void cfg_describe(const yaml_event_t *v, char *out, size_t n)
{
	size_t len = 0;
	const char *s = v->type == YAML_SCALAR_EVENT ? scalar_text(v, &len) : NULL;
	if (v->type == YAML_SEQUENCE_START_EVENT)
		snprintf(out, n, "a list");
	else if (v->type == YAML_MAPPING_START_EVENT)
		snprintf(out, n, "a mapping");
	else if (!s)
		snprintf(out, n, "nothing");
	else if (len == 0)
		snprintf(out, n, "an empty value");
	else
		cfg_quote(out, n, s, len);
}

static int wrong_type(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, const char *what)
{
	char got[64];
	cfg_describe(v, got, sizeof got);
	return cfg_fail_ev(c, v, "expected %s for '%s', got %s", what, f->key, got);
}

int cfg_expect(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, yaml_event_type_t t,
	       const char *what)
{
	return v->type == t ? 0 : wrong_type(c, f, v, what);
}

int cfg_scalar(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, const char *what,
	       const char **text)
{
	size_t len;
	if (v->type != YAML_SCALAR_EVENT || cfg_is_null(v))
		return wrong_type(c, f, v, what);
	*text = scalar_text(v, &len);
	if (strlen(*text) != len)
		return cfg_fail_ev(c, v, "the value of '%s' contains a NUL character", f->key);
	if (len > CFG_MAX_SCALAR)
		return cfg_fail_ev(c, v, "the value of '%s' is too long (%zu bytes, at most %d)",
				   f->key, len, CFG_MAX_SCALAR);
	return 0;
}

static const cfg_field *find_field(const cfg_table *t, const char *key, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->fields[i].key) == len && memcmp(t->fields[i].key, key, len) == 0)
			return &t->fields[i];
	return NULL;
}

static int unknown_key(cfg_ctx *c, const cfg_table *t, const yaml_event_t *k)
{
	const char *names[MAX_FIELDS + 1];
	size_t n = t->n < MAX_FIELDS ? t->n : MAX_FIELDS, len;
	const char *key = scalar_text(k, &len);
	char q[64];
	for (size_t i = 0; i < n; i++)
		names[i] = t->fields[i].key;
	names[n] = NULL;
	const char *hint = cfg_suggest(key, len, names);
	cfg_quote(q, sizeof q, key, len);
	if (hint)
		return cfg_fail_ev(c, k, "unknown key %s in %s (did you mean '%s'?)", q, t->what,
				   hint);
	return cfg_fail_ev(c, k, "unknown key %s in %s", q, t->what);
}

static int mark_seen(cfg_ctx *c, cfg_seen *seen, const cfg_field *f, const yaml_event_t *k)
{
	cfg_seen *s = &seen[f->slot];
	if (s->line == 0) {
		*s = (cfg_seen){ cfg_line(k), cfg_col(k), f->key };
		return 0;
	}
	if (strcmp(s->key, f->key) == 0)
		return cfg_fail_ev(c, k, "duplicate key '%s' (first set at %d:%d)", f->key,
				   s->line, s->col);
	return cfg_fail_ev(c, k, "duplicate setting: '%s' sets the same value as '%s' at %d:%d",
			   f->key, s->key, s->line, s->col);
}

/* One key (already read) and its value. */
static int walk_pair(cfg_ctx *c, const cfg_table *t, void *base, cfg_seen *seen,
		     const yaml_event_t *k)
{
	yaml_event_t v;
	if (k->type != YAML_SCALAR_EVENT)
		return cfg_fail_ev(c, k, "a key in %s must be a plain string", t->what);
	size_t len;
	const char *key = scalar_text(k, &len);
	const cfg_field *f = find_field(t, key, len);
	if (!f)
		return unknown_key(c, t, k);
	if (mark_seen(c, seen, f, k) < 0 || cfg_next(c, &v) < 0)
		return -1;
	int rc = f->parse(c, f, &v, base);
	yaml_event_delete(&v);
	return rc;
}

int cfg_walk_map(cfg_ctx *c, const cfg_table *t, void *base, cfg_seen *seen)
{
	for (;;) {
		yaml_event_t k;
		if (cfg_next(c, &k) < 0)
			return -1;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return 0;
		}
		int rc = walk_pair(c, t, base, seen, &k);
		yaml_event_delete(&k);
		if (rc < 0)
			return -1;
	}
}
