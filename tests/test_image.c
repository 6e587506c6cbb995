/* test_image — libmnv2image: PNG/JPEG decoding, EXIF orientation, raw frames, limits and
 * robustness against truncated, corrupt and lying input.
 *
 * Self-contained cases build their inputs here with libpng's and libturbojpeg's encoders
 * (every PNG colour type, bit depth and interlace method; baseline, progressive, greyscale
 * and CMYK JPEGs; JPEGs with spliced-in EXIF segments) and compute the expected pixels
 * independently of the decoder. Cases that need ../shared/images (every PNG there, and the
 * two JPEGs that must decode to exactly the pixels of their PNG conversions) print a SKIP
 * line and pass when it is absent.
 *
 * Policy checked here: every proper prefix of a PNG or JPEG is an error (the PNG decoder
 * reads to IEND; the JPEG decoder treats libjpeg's "premature end" warning as an error). */
#include "mnv2/image.h"
#include "test_util.h"

#include <check.h>
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

static const char *shared;

/* ---------------------------------------------------------------- byte buffers */

struct membuf {
	uint8_t *p;
	size_t n, cap;
};

static void mb_put(struct membuf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		ck_assert_ptr_nonnull(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t c = 0xffffffffu;
	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t t = i;
			for (int k = 0; k < 8; k++)
				t = t & 1 ? 0xedb88320u ^ (t >> 1) : t >> 1;
			table[i] = t;
		}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* Offset of the first chunk of the given type (its length field), or 0. */
static size_t png_find_chunk(const uint8_t *p, size_t n, const char *type)
{
	size_t pos = 8;
	while (pos + 12 <= n) {
		uint32_t len = be32(p + pos);
		if (memcmp(p + pos + 4, type, 4) == 0)
			return pos;
		if (len > n - pos - 12)
			break;
		pos += 12 + len;
	}
	return 0;
}

/* Recomputes the CRC of the chunk whose length field is at pos. */
static void png_fix_crc(uint8_t *p, size_t pos)
{
	uint32_t len = be32(p + pos);
	put_be32(p + pos + 8 + len, crc32_png(p + pos + 4, 4 + (size_t)len));
}

static void png_set_ihdr_size(uint8_t *p, size_t n, uint32_t w, uint32_t h)
{
	size_t ihdr = png_find_chunk(p, n, "IHDR");
	ck_assert_uint_eq(ihdr, 8);
	put_be32(p + ihdr + 8, w);
	put_be32(p + ihdr + 12, h);
	png_fix_crc(p, ihdr);
}

/* ---------------------------------------------------------------- PNG encoder */

struct png_spec {
	uint32_t w, h;
	int color_type, bit_depth, interlace;
	int npal;
	png_color pal[256];
	int ntrans; /* palette tRNS entries */
	png_byte trans[256];
	int has_trans_color; /* grey/RGB tRNS */
	png_color_16 trans_color;
	int extras; /* gAMA, tEXt and a private chunk */
	int level;  /* zlib level */
};

static void png_wr(png_structp png, png_bytep d, size_t n)
{
	mb_put(png_get_io_ptr(png), d, n);
}

static void png_fl(png_structp png)
{
	(void)png;
}

/* Encodes rows (PNG sample layout) with libpng's writer. */
static uint8_t *png_encode(const struct png_spec *s, png_bytep *rows, size_t *len)
{
	struct membuf *b = calloc(1, sizeof *b);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	uint8_t *out;
	ck_assert(b && info);
	if (setjmp(png_jmpbuf(png)))
		ck_abort_msg("libpng could not write the test image");
	png_set_write_fn(png, b, png_wr, png_fl);
	png_set_compression_level(png, s->level ? s->level : 6);
	png_set_IHDR(png, info, s->w, s->h, s->bit_depth, s->color_type, s->interlace,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (s->color_type == PNG_COLOR_TYPE_PALETTE)
		png_set_PLTE(png, info, s->pal, s->npal);
	if (s->ntrans || s->has_trans_color)
		png_set_tRNS(png, info, s->ntrans ? s->trans : NULL, s->ntrans,
			     s->has_trans_color ? &s->trans_color : NULL);
	if (s->extras) {
		static char key[] = "Comment", text[] = "test image";
		static png_byte name[] = "prVt";
		png_text t = {.compression = PNG_TEXT_COMPRESSION_NONE, .key = key, .text = text};
		png_unknown_chunk u = {.data = name, .size = 4, .location = PNG_HAVE_IHDR};
		memcpy(u.name, name, 5);
		png_set_gAMA(png, info, 1.0 / 2.2);
		png_set_text(png, info, &t, 1);
		png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, NULL, 0);
		png_set_unknown_chunks(png, info, &u, 1);
	}
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	out = b->p;
	*len = b->n;
	free(b);
	return out;
}

static int channels_of(int color_type)
{
	switch (color_type) {
	case PNG_COLOR_TYPE_GRAY:
	case PNG_COLOR_TYPE_PALETTE:
		return 1;
	case PNG_COLOR_TYPE_GRAY_ALPHA:
		return 2;
	case PNG_COLOR_TYPE_RGB:
		return 3;
	default:
		return 4;
	}
}

/* A sample of bit_depth bits to 8 bits as the decoder must: low depths scaled to 0..255
 * (1 -> x255, 2 -> x85, 4 -> x17), 16 bits -> high byte. */
static uint8_t to8(unsigned v, int bit_depth)
{
	if (bit_depth == 16)
		return (uint8_t)(v >> 8);
	return (uint8_t)(v * 255u / ((1u << bit_depth) - 1));
}

/* Builds a random PNG of the spec's type; fills want (w*h*3) with the expected RGB. */
static uint8_t *make_png(struct png_spec *s, uint32_t *rng, uint8_t *want, size_t *len)
{
	int ch = channels_of(s->color_type), bd = s->bit_depth;
	unsigned maxv = (1u << bd) - 1;
	size_t rowbytes = ((size_t)s->w * (size_t)ch * (size_t)bd + 7) / 8;
	png_bytep *rows = calloc(s->h, sizeof *rows);
	uint8_t *png;
	ck_assert_ptr_nonnull(rows);
	if (s->color_type == PNG_COLOR_TYPE_PALETTE) {
		s->npal = (int)(maxv + 1 < 256 ? maxv + 1 : 200); /* indices stay < npal */
		for (int i = 0; i < s->npal; i++) {
			s->pal[i].red = (png_byte)test_rand(rng);
			s->pal[i].green = (png_byte)test_rand(rng);
			s->pal[i].blue = (png_byte)test_rand(rng);
			s->trans[i] = (png_byte)test_rand(rng);
		}
	}
	for (uint32_t y = 0; y < s->h; y++) {
		rows[y] = calloc(rowbytes ? rowbytes : 1, 1);
		ck_assert_ptr_nonnull(rows[y]);
		for (uint32_t x = 0; x < s->w; x++) {
			unsigned v[4];
			uint8_t *o = want + ((size_t)y * s->w + x) * 3;
			for (int c = 0; c < ch; c++) {
				size_t bit = ((size_t)x * (size_t)ch + (size_t)c) * (size_t)bd;
				v[c] = test_rand(rng) & maxv;
				if (s->color_type == PNG_COLOR_TYPE_PALETTE)
					v[c] %= (unsigned)s->npal;
				if (s->has_trans_color && x == 0) /* some pixels hit the tRNS colour */
					v[c] = c == 0 ? s->trans_color.gray : 0;
				if (bd == 16) {
					rows[y][bit / 8] = (png_byte)(v[c] >> 8);
					rows[y][bit / 8 + 1] = (png_byte)v[c];
				} else {
					rows[y][bit / 8] |= (png_byte)(v[c] << (8 - bd - bit % 8));
				}
			}
			if (s->color_type == PNG_COLOR_TYPE_PALETTE) {
				o[0] = s->pal[v[0]].red;
				o[1] = s->pal[v[0]].green;
				o[2] = s->pal[v[0]].blue;
			} else if (ch <= 2) {
				o[0] = o[1] = o[2] = to8(v[0], bd);
			} else {
				for (int c = 0; c < 3; c++)
					o[c] = to8(v[c], bd);
			}
		}
	}
	png = png_encode(s, rows, len);
	for (uint32_t y = 0; y < s->h; y++)
		free(rows[y]);
	free(rows);
	return png;
}

/* A small 8-bit RGB PNG with known pixels. */
static uint8_t *small_rgb_png(uint32_t w, uint32_t h, uint8_t *want, size_t *len)
{
	struct png_spec s = {.w = w, .h = h, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 8};
	uint32_t rng = 1234;
	return make_png(&s, &rng, want, len);
}

/* ---------------------------------------------------------------- JPEG helpers */

static uint8_t *jpeg_encode(const uint8_t *px, int w, int h, int pf, int subsamp, int quality,
			    int flags, size_t *len)
{
	tjhandle tj = tjInitCompress();
	unsigned char *buf = NULL;
	unsigned long n = 0;
	uint8_t *out;
	ck_assert_ptr_nonnull(tj);
	ck_assert_msg(tjCompress2(tj, px, w, 0, h, pf, &buf, &n, subsamp, quality, flags) == 0,
		      "tjCompress2: %s", tjGetErrorStr2(tj));
	out = malloc(n);
	ck_assert_ptr_nonnull(out);
	memcpy(out, buf, n);
	*len = n;
	tjFree(buf);
	tjDestroy(tj);
	return out;
}

/* libjpeg-turbo's own decode with default flags, to TJPF_RGB or TJPF_GRAY. */
static uint8_t *jpeg_reference(const uint8_t *jpg, size_t len, int pf, int *w, int *h)
{
	tjhandle tj = tjInitDecompress();
	int ss, cs;
	uint8_t *px;
	ck_assert_ptr_nonnull(tj);
	ck_assert(tjDecompressHeader3(tj, jpg, len, w, h, &ss, &cs) == 0);
	px = malloc((size_t)*w * (size_t)*h * (size_t)tjPixelSize[pf]);
	ck_assert_ptr_nonnull(px);
	ck_assert_msg(tjDecompress2(tj, jpg, len, px, *w, 0, *h, pf, 0) == 0, "%s",
		      tjGetErrorStr2(tj));
	tjDestroy(tj);
	return px;
}

/* A smooth asymmetric colour pattern, w*h*3 (w, h <= 64). */
static uint8_t *pattern_rgb(int w, int h)
{
	uint8_t *p = malloc((size_t)w * (size_t)h * 3);
	ck_assert_ptr_nonnull(p);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *o = p + ((size_t)y * (size_t)w + (size_t)x) * 3;
			o[0] = (uint8_t)(x * 4);
			o[1] = (uint8_t)(y * 4);
			o[2] = (uint8_t)(128 + x * 2 - y * 2);
		}
	return p;
}

