/* test_fb_reader — unit tests of the bounds-checked FlatBuffers reader (engine/src/fb_reader.c)
 * on hand-built byte buffers.
 *
 * A reference buffer holds a root table with one field of every kind the reader serves
 * (u8, i32, u32, u64, f32, string, int32/int64/float vectors, sub-table, vector of tables,
 * vector of strings). Each malformed case patches one offset, length or vtable entry of a
 * copy and checks the accessor's answer. Every buffer handed to the reader is a heap copy
 * of exactly its size, so under ASan a read one byte past the end fails the test. */
#include "fb_reader.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- building buffers ------------------------------------------------------------- */

typedef struct wbuf {
	uint8_t b[1024];
	size_t n;
} wbuf;

static size_t w_alloc(wbuf *w, size_t len, size_t align)
{
	size_t p = (w->n + align - 1) / align * align;
	ck_assert_uint_le(p + len, sizeof w->b);
	memset(w->b + p, 0, len);
	w->n = p + len;
	return p;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A uoffset at `at` pointing forward to `target`. */
static void put_ref(wbuf *w, size_t at, size_t target)
{
	ck_assert_uint_gt(target, at);
	put32(w->b + at, (uint32_t)(target - at));
}

/* A vtable for fields at the given table offsets (0 = absent) followed by the table
 * (8-aligned, so there may be padding between them); *vt_out gets the vtable's position. */
static size_t w_table(wbuf *w, int nf, const uint16_t *offs, uint16_t tbl_len, size_t *vt_out)
{
	size_t vt = w_alloc(w, 4 + 2 * (size_t)nf, 2);
	if (vt_out)
		*vt_out = vt;
	put16(w->b + vt, (uint16_t)(4 + 2 * nf));
	put16(w->b + vt + 2, tbl_len);
	for (int i = 0; i < nf; i++)
		put16(w->b + vt + 4 + 2 * i, offs[i]);
	size_t t = w_alloc(w, tbl_len, 8);
	put32(w->b + t, (uint32_t)(t - vt));
	return t;
}

static size_t w_string(wbuf *w, const char *s)
{
	size_t l = strlen(s), p = w_alloc(w, 4 + l + 1, 4);
	put32(w->b + p, (uint32_t)l);
	memcpy(w->b + p + 4, s, l);
	return p;
}

/* Field numbers of the reference root table. */
enum { F_U8, F_I32, F_U32, F_U64, F_F32, F_STR, F_IVEC, F_SUB, F_TVEC, F_SVEC, F_ABSENT,
       F_LVEC, F_FVEC, NF };
static const uint16_t root_offs[NF] = { 4, 8, 12, 16, 24, 28, 32, 36, 40, 44, 0, 48, 52 };
enum { ROOT_LEN = 56 };

typedef struct ref_layout {
	size_t vt, root, str, ivec, sub, tvec, svec, lvec, fvec, sub_vt;
} ref_layout;

static wbuf g_ref;
static ref_layout L;

static void build_reference(void)
{
	wbuf *w = &g_ref;
	memset(w, 0, sizeof *w);
	w_alloc(w, 8, 4);
	memcpy(w->b + 4, "TEST", 4);
	size_t root = w_table(w, NF, root_offs, ROOT_LEN, &L.vt);
	L.root = root;
	put_ref(w, 0, root);
	w->b[root + 4] = 0xab;
	put32(w->b + root + 8, (uint32_t)-5);
	put32(w->b + root + 12, 0xdeadbeefu);
	put64(w->b + root + 16, 0x0123456789abcdefull);
	float f = 1.5f;
	uint32_t fu;
	memcpy(&fu, &f, 4);
	put32(w->b + root + 24, fu);

	L.str = w_string(w, "hello");
	put_ref(w, root + 28, L.str);

	L.ivec = w_alloc(w, 16, 4);
	put32(w->b + L.ivec, 3);
	put32(w->b + L.ivec + 4, 1);
	put32(w->b + L.ivec + 8, (uint32_t)-2);
	put32(w->b + L.ivec + 12, 3);
	put_ref(w, root + 32, L.ivec);

	static const uint16_t sub_offs[1] = { 4 };
	L.sub = w_table(w, 1, sub_offs, 8, &L.sub_vt);
	put32(w->b + L.sub + 4, 77);
	put_ref(w, root + 36, L.sub);

	L.tvec = w_alloc(w, 12, 4);
	put32(w->b + L.tvec, 2);
	size_t t0 = w_table(w, 1, sub_offs, 8, NULL), t1 = w_table(w, 1, sub_offs, 8, NULL);
	put32(w->b + t0 + 4, 100);
	put32(w->b + t1 + 4, 101);
	put_ref(w, L.tvec + 4, t0);
	put_ref(w, L.tvec + 8, t1);
	put_ref(w, root + 40, L.tvec);

	L.svec = w_alloc(w, 12, 4);
	put32(w->b + L.svec, 2);
	put_ref(w, L.svec + 4, w_string(w, "ab"));
	put_ref(w, L.svec + 8, w_string(w, ""));
	put_ref(w, root + 44, L.svec);

	L.lvec = w_alloc(w, 4, 4);
	size_t l8 = w_alloc(w, 16, 8);
	ck_assert_uint_eq(l8, L.lvec + 4);
	put32(w->b + L.lvec, 2);
	put64(w->b + L.lvec + 4, (uint64_t)-3);
	put64(w->b + L.lvec + 12, 1ull << 40);
	put_ref(w, root + 48, L.lvec);

	L.fvec = w_alloc(w, 8, 4);
	put32(w->b + L.fvec, 1);
	f = -0.25f;
	memcpy(&fu, &f, 4);
	put32(w->b + L.fvec + 4, fu);
	put_ref(w, root + 52, L.fvec);
}

/* An exactly-sized heap copy of the first n bytes of src. */
static fb_buf heap_buf(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(p);
	if (n)
		memcpy(p, src, n);
	return (fb_buf){ n ? p : NULL, n };
}

static void heap_free(fb_buf *b)
{
	free((void *)b->data);
	b->data = NULL;
}

/* Working copy of the reference that a test may patch before calling heap_buf(). */
static wbuf g_w;

static void setup(void)
{
	build_reference();
	g_w = g_ref;
}

static fb_buf ref_buf(void) { return heap_buf(g_w.b, g_w.n); }

static fb_table root_of(const fb_buf *b)
{
	fb_table t;
	ck_assert_int_eq(fb_root(b, "TEST", &t), 0);
	return t;
}

/* ---- raw little-endian reads -------------------------------------------------------- */

START_TEST(test_raw_reads)
{
	static const uint8_t b[8] = { 0x01, 0x80, 0x03, 0xf4, 0x05, 0x06, 0x07, 0x88 };
	ck_assert_uint_eq(fb_u8(b + 1), 0x80);
	ck_assert_uint_eq(fb_u16(b), 0x8001);
	ck_assert_uint_eq(fb_u32(b), 0xf4038001u);
	ck_assert(fb_u64(b) == 0x88070605f4038001ull);
	static const uint8_t one[4] = { 0x00, 0x00, 0x80, 0x3f };
	ck_assert(fb_f32(one) == 1.0f);
	static const uint8_t ninf[4] = { 0x00, 0x00, 0x80, 0xff };
	ck_assert(fb_f32(ninf) < -1e38f);
}
END_TEST

/* ---- fb_root / fb_table_at ----------------------------------------------------------- */

START_TEST(test_root_valid)
{
	fb_buf b = ref_buf();
	fb_table t;
	ck_assert_int_eq(fb_root(&b, "TEST", &t), 0);
	ck_assert_uint_eq(t.pos, L.root);
	ck_assert_uint_eq(t.vt, L.vt);
	ck_assert_uint_eq(t.vt_len, 4 + 2 * NF);
	ck_assert_uint_eq(t.tbl_len, ROOT_LEN);
	ck_assert_ptr_eq(t.buf, &b);
	ck_assert_int_eq(fb_root(&b, NULL, &t), 0); /* no identifier check */
	heap_free(&b);
}
END_TEST

START_TEST(test_root_identifier)
{
	fb_buf b = ref_buf();
	fb_table t;
	ck_assert_int_eq(fb_root(&b, "TFL3", &t), -2);
	ck_assert_int_eq(fb_root(&b, "TES", &t), -2); /* 4 bytes compared: "TES\0" */
	heap_free(&b);
}
END_TEST

START_TEST(test_root_short_buffers)
{
	fb_table t;
	for (size_t n = 0; n < 8; n++) {
		fb_buf b = heap_buf(g_w.b, n);
		ck_assert_int_eq(fb_root(&b, NULL, &t), -1);
		ck_assert_int_eq(fb_root(&b, "TEST", &t), -1);
		heap_free(&b);
	}
	fb_buf empty = { NULL, 0 };
	ck_assert_int_eq(fb_root(&empty, NULL, &t), -1);
	ck_assert_int_eq(fb_table_at(&empty, 0, &t), -1);
	ck_assert_int_eq(fb_table_at(&empty, 4, &t), -1);
}
END_TEST

START_TEST(test_root_every_truncation)
{
	/* Cutting the buffer anywhere before the end of the root table makes it invalid;
	 * from there on the root itself is fine (its children are checked on access). */
	fb_table t;
	for (size_t n = 0; n < g_w.n; n++) {
		fb_buf b = heap_buf(g_w.b, n);
		int r = fb_root(&b, "TEST", &t);
		if (n < L.root + ROOT_LEN)
			ck_assert_msg(r == -1, "length %zu: fb_root returned %d", n, r);
		else
			ck_assert_msg(r == 0, "length %zu: fb_root returned %d", n, r);
		heap_free(&b);
	}
}
END_TEST

START_TEST(test_root_offset_out_of_range)
{
	static const uint32_t bad[] = { 0xffffffffu, 0x7fffffffu, 0x80000000u, 1024, 0 };
	fb_table t;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		g_w = g_ref;
		put32(g_w.b, bad[i]);
		fb_buf b = ref_buf();
		ck_assert_msg(fb_root(&b, "TEST", &t) == -1, "root offset 0x%x accepted", bad[i]);
		heap_free(&b);
	}
	/* exactly at the end: no room for the soffset */
	g_w = g_ref;
	put32(g_w.b, (uint32_t)g_w.n);
	fb_buf b = ref_buf();
	ck_assert_int_eq(fb_root(&b, NULL, &t), -1);
	ck_assert_int_eq(fb_table_at(&b, g_w.n - 3, &t), -1);
	ck_assert_int_eq(fb_table_at(&b, SIZE_MAX, &t), -1);
	ck_assert_int_eq(fb_table_at(&b, SIZE_MAX - 3, &t), -1);
	heap_free(&b);
}
END_TEST

