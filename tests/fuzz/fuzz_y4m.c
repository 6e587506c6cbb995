/* fuzz_y4m — libFuzzer harness of examples/y4m.c, the YUV4MPEG2 reader camera-loop uses on
 * files it is given (untrusted).
 *
 * One input is a whole .y4m file. It is parsed three ways: the bytes up to the first
 * newline as a header line (y4m_parse_header), the same as a FRAME line
 * (y4m_parse_frame_line), and as a stream (y4m_read_header, then y4m_read_frame until the
 * end, an error, or 64 frames), with frames limited to 1 MiB. Checked beyond "no crash, no
 * leak, no hang":
 *  - a failure always has a non-empty, terminated message;
 *  - an accepted header has 1 <= W, H <= 16384, a 4:2:0 colourspace, and frame sizes that
 *    are exactly W*H + 2*ceil(W/2)*ceil(H/2) and within the limit; stream and line parsing
 *    agree;
 *  - a frame is reported read only when its bytes were all consumed from the stream.
 *
 * Built with -DMNV2_FUZZ_SEEDS instead (no libFuzzer), it is `fuzz_y4m_seeds DIR`: it writes
 * the seed corpus, checking that each seed gives the outcome it was made for (frames read,
 * or which error); the default test suite runs it so. */
#include "y4m.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAME ((size_t)1 << 20)
#define MAX_FRAMES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_y4m: broken invariant: %s\n", what);
		abort();
	}
}

static void check_err(const char *err)
{
	size_t n = strnlen(err, Y4M_ERR_LEN);
	check(n > 0 && n < Y4M_ERR_LEN, "an error without a terminated message");
}

static void check_info(const y4m_info *in)
{
	check(in->width >= 1 && in->width <= Y4M_MAX_DIM, "width out of range");
	check(in->height >= 1 && in->height <= Y4M_MAX_DIM, "height out of range");
	uint64_t c = (uint64_t)((in->width + 1) / 2) * ((in->height + 1) / 2);
	check(in->y_bytes == (uint64_t)in->width * in->height, "Y plane size");
	check(in->c_bytes == c, "chroma plane size");
	check(in->frame_bytes == in->y_bytes + 2 * c && in->frame_bytes <= MAX_FRAME,
	      "frame size");
	check(strncmp(in->colorspace, "420", 3) == 0, "a colourspace other than 4:2:0");
}

/* Outcome: frames read (>= 0), -1 header refused, -2 a frame refused. */
static int run(const uint8_t *data, size_t size)
{
	char err[Y4M_ERR_LEN];
	y4m_info line_info, info;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = nl ? (size_t)(nl - data) : size;
	int line_ok = y4m_parse_header((const char *)data, len, MAX_FRAME, &line_info, err) == 0;
	if (line_ok)
		check_info(&line_info);
	else
		check_err(err);
	if (y4m_parse_frame_line((const char *)data, len, err))
		check_err(err);
	if (size == 0)
		return -1; /* fmemopen() needs at least one byte */

	FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");
	check(f != NULL, "fmemopen failed");
	int outcome = -1;
	if (y4m_read_header(f, MAX_FRAME, &info, err)) {
		check_err(err);
		check(!line_ok || len + 1 > size || len >= Y4M_MAX_LINE,
		      "the stream refused a header the line parser accepted");
		goto out;
	}
	check_info(&info);
	check(line_ok && line_info.frame_bytes == info.frame_bytes,
	      "stream and line parsing disagree");
	uint8_t *buf = malloc(info.frame_bytes);
	check(buf != NULL, "out of memory");
	outcome = 0;
	for (uint64_t i = 0; i < MAX_FRAMES; i++) {
		long before = ftell(f);
		int rc = y4m_read_frame(f, &info, i, buf, info.frame_bytes, err);
		if (rc < 0) {
			check_err(err);
			outcome = -2;
			break;
		}
		if (rc == 0) {
			check(ftell(f) == before, "end of file reported after consuming bytes");
			break;
		}
		check(ftell(f) - before >= (long)info.frame_bytes + 6, "a frame without its bytes");
		outcome++;
	}
	free(buf);
out:
	fclose(f);
	return outcome;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size);
	return 0;
}

#ifdef MNV2_FUZZ_SEEDS
#include <errno.h>
#include <sys/stat.h>

typedef struct seed {
	const char *name, *header; /* header: the text before the frames, newline included */
	unsigned w, h;             /* frame size written (0: none) */
	int frames;
	const char *frame_line;    /* "FRAME\n" when NULL */
	size_t cut;                /* bytes dropped from the end */
	int want;                  /* outcome of run() */
} seed;