static uint8_t *small_jpeg(int progressive, size_t *len)
{
	uint8_t *px = pattern_rgb(24, 16);
	uint8_t *j = jpeg_encode(px, 24, 16, TJPF_RGB, TJSAMP_420, 85,
				 progressive ? TJFLAG_PROGRESSIVE : 0, len);
	free(px);
	return j;
}

/* Offset of the first marker FF <m> before SOS, or 0. */
static size_t jpeg_find_marker(const uint8_t *p, size_t n, uint8_t m)
{
	size_t pos = 2;
	while (pos + 4 <= n && p[pos] == 0xff) {
		if (p[pos + 1] == m)
			return pos;
		if (p[pos + 1] == 0xda)
			break;
		pos += 2 + ((size_t)p[pos + 2] << 8 | p[pos + 3]);
	}
	return 0;
}

/* ---------------------------------------------------------------- decode helpers */

static void decode_ok(const uint8_t *d, size_t n, const mnv2_image_limits *lim, mnv2_image *img,
		      const char *what)
{
	char err[MNV2_IMAGE_ERR_LEN] = "";
	int rc = mnv2_image_decode(d, n, lim, img, err, sizeof err);
	ck_assert_msg(rc == 0, "%s: decode failed: %s", what, err);
	ck_assert_ptr_nonnull(img->data);
	ck_assert_uint_eq(img->stride, (size_t)img->width * 3);
}

/* Decoding must fail, with *out zeroed and a message containing want (if not NULL). */
static void decode_fails(const uint8_t *d, size_t n, const mnv2_image_limits *lim,
			 const char *want, const char *what)
{
	char err[MNV2_IMAGE_ERR_LEN] = "";
	mnv2_image img = {.width = 7, .data = (uint8_t *)&img};
	int rc = mnv2_image_decode(d, n, lim, &img, err, sizeof err);
	if (rc == 0)
		mnv2_image_free(&img);
	ck_assert_msg(rc == -1, "%s: decode succeeded, expected an error", what);
	ck_assert_msg(img.data == NULL && img.width == 0 && img.height == 0,
		      "%s: output not zeroed on error", what);
	ck_assert_msg(err[0] != '\0', "%s: empty error message", what);
	ck_assert_msg(!want || strstr(err, want), "%s: error \"%s\" does not mention \"%s\"", what,
		      err, want);
}

/* ---------------------------------------------------------------- PNG tests */

static const struct {
	int color_type, bit_depth;
} png_types[] = {
	{PNG_COLOR_TYPE_GRAY, 1},       {PNG_COLOR_TYPE_GRAY, 2},       {PNG_COLOR_TYPE_GRAY, 4},
	{PNG_COLOR_TYPE_GRAY, 8},       {PNG_COLOR_TYPE_GRAY, 16},      {PNG_COLOR_TYPE_RGB, 8},
	{PNG_COLOR_TYPE_RGB, 16},       {PNG_COLOR_TYPE_PALETTE, 1},    {PNG_COLOR_TYPE_PALETTE, 2},
	{PNG_COLOR_TYPE_PALETTE, 4},    {PNG_COLOR_TYPE_PALETTE, 8},    {PNG_COLOR_TYPE_GRAY_ALPHA, 8},
	{PNG_COLOR_TYPE_GRAY_ALPHA, 16}, {PNG_COLOR_TYPE_RGB_ALPHA, 8}, {PNG_COLOR_TYPE_RGB_ALPHA, 16},
};

static const uint32_t png_sizes[][2] = {{1, 1}, {13, 11}, {37, 5}, {3, 29}};

