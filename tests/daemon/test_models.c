/* test_models — see test_models.h. */
#include "test_models.h"

#include "tflite_writer.h"

#include <stdio.h>
#include <string.h>

/* ---- FlexBuffers: a root map, every value and offset 4 bytes wide ---- */

enum { FBT_INT = 1, FBT_FLOAT = 3, FBT_KEY = 4, FBT_MAP = 9, FBT_BOOL = 26 };

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t td_flexbuffer_map(const td_flex_entry *e, size_t n, uint8_t *out, size_t max)
{
	size_t pos = 0, keypos[32];
	if (n > 32)
		return 0;
	for (size_t i = 0; i < n; i++) {   /* the keys, NUL-terminated */
		size_t l = strlen(e[i].key) + 1;
		if (pos + l > max)
			return 0;
		keypos[i] = pos;
		memcpy(out + pos, e[i].key, l);
		pos += l;
	}
	while (pos & 3 && pos < max)
		out[pos++] = 0;
	/* keys vector: size, then offsets back to each key; map: keys offset, keys width,
	 * size, values, types; root: offset, type, width */
	size_t need = pos + 4 + 4 * n + 12 + 4 * n + n + 4 + 6;
	if (need > max)
		return 0;
	put32(out + pos, (uint32_t)n);
	size_t keys = pos + 4;
	for (size_t i = 0; i < n; i++)
		put32(out + keys + 4 * i, (uint32_t)(keys + 4 * i - keypos[i]));
	pos = keys + 4 * n;
	size_t keys_field = pos;
	put32(out + pos, (uint32_t)(keys_field - keys));
	put32(out + pos + 4, 4);
	put32(out + pos + 8, (uint32_t)n);
	size_t values = pos + 12;
	for (size_t i = 0; i < n; i++) {
		uint8_t *v = out + values + 4 * i;
		uint8_t type;
		if (e[i].kind == 'f') {
			float f = (float)e[i].value;
			uint32_t u;
			memcpy(&u, &f, 4);
			put32(v, u);
			type = FBT_FLOAT;
		} else {
			put32(v, (uint32_t)(int32_t)e[i].value);
			type = e[i].kind == 'b' ? FBT_BOOL : FBT_INT;
		}
		out[values + 4 * n + i] = (uint8_t)(type << 2 | 2);
	}
	pos = values + 5 * n;
	while (pos & 3)
		out[pos++] = 0;
	put32(out + pos, (uint32_t)(pos - values));
	out[pos + 4] = FBT_MAP << 2 | 2;
	out[pos + 5] = 4;
	return pos + 6;
}

static int check(tfw_model *m, int v, const char *what)
{
	if (v < 0)
		fprintf(stderr, "test_models: %s: %s\n", what, tfw_last_error(m));
	return v;
}

/* ---- the detector ---- */

int td_write_detector(const char *path)
{
	tfw_model *m = tfw_new();
	if (!m)
		return -1;
	const int32_t in_dims[4] = { 1, 2, 2, 3 }, w_dims[4] = { 3, 1, 1, 3 }, b_dims[1] = { 3 },
		      sc_dims[4] = { 1, 2, 2, 3 }, rs_dims[3] = { 1, 4, 3 }, shp_dims[1] = { 3 },
		      box_dims[3] = { 1, 4, 4 }, anc_dims[2] = { 4, 4 };
	/* class scores: background 0, class 0 = red, class 1 = green (real weight 1.0) */
	const uint8_t w[9] = { 0, 0, 0, 255, 0, 0, 0, 255, 0 };
	const int32_t bias[3] = { 0, 0, 0 }, shape[3] = { 1, 4, 3 };
	const float box[16] = { 0 }, wscale = 1.0f / 255.0f, bscale = wscale * wscale;
	float anchors[16];
	for (int i = 0; i < 4; i++) {   /* ycenter, xcenter, h, w of the quadrants */
		anchors[4 * i] = 0.25f + 0.5f * (float)(i / 2);
		anchors[4 * i + 1] = 0.25f + 0.5f * (float)(i % 2);
		anchors[4 * i + 2] = 0.5f;
		anchors[4 * i + 3] = 0.5f;
	}
	int in = tfw_act(m, "image", TFW_UINT8, 4, in_dims, 1.0f / 255.0f, 0);
	int wt = tfw_const(m, "score_weights", TFW_UINT8, 4, w_dims, w, sizeof w, 1, &wscale,
			   NULL, 0);
	int bt = tfw_const(m, "score_bias", TFW_INT32, 1, b_dims, bias, sizeof bias, 1, &bscale,
			   NULL, 0);
	int sc = tfw_act(m, "scores_map", TFW_UINT8, 4, sc_dims, 1.0f / 255.0f, 0);
	int st = tfw_const(m, "scores_shape", TFW_INT32, 1, shp_dims, shape, sizeof shape, 0, NULL,
			   NULL, 0);
	int scores = tfw_act(m, "scores", TFW_UINT8, 3, rs_dims, 1.0f / 255.0f, 0);
	int boxes = tfw_const(m, "box_encodings", TFW_FLOAT32, 3, box_dims, box, sizeof box, 0,
			      NULL, NULL, 0);
	int anc = tfw_const(m, "anchors", TFW_FLOAT32, 2, anc_dims, anchors, sizeof anchors, 0,
			    NULL, NULL, 0);
	int outs[4];
	static const char *const names[4] = { "detection_boxes", "detection_classes",
					      "detection_scores", "num_detections" };
	for (int i = 0; i < 4; i++)
		outs[i] = tfw_tensor(m, names[i], TFW_FLOAT32, 0, NULL, 0, 0, NULL, NULL, 0);
	check(m, tfw_op_conv2d(m, in, wt, bt, sc, TFW_PAD_VALID, 1, 1, TFW_ACT_NONE, 1, 1), "conv");
	check(m, tfw_op_reshape(m, sc, st, scores, shape, 3), "reshape");
	static const td_flex_entry opts[] = {
		{ "detections_per_class", 'i', 100 }, { "h_scale", 'f', 5 },
		{ "max_classes_per_detection", 'i', 1 }, { "max_detections", 'i', 10 },
		{ "nms_iou_threshold", 'f', 0.5 }, { "nms_score_threshold", 'f', 0.01 },
		{ "num_classes", 'i', TD_DET_CLASSES }, { "use_regular_nms", 'b', 0 },
		{ "w_scale", 'f', 5 }, { "x_scale", 'f', 10 }, { "y_scale", 'f', 10 },
	};
	uint8_t fb[512];
	size_t fbn = td_flexbuffer_map(opts, sizeof opts / sizeof opts[0], fb, sizeof fb);
	int ins[3] = { boxes, scores, anc };
	check(m, tfw_op_custom(m, "TFLite_Detection_PostProcess", ins, 3, outs, 4, fb, fbn),
	      "postprocess");
	tfw_set_io(m, &in, 1, outs, 4);
	int rc = check(m, tfw_write_file(m, path), path);
	tfw_free(m);
	return rc < 0 ? -1 : 0;
}

