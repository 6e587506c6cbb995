/* fb_reader — a bounds-checked reader for FlatBuffers binaries.
 *
 * Every accessor validates offsets and lengths against the buffer before reading and
 * returns -1 on a malformed structure, 0 for an absent field (defaults apply) and 1 for
 * a present one. Nothing is allocated; all reads are little-endian and alignment-free.
 */
#ifndef MNV2_FB_READER_H
#define MNV2_FB_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct fb_buf {
	const uint8_t *data;
	size_t size;
} fb_buf;

typedef struct fb_table {
	const fb_buf *buf;
	size_t pos;      /* start of the table */
	size_t vt;       /* start of its vtable */
	uint16_t vt_len; /* vtable length in bytes */
	uint16_t tbl_len;/* inline table size in bytes */
} fb_table;

typedef struct fb_vec {
	const fb_buf *buf;
	size_t pos;      /* first element */
	uint32_t len;    /* element count */
	uint32_t elem;   /* element size in bytes */
} fb_vec;

uint8_t fb_u8(const uint8_t *p);
uint16_t fb_u16(const uint8_t *p);
uint32_t fb_u32(const uint8_t *p);
uint64_t fb_u64(const uint8_t *p);
float fb_f32(const uint8_t *p);

/* Root table of the buffer; also checks the optional 4-byte file identifier when ident
 * is non-NULL (returns -2 when it differs). */
int fb_root(const fb_buf *b, const char *ident, fb_table *out);
int fb_table_at(const fb_buf *b, size_t pos, fb_table *out);

/* Scalar fields: *out is set to the default when the field is absent. */
int fb_get_u8(const fb_table *t, int field, uint8_t def, uint8_t *out);
int fb_get_i32(const fb_table *t, int field, int32_t def, int32_t *out);
int fb_get_u32(const fb_table *t, int field, uint32_t def, uint32_t *out);
int fb_get_u64(const fb_table *t, int field, uint64_t def, uint64_t *out);
int fb_get_f32(const fb_table *t, int field, float def, float *out);

/* Offset fields. */
int fb_get_table(const fb_table *t, int field, fb_table *out);
int fb_get_vec(const fb_table *t, int field, uint32_t elem_size, fb_vec *out);
int fb_get_string(const fb_table *t, int field, const char **s, uint32_t *len);

/* Vector elements (i < v->len is the caller's job; checked again here). */
int fb_vec_table(const fb_vec *v, uint32_t i, fb_table *out);
int fb_vec_string(const fb_vec *v, uint32_t i, const char **s, uint32_t *len);
int32_t fb_vec_i32(const fb_vec *v, uint32_t i);
int64_t fb_vec_i64(const fb_vec *v, uint32_t i);
float fb_vec_f32(const fb_vec *v, uint32_t i);
const uint8_t *fb_vec_data(const fb_vec *v);

#endif