START_TEST(test_vtable_outside)
{
	fb_table t;
	/* soffset pointing before the buffer start */
	put32(g_w.b + L.root, (uint32_t)(L.root + 4));
	fb_buf b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.root, &t), -1);
	heap_free(&b);
	/* soffset pointing past the end (vtable "after" the table) */
	g_w = g_ref;
	put32(g_w.b + L.root, (uint32_t)(int32_t)-(int32_t)(g_w.n - L.root));
	b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.root, &t), -1);
	heap_free(&b);
	/* extreme soffsets */
	g_w = g_ref;
	put32(g_w.b + L.root, 0x80000000u);
	b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.root, &t), -1);
	heap_free(&b);
	g_w = g_ref;
	put32(g_w.b + L.root, 0x7fffffffu);
	b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.root, &t), -1);
	heap_free(&b);
	/* the vtable starts 2 bytes before the end: its header does not fit */
	g_w = g_ref;
	put32(g_w.b + L.root, (uint32_t)(int32_t)-(int32_t)(g_w.n - 2 - L.root));
	b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.root, &t), -1);
	heap_free(&b);
}
END_TEST

START_TEST(test_vtable_after_table)
{
	/* A negative soffset (vtable after the table) is legal FlatBuffers. */
	wbuf w = { .n = 0 };
	w_alloc(&w, 8, 4);
	size_t t = w_alloc(&w, 8, 4);
	size_t vt = w_alloc(&w, 6, 2);
	put_ref(&w, 0, t);
	put32(w.b + t, (uint32_t)(int32_t)-(int32_t)(vt - t));
	put32(w.b + t + 4, 42);
	put16(w.b + vt, 6);
	put16(w.b + vt + 2, 8);
	put16(w.b + vt + 4, 4);
	fb_buf b = heap_buf(w.b, w.n);
	fb_table tt;
	int32_t v;
	ck_assert_int_eq(fb_root(&b, NULL, &tt), 0);
	ck_assert_uint_eq(tt.vt, vt);
	ck_assert_int_eq(fb_get_i32(&tt, 0, 0, &v), 1);
	ck_assert_int_eq(v, 42);
	heap_free(&b);
}
END_TEST

