/* test_robustness — the loader against damaged and hostile model files.
 *
 *  (a) every truncation of small valid models fails with an error naming the model;
 *  (b) deterministic random byte mutations (1-8 bytes, biased towards the FlatBuffer
 *      structure in front of the weights): a load fails with an error or succeeds, and a
 *      model that loads is described and run once on a zero input;
 *  (c) hand-made hostile files, built with tflite_writer in lenient mode or by patching
 *      bytes found with the engine's own fb_reader: each must fail with an error that
 *      mentions the problem.
 * Every buffer handed to the loader is an exactly-sized heap copy used in place (keep=1),
 * so under ASan a read one byte past the end fails. Meant to run under ASan+UBSan: iteration
 * counts keep it to about a second with -O2 and a few seconds with sanitizers. */
#include "mnv2/engine.h"
#include "fb_reader.h"
#include "model.h"
#include "synth_models.h"
#include "test_util.h"
#include "tflite_schema.h"
#include "tflite_writer.h"

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                               */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le(uint8_t *p, uint64_t v, int w)
{
	for (int i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

static tfw_model *lenient(void)
{
	tfw_model *m = tfw_new();
	ck_assert_ptr_nonnull(m);
	tfw_set_strict(m, 0);
	return m;
}

static uint8_t *fin(tfw_model *m, size_t *n)
{
	uint8_t *p = NULL;
	ck_assert_msg(tfw_finish(m, &p, n) == 0, "writer: %s", tfw_last_error(m));
	tfw_free(m);
	return p;
}

/* Loads an exact heap copy in place; returns the model (or NULL) and the message. */
static mnv2_model *load_copy(const uint8_t *p, size_t n, const char *name, mnv2_error *err,
			     uint8_t **copy)
{
	*copy = dup_bytes(p, n);
	err->msg[0] = '\0';
	return mnv2_model_load_buffer(*copy, n, name, 1, err);
}

/* The load fails; the message names the model and contains every listed substring. */
static void expect_fail_v(const uint8_t *p, size_t n, const char *name, va_list ap)
{
	mnv2_error err;
	uint8_t *copy;
	mnv2_model *m = load_copy(p, n, name, &err, &copy);
	if (m) {
		mnv2_model_free(m);
		free(copy);
		ck_abort_msg("%s: loaded, but must be rejected", name);
	}
	free(copy);
	ck_assert_msg(err.msg[0] != '\0', "%s: empty error message", name);
	ck_assert_msg(strstr(err.msg, name) != NULL, "%s: error \"%s\" does not name the model",
		      name, err.msg);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
		ck_assert_msg(strstr(err.msg, s) != NULL, "%s: error \"%s\" does not mention \"%s\"",
			      name, err.msg, s);
}

static void expect_fail(const uint8_t *p, size_t n, const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	expect_fail_v(p, n, name, ap);
	va_end(ap);
}

/* Builds with the writer, frees the bytes after checking. */
static void tfw_expect_fail(tfw_model *m, const char *name, ...)
{
	size_t n;
	uint8_t *p = fin(m, &n);
	va_list ap;
	va_start(ap, name);
	expect_fail_v(p, n, name, ap);
	va_end(ap);
	free(p);
}

static void expect_load(const uint8_t *p, size_t n, const char *name)
{
	mnv2_error err;
	uint8_t *copy;
	mnv2_model *m = load_copy(p, n, name, &err, &copy);
	ck_assert_msg(m != NULL, "%s: %s", name, err.msg);
	mnv2_model_free(m);
	free(copy);
}

/* ---- locating fields in a TFLite file with the reader -------------------------------- */

typedef struct tfl {
	fb_buf b;
	fb_table model, sg;
	fb_vec sgs, tensors, ops, opcodes, buffers, inputs;
} tfl;

/* Fills *l in place: its tables point at l->b. */
static void tfl_open(tfl *l, const uint8_t *p, size_t n)
{
	memset(l, 0, sizeof *l);
	l->b = (fb_buf){ p, n };
	ck_assert_int_eq(fb_root(&l->b, "TFL3", &l->model), 0);
	ck_assert_int_eq(fb_get_vec(&l->model, TFL_MODEL_SUBGRAPHS, 4, &l->sgs), 1);
	ck_assert_int_eq(fb_vec_table(&l->sgs, 0, &l->sg), 0);
	ck_assert_int_eq(fb_get_vec(&l->sg, TFL_SUBGRAPH_TENSORS, 4, &l->tensors), 1);
	ck_assert_int_eq(fb_get_vec(&l->sg, TFL_SUBGRAPH_OPERATORS, 4, &l->ops), 1);
	ck_assert_int_eq(fb_get_vec(&l->sg, TFL_SUBGRAPH_INPUTS, 4, &l->inputs), 1);
	ck_assert_int_eq(fb_get_vec(&l->model, TFL_MODEL_OPCODES, 4, &l->opcodes), 1);
	ck_assert_int_eq(fb_get_vec(&l->model, TFL_MODEL_BUFFERS, 4, &l->buffers), 1);
}

/* Absolute position of a present field's inline data. */
static size_t fpos(const fb_table *t, int field)
{
	ck_assert_int_lt(4 + 2 * field, t->vt_len);
	uint16_t off = fb_u16(t->buf->data + t->vt + 4 + 2 * field);
	ck_assert_msg(off != 0, "field %d is absent", field);
	return t->pos + off;
}

/* Position a uoffset at `pos` points to. */
static size_t target(const uint8_t *p, size_t pos) { return pos + fb_u32(p + pos); }

static fb_table elem_table(const fb_vec *v, uint32_t i)
{
	fb_table t;
	ck_assert_int_eq(fb_vec_table(v, i, &t), 0);
	return t;
}

/* Position of the uoffset of vector element i. */
static size_t elem_pos(const fb_vec *v, uint32_t i) { return v->pos + 4 * (size_t)i; }

/* ------------------------------------------------------------------------------------ */
/* Base models                                                                           */

/* CONV_2D (uint8, bias) then LOGISTIC: tensors 0 in [1,4,4,3], 1 w [2,1,1,3], 2 b [2],
 * 3 t1 [1,4,4,2], 4 out [1,4,4,2]; buffers 0 (empty), 1 (w), 2 (b). */
static uint8_t *base_model(size_t *n)
{
	static const int32_t di[4] = { 1, 4, 4, 3 }, dw[4] = { 2, 1, 1, 3 }, db[1] = { 2 },
			     dt[4] = { 1, 4, 4, 2 };
	static const uint8_t w[6] = { 100, 120, 140, 160, 180, 200 };
	static const int32_t bias[2] = { 1000, -1000 };
	static const float ws = 0.01f, bs = 0.0005f;
	static const int64_t wzp = 128, bzp = 0;
	tfw_model *m = tfw_new();
	int in = tfw_act(m, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int wt = tfw_const(m, "w", TFW_UINT8, 4, dw, w, sizeof w, 1, &ws, &wzp, 0);
	int bt = tfw_const(m, "b", TFW_INT32, 1, db, bias, sizeof bias, 1, &bs, &bzp, 0);
	int t1 = tfw_act(m, "t1", TFW_UINT8, 4, dt, 0.1f, 100);
	int out = tfw_act(m, "out", TFW_UINT8, 4, dt, 1.0f / 256, 0);
	tfw_op_conv2d(m, in, wt, bt, t1, TFW_PAD_VALID, 1, 1, TFW_ACT_NONE, 1, 1);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &t1, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
	return fin(m, n);
}

typedef struct fxb_entry {
	const char *key;
	char kind; /* 'i' int, 'f' double, 'b' bool, 's' a string-typed value */
	double v;
} fxb_entry;

/* FlexBuffers map with 8-byte values (keys sorted by the caller); see test_loader.c. */
static size_t flexbuf_map(const fxb_entry *e, int n, uint8_t *out, size_t cap)
{
	size_t pos = 0, kpos[32];
	ck_assert_int_le(n, 32);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(e[i].key) + 1;
		ck_assert_uint_le(pos + l, cap);
		kpos[i] = pos;
		memcpy(out + pos, e[i].key, l);
		pos += l;
	}
	pos = (pos + 7) & ~(size_t)7;
	ck_assert_uint_le(pos + 8 * (size_t)(2 * n + 6) + (size_t)n, cap);
	le(out + pos, (uint64_t)n, 8);
	size_t keys = pos + 8;
	for (int i = 0; i < n; i++)
		le(out + keys + 8 * i, keys + 8 * i - kpos[i], 8);
	size_t kfield = keys + 8 * (size_t)n, vals = kfield + 24;
	le(out + kfield, kfield - keys, 8);
	le(out + kfield + 8, 8, 8);
	le(out + kfield + 16, (uint64_t)n, 8);
	for (int i = 0; i < n; i++) {
		uint64_t bits;
		int type = e[i].kind == 'f' ? 3 : e[i].kind == 'b' ? 26 : e[i].kind == 's' ? 5 : 1;
		if (e[i].kind == 'f')
			memcpy(&bits, &e[i].v, 8);
		else
			bits = (uint64_t)(int64_t)e[i].v;
		le(out + vals + 8 * i, bits, 8);
		out[vals + 8 * (size_t)n + i] = (uint8_t)((type << 2) | 3);
	}
	pos = (vals + 9 * (size_t)n + 7) & ~(size_t)7;
	le(out + pos, pos - vals, 8);
	out[pos + 8] = (uint8_t)((9 << 2) | 3);
	out[pos + 9] = 8;
	return pos + 10;
}

enum { DET_N = 6, DET_C = 3, DET_OPTS = 11 };

static void det_options(fxb_entry o[DET_OPTS])
{
	static const fxb_entry def[DET_OPTS] = {
		{ "detections_per_class", 'i', 100 }, { "h_scale", 'f', 5 },
		{ "max_classes_per_detection", 'i', 1 }, { "max_detections", 'i', 4 },
		{ "nms_iou_threshold", 'f', 0.6 }, { "nms_score_threshold", 'f', 0.3 },
		{ "num_classes", 'i', DET_C }, { "use_regular_nms", 'b', 0 }, { "w_scale", 'f', 5 },
		{ "x_scale", 'f', 10 }, { "y_scale", 'f', 10 },
	};
	memcpy(o, def, sizeof def);
}

static void set_opt(fxb_entry *o, int n, const char *key, char kind, double v)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(o[i].key, key)) {
			o[i].kind = kind;
			o[i].v = v;
			return;
		}
	ck_abort_msg("no option %s", key);
}

/* Shape knobs of the detection model; dims of -1 mean "the default". */
typedef struct det_spec {
	int32_t boxes[3], scores[3], anchors[2];
	int anchors_const, anchors_type, out_type, nout;
	float anchor_nan_at; /* index of an anchor value set to NaN, or -1 */
	const uint8_t *opts;
	size_t opts_len;
	int no_options;
} det_spec;

static det_spec det_default(void)
{
	det_spec s = { { 1, DET_N, 4 }, { 1, DET_N, DET_C + 1 }, { DET_N, 4 }, 1, TFW_FLOAT32,
		       TFW_FLOAT32, 4, -1, NULL, 0, 0 };
	return s;
}

