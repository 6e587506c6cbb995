/* test_flexbuf — the FlexBuffers option-map reader (engine/src/flexbuf.h) on maps built
 * byte by byte here: every value width, inline and indirect int/uint/float/bool, missing
 * keys, malformed layouts and truncations; and the real TFLite_Detection_PostProcess
 * options of the SSD MobileNetV2 model in ../shared. */
#include "flexbuf.h"
#include "test_util.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_INT = 1, T_UINT = 2, T_FLOAT = 3, T_KEY = 4, T_STRING = 5, T_IINT = 6, T_IUINT = 7,
       T_IFLOAT = 8, T_MAP = 9, T_BOOL = 26 };

typedef struct entry {
	const char *key;
	int type;     /* T_INT, T_UINT, T_FLOAT, T_BOOL, or an indirect type */
	double v;
	unsigned iw;  /* indirect: the target's byte width */
} entry;

typedef struct fbuf {
	uint8_t b[4096];
	size_t n;
	size_t vec; /* position of the values vector */
} fbuf;

static void put(fbuf *f, uint64_t v, unsigned w)
{
	ck_assert_uint_le(f->n + w, sizeof f->b);
	for (unsigned i = 0; i < w; i++)
		f->b[f->n++] = (uint8_t)(v >> (8 * i));
}

static void put_float(fbuf *f, double v, unsigned w)
{
	if (w == 4) {
		float x = (float)v;
		uint32_t u;
		memcpy(&u, &x, 4);
		put(f, u, 4);
	} else {
		uint64_t u;
		memcpy(&u, &v, 8);
		put(f, u, 8);
	}
}

static void put_scalar(fbuf *f, int type, double v, unsigned w)
{
	if (type == T_FLOAT && w < 4)
		put(f, 0, w); /* no such float: the map is built, the reader must refuse it */
	else if (type == T_FLOAT)
		put_float(f, v, w);
	else if (type == T_INT)
		put(f, (uint64_t)(int64_t)v, w);
	else
		put(f, (uint64_t)v, w);
}

static unsigned log2w(unsigned w) { return w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3; }

/* A root map: keys (strings), keys vector of width kw, indirect targets, values vector of
 * width w with packed types, root offset of width rw. Keys must be given sorted. */
static void build(fbuf *f, const entry *e, size_t n, unsigned w, unsigned kw, unsigned rw)
{
	size_t kpos[16], ipos[16], kvec;
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < n; i++) {
		kpos[i] = f->n;
		size_t l = strlen(e[i].key) + 1;
		memcpy(f->b + f->n, e[i].key, l);
		f->n += l;
	}
	put(f, n, kw);
	kvec = f->n;
	for (size_t i = 0; i < n; i++)
		put(f, f->n - kpos[i], kw);
	for (size_t i = 0; i < n; i++) {
		ipos[i] = f->n;
		if (e[i].type >= T_IINT && e[i].type <= T_IFLOAT)
			put_scalar(f, e[i].type - T_IINT + T_INT, e[i].v, e[i].iw);
	}
	put(f, f->n - kvec, w); /* keys vector offset, relative to this field */
	put(f, kw, w);
	put(f, n, w);
	f->vec = f->n;
	for (size_t i = 0; i < n; i++) {
		if (e[i].type >= T_IINT && e[i].type <= T_IFLOAT)
			put(f, f->n - ipos[i], w);
		else
			put_scalar(f, e[i].type, e[i].v, w);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned bw = e[i].type >= T_IINT && e[i].type <= T_IFLOAT ? e[i].iw : w;
		f->b[f->n++] = (uint8_t)(e[i].type << 2 | log2w(bw));
	}
	put(f, f->n - f->vec, rw);
	f->b[f->n++] = (uint8_t)(T_MAP << 2 | log2w(w));
	f->b[f->n++] = (uint8_t)rw;
}

static const entry sample[] = {
	{ "b", T_BOOL, 1, 0 },       { "f", T_FLOAT, 0.5, 0 },   { "i", T_INT, -7, 0 },
	{ "ii", T_IINT, -300, 2 },   { "if", T_IFLOAT, 0.25, 4 }, { "iu", T_IUINT, 70000, 4 },
	{ "u", T_UINT, 100, 0 },
};

