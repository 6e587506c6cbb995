/* catalog — see soak.h. */
#include "soak.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* ---- images ---- */

static uint8_t *keep(soak_catalog *c, uint8_t *p)
{
	if (p && c->n_images < SOAK_MAX_CATALOG)
		c->images[c->n_images++] = p;
	else if (p) {
		free(p);
		p = NULL;
	}
	return p;
}

/* A w x h image of `bpp` bytes a pixel: smooth gradients with a few edges. */
static uint8_t *pattern(uint32_t w, uint32_t h, unsigned bpp, unsigned seed)
{
	uint8_t *p = malloc((size_t)w * h * bpp);
	for (uint32_t y = 0; p && y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			for (unsigned k = 0; k < bpp; k++)
				p[((size_t)y * w + x) * bpp + k] =
					(uint8_t)((x * (40 + 13 * k) / w) + (y * (200 - 50 * k) / h) +
						  (((x / 8) ^ (y / 8)) & 1) * 30 + seed * 17);
	return p;
}

static uint8_t *halves(uint32_t w, uint32_t h)   /* left red, right green */
{
	uint8_t *p = calloc((size_t)w * h, 3);
	for (uint32_t y = 0; p && y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			p[((size_t)y * w + x) * 3 + (x < w / 2 ? 0 : 1)] = 230;
	return p;
}

typedef struct membuf {
	uint8_t *p;
	size_t len, cap;
} membuf;

static void mb_write(png_structp png, png_bytep d, size_t n)
{
	membuf *b = png_get_io_ptr(png);
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			png_error(png, "out of memory");
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void mb_flush(png_structp png)
{
	(void)png;
}

static uint8_t *encode_png(const uint8_t *rgb, uint32_t w, uint32_t h, size_t *len)
{
	membuf b = { 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(b.p);
		return NULL;
	}
	png_set_write_fn(png, &b, mb_write, mb_flush);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < h; y++)
		png_write_row(png, rgb + (size_t)y * w * 3);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	*len = b.len;
	return b.p;
}

static uint8_t *encode_jpeg(const uint8_t *rgb, uint32_t w, uint32_t h, size_t *len)
{
	tjhandle tj = tjInitCompress();
	uint8_t *out = NULL, *copy = NULL;
	unsigned long n = 0;
	if (tj && !tjCompress2(tj, rgb, (int)w, 0, (int)h, TJPF_RGB, &out, &n, TJSAMP_420, 90, 0) &&
	    (copy = malloc(n))) {
		memcpy(copy, out, n);
		*len = n;
	}
	tjFree(out);
	if (tj)
		tjDestroy(tj);
	return copy;
}

/* NV12 of a w x h (even) frame from an RGB pattern's channels (any content will do). */
static uint8_t *nv12(uint32_t w, uint32_t h, size_t *len)
{
	*len = (size_t)w * h * 3 / 2;
	uint8_t *p = pattern(w, h * 3 / 2, 1, 3);
	return p;
}

/* ---- entries ---- */

static soak_entry *add(soak_catalog *c, const char *name, int detect, const char *model)
{
	if (c->n >= SOAK_MAX_CATALOG)
		return NULL;
	soak_entry *e = &c->e[c->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	snprintf(e->model, sizeof e->model, "%s", model);
	e->detect = detect;
	return e;
}

static void raw(soak_entry *e, Mnv2__PixelFormat f, uint32_t w, uint32_t h, const uint8_t *d,
		size_t len)
{
	if (!e)
		return;
	e->format = f;
	e->width = w;
	e->height = h;
	e->data = d;
	e->len = len;
}

static void enc(soak_entry *e, const uint8_t *d, size_t len)
{
	if (!e)
		return;
	e->encoded = 1;
	e->data = d;
	e->len = len;
}

static void opts(soak_entry *e, uint32_t top_k, Mnv2__ResizeMode m)
{
	if (!e)
		return;
	e->top_k = top_k;
	e->resize = m;
}

static int exists(const char *dir, const char *file)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	FILE *f = fopen(p, "rb");
	if (f)
		fclose(f);
	return f != NULL;
}

static void add_real(soak_catalog *c, const char *real_dir, const char *images_dir,
		     const uint8_t *png, size_t png_len)
{
	static const struct { const char *file, *model; int detect; } real[] = {
		{ "mobilenet_v2_1.0_224_quant.tflite", "mnv2_quant", 0 },
		{ "tf2_mobilenet_v2_1.0_224_ptq.tflite", "mnv2_ptq", 0 },
		{ "mobilenet_ssd_v2_coco_quant_postprocess.tflite", "ssd_v2", 1 },
		{ "ssd_mobilenet_v1_1_default_1.tflite", "ssd_v1", 1 },
	};
	const uint8_t *photo[2] = { NULL, NULL };
	size_t photo_len[2] = { 0, 0 };
	static const char *const photos[2] = { "hot_dog.jpg", "kite_and_cold.jpg" };
	for (int i = 0; images_dir && i < 2; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", images_dir, photos[i]);
		photo[i] = keep(c, soak_read_file(p, &photo_len[i]));
	}
	char name[64];
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
		if (!real_dir || !exists(real_dir, real[i].file))
			continue;
		int d = real[i].detect;
		snprintf(name, sizeof name, "%s/%s", real[i].model, photo[d] ? photos[d] : "png");
		soak_entry *e = add(c, name, d, real[i].model);
		if (photo[d])
			enc(e, photo[d], photo_len[d]);
		else
			enc(e, png, png_len);
		if (e)
			e->real = 1;
		c->n_real += e != NULL;
	}
}

int soak_catalog_build(soak_catalog *c, const char *real_dir, const char *images_dir)
{
	memset(c, 0, sizeof *c);
	const uint32_t W = 64, H = 48;
	uint8_t *grad = keep(c, pattern(W, H, 3, 0)), *bgr = keep(c, pattern(33, 21, 3, 1)),
		*rgba = keep(c, pattern(40, 40, 4, 2)), *gray = keep(c, pattern(50, 30, 1, 4)),
		*red = keep(c, halves(2, 2)), *hv = keep(c, halves(40, 20));
	size_t nv_len = 0;
	uint8_t *nv = keep(c, nv12(W, H, &nv_len));
	if (!grad || !bgr || !rgba || !gray || !red || !hv || !nv)
		return -1;
	memset(red, 0, 12);
	for (int i = 0; i < 4; i++)
		red[3 * i] = 255;
	c->png = keep(c, encode_png(grad, W, H, &c->png_len));
	c->jpeg = keep(c, encode_jpeg(grad, W, H, &c->jpeg_len));
	if (!c->png || !c->jpeg)
		return -1;
	const Mnv2__PixelFormat RGB = MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGB888;
	raw(add(c, "cls/gradient.rgb", 0, "cls"), RGB, W, H, grad, (size_t)W * H * 3);
	soak_entry *e = add(c, "cls/pattern.bgr", 0, "cls");
	raw(e, MNV2__PIXEL_FORMAT__PIXEL_FORMAT_BGR888, 33, 21, bgr, 33 * 21 * 3);
	opts(e, 3, MNV2__RESIZE_MODE__RESIZE_STRETCH);
	e = add(c, "cls/pattern.rgba", 0, "");
	raw(e, MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGBA8888, 40, 40, rgba, 40 * 40 * 4);
	opts(e, 10, MNV2__RESIZE_MODE__RESIZE_LETTERBOX);
	e = add(c, "cls/pattern.gray", 0, "cls");
	raw(e, MNV2__PIXEL_FORMAT__PIXEL_FORMAT_GRAY8, 50, 30, gray, 50 * 30);
	opts(e, 1, MNV2__RESIZE_MODE__RESIZE_CENTER_CROP);
	enc(add(c, "cls/gradient.png", 0, "cls"), c->png, c->png_len);
	enc(add(c, "cls/gradient.jpg", 0, "cls"), c->jpeg, c->jpeg_len);
	raw(add(c, "cls/frame.nv12", 0, "cls"), MNV2__PIXEL_FORMAT__PIXEL_FORMAT_NV12, W, H, nv,
	    nv_len);
	raw(add(c, "det/red.rgb", 1, "det"), RGB, 2, 2, red, 12);
	raw(add(c, "det/halves.rgb", 1, ""), RGB, 40, 20, hv, 40 * 20 * 3);
	e = add(c, "det/gradient.png", 1, "det");
	enc(e, c->png, c->png_len);
	opts(e, 0, MNV2__RESIZE_MODE__RESIZE_LETTERBOX);
	enc(add(c, "det/gradient.jpg", 1, "det"), c->jpeg, c->jpeg_len);
	raw(add(c, "slow/gradient.rgb", 0, TD_SLOW), RGB, W, H, grad, (size_t)W * H * 3);
	add_real(c, real_dir, images_dir, c->png, c->png_len);
	return 0;
}

void soak_catalog_free(soak_catalog *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].ref);
	for (size_t i = 0; i < c->n_images; i++)
		free(c->images[i]);
	memset(c, 0, sizeof *c);
}

