/* test_draw — mnv2/draw.h: box outlines on the right pixels, clipping, label text from the
 * built-in font, class colours, and PNG output that decodes back to the same pixels. */
#include "mnv2/draw.h"
#include "mnv2/image.h"
#include "test_util.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t BG = 10;

static mnv2_image grey(uint32_t w, uint32_t h)
{
	mnv2_image img = { w, h, (size_t)w * 3, malloc((size_t)w * h * 3) };
	ck_assert_ptr_nonnull(img.data);
	memset(img.data, BG, (size_t)w * h * 3);
	return img;
}

static const uint8_t *px(const mnv2_image *img, long x, long y)
{
	ck_assert(x >= 0 && y >= 0 && x < (long)img->width && y < (long)img->height);
	return img->data + (size_t)y * img->stride + (size_t)x * 3;
}

static int is(const mnv2_image *img, long x, long y, const uint8_t c[3])
{
	return !memcmp(px(img, x, y), c, 3);
}

static int untouched(const mnv2_image *img, long x, long y)
{
	const uint8_t *p = px(img, x, y);
	return p[0] == BG && p[1] == BG && p[2] == BG;
}

START_TEST(box_outline_on_its_pixels)
{
	mnv2_image img = grey(100, 80);
	uint8_t c[3];
	mnv2_draw_box b = { .xmin = 10.2f, .ymin = 29.6f, .xmax = 49.8f, .ymax = 70.4f,
			    .class_id = 3, .score = 0.5f, .label = "x" };
	char err[128];
	mnv2_draw_class_colour(3, c);
	ck_assert_int_eq(mnv2_draw_boxes(&img, &b, 1, err, sizeof err), 0);
	/* Rounded: columns 10..49, rows 30..69; the outline is 2 pixels inside that. */
	for (long x = 10; x < 50; x++) {
		ck_assert(is(&img, x, 30, c) && is(&img, x, 31, c));
		ck_assert(is(&img, x, 68, c) && is(&img, x, 69, c));
		ck_assert(untouched(&img, x, 70));
		if (x >= 12 && x < 48)
			ck_assert(untouched(&img, x, 32) && untouched(&img, x, 67));
	}
	for (long y = 30; y < 70; y++) {
		ck_assert(is(&img, 10, y, c) && is(&img, 11, y, c));
		ck_assert(is(&img, 48, y, c) && is(&img, 49, y, c));
		ck_assert(untouched(&img, 9, y) && untouched(&img, 50, y));
		if (y >= 32 && y < 68)
			ck_assert(untouched(&img, 12, y) && untouched(&img, 47, y));
	}
	/* The label bar sits just above: rows 12..29 (9 font rows at scale 2), from x 10. */
	ck_assert(is(&img, 10, 12, c) && is(&img, 10, 29, c));
	ck_assert(untouched(&img, 10, 11) && untouched(&img, 9, 20));
	free(img.data);
}
END_TEST

/* Text pixels: the label "x 0.50" is drawn glyph by glyph, each font pixel 2x2. */
START_TEST(label_text_pixels)
{
	mnv2_image img = grey(160, 60);
	uint8_t c[3];
	static const uint8_t black[3] = { 0, 0, 0 }, white[3] = { 255, 255, 255 };
	const char *text = "kite 0.95";
	mnv2_draw_box b = { .xmin = 20, .ymin = 30, .xmax = 110, .ymax = 58, .class_id = 37,
			    .score = 0.949f, .label = "kite" };
	ck_assert_int_eq(mnv2_draw_boxes(&img, &b, 1, NULL, 0), 0);
	mnv2_draw_class_colour(37, c);
	unsigned luma = (299u * c[0] + 587u * c[1] + 114u * c[2]) / 1000u;
	const uint8_t *fg = luma > 140 ? black : white;
	/* Bar at (20, 12), text from (22, 14). */
	long s = MNV2_DRAW_SCALE, on = 0;
	for (size_t i = 0; text[i]; i++) {
		const uint8_t *g = mnv2_font_glyph((unsigned char)text[i]);
		for (long r = 0; r < MNV2_FONT_H; r++)
			for (long col = 0; col < MNV2_FONT_W; col++) {
				long x = 22 + ((long)i * MNV2_FONT_ADVANCE + col) * s, y = 14 + r * s;
				int set = g[r] >> (MNV2_FONT_W - 1 - col) & 1;
				for (long dy = 0; dy < s; dy++)
					for (long dx = 0; dx < s; dx++)
						ck_assert(is(&img, x + dx, y + dy, set ? fg : c));
				on += set;
			}
	}
	ck_assert_int_gt(on, 60); /* glyphs really have pixels */
	/* The gap column after each glyph is bar colour. */
	ck_assert(is(&img, 22 + 5 * s, 20, c));
	free(img.data);
}
END_TEST

