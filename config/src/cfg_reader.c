/* cfg_reader — libyaml's event parser behind a gate: syntax errors with their position,
 * and no aliases or anchors (no exponential "billion laughs" expansion, and a node means
 * what it says where it stands), no tags, at most CFG_MAX_DEPTH nested collections. */
#include "cfg_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int parser_start(cfg_ctx *c)
{
	if (!yaml_parser_initialize(&c->parser))
		return cfg_fail(&c->err, 1, 1, "out of memory (YAML parser)");
	yaml_parser_set_input_string(&c->parser, (const unsigned char *)c->data, c->len);
	c->depth = 0;
	return 0;
}

int cfg_reader_init(cfg_ctx *c, const char *data, size_t len)
{
	c->data = data;
	c->len = len;
	c->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!c->c_locale)
		return cfg_fail(&c->err, 1, 1, "out of memory (locale)");
	if (parser_start(c) < 0) {
		freelocale(c->c_locale);
		return -1;
	}
	return 0;
}

/* One event of the first pass; *more is 0 at the end of the stream. */
static int check_event(cfg_ctx *c, int *docs, int *more)
{
	yaml_event_t ev;
	int rc = 0;
	if (cfg_next(c, &ev) < 0)
		return -1;
	if (ev.type == YAML_DOCUMENT_START_EVENT && ++*docs > 1)
		rc = cfg_fail_ev(c, &ev, "only one YAML document is allowed");
	*more = ev.type != YAML_STREAM_END_EVENT;
	yaml_event_delete(&ev);
	return rc;
}

int cfg_check_structure(cfg_ctx *c)
{
	int docs = 0, more = 1;
	while (more)
		if (check_event(c, &docs, &more) < 0)
			return -1;
	yaml_parser_delete(&c->parser);
	return parser_start(c);
}

void cfg_reader_done(cfg_ctx *c)
{
	yaml_parser_delete(&c->parser);
	freelocale(c->c_locale);
}

int cfg_fail_ev(cfg_ctx *c, const yaml_event_t *ev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return cfg_fail(&c->err, cfg_line(ev), cfg_col(ev), "%s", msg);
}

static int syntax_error(cfg_ctx *c)
{
	const yaml_parser_t *p = &c->parser;
	const char *problem = p->problem ? p->problem : "unknown problem";
	int line, col;
	if (p->error == YAML_MEMORY_ERROR)
		return cfg_fail(&c->err, 1, 1, "out of memory while parsing YAML");
	if (p->error == YAML_READER_ERROR) {
		cfg_offset_pos(c->data, c->len, p->problem_offset, &line, &col);
		return cfg_fail(&c->err, line, col, "invalid input: %s", problem);
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		return cfg_fail(&c->err, line, col, "YAML syntax error: %s (%s at %d:%d)", problem,
				p->context, (int)p->context_mark.line + 1,
				(int)p->context_mark.column + 1);
	return cfg_fail(&c->err, line, col, "YAML syntax error: %s", problem);
}

/* The anchor and tag of a node event, if any. */
static void node_props(const yaml_event_t *ev, const yaml_char_t **anchor,
		       const yaml_char_t **tag)
{
	*anchor = *tag = NULL;
	if (ev->type == YAML_SCALAR_EVENT)
		*anchor = ev->data.scalar.anchor, *tag = ev->data.scalar.tag;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		*anchor = ev->data.sequence_start.anchor, *tag = ev->data.sequence_start.tag;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		*anchor = ev->data.mapping_start.anchor, *tag = ev->data.mapping_start.tag;
}

static int gate(cfg_ctx *c, const yaml_event_t *ev)
{
	const yaml_char_t *anchor, *tag;
	char q[64];
	if (ev->type == YAML_ALIAS_EVENT)
		return cfg_fail_ev(c, ev, "aliases are not allowed (found '*%.40s'): write the "
				   "value out", (const char *)ev->data.alias.anchor);
	node_props(ev, &anchor, &tag);
	if (anchor)
		return cfg_fail_ev(c, ev, "anchors are not allowed (found '&%.40s')",
				   (const char *)anchor);
	if (tag) {
		cfg_quote(q, sizeof q, (const char *)tag, strlen((const char *)tag));
		return cfg_fail_ev(c, ev, "tags are not allowed (found %s)", q);
	}
	if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) {
		if (++c->depth > CFG_MAX_DEPTH)
			return cfg_fail_ev(c, ev, "nesting is deeper than %d levels",
					   CFG_MAX_DEPTH);
	} else if (ev->type == YAML_SEQUENCE_END_EVENT || ev->type == YAML_MAPPING_END_EVENT) {
		c->depth--;
	}
	return 0;
}

int cfg_next(cfg_ctx *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev))
		return syntax_error(c);
	if (gate(c, ev) < 0) {
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}