START_TEST(test_vtable_lengths)
{
	fb_table t;
	static const uint16_t bad_vt_len[] = { 0, 2, 3, 5, 31 /* odd */, 0xffff, 0xfffe };
	for (size_t i = 0; i < sizeof bad_vt_len / sizeof bad_vt_len[0]; i++) {
		g_w = g_ref;
		put16(g_w.b + L.vt, bad_vt_len[i]);
		fb_buf b = ref_buf();
		ck_assert_msg(fb_table_at(&b, L.root, &t) == -1, "vtable length %u accepted",
			      bad_vt_len[i]);
		heap_free(&b);
	}
	/* a vtable that runs off the end of the buffer */
	g_w = g_ref;
	put16(g_w.b + L.sub_vt, (uint16_t)((g_w.n - L.sub_vt + 2) & ~1u));
	fb_buf b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.sub, &t), -1);
	heap_free(&b);
	/* an even vtable length that is longer than needed is fine: the extra slot reads
	 * the following bytes as a field offset, which field_pos then checks */
	g_w = g_ref;
	put16(g_w.b + L.sub_vt, 8);
	b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.sub, &t), 0);
	ck_assert_uint_eq(t.vt_len, 8);
	int32_t x;
	ck_assert_int_eq(fb_get_i32(&t, 0, 0, &x), 1);
	ck_assert_int_eq(x, 77);
	heap_free(&b);
}
END_TEST

