/* fuzz_image — libFuzzer harness for libmnv2image's PNG/JPEG decoder and the engine's
 * preprocessing of what it decodes.
 *
 * Build: scripts/fuzz.sh image (clang -fsanitize=fuzzer,address,undefined, image/src and
 * the engine's sources, libpng and libturbojpeg from pkg-config).
 * Limits are modest (1 Mpixel, 1 MiB of input) so that every input decodes quickly and
 * the fuzzer explores formats rather than spending its time on large images. Any success
 * must give a consistent image; any failure must come with a message.
 *
 * A decoded image then goes through mnv2_preprocess() into a model input whose size
 * (1..64 x 1..64), type (uint8, int8, float32), zero point, resize mode and filter are
 * drawn from a hash of the input, and through mnv2_preprocess_roi() on a region drawn the
 * same way. Both must succeed (the image and the tensor are valid), the region with the
 * whole image must give exactly mnv2_preprocess()'s bytes, and the transforms must map to
 * the image's size.
 *
 * Built with -DMNV2_FUZZ_SEEDS instead (no libFuzzer), it is `fuzz_image_seeds DIR`: PNGs
 * of every colour type and bit depth (some interlaced, with palettes and tRNS), baseline,
 * progressive and greyscale JPEGs in three subsamplings, and JPEGs with an EXIF orientation
 * (both byte orders); each is checked to decode before it is written. */
#include "mnv2/image.h"
#include "mnv2/preprocess.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 1099511628211ull;
	return h;
}

static void check_transform(const mnv2_transform *tf, const mnv2_image *img,
			    const mnv2_tensor_info *in)
{
	if (tf->src_w != img->width || tf->src_h != img->height ||
	    tf->dst_w != (uint32_t)in->dims[2] || tf->dst_h != (uint32_t)in->dims[1] ||
	    !isfinite(tf->scale_x) || !isfinite(tf->scale_y) || !(tf->scale_x > 0) ||
	    !(tf->scale_y > 0) || !isfinite(tf->offset_x) || !isfinite(tf->offset_y))
		abort();
}

/* The decoded image into a model input chosen by h. */
static void preprocess(const mnv2_image *img, uint64_t h)
{
	static const mnv2_dtype types[3] = { MNV2_UINT8, MNV2_INT8, MNV2_FLOAT32 };
	mnv2_tensor_info in = { .name = "input", .rank = 4, .quantized = 1, .scale = 1.0f / 128 };
	in.type = types[h % 3];
	in.dims[0] = 1;
	in.dims[1] = (int32_t)(1 + (h >> 2) % 64);
	in.dims[2] = (int32_t)(1 + (h >> 8) % 64);
	in.dims[3] = 3;
	in.zero_point = (int32_t)((h >> 14) & 0xff) - (in.type == MNV2_INT8 ? 128 : 0);
	in.bytes = (size_t)in.dims[1] * (size_t)in.dims[2] * 3 * (in.type == MNV2_FLOAT32 ? 4 : 1);
	mnv2_preprocess_opts po = { .mode = (mnv2_resize_mode)((h >> 22) % 3),
				    .filter = (mnv2_resize_filter)(h >> 63) };
	uint8_t *a = malloc(in.bytes), *b = malloc(in.bytes);
	if (!a || !b)
		abort();
	mnv2_rgb_view v = { img->data, img->width, img->height, img->stride };
	mnv2_transform ta, tb;
	mnv2_error e = { { 0 } };
	if (mnv2_preprocess(&v, &in, &po, a, in.bytes, &ta, &e))
		abort();
	check_transform(&ta, img, &in);
	mnv2_rect whole = { 0, 0, img->width, img->height };
	if (mnv2_preprocess_roi(&v, &whole, &in, &po, b, in.bytes, &tb, &e) ||
	    memcmp(a, b, in.bytes) || memcmp(&ta, &tb, sizeof ta))
		abort();
	/* a region inside the image */
	uint32_t x = (uint32_t)((h >> 26) % img->width), y = (uint32_t)((h >> 38) % img->height);
	mnv2_rect r = { x, y, 1 + (uint32_t)((h >> 50) % (img->width - x)),
			1 + (uint32_t)((h >> 32) % (img->height - y)) };
	if (mnv2_preprocess_roi(&v, &r, &in, &po, b, in.bytes, &tb, &e))
		abort();
	check_transform(&tb, img, &in);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const mnv2_image_limits lim = {.max_pixels = (uint64_t)1 << 20, .max_bytes = (size_t)1 << 20};
	char err[MNV2_IMAGE_ERR_LEN];
	mnv2_image img;
	int o = mnv2_image_exif_orientation(data, size);
	if (o < 1 || o > 8)
		abort();
	err[0] = '\0';
	if (mnv2_image_decode(data, size, &lim, &img, err, sizeof err) == 0) {
		uint64_t px = (uint64_t)img.width * img.height;
		volatile uint8_t sink = 0;
		if (!img.data || px == 0 || px > lim.max_pixels || img.stride != (size_t)img.width * 3)
			abort();
		/* touch the first and last pixel so ASan sees the whole buffer is there */
		sink ^= img.data[0];
		sink ^= img.data[px * 3 - 1];
		(void)sink;
		preprocess(&img, fnv1a(data, size));
		mnv2_image_free(&img);
	} else if (err[0] == '\0' || img.data != NULL) {
		abort();
	}
	return 0;
}

