/* cfg_ids — allow_uids / allow_gids: lists of numeric ids or user / group names, names
 * resolved now (getpwnam_r / getgrnam_r) so that a typo fails at load with a position. */
#include "cfg_internal.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 64
#define MAX_LOOKUP_BUF (1u << 20)

typedef struct id_kind {
	const char *noun;      /* "user" / "group" */
	int (*lookup)(const char *name, char *buf, size_t size, unsigned *id, int *found);
} id_kind;

static int lookup_user(const char *name, char *buf, size_t size, unsigned *id, int *found)
{
	struct passwd pw, *res = NULL;
	int rc = getpwnam_r(name, &pw, buf, size, &res);
	*found = rc == 0 && res;
	if (*found)
		*id = (unsigned)pw.pw_uid;
	return rc;
}

static int lookup_group(const char *name, char *buf, size_t size, unsigned *id, int *found)
{
	struct group gr, *res = NULL;
	int rc = getgrnam_r(name, &gr, buf, size, &res);
	*found = rc == 0 && res;
	if (*found)
		*id = (unsigned)gr.gr_gid;
	return rc;
}

/* Runs k->lookup with a buffer grown on ERANGE; returns 0 or an errno value. */
static int lookup(const id_kind *k, const char *name, unsigned *id, int *found)
{
	for (size_t size = 1024;; size *= 4) {
		char *buf = malloc(size);
		if (!buf)
			return ENOMEM;
		int rc = k->lookup(name, buf, size, id, found);
		free(buf);
		if (rc != ERANGE || size >= MAX_LOOKUP_BUF)
			return rc;
	}
}

int cfg_valid_id_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAX_NAME || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
			 (ch == '$' && i == n - 1);
		if (!ok)
			return 0;
	}
	return 1;
}

static int all_digits(const char *s)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int numeric_id(cfg_ctx *c, const cfg_field *f, const yaml_event_t *e, const char *s,
		      unsigned *id)
{
	uint64_t x;
	int rc = cfg_parse_u64(s, &x);
	if (rc == CFG_BAD)
		return cfg_fail_ev(c, e, "expected a %s id or name in '%s', got '%.40s' (leading "
				   "zeros are not allowed)", ((const id_kind *)f->extra)->noun,
				   f->key, s);
	if (rc == CFG_RANGE || x > 4294967294u)
		return cfg_fail_ev(c, e, "ids in '%s' must be between 0 and 4294967294, got '%.40s'",
				   f->key, s);
	*id = (unsigned)x;
	return 0;
}

static int named_id(cfg_ctx *c, const cfg_field *f, const yaml_event_t *e, const char *s,
		    unsigned *id)
{
	const id_kind *k = f->extra;
	char q[64];
	int found = 0;
	cfg_quote(q, sizeof q, s, strlen(s));
	if (!cfg_valid_id_name(s))
		return cfg_fail_ev(c, e, "%s is not a valid %s name in '%s'", q, k->noun, f->key);
	int rc = lookup(k, s, id, &found);
	if (rc)
		return cfg_fail_ev(c, e, "cannot look up %s %s in '%s': %s", k->noun, q, f->key,
				   strerror(rc));
	if (!found)
		return cfg_fail_ev(c, e, "unknown %s %s in '%s'", k->noun, q, f->key);
	return 0;
}

static int one_id(cfg_ctx *c, const cfg_field *f, const yaml_event_t *e, unsigned *id)
{
	const char *s;
	if (cfg_scalar(c, f, e, "a user or group id or name", &s) < 0)
		return -1;
	if (all_digits(s))
		return numeric_id(c, f, e, s, id);
	return named_id(c, f, e, s, id);
}

/* Reads the list into ids (at most MNV2_CONFIG_MAX_IDS); *n is the count. */
static int id_list(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, unsigned *ids,
		   size_t *n)
{
	*n = 0;
	if (cfg_expect(c, f, v, YAML_SEQUENCE_START_EVENT, "a list of ids or names") < 0)
		return -1;
	for (;;) {
		yaml_event_t e;
		if (cfg_next(c, &e) < 0)
			return -1;
		int end = e.type == YAML_SEQUENCE_END_EVENT, rc = 0;
		if (!end && *n == MNV2_CONFIG_MAX_IDS)
			rc = cfg_fail_ev(c, &e, "'%s' has more than %d entries", f->key,
					 MNV2_CONFIG_MAX_IDS);
		else if (!end)
			rc = one_id(c, f, &e, &ids[(*n)++]);
		yaml_event_delete(&e);
		if (rc < 0 || end)
			return rc;
	}
}

int cfg_h_uids(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	static const id_kind user = { "user", lookup_user };
	mnv2_config *cfg = base;
	unsigned ids[MNV2_CONFIG_MAX_IDS];
	cfg_field g = *f;
	g.extra = &user;
	if (id_list(c, &g, v, ids, &cfg->n_allow_uids) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_allow_uids; i++)
		cfg->allow_uids[i] = (uid_t)ids[i];
	cfg->allow_ids_set = 1;
	return 0;
}

int cfg_h_gids(cfg_ctx *c, const cfg_field *f, const yaml_event_t *v, void *base)
{
	static const id_kind group = { "group", lookup_group };
	mnv2_config *cfg = base;
	unsigned ids[MNV2_CONFIG_MAX_IDS];
	cfg_field g = *f;
	g.extra = &group;
	if (id_list(c, &g, v, ids, &cfg->n_allow_gids) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_allow_gids; i++)
		cfg->allow_gids[i] = (gid_t)ids[i];
	cfg->allow_ids_set = 1;
	return 0;
}