static double get(const fbuf *f, const char *key, int expect)
{
	flexbuf_map m;
	double v = NAN;
	ck_assert_int_eq(flexbuf_root_map(f->b, f->n, &m), 0);
	ck_assert_int_eq(flexbuf_get_double(&m, key, &v), expect);
	return v;
}

/* Every value width with every key and root width: all values read back. */
START_TEST(widths_and_types)
{
	static const unsigned ws[] = { 1, 2, 4, 8 };
	for (int a = 0; a < 4; a++)
		for (int k = 0; k < 4; k++)
			for (int r = 0; r < 4; r++) {
				unsigned w = ws[a];
				fbuf f;
				/* Inline floats need 4 or 8 bytes; narrower maps hold them indirectly. */
				entry e[7];
				memcpy(e, sample, sizeof e);
				if (w < 4)
					e[1] = (entry){ "f", T_IFLOAT, 0.5, 4 };
				build(&f, e, 7, w, ws[k], ws[r]);
				flexbuf_map m;
				ck_assert_int_eq(flexbuf_root_map(f.b, f.n, &m), 0);
				ck_assert_uint_eq(m.size, 7);
				ck_assert_uint_eq(m.width, w);
				ck_assert_uint_eq(m.key_width, ws[k]);
				ck_assert(get(&f, "b", 1) == 1);
				ck_assert(get(&f, "f", 1) == 0.5);
				ck_assert(get(&f, "i", 1) == -7);
				ck_assert(get(&f, "ii", 1) == -300);
				ck_assert(get(&f, "if", 1) == 0.25);
				ck_assert(get(&f, "iu", 1) == 70000);
				ck_assert(get(&f, "u", 1) == 100);
			}
}
END_TEST

/* Values at the edges of their width; 8-byte floats keep double precision. */
START_TEST(value_ranges)
{
	entry e[] = {
		{ "a", T_INT, -128, 0 }, { "b", T_INT, 127, 0 }, { "c", T_UINT, 255, 0 },
	};
	fbuf f;
	build(&f, e, 3, 1, 1, 1);
	ck_assert(get(&f, "a", 1) == -128 && get(&f, "b", 1) == 127 && get(&f, "c", 1) == 255);
	entry g[] = { { "d", T_FLOAT, 0.1, 0 }, { "i", T_INT, -4294967296.0, 0 } };
	build(&f, g, 2, 8, 1, 1);
	ck_assert(get(&f, "d", 1) == 0.1);
	ck_assert(get(&f, "i", 1) == -4294967296.0);
	build(&f, g, 1, 4, 1, 1);
	ck_assert(get(&f, "d", 1) == (double)0.1f);
	entry h[] = { { "x", T_IFLOAT, 1e-8, 8 } };
	build(&f, h, 1, 1, 1, 1);
	ck_assert(get(&f, "x", 1) == 1e-8);
}
END_TEST

START_TEST(missing_and_non_numbers)
{
	fbuf f;
	build(&f, sample, 7, 4, 1, 1);
	ck_assert(isnan(get(&f, "missing", 0)));
	ck_assert(isnan(get(&f, "", 0)));
	ck_assert(isnan(get(&f, "ii2", 0)));  /* a longer key than any present */
	ck_assert(isnan(get(&f, "B", 0)));    /* keys are case-sensitive */
	/* A value of another type (string, key, map) is not a number. */
	entry e[] = { { "s", T_STRING, 0, 0 } };
	build(&f, e, 1, 1, 1, 1);
	ck_assert(isnan(get(&f, "s", -1)));
	e[0].type = T_MAP;
	build(&f, e, 1, 1, 1, 1);
	ck_assert(isnan(get(&f, "s", -1)));
	/* A 1- or 2-byte float does not exist in FlexBuffers. */
	entry g[] = { { "f", T_IFLOAT, 1, 2 } };
	build(&f, g, 1, 1, 1, 1);
	ck_assert(isnan(get(&f, "f", -1)));
	entry z[] = { { "f", T_FLOAT, 1, 0 } };
	build(&f, z, 1, 2, 1, 1);
	ck_assert(isnan(get(&f, "f", -1)));
	/* An empty map is well formed and holds nothing. */
	build(&f, NULL, 0, 1, 1, 1);
	ck_assert(isnan(get(&f, "a", 0)));
}
END_TEST

static int root_ok(const fbuf *f)
{
	flexbuf_map m;
	return flexbuf_root_map(f->b, f->n, &m) == 0;
}