void soak_entry_request(const soak_entry *e, td_image_req *q, uint64_t id)
{
	if (e->encoded)
		td_encoded_request(q, e->detect, id, e->model, e->data, e->len);
	else
		td_raw_request(q, e->detect, id, e->model, e->format, e->width, e->height, e->data,
			       e->len);
	q->opts.top_k = e->top_k;
	q->opts.resize = e->resize;
	if (e->detect)
		q->det.options = &q->opts;
	else
		q->cls.options = &q->opts;
}

/* The answer's result, packed (timing is not part of it). */
static uint8_t *pack_result(const Mnv2__Response *r, size_t *len)
{
	const ProtobufCMessage *m = r->result_case == MNV2__RESPONSE__RESULT_CLASSIFY
					    ? &r->classify->base
				    : r->result_case == MNV2__RESPONSE__RESULT_DETECT
					    ? &r->detect->base
					    : NULL;
	if (!m)
		return NULL;
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*len ? *len : 1);
	if (b)
		protobuf_c_message_pack(m, b);
	return b;
}

int soak_entry_check(const soak_entry *e, const Mnv2__Response *r, char *why, size_t len)
{
	if (r->status != MNV2__STATUS_CODE__STATUS_OK) {
		snprintf(why, len, "%s: status %d: %s", e->name, (int)r->status, r->message);
		return 0;
	}
	size_t n = 0;
	uint8_t *got = pack_result(r, &n);
	int same = got && n == e->ref_len && !memcmp(got, e->ref, n);
	free(got);
	if (!same)
		snprintf(why, len, "%s: the answer differs from the same request's answer alone",
			 e->name);
	return same;
}

int soak_catalog_reference(soak_catalog *c, const char *sock)
{
	size_t kept = 0;
	for (size_t i = 0; i < c->n; i++) {
		soak_entry *e = &c->e[i];
		td_image_req q;
		soak_entry_request(e, &q, 100 + i);
		Mnv2__Response *r = soak_roundtrip(sock, &q.req, 120000);
		int unknown_format = r && r->status == MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT &&
				     strstr(r->message, "pixel format");
		if (!unknown_format && (!r || r->status != MNV2__STATUS_CODE__STATUS_OK ||
					!(e->ref = pack_result(r, &e->ref_len)))) {
			soak_fail("reference %s: %s", e->name,
				  r ? r->message : "no answer");
			if (r)
				mnv2__response__free_unpacked(r, NULL);
			return -1;
		}
		if (unknown_format) {
			soak_note("reference %s: the server does not take this pixel format yet "
				  "(%s); left out", e->name, r->message);
		} else {
			soak_entry tmp = *e;
			c->e[kept++] = tmp;
		}
		mnv2__response__free_unpacked(r, NULL);
	}
	c->n = kept;
	return 0;
}