#ifdef MNV2_FUZZ_SEEDS
#include <errno.h>
#include <png.h>
#include <sys/stat.h>
#include <turbojpeg.h>

typedef struct membuf {
	uint8_t *p;
	size_t len, cap;
} membuf;

static void mb_write(png_structp png, png_bytep d, size_t n)
{
	membuf *b = png_get_io_ptr(png);
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p)
			png_error(png, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void mb_flush(png_structp png)
{
	(void)png;
}

typedef struct png_seed {
	uint32_t w, h;
	int color, depth, interlace, trns;
} png_seed;

/* A PNG of pseudo-random-ish but smooth samples; NULL on failure. */
static uint8_t *make_png(const png_seed *s, size_t *len)
{
	int ch = s->color == PNG_COLOR_TYPE_GRAY ? 1 : s->color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
		 : s->color == PNG_COLOR_TYPE_RGB ? 3 : s->color == PNG_COLOR_TYPE_RGBA ? 4 : 1;
	size_t row = ((size_t)s->w * (size_t)ch * (size_t)s->depth + 7) / 8;
	uint8_t *pix = calloc(s->h, row);
	png_bytep *rows = calloc(s->h, sizeof *rows);
	membuf b = { 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!pix || !rows || !info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(pix);
		free(rows);
		free(b.p);
		return NULL;
	}
	for (uint32_t y = 0; y < s->h; y++) {
		rows[y] = pix + y * row;
		for (size_t i = 0; i < row; i++)
			rows[y][i] = (uint8_t)(i * 13 + y * 29 + (i * y) / 7);
	}
	png_set_write_fn(png, &b, mb_write, mb_flush);
	png_set_IHDR(png, info, s->w, s->h, s->depth, s->color, s->interlace,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_color pal[256];
	png_byte trans[256];
	if (s->color == PNG_COLOR_TYPE_PALETTE) {
		int n = 1 << s->depth;
		for (int i = 0; i < n; i++) {
			pal[i] = (png_color){ (png_byte)(i * 37), (png_byte)(255 - i), (png_byte)(i * 5) };
			trans[i] = (png_byte)(i * 3);
		}
		png_set_PLTE(png, info, pal, n);
		if (s->trns)
			png_set_tRNS(png, info, trans, n, NULL);
	} else if (s->trns && !(s->color & PNG_COLOR_MASK_ALPHA)) {
		png_color_16 tc = { 0, 1, 1, 1, 1 };
		png_set_tRNS(png, info, NULL, 0, &tc);
	}
	png_set_gAMA(png, info, 1.0 / 2.2);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(pix);
	free(rows);
	*len = b.len;
	return b.p;
}

/* A JPEG (tjCompress2); gray: one component. NULL on failure. */
static uint8_t *make_jpeg(uint32_t w, uint32_t h, int subsamp, int gray, int progressive,
			  size_t *len)
{
	tjhandle tj = tjInitCompress();
	uint8_t *rgb = malloc((size_t)w * h * 3), *out = NULL, *copy = NULL;
	unsigned long n = 0;
	if (tj && rgb) {
		for (size_t i = 0; i < (size_t)w * h * 3; i++)
			rgb[i] = (uint8_t)(i * 3 + (i / (3 * w)) * 17);
		int flags = progressive ? TJFLAG_PROGRESSIVE : 0;
		if (!tjCompress2(tj, rgb, (int)w, 0, (int)h, TJPF_RGB, &out, &n,
				 gray ? TJSAMP_GRAY : subsamp, 85, flags) &&
		    (copy = malloc(n))) {
			memcpy(copy, out, n);
			*len = n;
		}
	}
	tjFree(out);
	free(rgb);
	if (tj)
		tjDestroy(tj);
	return copy;
}

/* Puts an APP1 Exif segment with IFD0 orientation `o` after the SOI marker. */
static uint8_t *add_exif(uint8_t *jpeg, size_t *len, int o, int big_endian)
{
	uint8_t seg[40] = { 0xff, 0xe1, 0, 34, 'E', 'x', 'i', 'f', 0, 0 };
	uint8_t *t = seg + 10;   /* TIFF header: byte order, 42, IFD0 at 8 */
	int be = big_endian;
#define P16(p, v) (be ? ((p)[0] = (uint8_t)((v) >> 8), (p)[1] = (uint8_t)(v)) \
		      : ((p)[0] = (uint8_t)(v), (p)[1] = (uint8_t)((v) >> 8)))
#define P32(p, v) (be ? (P16(p, (v) >> 16), P16((p) + 2, (v) & 0xffff)) \
		      : (P16(p, (v) & 0xffff), P16((p) + 2, (v) >> 16)))
	t[0] = t[1] = be ? 'M' : 'I';
	P16(t + 2, 42);
	P32(t + 4, 8);
	P16(t + 8, 1);                        /* one entry */
	P16(t + 10, 0x0112);                  /* orientation */
	P16(t + 12, 3);                       /* SHORT */
	P32(t + 14, 1);                       /* count */
	P16(t + 18, o);                       /* value */
	P32(t + 22, 0);                       /* no next IFD */
#undef P16
#undef P32
	uint8_t *out = malloc(*len + sizeof seg - 4);
	if (!out) {
		free(jpeg);
		return NULL;
	}
	memcpy(out, jpeg, 2);
	memcpy(out + 2, seg, 36);
	memcpy(out + 38, jpeg + 2, *len - 2);
	*len += 36;
	free(jpeg);
	return out;
}