static uint8_t *det_model(const det_spec *s, size_t *n)
{
	uint8_t fx[1024];
	size_t fl = 0;
	if (!s->opts && !s->no_options) {
		fxb_entry o[DET_OPTS];
		det_options(o);
		fl = flexbuf_map(o, DET_OPTS, fx, sizeof fx);
	}
	tfw_model *m = lenient();
	int boxes = tfw_act(m, "boxes", TFW_UINT8, 3, s->boxes, 0.05f, 128);
	int scores = tfw_act(m, "scores", TFW_UINT8, 3, s->scores, 1.0f / 256, 0);
	size_t na = (size_t)s->anchors[0] * (size_t)s->anchors[1];
	int anc;
	if (s->anchors_const && s->anchors_type == TFW_FLOAT32) {
		float *a = calloc(na ? na : 1, sizeof *a);
		for (size_t i = 0; i < na; i++)
			a[i] = (i % 4) < 2 ? 0.5f : 0.1f;
		if (s->anchor_nan_at >= 0)
			a[(size_t)s->anchor_nan_at] = NAN;
		anc = tfw_const(m, "anchors", TFW_FLOAT32, 2, s->anchors, a, na * 4, 0, NULL, NULL, 0);
		free(a);
	} else if (s->anchors_const) {
		uint8_t *a = calloc(na ? na : 1, 1);
		float sc = INFINITY;
		int64_t z = 0;
		anc = tfw_const(m, "anchors", s->anchors_type, 2, s->anchors, a, na, 1, &sc, &z, 0);
		free(a);
	} else {
		anc = tfw_tensor(m, "anchors", TFW_FLOAT32, 2, s->anchors, 0, 0, NULL, NULL, 0);
	}
	int outs[4];
	static const char *names[4] = { "det_boxes", "det_classes", "det_scores", "num_det" };
	for (int i = 0; i < s->nout; i++)
		outs[i] = tfw_tensor(m, names[i], s->out_type, 0, NULL, 0, 0, NULL, NULL, 0);
	int ins[3] = { boxes, scores, anc }, gin[3] = { boxes, scores, anc };
	tfw_op_custom(m, "TFLite_Detection_PostProcess", ins, 3, outs, s->nout,
		      s->opts ? s->opts : (s->no_options ? NULL : fx),
		      s->opts ? s->opts_len : fl);
	tfw_set_io(m, gin, s->anchors_const ? 2 : 3, outs, s->nout);
	return fin(m, n);
}

/* Labels model: SOFTMAX with TFLITE_METADATA and a stored zip holding labels.txt. */
static uint8_t *metadata_model(size_t *n)
{
	/* ModelMetadata: M001, name, subgraph_metadata[0].output_tensor_metadata[0]
	 * .associated_files[0] {labels.txt, TENSOR_AXIS_LABELS}; hand-laid, forward offsets */
	static const uint8_t meta[] = {
		/* 0: root uoffset, identifier */
		20, 0, 0, 0, 'M', '0', '0', '1',
		/* 8: vtable of ModelMetadata: 4 fields */
		12, 0, 20, 0, 4, 0, 0, 0, 0, 0, 16, 0,
		/* 20: table (soffset 12), name, -, -, subgraph_metadata */
		12, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
		/* 40: string "labelled" */
		8, 0, 0, 0, 'l', 'a', 'b', 'e', 'l', 'l', 'e', 'd', 0, 0, 0, 0,
		/* 56: vector of 1 SubGraphMetadata */
		1, 0, 0, 0, 16, 0, 0, 0,
		/* 64: vtable: 4 fields, only field 3 (output_tensor_metadata) */
		12, 0, 20, 0, 0, 0, 0, 0, 0, 0, 16, 0,
		/* 76: table (soffset 12) */
		12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0,
		/* 96: vector of 1 TensorMetadata */
		1, 0, 0, 0, 24, 0, 0, 0,
		/* 104: vtable: 7 fields, only field 6 (associated_files) */
		18, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0,
		/* 124: table (soffset 20) */
		20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		4, 0, 0, 0,
		/* 156: vector of 1 AssociatedFile */
		1, 0, 0, 0, 16, 0, 0, 0,
		/* 164: vtable: 3 fields: name, -, type */
		10, 0, 16, 0, 4, 0, 0, 0, 12, 0, 0, 0,
		/* 176: table (soffset 12): name -> 192, -, type 2 */
		12, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
		/* 192: "labels.txt" */
		10, 0, 0, 0, 'l', 'a', 'b', 'e', 'l', 's', '.', 't', 'x', 't', 0, 0,
	};
	static const char labels[] = "a\nb\nc\n";
	static const int32_t d[2] = { 1, 3 };
	tfw_model *m = tfw_new();
	int in = tfw_act(m, "in", TFW_UINT8, 2, d, 0.1f, 128);
	int out = tfw_act(m, "out", TFW_UINT8, 2, d, 1.0f / 256, 0);
	tfw_op_softmax(m, in, out, 1.0f);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_add_metadata(m, "TFLITE_METADATA", meta, sizeof meta);
	size_t fl;
	uint8_t *fb = fin(m, &fl);
	size_t dl = sizeof labels - 1, nl = 10, zl = 30 + nl + dl + 46 + nl + 22;
	uint8_t *all = calloc(1, fl + zl), *z = all + fl;
	ck_assert_ptr_nonnull(all);
	memcpy(all, fb, fl);
	free(fb);
	le(z, 0x04034b50u, 4);
	le(z + 18, dl, 4);
	le(z + 22, dl, 4);
	le(z + 26, nl, 2);
	memcpy(z + 30, "labels.txt", nl);
	memcpy(z + 30 + nl, labels, dl);
	uint8_t *c = z + 30 + nl + dl;
	le(c, 0x02014b50u, 4);
	le(c + 20, dl, 4);
	le(c + 24, dl, 4);
	le(c + 28, nl, 2);
	memcpy(c + 46, "labels.txt", nl);
	uint8_t *e = c + 46 + nl;
	le(e, 0x06054b50u, 4);
	le(e + 8, 1, 2);
	le(e + 10, 1, 2);
	le(e + 12, 46 + nl, 4);
	le(e + 16, (uint64_t)(c - z), 4);
	*n = fl + zl;
	return all;
}

/* ------------------------------------------------------------------------------------ */
/* (a) Truncations                                                                       */

static void every_truncation(const uint8_t *p, size_t n, const char *name)
{
	for (size_t len = 0; len < n; len++) {
		mnv2_error err;
		uint8_t *copy;
		mnv2_model *m = load_copy(p, len, name, &err, &copy);
		ck_assert_msg(m == NULL, "%s cut to %zu of %zu bytes loaded", name, len, n);
		ck_assert_msg(err.msg[0] && strstr(err.msg, name),
			      "%s cut to %zu bytes: error \"%s\" does not name the model", name, len,
			      err.msg);
		free(copy);
	}
}

START_TEST(test_truncations_synthetic)
{
	static const enum synth_kind kinds[3] = { SYNTH_MNV2_UINT8, SYNTH_MNV2_INT8PC,
						  SYNTH_SSDLITE_HEAD };
	uint8_t *p = NULL;
	size_t n = 0;
	ck_assert_int_eq(synth_model(kinds[_i], 1, NULL, &p, &n), 0);
	expect_load(p, n, "synth.tflite");
	every_truncation(p, n, "synth.tflite");
	free(p);
}
END_TEST

START_TEST(test_truncations_small)
{
	size_t n;
	uint8_t *p = base_model(&n);
	expect_load(p, n, "base.tflite");
	every_truncation(p, n, "base.tflite");
	free(p);
	det_spec s = det_default();
	p = det_model(&s, &n);
	expect_load(p, n, "detect.tflite");
	every_truncation(p, n, "detect.tflite");
	free(p);
}
END_TEST

