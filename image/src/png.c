/* png — PNG to RGB888 with libpng's classic API.
 *
 * libpng reports errors by longjmp. Everything that must survive a longjmp (the pixel
 * buffer, the row pointers, the error text) lives in a struct png_job owned by the caller
 * of run_png(), the only function that calls setjmp, so no local variable of the function
 * that called setjmp is read after the jump. The caller frees whatever the job holds.
 *
 * All of libpng's (and zlib's) memory comes from a budget: PNG_MEM_BASE before the header
 * is known, plus room for a few rows once its dimensions have passed the limits. Chunks we
 * never use are skipped unread, so the budget is a second line of defence: whatever a
 * libpng version buffers, it cannot take more than this.
 */
#include "image_internal.h"

#include <png.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libpng's own per-chunk allocation cap (png_set_chunk_malloc_max). libpng 1.6.39 does not
 * apply it to every chunk (a 9 MiB pCAL was buffered), so what actually bounds memory is
 * the skip list and the budget below. */
#define PNG_CHUNK_MAX ((png_alloc_size_t)8 << 20)
/* At most this many ancillary chunks are kept (libpng default 1000). */
#define PNG_CHUNK_CACHE_MAX 128
/* libpng's memory before IHDR: chunk buffers, zlib state, its own structures. */
#define PNG_MEM_BASE ((size_t)12 << 20)
/* Per pixel of width once IHDR is accepted: libpng keeps two rows of up to 8 bytes per
 * pixel (RGBA, 16 bits) plus transform scratch. */
#define PNG_MEM_PER_COLUMN 32

/* Each block carries its size in front, so the budget can be given back on free. */
union mem_head {
	size_t size;
	max_align_t align;
};

struct png_job {
	const uint8_t *data;
	size_t len, pos;
	const mnv2_image_limits *lim;
	char *err;
	size_t errlen;
	uint8_t *pixels;
	png_bytep *rows;
	uint32_t width, height;
	size_t mem_used, mem_budget;
	int over_budget;
};

static png_voidp mem_alloc(png_structp png, png_alloc_size_t n)
{
	struct png_job *job = png_get_mem_ptr(png);
	union mem_head *h;
	if (n > job->mem_budget - job->mem_used || n > SIZE_MAX - sizeof *h) {
		job->over_budget = 1;
		return NULL;
	}
	h = malloc(sizeof *h + n);
	if (!h)
		return NULL;
	h->size = n;
	job->mem_used += n;
	return h + 1;
}

static void mem_free(png_structp png, png_voidp p)
{
	struct png_job *job = png_get_mem_ptr(png);
	union mem_head *h = p;
	if (!p)
		return;
	h--;
	job->mem_used -= h->size;
	free(h);
}

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_job *job = png_get_error_ptr(png);
	if (job->over_budget)
		mnv2_img_seterr(job->err, job->errlen,
				"PNG: %s: libpng needed more than its %zu-byte memory budget", msg,
				job->mem_budget);
	else
		mnv2_img_seterr(job->err, job->errlen, "PNG: %s", msg);
	png_longjmp(png, 1);
}

/* Warnings (and benign errors, which libpng turns into warnings) are not fatal. */
static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void read_bytes(png_structp png, png_bytep dst, size_t n)
{
	struct png_job *job = png_get_io_ptr(png);
	if (n > job->len - job->pos)
		png_error(png, "unexpected end of data (file truncated)");
	memcpy(dst, job->data + job->pos, n);
	job->pos += n;
}

/* Chunks we never use: libpng skips them (after checking their CRC) without parsing. */
static void skip_unused_chunks(png_structp png)
{
	static const png_byte unused[] = "iCCP\0iTXt\0tEXt\0zTXt\0sPLT\0eXIf\0tIME\0hIST\0pCAL\0sCAL\0";
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, unused, (int)(sizeof unused / 5));
}