/* Every colour type x bit depth x interlace x size; tRNS variants for grey, RGB and palette. */
START_TEST(png_all_types)
{
	uint32_t rng = 42;
	int checked = 0;
	for (size_t t = 0; t < sizeof png_types / sizeof png_types[0]; t++)
		for (int il = 0; il <= 1; il++)
			for (size_t z = 0; z < sizeof png_sizes / sizeof png_sizes[0]; z++)
				for (int trns = 0; trns <= 1; trns++) {
					struct png_spec s = {.w = png_sizes[z][0], .h = png_sizes[z][1],
							     .color_type = png_types[t].color_type,
							     .bit_depth = png_types[t].bit_depth,
							     .interlace = il ? PNG_INTERLACE_ADAM7
									     : PNG_INTERLACE_NONE,
							     .extras = (int)(z == 1)};
					uint8_t *want, *png;
					size_t len;
					mnv2_image img;
					char what[128];
					if (trns && (s.color_type & PNG_COLOR_MASK_ALPHA))
						continue;
					if (trns && s.color_type == PNG_COLOR_TYPE_PALETTE)
						s.ntrans = 1 << (s.bit_depth < 4 ? s.bit_depth : 4);
					else if (trns) {
						s.has_trans_color = 1;
						s.trans_color.gray = (png_uint_16)((1u << s.bit_depth) - 1);
						s.trans_color.red = s.trans_color.gray;
					}
					want = malloc((size_t)s.w * s.h * 3);
					ck_assert_ptr_nonnull(want);
					png = make_png(&s, &rng, want, &len);
					snprintf(what, sizeof what, "PNG type %d depth %d %s %ux%u%s",
						 s.color_type, s.bit_depth, il ? "Adam7" : "progressive",
						 (unsigned)s.w, (unsigned)s.h, trns ? " tRNS" : "");
					ck_assert_int_eq(mnv2_image_sniff(png, len), MNV2_IMAGE_PNG);
					decode_ok(png, len, NULL, &img, what);
					ck_assert_uint_eq(img.width, s.w);
					ck_assert_uint_eq(img.height, s.h);
					for (size_t i = 0; i < (size_t)s.w * s.h * 3; i++)
						ck_assert_msg(img.data[i] == want[i],
							      "%s: byte %zu is %u, want %u", what, i,
							      img.data[i], want[i]);
					mnv2_image_free(&img);
					ck_assert_ptr_null(img.data);
					free(png);
					free(want);
					checked++;
				}
	ck_assert_int_ge(checked, 150);
}
END_TEST

/* 16-bit samples keep their high byte (0x12ff -> 0x12, not 0x13). */
START_TEST(png_16bit_high_byte)
{
	struct png_spec s = {.w = 2, .h = 1, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 16};
	png_byte row[12] = {0x12, 0xff, 0x00, 0x80, 0xff, 0x7f, 0x80, 0x00, 0x7f, 0xff, 0x01, 0x01};
	png_bytep rows[1] = {row};
	size_t len;
	uint8_t *png = png_encode(&s, rows, &len);
	const uint8_t want[6] = {0x12, 0x00, 0xff, 0x80, 0x7f, 0x01};
	mnv2_image img;
	decode_ok(png, len, NULL, &img, "16-bit RGB");
	ck_assert_mem_eq(img.data, want, 6);
	mnv2_image_free(&img);
	free(png);
}
END_TEST

/* Every proper prefix of a valid PNG is an error (the decoder reads up to IEND). */
START_TEST(png_truncations)
{
	uint8_t want[20 * 15 * 3];
	size_t len;
	uint8_t *png = small_rgb_png(20, 15, want, &len);
	mnv2_image img;
	for (size_t n = 0; n < len; n++) {
		char what[128];
		snprintf(what, sizeof what, "PNG cut to %zu of %zu bytes", n, len);
		decode_fails(png, n, NULL, n >= 8 ? "PNG: " : "not a PNG or JPEG", what);
	}
	decode_ok(png, len, NULL, &img, "whole PNG");
	ck_assert_mem_eq(img.data, want, sizeof want);
	mnv2_image_free(&img);
	free(png);
}
END_TEST

/* CRC errors in critical and ancillary chunks are errors. */
START_TEST(png_crc_errors)
{
	struct png_spec s = {.w = 13, .h = 11, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 8,
			     .extras = 1};
	uint32_t rng = 7;
	uint8_t want[13 * 11 * 3];
	size_t len;
	uint8_t *png = make_png(&s, &rng, want, &len);
	const char *chunks[] = {"IHDR", "IDAT", "IEND", "tEXt", "gAMA", "prVt"};
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		size_t pos = png_find_chunk(png, len, chunks[i]);
		uint32_t clen;
		char what[128];
		ck_assert_msg(pos != 0, "no %s chunk in the test PNG", chunks[i]);
		clen = be32(png + pos);
		png[pos + 8 + clen] ^= 0x01; /* first CRC byte */
		snprintf(what, sizeof what, "CRC error in %s", chunks[i]);
		decode_fails(png, len, NULL, "CRC error", what);
		png[pos + 8 + clen] ^= 0x01;
	}
	free(png);
}
END_TEST

/* IHDR claims more rows than the data holds: "Not enough image data". */
START_TEST(png_lying_header)
{
	uint8_t want[16 * 8 * 3];
	size_t len;
	uint8_t *png = small_rgb_png(16, 8, want, &len);
	png_set_ihdr_size(png, len, 16, 64);
	decode_fails(png, len, NULL, "PNG: ", "IHDR 16x64 over 16x8 data");
	png_set_ihdr_size(png, len, 300, 8);
	decode_fails(png, len, NULL, "PNG: ", "IHDR 300x8 over 16x8 data");
	free(png);
}
END_TEST

/* More compressed data than the header needs: a libpng warning, not an error; the output
 * is bounded by the header. */
START_TEST(png_extra_data)
{
	uint8_t want[16 * 16 * 3];
	size_t len;
	uint8_t *png = small_rgb_png(16, 16, want, &len);
	mnv2_image img;
	png_set_ihdr_size(png, len, 16, 8);
	decode_ok(png, len, NULL, &img, "IHDR 16x8 over 16x16 data");
	ck_assert_uint_eq(img.height, 8);
	ck_assert_mem_eq(img.data, want, 16 * 8 * 3);
	mnv2_image_free(&img);
	free(png);
}
END_TEST

/* A tiny PNG declaring 50000x50000 is refused from the header, before any allocation. */
START_TEST(png_bomb_header)
{
	uint8_t want[8 * 8 * 3];
	size_t len;
	uint8_t *png = small_rgb_png(8, 8, want, &len);
	mnv2_image_limits lim;
	png_set_ihdr_size(png, len, 50000, 50000);
	decode_fails(png, len, NULL, "PNG: image is 50000x50000 = 2500000000 pixels, over the limit",
		     "50000x50000 PNG");
	png_set_ihdr_size(png, len, 0x7fffffff, 1);
	decode_fails(png, len, NULL, "PNG: ", "2^31-1 wide PNG");
	png_set_ihdr_size(png, len, 0x80000000u, 1);
	decode_fails(png, len, NULL, "PNG: ", "2^31 wide PNG");
	png_set_ihdr_size(png, len, 0, 8);
	decode_fails(png, len, NULL, "PNG: ", "zero-width PNG");
	/* The pixel limit is exact. */
	png_set_ihdr_size(png, len, 8, 8);
	mnv2_image_limits_default(&lim);
	lim.max_pixels = 63;
	decode_fails(png, len, &lim, "over the limit of 63 pixels", "8x8 PNG, limit 63");
	lim.max_pixels = 64;
	{
		mnv2_image img;
		decode_ok(png, len, &lim, &img, "8x8 PNG, limit 64");
		ck_assert_mem_eq(img.data, want, sizeof want);
		mnv2_image_free(&img);
	}
	free(png);
}
END_TEST

/* A highly compressible PNG that inflates to 3000x3000 decodes (its size comes from the
 * header), and is refused when the pixel limit is lower. */