START_TEST(test_truncations_metadata)
{
	/* Cutting the appended zip leaves a valid model without labels; cutting into the
	 * FlatBuffer fails. */
	size_t n;
	uint8_t *p = metadata_model(&n);
	mnv2_error err;
	uint8_t *copy;
	mnv2_model *m = load_copy(p, n, "meta.tflite", &err, &copy);
	ck_assert_msg(m != NULL, "%s", err.msg);
	ck_assert_uint_eq(mnv2_model_num_labels(m), 3);
	ck_assert_str_eq(mnv2_model_label(m, 2), "c");
	ck_assert_str_eq(mnv2_model_metadata_name(m), "labelled");
	mnv2_model_free(m);
	free(copy);
	size_t loaded = 0;
	for (size_t len = 0; len < n; len++) {
		m = load_copy(p, len, "meta.tflite", &err, &copy);
		if (m) {
			loaded++;
			ck_assert_msg(mnv2_model_num_labels(m) == 0, "cut to %zu: %zu labels", len,
				      mnv2_model_num_labels(m));
			mnv2_model_free(m);
		} else {
			ck_assert(err.msg[0] != '\0');
		}
		free(copy);
	}
	free(p);
	ck_assert_uint_gt(loaded, 0);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* (b) Random mutations                                                                  */

enum { FLIPS_TOTAL = 20000 };
#define RUN_MAX_ARENA ((size_t)64 << 20)
#define RUN_MAX_MACS 50000000ull

typedef struct flip_stats {
	unsigned loaded, failed, ran, run_errors, skipped;
} flip_stats;

/* Where the constant data begins: mutations are biased to the structure before it. */
static size_t structure_end(const uint8_t *p, size_t n)
{
	mnv2_error err;
	mnv2_model *m = mnv2_model_load_buffer(p, n, "probe", 1, &err);
	ck_assert_msg(m != NULL, "%s", err.msg);
	size_t end = n;
	for (int i = 0; i < m->ntensors; i++)
		if (m->tensors[i].is_const && (size_t)(m->tensors[i].data - p) < end)
			end = (size_t)(m->tensors[i].data - p);
	mnv2_model_free(m);
	return end > 64 ? end : n;
}

static void use_model(const mnv2_model *m, flip_stats *st)
{
	mnv2_tensor_info ti;
	mnv2_op_info oi;
	for (int i = 0; i < mnv2_model_num_tensors(m); i++) {
		ck_assert_int_eq(mnv2_model_tensor_info(m, i, &ti), 0);
		ck_assert_ptr_nonnull(ti.name);
	}
	for (int i = 0; i < mnv2_model_num_ops(m); i++) {
		ck_assert_int_eq(mnv2_model_op_info(m, i, &oi), 0);
		ck_assert_ptr_nonnull(oi.name);
	}
	for (size_t i = 0; i < mnv2_model_num_labels(m); i++)
		ck_assert_ptr_nonnull(mnv2_model_label(m, i));
	if (mnv2_model_arena_bytes(m) > RUN_MAX_ARENA || mnv2_model_macs(m) > RUN_MAX_MACS) {
		st->skipped++;
		return;
	}
	mnv2_error err;
	err.msg[0] = '\0';
	mnv2_context *c = mnv2_context_create(m, &err);
	ck_assert_msg(c != NULL, "context: %s", err.msg);
	if (mnv2_context_run(c, &err) != 0) {
		ck_assert_msg(err.msg[0] != '\0', "a failed run left no message");
		st->run_errors++;
	}
	st->ran++;
	for (int i = 0; i < mnv2_model_num_outputs(m); i++) {
		size_t bytes;
		const uint8_t *o = mnv2_context_output(c, i, &bytes);
		ck_assert_ptr_nonnull(o);
		volatile uint8_t sink = 0;
		for (size_t k = 0; k < bytes; k++)
			sink ^= o[k];
		(void)sink;
	}
	mnv2_context_free(c);
}

static void mutate_and_load(const uint8_t *p, size_t n, const char *name, int iters,
			    uint32_t seed, flip_stats *st)
{
	static const uint8_t special[] = { 0x00, 0xff, 0x7f, 0x80, 0x01, 0x10, 0xfe, 0x04 };
	size_t head = structure_end(p, n);
	uint8_t *buf = malloc(n);
	ck_assert_ptr_nonnull(buf);
	for (int it = 0; it < iters; it++) {
		uint32_t s = seed * 2654435761u + (uint32_t)it * 40503u + 1;
		memcpy(buf, p, n);
		int flips = 1 + (int)(test_rand(&s) % 8);
		for (int f = 0; f < flips; f++) {
			uint32_t r = test_rand(&s);
			size_t pos = (r & 1) ? test_rand(&s) % n : test_rand(&s) % head;
			switch ((r >> 1) % 4) {
			case 0: buf[pos] ^= (uint8_t)(1u << ((r >> 3) % 8)); break;
			case 1: buf[pos] = (uint8_t)(test_rand(&s) >> 7); break;
			case 2: buf[pos] = special[(r >> 3) % sizeof special]; break;
			default: /* a whole little-endian word set to an interesting value */
				if (pos + 4 <= n)
					put32(buf + pos, (r >> 3) % 3 == 0 ? 0x7fffffffu :
							 (r >> 3) % 3 == 1 ? 0xffffffffu : 0x80000000u);
			}
		}
		mnv2_error err;
		uint8_t *copy;
		mnv2_model *m = load_copy(buf, n, name, &err, &copy);
		if (m) {
			st->loaded++;
			use_model(m, st);
			mnv2_model_free(m);
		} else {
			st->failed++;
			ck_assert_msg(err.msg[0] != '\0', "%s mutation %d: empty error", name, it);
		}
		free(copy);
	}
	free(buf);
}

START_TEST(test_mutations)
{
	/* 20000 mutations over five models, 4000 each */
	const int per = FLIPS_TOTAL / 5;
	flip_stats st = { 0, 0, 0, 0, 0 };
	uint8_t *p = NULL;
	size_t n = 0;
	if (_i < 3) {
		static const enum synth_kind kinds[3] = { SYNTH_MNV2_UINT8, SYNTH_MNV2_INT8PC,
							  SYNTH_SSDLITE_HEAD };
		ck_assert_int_eq(synth_model(kinds[_i], 1, NULL, &p, &n), 0);
	} else if (_i == 3) {
		det_spec s = det_default();
		p = det_model(&s, &n);
	} else {
		p = metadata_model(&n);
	}
	mutate_and_load(p, n, "mutant.tflite", per, (uint32_t)_i + 1, &st);
	free(p);
	/* both outcomes must occur, or the mutations are not reaching the parser */
	ck_assert_msg(st.failed > (unsigned)per / 20, "model %d: only %u of %d mutants rejected", _i,
		      st.failed, per);
	ck_assert_msg(st.loaded > 0, "model %d: no mutant loaded", _i);
	ck_assert_msg(st.skipped <= st.loaded / 10 + 1, "model %d: %u of %u loaded mutants too big to run",
		      _i, st.skipped, st.loaded);
	fprintf(stderr, "mutations, model %d: %u rejected, %u loaded (%u ran, %u run errors, "
		"%u skipped)\n", _i, st.failed, st.loaded, st.ran, st.run_errors, st.skipped);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* (c) Hostile files: structure                                                          */

/* Applies patch(p, l) to a fresh copy of the base model and expects the failure. */
typedef void (*patch_fn)(uint8_t *p, const tfl *l);

static void patched(patch_fn f, const char *name, ...)
{
	size_t n;
	uint8_t *p = base_model(&n);
	tfl l;
	tfl_open(&l, p, n);
	f(p, &l);
	va_list ap;
	va_start(ap, name);
	expect_fail_v(p, n, name, ap);
	va_end(ap);
	free(p);
}

static void p_root_offset(uint8_t *p, const tfl *l) { (void)l; put32(p, 0xfffffff0u); }
static void p_root_offset_end(uint8_t *p, const tfl *l) { put32(p, (uint32_t)l->b.size - 2); }
static void p_ident(uint8_t *p, const tfl *l) { (void)l; memcpy(p + 4, "TFL2", 4); }
static void p_version(uint8_t *p, const tfl *l) { put32(p + fpos(&l->model, TFL_MODEL_VERSION), 2); }
static void p_root_vtable_before(uint8_t *p, const tfl *l)
{
	put32(p + l->model.pos, (uint32_t)l->model.pos + 64); /* vtable before the file */
}
static void p_root_vtable_after(uint8_t *p, const tfl *l)
{
	put32(p + l->model.pos, (uint32_t)(int32_t)-(int32_t)(l->b.size - l->model.pos));
}
static void p_root_vtable_odd(uint8_t *p, const tfl *l) { put16(p + l->model.vt, 13); }
static void p_root_vtable_huge(uint8_t *p, const tfl *l) { put16(p + l->model.vt, 0xfffe); }
static void p_root_table_len(uint8_t *p, const tfl *l) { put16(p + l->model.vt + 2, 0xfff0); }
static void p_version_field_outside(uint8_t *p, const tfl *l)
{
	put16(p + l->model.vt + 4 + 2 * TFL_MODEL_VERSION, 0xff00);
}
static void p_subgraphs_offset(uint8_t *p, const tfl *l)
{
	put32(p + fpos(&l->model, TFL_MODEL_SUBGRAPHS), 0x7ffffff0u);
}
static void p_subgraphs_len_huge(uint8_t *p, const tfl *l) { put32(p + l->sgs.pos - 4, 0x7fffffffu); }
static void p_subgraphs_len0(uint8_t *p, const tfl *l) { put32(p + l->sgs.pos - 4, 0); }
static void p_subgraphs_len2(uint8_t *p, const tfl *l) { put32(p + l->sgs.pos - 4, 2); }
static void p_opcodes_offset(uint8_t *p, const tfl *l)
{
	put32(p + fpos(&l->model, TFL_MODEL_OPCODES), 0xfffffff0u);
}
static void p_buffers_offset(uint8_t *p, const tfl *l)
{
	put32(p + fpos(&l->model, TFL_MODEL_BUFFERS), (uint32_t)l->b.size);
}
static void p_tensors_len(uint8_t *p, const tfl *l) { put32(p + l->tensors.pos - 4, 0x7fffffffu); }
static void p_ops_len(uint8_t *p, const tfl *l) { put32(p + l->ops.pos - 4, 0x7fffffffu); }
static void p_ops_len0(uint8_t *p, const tfl *l) { put32(p + l->ops.pos - 4, 0); }
static void p_ops_self(uint8_t *p, const tfl *l)
{
	/* the subgraph's operators uoffset points at itself: a vector whose length is the
	 * offset (0) */
	put32(p + fpos(&l->sg, TFL_SUBGRAPH_OPERATORS), 0);
}
static void p_tensor_vtable(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 3);
	put32(p + t.pos, 0x80000000u);
}
static void p_tensor_self(uint8_t *p, const tfl *l)
{
	/* tensors[2]'s uoffset points at itself: soffset 0, vtable length 0 */
	put32(p + elem_pos(&l->tensors, 2), 0);
}
static void p_tensor_name_len(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 1);
	put32(p + target(p, fpos(&t, TFL_TENSOR_NAME)), 0x7fffffffu);
}
static void p_shape_len(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 0);
	put32(p + target(p, fpos(&t, TFL_TENSOR_SHAPE)), 0x7fffffffu);
}
static void p_shape_offset(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 0);
	put32(p + fpos(&t, TFL_TENSOR_SHAPE), 0xfffffffcu);
}
static void p_buffer_index(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 1);
	put32(p + fpos(&t, TFL_TENSOR_BUFFER), 99);
}
static void p_buffer_index_neg(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 1);
	put32(p + fpos(&t, TFL_TENSOR_BUFFER), 0xffffffffu);
}
static void p_buffer_data_len(uint8_t *p, const tfl *l)
{
	fb_table b = elem_table(&l->buffers, 1);
	put32(p + target(p, fpos(&b, TFL_BUFFER_DATA)), 0x7fffffffu);
}
static void p_buffer_data_short(uint8_t *p, const tfl *l)
{
	fb_table b = elem_table(&l->buffers, 1);
	put32(p + target(p, fpos(&b, TFL_BUFFER_DATA)), 5);
}
static void p_quant_offset(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 0);
	put32(p + fpos(&t, TFL_TENSOR_QUANT), 0x7ffffff0u);
}
static void p_quant_self(uint8_t *p, const tfl *l)
{
	fb_table t = elem_table(&l->tensors, 0);
	put32(p + fpos(&t, TFL_TENSOR_QUANT), 0);
}
static fb_table quant_of(const uint8_t *p, const tfl *l, uint32_t tensor)
{
	fb_table t = elem_table(&l->tensors, tensor), q;
	(void)p;
	ck_assert_int_eq(fb_get_table(&t, TFL_TENSOR_QUANT, &q), 1);
	return q;
}
static void p_scale_len(uint8_t *p, const tfl *l)
{
	fb_table q = quant_of(p, l, 0);
	put32(p + target(p, fpos(&q, TFL_QUANT_SCALE)), 0x40000000u);
}
static void p_scale_count(uint8_t *p, const tfl *l)
{
	/* tensor 4 [1,4,4,2]: 2 scales on dimension 0 (of size 1) */
	fb_table q = quant_of(p, l, 4);
	put32(p + target(p, fpos(&q, TFL_QUANT_SCALE)), 2);
	put32(p + target(p, fpos(&q, TFL_QUANT_ZERO_POINT)), 2);
}
static void p_zp_count(uint8_t *p, const tfl *l)
{
	fb_table q = quant_of(p, l, 3);
	put32(p + target(p, fpos(&q, TFL_QUANT_ZERO_POINT)), 2);
}
static void p_opcode_index(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 1);
	put32(p + fpos(&o, TFL_OP_OPCODE_INDEX), 5);
}
static void p_opcode_index_neg(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 0);
	put32(p + fpos(&o, TFL_OP_OPCODE_INDEX), 0xffffffffu);
}
static void p_options_type(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 0);
	p[fpos(&o, TFL_OP_OPTIONS_TYPE)] = TFL_OPT_POOL2D;
}
static void p_options_offset(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 0);
	put32(p + fpos(&o, TFL_OP_OPTIONS), 0xfffffff0u);
}
static void p_op_inputs_len(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 0);
	put32(p + target(p, fpos(&o, TFL_OP_INPUTS)), 0x7fffffffu);
}
static void p_op_inputs_17(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 0);
	put32(p + target(p, fpos(&o, TFL_OP_INPUTS)), 17);
}
static void p_op_input_99(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 0);
	put32(p + target(p, fpos(&o, TFL_OP_INPUTS)) + 4, 99);
}
static void p_op_input_neg(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 1);
	put32(p + target(p, fpos(&o, TFL_OP_INPUTS)) + 4, (uint32_t)-5);
}
static void p_op_output_neg1(uint8_t *p, const tfl *l)
{
	fb_table o = elem_table(&l->ops, 1);
	put32(p + target(p, fpos(&o, TFL_OP_OUTPUTS)) + 4, (uint32_t)-1);
}
static void p_ops_alias(uint8_t *p, const tfl *l)
{
	/* operators[1] points at operators[0]'s table: the same output written twice */
	size_t t0 = target(p, elem_pos(&l->ops, 0));
	put32(p + elem_pos(&l->ops, 1), (uint32_t)(t0 - elem_pos(&l->ops, 1)));
}
static void p_ops_swapped(uint8_t *p, const tfl *l)
{
	/* operators in the wrong order: LOGISTIC reads t1 before CONV_2D writes it */
	size_t t0 = target(p, elem_pos(&l->ops, 0)), t1 = target(p, elem_pos(&l->ops, 1));
	if (t0 < elem_pos(&l->ops, 1) || t1 < elem_pos(&l->ops, 0))
		ck_abort_msg("operator tables are expected after the vector");
	put32(p + elem_pos(&l->ops, 0), (uint32_t)(t1 - elem_pos(&l->ops, 0)));
	put32(p + elem_pos(&l->ops, 1), (uint32_t)(t0 - elem_pos(&l->ops, 1)));
}
static void p_graph_inputs0(uint8_t *p, const tfl *l) { put32(p + l->inputs.pos - 4, 0); }
static void p_graph_input_77(uint8_t *p, const tfl *l) { put32(p + l->inputs.pos, 77); }
static void p_graph_input_const(uint8_t *p, const tfl *l) { put32(p + l->inputs.pos, 1); }
static void p_opcode_table(uint8_t *p, const tfl *l)
{
	fb_table oc = elem_table(&l->opcodes, 0);
	put16(p + oc.vt, 3);
}

