/* y4m — YUV4MPEG2 reader (see y4m.h). */
#include "y4m.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define MAGIC "YUV4MPEG2"

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, Y4M_ERR_LEN, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decimal digits [p, end) to *out (at most max); the digits must fill the whole token. */
static int parse_u32(const char *p, const char *end, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* "N:D" in [p, end). */
static int parse_ratio(const char *p, const char *end, uint32_t *num, uint32_t *den)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	if (!colon || parse_u32(p, colon, UINT32_MAX, num) ||
	    parse_u32(colon + 1, end, UINT32_MAX, den))
		return -1;
	return 0;
}

static int token_is(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(end - p) == n && memcmp(p, s, n) == 0;
}

static int is_420(const char *p, const char *end)
{
	return token_is(p, end, "420jpeg") || token_is(p, end, "420") ||
	       token_is(p, end, "420paldv") || token_is(p, end, "420mpeg2");
}

/* One header parameter [p, end): its first byte says which. */
static int header_param(const char *p, const char *end, y4m_info *info, int *seen_w,
			int *seen_h, char *err)
{
	int len = end - p > 40 ? 40 : (int)(end - p); /* how much of it a message quotes */
	switch (*p) {
	case 'W':
	case 'H': {
		uint32_t v;
		int *seen = *p == 'W' ? seen_w : seen_h;
		if (parse_u32(p + 1, end, Y4M_MAX_DIM, &v) || v == 0)
			return fail(err, "y4m header: bad %s '%.*s' (want 1..%u)",
				    *p == 'W' ? "width" : "height", len, p, Y4M_MAX_DIM);
		if (*seen)
			return fail(err, "y4m header: %s given twice", *p == 'W' ? "width" : "height");
		*seen = 1;
		*(*p == 'W' ? &info->width : &info->height) = v;
		return 0;
	}
	case 'F':
		if (parse_ratio(p + 1, end, &info->fps_num, &info->fps_den) ||
		    (info->fps_num == 0) != (info->fps_den == 0))
			return fail(err, "y4m header: bad frame rate '%.*s' (want F<num>:<den>)", len,
				    p);
		return 0;
	case 'A': { /* pixel aspect: informational */
		uint32_t n, d;
		if (parse_ratio(p + 1, end, &n, &d))
			return fail(err, "y4m header: bad pixel aspect '%.*s'", len, p);
		return 0;
	}
	case 'I': /* interlacing: the planes are stored the same way; the model sees fields
		     woven, as a progressive frame */
		if (end - p != 2 || !strchr("ptbm?", p[1]))
			return fail(err, "y4m header: bad interlacing '%.*s'", len, p);
		return 0;
	case 'C':
		if ((size_t)(end - p - 1) >= sizeof info->colorspace)
			return fail(err, "y4m header: unsupported colourspace '%.*s'", len, p);
		if (!is_420(p + 1, end))
			return fail(err,
				    "y4m header: unsupported colourspace '%.*s': only 4:2:0 "
				    "(C420jpeg, C420, C420paldv, C420mpeg2) is read; convert "
				    "with ffmpeg -pix_fmt yuv420p",
				    len, p);
		memcpy(info->colorspace, p + 1, (size_t)(end - p - 1));
		info->colorspace[end - p - 1] = '\0';
		return 0;
	case 'X': /* extensions: only the colour range is understood */
		if (token_is(p, end, "XCOLORRANGE=FULL"))
			info->full_range = 1;
		else if (token_is(p, end, "XCOLORRANGE=LIMITED"))
			info->full_range = 0;
		return 0;
	default:
		return fail(err, "y4m header: unknown parameter '%.*s'", len, p);
	}
}