static const seed seeds[] = {
	{ "plain", "YUV4MPEG2 W8 H6 F30:1 Ip A1:1 C420jpeg\n", 8, 6, 3, NULL, 0, 3 },
	{ "odd-size", "YUV4MPEG2 W7 H5 C420\n", 7, 5, 2, NULL, 0, 2 },
	{ "paldv", "YUV4MPEG2 W4 H4 C420paldv XYSCSS=420PALDV\n", 4, 4, 1, NULL, 0, 1 },
	{ "mpeg2-full", "YUV4MPEG2 W4 H2 C420mpeg2 XCOLORRANGE=FULL It\n", 4, 2, 2, NULL, 0, 2 },
	{ "no-colourspace", "YUV4MPEG2 H4 W6\n", 6, 4, 2, NULL, 0, 2 },
	{ "frame-params", "YUV4MPEG2 W4 H4\n", 4, 4, 2, "FRAME Ip XFOO=bar\n", 0, 2 },
	{ "no-frames", "YUV4MPEG2 W640 H480 F25:1\n", 0, 0, 0, NULL, 0, 0 },
	{ "truncated", "YUV4MPEG2 W8 H6\n", 8, 6, 2, NULL, 10, -2 },
	{ "lying-header", "YUV4MPEG2 W64 H48\n", 8, 6, 3, NULL, 0, -2 },
	{ "bad-marker", "YUV4MPEG2 W4 H4\n", 4, 4, 1, "FRAMEX\n", 0, -2 },
	{ "c422", "YUV4MPEG2 W4 H4 C422\n", 4, 4, 1, NULL, 0, -1 },
	{ "cmono", "YUV4MPEG2 W4 H4 Cmono\n", 4, 4, 1, NULL, 0, -1 },
	{ "too-big", "YUV4MPEG2 W16384 H16384\n", 0, 0, 0, NULL, 0, -1 },
	{ "huge", "YUV4MPEG2 W4294967297 H1\n", 0, 0, 0, NULL, 0, -1 },
	{ "zero", "YUV4MPEG2 W0 H4\n", 0, 0, 0, NULL, 0, -1 },
	{ "twice", "YUV4MPEG2 W4 H4 H4\n", 0, 0, 0, NULL, 0, -1 },
	{ "bad-rate", "YUV4MPEG2 W4 H4 F0:1\n", 0, 0, 0, NULL, 0, -1 },
	{ "no-newline", "YUV4MPEG2 W4 H4", 0, 0, 0, NULL, 0, -1 },
	{ "not-y4m", "YUV4MPEG W4 H4\n", 0, 0, 0, NULL, 0, -1 },
};

static int write_seed(const char *dir, int n, const seed *s)
{
	size_t fb = s->w ? (size_t)s->w * s->h + 2 * (size_t)((s->w + 1) / 2) * ((s->h + 1) / 2)
			 : 0;
	const char *fl = s->frame_line ? s->frame_line : "FRAME\n";
	size_t size = strlen(s->header) + (size_t)s->frames * (strlen(fl) + fb);
	uint8_t *b = malloc(size + 1), *p = b;
	if (!b)
		return -1;
	memcpy(p, s->header, strlen(s->header));
	p += strlen(s->header);
	for (int i = 0; i < s->frames; i++) {
		memcpy(p, fl, strlen(fl));
		p += strlen(fl);
		for (size_t j = 0; j < fb; j++) /* a gradient, different per frame */
			*p++ = (uint8_t)(j * 7 + (size_t)i * 31);
	}
	size -= s->cut;
	int got = run(b, size);
	if (got != s->want)
		fprintf(stderr, "fuzz_y4m_seeds: seed %s gives %d, not %d\n", s->name, got, s->want);
	char path[600];
	snprintf(path, sizeof path, "%s/%02d-%s.y4m", dir, n, s->name);
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(b, 1, size, f) == size ? 0 : -1;
	if (f && fclose(f))
		rc = -1;
	free(b);
	return rc || got != s->want ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_y4m_seeds DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	int failed = 0;
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
		failed |= write_seed(argv[1], (int)i, &seeds[i]) != 0;
	printf("fuzz_y4m_seeds: %zu seeds%s\n", sizeof seeds / sizeof seeds[0],
	       failed ? ", some FAILED" : ", each with its intended outcome");
	return failed ? 1 : 0;
}
#endif