START_TEST(test_hostile_structure)
{
	patched(p_root_offset, "root-offset", "root table out of range", NULL);
	patched(p_root_offset_end, "root-offset-end", "root table out of range", NULL);
	patched(p_ident, "ident", "TFL3", NULL);
	patched(p_version, "version", "schema version 2", NULL);
	patched(p_root_vtable_before, "vtable-before", "root table out of range", NULL);
	patched(p_root_vtable_after, "vtable-after", "root table out of range", NULL);
	patched(p_root_vtable_odd, "vtable-odd", "root table out of range", NULL);
	patched(p_root_vtable_huge, "vtable-huge", "root table out of range", NULL);
	patched(p_root_table_len, "table-len", "root table out of range", NULL);
	patched(p_version_field_outside, "version-field", "schema version", NULL);
	patched(p_subgraphs_offset, "subgraphs-offset", "subgraphs vector lies outside", NULL);
	patched(p_subgraphs_len_huge, "subgraphs-huge", "subgraphs vector lies outside", NULL);
	patched(p_subgraphs_len0, "subgraphs-0", "0 subgraphs", NULL);
	patched(p_subgraphs_len2, "subgraphs-2", "2 subgraphs", NULL);
	patched(p_opcodes_offset, "opcodes-offset", "operator_codes vector lies outside", NULL);
	patched(p_opcode_table, "opcode-table", "operator code 0 is malformed", NULL);
	patched(p_buffers_offset, "buffers-offset", "buffers vector lies outside", NULL);
	patched(p_tensors_len, "tensors-huge", "subgraph 0 is malformed", NULL);
	patched(p_ops_len, "ops-huge", "subgraph 0 is malformed", NULL);
	patched(p_ops_len0, "ops-0", "0 operators", NULL);
	patched(p_ops_self, "ops-self", "0 operators", NULL);
	patched(p_tensor_vtable, "tensor-vtable", "tensor 3 is malformed", NULL);
	patched(p_tensor_self, "tensor-self", "tensor 2 is malformed", NULL);
	patched(p_tensor_name_len, "name-len", "tensor 1: name is malformed", NULL);
	patched(p_shape_len, "shape-len", "tensor 0 (in)", "shape", NULL);
	patched(p_shape_offset, "shape-offset", "tensor 0 (in)", "shape", NULL);
	patched(p_buffer_index, "buffer-99", "tensor 1 (w)", "buffer 99", NULL);
	patched(p_buffer_index_neg, "buffer-neg", "buffer 4294967295", NULL);
	patched(p_buffer_data_len, "buffer-huge", "buffer 1 is missing or malformed", NULL);
	patched(p_buffer_data_short, "buffer-short", "buffer holds 5 bytes, shape needs 6", NULL);
	patched(p_quant_offset, "quant-offset", "tensor 0", "quantization table is malformed", NULL);
	patched(p_quant_self, "quant-self", "tensor 0", "quantization table is malformed", NULL);
	patched(p_scale_len, "scale-huge", "tensor 0", "quantization vectors lie outside", NULL);
	patched(p_scale_count, "scale-count", "tensor 4 (out)", "2 per-channel scales", NULL);
	patched(p_zp_count, "zp-count", "tensor 3 (t1)", "1 scales but 2 zero points", NULL);
	patched(p_opcode_index, "opcode-5", "operator 1 uses operator code 5 of 2", NULL);
	patched(p_opcode_index_neg, "opcode-neg", "operator 0 uses operator code 4294967295", NULL);
	patched(p_options_type, "options-type", "operator 0 (CONV_2D)", "options of type 5, expected 1",
		NULL);
	patched(p_options_offset, "options-offset", "operator 0 (CONV_2D)", "options table", NULL);
	patched(p_op_inputs_len, "inputs-huge", "operator 0", "inputs vector lies outside", NULL);
	patched(p_op_inputs_17, "inputs-17", "operator 0", "17 inputs, at most 16", NULL);
	patched(p_op_input_99, "input-99", "operator 0", "refers to tensor 99 of 5", NULL);
	patched(p_op_input_neg, "input-neg", "operator 1", "refers to tensor -5", NULL);
	patched(p_op_output_neg1, "output-absent", "operator 1", "output 0", NULL);
	patched(p_ops_alias, "ops-alias", "operator 1", "already computed", NULL);
	patched(p_ops_swapped, "ops-swapped", "operator 0 (LOGISTIC)", "'t1' is not computed", NULL);
	patched(p_graph_inputs0, "inputs-0", "0 inputs", NULL);
	patched(p_graph_input_77, "input-77", "graph inputs 0 refers to tensor 77", NULL);
	patched(p_graph_input_const, "input-const", "graph input 'w' is a constant", NULL);
}
END_TEST

START_TEST(test_hostile_garbage)
{
	uint8_t b[256];
	memset(b, 0, sizeof b);
	expect_fail(b, 0, "empty", "empty", NULL);
	expect_fail(b, 7, "seven", "root table out of range", NULL);
	expect_fail(b, sizeof b, "zeros", "TFL3", NULL);
	memcpy(b + 4, "TFL3", 4);
	expect_fail(b, sizeof b, "zeros-ident", "root table out of range", NULL);
	memset(b, 0xff, sizeof b);
	memcpy(b + 4, "TFL3", 4);
	expect_fail(b, sizeof b, "ones", "root table out of range", NULL);
	/* a root table that is its own vtable: soffset 0 */
	memset(b, 0, sizeof b);
	put32(b, 8);
	memcpy(b + 4, "TFL3", 4);
	expect_fail(b, 16, "self-vtable", "root table out of range", NULL);
	/* the smallest well-formed root: an empty Model table (no version) */
	put32(b, 12);
	put16(b + 8, 4);
	put16(b + 10, 4);
	put32(b + 12, 4);
	expect_fail(b, 16, "empty-model", "schema version 0", NULL);
	/* random bytes with the right identifier */
	uint32_t s = 99;
	for (int k = 0; k < 200; k++) {
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (uint8_t)(test_rand(&s) >> 9);
		memcpy(b + 4, "TFL3", 4);
		put32(b, test_rand(&s) % 64);
		mnv2_error err;
		uint8_t *copy;
		mnv2_model *m = load_copy(b, sizeof b, "random", &err, &copy);
		ck_assert_msg(m == NULL, "random bytes loaded");
		ck_assert(err.msg[0] != '\0');
		free(copy);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* (c) Hostile files: tensors and the graph                                              */

/* One LOGISTIC over an activation of the given shape and type. */
static uint8_t *unary_shape(int type, int rank, const int32_t *dims, size_t *n)
{
	tfw_model *m = lenient();
	int in = tfw_act(m, "big", type, rank, dims, 0.1f, 0);
	int out = tfw_act(m, "out", type, rank, dims, 1.0f / 256, 0);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &in, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
	return fin(m, n);
}

START_TEST(test_hostile_shapes)
{
	size_t n;
	uint8_t *p;
	static const int32_t over4[4] = { 65536, 65536, 65536, 65536 };
	p = unary_shape(TFW_UINT8, 4, over4, &n);
	expect_fail(p, n, "overflow4", "tensor 0 (big)", "shape is too large", NULL);
	free(p);
	static const int32_t over2[2] = { 0x7fffffff, 0x7fffffff };
	p = unary_shape(TFW_UINT8, 2, over2, &n);
	expect_fail(p, n, "overflow2", "shape is too large", NULL);
	free(p);
	static const int32_t gib4[2] = { 32768, 32768 }; /* 1 GiB elements, 4 GiB of float */
	p = unary_shape(TFW_FLOAT32, 2, gib4, &n);
	expect_fail(p, n, "float-4gib", "too large", NULL);
	free(p);
	static const int32_t neg[3] = { 1, -4, 8 };
	p = unary_shape(TFW_UINT8, 3, neg, &n);
	expect_fail(p, n, "negative", "tensor 0 (big)", "dimension 1 is -4", NULL);
	free(p);
	static const int32_t minint[1] = { (int32_t)0x80000000u };
	p = unary_shape(TFW_UINT8, 1, minint, &n);
	expect_fail(p, n, "minint", "dimension 0 is -2147483648", NULL);
	free(p);
	static const int32_t rank7[7] = { 1, 1, 1, 1, 1, 1, 2 };
	p = unary_shape(TFW_UINT8, 7, rank7, &n);
	expect_fail(p, n, "rank7", "rank 7 exceeds 6", NULL);
	free(p);
	static const int32_t rank16[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2 };
	p = unary_shape(TFW_UINT8, 16, rank16, &n);
	expect_fail(p, n, "rank16", "rank 16 exceeds 6", NULL);
	free(p);
}
END_TEST

START_TEST(test_hostile_arena)
{
	/* 1 GiB activations: t0, t1 and t2 = ADD(t0, t1) are live together: 3 GiB */
	static const int32_t d[2] = { 1, 1 << 30 };
	tfw_model *m = lenient();
	int t0 = tfw_act(m, "t0", TFW_UINT8, 2, d, 0.1f, 0);
	int t1 = tfw_act(m, "t1", TFW_UINT8, 2, d, 1.0f / 256, 0);
	int t2 = tfw_act(m, "t2", TFW_UINT8, 2, d, 0.1f, 0);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, &t1, 1);
	tfw_op_add(m, t0, t1, t2, TFW_ACT_NONE);
	tfw_set_io(m, &t0, 1, &t2, 1);
	tfw_expect_fail(m, "arena", "activations need more than", NULL);
}
END_TEST

START_TEST(test_hostile_buffers)
{
	static const int32_t d[2] = { 1, 8 }, dw[2] = { 4, 8 }, db[1] = { 4 };
	static const uint8_t w[40] = { 0 };
	static const int32_t b[4] = { 0 };
	static const float s = 0.01f;
	static const int64_t z = 0;
	/* weights buffer too small and too large for [4,8] */
	for (int k = 0; k < 2; k++) {
		tfw_model *m = lenient();
		int in = tfw_act(m, "in", TFW_UINT8, 2, d, 0.1f, 0);
		int wt = tfw_const(m, "w", TFW_UINT8, 2, dw, w, k ? 40 : 31, 1, &s, &z, 0);
		int bt = tfw_const(m, "b", TFW_INT32, 1, db, b, sizeof b, 1, &s, &z, 0);
		int32_t dout[2] = { 1, 4 };
		int out = tfw_act(m, "out", TFW_UINT8, 2, dout, 0.1f, 0);
		tfw_op_fc(m, in, wt, bt, out, TFW_ACT_NONE, 0);
		tfw_set_io(m, &in, 1, &out, 1);
		tfw_expect_fail(m, k ? "buf-large" : "buf-small", "tensor 1 (w)",
				k ? "buffer holds 40 bytes, shape needs 32" :
				    "buffer holds 31 bytes, shape needs 32", NULL);
	}
	/* a buffer shared by a small and a large tensor */
	tfw_model *m = lenient();
	int in = tfw_act(m, "in", TFW_UINT8, 2, d, 0.1f, 0);
	int wt = tfw_const(m, "w", TFW_UINT8, 2, dw, w, 32, 1, &s, &z, 0);
	int32_t big[2] = { 8, 8 };
	int other = tfw_tensor(m, "alias", TFW_UINT8, 2, big, 1 /* w's buffer */, 1, &s, &z, 0);
	int out = tfw_act(m, "out", TFW_UINT8, 2, d, 1.0f / 256, 0);
	(void)wt;
	(void)other;
	tfw_op_simple(m, TFW_OP_LOGISTIC, &in, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "buf-shared", "tensor 2 (alias)", "buffer holds 32 bytes, shape needs 64",
			NULL);
}
END_TEST

/* Graph-level mistakes around one LOGISTIC: t0 (input) -> t1; t2 a constant. */
START_TEST(test_hostile_dataflow)
{
	static const int32_t d[2] = { 1, 8 };
	static const uint8_t c[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const float s = 0.1f;
	static const int64_t z = 0;
	for (int k = 0; k < 7; k++) {
		tfw_model *m = lenient();
		int t0 = tfw_act(m, "t0", TFW_UINT8, 2, d, 0.1f, 0);
		int t1 = tfw_act(m, "t1", TFW_UINT8, 2, d, 1.0f / 256, 0);
		int t2 = tfw_const(m, "t2", TFW_UINT8, 2, d, c, sizeof c, 1, &s, &z, 0);
		int t3 = tfw_act(m, "t3", TFW_UINT8, 2, d, 0.1f, 0);
		int t4 = tfw_act(m, "t4", TFW_UINT8, 2, d, 1.0f / 256, 0);
		switch (k) {
		case 0: /* reads t3, which nothing produces */
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t3, 1, &t1, 1);
			tfw_set_io(m, &t0, 1, &t1, 1);
			tfw_expect_fail(m, "unproduced", "operator 0 (LOGISTIC)", "'t3' is not computed",
					NULL);
			break;
		case 1: /* writes the constant t2 */
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, &t2, 1);
			tfw_set_io(m, &t0, 1, &t2, 1);
			tfw_expect_fail(m, "write-const", "operator 0", "output 0 is a constant", NULL);
			break;
		case 2: /* two ops write t1 */
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, &t1, 1);
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, &t1, 1);
			tfw_set_io(m, &t0, 1, &t1, 1);
			tfw_expect_fail(m, "double-write", "operator 1", "already computed", NULL);
			break;
		case 3: /* the graph input is a constant */
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t2, 1, &t1, 1);
			tfw_set_io(m, &t2, 1, &t1, 1);
			tfw_expect_fail(m, "const-input", "graph input 't2' is a constant", NULL);
			break;
		case 4: /* a graph output nothing computes */
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, &t1, 1);
			tfw_set_io(m, &t0, 1, &t4, 1);
			tfw_expect_fail(m, "dangling-output", "graph output 't4' is never computed", NULL);
			break;
		case 5: /* an op writes the graph input */
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t3, 1, &t0, 1);
			tfw_set_io(m, &t3, 1, &t0, 1);
			tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, &t3, 1);
			tfw_expect_fail(m, "cycle", "operator 1", "already computed", NULL);
			break;
		default: { /* in-place: an op reading and writing the same tensor */
			int io[1] = { t0 };
			tfw_op_simple(m, TFW_OP_LOGISTIC, io, 1, io, 1);
			tfw_set_io(m, &t0, 1, &t0, 1);
			tfw_expect_fail(m, "in-place", "operator 0", "already computed", NULL);
		}
		}
	}
	/* tensor indices out of range in an op and in the graph */
	tfw_model *m = lenient();
	int t0 = tfw_act(m, "t0", TFW_UINT8, 2, d, 0.1f, 0);
	int t1 = tfw_act(m, "t1", TFW_UINT8, 2, d, 1.0f / 256, 0);
	int bad[1] = { 1000 };
	tfw_op_simple(m, TFW_OP_LOGISTIC, bad, 1, &t1, 1);
	tfw_set_io(m, &t0, 1, &t1, 1);
	tfw_expect_fail(m, "op-index", "operator 0", "refers to tensor 1000 of 2", NULL);
	m = lenient();
	t0 = tfw_act(m, "t0", TFW_UINT8, 2, d, 0.1f, 0);
	t1 = tfw_act(m, "t1", TFW_UINT8, 2, d, 1.0f / 256, 0);
	int neg[1] = { -2 };
	tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, neg, 1);
	tfw_set_io(m, &t0, 1, &t1, 1);
	tfw_expect_fail(m, "op-index-neg", "operator 0", "refers to tensor -2", NULL);
	m = lenient();
	t0 = tfw_act(m, "t0", TFW_UINT8, 2, d, 0.1f, 0);
	t1 = tfw_act(m, "t1", TFW_UINT8, 2, d, 1.0f / 256, 0);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, &t1, 1);
	int gout[1] = { 2 };
	tfw_set_io(m, &t0, 1, gout, 1);
	tfw_expect_fail(m, "graph-index", "graph outputs 0 refers to tensor 2 of 2", NULL);
	/* too many inputs for an operator, and an operator with no outputs */
	m = lenient();
	int ins[17];
	for (int i = 0; i < 17; i++)
		ins[i] = tfw_act(m, "x", TFW_UINT8, 2, d, 0.1f, 0);
	int cat = tfw_act(m, "cat", TFW_UINT8, 2, d, 0.1f, 0);
	tfw_op_concat(m, ins, 17, cat, 1, TFW_ACT_NONE);
	tfw_set_io(m, ins, 1, &cat, 1);
	tfw_expect_fail(m, "17-inputs", "operator 0", "17 inputs, at most 16", NULL);
	m = lenient();
	t0 = tfw_act(m, "t0", TFW_UINT8, 2, d, 0.1f, 0);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &t0, 1, NULL, 0);
	tfw_set_io(m, &t0, 1, &t0, 1);
	tfw_expect_fail(m, "no-outputs", "operator 0 (LOGISTIC)", "0 outputs", NULL);
}
END_TEST