START_TEST(png_compressible_within_limits)
{
	const uint32_t w = 3000, h = 3000;
	struct png_spec s = {.w = w, .h = h, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 8,
			     .level = 9};
	png_bytep *rows = calloc(h, sizeof *rows);
	png_bytep row = calloc(w, 1);
	size_t len;
	uint8_t *png;
	mnv2_image img;
	mnv2_image_limits lim;
	ck_assert(rows && row);
	for (uint32_t y = 0; y < h; y++)
		rows[y] = row;
	png = png_encode(&s, rows, &len);
	ck_assert_uint_lt(len, 64 * 1024);
	decode_ok(png, len, NULL, &img, "3000x3000 zeros");
	ck_assert_uint_eq(img.width, w);
	for (size_t i = 0; i < (size_t)w * h * 3; i += 4099)
		ck_assert_uint_eq(img.data[i], 0);
	mnv2_image_free(&img);
	mnv2_image_limits_default(&lim);
	lim.max_pixels = 1000000;
	decode_fails(png, len, &lim, "over the limit of 1000000 pixels", "3000x3000, limit 1M");
	free(png);
	free(row);
	free(rows);
}
END_TEST

/* Ancillary chunks we never use are skipped without being buffered, however large (9 MiB
 * here, over libpng's 8 MiB chunk limit): the image still decodes. Checked by hand with
 * valgrind: the heap peak stays at the input buffer plus a few KiB. */
START_TEST(png_huge_ancillary_chunks)
{
	const char *names[] = {"zzZz", "tEXt", "iCCP", "pCAL", "zTXt"};
	uint8_t want[4 * 4 * 3];
	size_t len, chunk = (size_t)9 << 20, ihdr_end = 8 + 25;
	uint8_t *png = small_rgb_png(4, 4, want, &len);
	uint8_t *big = calloc(1, len + chunk + 12);
	ck_assert_ptr_nonnull(big);
	memcpy(big, png, ihdr_end);
	put_be32(big + ihdr_end, (uint32_t)chunk);
	memcpy(big + ihdr_end + 12 + chunk, png + ihdr_end, len - ihdr_end);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		mnv2_image img;
		memcpy(big + ihdr_end + 4, names[i], 4);
		png_fix_crc(big, ihdr_end);
		decode_ok(big, len + chunk + 12, NULL, &img, names[i]);
		ck_assert_mem_eq(img.data, want, sizeof want);
		mnv2_image_free(&img);
	}
	free(big);
	free(png);
}
END_TEST

/* Random byte flips, with the chunk CRC fixed up (so the flips reach zlib, the filters and
 * the chunk parsers) and without (CRC checks): never a crash, leak or oversized result. */
START_TEST(png_random_flips)
{
	struct png_spec s = {.w = 19, .h = 13, .color_type = PNG_COLOR_TYPE_PALETTE,
			     .bit_depth = 4, .interlace = PNG_INTERLACE_ADAM7, .extras = 1, .ntrans = 5};
	uint32_t rng = 99;
	uint8_t want[19 * 13 * 3];
	size_t len;
	uint8_t *png = make_png(&s, &rng, want, &len);
	uint8_t *buf = malloc(len);
	mnv2_image_limits lim = {.max_pixels = 1 << 16, .max_bytes = 1 << 20};
	int ok = 0;
	ck_assert_ptr_nonnull(buf);
	for (int it = 0; it < 3000; it++) {
		int fix = it % 4 != 0, flips = 1 + (int)(test_rand(&rng) % 3);
		char err[MNV2_IMAGE_ERR_LEN];
		mnv2_image img;
		memcpy(buf, png, len);
		for (int f = 0; f < flips; f++) {
			size_t at = 8 + test_rand(&rng) % (len - 8);
			buf[at] ^= (uint8_t)(1 + test_rand(&rng) % 255);
		}
		if (fix) { /* recompute every CRC that still frames a chunk */
			size_t pos = 8;
			while (pos + 12 <= len) {
				uint32_t clen = be32(buf + pos);
				if (clen > len - pos - 12)
					break;
				png_fix_crc(buf, pos);
				pos += 12 + clen;
			}
		}
		if (mnv2_image_decode(buf, len, &lim, &img, err, sizeof err) == 0) {
			ck_assert_uint_le((uint64_t)img.width * img.height, lim.max_pixels);
			mnv2_image_free(&img);
			ok++;
		} else {
			ck_assert_msg(strncmp(err, "PNG: ", 5) == 0, "odd error: %s", err);
		}
	}
	ck_assert_int_lt(ok, 3000); /* the flips did reach the decoder */
	free(buf);
	free(png);
}
END_TEST

/* ---------------------------------------------------------------- JPEG tests */

/* Baseline and progressive, every subsampling, odd sizes: the same pixels as libjpeg-turbo's
 * own default decode. */
START_TEST(jpeg_matches_libjpeg)
{
	const int subsamps[] = {TJSAMP_444, TJSAMP_422, TJSAMP_420, TJSAMP_440, TJSAMP_411};
	const int sizes[][2] = {{37, 23}, {64, 48}, {1, 1}, {17, 3}};
	for (size_t s = 0; s < sizeof subsamps / sizeof subsamps[0]; s++)
		for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
			for (int prog = 0; prog <= 1; prog++) {
				int w = sizes[z][0], h = sizes[z][1], rw, rh;
				uint8_t *px = pattern_rgb(w, h), *ref;
				size_t len;
				uint8_t *jpg = jpeg_encode(px, w, h, TJPF_RGB, subsamps[s], 90,
							   prog ? TJFLAG_PROGRESSIVE : 0, &len);
				mnv2_image img;
				char what[128];
				snprintf(what, sizeof what, "JPEG subsamp %d %dx%d%s", subsamps[s], w,
					 h, prog ? " progressive" : "");
				ck_assert_int_eq(mnv2_image_sniff(jpg, len), MNV2_IMAGE_JPEG);
				ref = jpeg_reference(jpg, len, TJPF_RGB, &rw, &rh);
				decode_ok(jpg, len, NULL, &img, what);
				ck_assert_uint_eq(img.width, (uint32_t)w);
				ck_assert_uint_eq(img.height, (uint32_t)h);
				ck_assert_msg(memcmp(img.data, ref, (size_t)w * h * 3) == 0,
					      "%s: pixels differ from libjpeg's", what);
				/* and close to what was encoded (mean absolute error) */
				{
					size_t n = (size_t)w * h * 3, sum = 0;
					for (size_t i = 0; i < n; i++)
						sum += (size_t)abs(img.data[i] - px[i]);
					ck_assert_msg(sum <= 6 * n, "%s: mean error %.1f", what,
						      (double)sum / (double)n);
				}
				mnv2_image_free(&img);
				free(ref);
				free(jpg);
				free(px);
			}
}
END_TEST

/* Greyscale JPEG: the luma replicated to R = G = B. */
START_TEST(jpeg_greyscale)
{
	const int w = 29, h = 17;
	uint8_t grey[29 * 17], *ref;
	size_t len;
	uint8_t *jpg;
	mnv2_image img;
	int rw, rh;
	for (int i = 0; i < w * h; i++)
		grey[i] = (uint8_t)(i * 7);
	for (int prog = 0; prog <= 1; prog++) {
		jpg = jpeg_encode(grey, w, h, TJPF_GRAY, TJSAMP_GRAY, 95,
				  prog ? TJFLAG_PROGRESSIVE : 0, &len);
		ref = jpeg_reference(jpg, len, TJPF_GRAY, &rw, &rh);
		decode_ok(jpg, len, NULL, &img, "greyscale JPEG");
		ck_assert_uint_eq(img.width, (uint32_t)w);
		for (int i = 0; i < w * h; i++) {
			ck_assert_uint_eq(img.data[3 * i], ref[i]);
			ck_assert_uint_eq(img.data[3 * i + 1], ref[i]);
			ck_assert_uint_eq(img.data[3 * i + 2], ref[i]);
		}
		mnv2_image_free(&img);
		free(ref);
		free(jpg);
	}
}
END_TEST

