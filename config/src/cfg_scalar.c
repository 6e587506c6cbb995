/* cfg_scalar — strict syntax of scalar values: every character must belong to the value
 * (no trailing junk, no leading zeros, no sign where none makes sense) and every
 * arithmetic step is overflow-checked. */
#include "cfg_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The leading decimal digits of s; *end is where they stop. CFG_RANGE on overflow
 * (the digits are still all consumed), CFG_BAD without digits or with a leading zero. */
static int parse_digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	int over = 0;
	const char *p = s;
	if (!is_digit(*p) || (p[0] == '0' && is_digit(p[1])))
		return CFG_BAD;
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return over ? CFG_RANGE : CFG_OK;
}

/* v * m, CFG_RANGE on overflow. */
static int scale(int rc, uint64_t v, uint64_t m, uint64_t *out)
{
	if (rc != CFG_OK)
		return rc;
	if (m && v > UINT64_MAX / m)
		return CFG_RANGE;
	*out = v * m;
	return CFG_OK;
}

int cfg_parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	int rc = parse_digits(s, &end, out);
	return rc == CFG_BAD || *end ? CFG_BAD : rc;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "K", 1u << 10 }, { "KiB", 1u << 10 }, { "M", 1u << 20 },
		{ "MiB", 1u << 20 }, { "G", 1u << 30 }, { "GiB", 1u << 30 },
	};
	const char *end;
	uint64_t v;
	int rc = parse_digits(s, &end, &v);
	if (rc == CFG_BAD)
		return CFG_BAD;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].suffix) == 0)
			return scale(rc, v, units[i].mult, out);
	return CFG_BAD;
}

int cfg_parse_duration_ms(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int rc = parse_digits(s, &end, &v);
	if (rc == CFG_BAD)
		return CFG_BAD;
	if (strcmp(end, "ms") == 0)
		return scale(rc, v, 1, out);
	if (strcmp(end, "s") == 0)
		return scale(rc, v, 1000, out);
	if (*end == 0 && rc == CFG_OK && v == 0)
		return *out = 0, CFG_OK;   /* zero needs no unit */
	return CFG_BAD;
}

int cfg_parse_pixels(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t w, h;
	int rc = parse_digits(s, &end, &w);
	if (rc == CFG_BAD || *end == 0)
		return rc == CFG_BAD ? CFG_BAD : scale(rc, w, 1, out);
	if (*end != 'x')
		return CFG_BAD;
	int rc2 = parse_digits(end + 1, &end, &h);
	if (rc2 == CFG_BAD || *end)
		return CFG_BAD;
	if (rc == CFG_RANGE || rc2 == CFG_RANGE)
		return CFG_RANGE;
	return scale(CFG_OK, w, h, out);
}

int cfg_parse_octal_mode(const char *s, uint64_t *out)
{
	size_t n = strlen(s);
	uint64_t v = 0;
	if (n < 1 || n > 4)
		return CFG_BAD;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return CFG_BAD;
		v = v * 8 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return CFG_OK;
}

int cfg_parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)
		return *out = 1, CFG_OK;
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)
		return *out = 0, CFG_OK;
	return CFG_BAD;
}

/* [+-]? digits? (. digits?)? ([eE] [+-]? digits)? with at least one mantissa digit:
 * plain decimal only, so no hex floats, inf or nan reach strtod. */
static int float_syntax(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t digits = 0;
	for (; is_digit(*p); p++)
		digits++;
	if (*p == '.')
		for (p++; is_digit(*p); p++)
			digits++;
	if (digits == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		if (!is_digit(*p))
			return 0;
		while (is_digit(*p))
			p++;
	}
	return *p == 0;
}

int cfg_parse_double(const char *s, locale_t c_locale, double *out)
{
	if (!float_syntax(s))
		return CFG_BAD;
	char *end;
	errno = 0;
	double v = strtod_l(s, &end, c_locale);
	if (*end)
		return CFG_BAD;
	if (errno == ERANGE && (v > 1.0 || v < -1.0))
		return CFG_RANGE;
	*out = v;
	return CFG_OK;
}

void cfg_fmt_size(char *out, size_t n, uint64_t v)
{
	if (v && v % (1u << 30) == 0)
		snprintf(out, n, "%" PRIu64 "G", v >> 30);
	else if (v && v % (1u << 20) == 0)
		snprintf(out, n, "%" PRIu64 "M", v >> 20);
	else if (v && v % (1u << 10) == 0)
		snprintf(out, n, "%" PRIu64 "K", v >> 10);
	else
		snprintf(out, n, "%" PRIu64, v);
}

void cfg_fmt_ms(char *out, size_t n, uint64_t v)
{
	if (v && v % 1000 == 0)
		snprintf(out, n, "%" PRIu64 "s", v / 1000);
	else
		snprintf(out, n, "%" PRIu64 "ms", v);
}
