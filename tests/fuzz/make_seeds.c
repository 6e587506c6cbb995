/* make_seeds OUTDIR [--stamp FILE] — writes a seed corpus for the loader fuzz harness (fuzz_load.c):
 * the three synthetic models (synth_models.h), one small model per supported operator,
 * a TFLite_Detection_PostProcess model with FlexBuffer options, and a model carrying
 * TFLITE_METADATA with a label file in an appended (stored) zip. Every seed loads; the
 * program checks nothing else. OUTDIR is created when missing; with --stamp, FILE gets the
 * list of seeds written (for build systems). Exit status 0 when every file was written. */
#include "mnv2/engine.h"
#include "synth_models.h"
#include "tflite_writer.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers --------------------------------------------------------------- */

static uint32_t rng = 12345;

static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (uint8_t)(rng >> 11);
}

static int u8const(tfw_model *m, const char *name, int type, int rank, const int32_t *dims,
		   float scale, int zp)
{
	size_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= (size_t)dims[i];
	uint8_t *d = malloc(n ? n : 1);
	if (!d)
		return -1;
	for (size_t i = 0; i < n; i++)
		d[i] = rnd8();
	int64_t z = zp;
	int t = tfw_const(m, name, type, rank, dims, d, n, 1, &scale, &z, 0);
	free(d);
	return t;
}

static int i32const(tfw_model *m, const char *name, int rank, const int32_t *dims,
		    const int32_t *v, size_t n, float scale)
{
	int64_t z = 0;
	return tfw_const(m, name, TFW_INT32, rank, dims, v, n * 4, scale > 0 ? 1 : 0, &scale, &z, 0);
}

/* ---- one-operator models ---------------------------------------------------------- */

