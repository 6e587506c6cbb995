/* mnv2ctl: command-line parsing. Options may appear before or after the command and its
 * image arguments; "--" ends options. Every value is checked strictly (whole string,
 * range), and an option that does not apply to the command is a usage error. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

void ctl_usage(FILE *f)
{
	fputs("usage: mnv2ctl [-s SOCKET] [--timeout MS] [--json] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  classify IMAGE... [--model M] [--top K] [--threshold T]\n"
	      "           [--resize stretch|letterbox|center-crop] [--filter antialias|bilinear]\n"
	      "           [--deadline MS] [--raw FORMAT:WxH[:STRIDE]] [--roi X,Y,W,H]\n"
	      "  detect IMAGE...   [--model M] [--threshold T] [--max N] [--resize MODE]\n"
	      "           [--filter FILTER] [--deadline MS] [--raw FORMAT:WxH[:STRIDE]]\n"
	      "           [--draw OUT.png] [--roi X,Y,W,H]\n"
	      "  detect|classify --raw FILE --format FORMAT --size WxH [--stride BYTES]\n"
	      "                    a raw frame file sent zero-copy (a sealed memfd)\n"
	      "  status            server version, uptime, models, counters and latency\n"
	      "  models            the loaded models\n"
	      "  reload            reload the configuration and models\n"
	      "  metrics           status as Prometheus text exposition\n"
	      "  bench IMAGE [--concurrency N] [--requests N] [--detect] [classify options]\n"
	      "\n"
	      "options:\n"
	      "  -s, --socket PATH  daemon socket (default: $MNV2_SOCKET, else " MNV2C_DEFAULT_SOCKET
	      ")\n"
	      "  --timeout MS       per-request time limit (default 30000)\n"
	      "  --json             one JSON object per line on stdout\n"
	      "  --raw FORMAT:WxH[:STRIDE]  IMAGE files hold raw pixels: FORMAT is rgb888, bgr888,\n"
	      "                     rgba8888, bgra8888, gray8, nv12, nv21, i420, yuyv or uyvy;\n"
	      "                     STRIDE is plane 0's bytes per row\n"
	      "  --raw FILE --format FORMAT --size WxH  the same, sent through a memfd\n"
	      "  --roi X,Y,W,H      only this rectangle of the image is looked at\n"
	      "  --filter antialias|bilinear  resampling (default: the model's, antialias unless\n"
	      "                     configured); bilinear is cheaper on frames much larger than\n"
	      "                     the model's input but aliases, antialias is the reference\n"
	      "\n"
	      "IMAGE files are sent as they are (PNG or JPEG, decoded by the daemon).\n"
	      "detect --draw OUT.png decodes each image here, draws the boxes and labels on it\n"
	      "and writes a PNG; with several images OUT gets an index (OUT-0.png, OUT-1.png).\n"
	      "exit status: 0 ok, 1 request failed, 2 usage error, 3 cannot connect\n",
	      f);
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Whole-string unsigned integer in [lo, hi]. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	mnv2c_pixel_format fmt;
} pixfmts[] = {
	{"rgb888", MNV2C_PIX_RGB888}, {"rgb", MNV2C_PIX_RGB888},
	{"bgr888", MNV2C_PIX_BGR888}, {"bgr", MNV2C_PIX_BGR888},
	{"rgba8888", MNV2C_PIX_RGBA8888}, {"rgba", MNV2C_PIX_RGBA8888},
	{"gray8", MNV2C_PIX_GRAY8}, {"gray", MNV2C_PIX_GRAY8},
};

int ctl_parse_raw(const char *spec, ctl_raw *raw, char *err, size_t errlen)
{
	char buf[128], *fields[4] = {0}, *save = NULL;
	unsigned long w, h, stride = 0;
	int n = 0;
	size_t i;

	if (strlen(spec) >= sizeof buf)
		return fail(err, errlen, "--raw: '%s' is too long", spec);
	strcpy(buf, spec);
	for (char *t = strtok_r(buf, ":", &save); t && n < 4; t = strtok_r(NULL, ":", &save))
		fields[n++] = t;
	if (n < 2 || n > 3 || strchr(spec, ':') == spec || strstr(spec, "::"))
		return fail(err, errlen, "--raw: '%s' is not FORMAT:WxH[:STRIDE]", spec);
	mnv2c_pixel_format fmt;
	for (i = 0; i < sizeof pixfmts / sizeof pixfmts[0]; i++)
		if (strcmp(fields[0], pixfmts[i].name) == 0)
			break;
	if (i < sizeof pixfmts / sizeof pixfmts[0])
		fmt = pixfmts[i].fmt;
	else if (mnv2c_pixel_format_parse(fields[0], &fmt))
		return fail(err, errlen,
			    "--raw: unknown pixel format '%s' (rgb888, bgr888, rgba8888, bgra8888, "
			    "gray8, nv12, nv21, i420, yuyv, uyvy)", fields[0]);
	char *x = strchr(fields[1], 'x');
	if (!x)
		return fail(err, errlen, "--raw: size '%s' is not WxH", fields[1]);
	*x = '\0';
	if (parse_uint(fields[1], 1, 65535, &w) || parse_uint(x + 1, 1, 65535, &h))
		return fail(err, errlen, "--raw: width and height must be 1..65535 in '%s'", spec);
	unsigned bpp = mnv2c_pixel_format_bpp(fmt);
	bpp = bpp ? bpp : 1;   /* planar YUV: plane 0 is one byte a pixel */
	if (n == 3 && (parse_uint(fields[2], 1, UINT32_MAX, &stride) || stride < w * bpp))
		return fail(err, errlen, "--raw: stride '%s' must be a number >= %lu (width x %u)",
			    fields[2], w * bpp, bpp);
	raw->set = 1;
	raw->format = fmt;
	raw->width = (uint32_t)w;
	raw->height = (uint32_t)h;
	raw->stride = (uint32_t)stride;
	return 0;
}