/* CMYK (Adobe transform 0) and YCCK (transform 2) JPEGs are refused. */
START_TEST(jpeg_cmyk_refused)
{
	const int w = 16, h = 16;
	uint8_t cmyk[16 * 16 * 4];
	size_t len, app14;
	uint8_t *jpg;
	for (size_t i = 0; i < sizeof cmyk; i++)
		cmyk[i] = (uint8_t)(i * 13);
	jpg = jpeg_encode(cmyk, w, h, TJPF_CMYK, TJSAMP_444, 90, 0, &len);
	decode_fails(jpg, len, NULL, "JPEG: CMYK colour space is not supported", "YCCK JPEG");
	app14 = jpeg_find_marker(jpg, len, 0xee);
	ck_assert_msg(app14 != 0 && memcmp(jpg + app14 + 4, "Adobe", 5) == 0, "no Adobe marker");
	ck_assert_uint_eq(jpg[app14 + 4 + 11], 2); /* transform: YCCK */
	jpg[app14 + 4 + 11] = 0;                   /* transform: none, i.e. CMYK */
	{
		char err[MNV2_IMAGE_ERR_LEN];
		mnv2_image img;
		ck_assert_int_eq(mnv2_image_decode(jpg, len, NULL, &img, err, sizeof err), -1);
		ck_assert_str_eq(err, "JPEG: CMYK colour space is not supported");
	}
	free(jpg);
}
END_TEST

/* Every proper prefix of a baseline and a progressive JPEG is an error. */
START_TEST(jpeg_truncations)
{
	for (int prog = 0; prog <= 1; prog++) {
		size_t len;
		uint8_t *jpg = small_jpeg(prog, &len);
		mnv2_image img;
		for (size_t n = 0; n < len; n++) {
			char what[128];
			snprintf(what, sizeof what, "%s JPEG cut to %zu of %zu bytes",
				 prog ? "progressive" : "baseline", n, len);
			decode_fails(jpg, n, NULL, n >= 3 ? "JPEG: " : "not a PNG or JPEG", what);
		}
		decode_ok(jpg, len, NULL, &img, "whole JPEG");
		mnv2_image_free(&img);
		free(jpg);
	}
}
END_TEST

START_TEST(jpeg_random_flips)
{
	uint32_t rng = 2024;
	mnv2_image_limits lim = {.max_pixels = 1 << 16, .max_bytes = 1 << 20};
	for (int prog = 0; prog <= 1; prog++) {
		size_t len;
		uint8_t *jpg = small_jpeg(prog, &len);
		uint8_t *buf = malloc(len);
		ck_assert_ptr_nonnull(buf);
		for (int it = 0; it < 1500; it++) {
			int flips = 1 + (int)(test_rand(&rng) % 4);
			char err[MNV2_IMAGE_ERR_LEN];
			mnv2_image img;
			memcpy(buf, jpg, len);
			for (int f = 0; f < flips; f++)
				buf[3 + test_rand(&rng) % (len - 3)] ^=
					(uint8_t)(1 + test_rand(&rng) % 255);
			if (mnv2_image_decode(buf, len, &lim, &img, err, sizeof err) == 0) {
				ck_assert_uint_le((uint64_t)img.width * img.height, lim.max_pixels);
				mnv2_image_free(&img);
			} else {
				ck_assert_msg(strncmp(err, "JPEG: ", 6) == 0, "odd error: %s", err);
			}
		}
		free(buf);
		free(jpg);
	}
}
END_TEST

/* SOF dimensions are checked against the pixel limit before decoding. */
START_TEST(jpeg_limits)
{
	size_t len, sof;
	uint8_t *jpg = small_jpeg(0, &len);
	mnv2_image_limits lim;
	mnv2_image img;
	mnv2_image_limits_default(&lim);
	lim.max_pixels = 24 * 16 - 1;
	decode_fails(jpg, len, &lim, "JPEG: image is 24x16 = 384 pixels, over the limit of 383",
		     "24x16 JPEG, limit 383");
	lim.max_pixels = 24 * 16;
	decode_ok(jpg, len, &lim, &img, "24x16 JPEG, limit 384");
	mnv2_image_free(&img);
	lim.max_bytes = len - 1;
	decode_fails(jpg, len, &lim, "JPEG: input is", "JPEG over max_bytes");
	sof = jpeg_find_marker(jpg, len, 0xc0);
	ck_assert_uint_ne(sof, 0);
	jpg[sof + 5] = 0xea; /* height 60000 */
	jpg[sof + 6] = 0x60;
	jpg[sof + 7] = 0xea; /* width 60000 */
	jpg[sof + 8] = 0x60;
	decode_fails(jpg, len, NULL, "JPEG: image is 60000x60000 = 3600000000 pixels", "60000^2 SOF");
	free(jpg);
}
END_TEST

/* ---------------------------------------------------------------- EXIF orientation */

struct exif_opts {
	int le;
	uint32_t ifd_off;  /* 8 normally */
	uint16_t entries;  /* IFD entry count as written */
	uint16_t type;     /* orientation tag type: 3 = SHORT */
	uint16_t value;    /* orientation */
	size_t cut;        /* bytes cut from the end of the TIFF data */
	int bad_magic;
};

static void put16(uint8_t *p, uint32_t v, int le)
{
	p[le ? 0 : 1] = (uint8_t)v;
	p[le ? 1 : 0] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v, int le)
{
	put16(p + (le ? 0 : 2), v & 0xffff, le);
	put16(p + (le ? 2 : 0), v >> 16, le);
}

/* An APP1 Exif segment: IFD0 with Make = "Cam" and then Orientation. */
static size_t make_exif(uint8_t *seg, const struct exif_opts *o)
{
	uint8_t *t = seg + 10;
	size_t tlen = 8 + 2 + 2 * 12 + 4, seglen;
	memcpy(seg + 4, "Exif\0\0", 6);
	memcpy(t, o->le ? "II" : "MM", 2);
	put16(t + 2, o->bad_magic ? 43 : 42, o->le);
	put32(t + 4, o->ifd_off, o->le);
	put16(t + 8, o->entries, o->le);
	put16(t + 10, 0x010f, o->le); /* Make, ASCII, 4 bytes inline */
	put16(t + 12, 2, o->le);
	put32(t + 14, 4, o->le);
	memcpy(t + 18, "Cam", 4);
	put16(t + 22, 0x0112, o->le); /* Orientation */
	put16(t + 24, o->type, o->le);
	put32(t + 26, 1, o->le);
	put16(t + 30, o->value, o->le);
	put16(t + 32, 0, o->le);
	put32(t + 34, 0, o->le); /* no next IFD */
	tlen -= o->cut;
	seglen = 2 + 6 + tlen;
	seg[0] = 0xff;
	seg[1] = 0xe1;
	seg[2] = (uint8_t)(seglen >> 8);
	seg[3] = (uint8_t)seglen;
	return 2 + seglen;
}

/* jpg with seg inserted at offset at (2: right after SOI). */
static uint8_t *splice(const uint8_t *jpg, size_t len, size_t at, const uint8_t *seg,
		       size_t seglen, size_t *outlen)
{
	uint8_t *o = malloc(len + seglen);
	ck_assert_ptr_nonnull(o);
	memcpy(o, jpg, at);
	memcpy(o + at, seg, seglen);
	memcpy(o + at + seglen, jpg + at, len - at);
	*outlen = len + seglen;
	return o;
}

/* EXIF 2.3, Orientation: the sides of the displayed image that row 0 and column 0 of the
 * stored image are on (T top, B bottom, L left, R right). */