int y4m_parse_header(const char *line, size_t len, size_t max_frame_bytes, y4m_info *info,
		     char err[Y4M_ERR_LEN])
{
	const char *p = line, *end = line + len;
	int seen_w = 0, seen_h = 0;
	memset(info, 0, sizeof *info);
	strcpy(info->colorspace, "420jpeg");
	if (len < sizeof MAGIC - 1 || memcmp(line, MAGIC, sizeof MAGIC - 1) != 0 ||
	    (len > sizeof MAGIC - 1 && line[sizeof MAGIC - 1] != ' '))
		return fail(err, "not a y4m file: it does not start with \"" MAGIC " \"");
	p += sizeof MAGIC - 1;
	while (p < end) {
		if (*p == ' ') {
			p++;
			continue;
		}
		const char *q = p;
		while (q < end && *q != ' ')
			q++;
		if (header_param(p, q, info, &seen_w, &seen_h, err))
			return -1;
		p = q;
	}
	if (!seen_w || !seen_h)
		return fail(err, "y4m header: no %s (W and H are required)",
			    seen_w ? "height" : "width");
	/* at most 16384^2 * 1.5 < 2^32: computed in 64 bits, then checked against size_t */
	uint64_t y = (uint64_t)info->width * info->height;
	uint64_t c = (uint64_t)((info->width + 1) / 2) * ((info->height + 1) / 2);
	uint64_t total = y + 2 * c;
	if (total > max_frame_bytes || total > SIZE_MAX)
		return fail(err, "y4m header: %ux%u frames of %llu bytes exceed the %zu-byte limit",
			    info->width, info->height, (unsigned long long)total, max_frame_bytes);
	info->y_bytes = (size_t)y;
	info->c_bytes = (size_t)c;
	info->frame_bytes = (size_t)total;
	return 0;
}

int y4m_parse_frame_line(const char *line, size_t len, char err[Y4M_ERR_LEN])
{
	if (len < 5 || memcmp(line, "FRAME", 5) != 0 || (len > 5 && line[5] != ' '))
		return fail(err, "no FRAME marker");
	return 0;
}

/* One line without its newline into buf: its length; -2 at end of file before any byte;
 * -1 when longer than Y4M_MAX_LINE - 1 bytes or cut off by the end of the file. */
static long read_line(FILE *f, char *buf)
{
	long n = 0;
	for (;;) {
		int ch = getc(f);
		if (ch == EOF)
			return n == 0 && !ferror(f) ? -2 : -1;
		if (ch == '\n')
			return n;
		if (n == Y4M_MAX_LINE - 1)
			return -1;
		buf[n++] = (char)ch;
	}
}

int y4m_read_header(FILE *f, size_t max_frame_bytes, y4m_info *info, char err[Y4M_ERR_LEN])
{
	char line[Y4M_MAX_LINE];
	long n = read_line(f, line);
	if (n == -2)
		return fail(err, "empty y4m file");
	if (n < 0 && ferror(f))
		return fail(err, "y4m header: read error: %s", strerror(errno));
	if (n < 0)
		return fail(err, "y4m header: no newline within the first %d bytes, or the file "
			    "ends inside it", Y4M_MAX_LINE);
	return y4m_parse_header(line, (size_t)n, max_frame_bytes, info, err);
}

int y4m_read_frame(FILE *f, const y4m_info *info, uint64_t index, void *buf, size_t len,
		   char err[Y4M_ERR_LEN])
{
	char line[Y4M_MAX_LINE];
	if (len < info->frame_bytes)
		return fail(err, "frame %llu: buffer of %zu bytes, need %zu",
			    (unsigned long long)index, len, info->frame_bytes);
	long n = read_line(f, line);
	if (n == -2)
		return 0;
	if (n < 0)
		return fail(err, "frame %llu: FRAME line %s", (unsigned long long)index,
			    ferror(f) ? "unreadable" : "too long or cut off by the end of the file");
	if (y4m_parse_frame_line(line, (size_t)n, err)) {
		char why[Y4M_ERR_LEN];
		memcpy(why, err, Y4M_ERR_LEN);
		return fail(err, "frame %llu: %s (a y4m frame starts with \"FRAME\"; the header "
			    "may claim a size the data does not have)",
			    (unsigned long long)index, why);
	}
	size_t got = fread(buf, 1, info->frame_bytes, f);
	if (got != info->frame_bytes)
		return fail(err, "frame %llu: truncated: %zu of %zu bytes (%ux%u I420)",
			    (unsigned long long)index, got, info->frame_bytes, info->width,
			    info->height);
	return 1;
}