static const struct {
	const char *name;
	ctl_command cmd;
} commands[] = {
	{"classify", CTL_CMD_CLASSIFY}, {"detect", CTL_CMD_DETECT}, {"status", CTL_CMD_STATUS},
	{"models", CTL_CMD_MODELS},     {"reload", CTL_CMD_RELOAD}, {"metrics", CTL_CMD_METRICS},
	{"bench", CTL_CMD_BENCH},       {"help", CTL_CMD_HELP},
};

/* Which commands accept which option. */
enum { F_IMG = 1, F_DET = 2, F_CLS = 4, F_BENCH = 8, F_DRAW = 16 };

static unsigned command_flags(ctl_command c)
{
	switch (c) {
	case CTL_CMD_CLASSIFY: return F_IMG | F_CLS;
	case CTL_CMD_DETECT: return F_IMG | F_DET | F_DRAW;
	case CTL_CMD_BENCH: return F_IMG | F_CLS | F_DET | F_BENCH;
	default: return 0;
	}
}

typedef struct opt_def {
	const char *lng;
	char shrt;
	int has_arg;
	unsigned needs; /* 0: global */
} opt_def;

static const opt_def opts[] = {
	{"socket", 's', 1, 0},       {"timeout", 0, 1, 0},         {"json", 0, 0, 0},
	{"help", 'h', 0, 0},         {"version", 0, 0, 0},         {"model", 'm', 1, F_IMG},
	{"top", 'k', 1, F_CLS},      {"threshold", 0, 1, F_IMG},   {"max", 0, 1, F_DET},
	{"resize", 0, 1, F_IMG},     {"deadline", 0, 1, F_IMG},    {"raw", 0, 1, F_IMG},
	{"concurrency", 0, 1, F_BENCH}, {"requests", 0, 1, F_BENCH},
	{"detect", 0, 0, F_BENCH},      {"draw", 0, 1, F_DRAW},
	{"format", 0, 1, F_IMG},        {"size", 0, 1, F_IMG},       {"stride", 0, 1, F_IMG},
	{"roi", 0, 1, F_IMG},           {"filter", 0, 1, F_IMG},
};