static const char orient_sides[9][2] = {{0, 0},     {'T', 'L'}, {'T', 'R'}, {'B', 'R'}, {'B', 'L'},
					{'L', 'T'}, {'R', 'T'}, {'R', 'B'}, {'L', 'B'}};

static void displayed_at(int o, uint32_t w, uint32_t h, uint32_t sx, uint32_t sy, uint32_t *dx,
			 uint32_t *dy)
{
	char row0 = orient_sides[o][0], col0 = orient_sides[o][1];
	if (row0 == 'T' || row0 == 'B') {
		*dy = row0 == 'T' ? sy : h - 1 - sy;
		*dx = col0 == 'L' ? sx : w - 1 - sx;
	} else { /* stored rows are displayed columns */
		*dx = row0 == 'L' ? sy : h - 1 - sy;
		*dy = col0 == 'T' ? sx : w - 1 - sx;
	}
}

/* A 4x2 grid of distinct flat colours, each block 8x8 pixels (JPEG-friendly). */
static const uint8_t grid_colours[8][3] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},
					   {255, 255, 0}, {255, 0, 255}, {0, 255, 255},
					   {255, 255, 255}, {0, 0, 0}};

START_TEST(exif_orientations)
{
	const uint32_t w = 32, h = 16;
	uint8_t px[32 * 16 * 3], seg[64];
	size_t len;
	uint8_t *jpg;
	mnv2_image plain;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			memcpy(px + (y * w + x) * 3, grid_colours[(y / 8) * 4 + x / 8], 3);
	jpg = jpeg_encode(px, (int)w, (int)h, TJPF_RGB, TJSAMP_444, 100, 0, &len);
	ck_assert_msg(jpg[2] == 0xff && jpg[3] == 0xe0, "tjCompress2 wrote no JFIF APP0");
	decode_ok(jpg, len, NULL, &plain, "JPEG without EXIF");
	ck_assert_int_eq(mnv2_image_exif_orientation(jpg, len), 1);
	for (int b = 0; b < 8; b++) { /* the pattern survived encoding */
		const uint8_t *c = plain.data + (((size_t)(b / 4) * 8 + 4) * w + (size_t)(b % 4) * 8 + 4) * 3;
		for (int k = 0; k < 3; k++)
			ck_assert_int_le(abs(c[k] - grid_colours[b][k]), 3);
	}
	for (int le = 0; le <= 1; le++)
		for (int o = 1; o <= 8; o++)
			for (int after_app0 = 0; after_app0 <= 1; after_app0++) {
				struct exif_opts eo = {.le = le, .ifd_off = 8, .entries = 2, .type = 3,
						       .value = (uint16_t)o};
				size_t seglen = make_exif(seg, &eo), elen;
				size_t at = after_app0 ? 2 + 2 + ((size_t)jpg[4] << 8 | jpg[5]) : 2;
				uint8_t *ej;
				mnv2_image img;
				char what[128];
				ej = splice(jpg, len, at, seg, seglen, &elen);
				snprintf(what, sizeof what, "orientation %d %s%s", o, le ? "II" : "MM",
					 after_app0 ? " after APP0" : "");
				ck_assert_int_eq(mnv2_image_exif_orientation(ej, elen), o);
				decode_ok(ej, elen, NULL, &img, what);
				ck_assert_uint_eq(img.width, o >= 5 ? h : w);
				ck_assert_uint_eq(img.height, o >= 5 ? w : h);
				for (uint32_t sy = 0; sy < h; sy++)
					for (uint32_t sx = 0; sx < w; sx++) {
						uint32_t dx, dy;
						displayed_at(o, w, h, sx, sy, &dx, &dy);
						ck_assert_msg(memcmp(img.data + ((size_t)dy * img.width + dx) * 3,
								     plain.data + ((size_t)sy * w + sx) * 3, 3) == 0,
							      "%s: stored (%u,%u) not at displayed (%u,%u)",
							      what, sx, sy, dx, dy);
					}
				mnv2_image_free(&img);
				free(ej);
			}
	mnv2_image_free(&plain);
	free(jpg);
}
END_TEST

/* Malformed EXIF never fails the decode: the orientation is just not applied. */
START_TEST(exif_malformed)
{
	const struct exif_opts good = {.le = 1, .ifd_off = 8, .entries = 2, .type = 3, .value = 6};
	struct exif_opts bad[] = {good, good, good, good, good, good, good, good};
	uint8_t seg[64];
	size_t len, nbad = sizeof bad / sizeof bad[0];
	uint8_t *jpg = small_jpeg(0, &len);
	bad[0].ifd_off = 1000;        /* IFD beyond the segment */
	bad[1].ifd_off = 0xffffffffu; /* offset overflow */
	bad[2].entries = 60000;       /* entry count runs off the end, */
	bad[2].cut = 14;              /* and the orientation entry is cut short */
	bad[3].type = 4;              /* LONG instead of SHORT */
	bad[4].value = 9;             /* out of range */
	bad[5].cut = 20;              /* TIFF data cut inside IFD0's first entry */
	bad[6].bad_magic = 1;
	bad[7].entries = 1;           /* the orientation entry is not counted */
	for (size_t i = 0; i < nbad; i++) {
		size_t seglen = make_exif(seg, &bad[i]), elen;
		uint8_t *ej = splice(jpg, len, 2, seg, seglen, &elen);
		mnv2_image img;
		char what[128];
		snprintf(what, sizeof what, "malformed EXIF #%zu", i);
		ck_assert_msg(mnv2_image_exif_orientation(ej, elen) == 1, "%s", what);
		decode_ok(ej, elen, NULL, &img, what);
		ck_assert_uint_eq(img.width, 24);
		mnv2_image_free(&img);
		free(ej);
	}
	/* A segment length running past the end of the data, and garbage. */
	{
		uint8_t g[] = {0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I'};
		uint32_t rng = 5;
		uint8_t noise[64];
		ck_assert_int_eq(mnv2_image_exif_orientation(g, sizeof g), 1);
		ck_assert_int_eq(mnv2_image_exif_orientation(NULL, 0), 1);
		for (int it = 0; it < 20000; it++) {
			size_t n = test_rand(&rng) % sizeof noise;
			for (size_t k = 0; k < n; k++)
				noise[k] = (uint8_t)test_rand(&rng);
			if (n >= 2) {
				noise[0] = 0xff;
				noise[1] = 0xd8;
			}
			int o = mnv2_image_exif_orientation(noise, n);
			ck_assert(o >= 1 && o <= 8);
		}
	}
	free(jpg);
}
END_TEST

/* ---------------------------------------------------------------- raw frames */

START_TEST(raw_formats)
{
	const uint32_t w = 5, h = 3;
	const mnv2_pixfmt fmts[] = {MNV2_PIX_RGB888, MNV2_PIX_BGR888, MNV2_PIX_RGBA8888,
				    MNV2_PIX_GRAY8};
	for (size_t f = 0; f < 4; f++)
		for (int pad = 0; pad <= 7; pad += 7) {
			unsigned bpp = mnv2_pixfmt_bytes_per_pixel(fmts[f]);
			size_t stride = w * bpp + (size_t)pad;
			size_t len = stride * (h - 1) + w * bpp; /* the last row has no padding */
			uint8_t *src = malloc(len);
			mnv2_image img;
			char err[MNV2_IMAGE_ERR_LEN];
			ck_assert_ptr_nonnull(src);
			for (size_t i = 0; i < len; i++)
				src[i] = (uint8_t)(i * 11 + 3);
			ck_assert_msg(mnv2_image_from_raw(fmts[f], w, h, pad ? stride : 0, src, len,
							  NULL, &img, err, sizeof err) == 0, "%s", err);
			ck_assert_uint_eq(img.width, w);
			ck_assert_uint_eq(img.height, h);
			ck_assert_uint_eq(img.stride, w * 3);
			for (uint32_t y = 0; y < h; y++)
				for (uint32_t x = 0; x < w; x++) {
					const uint8_t *s = src + y * stride + x * bpp;
					const uint8_t *o = img.data + (y * w + x) * 3;
					uint8_t r = s[0], g = s[0], b = s[0];
					if (fmts[f] == MNV2_PIX_RGB888 || fmts[f] == MNV2_PIX_RGBA8888) {
						g = s[1];
						b = s[2];
					} else if (fmts[f] == MNV2_PIX_BGR888) {
						r = s[2];
						g = s[1];
						b = s[0];
					}
					ck_assert_msg(o[0] == r && o[1] == g && o[2] == b,
						      "%s stride %zu: pixel (%u,%u)", mnv2_pixfmt_name(fmts[f]),
						      stride, x, y);
				}
			mnv2_image_free(&img);
			/* one byte short of the last row */
			ck_assert_int_eq(mnv2_image_from_raw(fmts[f], w, h, stride, src, len - 1, NULL,
							     &img, err, sizeof err), -1);
			ck_assert_ptr_null(img.data);
			ck_assert_msg(strstr(err, "needs") != NULL, "%s", err);
			free(src);
		}
}
END_TEST

static void raw_fails(mnv2_pixfmt fmt, uint32_t w, uint32_t h, size_t stride, const void *data,
		      size_t len, const mnv2_image_limits *lim, const char *want)
{
	char err[MNV2_IMAGE_ERR_LEN] = "";
	mnv2_image img = {.width = 1};
	ck_assert_int_eq(mnv2_image_from_raw(fmt, w, h, stride, data, len, lim, &img, err, sizeof err),
			 -1);
	ck_assert_ptr_null(img.data);
	ck_assert_uint_eq(img.width, 0);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" does not mention \"%s\"", err, want);
}

