/* mnv2ctl internals: argument parsing, output (human, JSON, Prometheus) and bench.
 * Nothing here talks to the socket except bench; everything writes to the FILE given. */
#ifndef MNV2CTL_CTL_H
#define MNV2CTL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mnv2/client.h"

enum { CTL_EXIT_OK = 0, CTL_EXIT_FAILED = 1, CTL_EXIT_USAGE = 2, CTL_EXIT_CONNECT = 3 };

typedef enum ctl_command {
	CTL_CMD_NONE,
	CTL_CMD_HELP,
	CTL_CMD_VERSION,
	CTL_CMD_CLASSIFY,
	CTL_CMD_DETECT,
	CTL_CMD_STATUS,
	CTL_CMD_MODELS,
	CTL_CMD_RELOAD,
	CTL_CMD_METRICS,
	CTL_CMD_BENCH,
} ctl_command;

typedef struct ctl_raw {
	int set;
	mnv2c_pixel_format format;
	uint32_t width, height, stride;
	int memfd;   /* --raw FILE --format F --size WxH: sent zero-copy through a memfd */
	int geo;     /* --format, --size or --stride given */
	const char *file;   /* the last --raw FILE */
} ctl_raw;

typedef struct ctl_args {
	const char *socket;   /* NULL: mnv2c_default_socket_path() */
	int timeout_ms;       /* -1: the library's default */
	int json;
	ctl_command cmd;
	const char **images;  /* n_images pointers into argv; free()d by ctl_args_free */
	size_t n_images;
	mnv2c_options opt;
	ctl_raw raw;
	unsigned concurrency, requests; /* bench */
	int bench_detect;
	const char *draw;     /* detect --draw OUT.png, or NULL */
} ctl_args;

/* Parses argv (options may come before or after the command). 0, or -1 with a message in
 * err for a usage error. */
int ctl_parse_args(int argc, char **argv, ctl_args *a, char *err, size_t errlen);
void ctl_args_free(ctl_args *a);
/* "rgb888:640x480" / "gray8:64x48:80" / "nv12:1920x1080" -> raw; 0 or -1 with a message. */
int ctl_parse_raw(const char *spec, ctl_raw *raw, char *err, size_t errlen);
void ctl_usage(FILE *f);

/* JSON: strings escaped (control characters, quotes, backslashes; invalid UTF-8 becomes
 * U+FFFD), floats printed with the fewest digits that read back as the same float,
 * NaN and infinities as null. */
void json_string(FILE *f, const char *s);
void json_float(FILE *f, float v);
/* Prints s for a terminal: control characters become '?'. */
void human_string(FILE *f, const char *s);

void print_classify(FILE *f, int json, const char *image, const mnv2c_classify_result *r);
void print_detect(FILE *f, int json, const char *image, const mnv2c_detect_result *r);
void print_status(FILE *f, int json, const mnv2c_server_status *s);
void print_models(FILE *f, int json, const mnv2c_model_list *m);
void print_reload(FILE *f, int json, const mnv2c_reload_result *r);
/* --json line for an image whose request failed. */
void print_image_error(FILE *f, const char *image, int status, const char *message);

/* Prometheus text exposition (format 0.0.4) of a status result. */
void print_metrics(FILE *f, const mnv2c_server_status *s);

/* --draw: the file name for image index of n: out itself for one image, else an index
 * suffix before the extension (out-0.png, out-1.png). 0, or -1 if it does not fit. */
int ctl_draw_path(const char *out, size_t index, size_t n, char *buf, size_t len);
/* Decodes the image sent (encoded, or raw as described), draws r's pixel boxes and labels
 * on it and writes a PNG to out. 0, or -1 with a message. */
int ctl_draw_detections(const char *out, const uint8_t *data, size_t len, const ctl_raw *raw,
			const mnv2c_detect_result *r, char *err, size_t errlen);

/* Runs the bench command on a connected client; returns an exit code. */
int ctl_bench(mnv2c_client *c, const ctl_args *a, const mnv2c_image *img, FILE *out,
	      FILE *errf);

#endif