/* "X,Y,W,H" (W, H >= 1). */
static int parse_roi(const char *v, ctl_args *a)
{
	char buf[64], *save = NULL;
	unsigned long f[4];
	int n = 0;
	if (strlen(v) >= sizeof buf || strstr(v, ",,") || *v == ',')
		return -1;
	strcpy(buf, v);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == 4 || parse_uint(t, 0, 65535, &f[n]))
			return -1;
		n++;
	}
	if (n != 4 || !f[2] || !f[3])
		return -1;
	a->opt.roi.x = (uint32_t)f[0];
	a->opt.roi.y = (uint32_t)f[1];
	a->opt.roi.width = (uint32_t)f[2];
	a->opt.roi.height = (uint32_t)f[3];
	return 0;
}

/* "WxH", each 1..65535. */
static int parse_size(const char *v, uint32_t *w, uint32_t *h)
{
	char buf[32];
	unsigned long a, b;
	if (strlen(v) >= sizeof buf)
		return -1;
	strcpy(buf, v);
	char *x = strchr(buf, 'x');
	if (!x)
		return -1;
	*x = '\0';
	if (parse_uint(buf, 1, 65535, &a) || parse_uint(x + 1, 1, 65535, &b))
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

static const opt_def *find_opt(const char *arg, const char **inline_val)
{
	*inline_val = NULL;
	if (arg[1] != '-') { /* -s VALUE */
		for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
			if (opts[i].shrt && arg[1] == opts[i].shrt && arg[2] == '\0')
				return &opts[i];
		return NULL;
	}
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (strlen(opts[i].lng) == len && strncmp(opts[i].lng, name, len) == 0) {
			*inline_val = eq ? eq + 1 : NULL;
			return &opts[i];
		}
	return NULL;
}

/* The index of v in the NULL-terminated names (a wire enum's values), or -1. */
static int name_index(const char *v, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

static const char *const resize_names[] = {"default", "stretch", "letterbox", "center-crop",
					   NULL};
static const char *const filter_names[] = {"default", "antialias", "bilinear", NULL};

static int apply_opt(ctl_args *a, const opt_def *o, const char *v, char *err, size_t errlen)
{
	const char *n = o->lng;
	unsigned long u;
	char *end;

	if (strcmp(n, "socket") == 0) {
		if (!*v)
			return fail(err, errlen, "--socket: empty path");
		a->socket = v;
	} else if (strcmp(n, "timeout") == 0) {
		if (parse_uint(v, 1, 86400000, &u))
			return fail(err, errlen, "--timeout: '%s' is not a number of ms in 1..86400000",
				    v);
		a->timeout_ms = (int)u;
	} else if (strcmp(n, "json") == 0) {
		a->json = 1;
	} else if (strcmp(n, "model") == 0) {
		if (!*v)
			return fail(err, errlen, "--model: empty name");
		a->opt.model = v;
	} else if (strcmp(n, "top") == 0) {
		if (parse_uint(v, 1, 100000, &u))
			return fail(err, errlen, "--top: '%s' is not a number in 1..100000", v);
		a->opt.top_k = (uint32_t)u;
	} else if (strcmp(n, "threshold") == 0) {
		errno = 0;
		double d = strtod(v, &end);
		if (!*v || *end || errno || !(d >= 0.0 && d <= 1.0))
			return fail(err, errlen, "--threshold: '%s' is not a number in 0..1", v);
		a->opt.score_threshold = (float)d;
	} else if (strcmp(n, "max") == 0) {
		if (parse_uint(v, 1, 100000, &u))
			return fail(err, errlen, "--max: '%s' is not a number in 1..100000", v);
		a->opt.max_detections = (uint32_t)u;
	} else if (strcmp(n, "resize") == 0) {
		int i = name_index(v, resize_names);
		if (i < 0)
			return fail(err, errlen,
				    "--resize: '%s' is not stretch, letterbox or center-crop", v);
		a->opt.resize = (mnv2c_resize)i;
	} else if (strcmp(n, "filter") == 0) {
		int i = name_index(v, filter_names);
		if (i < 0)
			return fail(err, errlen, "--filter: '%s' is not antialias or bilinear", v);
		a->opt.filter = (mnv2c_filter)i;
	} else if (strcmp(n, "deadline") == 0) {
		if (parse_uint(v, 1, UINT32_MAX, &u))
			return fail(err, errlen, "--deadline: '%s' is not a number of ms >= 1", v);
		a->opt.deadline_ms = (uint32_t)u;
	} else if (strcmp(n, "raw") == 0) {
		if (strchr(v, ':') && !a->raw.memfd)
			return ctl_parse_raw(v, &a->raw, err, errlen);
		if (!*v)
			return fail(err, errlen, "--raw: empty file name");
		a->raw.memfd = 1;   /* --raw FILE: geometry from --format and --size */
		a->raw.file = v;
		a->images[a->n_images++] = v;
	} else if (strcmp(n, "format") == 0) {
		a->raw.geo = 1;
		if (mnv2c_pixel_format_parse(v, &a->raw.format))
			return fail(err, errlen, "--format: unknown pixel format '%s' (rgb888, "
				    "bgr888, rgba8888, bgra8888, gray8, nv12, nv21, i420, yuyv, uyvy)",
				    v);
	} else if (strcmp(n, "size") == 0) {
		a->raw.geo = 1;
		if (parse_size(v, &a->raw.width, &a->raw.height))
			return fail(err, errlen, "--size: '%s' is not WxH (1..65535 each)", v);
	} else if (strcmp(n, "stride") == 0) {
		a->raw.geo = 1;
		if (parse_uint(v, 1, UINT32_MAX, &u))
			return fail(err, errlen, "--stride: '%s' is not a number of bytes >= 1", v);
		a->raw.stride = (uint32_t)u;
	} else if (strcmp(n, "roi") == 0) {
		if (parse_roi(v, a))
			return fail(err, errlen, "--roi: '%s' is not X,Y,W,H (W and H at least 1)", v);
	} else if (strcmp(n, "concurrency") == 0) {
		if (parse_uint(v, 1, 1024, &u))
			return fail(err, errlen, "--concurrency: '%s' is not a number in 1..1024", v);
		a->concurrency = (unsigned)u;
	} else if (strcmp(n, "requests") == 0) {
		if (parse_uint(v, 1, 10000000, &u))
			return fail(err, errlen, "--requests: '%s' is not a number in 1..10000000", v);
		a->requests = (unsigned)u;
	} else if (strcmp(n, "detect") == 0) {
		a->bench_detect = 1;
	} else if (strcmp(n, "draw") == 0) {
		if (!*v)
			return fail(err, errlen, "--draw: empty file name");
		a->draw = v;
	}
	/* help and version were settled before the command check */
	return 0;
}

static const char *command_name(ctl_command c)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].cmd == c)
			return commands[i].name;
	return "?";
}

