/* flexbuf — see flexbuf.h. Layout reference: the FlexBuffers binary format (root type and
 * width in the last two bytes; a map's values vector is preceded by its size, key-vector
 * width and key-vector offset; packed type bytes follow the values). */
#include "flexbuf.h"

#include <string.h>

enum { FB_NULL = 0, FB_INT = 1, FB_UINT = 2, FB_FLOAT = 3, FB_KEY = 4,
       FB_INDIRECT_INT = 6, FB_INDIRECT_UINT = 7, FB_INDIRECT_FLOAT = 8, FB_MAP = 9,
       FB_BOOL = 26 };

static int in(const flexbuf_map *m, size_t pos, uint64_t n)
{
	return pos <= m->len && n <= m->len - pos;
}

static uint64_t rd_uint(const uint8_t *p, uint32_t w)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int64_t rd_int(const uint8_t *p, uint32_t w)
{
	uint64_t v = rd_uint(p, w);
	if (w < 8 && (v >> (8 * w - 1)) & 1)
		v |= ~(uint64_t)0 << (8 * w);
	return (int64_t)v;
}

static double rd_float(const uint8_t *p, uint32_t w)
{
	if (w == 4) {
		float f;
		uint32_t u = (uint32_t)rd_uint(p, 4);
		memcpy(&f, &u, 4);
		return f;
	}
	double d;
	uint64_t u = rd_uint(p, 8);
	memcpy(&d, &u, 8);
	return d;
}

/* Follows an offset stored at pos (width w) backwards; checks the target. */
static int back(const flexbuf_map *m, size_t pos, uint32_t w, size_t *target)
{
	if (!in(m, pos, w))
		return -1;
	uint64_t off = rd_uint(m->buf + pos, w);
	if (off > pos)
		return -1;
	*target = pos - (size_t)off;
	return 0;
}

int flexbuf_root_map(const uint8_t *buf, size_t len, flexbuf_map *out)
{
	memset(out, 0, sizeof *out);
	out->buf = buf;
	out->len = len;
	if (len < 3)
		return -1;
	uint32_t rw = buf[len - 1];
	uint8_t packed = buf[len - 2];
	if ((rw != 1 && rw != 2 && rw != 4 && rw != 8) || (packed >> 2) != FB_MAP || len < 2 + rw)
		return -1;
	uint32_t w = 1u << (packed & 3);
	size_t vec, keys_field;
	if (back(out, len - 2 - rw, rw, &vec) || vec < 3 * (size_t)w)
		return -1;
	out->width = w;
	out->values = vec;
	out->size = rd_uint(buf + vec - w, w);
	keys_field = vec - 3 * (size_t)w;
	out->key_width = (uint32_t)rd_uint(buf + vec - 2 * w, w);
	if (out->key_width != 1 && out->key_width != 2 && out->key_width != 4 && out->key_width != 8)
		return -1;
	if (back(out, keys_field, w, &out->keys) || out->keys < out->key_width)
		return -1;
	if (out->size > len || !in(out, vec, out->size * (w + 1)) ||
	    !in(out, out->keys, out->size * out->key_width) ||
	    rd_uint(buf + out->keys - out->key_width, out->key_width) != out->size)
		return -1;
	return 0;
}

/* Does the NUL-terminated key at pos equal `key`? */
static int key_equals(const flexbuf_map *m, size_t pos, const char *key)
{
	size_t n = strlen(key);
	return in(m, pos, n + 1) && !memcmp(m->buf + pos, key, n) && m->buf[pos + n] == 0;
}

static int scalar(const flexbuf_map *m, size_t pos, uint8_t packed, double *out)
{
	uint32_t type = packed >> 2, w = m->width;
	if (type == FB_INDIRECT_INT || type == FB_INDIRECT_UINT || type == FB_INDIRECT_FLOAT) {
		size_t target;
		if (back(m, pos, w, &target))
			return -1;
		pos = target;
		w = 1u << (packed & 3);
		type -= FB_INDIRECT_INT - FB_INT;
	}
	if (!in(m, pos, w))
		return -1;
	switch (type) {
	case FB_INT: *out = (double)rd_int(m->buf + pos, w); return 1;
	case FB_UINT:
	case FB_BOOL: *out = (double)rd_uint(m->buf + pos, w); return 1;
	case FB_FLOAT:
		if (w != 4 && w != 8)
			return -1;
		*out = rd_float(m->buf + pos, w);
		return 1;
	}
	return -1;
}

int flexbuf_get_double(const flexbuf_map *m, const char *key, double *out)
{
	for (uint64_t i = 0; i < m->size; i++) {
		size_t kpos;
		if (back(m, m->keys + (size_t)i * m->key_width, m->key_width, &kpos))
			return -1;
		if (!key_equals(m, kpos, key))
			continue;
		size_t vpos = m->values + (size_t)i * m->width;
		uint8_t packed = m->buf[m->values + m->size * m->width + i];
		return scalar(m, vpos, packed, out);
	}
	return 0;
}