static void conv(tfw_model *m)
{
	static const int32_t di[4] = { 1, 8, 8, 4 }, dw[4] = { 6, 3, 3, 4 }, db[1] = { 6 },
			     dout[4] = { 1, 4, 4, 6 };
	static const int32_t bias[6] = { 100, -200, 300, 0, 5, -7 };
	int in = tfw_act(m, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int w = u8const(m, "w", TFW_UINT8, 4, dw, 0.01f, 127);
	int b = i32const(m, "b", 1, db, bias, 6, 0.0005f);
	int out = tfw_act(m, "out", TFW_UINT8, 4, dout, 0.1f, 100);
	tfw_op_conv2d(m, in, w, b, out, TFW_PAD_SAME, 2, 2, TFW_ACT_RELU6, 1, 1);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void dwconv_int8pc(tfw_model *m)
{
	static const int32_t di[4] = { 1, 6, 6, 3 }, dw[4] = { 1, 3, 3, 3 }, db[1] = { 3 },
			     dout[4] = { 1, 6, 6, 3 };
	static const int32_t bias[3] = { 10, -20, 30 };
	static const float ws[3] = { 0.01f, 0.02f, 0.005f }, bs[3] = { 0.0005f, 0.001f, 0.00025f };
	int8_t wd[27];
	for (int i = 0; i < 27; i++)
		wd[i] = (int8_t)(rnd8() % 255 - 127);
	int in = tfw_act(m, "in", TFW_INT8, 4, di, 0.05f, -1);
	int w = tfw_const(m, "w", TFW_INT8, 4, dw, wd, sizeof wd, 3, ws, NULL, 3);
	int b = tfw_const(m, "b", TFW_INT32, 1, db, bias, sizeof bias, 3, bs, NULL, 0);
	int out = tfw_act(m, "out", TFW_INT8, 4, dout, 0.08f, 3);
	tfw_op_dwconv2d(m, in, w, b, out, TFW_PAD_SAME, 1, 1, 1, TFW_ACT_NONE, 1, 1);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void fc(tfw_model *m)
{
	static const int32_t di[2] = { 1, 16 }, dw[2] = { 5, 16 }, db[1] = { 5 }, dout[2] = { 1, 5 };
	static const int32_t bias[5] = { 1, 2, 3, 4, 5 };
	int in = tfw_act(m, "in", TFW_UINT8, 2, di, 0.05f, 128);
	int w = u8const(m, "w", TFW_UINT8, 2, dw, 0.01f, 127);
	int b = i32const(m, "b", 1, db, bias, 5, 0.0005f);
	int out = tfw_act(m, "out", TFW_UINT8, 2, dout, 0.1f, 100);
	tfw_op_fc(m, in, w, b, out, TFW_ACT_NONE, 0);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void add_broadcast(tfw_model *m)
{
	static const int32_t da[4] = { 1, 4, 4, 3 }, db[4] = { 1, 1, 1, 3 };
	int a = tfw_act(m, "a", TFW_UINT8, 4, da, 0.05f, 128);
	int b = tfw_act(m, "b", TFW_UINT8, 4, db, 0.04f, 120);
	int out = tfw_act(m, "out", TFW_UINT8, 4, da, 0.08f, 128);
	int ins[2] = { a, b };
	tfw_op_add(m, a, b, out, TFW_ACT_RELU);
	tfw_set_io(m, ins, 2, &out, 1);
}

static void pool(tfw_model *m, int builtin)
{
	static const int32_t di[4] = { 1, 8, 8, 4 }, dout[4] = { 1, 4, 4, 4 };
	int in = tfw_act(m, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int out = tfw_act(m, "out", TFW_UINT8, 4, dout, 0.05f, 128);
	tfw_op_pool(m, builtin, in, out, TFW_PAD_VALID, 2, 2, 2, 2, TFW_ACT_NONE);
	tfw_set_io(m, &in, 1, &out, 1);
}
static void avgpool(tfw_model *m) { pool(m, TFW_OP_AVERAGE_POOL_2D); }
static void maxpool(tfw_model *m) { pool(m, TFW_OP_MAX_POOL_2D); }

static void mean(tfw_model *m)
{
	static const int32_t di[4] = { 1, 4, 4, 8 }, da[1] = { 2 }, dout[4] = { 1, 1, 1, 8 };
	static const int32_t axes[2] = { 1, 2 };
	int in = tfw_act(m, "in", TFW_INT8, 4, di, 0.05f, 0);
	int ax = i32const(m, "axes", 1, da, axes, 2, 0);
	int out = tfw_act(m, "out", TFW_INT8, 4, dout, 0.03f, -5);
	tfw_op_mean(m, in, ax, out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void reshape(tfw_model *m)
{
	static const int32_t di[4] = { 1, 2, 2, 3 }, ds[1] = { 2 }, dout[2] = { 1, 12 };
	static const int32_t shape[2] = { 1, 12 };
	int in = tfw_act(m, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int st = i32const(m, "shape", 1, ds, shape, 2, 0);
	int out = tfw_act(m, "out", TFW_UINT8, 2, dout, 0.05f, 128);
	tfw_op_reshape(m, in, st, out, shape, 2);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void squeeze(tfw_model *m)
{
	static const int32_t di[4] = { 1, 1, 1, 5 }, dout[2] = { 1, 5 }, sq[2] = { 1, 2 };
	int in = tfw_act(m, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int out = tfw_act(m, "out", TFW_UINT8, 2, dout, 0.05f, 128);
	tfw_op_squeeze(m, in, out, sq, 2);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void softmax(tfw_model *m)
{
	static const int32_t d[2] = { 1, 10 };
	int in = tfw_act(m, "in", TFW_UINT8, 2, d, 0.1f, 128);
	int out = tfw_act(m, "out", TFW_UINT8, 2, d, 1.0f / 256, 0);
	tfw_op_softmax(m, in, out, 1.0f);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void logistic(tfw_model *m)
{
	static const int32_t d[2] = { 1, 10 };
	int in = tfw_act(m, "in", TFW_INT8, 2, d, 0.1f, 0);
	int out = tfw_act(m, "out", TFW_INT8, 2, d, 1.0f / 256, -128);
	tfw_op_simple(m, TFW_OP_LOGISTIC, &in, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void concat(tfw_model *m)
{
	static const int32_t da[4] = { 1, 2, 2, 3 }, db[4] = { 1, 2, 2, 5 }, dout[4] = { 1, 2, 2, 8 };
	int a = tfw_act(m, "a", TFW_UINT8, 4, da, 0.05f, 128);
	int b = tfw_act(m, "b", TFW_UINT8, 4, db, 0.1f, 100);
	int out = tfw_act(m, "out", TFW_UINT8, 4, dout, 0.1f, 128);
	int ins[2] = { a, b };
	tfw_op_concat(m, ins, 2, out, 3, TFW_ACT_NONE);
	tfw_set_io(m, ins, 2, &out, 1);
}

static void pad(tfw_model *m)
{
	static const int32_t di[4] = { 1, 3, 3, 2 }, dp[2] = { 4, 2 }, dout[4] = { 1, 5, 5, 2 };
	static const int32_t pads[8] = { 0, 0, 1, 1, 1, 1, 0, 0 };
	int in = tfw_act(m, "in", TFW_UINT8, 4, di, 0.05f, 128);
	int p = i32const(m, "paddings", 2, dp, pads, 8, 0);
	int out = tfw_act(m, "out", TFW_UINT8, 4, dout, 0.05f, 128);
	int ins[2] = { in, p };
	tfw_op_simple(m, TFW_OP_PAD, ins, 2, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
}

static void quant_dequant(tfw_model *m)
{
	static const int32_t d[2] = { 1, 8 };
	int in = tfw_tensor(m, "in", TFW_FLOAT32, 2, d, 0, 0, NULL, NULL, 0);
	int q = tfw_act(m, "q", TFW_UINT8, 2, d, 0.05f, 128);
	int r = tfw_act(m, "r", TFW_INT8, 2, d, 0.04f, 1);
	int out = tfw_tensor(m, "out", TFW_FLOAT32, 2, d, 0, 0, NULL, NULL, 0);
	tfw_op_simple(m, TFW_OP_QUANTIZE, &in, 1, &q, 1);
	tfw_op_simple(m, TFW_OP_QUANTIZE, &q, 1, &r, 1);
	tfw_op_simple(m, TFW_OP_DEQUANTIZE, &r, 1, &out, 1);
	tfw_set_io(m, &in, 1, &out, 1);
}

/* ---- TFLite_Detection_PostProcess ------------------------------------------------- */

/* A FlexBuffers map of string keys to 8-byte numbers ('i' int, 'f' double, 'b' bool);
 * keys must be given sorted. Returns the length written into out (cap bytes). */
typedef struct fxb_entry {
	const char *key;
	char kind;
	double v;
} fxb_entry;

static void le(uint8_t *p, uint64_t v, int w)
{
	for (int i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t flexbuf_map(const fxb_entry *e, int n, uint8_t *out, size_t cap)
{
	size_t pos = 0, kpos[32];
	if (n > 32)
		return 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(e[i].key) + 1;
		if (pos + l > cap)
			return 0;
		kpos[i] = pos;
		memcpy(out + pos, e[i].key, l);
		pos += l;
	}
	pos = (pos + 7) & ~(size_t)7;
	if (pos + 8 * (size_t)(2 * n + 5) + n + 2 > cap)
		return 0;
	le(out + pos, (uint64_t)n, 8); /* keys vector: size, then offsets to the keys */
	size_t keys = pos + 8;
	for (int i = 0; i < n; i++)
		le(out + keys + 8 * i, keys + 8 * i - kpos[i], 8);
	pos = keys + 8 * (size_t)n;
	size_t kfield = pos; /* map prefix: keys offset, keys width, size */
	le(out + pos, 0, 8);
	le(out + pos + 8, 8, 8);
	le(out + pos + 16, (uint64_t)n, 8);
	size_t vals = pos + 24;
	le(out + kfield, kfield - keys, 8);
	for (int i = 0; i < n; i++) {
		uint64_t bits;
		if (e[i].kind == 'f') {
			memcpy(&bits, &e[i].v, 8);
		} else {
			bits = (uint64_t)(int64_t)e[i].v;
		}
		le(out + vals + 8 * i, bits, 8);
		out[vals + 8 * (size_t)n + i] =
			(uint8_t)(((e[i].kind == 'f' ? 3 : e[i].kind == 'b' ? 26 : 1) << 2) | 3);
	}
	pos = vals + 9 * (size_t)n;
	pos = (pos + 7) & ~(size_t)7;
	le(out + pos, pos - vals, 8); /* root: offset to the map, packed type, width */
	out[pos + 8] = (uint8_t)((9 << 2) | 3);
	out[pos + 9] = 8;
	return pos + 10;
}

static void detect(tfw_model *m)
{
	enum { N = 12, C = 3 };
	static const int32_t db[3] = { 1, N, 4 }, ds[3] = { 1, N, C + 1 }, da[2] = { N, 4 };
	static const fxb_entry opts[] = {
		{ "detections_per_class", 'i', 100 }, { "h_scale", 'f', 5 },
		{ "max_classes_per_detection", 'i', 1 }, { "max_detections", 'i', 5 },
		{ "nms_iou_threshold", 'f', 0.6 }, { "nms_score_threshold", 'f', 0.3 },
		{ "num_classes", 'i', C }, { "use_regular_nms", 'b', 0 }, { "w_scale", 'f', 5 },
		{ "x_scale", 'f', 10 }, { "y_scale", 'f', 10 },
	};
	float anchors[N * 4];
	uint8_t fx[1024];
	for (int i = 0; i < N; i++) {
		anchors[4 * i] = 0.1f + 0.07f * (float)i;
		anchors[4 * i + 1] = 0.9f - 0.06f * (float)i;
		anchors[4 * i + 2] = 0.2f;
		anchors[4 * i + 3] = 0.3f;
	}
	int boxes = tfw_act(m, "boxes", TFW_UINT8, 3, db, 0.05f, 128);
	int scores = tfw_act(m, "scores", TFW_UINT8, 3, ds, 1.0f / 256, 0);
	int anc = tfw_const(m, "anchors", TFW_FLOAT32, 2, da, anchors, sizeof anchors, 0, NULL,
			    NULL, 0);
	int outs[4];
	const char *names[4] = { "det_boxes", "det_classes", "det_scores", "num_det" };
	for (int i = 0; i < 4; i++)
		outs[i] = tfw_tensor(m, names[i], TFW_FLOAT32, 0, NULL, 0, 0, NULL, NULL, 0);
	size_t fl = flexbuf_map(opts, (int)(sizeof opts / sizeof opts[0]), fx, sizeof fx);
	int ins[3] = { boxes, scores, anc }, gin[2] = { boxes, scores };
	tfw_op_custom(m, "TFLite_Detection_PostProcess", ins, 3, outs, 4, fx, fl);
	tfw_set_io(m, gin, 2, outs, 4);
}

/* ---- metadata: ModelMetadata FlatBuffer + appended stored zip --------------------- */

/* A forward FlatBuffer writer: parents are laid out before their children, so every
 * uoffset points forward. Tables have 4-byte slots only. */
typedef struct fwd {
	uint8_t b[2048];
	size_t n;
} fwd;

static size_t fwd_alloc(fwd *w, size_t len)
{
	size_t p = (w->n + 3) & ~(size_t)3;
	if (p + len > sizeof w->b)
		abort();
	memset(w->b + p, 0, len);
	w->n = p + len;
	return p;
}

static size_t fwd_table(fwd *w, int nf, unsigned present)
{
	size_t vt = fwd_alloc(w, 4 + 2 * (size_t)nf), t = fwd_alloc(w, 4 + 4 * (size_t)nf);
	le(w->b + vt, 4 + 2 * (uint64_t)nf, 2);
	le(w->b + vt + 2, 4 + 4 * (uint64_t)nf, 2);
	for (int i = 0; i < nf; i++)
		le(w->b + vt + 4 + 2 * i, (present >> i) & 1 ? 4 + 4 * (uint64_t)i : 0, 2);
	le(w->b + t, t - vt, 4);
	return t;
}

static void fwd_ref(fwd *w, size_t at, size_t target) { le(w->b + at, target - at, 4); }
static size_t fwd_field(size_t table, int f) { return table + 4 + 4 * (size_t)f; }

static size_t fwd_string(fwd *w, const char *s)
{
	size_t l = strlen(s), p = fwd_alloc(w, 4 + l + 1);
	le(w->b + p, l, 4);
	memcpy(w->b + p + 4, s, l);
	return p;
}

static size_t fwd_vec1(fwd *w, size_t *elem)
{
	size_t p = fwd_alloc(w, 8);
	le(w->b + p, 1, 4);
	*elem = p + 4;
	return p;
}

/* ModelMetadata "M001": name, description, subgraph_metadata[0]
 * .output_tensor_metadata[0].associated_files[0] = { labels.txt, TENSOR_AXIS_LABELS }. */
static size_t model_metadata(fwd *w)
{
	size_t e, root = fwd_alloc(w, 8);
	memcpy(w->b + 4, "M001", 4);
	size_t md = fwd_table(w, 4, 0xb); /* name, description, -, subgraph_metadata */
	fwd_ref(w, root, md);
	fwd_ref(w, fwd_field(md, 0), fwd_string(w, "seed classifier"));
	fwd_ref(w, fwd_field(md, 1), fwd_string(w, "a model with labels"));
	fwd_ref(w, fwd_field(md, 3), fwd_vec1(w, &e));
	size_t sg = fwd_table(w, 4, 0x8); /* output_tensor_metadata */
	fwd_ref(w, e, sg);
	fwd_ref(w, fwd_field(sg, 3), fwd_vec1(w, &e));
	size_t tm = fwd_table(w, 7, 0x40); /* associated_files */
	fwd_ref(w, e, tm);
	fwd_ref(w, fwd_field(tm, 6), fwd_vec1(w, &e));
	size_t af = fwd_table(w, 3, 0x5); /* name, type */
	fwd_ref(w, e, af);
	fwd_ref(w, fwd_field(af, 0), fwd_string(w, "labels.txt"));
	le(w->b + fwd_field(af, 2), 2, 1);
	return w->n;
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* A zip archive with one stored member; offsets relative to the archive's start. */
static size_t stored_zip(const char *name, const char *data, uint8_t *out, size_t cap)
{
	size_t nl = strlen(name), dl = strlen(data), p = 0;
	uint32_t crc = crc32((const uint8_t *)data, dl);
	if (30 + nl + dl + 46 + nl + 22 > cap)
		return 0;
	memset(out, 0, 30 + nl + dl + 46 + nl + 22);
	le(out, 0x04034b50u, 4);
	le(out + 4, 20, 2);
	le(out + 14, crc, 4);
	le(out + 18, dl, 4);
	le(out + 22, dl, 4);
	le(out + 26, nl, 2);
	memcpy(out + 30, name, nl);
	memcpy(out + 30 + nl, data, dl);
	p = 30 + nl + dl;
	size_t cd = p;
	le(out + p, 0x02014b50u, 4);
	le(out + p + 4, 20, 2);
	le(out + p + 6, 20, 2);
	le(out + p + 16, crc, 4);
	le(out + p + 20, dl, 4);
	le(out + p + 24, dl, 4);
	le(out + p + 28, nl, 2);
	le(out + p + 42, 0, 4); /* local header offset */
	memcpy(out + p + 46, name, nl);
	p += 46 + nl;
	le(out + p, 0x06054b50u, 4);
	le(out + p + 8, 1, 2);
	le(out + p + 10, 1, 2);
	le(out + p + 12, p - cd, 4);
	le(out + p + 16, cd, 4);
	return p + 22;
}

static void with_metadata(tfw_model *m)
{
	fwd w = { .n = 0 };
	softmax(m);
	size_t len = model_metadata(&w);
	tfw_add_metadata(m, "TFLITE_METADATA", w.b, len);
	tfw_set_description(m, "seed with metadata");
}

/* ---- main ------------------------------------------------------------------------- */

static int write_bytes(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return -1;
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "make_seeds: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	int ok = fwrite(p, 1, n, f) == n;
	ok = fclose(f) == 0 && ok;
	return ok ? 0 : -1;
}

/* Writes a seed after checking that the engine loads it (a seed that does not load
 * explores little). */
static int emit(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	mnv2_error err;
	mnv2_model *mm = mnv2_model_load_buffer(p, n, name, 1, &err);
	if (!mm) {
		fprintf(stderr, "make_seeds: %s does not load: %s\n", name, err.msg);
		return -1;
	}
	mnv2_model_free(mm);
	return write_bytes(dir, name, p, n);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*build)(tfw_model *);
	} ops[] = {
		{ "op_conv.tflite", conv }, { "op_dwconv_int8pc.tflite", dwconv_int8pc },
		{ "op_fc.tflite", fc }, { "op_add_broadcast.tflite", add_broadcast },
		{ "op_avgpool.tflite", avgpool }, { "op_maxpool.tflite", maxpool },
		{ "op_mean.tflite", mean }, { "op_reshape.tflite", reshape },
		{ "op_squeeze.tflite", squeeze }, { "op_softmax.tflite", softmax },
		{ "op_logistic.tflite", logistic }, { "op_concat.tflite", concat },
		{ "op_pad.tflite", pad }, { "op_quant_dequant.tflite", quant_dequant },
		{ "op_detect.tflite", detect }, { "metadata_labels.tflite", with_metadata },
	};
	static const struct {
		const char *name;
		enum synth_kind kind;
	} synth[] = {
		{ "synth_mnv2_uint8.tflite", SYNTH_MNV2_UINT8 },
		{ "synth_mnv2_int8pc.tflite", SYNTH_MNV2_INT8PC },
		{ "synth_ssdlite_head.tflite", SYNTH_SSDLITE_HEAD },
	};
	int rc = 0;
	const char *stamp = NULL;
	if (argc == 4 && !strcmp(argv[2], "--stamp"))
		stamp = argv[3];
	else if (argc != 2) {
		fprintf(stderr, "usage: make_seeds OUTDIR [--stamp FILE]\n");
		return 2;
	}
	if (mkdir(argv[1], 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "make_seeds: cannot create %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof synth / sizeof synth[0]; i++) {
		uint8_t *p = NULL;
		size_t n = 0;
		if (synth_model(synth[i].kind, 1, NULL, &p, &n) || emit(argv[1], synth[i].name, p, n))
			rc = 1;
		free(p);
	}
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		tfw_model *m = tfw_new();
		uint8_t *p = NULL;
		size_t n = 0;
		if (!m) {
			rc = 1;
			continue;
		}
		ops[i].build(m);
		if (tfw_finish(m, &p, &n)) {
			fprintf(stderr, "make_seeds: %s: %s\n", ops[i].name, tfw_last_error(m));
			rc = 1;
		} else if (ops[i].build == with_metadata) {
			uint8_t zip[512], *all = malloc(n + sizeof zip);
			size_t zl = stored_zip("labels.txt", "background\ncat\ndog\n", zip, sizeof zip);
			if (!all || !zl) {
				rc = 1;
			} else {
				memcpy(all, p, n);
				memcpy(all + n, zip, zl);
				rc |= emit(argv[1], ops[i].name, all, n + zl) ? 1 : 0;
			}
			free(all);
		} else {
			rc |= emit(argv[1], ops[i].name, p, n) ? 1 : 0;
		}
		free(p);
		tfw_free(m);
	}
	if (stamp && rc == 0) {
		FILE *f = fopen(stamp, "w");
		for (size_t i = 0; f && i < sizeof synth / sizeof synth[0]; i++)
			fprintf(f, "%s\n", synth[i].name);
		for (size_t i = 0; f && i < sizeof ops / sizeof ops[0]; i++)
			fprintf(f, "%s\n", ops[i].name);
		if (!f || fclose(f) != 0)
			rc = 1;
	}
	return rc;
}