START_TEST(test_table_lengths)
{
	fb_table t;
	static const uint16_t bad_tbl_len[] = { 0, 1, 3 };
	for (size_t i = 0; i < sizeof bad_tbl_len / sizeof bad_tbl_len[0]; i++) {
		g_w = g_ref;
		put16(g_w.b + L.vt + 2, bad_tbl_len[i]);
		fb_buf b = ref_buf();
		ck_assert_msg(fb_table_at(&b, L.root, &t) == -1, "table length %u accepted",
			      bad_tbl_len[i]);
		heap_free(&b);
	}
	/* inline size past the end of the buffer */
	g_w = g_ref;
	put16(g_w.b + L.vt + 2, (uint16_t)(g_w.n - L.root + 1));
	fb_buf b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.root, &t), -1);
	heap_free(&b);
	g_w = g_ref;
	put16(g_w.b + L.vt + 2, 0xffff);
	b = ref_buf();
	ck_assert_int_eq(fb_table_at(&b, L.root, &t), -1);
	heap_free(&b);
}
END_TEST

/* ---- scalar fields ----------------------------------------------------------------- */

START_TEST(test_scalars_valid)
{
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	uint8_t u8;
	int32_t i32;
	uint32_t u32;
	uint64_t u64;
	float f;
	ck_assert_int_eq(fb_get_u8(&t, F_U8, 9, &u8), 1);
	ck_assert_uint_eq(u8, 0xab);
	ck_assert_int_eq(fb_get_i32(&t, F_I32, 9, &i32), 1);
	ck_assert_int_eq(i32, -5);
	ck_assert_int_eq(fb_get_u32(&t, F_U32, 9, &u32), 1);
	ck_assert_uint_eq(u32, 0xdeadbeefu);
	ck_assert_int_eq(fb_get_u64(&t, F_U64, 9, &u64), 1);
	ck_assert(u64 == 0x0123456789abcdefull);
	ck_assert_int_eq(fb_get_f32(&t, F_F32, 9, &f), 1);
	ck_assert(f == 1.5f);
	heap_free(&b);
}
END_TEST