START_TEST(malformed_roots)
{
	fbuf f;
	flexbuf_map m;
	build(&f, sample, 7, 2, 1, 1);
	ck_assert(root_ok(&f));
	/* Too short to hold a root at all. */
	ck_assert_int_eq(flexbuf_root_map(f.b, 0, &m), -1);
	ck_assert_int_eq(flexbuf_root_map(f.b, 2, &m), -1);
	/* Wrong root type: an int, a vector, a string. */
	static const int types[] = { T_INT, T_UINT, T_FLOAT, T_KEY, T_STRING, 10, 11, T_BOOL };
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		fbuf g = f;
		g.b[g.n - 2] = (uint8_t)(types[i] << 2 | 1);
		ck_assert(!root_ok(&g));
	}
	/* Root width other than 1, 2, 4, 8. */
	for (unsigned w = 0; w < 256; w++) {
		if (w == 1 || w == 2 || w == 4 || w == 8)
			continue;
		fbuf g = f;
		g.b[g.n - 1] = (uint8_t)w;
		ck_assert(!root_ok(&g));
	}
	/* A root offset pointing forward (past itself) or before the buffer. */
	fbuf g = f;
	g.b[g.n - 3] = 0xff;
	ck_assert(!root_ok(&g));
	g = f;
	g.b[g.n - 3] = (uint8_t)(g.n - 2); /* before byte 0 */
	ck_assert(!root_ok(&g));
	/* A keys-vector offset pointing forward, or before the buffer. */
	size_t kfield = f.vec - 3 * 2;
	g = f;
	g.b[kfield] = 0, g.b[kfield + 1] = 0x80;
	ck_assert(!root_ok(&g));
	g = f;
	g.b[kfield] = (uint8_t)(kfield + 1), g.b[kfield + 1] = 0;
	ck_assert(!root_ok(&g));
	/* Bad key width. */
	g = f;
	g.b[f.vec - 4] = 3;
	ck_assert(!root_ok(&g));
	/* Keys vector size disagreeing with the values vector size, both ways. */
	g = f;
	g.b[f.vec - 2] = 6;
	ck_assert(!root_ok(&g));
	g = f;
	g.b[f.vec - 2] = 8;
	ck_assert(!root_ok(&g));
	/* A values vector claiming more entries than the buffer holds. */
	g = f;
	g.b[f.vec - 2] = 0xff, g.b[f.vec - 1] = 0x7f;
	ck_assert(!root_ok(&g));
}
END_TEST

/* Key and indirect offsets that leave the buffer are refused at lookup. */
START_TEST(bad_offsets_at_lookup)
{
	fbuf f, g;
	flexbuf_map m;
	double v;
	build(&f, sample, 7, 1, 1, 1);
	ck_assert(root_ok(&f));
	/* Key 0's offset pointing before the buffer. */
	size_t k0 = (size_t)(f.b[f.vec - 3]); /* keys-vector offset, relative to its field */
	size_t kvec = f.vec - 3 - k0;
	g = f;
	g.b[kvec] = (uint8_t)(kvec + 1);
	ck_assert_int_eq(flexbuf_root_map(g.b, g.n, &m), 0);
	ck_assert_int_eq(flexbuf_get_double(&m, "b", &v), -1);
	/* An indirect value's offset pointing forward, and before the buffer. */
	size_t ii = f.vec + 3; /* "ii" is entry 3 */
	g = f;
	g.b[ii] = (uint8_t)(f.vec + 200);
	ck_assert_int_eq(flexbuf_root_map(g.b, g.n, &m), 0);
	ck_assert_int_eq(flexbuf_get_double(&m, "ii", &v), -1);
	ck_assert_int_eq(flexbuf_get_double(&m, "i", &v), 1); /* the others still read */
	ck_assert(v == -7);
	ck_assert_int_eq(flexbuf_get_double(&m, "f", &v), -1); /* an inline 1-byte float */
	/* "u" (the last entry) made an indirect 8-byte int whose offset points forward, at
	 * the last 4 bytes (an 8-byte read there would leave the buffer). */
	g = f;
	size_t u = f.vec + 6;
	g.b[u] = (uint8_t)(u - (g.n - 4));
	g.b[f.vec + 7 + 6] = (uint8_t)(T_IINT << 2 | 3);
	ck_assert_int_eq(flexbuf_root_map(g.b, g.n, &m), 0);
	ck_assert_int_eq(flexbuf_get_double(&m, "u", &v), -1);
}
END_TEST

