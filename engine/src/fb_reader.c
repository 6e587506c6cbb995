/* fb_reader — bounds-checked FlatBuffers access; see fb_reader.h. */
#include "fb_reader.h"

#include <string.h>

uint8_t fb_u8(const uint8_t *p) { return p[0]; }
uint16_t fb_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
uint32_t fb_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
uint64_t fb_u64(const uint8_t *p) { return fb_u32(p) | ((uint64_t)fb_u32(p + 4) << 32); }
float fb_f32(const uint8_t *p)
{
	uint32_t u = fb_u32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* Is [pos, pos+len) inside the buffer? Written to avoid overflow. */
static int in_range(const fb_buf *b, size_t pos, uint64_t len)
{
	return pos <= b->size && len <= (uint64_t)(b->size - pos);
}

int fb_table_at(const fb_buf *b, size_t pos, fb_table *out)
{
	if (!in_range(b, pos, 4))
		return -1;
	int32_t soff = (int32_t)fb_u32(b->data + pos);
	int64_t vt = (int64_t)pos - (int64_t)soff;
	if (vt < 0 || !in_range(b, (size_t)vt, 4))
		return -1;
	uint16_t vt_len = fb_u16(b->data + vt);
	uint16_t tbl_len = fb_u16(b->data + vt + 2);
	if (vt_len < 4 || (vt_len & 1) || !in_range(b, (size_t)vt, vt_len))
		return -1;
	if (tbl_len < 4 || !in_range(b, pos, tbl_len))
		return -1;
	out->buf = b;
	out->pos = pos;
	out->vt = (size_t)vt;
	out->vt_len = vt_len;
	out->tbl_len = tbl_len;
	return 0;
}

int fb_root(const fb_buf *b, const char *ident, fb_table *out)
{
	if (b->size < 8)
		return -1;
	if (ident && memcmp(b->data + 4, ident, 4) != 0)
		return -2;
	return fb_table_at(b, fb_u32(b->data), out);
}

/* Position of a field's inline data, 0 when absent, or -1 when it would not fit. */
static int field_pos(const fb_table *t, int field, size_t size, size_t *pos)
{
	size_t slot = 4 + 2 * (size_t)field;
	if (field < 0 || slot + 2 > t->vt_len)
		return 0;
	uint16_t off = fb_u16(t->buf->data + t->vt + slot);
	if (off == 0)
		return 0;
	if (off < 4 || (uint64_t)off + size > t->tbl_len)
		return -1;
	*pos = t->pos + off;
	return 1;
}

#define FB_SCALAR_GETTER(fn, type, size, read)                                 \
	int fn(const fb_table *t, int field, type def, type *out)              \
	{                                                                      \
		size_t pos;                                                    \
		int r = field_pos(t, field, size, &pos);                      \
		*out = def;                                                    \
		if (r == 1)                                                    \
			*out = (type)read(t->buf->data + pos);                 \
		return r;                                                      \
	}

FB_SCALAR_GETTER(fb_get_u8, uint8_t, 1, fb_u8)
FB_SCALAR_GETTER(fb_get_i32, int32_t, 4, fb_u32)
FB_SCALAR_GETTER(fb_get_u32, uint32_t, 4, fb_u32)
FB_SCALAR_GETTER(fb_get_u64, uint64_t, 8, fb_u64)
FB_SCALAR_GETTER(fb_get_f32, float, 4, fb_f32)

/* Follows a uoffset stored at pos; the target must leave room for `need` bytes. */
static int follow(const fb_buf *b, size_t pos, uint64_t need, size_t *target)
{
	if (!in_range(b, pos, 4))
		return -1;
	uint64_t t = (uint64_t)pos + fb_u32(b->data + pos);
	if (t > b->size || !in_range(b, (size_t)t, need))
		return -1;
	*target = (size_t)t;
	return 0;
}

int fb_get_table(const fb_table *t, int field, fb_table *out)
{
	size_t pos, target;
	int r = field_pos(t, field, 4, &pos);
	if (r != 1)
		return r;
	if (follow(t->buf, pos, 4, &target) || fb_table_at(t->buf, target, out))
		return -1;
	return 1;
}

static int vec_at(const fb_buf *b, size_t pos, uint32_t elem_size, fb_vec *out)
{
	size_t target;
	if (follow(b, pos, 4, &target))
		return -1;
	uint32_t len = fb_u32(b->data + target);
	if (!in_range(b, target + 4, (uint64_t)len * elem_size))
		return -1;
	out->buf = b;
	out->pos = target + 4;
	out->len = len;
	out->elem = elem_size;
	return 0;
}

int fb_get_vec(const fb_table *t, int field, uint32_t elem_size, fb_vec *out)
{
	size_t pos;
	int r = field_pos(t, field, 4, &pos);
	memset(out, 0, sizeof *out);
	out->buf = t->buf;
	out->elem = elem_size;
	if (r != 1)
		return r;
	return vec_at(t->buf, pos, elem_size, out) ? -1 : 1;
}

static int string_at(const fb_buf *b, size_t pos, const char **s, uint32_t *len)
{
	fb_vec v;
	if (vec_at(b, pos, 1, &v))
		return -1;
	*s = (const char *)b->data + v.pos;
	*len = v.len;
	return 0;
}

int fb_get_string(const fb_table *t, int field, const char **s, uint32_t *len)
{
	size_t pos;
	int r = field_pos(t, field, 4, &pos);
	*s = "";
	*len = 0;
	if (r != 1)
		return r;
	return string_at(t->buf, pos, s, len) ? -1 : 1;
}

int fb_vec_table(const fb_vec *v, uint32_t i, fb_table *out)
{
	size_t target;
	if (i >= v->len || v->elem != 4)
		return -1;
	if (follow(v->buf, v->pos + (size_t)i * 4, 4, &target))
		return -1;
	return fb_table_at(v->buf, target, out);
}

int fb_vec_string(const fb_vec *v, uint32_t i, const char **s, uint32_t *len)
{
	if (i >= v->len || v->elem != 4)
		return -1;
	return string_at(v->buf, v->pos + (size_t)i * 4, s, len);
}

int32_t fb_vec_i32(const fb_vec *v, uint32_t i)
{
	return (int32_t)fb_u32(v->buf->data + v->pos + (size_t)i * 4);
}
int64_t fb_vec_i64(const fb_vec *v, uint32_t i)
{
	return (int64_t)fb_u64(v->buf->data + v->pos + (size_t)i * 8);
}
float fb_vec_f32(const fb_vec *v, uint32_t i) { return fb_f32(v->buf->data + v->pos + (size_t)i * 4); }
const uint8_t *fb_vec_data(const fb_vec *v) { return v->buf->data + v->pos; }