START_TEST(test_scalars_absent)
{
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	uint8_t u8;
	int32_t i32;
	uint32_t u32;
	uint64_t u64;
	float f;
	/* offset 0 in the vtable */
	ck_assert_int_eq(fb_get_u8(&t, F_ABSENT, 7, &u8), 0);
	ck_assert_uint_eq(u8, 7);
	ck_assert_int_eq(fb_get_i32(&t, F_ABSENT, -7, &i32), 0);
	ck_assert_int_eq(i32, -7);
	/* beyond the vtable (newer schema field), and negative field numbers */
	ck_assert_int_eq(fb_get_u32(&t, NF, 11, &u32), 0);
	ck_assert_uint_eq(u32, 11);
	ck_assert_int_eq(fb_get_u64(&t, 1000, 12, &u64), 0);
	ck_assert(u64 == 12);
	ck_assert_int_eq(fb_get_f32(&t, -1, 2.5f, &f), 0);
	ck_assert(f == 2.5f);
	ck_assert_int_eq(fb_get_i32(&t, 32767, 3, &i32), 0);
	ck_assert_int_eq(i32, 3);
	heap_free(&b);
}
END_TEST

START_TEST(test_scalars_field_outside_table)
{
	uint8_t u8;
	int32_t i32;
	uint64_t u64;
	float f;
	/* field offset inside the soffset (< 4) */
	put16(g_w.b + L.vt + 4 + 2 * F_I32, 2);
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_i32(&t, F_I32, 5, &i32), -1);
	ck_assert_int_eq(i32, 5); /* default on error too */
	heap_free(&b);
	/* field offset beyond the table's inline size */
	g_w = g_ref;
	put16(g_w.b + L.vt + 4 + 2 * F_U8, ROOT_LEN);
	put16(g_w.b + L.vt + 4 + 2 * F_U64, ROOT_LEN - 4); /* 8 bytes would straddle the end */
	put16(g_w.b + L.vt + 4 + 2 * F_F32, 0xfffe);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_u8(&t, F_U8, 0, &u8), -1);
	ck_assert_int_eq(fb_get_u64(&t, F_U64, 0, &u64), -1);
	ck_assert_int_eq(fb_get_f32(&t, F_F32, 0, &f), -1);
	/* the last byte of the table is readable as a u8, not as an i32 */
	heap_free(&b);
	g_w = g_ref;
	put16(g_w.b + L.vt + 4 + 2 * F_U8, ROOT_LEN - 1);
	put16(g_w.b + L.vt + 4 + 2 * F_I32, ROOT_LEN - 1);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_u8(&t, F_U8, 0, &u8), 1);
	ck_assert_int_eq(fb_get_i32(&t, F_I32, 0, &i32), -1);
	heap_free(&b);
}
END_TEST

/* ---- strings, vectors, sub-tables --------------------------------------------------- */

START_TEST(test_string_valid)
{
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	const char *s;
	uint32_t len;
	ck_assert_int_eq(fb_get_string(&t, F_STR, &s, &len), 1);
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(s, "hello", 5) == 0);
	ck_assert_int_eq(fb_get_string(&t, F_ABSENT, &s, &len), 0);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	heap_free(&b);
}
END_TEST

START_TEST(test_string_malformed)
{
	const char *s;
	uint32_t len;
	static const uint32_t lens[] = { 0xffffffffu, 0x7fffffffu, 1000 };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		g_w = g_ref;
		put32(g_w.b + L.str, lens[i]);
		fb_buf b = ref_buf();
		fb_table t = root_of(&b);
		ck_assert_msg(fb_get_string(&t, F_STR, &s, &len) == -1, "string length %u accepted",
			      lens[i]);
		heap_free(&b);
	}
	/* uoffset past the end, and one leaving no room for the length */
	g_w = g_ref;
	put32(g_w.b + L.root + 28, 0xfffffff0u);
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_string(&t, F_STR, &s, &len), -1);
	heap_free(&b);
	g_w = g_ref;
	put32(g_w.b + L.root + 28, (uint32_t)(g_w.n - 2 - (L.root + 28)));
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_string(&t, F_STR, &s, &len), -1);
	heap_free(&b);
	/* a string that ends exactly at the buffer end (no terminator) is accepted */
	wbuf w = g_ref;
	size_t p = w.n;
	w.n += 7;
	put32(w.b + p, 3);
	memcpy(w.b + p + 4, "xyz", 3);
	put32(w.b + L.root + 28, (uint32_t)(p - (L.root + 28)));
	b = heap_buf(w.b, w.n);
	t = root_of(&b);
	ck_assert_int_eq(fb_get_string(&t, F_STR, &s, &len), 1);
	ck_assert_uint_eq(len, 3);
	ck_assert(memcmp(s, "xyz", 3) == 0);
	heap_free(&b);
}
END_TEST

