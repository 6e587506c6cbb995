/* y4m — a reader for YUV4MPEG2 (.y4m) files, the raw-video container ffmpeg, x264 and
 * most test suites use: one text header line, then per frame a "FRAME" line and the
 * planes. Used by camera-loop as a stand-in camera; libc only, no global state.
 *
 * Contract:
 *  - The file is untrusted. The header line and every FRAME line are read with a length
 *    bound (Y4M_MAX_LINE); every number is parsed with overflow checks; the frame size is
 *    computed overflow-safe and must not exceed the caller's max_frame_bytes; a frame cut
 *    short by the end of the file is an error, never a partial frame.
 *  - Only 4:2:0 colourspaces are accepted (C420jpeg, C420, C420paldv, C420mpeg2, and no C
 *    at all, which means 420jpeg): all store I420 planes (Y, then U and V at half size,
 *    rounded up); they differ only in chroma siting, which the daemon does not model
 *    (each 2x2 block uses its one chroma sample). Anything else (C422, C444, Cmono, ...)
 *    is refused with a message naming it.
 *  - XCOLORRANGE=FULL (what ffmpeg writes for yuvj420p) sets full_range; the default is
 *    limited (video) range.
 *  - Errors fill err (what, where, why) and return -1; nothing is printed. */
#ifndef MNV2_EXAMPLES_Y4M_H
#define MNV2_EXAMPLES_Y4M_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define Y4M_MAX_LINE 1024      /* bytes of a header or FRAME line, newline included */
#define Y4M_MAX_DIM 16384u     /* largest width or height accepted */
#define Y4M_ERR_LEN 256

typedef struct y4m_info {
	uint32_t width, height;
	uint32_t fps_num, fps_den;   /* 0/0 when the header has no F */
	int full_range;              /* XCOLORRANGE=FULL */
	char colorspace[16];         /* as written after C ("420jpeg" when absent) */
	size_t y_bytes;              /* width * height */
	size_t c_bytes;              /* one chroma plane: ceil(w/2) * ceil(h/2) */
	size_t frame_bytes;          /* y_bytes + 2 * c_bytes: the I420 frame */
} y4m_info;

/* Parses a header line (without its newline; len bytes, need not be NUL-terminated). */
int y4m_parse_header(const char *line, size_t len, size_t max_frame_bytes, y4m_info *info,
		     char err[Y4M_ERR_LEN]);

/* Parses a frame header line (without its newline): "FRAME" and optional parameters,
 * which are ignored. */
int y4m_parse_frame_line(const char *line, size_t len, char err[Y4M_ERR_LEN]);

/* Reads and parses the header from the start of f. */
int y4m_read_header(FILE *f, size_t max_frame_bytes, y4m_info *info, char err[Y4M_ERR_LEN]);

/* Reads frame number `index` (for messages) into buf (at least info->frame_bytes): 1 when
 * a whole frame was read, 0 at a clean end of file (before its FRAME line), -1 on error
 * (truncated frame, bad FRAME line, read error). */
int y4m_read_frame(FILE *f, const y4m_info *info, uint64_t index, void *buf, size_t len,
		   char err[Y4M_ERR_LEN]);

#endif