START_TEST(raw_errors)
{
	uint8_t buf[64] = {0};
	mnv2_image_limits lim = {.max_pixels = UINT64_MAX, .max_bytes = 0};
	raw_fails(MNV2_PIX_RGB888, 4, 4, 11, buf, sizeof buf, NULL, "raw rgb888: stride 11 is less");
	raw_fails(MNV2_PIX_RGBA8888, 4, 4, 16, buf, sizeof buf - 1, NULL, "raw rgba: buffer is 63 bytes");
	raw_fails(MNV2_PIX_GRAY8, 0, 4, 0, buf, sizeof buf, NULL, "no pixels");
	raw_fails(MNV2_PIX_GRAY8, 4, 0, 0, buf, sizeof buf, NULL, "no pixels");
	raw_fails(MNV2_PIX_GRAY8, 8193, 8192, 0, buf, sizeof buf, NULL, "over the limit");
	raw_fails(MNV2_PIX_GRAY8, 4, 4, 0, NULL, 16, NULL, "no pixel data");
	raw_fails((mnv2_pixfmt)99, 4, 4, 0, buf, sizeof buf, NULL, "unknown pixel format");
	/* Sizes that overflow size_t must be caught, not wrapped. */
	raw_fails(MNV2_PIX_GRAY8, 4, 3, SIZE_MAX / 2, buf, sizeof buf, NULL, "overflows");
	raw_fails(MNV2_PIX_RGBA8888, 0xffffffffu, 0xffffffffu, 0, buf, sizeof buf, &lim, "raw rgba: ");
	raw_fails(MNV2_PIX_RGB888, 0x10000, 0x10000, 0, buf, sizeof buf, &lim, "raw rgb888: ");
	/* exactly at the pixel limit is fine */
	{
		mnv2_image img;
		char err[MNV2_IMAGE_ERR_LEN];
		mnv2_image_limits l16 = {.max_pixels = 16, .max_bytes = 0};
		ck_assert_int_eq(mnv2_image_from_raw(MNV2_PIX_GRAY8, 4, 4, 0, buf, 16, &l16, &img, err,
						     sizeof err), 0);
		mnv2_image_free(&img);
		l16.max_pixels = 15;
		raw_fails(MNV2_PIX_GRAY8, 4, 4, 0, buf, 16, &l16, "over the limit of 15 pixels");
	}
}
END_TEST

START_TEST(pixfmt_names)
{
	const char *names[] = {"rgb888", "bgr888", "rgba", "gray8"};
	mnv2_pixfmt f;
	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(mnv2_pixfmt_name((mnv2_pixfmt)i), names[i]);
		ck_assert_int_eq(mnv2_pixfmt_parse(names[i], &f), 0);
		ck_assert_int_eq(f, i);
	}
	ck_assert_int_eq(mnv2_pixfmt_parse("rgba8888", &f), 0);
	ck_assert_int_eq(f, MNV2_PIX_RGBA8888);
	ck_assert_int_eq(mnv2_pixfmt_parse("grey8", &f), 0);
	ck_assert_int_eq(f, MNV2_PIX_GRAY8);
	ck_assert_int_eq(mnv2_pixfmt_parse("yuv420", &f), -1);
	ck_assert_int_eq(mnv2_pixfmt_parse("", &f), -1);
	ck_assert_int_eq(mnv2_pixfmt_parse(NULL, &f), -1);
	ck_assert_str_eq(mnv2_pixfmt_name((mnv2_pixfmt)42), "unknown");
	ck_assert_uint_eq(mnv2_pixfmt_bytes_per_pixel(MNV2_PIX_RGBA8888), 4);
	ck_assert_uint_eq(mnv2_pixfmt_bytes_per_pixel((mnv2_pixfmt)42), 0);
}
END_TEST

/* ---------------------------------------------------------------- misc API */

START_TEST(sniff_and_errors)
{
	const uint8_t gif[] = "GIF89a\x01\x00\x01\x00";
	const uint8_t png_sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	const uint8_t jpeg_sig[] = {0xff, 0xd8, 0xff};
	mnv2_image_limits l;
	ck_assert_int_eq(mnv2_image_sniff(png_sig, 8), MNV2_IMAGE_PNG);
	ck_assert_int_eq(mnv2_image_sniff(png_sig, 7), MNV2_IMAGE_UNKNOWN);
	ck_assert_int_eq(mnv2_image_sniff(jpeg_sig, 3), MNV2_IMAGE_JPEG);
	ck_assert_int_eq(mnv2_image_sniff(jpeg_sig, 2), MNV2_IMAGE_UNKNOWN);
	ck_assert_int_eq(mnv2_image_sniff(gif, sizeof gif - 1), MNV2_IMAGE_UNKNOWN);
	ck_assert_int_eq(mnv2_image_sniff(NULL, 0), MNV2_IMAGE_UNKNOWN);
	ck_assert_str_eq(mnv2_image_kind_name(MNV2_IMAGE_JPEG), "JPEG");
	decode_fails(gif, sizeof gif - 1, NULL, "not a PNG or JPEG image (starts with 47 49 46 38 39 61 01 00 ...)",
		     "GIF");
	decode_fails(gif, 0, NULL, "empty input", "empty");
	{
		const uint8_t soi_eoi[] = {0xff, 0xd8, 0xff, 0xd9};
		decode_fails(soi_eoi, sizeof soi_eoi, NULL, "JPEG: no frame header", "SOI EOI");
	}
	mnv2_image_limits_default(&l);
	ck_assert_uint_eq(l.max_pixels, 8192ull * 8192);
	ck_assert_uint_eq(l.max_bytes, (size_t)64 << 20);
	/* errors fit any buffer, and a NULL one is fine */
	{
		char tiny[6];
		mnv2_image img;
		ck_assert_int_eq(mnv2_image_decode(gif, 10, NULL, &img, tiny, sizeof tiny), -1);
		ck_assert_str_eq(tiny, "not a");
		ck_assert_int_eq(mnv2_image_decode(gif, 10, NULL, &img, NULL, 0), -1);
	}
	mnv2_image_free(NULL);
}
END_TEST