/* Every truncation of a well-formed map is refused or reads only inside what is left
 * (ASan watches the reads); a truncated map never answers a wrong value for its keys. */
START_TEST(truncations)
{
	fbuf f;
	build(&f, sample, 7, 4, 2, 2);
	for (size_t n = 0; n < f.n; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, f.b, n);
		flexbuf_map m;
		if (flexbuf_root_map(cut, n, &m) == 0) {
			for (size_t i = 0; i < 7; i++) {
				double v;
				int r = flexbuf_get_double(&m, sample[i].key, &v);
				ck_assert(r <= 1 && r >= -1);
			}
		}
		free(cut);
	}
	/* And every single-byte corruption stays in bounds too. */
	for (size_t i = 0; i < f.n; i++)
		for (int bit = 0; bit < 8; bit++) {
			fbuf g = f;
			g.b[i] ^= (uint8_t)(1u << bit);
			uint8_t *copy = malloc(g.n);
			memcpy(copy, g.b, g.n);
			flexbuf_map m;
			double v;
			if (flexbuf_root_map(copy, g.n, &m) == 0)
				for (size_t k = 0; k < 7; k++)
					flexbuf_get_double(&m, sample[k].key, &v);
			free(copy);
		}
}
END_TEST

/* The custom options of the SSD model's TFLite_Detection_PostProcess operator: found as
 * the [ubyte] vector (4-byte length prefix) around the "max_detections" key that parses as
 * a map. */
START_TEST(real_detection_options)
{
	const char *dir = test_shared_dir();
	char path[1024];
	size_t len;
	if (!dir) {
		fprintf(stderr, "flexbuf: ../shared absent, real options test skipped\n");
		return;
	}
	snprintf(path, sizeof path, "%s/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite",
		 dir);
	uint8_t *b = test_read_file(path, (size_t)64 << 20, &len);
	if (!b) {
		fprintf(stderr, "flexbuf: %s absent, real options test skipped\n", path);
		return;
	}
	const uint8_t *key = NULL;
	for (size_t i = 0; i + 15 <= len && !key; i++)
		if (!memcmp(b + i, "max_detections", 15))
			key = b + i;
	ck_assert_ptr_nonnull(key);
	flexbuf_map m;
	int found = 0;
	for (size_t p = (size_t)(key - b) - 4; !found && p + 4096 > (size_t)(key - b) && p > 0; p--) {
		uint32_t n = (uint32_t)b[p] | (uint32_t)b[p + 1] << 8 | (uint32_t)b[p + 2] << 16 |
			     (uint32_t)b[p + 3] << 24;
		if (n < 16 || n > 4096 || p + 4 + n > len || p + 4 + n < (size_t)(key - b))
			continue;
		found = flexbuf_root_map(b + p + 4, n, &m) == 0;
	}
	ck_assert_msg(found, "no FlexBuffer map around max_detections");
	static const struct {
		const char *key;
		double v;
	} want[] = {
		{ "max_detections", 20 },     { "max_classes_per_detection", 1 },
		{ "num_classes", 90 },        { "nms_iou_threshold", 0.6 },
		{ "y_scale", 10 },            { "x_scale", 10 },
		{ "h_scale", 5 },             { "w_scale", 5 },
		{ "use_regular_nms", 0 },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		double v = NAN;
		ck_assert_msg(flexbuf_get_double(&m, want[i].key, &v) == 1, "%s", want[i].key);
		ck_assert_msg(fabs(v - want[i].v) < 1e-6, "%s = %.9g, want %g", want[i].key, v,
			      want[i].v);
	}
	double v;
	ck_assert_int_eq(flexbuf_get_double(&m, "nms_score_threshold", &v), 1);
	ck_assert(v >= 0 && v < 0.5);
	ck_assert_int_eq(flexbuf_get_double(&m, "no_such_option", &v), 0);
	free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flexbuf");
	TCase *tc = tcase_create("flexbuf");
	tcase_add_test(tc, widths_and_types);
	tcase_add_test(tc, value_ranges);
	tcase_add_test(tc, missing_and_non_numbers);
	tcase_add_test(tc, malformed_roots);
	tcase_add_test(tc, bad_offsets_at_lookup);
	tcase_add_test(tc, truncations);
	tcase_add_test(tc, real_detection_options);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