START_TEST(font_covers_printable_ascii)
{
	int blank = 0;
	for (int ch = 0x21; ch <= 0x7e; ch++) {
		const uint8_t *g = mnv2_font_glyph((unsigned char)ch);
		int bits = 0;
		for (int r = 0; r < MNV2_FONT_H; r++) {
			ck_assert_uint_lt(g[r], 32);
			bits |= g[r];
		}
		blank += !bits;
		for (int other = ch + 1; other <= 0x7e; other++)
			ck_assert_msg(memcmp(g, mnv2_font_glyph((unsigned char)other), MNV2_FONT_H),
				      "'%c' and '%c' look the same", ch, other);
	}
	ck_assert_int_eq(blank, 0);
	/* Non-printable bytes show as '?'. */
	ck_assert_ptr_eq(mnv2_font_glyph(0x07), mnv2_font_glyph('?'));
	ck_assert_ptr_eq(mnv2_font_glyph(0xc3), mnv2_font_glyph('?'));
}
END_TEST

START_TEST(class_colours_distinct)
{
	uint8_t c[144][3];
	for (uint32_t i = 0; i < 144; i++) {
		mnv2_draw_class_colour(i, c[i]);
		for (uint32_t j = 0; j < i; j++)
			ck_assert_msg(memcmp(c[i], c[j], 3), "classes %u and %u share a colour", i, j);
	}
}
END_TEST

/* Boxes past every edge are cut at the edge, never written outside (ASan watches). */
START_TEST(clipping_at_edges)
{
	mnv2_image img = grey(30, 60);
	uint8_t c[3];
	mnv2_draw_box b[] = {
		{ .xmin = -10, .ymin = -10, .xmax = 20, .ymax = 50, .class_id = 1, .score = -1 },
		{ .xmin = 25, .ymin = 55, .xmax = 1e9f, .ymax = 1e30f, .class_id = 1, .score = 1 },
		{ .xmin = -INFINITY, .ymin = 0, .xmax = 5, .ymax = 5, .class_id = 1 },
		{ .xmin = NAN, .ymin = 0, .xmax = 5, .ymax = 5, .class_id = 1 },
	};
	mnv2_draw_class_colour(1, c);
	ck_assert_int_eq(mnv2_draw_boxes(&img, b, 1, NULL, 0), 0);
	ck_assert_int_eq(mnv2_draw_boxes(&img, b + 2, 2, NULL, 0), 0);
	/* Box 0: right edge columns 18, 19 and bottom rows 48, 49 remain; its label "class 1"
	 * goes inside the box at the image's corner, rows 0..17, cut at the right edge. */
	for (long y = 18; y < 50; y++)
		ck_assert(is(&img, 18, y, c) && is(&img, 19, y, c));
	for (long x = 0; x < 20; x++)
		ck_assert(is(&img, x, 48, c) && is(&img, x, 49, c));
	ck_assert(untouched(&img, 20, 49) && untouched(&img, 17, 47) && untouched(&img, 0, 50));
	ck_assert(is(&img, 0, 0, c) && is(&img, 29, 17, c) && untouched(&img, 25, 18));
	/* Box 1: its top/left outline from (25, 55) to the image's corner (the label bar
	 * above it, rows 37..54, spans the image's width). */
	ck_assert_int_eq(mnv2_draw_boxes(&img, b + 1, 1, NULL, 0), 0);
	ck_assert(is(&img, 0, 37, c) && is(&img, 29, 54, c) && untouched(&img, 5, 36));
	ck_assert(is(&img, 25, 59, c) && is(&img, 29, 55, c) && is(&img, 26, 59, c));
	ck_assert(untouched(&img, 27, 57));
	free(img.data);

	/* Wholly outside, or not finite: nothing at all is drawn. */
	img = grey(30, 30);
	mnv2_draw_box off[] = {
		{ .xmin = 40, .ymin = 0, .xmax = 60, .ymax = 20, .class_id = 2, .score = 0.9f },
		{ .xmin = -60, .ymin = -60, .xmax = -1, .ymax = 20, .class_id = 2, .score = 0.9f },
		{ .xmin = 0, .ymin = 31, .xmax = 20, .ymax = 50, .class_id = 2, .score = 0.9f },
		{ .xmin = 0, .ymin = 0, .xmax = NAN, .ymax = 5, .class_id = 2 },
		{ .xmin = -1e38f, .ymin = -1e38f, .xmax = -1e37f, .ymax = -1e37f, .class_id = 2 },
	};
	ck_assert_int_eq(mnv2_draw_boxes(&img, off, 5, NULL, 0), 0);
	for (long y = 0; y < 30; y++)
		for (long x = 0; x < 30; x++)
			ck_assert(untouched(&img, x, y));
	/* Text far off the image is measured but draws nothing. */
	ck_assert_int_eq(mnv2_draw_text(&img, -5000, 3, "abc", 2, c), (3 * 6 - 1) * 2);
	ck_assert_int_eq(mnv2_draw_text(&img, 1L << 40, 3, "abc", 2, c), (3 * 6 - 1) * 2);
	ck_assert(untouched(&img, 0, 3));
	free(img.data);
}
END_TEST

/* A label that would run off the right edge is shifted left; one with no room above the
 * box goes inside it. */