START_TEST(test_self_referencing_offset)
{
	/* A uoffset of 0 points at itself: read as a table it has vtable length 0; read as a
	 * vector its length is 0 (harmless). Cycles are impossible otherwise: uoffsets only
	 * point forward. */
	fb_table sub;
	fb_vec v;
	put32(g_w.b + L.root + 36, 0);
	put32(g_w.b + L.root + 32, 0);
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_table(&t, F_SUB, &sub), -1);
	ck_assert_int_eq(fb_get_vec(&t, F_IVEC, 4, &v), 1);
	ck_assert_uint_eq(v.len, 0);
	heap_free(&b);
	/* a table whose soffset is 0: its vtable would be the table itself */
	g_w = g_ref;
	put32(g_w.b + L.sub, 0);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_table(&t, F_SUB, &sub), -1);
	heap_free(&b);
}
END_TEST

START_TEST(test_vectors_valid)
{
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	fb_vec v;
	ck_assert_int_eq(fb_get_vec(&t, F_IVEC, 4, &v), 1);
	ck_assert_uint_eq(v.len, 3);
	ck_assert_uint_eq(v.elem, 4);
	ck_assert_int_eq(fb_vec_i32(&v, 0), 1);
	ck_assert_int_eq(fb_vec_i32(&v, 1), -2);
	ck_assert_int_eq(fb_vec_i32(&v, 2), 3);
	ck_assert_ptr_eq(fb_vec_data(&v), b.data + L.ivec + 4);
	ck_assert_int_eq(fb_get_vec(&t, F_LVEC, 8, &v), 1);
	ck_assert_uint_eq(v.len, 2);
	ck_assert(fb_vec_i64(&v, 0) == -3);
	ck_assert(fb_vec_i64(&v, 1) == (int64_t)1 << 40);
	ck_assert_int_eq(fb_get_vec(&t, F_FVEC, 4, &v), 1);
	ck_assert_uint_eq(v.len, 1);
	ck_assert(fb_vec_f32(&v, 0) == -0.25f);
	/* absent vector: length 0, element size kept */
	ck_assert_int_eq(fb_get_vec(&t, F_ABSENT, 4, &v), 0);
	ck_assert_uint_eq(v.len, 0);
	ck_assert_uint_eq(v.elem, 4);
	/* the string read as a byte vector */
	ck_assert_int_eq(fb_get_vec(&t, F_STR, 1, &v), 1);
	ck_assert_uint_eq(v.len, 5);
	heap_free(&b);
}
END_TEST

START_TEST(test_vectors_too_long)
{
	fb_vec v;
	static const uint32_t lens[] = { 0x7fffffffu, 0xffffffffu, 0x40000000u, 0x40000001u,
					 0x20000000u, 0x80000000u };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		g_w = g_ref;
		put32(g_w.b + L.ivec, lens[i]);
		fb_buf b = ref_buf();
		fb_table t = root_of(&b);
		/* 4 x 0x40000000 wraps to 0 in 32 bits; the reader must not be fooled */
		ck_assert_msg(fb_get_vec(&t, F_IVEC, 4, &v) == -1, "int32 vector of %u accepted",
			      lens[i]);
		ck_assert_msg(fb_get_vec(&t, F_IVEC, 8, &v) == -1, "int64 vector of %u accepted",
			      lens[i]);
		ck_assert_msg(fb_get_vec(&t, F_IVEC, 0xffffffffu, &v) == -1,
			      "huge-element vector of %u accepted", lens[i]);
		heap_free(&b);
	}
	/* the float vector is the last object: 8-byte elements do not fit */
	ck_assert_uint_eq(g_ref.n, L.fvec + 8);
	fb_buf b = heap_buf(g_ref.b, g_ref.n);
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_FVEC, 4, &v), 1);
	ck_assert_int_eq(fb_get_vec(&t, F_FVEC, 8, &v), -1);
	heap_free(&b);
}
END_TEST