static int write_seed(const char *dir, int *n, const char *name, uint8_t *d, size_t len)
{
	mnv2_image img;
	char err[MNV2_IMAGE_ERR_LEN], path[600];
	if (!d) {
		fprintf(stderr, "fuzz_image_seeds: %s: cannot encode\n", name);
		return 1;
	}
	int rc = 0;
	if (mnv2_image_decode(d, len, NULL, &img, err, sizeof err)) {
		fprintf(stderr, "fuzz_image_seeds: %s does not decode: %s\n", name, err);
		rc = 1;
	}
	mnv2_image_free(&img);
	LLVMFuzzerTestOneInput(d, len);
	snprintf(path, sizeof path, "%s/%02d-%s", dir, (*n)++, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(d, 1, len, f) != len)
		rc = 1;
	if (f && fclose(f))
		rc = 1;
	free(d);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_image_seeds DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	static const png_seed pngs[] = {
		{ 7, 5, PNG_COLOR_TYPE_GRAY, 1, 0, 0 }, { 9, 6, PNG_COLOR_TYPE_GRAY, 2, 1, 0 },
		{ 11, 3, PNG_COLOR_TYPE_GRAY, 4, 0, 1 }, { 13, 9, PNG_COLOR_TYPE_GRAY, 8, 1, 1 },
		{ 5, 5, PNG_COLOR_TYPE_GRAY, 16, 0, 0 }, { 17, 4, PNG_COLOR_TYPE_RGB, 8, 0, 1 },
		{ 6, 11, PNG_COLOR_TYPE_RGB, 16, 1, 0 }, { 8, 8, PNG_COLOR_TYPE_PALETTE, 1, 0, 1 },
		{ 10, 7, PNG_COLOR_TYPE_PALETTE, 2, 0, 0 }, { 9, 9, PNG_COLOR_TYPE_PALETTE, 4, 1, 1 },
		{ 33, 17, PNG_COLOR_TYPE_PALETTE, 8, 0, 1 }, { 12, 5, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0 },
		{ 4, 6, PNG_COLOR_TYPE_GRAY_ALPHA, 16, 1, 0 }, { 15, 8, PNG_COLOR_TYPE_RGBA, 8, 1, 0 },
		{ 7, 7, PNG_COLOR_TYPE_RGBA, 16, 0, 0 }, { 1, 1, PNG_COLOR_TYPE_RGB, 8, 0, 0 },
	};
	int n = 0, failed = 0;
	char name[64];
	for (size_t i = 0; i < sizeof pngs / sizeof pngs[0]; i++) {
		size_t len = 0;
		uint8_t *p = make_png(&pngs[i], &len);
		snprintf(name, sizeof name, "png-c%d-d%d%s", pngs[i].color, pngs[i].depth,
			 pngs[i].interlace ? "-i" : "");
		failed |= write_seed(argv[1], &n, name, p, len);
	}
	static const int subsamp[3] = { TJSAMP_444, TJSAMP_422, TJSAMP_420 };
	for (int i = 0; i < 3; i++) {
		for (int prog = 0; prog < 2; prog++) {
			size_t len = 0;
			uint8_t *j = make_jpeg(19 + 4 * (uint32_t)i, 13, subsamp[i], 0, prog, &len);
			snprintf(name, sizeof name, "jpeg-s%d%s", subsamp[i], prog ? "-prog" : "");
			failed |= write_seed(argv[1], &n, name, j, len);
		}
	}
	size_t len = 0;
	failed |= write_seed(argv[1], &n, "jpeg-gray", make_jpeg(16, 9, TJSAMP_444, 1, 0, &len),
			     len);
	for (int o = 2; o <= 8; o += 3) {
		for (int be = 0; be < 2; be++) {
			uint8_t *j = make_jpeg(10, 6, TJSAMP_420, 0, 0, &len);
			if (j)
				j = add_exif(j, &len, o, be);
			snprintf(name, sizeof name, "jpeg-exif%d-%s", o, be ? "mm" : "ii");
			failed |= write_seed(argv[1], &n, name, j, len);
		}
	}
	printf("fuzz_image_seeds: %d seeds in %s\n", n, argv[1]);
	return failed;
}
#endif