START_TEST(label_stays_on_image)
{
	mnv2_image img = grey(60, 40);
	uint8_t c[3];
	mnv2_draw_box b = { .xmin = 50, .ymin = 2, .xmax = 60, .ymax = 40, .class_id = 5,
			    .score = 0.5f, .label = "person" };
	mnv2_draw_class_colour(5, c);
	ck_assert_int_eq(mnv2_draw_boxes(&img, &b, 1, NULL, 0), 0);
	/* "person 0.50" = 11 glyphs: (11 * 6 - 1) * 2 + 4 = 134 > 60, so it starts at x 0. */
	ck_assert(is(&img, 0, 2, c) && is(&img, 0, 19, c) && untouched(&img, 0, 20));
	free(img.data);
}
END_TEST

START_TEST(errors_returned)
{
	char err[128] = "";
	mnv2_image none = { 0 };
	mnv2_draw_box b = { 0 };
	uint8_t *buf = (uint8_t *)"x";
	size_t len = 1;
	ck_assert_int_eq(mnv2_draw_boxes(&none, &b, 1, err, sizeof err), -1);
	ck_assert_str_eq(err, "draw: no RGB888 image to draw on");
	mnv2_image img = grey(4, 4);
	ck_assert_int_eq(mnv2_draw_boxes(&img, NULL, 2, err, sizeof err), -1);
	ck_assert_int_eq(mnv2_draw_boxes(&img, NULL, 0, err, sizeof err), 0);
	ck_assert_int_eq(mnv2_png_encode(&none, &buf, &len, err, sizeof err), -1);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(mnv2_png_write_file(&img, "/nonexistent-dir/x.png", err, sizeof err), -1);
	ck_assert_msg(!strncmp(err, "/nonexistent-dir/x.png: cannot write: ", 38), "%s", err);
	free(img.data);
}
END_TEST

/* Encoded PNGs decode (libmnv2image) to exactly the pixels, in memory and through a file. */
START_TEST(png_round_trip)
{
	uint32_t seed = 7;
	const uint32_t sizes[][2] = { { 1, 1 }, { 37, 23 }, { 300, 2 }, { 3, 257 } };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		mnv2_image img = grey(sizes[k][0], sizes[k][1]), back;
		for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++)
			img.data[i] = (uint8_t)test_rand(&seed);
		uint8_t *png;
		size_t len;
		char err[MNV2_IMAGE_ERR_LEN];
		ck_assert_int_eq(mnv2_png_encode(&img, &png, &len, err, sizeof err), 0);
		ck_assert_int_eq(mnv2_image_sniff(png, len), MNV2_IMAGE_PNG);
		ck_assert_msg(!mnv2_image_decode(png, len, NULL, &back, err, sizeof err), "%s", err);
		ck_assert_uint_eq(back.width, img.width);
		ck_assert_uint_eq(back.height, img.height);
		ck_assert(!memcmp(back.data, img.data, (size_t)img.width * img.height * 3));
		mnv2_image_free(&back);
		free(png);

		char path[] = "/tmp/test_draw_XXXXXX";
		int fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		close(fd);
		ck_assert_msg(!mnv2_png_write_file(&img, path, err, sizeof err), "%s", err);
		ck_assert_msg(!mnv2_image_load_file(path, NULL, &back, err, sizeof err), "%s", err);
		ck_assert(!memcmp(back.data, img.data, (size_t)img.width * img.height * 3));
		mnv2_image_free(&back);
		unlink(path);
		free(img.data);
	}
}
END_TEST

/* A drawn image survives PNG: the outline is still there after decoding. */
START_TEST(drawn_png_decodes)
{
	mnv2_image img = grey(64, 48), back;
	uint8_t c[3], *png;
	size_t len;
	mnv2_draw_box b = { .xmin = 8, .ymin = 24, .xmax = 40, .ymax = 44, .class_id = 0,
			    .score = 0.75f, .label = "person" };
	mnv2_draw_class_colour(0, c);
	ck_assert_int_eq(mnv2_draw_boxes(&img, &b, 1, NULL, 0), 0);
	ck_assert_int_eq(mnv2_png_encode(&img, &png, &len, NULL, 0), 0);
	ck_assert_int_eq(mnv2_image_decode(png, len, NULL, &back, NULL, 0), 0);
	ck_assert(is(&back, 8, 30, c) && is(&back, 39, 43, c) && untouched(&back, 20, 35));
	ck_assert(!memcmp(back.data, img.data, (size_t)64 * 48 * 3));
	mnv2_image_free(&back);
	free(png);
	free(img.data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("draw");
	TCase *tc = tcase_create("draw");
	tcase_add_test(tc, box_outline_on_its_pixels);
	tcase_add_test(tc, label_text_pixels);
	tcase_add_test(tc, font_covers_printable_ascii);
	tcase_add_test(tc, class_colours_distinct);
	tcase_add_test(tc, clipping_at_edges);
	tcase_add_test(tc, label_stays_on_image);
	tcase_add_test(tc, errors_returned);
	tcase_add_test(tc, png_round_trip);
	tcase_add_test(tc, drawn_png_decodes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