START_TEST(test_vector_offsets_out_of_range)
{
	fb_vec v;
	static const uint32_t offs[] = { 0xffffffffu, 0x80000000u, 0x7fffffffu };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		g_w = g_ref;
		put32(g_w.b + L.root + 32, offs[i]);
		fb_buf b = ref_buf();
		fb_table t = root_of(&b);
		ck_assert_int_eq(fb_get_vec(&t, F_IVEC, 4, &v), -1);
		heap_free(&b);
	}
	/* the vector's length word itself straddles the end */
	g_w = g_ref;
	put32(g_w.b + L.root + 32, (uint32_t)(g_w.n - 3 - (L.root + 32)));
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_IVEC, 4, &v), -1);
	heap_free(&b);
	/* an empty vector exactly at the end of the buffer is fine */
	wbuf w = g_ref;
	size_t p = w.n;
	w.n += 4;
	put32(w.b + p, 0);
	put32(w.b + L.root + 32, (uint32_t)(p - (L.root + 32)));
	b = heap_buf(w.b, w.n);
	t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_IVEC, 4, &v), 1);
	ck_assert_uint_eq(v.len, 0);
	ck_assert_uint_eq(v.pos, w.n);
	heap_free(&b);
	/* the uoffset field itself does not fit in the table */
	g_w = g_ref;
	put16(g_w.b + L.vt + 4 + 2 * F_IVEC, ROOT_LEN - 2);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_IVEC, 4, &v), -1);
	heap_free(&b);
}
END_TEST

START_TEST(test_subtable)
{
	fb_table sub;
	int32_t x;
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_table(&t, F_SUB, &sub), 1);
	ck_assert_uint_eq(sub.pos, L.sub);
	ck_assert_int_eq(fb_get_i32(&sub, 0, 0, &x), 1);
	ck_assert_int_eq(x, 77);
	ck_assert_int_eq(fb_get_table(&t, F_ABSENT, &sub), 0);
	heap_free(&b);
	/* offset past the end, into the middle of nowhere, and a broken sub-vtable */
	g_w = g_ref;
	put32(g_w.b + L.root + 36, 0xffffff00u);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_table(&t, F_SUB, &sub), -1);
	heap_free(&b);
	g_w = g_ref;
	put16(g_w.b + L.sub_vt, 5);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_table(&t, F_SUB, &sub), -1);
	heap_free(&b);
}
END_TEST

START_TEST(test_vector_of_tables)
{
	fb_vec v;
	fb_table e;
	int32_t x;
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_TVEC, 4, &v), 1);
	ck_assert_uint_eq(v.len, 2);
	ck_assert_int_eq(fb_vec_table(&v, 0, &e), 0);
	ck_assert_int_eq(fb_get_i32(&e, 0, 0, &x), 1);
	ck_assert_int_eq(x, 100);
	ck_assert_int_eq(fb_vec_table(&v, 1, &e), 0);
	ck_assert_int_eq(fb_get_i32(&e, 0, 0, &x), 1);
	ck_assert_int_eq(x, 101);
	/* index out of range, and a vector fetched with the wrong element size */
	ck_assert_int_eq(fb_vec_table(&v, 2, &e), -1);
	ck_assert_int_eq(fb_vec_table(&v, 0xffffffffu, &e), -1);
	fb_vec v8;
	ck_assert_int_eq(fb_get_vec(&t, F_IVEC, 8, &v8), 1); /* 3 x 8 bytes fit in the buffer */
	ck_assert_int_eq(fb_vec_table(&v8, 0, &e), -1);
	heap_free(&b);
	/* element offset out of range */
	g_w = g_ref;
	put32(g_w.b + L.tvec + 8, 0xfffffff0u);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_TVEC, 4, &v), 1);
	ck_assert_int_eq(fb_vec_table(&v, 0, &e), 0);
	ck_assert_int_eq(fb_vec_table(&v, 1, &e), -1);
	heap_free(&b);
}
END_TEST

