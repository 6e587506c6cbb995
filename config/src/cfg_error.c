/* cfg_error — error messages: position prefix, quoting of values, "did you mean". */
#include "cfg_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cfg_fail(cfg_err *e, int line, int col, const char *fmt, ...)
{
	if (!e->buf || e->len == 0)
		return -1;
	int n = snprintf(e->buf, e->len, "%s:%d:%d: ", e->file, line, col);
	if (n < 0 || (size_t)n >= e->len)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Length of the UTF-8 sequence starting with byte b (input is validated UTF-8). */
static size_t utf8_len(unsigned char b)
{
	return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

void cfg_quote(char *out, size_t outlen, const char *s, size_t len)
{
	const size_t limit = 40;
	size_t o = 0, i = 0;
	if (outlen < 8) {
		if (outlen)
			out[0] = 0;
		return;
	}
	out[o++] = '\'';
	while (i < len && i < limit && o + 8 < outlen) {
		size_t w = utf8_len((unsigned char)s[i]);
		if (i + w > len)
			w = len - i;
		for (size_t k = 0; k < w; k++) {
			unsigned char ch = (unsigned char)s[i + k];
			out[o++] = (char)(ch < 0x20 || ch == 0x7F ? '?' : ch);
		}
		i += w;
	}
	if (i < len)
		o += (size_t)snprintf(out + o, outlen - o, "...");
	snprintf(out + o, outlen - o, "'");
}

/* Levenshtein distance, capped: returns 3 for anything above 2. */
static int edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b);
	int row[65];
	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] > 2 ? 3 : row[lb];
}

const char *cfg_suggest(const char *word, size_t len, const char *const *names)
{
	const char *best = NULL;
	int best_d = 3;
	for (size_t i = 0; names[i]; i++) {
		int d = edit_distance(word, len, names[i]);
		if (d < best_d)
			best_d = d, best = names[i];
	}
	return best;
}