/* ---- the slow classifier ---- */

static int conv3x3(tfw_model *m, int in, int cin, int cout, int size, int layer)
{
	char name[64];
	int32_t wd[4] = { cout, 3, 3, cin }, bd[1] = { cout }, od[4] = { 1, size, size, cout };
	uint8_t w[32 * 9 * 32];
	int32_t b[32] = { 0 };
	float ws = 0.01f, in_scale = layer ? 0.25f : 1.0f / 128.0f, bs = ws * in_scale;
	for (int i = 0; i < cout * 9 * cin; i++)
		w[i] = (uint8_t)(128 + (int)((unsigned)(i * 37 + layer * 11) % 9) - 4);
	snprintf(name, sizeof name, "conv%d/weights", layer);
	int wt = tfw_const(m, name, TFW_UINT8, 4, wd, w, (size_t)cout * 9 * cin, 1, &ws,
			   (const int64_t[]){ 128 }, 0);
	snprintf(name, sizeof name, "conv%d/bias", layer);
	int bt = tfw_const(m, name, TFW_INT32, 1, bd, b, sizeof(int32_t) * (size_t)cout, 1, &bs,
			   NULL, 0);
	snprintf(name, sizeof name, "conv%d", layer);
	int out = tfw_act(m, name, TFW_UINT8, 4, od, 0.25f, 128);
	check(m, tfw_op_conv2d(m, in, wt, bt, out, TFW_PAD_SAME, 1, 1, TFW_ACT_NONE, 1, 1), name);
	return out;
}

int td_write_slow(const char *path, int size, int layers)
{
	enum { C = 32, CLASSES = 10 };
	tfw_model *m = tfw_new();
	if (!m)
		return -1;
	int32_t in_dims[4] = { 1, size, size, 3 }, pd[4] = { 1, 1, 1, C },
		wd[4] = { CLASSES, 1, 1, C }, bd[1] = { CLASSES }, ld[4] = { 1, 1, 1, CLASSES },
		rd[2] = { 1, CLASSES }, sd[1] = { 2 }, shape[2] = { 1, CLASSES };
	int in = tfw_act(m, "image", TFW_UINT8, 4, in_dims, 1.0f / 128.0f, 128);
	int x = conv3x3(m, in, 3, C, size, 0);
	for (int l = 1; l <= layers; l++)
		x = conv3x3(m, x, C, C, size, l);
	int pool = tfw_act(m, "pool", TFW_UINT8, 4, pd, 0.25f, 128);
	check(m, tfw_op_pool(m, TFW_OP_AVERAGE_POOL_2D, x, pool, TFW_PAD_VALID, 1, 1, size, size,
			     TFW_ACT_NONE), "pool");
	uint8_t w[CLASSES * C];
	int32_t b[CLASSES] = { 0 };
	for (int i = 0; i < CLASSES * C; i++)
		w[i] = (uint8_t)(128 + (i % 5) - 2);
	float ws = 0.05f, bs = ws * 0.25f;
	int wt = tfw_const(m, "logits/weights", TFW_UINT8, 4, wd, w, sizeof w, 1, &ws,
			   (const int64_t[]){ 128 }, 0);
	int bt = tfw_const(m, "logits/bias", TFW_INT32, 1, bd, b, sizeof b, 1, &bs, NULL, 0);
	int logits = tfw_act(m, "logits", TFW_UINT8, 4, ld, 0.1f, 128);
	check(m, tfw_op_conv2d(m, pool, wt, bt, logits, TFW_PAD_VALID, 1, 1, TFW_ACT_NONE, 1, 1),
	      "logits");
	int st = tfw_const(m, "logits/shape", TFW_INT32, 1, sd, shape, sizeof shape, 0, NULL, NULL,
			   0);
	int flat = tfw_act(m, "logits_flat", TFW_UINT8, 2, rd, 0.1f, 128);
	check(m, tfw_op_reshape(m, logits, st, flat, shape, 2), "reshape");
	int prob = tfw_act(m, "probabilities", TFW_UINT8, 2, rd, 1.0f / 256.0f, 0);
	check(m, tfw_op_softmax(m, flat, prob, 1.0f), "softmax");
	tfw_set_io(m, &in, 1, &prob, 1);
	int rc = check(m, tfw_write_file(m, path), path);
	tfw_free(m);
	return rc < 0 ? -1 : 0;
}