START_TEST(test_vector_of_strings)
{
	fb_vec v;
	const char *s;
	uint32_t len;
	fb_buf b = ref_buf();
	fb_table t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_SVEC, 4, &v), 1);
	ck_assert_int_eq(fb_vec_string(&v, 0, &s, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert(memcmp(s, "ab", 2) == 0);
	ck_assert_int_eq(fb_vec_string(&v, 1, &s, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(fb_vec_string(&v, 2, &s, &len), -1);
	fb_vec v1;
	ck_assert_int_eq(fb_get_vec(&t, F_SVEC, 1, &v1), 1);
	ck_assert_int_eq(fb_vec_string(&v1, 0, &s, &len), -1); /* element size must be 4 */
	heap_free(&b);
	/* a string element whose length runs past the end */
	g_w = g_ref;
	size_t s0 = L.svec + 4 + fb_u32(g_ref.b + L.svec + 4);
	put32(g_w.b + s0, 0x10000);
	b = ref_buf();
	t = root_of(&b);
	ck_assert_int_eq(fb_get_vec(&t, F_SVEC, 4, &v), 1);
	ck_assert_int_eq(fb_vec_string(&v, 0, &s, &len), -1);
	ck_assert_int_eq(fb_vec_string(&v, 1, &s, &len), 0);
	heap_free(&b);
}
END_TEST

START_TEST(test_every_truncation_accessors)
{
	/* Walk every field of every truncation of the reference: each accessor answers -1, 0
	 * or 1 and reads nothing past the end (ASan checks the reads). */
	for (size_t n = L.root + ROOT_LEN; n <= g_ref.n; n++) {
		fb_buf b = heap_buf(g_ref.b, n);
		fb_table t = root_of(&b), sub;
		fb_vec v;
		const char *s;
		uint32_t len;
		volatile uint32_t sink = 0; /* reads every byte the accessors hand out */
		for (int f = 0; f < NF; f++) {
			int r1 = fb_get_vec(&t, f, 4, &v);
			ck_assert(r1 >= -1 && r1 <= 1);
			for (uint32_t i = 0; r1 == 1 && i < v.len; i++) {
				sink += (uint32_t)fb_vec_i32(&v, i);
				if (fb_vec_table(&v, i, &sub) == 0) {
					int32_t x;
					ck_assert_int_ge(fb_get_i32(&sub, 0, 0, &x), -1);
				}
				if (fb_vec_string(&v, i, &s, &len) == 0)
					for (uint32_t k = 0; k < len; k++)
						sink += (uint8_t)s[k];
			}
			int r2 = fb_get_string(&t, f, &s, &len);
			ck_assert(r2 >= -1 && r2 <= 1);
			for (uint32_t k = 0; r2 == 1 && k < len; k++)
				sink += (uint8_t)s[k];
			int r3 = fb_get_table(&t, f, &sub);
			ck_assert(r3 >= -1 && r3 <= 1);
		}
		(void)sink;
		if (n == g_ref.n) { /* the whole buffer: everything valid */
			ck_assert_int_eq(fb_get_vec(&t, F_FVEC, 4, &v), 1);
			ck_assert_int_eq(fb_get_string(&t, F_STR, &s, &len), 1);
		} else {
			/* the last vector is cut, so it must be rejected */
			ck_assert_int_eq(fb_get_vec(&t, F_FVEC, 4, &v), -1);
		}
		heap_free(&b);
	}
}
END_TEST

static Suite *fb_reader_suite(void)
{
	Suite *s = suite_create("fb_reader");
	TCase *tc = tcase_create("reader");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_raw_reads);
	tcase_add_test(tc, test_root_valid);
	tcase_add_test(tc, test_root_identifier);
	tcase_add_test(tc, test_root_short_buffers);
	tcase_add_test(tc, test_root_every_truncation);
	tcase_add_test(tc, test_root_offset_out_of_range);
	tcase_add_test(tc, test_vtable_outside);
	tcase_add_test(tc, test_vtable_after_table);
	tcase_add_test(tc, test_vtable_lengths);
	tcase_add_test(tc, test_table_lengths);
	tcase_add_test(tc, test_scalars_valid);
	tcase_add_test(tc, test_scalars_absent);
	tcase_add_test(tc, test_scalars_field_outside_table);
	tcase_add_test(tc, test_string_valid);
	tcase_add_test(tc, test_string_malformed);
	tcase_add_test(tc, test_self_referencing_offset);
	tcase_add_test(tc, test_vectors_valid);
	tcase_add_test(tc, test_vectors_too_long);
	tcase_add_test(tc, test_vector_offsets_out_of_range);
	tcase_add_test(tc, test_subtable);
	tcase_add_test(tc, test_vector_of_tables);
	tcase_add_test(tc, test_vector_of_strings);
	tcase_add_test(tc, test_every_truncation_accessors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fb_reader_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