static void set_limits(png_structp png, const mnv2_image_limits *lim)
{
	/* Each dimension alone may not exceed the pixel limit; the product is checked after
	 * IHDR. libpng caps both at 2^31 - 1 anyway. */
	png_uint_32 dim = lim->max_pixels < PNG_UINT_31_MAX ? (png_uint_32)lim->max_pixels
							    : PNG_UINT_31_MAX;
	png_set_user_limits(png, dim ? dim : 1, dim ? dim : 1);
	png_set_chunk_malloc_max(png, PNG_CHUNK_MAX);
	png_set_chunk_cache_max(png, PNG_CHUNK_CACHE_MAX);
	/* A CRC error in any chunk, critical or ancillary, is an error. */
	png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
}

/* Every colour type and depth to 8-bit RGB: palette and low-bit grey expanded, 16-bit
 * reduced to the high byte, alpha (including tRNS) dropped, grey replicated, Adam7
 * interlacing undone. No gamma or colour management. */
static void set_transforms(png_structp png, int color_type, int bit_depth)
{
	if (color_type == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (bit_depth == 16)
		png_set_strip_16(png);
	png_set_strip_alpha(png);
	if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
		png_set_gray_to_rgb(png);
	(void)png_set_interlace_handling(png);
}

/* Returns 0 with job->pixels filled, or -1 with job->err set. */
static int run_png(png_structp png, png_infop info, struct png_job *job)
{
	png_uint_32 w, h;
	int bit_depth, color_type;
	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_read_fn(png, job, read_bytes);
	set_limits(png, job->lim);
	skip_unused_chunks(png);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, NULL, NULL, NULL);
	if (mnv2_img_check_dims(w, h, job->lim, "PNG", job->err, job->errlen) != 0)
		return -1;
	if ((size_t)w > (SIZE_MAX - job->mem_budget) / PNG_MEM_PER_COLUMN) {
		mnv2_img_seterr(job->err, job->errlen, "PNG: image is too wide to address here");
		return -1;
	}
	job->mem_budget += (size_t)w * PNG_MEM_PER_COLUMN;
	set_transforms(png, color_type, bit_depth);
	png_read_update_info(png, info);
	if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != 3 ||
	    png_get_rowbytes(png, info) != (size_t)w * 3) {
		mnv2_img_seterr(job->err, job->errlen,
				"PNG: colour type %d at %d bits did not convert to 8-bit RGB",
				color_type, bit_depth);
		return -1;
	}
	job->pixels = malloc((size_t)w * h * 3);
	job->rows = malloc((size_t)h * sizeof *job->rows);
	if (!job->pixels || !job->rows) {
		mnv2_img_seterr(job->err, job->errlen, "PNG: out of memory for %ux%u pixels",
				(unsigned)w, (unsigned)h);
		return -1;
	}
	for (png_uint_32 y = 0; y < h; y++)
		job->rows[y] = job->pixels + (size_t)y * w * 3;
	png_read_image(png, job->rows);
	/* Reads to IEND: a file cut after the image data, or a bad CRC there, is an error. */
	png_read_end(png, NULL);
	job->width = w;
	job->height = h;
	return 0;
}

int mnv2_img_decode_png(const uint8_t *data, size_t len, const mnv2_image_limits *lim,
			mnv2_image *out, char *err, size_t errlen)
{
	struct png_job job = {.data = data, .len = len, .lim = lim, .err = err, .errlen = errlen,
			      .mem_budget = PNG_MEM_BASE};
	png_structp png;
	png_infop info;
	int rc;
	png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &job, on_error, on_warning, &job,
				       mem_alloc, mem_free);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
		mnv2_img_seterr(err, errlen, "PNG: cannot create the libpng decoder (out of memory)");
		return -1;
	}
	rc = run_png(png, info, &job);
	png_destroy_read_struct(&png, &info, NULL);
	free(job.rows);
	if (rc != 0) {
		free(job.pixels);
		return -1;
	}
	out->width = job.width;
	out->height = job.height;
	out->stride = (size_t)job.width * 3;
	out->data = job.pixels;
	return 0;
}