/* Options are collected first and checked against the command at the end, so that
 * "mnv2ctl --top 3 classify x.png" works as well. */
typedef struct seen_opt {
	const opt_def *def;
	const char *val;
} seen_opt;

static int check_command(ctl_args *a, const seen_opt *seen, size_t n_seen, char *err,
			 size_t errlen)
{
	unsigned flags = command_flags(a->cmd);
	for (size_t i = 0; i < n_seen; i++) {
		if (seen[i].def->needs && !(seen[i].def->needs & flags))
			return fail(err, errlen, "option --%s does not apply to '%s'",
				    seen[i].def->lng, command_name(a->cmd));
		if (apply_opt(a, seen[i].def, seen[i].val, err, errlen) != 0)
			return -1;
	}
	int geo = a->raw.geo;
	if (geo && a->raw.set)
		return fail(err, errlen, "--format and --size go with --raw FILE, not with "
			    "--raw FORMAT:WxH");
	if (a->raw.memfd && a->cmd == CTL_CMD_BENCH)
		return fail(err, errlen, "'bench' takes --raw FORMAT:WxH, not --raw FILE");
	if (a->raw.memfd && !geo)
		return fail(err, errlen, "--raw: '%s' is not FORMAT:WxH[:STRIDE]; a raw frame "
			    "FILE needs --format and --size", a->raw.file);
	if (a->raw.memfd || geo) {
		if (!a->raw.format || !a->raw.width)
			return fail(err, errlen, "a raw frame file needs both --format and --size");
		uint64_t row = (uint64_t)a->raw.width * (mnv2c_pixel_format_bpp(a->raw.format)
							 ? mnv2c_pixel_format_bpp(a->raw.format) : 1);
		if (a->raw.stride && a->raw.stride < row)
			return fail(err, errlen, "--stride %u is less than a row (%llu bytes)",
				    (unsigned)a->raw.stride, (unsigned long long)row);
		a->raw.set = 1;
		a->raw.memfd = 1;   /* every IMAGE is such a file */
	}
	if (flags & F_IMG) {
		if (a->n_images == 0)
			return fail(err, errlen, "'%s' needs an IMAGE argument", command_name(a->cmd));
		if (a->cmd == CTL_CMD_BENCH && a->n_images != 1)
			return fail(err, errlen, "'bench' takes exactly one IMAGE");
	} else if (a->n_images > 0) {
		return fail(err, errlen, "'%s' takes no arguments (got '%s')", command_name(a->cmd),
			    a->images[0]);
	}
	if (a->json && a->cmd == CTL_CMD_METRICS)
		return fail(err, errlen, "--json does not apply to 'metrics' (it prints Prometheus text)");
	return 0;
}