START_TEST(load_file_errors)
{
	char dir[] = "/tmp/mnv2imgXXXXXX", path[64], err[MNV2_IMAGE_ERR_LEN];
	uint8_t want[6 * 4 * 3];
	size_t len;
	uint8_t *png = small_rgb_png(6, 4, want, &len);
	mnv2_image img;
	mnv2_image_limits lim;
	FILE *f;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/a.png", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(png, 1, len, f), len);
	fclose(f);
	ck_assert_msg(mnv2_image_load_file(path, NULL, &img, err, sizeof err) == 0, "%s", err);
	ck_assert_mem_eq(img.data, want, sizeof want);
	mnv2_image_free(&img);
	mnv2_image_limits_default(&lim);
	lim.max_bytes = len - 1;
	ck_assert_int_eq(mnv2_image_load_file(path, &lim, &img, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && strstr(err, "over the limit"), "%s", err);
	/* a corrupt file: the path, then the decoder's message */
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(png, 1, len - 20, f), len - 20);
	fclose(f);
	ck_assert_int_eq(mnv2_image_load_file(path, NULL, &img, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && strstr(err, ": PNG: "), "%s", err);
	ck_assert_int_eq(mnv2_image_load_file(dir, NULL, &img, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "is a directory") != NULL, "%s", err);
	unlink(path);
	ck_assert_int_eq(mnv2_image_load_file(path, NULL, &img, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && strstr(err, "cannot open"), "%s", err);
	rmdir(dir);
	free(png);
}
END_TEST

/* ---------------------------------------------------------------- ../shared/images */

/* libpng's simplified API as an independent reference for the shared 8-bit RGB PNGs. */
static uint8_t *png_reference(const uint8_t *d, size_t n, uint32_t *w, uint32_t *h)
{
	png_image im;
	uint8_t *px;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	ck_assert(png_image_begin_read_from_memory(&im, d, n));
	im.format = PNG_FORMAT_RGB;
	px = malloc(PNG_IMAGE_SIZE(im));
	ck_assert_ptr_nonnull(px);
	ck_assert(png_image_finish_read(&im, NULL, px, 0, NULL));
	*w = im.width;
	*h = im.height;
	png_image_free(&im);
	return px;
}

START_TEST(shared_pngs)
{
	char dirpath[1024], path[2048], err[MNV2_IMAGE_ERR_LEN];
	struct dirent *e;
	DIR *d;
	int n = 0;
	snprintf(dirpath, sizeof dirpath, "%s/images", shared);
	d = opendir(dirpath);
	if (!d) {
		printf("SKIP: %s not found; shared PNG decoding not checked\n", dirpath);
		return;
	}
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name), len;
		uint8_t *bytes, *ref;
		uint32_t w, h;
		mnv2_image img;
		if (nl < 5 || strcmp(e->d_name + nl - 4, ".png") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
		ck_assert_msg(mnv2_image_load_file(path, NULL, &img, err, sizeof err) == 0, "%s", err);
		bytes = test_read_file(path, 64u << 20, &len);
		ck_assert_ptr_nonnull(bytes);
		ref = png_reference(bytes, len, &w, &h);
		ck_assert_uint_eq(img.width, w);
		ck_assert_uint_eq(img.height, h);
		ck_assert_msg(memcmp(img.data, ref, (size_t)w * h * 3) == 0, "%s: pixels differ", path);
		if (strcmp(e->d_name, "hot_dog.png") == 0)
			ck_assert(img.width == 512 && img.height == 384);
		if (strcmp(e->d_name, "kite_and_cold.png") == 0)
			ck_assert(img.width == 1352 && img.height == 900);
		mnv2_image_free(&img);
		free(ref);
		free(bytes);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 2);
}
END_TEST

/* The JPEGs decode to exactly the pixels of their lossless PNG conversions. */
START_TEST(shared_jpeg_equals_png)
{
	const char *names[] = {"hot_dog", "kite_and_cold"};
	for (int i = 0; i < 2; i++) {
		char jp[1024], pp[1024], err[MNV2_IMAGE_ERR_LEN];
		mnv2_image j, p;
		snprintf(jp, sizeof jp, "%s/images/%s.jpg", shared, names[i]);
		snprintf(pp, sizeof pp, "%s/images/%s.png", shared, names[i]);
		if (access(jp, R_OK) != 0 || access(pp, R_OK) != 0) {
			printf("SKIP: %s or %s not found\n", jp, pp);
			continue;
		}
		ck_assert_msg(mnv2_image_load_file(jp, NULL, &j, err, sizeof err) == 0, "%s", err);
		ck_assert_msg(mnv2_image_load_file(pp, NULL, &p, err, sizeof err) == 0, "%s", err);
		ck_assert_uint_eq(j.width, p.width);
		ck_assert_uint_eq(j.height, p.height);
		ck_assert_msg(memcmp(j.data, p.data, (size_t)j.width * j.height * 3) == 0,
			      "%s: JPEG pixels differ from the PNG's", names[i]);
		mnv2_image_free(&j);
		mnv2_image_free(&p);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image");
	TCase *tp = tcase_create("png"), *tj = tcase_create("jpeg"), *tr = tcase_create("raw");
	SRunner *sr;
	int failed;
	shared = test_shared_dir();
	tcase_set_timeout(tp, 120);
	tcase_add_test(tp, png_all_types);
	tcase_add_test(tp, png_16bit_high_byte);
	tcase_add_test(tp, png_truncations);
	tcase_add_test(tp, png_crc_errors);
	tcase_add_test(tp, png_lying_header);
	tcase_add_test(tp, png_extra_data);
	tcase_add_test(tp, png_bomb_header);
	tcase_add_test(tp, png_compressible_within_limits);
	tcase_add_test(tp, png_huge_ancillary_chunks);
	tcase_add_test(tp, png_random_flips);
	suite_add_tcase(s, tp);
	tcase_set_timeout(tj, 120);
	tcase_add_test(tj, jpeg_matches_libjpeg);
	tcase_add_test(tj, jpeg_greyscale);
	tcase_add_test(tj, jpeg_cmyk_refused);
	tcase_add_test(tj, jpeg_truncations);
	tcase_add_test(tj, jpeg_random_flips);
	tcase_add_test(tj, jpeg_limits);
	tcase_add_test(tj, exif_orientations);
	tcase_add_test(tj, exif_malformed);
	suite_add_tcase(s, tj);
	tcase_set_timeout(tr, 120);
	tcase_add_test(tr, raw_formats);
	tcase_add_test(tr, raw_errors);
	tcase_add_test(tr, pixfmt_names);
	tcase_add_test(tr, sniff_and_errors);
	tcase_add_test(tr, load_file_errors);
	suite_add_tcase(s, tr);
	if (shared) {
		TCase *ts = tcase_create("shared");
		tcase_set_timeout(ts, 120);
		tcase_add_test(ts, shared_pngs);
		tcase_add_test(ts, shared_jpeg_equals_png);
		suite_add_tcase(s, ts);
	} else {
		printf("SKIP: ../shared not found (set MNV2_SHARED_DIR); shared image cases not run\n");
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