START_TEST(test_hostile_counts)
{
	/* one more tensor than the limit: rejected before anything is allocated per tensor */
	static const int32_t d[1] = { 1 };
	tfw_model *m = lenient();
	for (int i = 0; i <= MNV2_MAX_TENSORS; i++)
		tfw_tensor(m, "", TFW_UINT8, 1, d, 0, 0, NULL, NULL, 0);
	int a = 0, b = 1;
	tfw_op_simple(m, TFW_OP_LOGISTIC, &a, 1, &b, 1);
	tfw_set_io(m, &a, 1, &b, 1);
	tfw_expect_fail(m, "tensors", "100001 tensors", NULL);
	/* too many operators */
	m = lenient();
	a = tfw_act(m, "a", TFW_UINT8, 1, d, 0.1f, 0);
	b = tfw_act(m, "b", TFW_UINT8, 1, d, 1.0f / 256, 0);
	for (int i = 0; i <= MNV2_MAX_OPS; i++)
		tfw_op_simple(m, TFW_OP_LOGISTIC, &a, 1, &b, 1);
	tfw_set_io(m, &a, 1, &b, 1);
	tfw_expect_fail(m, "ops", "100001 operators", NULL);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* (c) Hostile files: quantization and operator parameters                               */

typedef struct conv_spec {
	int type, wtype;
	int32_t in[4], w[4], out[4];
	float in_s, w_s, out_s;
	int64_t in_zp, w_zp, out_zp;
	int nscales, qdim;
	const float *wscales;
	const int64_t *wzps;
	int padding, stride_w, stride_h, act, dil, depthwise, depth_mult;
	int bias_type, bias_len, w_const;
} conv_spec;

static conv_spec conv_default(void)
{
	conv_spec s = { TFW_UINT8, TFW_UINT8, { 1, 8, 8, 4 }, { 6, 3, 3, 4 }, { 1, 8, 8, 6 },
			0.05f, 0.01f, 0.1f, 128, 127, 100, 1, 0, NULL, NULL,
			TFW_PAD_SAME, 1, 1, TFW_ACT_NONE, 1, 0, 1, TFW_INT32, 6, 1 };
	return s;
}

static uint8_t *conv_build(const conv_spec *s, size_t *n)
{
	tfw_model *m = lenient();
	int in = tfw_act(m, "in", s->type, 4, s->in, s->in_s, s->in_zp);
	size_t wn = (size_t)s->w[0] * s->w[1] * s->w[2] * s->w[3];
	uint8_t *w = calloc(wn ? wn : 1, 1);
	int wt;
	if (!s->w_const) {
		wt = tfw_act(m, "w", s->wtype, 4, s->w, s->w_s, s->w_zp);
	} else if (s->nscales > 1) {
		wt = tfw_const(m, "w", s->wtype, 4, s->w, w, wn, s->nscales, s->wscales, s->wzps, s->qdim);
	} else {
		wt = tfw_const(m, "w", s->wtype, 4, s->w, w, wn, 1, &s->w_s, &s->w_zp, 0);
	}
	free(w);
	int32_t bd[1] = { s->bias_len };
	int32_t bias[64] = { 0 };
	float bs = s->in_s * s->w_s;
	int64_t bz = 0;
	int bt = tfw_const(m, "b", s->bias_type, 1, bd, bias,
			   (size_t)s->bias_len * (s->bias_type == TFW_INT64 ? 8 : 4), 1, &bs, &bz, 0);
	int out = tfw_act(m, "out", s->type, 4, s->out, s->out_s, s->out_zp);
	if (s->depthwise)
		tfw_op_dwconv2d(m, in, wt, bt, out, s->padding, s->stride_w, s->stride_h,
				s->depth_mult, s->act, s->dil, s->dil);
	else
		tfw_op_conv2d(m, in, wt, bt, out, s->padding, s->stride_w, s->stride_h, s->act, s->dil,
			      s->dil);
	int gin[2] = { in, wt };
	tfw_set_io(m, gin, s->w_const ? 1 : 2, &out, 1);
	return fin(m, n);
}

static void conv_expect(const conv_spec *s, const char *name, ...)
{
	size_t n;
	uint8_t *p = conv_build(s, &n);
	va_list ap;
	va_start(ap, name);
	expect_fail_v(p, n, name, ap);
	va_end(ap);
	free(p);
}

START_TEST(test_hostile_conv)
{
	conv_spec s = conv_default();
	{ /* sanity: the default loads */
		size_t n;
		uint8_t *p = conv_build(&s, &n);
		expect_load(p, n, "conv-ok");
		free(p);
	}
	s.stride_w = 0;
	conv_expect(&s, "stride0", "operator 0 (CONV_2D)", "stride 0", "out of range", NULL);
	s = conv_default();
	s.stride_h = -3;
	conv_expect(&s, "stride-neg", "stride -3", NULL);
	s = conv_default();
	s.stride_w = s.stride_h = 1 << 20;
	s.out[1] = s.out[2] = 1;
	conv_expect(&s, "stride-huge", "stride 1048576", "out of range", NULL);
	s = conv_default();
	s.dil = 0;
	conv_expect(&s, "dilation0", "dilation 0", NULL);
	s = conv_default();
	s.padding = TFW_PAD_VALID;
	s.w[1] = s.w[2] = 9; /* 9x9 kernel on 8x8 */
	conv_expect(&s, "kernel-too-big", "input extent 8 is smaller than the kernel extent 9", NULL);
	s = conv_default();
	s.padding = 7;
	conv_expect(&s, "padding7", "padding type 7", NULL);
	s = conv_default();
	s.act = TFW_ACT_TANH;
	conv_expect(&s, "act-tanh", "fused activation 4", NULL);
	s = conv_default();
	s.w[3] = 5;
	conv_expect(&s, "channels", "weights 'w' have 5 input channels, the input has 4", NULL);
	s = conv_default();
	s.out[3] = 7;
	conv_expect(&s, "out-shape", "tensor 'out' has shape [1,8,8,7], expected [1,8,8,6]", NULL);
	s = conv_default();
	s.w_const = 0;
	conv_expect(&s, "weights-act", "weights 'w' are not constant", NULL);
	s = conv_default();
	s.bias_type = TFW_FLOAT32;
	conv_expect(&s, "bias-float", "bias 'b' must be a constant int32 vector of 6 values", NULL);
	s = conv_default();
	s.bias_len = 5;
	conv_expect(&s, "bias-len", "bias 'b'", NULL);
	s = conv_default();
	s.wtype = TFW_INT8;
	s.w_zp = 0;
	conv_expect(&s, "mixed-types", "must have the same type", NULL);
	s = conv_default();
	s.in[0] = 1;
	s.in[3] = 4;
	{ /* input of rank 3 */
		tfw_model *m = lenient();
		int32_t d3[3] = { 8, 8, 4 };
		static const uint8_t w[6 * 9 * 4] = { 0 };
		int in = tfw_act(m, "in", TFW_UINT8, 3, d3, 0.1f, 0);
		float ws = 0.01f;
		int64_t z = 0;
		int wt = tfw_const(m, "w", TFW_UINT8, 4, s.w, w, sizeof w, 1, &ws, &z, 0);
		int out = tfw_act(m, "out", TFW_UINT8, 4, s.out, 0.1f, 0);
		tfw_op_conv2d(m, in, wt, -1, out, TFW_PAD_SAME, 1, 1, 0, 1, 1);
		tfw_set_io(m, &in, 1, &out, 1);
		tfw_expect_fail(m, "rank3", "must be 4-D", NULL);
	}
	/* per-channel quantization */
	static const float sc3[3] = { 0.01f, 0.02f, 0.03f }, sc6[6] = { 0.01f, 0.02f, 0.03f, 0.01f,
									 0.02f, 0.03f };
	static const float sc4[4] = { 0.01f, 0.02f, 0.03f, 0.04f };
	static const int64_t zp6[6] = { 0, 0, 3, 0, 0, 0 };
	s = conv_default();
	s.nscales = 3;
	s.qdim = 0;
	s.wscales = sc3;
	conv_expect(&s, "pc-count", "tensor 1 (w)", "3 per-channel scales do not match dimension 0",
		    NULL);
	s = conv_default();
	s.nscales = 4;
	s.qdim = 3;
	s.wscales = sc4;
	conv_expect(&s, "pc-axis", "weights 'w' have 4 scales on axis 3, expected 6 on axis 0", NULL);
	s = conv_default();
	s.nscales = 6;
	s.qdim = 0;
	s.wscales = sc6;
	s.wzps = zp6;
	conv_expect(&s, "pc-asymmetric", "zero point 3 in channel 2", NULL);
	s = conv_default();
	s.nscales = 6;
	s.qdim = 9;
	s.wscales = sc6;
	conv_expect(&s, "pc-dim", "do not match dimension 9", NULL);
	/* scales */
	static const float bad_scales[] = { 0.0f, -0.5f, NAN, INFINITY, -INFINITY, 1e31f };
	static const char *bad_names[] = { "is 0,", "is -0.5", "is nan", "is inf", "is -inf",
					   "is 1e+31" };
	for (size_t i = 0; i < sizeof bad_scales / sizeof bad_scales[0]; i++) {
		char name[32];
		s = conv_default();
		s.in_s = bad_scales[i];
		snprintf(name, sizeof name, "in-scale-%zu", i);
		conv_expect(&s, name, "tensor 0 (in)", bad_names[i], "not a positive finite number",
			    NULL);
		s = conv_default();
		s.w_s = bad_scales[i];
		snprintf(name, sizeof name, "w-scale-%zu", i);
		conv_expect(&s, name, "tensor 1 (w)", "not a positive finite number", NULL);
	}
	/* zero points */
	s = conv_default();
	s.in_zp = 256;
	conv_expect(&s, "zp-256", "input tensor 'in' has zero point 256 outside", NULL);
	s = conv_default();
	s.out_zp = -1;
	conv_expect(&s, "zp-neg", "output tensor 'out' has zero point -1 outside", NULL);
	s = conv_default();
	s.type = s.wtype = TFW_INT8;
	s.w_zp = 0;
	s.in_zp = 128;
	conv_expect(&s, "zp-int8", "zero point 128 outside", NULL);
	s = conv_default();
	s.w_zp = (int64_t)1 << 40;
	conv_expect(&s, "zp-2^40", "zero point 1099511627776 out of range", NULL);
	s = conv_default();
	s.w_zp = -1;
	conv_expect(&s, "zp-w-neg", "weights tensor 'w' has zero point -1", NULL);
	/* depthwise */
	s = conv_default();
	s.depthwise = 1;
	s.w[0] = 1;
	s.w[3] = 8;
	s.out[3] = 8;
	s.bias_len = 8;
	s.depth_mult = 3;
	conv_expect(&s, "dw-mult", "operator 0 (DEPTHWISE_CONV_2D)", "depth multiplier 3", NULL);
	s.depth_mult = 0;
	conv_expect(&s, "dw-mult0", "depth multiplier 0", NULL);
	s.depth_mult = 2;
	s.w[0] = 2;
	conv_expect(&s, "dw-w0", "do not fit", NULL);
}
END_TEST

START_TEST(test_hostile_ops)
{
	static const int32_t d4[4] = { 1, 4, 4, 8 }, d2[2] = { 1, 8 };
	tfw_model *m;
	int in, out, t;
	/* MEAN over unsupported axes, non-constant axes, int64 axes */
	static const int32_t ax03[2] = { 0, 3 }, ax1[1] = { 1 }, dax[1] = { 2 }, dax1[1] = { 1 };
	static const int32_t dmo[4] = { 1, 1, 1, 8 };
	for (int k = 0; k < 3; k++) {
		m = lenient();
		in = tfw_act(m, "in", TFW_UINT8, 4, d4, 0.1f, 0);
		if (k == 0)
			t = tfw_const(m, "axes", TFW_INT32, 1, dax, ax03, 8, 0, NULL, NULL, 0);
		else if (k == 1)
			t = tfw_const(m, "axes", TFW_INT32, 1, dax1, ax1, 4, 0, NULL, NULL, 0);
		else
			t = tfw_act(m, "axes", TFW_INT32, 1, dax, 1.0f, 0);
		out = tfw_act(m, "out", TFW_UINT8, 4, dmo, 0.1f, 0);
		tfw_op_mean(m, in, t, out, 1);
		int gin[2] = { in, t };
		tfw_set_io(m, gin, k == 2 ? 2 : 1, &out, 1);
		tfw_expect_fail(m, "mean", "operator 0 (MEAN)", "only MEAN over axes [1,2]", NULL);
	}
	/* SOFTMAX beta */
	static const float betas[] = { 0.0f, -1.0f, NAN, INFINITY, 1e7f };
	for (size_t k = 0; k < sizeof betas / sizeof betas[0]; k++) {
		m = lenient();
		in = tfw_act(m, "in", TFW_UINT8, 2, d2, 0.1f, 0);
		out = tfw_act(m, "out", TFW_UINT8, 2, d2, 1.0f / 256, 0);
		tfw_op_softmax(m, in, out, betas[k]);
		tfw_set_io(m, &in, 1, &out, 1);
		tfw_expect_fail(m, "softmax", "operator 0 (SOFTMAX)", "beta", "not supported", NULL);
	}
	/* ADD: shapes that do not broadcast, scale ratio out of range, rank 5 */
	static const int32_t d3a[2] = { 1, 3 }, d5[5] = { 1, 1, 1, 1, 8 };
	m = lenient();
	in = tfw_act(m, "a", TFW_UINT8, 2, d2, 0.1f, 0);
	t = tfw_act(m, "b", TFW_UINT8, 2, d3a, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 2, d2, 0.1f, 0);
	tfw_op_add(m, in, t, out, 0);
	int ab[2] = { in, t };
	tfw_set_io(m, ab, 2, &out, 1);
	tfw_expect_fail(m, "add-shapes", "operator 0 (ADD)", "do not broadcast", NULL);
	m = lenient();
	in = tfw_act(m, "a", TFW_UINT8, 2, d2, 0.1f, 0);
	t = tfw_act(m, "b", TFW_UINT8, 2, d2, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 2, d2, 1000.0f, 0);
	tfw_op_add(m, in, t, out, 0);
	tfw_set_io(m, ab, 2, &out, 1);
	tfw_expect_fail(m, "add-ratio", "scale ratios", NULL);
	m = lenient();
	in = tfw_act(m, "a", TFW_UINT8, 5, d5, 0.1f, 0);
	t = tfw_act(m, "b", TFW_UINT8, 5, d5, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 5, d5, 0.1f, 0);
	tfw_op_add(m, in, t, out, 0);
	tfw_set_io(m, ab, 2, &out, 1);
	tfw_expect_fail(m, "add-rank5", "rank above 4", NULL);
	/* CONCATENATION: axis out of range, dimension mismatch, fused activation */
	static const int32_t dc[2] = { 1, 16 }, dbad[2] = { 2, 8 };
	for (int k = 0; k < 4; k++) {
		m = lenient();
		in = tfw_act(m, "a", TFW_UINT8, 2, d2, 0.1f, 0);
		t = tfw_act(m, "b", TFW_UINT8, 2, k == 1 ? dbad : d2, 0.1f, 0);
		out = tfw_act(m, "out", TFW_UINT8, 2, dc, 0.1f, 0);
		int axis = k == 0 ? 2 : k == 3 ? -3 : 1;
		tfw_op_concat(m, ab, 2, out, axis, k == 2 ? TFW_ACT_RELU : TFW_ACT_NONE);
		tfw_set_io(m, ab, 2, &out, 1);
		static const char *want[4] = { "axis 2 is outside", "differs from the output in dimension 0",
					       "fused activation", "axis -3 is outside" };
		tfw_expect_fail(m, "concat", "operator 0 (CONCATENATION)", want[k], NULL);
	}
	/* PAD: negative, huge, non-constant paddings, wrong count */
	static const int32_t pneg[4] = { 0, 0, -1, 0 }, phuge[4] = { 0, 0, 0, 1 << 21 };
	static const int32_t pcount[2] = { 0, 1 }, dp[2] = { 2, 2 }, dp1[2] = { 1, 2 };
	for (int k = 0; k < 4; k++) {
		m = lenient();
		in = tfw_act(m, "in", TFW_UINT8, 2, d2, 0.1f, 0);
		if (k == 0)
			t = tfw_const(m, "pads", TFW_INT32, 2, dp, pneg, 16, 0, NULL, NULL, 0);
		else if (k == 1)
			t = tfw_const(m, "pads", TFW_INT32, 2, dp, phuge, 16, 0, NULL, NULL, 0);
		else if (k == 2)
			t = tfw_act(m, "pads", TFW_INT32, 2, dp, 1.0f, 0);
		else
			t = tfw_const(m, "pads", TFW_INT32, 2, dp1, pcount, 8, 0, NULL, NULL, 0);
		out = tfw_act(m, "out", TFW_UINT8, 2, d2, 0.1f, 0);
		int pin[2] = { in, t };
		tfw_op_simple(m, TFW_OP_PAD, pin, 2, &out, 1);
		tfw_set_io(m, pin, k == 2 ? 2 : 1, &out, 1);
		static const char *want[4] = { "padding -1 is not supported",
					       "padding 2097152 is not supported",
					       "must be a constant", "must be a constant" };
		tfw_expect_fail(m, "pad", "operator 0 (PAD)", want[k], NULL);
	}
	/* RESHAPE element count; QUANTIZE from a constant float; DEQUANTIZE to uint8 */
	static const int32_t d13[2] = { 1, 13 };
	m = lenient();
	in = tfw_act(m, "in", TFW_UINT8, 2, d2, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 2, d13, 0.1f, 0);
	tfw_op_reshape(m, in, -1, out, d13, 2);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "reshape", "operator 0 (RESHAPE)", "has 13 elements", NULL);
	static const float f8[8] = { 0 };
	m = lenient();
	in = tfw_const(m, "in", TFW_FLOAT32, 2, d2, f8, sizeof f8, 0, NULL, NULL, 0);
	t = tfw_act(m, "x", TFW_UINT8, 2, d2, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 2, d2, 0.1f, 0);
	tfw_op_simple(m, TFW_OP_QUANTIZE, &in, 1, &out, 1);
	tfw_set_io(m, &t, 1, &out, 1);
	tfw_expect_fail(m, "quant-const", "operator 0 (QUANTIZE)", "constant float input", NULL);
	m = lenient();
	in = tfw_act(m, "in", TFW_UINT8, 2, d2, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 2, d2, 0.1f, 0);
	tfw_op_simple(m, TFW_OP_DEQUANTIZE, &in, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "dequant", "operator 0 (DEQUANTIZE)", "must be float32", NULL);
	/* pooling: filter 0, a window over 2^20 elements */
	static const int32_t dpo[4] = { 1, 2, 2, 8 };
	m = lenient();
	in = tfw_act(m, "in", TFW_UINT8, 4, d4, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 4, dpo, 0.1f, 0);
	tfw_op_pool(m, TFW_OP_MAX_POOL_2D, in, out, TFW_PAD_VALID, 2, 2, 0, 2, 0);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "pool-k0", "operator 0 (MAX_POOL_2D)", "kernel 0", NULL);
	m = lenient();
	in = tfw_act(m, "in", TFW_UINT8, 4, d4, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 4, dpo, 0.1f, 0);
	tfw_op_pool(m, TFW_OP_AVERAGE_POOL_2D, in, out, TFW_PAD_SAME, 2, 2, 2048, 2048, 0);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "pool-window", "pooling window 2048x2048 is too large", NULL);
	/* FULLY_CONNECTED: rank-3 weights, depth not dividing the input */
	static const int32_t dw3[3] = { 4, 2, 4 }, dw5[2] = { 4, 5 }, dfo[2] = { 1, 4 };
	static const uint8_t wz[40] = { 0 };
	static const float ws = 0.01f;
	static const int64_t wzp = 0;
	for (int k = 0; k < 2; k++) {
		m = lenient();
		in = tfw_act(m, "in", TFW_UINT8, 2, d2, 0.1f, 0);
		t = tfw_const(m, "w", TFW_UINT8, k ? 2 : 3, k ? dw5 : dw3, wz, k ? 20 : 32, 1, &ws,
			      &wzp, 0);
		out = tfw_act(m, "out", TFW_UINT8, 2, dfo, 0.1f, 0);
		tfw_op_fc(m, in, t, -1, out, 0, 0);
		tfw_set_io(m, &in, 1, &out, 1);
		tfw_expect_fail(m, "fc", "operator 0 (FULLY_CONNECTED)", "must be [units, depth]", NULL);
	}
	/* LOGISTIC output shape differs; type differs; a float input */
	static const int32_t d9[2] = { 1, 9 };
	for (int k = 0; k < 3; k++) {
		m = lenient();
		in = tfw_act(m, "in", k == 2 ? TFW_FLOAT32 : TFW_UINT8, 2, d2, 0.1f, 0);
		out = tfw_act(m, "out", k == 1 ? TFW_INT8 : TFW_UINT8, 2, k == 0 ? d9 : d2,
			      1.0f / 256, 0);
		tfw_op_simple(m, TFW_OP_LOGISTIC, &in, 1, &out, 1);
		tfw_set_io(m, &in, 1, &out, 1);
		static const char *want[3] = { "has shape [1,9], expected [1,8]",
					       "must have the same type", "is float32" };
		tfw_expect_fail(m, "logistic", "operator 0 (LOGISTIC)", want[k], NULL);
	}
	/* an activation without quantization parameters */
	m = lenient();
	in = tfw_tensor(m, "in", TFW_UINT8, 2, d2, 0, 0, NULL, NULL, 0);
	out = tfw_act(m, "out", TFW_UINT8, 2, d2, 1.0f / 256, 0);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &in, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "no-quant", "input tensor 'in' has no quantization parameters", NULL);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* (c) Hostile files: TFLite_Detection_PostProcess                                       */