int ctl_parse_args(int argc, char **argv, ctl_args *a, char *err, size_t errlen)
{
	seen_opt *seen = calloc((size_t)argc + 1, sizeof *seen);
	size_t n_seen = 0;
	int rc = -1, only_args = 0;

	memset(a, 0, sizeof *a);
	a->timeout_ms = -1;
	a->concurrency = 4;
	a->requests = 100;
	a->images = calloc((size_t)argc + 1, sizeof *a->images);
	if (!seen || !a->images) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val;
		if (!only_args && strcmp(arg, "--") == 0) {
			only_args = 1;
			continue;
		}
		if (!only_args && arg[0] == '-' && arg[1] != '\0') {
			const opt_def *o = find_opt(arg, &val);
			if (!o) {
				fail(err, errlen, "unknown option '%s'", arg);
				goto out;
			}
			if (o->has_arg && !val) {
				if (i + 1 >= argc) {
					fail(err, errlen, "option --%s needs a value", o->lng);
					goto out;
				}
				val = argv[++i];
			} else if (!o->has_arg && val) {
				fail(err, errlen, "option --%s takes no value", o->lng);
				goto out;
			}
			seen[n_seen++] = (seen_opt){o, val ? val : ""};
			continue;
		}
		if (a->cmd == CTL_CMD_NONE) {
			for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
				if (strcmp(arg, commands[k].name) == 0)
					a->cmd = commands[k].cmd;
			if (a->cmd == CTL_CMD_NONE) {
				fail(err, errlen, "unknown command '%s'", arg);
				goto out;
			}
			continue;
		}
		a->images[a->n_images++] = arg;
	}
	/* --help and --version work without a command */
	for (size_t i = 0; i < n_seen; i++) {
		if (strcmp(seen[i].def->lng, "help") == 0)
			a->cmd = CTL_CMD_HELP;
		else if (strcmp(seen[i].def->lng, "version") == 0 && a->cmd != CTL_CMD_HELP)
			a->cmd = CTL_CMD_VERSION;
	}
	if (a->cmd == CTL_CMD_HELP || a->cmd == CTL_CMD_VERSION) {
		rc = 0;
		goto out;
	}
	if (a->cmd == CTL_CMD_NONE) {
		fail(err, errlen, "no command given");
		goto out;
	}
	rc = check_command(a, seen, n_seen, err, errlen);
out:
	free(seen);
	return rc;
}

void ctl_args_free(ctl_args *a)
{
	free(a->images);
	a->images = NULL;
}
