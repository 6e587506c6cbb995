/* cfg_bytes — checks on the raw input before libyaml sees it: size, UTF-8, NUL and
 * control characters; and byte offset -> line:column as libyaml counts them. */
#include "cfg_internal.h"

#include <stdint.h>

/* Decodes one strict UTF-8 sequence at s[0..n); returns its length, 0 when invalid
 * (truncated, overlong, surrogate, above U+10FFFF, stray continuation byte). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t w = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
		 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (w == 0 || w > n)
		return 0;
	uint32_t v = w == 1 ? s[0] : s[0] & (0x7Fu >> w);
	for (size_t k = 1; k < w; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[k] & 0x3Fu);
	}
	if (v < min_cp[w] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return w;
}

/* The characters libyaml accepts (its reader's "printable" test). */
static int printable(uint32_t c)
{
	return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
	       (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
}

static int is_break(uint32_t c)
{
	return c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

void cfg_offset_pos(const char *data, size_t len, size_t off, int *line, int *col)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;
	int l = 1, c = 1;
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		i = 3;   /* the BOM is not counted as a character */
	while (i < off && i < len) {
		uint32_t cp = s[i];
		size_t w = utf8_decode(s + i, len - i, &cp);
		if (w == 0)
			w = 1;
		if (cp == '\r' && i + 1 < len && s[i + 1] == '\n')
			w = 2;
		i += w;
		if (is_break(cp))
			l++, c = 1;
		else
			c++;
	}
	*line = l;
	*col = c;
}

int cfg_check_bytes(const char *data, size_t len, cfg_err *e)
{
	const unsigned char *s = (const unsigned char *)data;
	if (len > MNV2_CONFIG_MAX_BYTES)
		return cfg_fail(e, 1, 1, "the configuration is %zu bytes, more than the limit of "
				"%u bytes (1 MiB)", len, MNV2_CONFIG_MAX_BYTES);
	size_t i = 0, w = 1;
	uint32_t cp = 0;
	while (i < len && (w = utf8_decode(s + i, len - i, &cp)) != 0 && cp != 0 &&
	       printable(cp))
		i += w;
	if (i == len)
		return 0;
	int line, col;
	cfg_offset_pos(data, len, i, &line, &col);
	if (w == 0)
		return cfg_fail(e, line, col, "invalid UTF-8 (byte 0x%02x): the configuration "
				"must be UTF-8 text", s[i]);
	if (cp == 0)
		return cfg_fail(e, line, col, "NUL byte: the configuration must be text");
	return cfg_fail(e, line, col, "control character U+%04X is not allowed", (unsigned)cp);
}