static void det_expect(const det_spec *s, const char *name, ...)
{
	size_t n;
	uint8_t *p = det_model(s, &n);
	va_list ap;
	va_start(ap, name);
	expect_fail_v(p, n, name, ap);
	va_end(ap);
	free(p);
}

static void det_opt_expect(const char *key, char kind, double v, const char *name,
			   const char *want)
{
	fxb_entry o[DET_OPTS];
	uint8_t fx[1024];
	det_options(o);
	set_opt(o, DET_OPTS, key, kind, v);
	det_spec s = det_default();
	s.opts = fx;
	s.opts_len = flexbuf_map(o, DET_OPTS, fx, sizeof fx);
	det_expect(&s, name, "operator 0 (TFLite_Detection_PostProcess)", want, NULL);
}

START_TEST(test_hostile_detect)
{
	det_spec s = det_default();
	{
		size_t n;
		uint8_t *p = det_model(&s, &n);
		expect_load(p, n, "det-ok");
		free(p);
	}
	/* options missing, garbage, truncated, huge, of the wrong type */
	s.no_options = 1;
	det_expect(&s, "no-options", "custom options are missing or not a FlexBuffer map", NULL);
	uint8_t junk[64];
	memset(junk, 0xff, sizeof junk);
	s = det_default();
	s.opts = junk;
	s.opts_len = sizeof junk;
	det_expect(&s, "ff-options", "not a FlexBuffer map", NULL);
	uint32_t seed = 7;
	for (int k = 0; k < 100; k++) {
		for (size_t i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)(test_rand(&seed) >> 5);
		det_expect(&s, "random-options", "TFLite_Detection_PostProcess", NULL);
	}
	fxb_entry o[DET_OPTS];
	uint8_t fx[1024];
	det_options(o);
	size_t fl = flexbuf_map(o, DET_OPTS, fx, sizeof fx);
	for (size_t cut = 0; cut < fl; cut++) { /* every truncation of the options */
		s = det_default();
		s.opts = fx;
		s.opts_len = cut;
		if (cut == 0)
			s.no_options = 1;
		det_expect(&s, "cut-options", "TFLite_Detection_PostProcess", NULL);
	}
	/* offsets inside the FlexBuffer pointing outside it */
	uint8_t bad[1024];
	memcpy(bad, fx, fl);
	le(bad + fl - 10, 0xffffffffffff, 8); /* root offset */
	s = det_default();
	s.opts = bad;
	s.opts_len = fl;
	det_expect(&s, "flex-root", "not a FlexBuffer map", NULL);
	memcpy(bad, fx, fl);
	/* the first key offset (the keys vector follows the 8-aligned key strings) */
	size_t kstr = 0;
	for (int i = 0; i < DET_OPTS; i++)
		kstr += strlen(o[i].key) + 1;
	kstr = (kstr + 7) & ~(size_t)7;
	le(bad + kstr + 8, 0x7fffffff, 8);
	det_expect(&s, "flex-key", "option 'max_detections' is malformed", NULL);
	memcpy(bad, fx, fl);
	le(bad + kstr + 8 + 8 * DET_OPTS + 16, 0x7fffffff, 8); /* map size */
	det_expect(&s, "flex-size", "not a FlexBuffer map", NULL);
	/* values out of range */
	det_opt_expect("max_detections", 'i', 1e9, "max-det-huge",
		       "'max_detections' = 1e+09 is outside [1, 10000]");
	det_opt_expect("max_detections", 'i', -5, "max-det-neg", "'max_detections' = -5");
	det_opt_expect("max_detections", 'i', 0, "max-det-0", "'max_detections' = 0");
	det_opt_expect("num_classes", 'i', 0, "classes-0", "'num_classes' = 0");
	det_opt_expect("num_classes", 'i', 1e12, "classes-huge", "'num_classes' = 1e+12");
	det_opt_expect("max_classes_per_detection", 'i', 1000, "mcpd", "'max_classes_per_detection'");
	det_opt_expect("nms_iou_threshold", 'f', 2.0, "iou-2", "'nms_iou_threshold' = 2");
	det_opt_expect("nms_iou_threshold", 'f', NAN, "iou-nan", "'nms_iou_threshold' = nan");
	det_opt_expect("y_scale", 'f', 0.0, "yscale-0", "'y_scale' = 0");
	det_opt_expect("h_scale", 'f', INFINITY, "hscale-inf", "'h_scale' = inf");
	det_opt_expect("w_scale", 'f', -1.0, "wscale-neg", "'w_scale' = -1");
	det_opt_expect("nms_score_threshold", 'f', NAN, "score-nan", "'nms_score_threshold' = nan");
	det_opt_expect("use_regular_nms", 'i', 7, "regular-7", "'use_regular_nms' = 7");
	det_opt_expect("num_classes", 's', 3, "classes-string", "option 'num_classes' is malformed");
	{
		fxb_entry o2[DET_OPTS];
		det_options(o2);
		set_opt(o2, DET_OPTS, "use_regular_nms", 'b', 1);
		set_opt(o2, DET_OPTS, "detections_per_class", 'i', 0);
		s = det_default();
		s.opts = fx;
		s.opts_len = flexbuf_map(o2, DET_OPTS, fx, sizeof fx);
		det_expect(&s, "regular-0", "regular NMS needs detections_per_class", NULL);
	}
	{ /* a required option missing: max_detections */
		fxb_entry o3[DET_OPTS - 1];
		det_options(o);
		memcpy(o3, o, 3 * sizeof o[0]);
		memcpy(o3 + 3, o + 4, (DET_OPTS - 4) * sizeof o[0]);
		s = det_default();
		s.opts = fx;
		s.opts_len = flexbuf_map(o3, DET_OPTS - 1, fx, sizeof fx);
		det_expect(&s, "no-max-det", "'max_detections' = -1 is outside", NULL);
	}
	/* inputs: shapes, anchors */
	s = det_default();
	s.boxes[2] = 5;
	det_expect(&s, "boxes-5", "box encodings 'boxes' must be [1,N,4]", NULL);
	s = det_default();
	s.scores[1] = DET_N + 1;
	det_expect(&s, "scores-n", "class scores 'scores' must be", NULL);
	s = det_default();
	s.scores[2] = DET_C + 3;
	det_expect(&s, "scores-c", "class scores 'scores' must be", NULL);
	s = det_default();
	s.anchors_const = 0;
	det_expect(&s, "anchors-act", "anchors 'anchors' must be a constant [6,4] tensor", NULL);
	s = det_default();
	s.anchors[1] = 3;
	det_expect(&s, "anchors-3", "anchors 'anchors' must be a constant [6,4]", NULL);
	s = det_default();
	s.anchors[0] = DET_N + 1;
	det_expect(&s, "anchors-n", "anchors 'anchors' must be a constant [6,4]", NULL);
	s = det_default();
	s.anchor_nan_at = 13;
	det_expect(&s, "anchors-nan", "anchor value 13 is not finite", NULL);
	s = det_default();
	s.anchors_type = TFW_UINT8; /* quantized anchors with an infinite scale */
	det_expect(&s, "anchors-q-inf", "tensor 2 (anchors)", "not a positive finite number", NULL);
	s = det_default();
	s.boxes[1] = s.scores[1] = 1 << 21;
	det_expect(&s, "anchors-many", "2097152 anchors is out of range", NULL);
	/* outputs */
	s = det_default();
	s.out_type = TFW_UINT8;
	det_expect(&s, "out-uint8", "output 0 'det_boxes' must be float32", NULL);
	s = det_default();
	s.nout = 3;
	det_expect(&s, "out-3", "3 inputs and 3 outputs, expected 3..3 and 4", NULL);
	/* custom options not in FlexBuffers format: patch the format byte */
	{
		s = det_default();
		size_t n;
		uint8_t *p = det_model(&s, &n);
		tfl l;
		tfl_open(&l, p, n);
		fb_table op = elem_table(&l.ops, 0);
		p[fpos(&op, TFL_OP_CUSTOM_OPTIONS_FORMAT)] = 1;
		expect_fail(p, n, "format-1", "not FlexBuffers", NULL);
		/* and a custom code whose string runs off the end */
		fb_table oc = elem_table(&l.opcodes, 0);
		p[fpos(&op, TFL_OP_CUSTOM_OPTIONS_FORMAT)] = 0;
		put32(p + target(p, fpos(&oc, TFL_OPCODE_CUSTOM)), 0x7fffffffu);
		expect_fail(p, n, "custom-code", "operator code 0 is malformed", NULL);
		free(p);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Valid but extreme quantization: the models load (or are refused with a message) and   */
/* run without undefined behaviour on every input pattern. Regression for a fuzzer        */
/* finding: a saturated requantization multiplier plus the zero point overflowed int32.   */

/* Loads the model; when it loads, runs it on inputs of 0x00, 0xff, 0x80 and random bytes
 * (float inputs: NaN, +-inf, huge, denormal and random values). Returns the context after
 * the last run (pattern `keep`), or NULL when the model was refused. */
static mnv2_context *run_patterns(const uint8_t *p, size_t n, const char *name, int keep,
				  mnv2_model **mout)
{
	mnv2_error err;
	uint8_t *copy;
	mnv2_model *m = load_copy(p, n, name, &err, &copy);
	*mout = NULL;
	if (!m) {
		ck_assert_msg(err.msg[0] && strstr(err.msg, name), "%s: bad error \"%s\"", name, err.msg);
		free(copy);
		return NULL;
	}
	free(copy); /* keep=1 is only for the load: the model must not need the bytes... */
	mnv2_model_free(m);
	m = mnv2_model_load_buffer(p, n, name, 0, &err); /* ...so load a private copy */
	ck_assert_msg(m != NULL, "%s: %s", name, err.msg);
	mnv2_context *c = mnv2_context_create(m, &err);
	ck_assert_msg(c != NULL, "%s: %s", name, err.msg);
	static const float fpat[6] = { NAN, INFINITY, -INFINITY, 3e38f, 1e-45f, -2.5f };
	for (int pat = 0; pat <= keep; pat++) {
		for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
			size_t bytes;
			uint8_t *in = mnv2_context_input(c, i, &bytes);
			mnv2_tensor_info ti;
			mnv2_model_input_info(m, i, &ti);
			if (ti.type == MNV2_FLOAT32) {
				for (size_t k = 0; k < bytes / 4; k++)
					memcpy(in + 4 * k, &fpat[(k + (size_t)pat) % 6], 4);
			} else if (pat < 3) {
				memset(in, pat == 0 ? 0x00 : pat == 1 ? 0xff : 0x80, bytes);
			} else {
				uint32_t s = (uint32_t)pat;
				for (size_t k = 0; k < bytes; k++)
					in[k] = (uint8_t)(test_rand(&s) >> 8);
			}
		}
		if (mnv2_context_run(c, &err) != 0)
			ck_assert_msg(err.msg[0] != '\0', "%s: a failed run left no message", name);
	}
	*mout = m;
	return c;
}

START_TEST(test_extreme_scales_run)
{
	static const int32_t d[2] = { 1, 16 }, d4[4] = { 1, 4, 4, 4 }, dw[4] = { 2, 3, 3, 4 };
	static const int32_t dco[4] = { 1, 4, 4, 2 }, db[1] = { 2 }, dm[4] = { 1, 1, 1, 4 };
	static const int32_t dax[1] = { 2 }, axes[2] = { 1, 2 }, dcat[2] = { 1, 32 };
	static const float big = 1e29f, tiny = 1e-30f;
	size_t n;
	uint8_t *p;
	mnv2_model *m;
	mnv2_context *c;
	/* QUANTIZE uint8 -> int8 with a ratio of 1e59 (multiplier saturates) and 1e-59 */
	for (int up = 0; up < 2; up++) {
		tfw_model *tm = tfw_new();
		int in = tfw_act(tm, "in", TFW_UINT8, 2, d, up ? big : tiny, 0);
		int out = tfw_act(tm, "out", TFW_INT8, 2, d, up ? tiny : big, 10);
		tfw_op_simple(tm, TFW_OP_QUANTIZE, &in, 1, &out, 1);
		tfw_set_io(tm, &in, 1, &out, 1);
		p = fin(tm, &n);
		c = run_patterns(p, n, "requant", 1 /* ends on 0xff */, &m);
		ck_assert_ptr_nonnull(c);
		size_t bytes;
		const int8_t *o = mnv2_context_output(c, 0, &bytes);
		for (size_t k = 0; k < bytes; k++) /* 255 * 1e59 saturates; 255 * 1e-59 is 0 */
			ck_assert_msg(o[k] == (up ? 127 : 10), "requant up=%d: output %zu is %d", up, k,
				      o[k]);
		size_t ib;
		memset(mnv2_context_input(c, 0, &ib), 0, ib); /* x - zp = 0 */
		ck_assert_int_eq(mnv2_context_run(c, NULL), 0);
		o = mnv2_context_output(c, 0, &bytes);
		ck_assert_int_eq(o[0], 10);
		mnv2_context_free(c);
		mnv2_model_free(m);
		free(p);
	}
	/* CONV_2D with a requantization scale of inf (1e29 * 1e29 / 1e-30) and of 0 */
	for (int k = 0; k < 2; k++) {
		static const int32_t bias[2] = { INT32_MAX, INT32_MIN };
		uint8_t w[72];
		memset(w, 0xff, sizeof w);
		float ws = k ? tiny : big, bs = 1.0f;
		int64_t z = 0;
		tfw_model *tm = tfw_new();
		int in = tfw_act(tm, "in", TFW_UINT8, 4, d4, k ? tiny : big, 0);
		int wt = tfw_const(tm, "w", TFW_UINT8, 4, dw, w, sizeof w, 1, &ws, &z, 0);
		int bt = tfw_const(tm, "b", TFW_INT32, 1, db, bias, sizeof bias, 1, &bs, &z, 0);
		int out = tfw_act(tm, "out", TFW_UINT8, 4, dco, k ? big : tiny, 3);
		tfw_op_conv2d(tm, in, wt, bt, out, TFW_PAD_SAME, 1, 1, TFW_ACT_RELU6, 1, 1);
		tfw_set_io(tm, &in, 1, &out, 1);
		p = fin(tm, &n);
		c = run_patterns(p, n, "conv", 3, &m);
		if (c) {
			mnv2_context_free(c);
			mnv2_model_free(m);
		}
		free(p);
	}
	/* MEAN, LOGISTIC, DEQUANTIZE and a requantizing CONCATENATION at the scale limits */
	{
		tfw_model *tm = tfw_new();
		int in = tfw_act(tm, "in", TFW_INT8, 4, d4, big, 127);
		int ax = tfw_const(tm, "axes", TFW_INT32, 1, dax, axes, sizeof axes, 0, NULL, NULL, 0);
		int mo = tfw_act(tm, "mean", TFW_INT8, 4, dm, tiny, -128);
		tfw_op_mean(tm, in, ax, mo, 1);
		int lo = tfw_act(tm, "logistic", TFW_INT8, 4, dm, tiny, 127);
		tfw_op_simple(tm, TFW_OP_LOGISTIC, &mo, 1, &lo, 1);
		int fo = tfw_tensor(tm, "float", TFW_FLOAT32, 4, dm, 0, 0, NULL, NULL, 0);
		tfw_op_simple(tm, TFW_OP_DEQUANTIZE, &lo, 1, &fo, 1);
		int outs[2] = { fo, mo };
		tfw_set_io(tm, &in, 1, outs, 2);
		p = fin(tm, &n);
		c = run_patterns(p, n, "mean-logistic", 3, &m);
		ck_assert_ptr_nonnull(c);
		mnv2_context_free(c);
		mnv2_model_free(m);
		free(p);
	}
	{
		tfw_model *tm = tfw_new();
		int a = tfw_act(tm, "a", TFW_UINT8, 2, d, big, 255);
		int b = tfw_act(tm, "b", TFW_UINT8, 2, d, tiny, 0);
		int out = tfw_act(tm, "out", TFW_UINT8, 2, dcat, tiny, 128);
		int ins[2] = { a, b };
		tfw_op_concat(tm, ins, 2, out, 1, TFW_ACT_NONE);
		tfw_set_io(tm, ins, 2, &out, 1);
		p = fin(tm, &n);
		c = run_patterns(p, n, "concat", 3, &m);
		ck_assert_ptr_nonnull(c);
		mnv2_context_free(c);
		mnv2_model_free(m);
		free(p);
	}
	/* QUANTIZE from float32 (NaN, infinities, 3e38, denormals) with a tiny and a huge scale */
	for (int k = 0; k < 2; k++) {
		tfw_model *tm = tfw_new();
		int in = tfw_tensor(tm, "in", TFW_FLOAT32, 2, d, 0, 0, NULL, NULL, 0);
		int out = tfw_act(tm, "out", TFW_UINT8, 2, d, k ? big : tiny, 7);
		tfw_op_simple(tm, TFW_OP_QUANTIZE, &in, 1, &out, 1);
		tfw_set_io(tm, &in, 1, &out, 1);
		p = fin(tm, &n);
		c = run_patterns(p, n, "quantize-f32", 5, &m);
		ck_assert_ptr_nonnull(c);
		mnv2_context_free(c);
		mnv2_model_free(m);
		free(p);
	}
	/* the detection operator on box encodings with a huge scale: invalid boxes are a run
	 * error with a message, never undefined behaviour */
	{
		det_spec s = det_default();
		p = det_model(&s, &n);
		tfl l;
		tfl_open(&l, p, n);
		fb_table q, t = elem_table(&l.tensors, 0); /* boxes */
		ck_assert_int_eq(fb_get_table(&t, TFL_TENSOR_QUANT, &q), 1);
		float huge = big;
		uint32_t bits;
		memcpy(&bits, &huge, 4);
		put32(p + target(p, fpos(&q, TFL_QUANT_SCALE)) + 4, bits);
		c = run_patterns(p, n, "detect-huge", 3, &m);
		ck_assert_ptr_nonnull(c);
		mnv2_context_free(c);
		mnv2_model_free(m);
		free(p);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Zero-element tensors with huge dimensions once escaped the size bound and overflowed   */
/* int shape arithmetic in op preparation (UB found here; fixed in 6873903 by refusing    */
/* zero-element tensors). Per-channel quantized activations were read as per-tensor.      */

START_TEST(test_hostile_zero_sized_huge_dims)
{
	/* prep_out_dim: (in + stride - 1) overflowed for in = INT32_MAX */
	conv_spec s = conv_default();
	s.in[0] = 0;
	s.in[1] = 0x7fffffff;
	s.out[0] = 0;
	s.stride_h = 2;
	conv_expect(&s, "conv-huge", "tensor 0 (in)", "dimension", NULL);
	/* broadcast_strides: s *= in[i] overflowed for [0,65536,65536,1] */
	static const int32_t d[4] = { 0, 65536, 65536, 1 };
	tfw_model *m = lenient();
	int a = tfw_act(m, "a", TFW_UINT8, 4, d, 0.1f, 0);
	int b = tfw_act(m, "b", TFW_UINT8, 4, d, 0.1f, 0);
	int out = tfw_act(m, "out", TFW_UINT8, 4, d, 0.1f, 0);
	tfw_op_add(m, a, b, out, 0);
	int ab[2] = { a, b };
	tfw_set_io(m, ab, 2, &out, 1);
	tfw_expect_fail(m, "add-huge", "tensor 0 (a)", "dimension", NULL);
	/* prep_pad: in_dims + before + after overflowed */
	static const int32_t di[2] = { 0, 0x7fffffff }, dp[2] = { 2, 2 }, dout[2] = { 0, 5 };
	static const int32_t pads[4] = { 0, 0, 1, 0 };
	m = lenient();
	int in = tfw_act(m, "in", TFW_UINT8, 2, di, 0.1f, 0);
	int pt = tfw_const(m, "pads", TFW_INT32, 2, dp, pads, 16, 0, NULL, NULL, 0);
	out = tfw_act(m, "out", TFW_UINT8, 2, dout, 0.1f, 0);
	int pin[2] = { in, pt };
	tfw_op_simple(m, TFW_OP_PAD, pin, 2, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "pad-huge", "tensor 0 (in)", "dimension", NULL);
	/* pooling VALID: (in - eff + stride) overflowed */
	static const int32_t dpi[4] = { 0, 0x7fffffff, 1, 1 }, dpo[4] = { 0, 1, 1, 1 };
	m = lenient();
	in = tfw_act(m, "in", TFW_UINT8, 4, dpi, 0.1f, 0);
	out = tfw_act(m, "out", TFW_UINT8, 4, dpo, 0.1f, 0);
	tfw_op_pool(m, TFW_OP_MAX_POOL_2D, in, out, TFW_PAD_VALID, 1, 4096, 1, 1, 0);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "pool-huge", "tensor 0 (in)", "dimension", NULL);
}
END_TEST

START_TEST(test_hostile_per_channel_activation)
{
	static const int32_t d[2] = { 1, 3 };
	static const float sc[3] = { 0.1f, 0.2f, 0.3f };
	tfw_model *m = lenient();
	int in = tfw_tensor(m, "in", TFW_UINT8, 2, d, 0, 3, sc, NULL, 1);
	int out = tfw_act(m, "out", TFW_UINT8, 2, d, 1.0f / 256, 0);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &in, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
	tfw_expect_fail(m, "pc-activation", "operator 0 (LOGISTIC)", "'in'", "per-channel", NULL);
}
END_TEST

/* ------------------------------------------------------------------------------------ */

static Suite *robustness_suite(void)
{
	Suite *s = suite_create("robustness");
	TCase *tc = tcase_create("truncation");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_truncations_synthetic, 0, 3);
	tcase_add_test(tc, test_truncations_small);
	tcase_add_test(tc, test_truncations_metadata);
	suite_add_tcase(s, tc);

	tc = tcase_create("mutation");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_mutations, 0, 5);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_hostile_structure);
	tcase_add_test(tc, test_hostile_garbage);
	tcase_add_test(tc, test_hostile_shapes);
	tcase_add_test(tc, test_hostile_arena);
	tcase_add_test(tc, test_hostile_buffers);
	tcase_add_test(tc, test_hostile_dataflow);
	tcase_add_test(tc, test_hostile_counts);
	tcase_add_test(tc, test_hostile_conv);
	tcase_add_test(tc, test_hostile_ops);
	tcase_add_test(tc, test_hostile_detect);
	tcase_add_test(tc, test_extreme_scales_run);
	tcase_add_test(tc, test_hostile_zero_sized_huge_dims);
	tcase_add_test(tc, test_hostile_per_channel_activation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(robustness_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
