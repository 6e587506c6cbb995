/* mnv2ctl — command-line client of mnv2d (usage: mnv2ctl --help).
 * Exit status: 0 ok, 1 a request failed, 2 usage error, 3 cannot connect. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"

#define MNV2CTL_VERSION "0.1.0"

/* Reads a whole file of at most max bytes. NULL with a message on failure. */
static uint8_t *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf = NULL;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
	} else if ((uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s: %lld bytes, over the frame limit of %zu bytes", path,
			 (long long)st.st_size, max);
	} else if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
		snprintf(err, errlen, "%s: out of memory", path);
	} else if ((*len = fread(buf, 1, (size_t)st.st_size, f)) != (size_t)st.st_size ||
		   ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		buf = NULL;
	} else if (*len == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* --raw FILE: the file read straight into a sealed memfd frame buffer. */
static mnv2c_frame_buf *read_frame_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	mnv2c_frame_buf *b = NULL;
	mnv2c_error e;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s: not a regular file, or empty", path);
	} else if (!(b = mnv2c_frame_alloc((size_t)st.st_size, &e))) {
		snprintf(err, errlen, "%s: %s", path, e.message);
	} else {
		size_t got = 0;
		while (got < b->size) {
			ssize_t n = read(fd, (uint8_t *)b->data + got, b->size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got < b->size || mnv2c_frame_seal(b, &e) != MNV2C_OK) {
			snprintf(err, errlen, "%s: %s", path, got < b->size ? "read error"
									   : e.message);
			mnv2c_frame_free(b);
			b = NULL;
		}
	}
	close(fd);
	return b;
}

static mnv2c_image make_image(const ctl_args *a, const uint8_t *data, size_t len)
{
	if (a->raw.set)
		return mnv2c_image_raw(a->raw.format, a->raw.width, a->raw.height, a->raw.stride,
				       data, len);
	return mnv2c_image_encoded(data, len);
}

static int report_error(const ctl_args *a, const char *image, const mnv2c_error *err)
{
	if (err->code == MNV2C_ERR_USAGE) {
		fprintf(stderr, "mnv2ctl: %s%s%s\n", image ? image : "", image ? ": " : "",
			err->message);
		return CTL_EXIT_USAGE;
	}
	fprintf(stderr, "mnv2ctl: %s: %s", mnv2c_code_name(err->code), err->message);
	if (image && a->n_images > 1)
		fprintf(stderr, " [image %s]", image);
	fputc('\n', stderr);
	if (a->json && image)
		print_image_error(stdout, image, err->code, err->message);
	return CTL_EXIT_FAILED;
}

/* Is this failure about the connection (stop) rather than one image (go on)? */
static int connection_lost(mnv2c_code code)
{
	return code == MNV2C_ERR_IO || code == MNV2C_ERR_CLOSED || code == MNV2C_ERR_PROTOCOL ||
	       code == MNV2C_ERR_NOMEM || code == MNV2C_PERMISSION_DENIED ||
	       code == MNV2C_ERR_TIMEOUT;
}

/* detect --draw for image i: a message on stderr and -1 on failure. */
static int draw(const ctl_args *a, size_t i, const uint8_t *data, size_t len,
		const mnv2c_detect_result *r)
{
	char path[4096], msg[600];
	if (ctl_draw_path(a->draw, i, a->n_images, path, sizeof path)) {
		fprintf(stderr, "mnv2ctl: --draw: file name too long\n");
		return -1;
	}
	if (ctl_draw_detections(path, data, len, &a->raw, r, msg, sizeof msg)) {
		fprintf(stderr, "mnv2ctl: %s: --draw: %s\n", a->images[i], msg);
		return -1;
	}
	return 0;
}

static int run_images(mnv2c_client *c, const ctl_args *a)
{
	int rc = CTL_EXIT_OK;
	for (size_t i = 0; i < a->n_images; i++) {
		char msg[600];
		size_t len = 0;
		mnv2c_frame_buf *fb = NULL;
		uint8_t *data = NULL;
		if (a->raw.memfd && (fb = read_frame_file(a->images[i], msg, sizeof msg)))
			len = fb->size;
		else if (!a->raw.memfd)
			data = read_file(a->images[i], mnv2c_max_frame_bytes(c), &len, msg,
					 sizeof msg);
		mnv2c_error err;
		if (!data && !fb) {
			fprintf(stderr, "mnv2ctl: %s\n", msg);
			rc = CTL_EXIT_FAILED;
			continue;
		}
		mnv2c_image img = fb ? mnv2c_image_fd(a->raw.format, a->raw.width, a->raw.height,
						      a->raw.stride, fb->fd, 0)
				     : make_image(a, data, len);
		mnv2c_code code;
		if (a->cmd == CTL_CMD_CLASSIFY) {
			mnv2c_classify_result *r;
			if ((code = mnv2c_classify(c, &img, &a->opt, &r, &err)) == MNV2C_OK)
				print_classify(stdout, a->json, a->images[i], r);
			mnv2c_classify_result_free(r);
		} else {
			mnv2c_detect_result *r;
			if ((code = mnv2c_detect(c, &img, &a->opt, &r, &err)) == MNV2C_OK) {
				print_detect(stdout, a->json, a->images[i], r);
				if (a->draw && draw(a, i, fb ? fb->data : data, len, r))
					rc = CTL_EXIT_FAILED;
			}
			mnv2c_detect_result_free(r);
		}
		free(data);
		mnv2c_frame_free(fb);
		fflush(stdout);
		if (code != MNV2C_OK) {
			int e = report_error(a, a->images[i], &err);
			rc = rc == CTL_EXIT_USAGE ? rc : e;
			if (connection_lost(code))
				break;
		}
	}
	return rc;
}

static int run_bench(mnv2c_client *c, const ctl_args *a)
{
	char msg[600];
	size_t len = 0;
	uint8_t *data = read_file(a->images[0], mnv2c_max_frame_bytes(c), &len, msg, sizeof msg);
	if (!data) {
		fprintf(stderr, "mnv2ctl: %s\n", msg);
		return CTL_EXIT_FAILED;
	}
	mnv2c_image img = make_image(a, data, len);
	int rc = ctl_bench(c, a, &img, stdout, stderr);
	free(data);
	return rc;
}

static int run_command(mnv2c_client *c, const ctl_args *a)
{
	mnv2c_error err;
	mnv2c_code code = MNV2C_OK;

	switch (a->cmd) {
	case CTL_CMD_CLASSIFY:
	case CTL_CMD_DETECT:
		return run_images(c, a);
	case CTL_CMD_BENCH:
		return run_bench(c, a);
	case CTL_CMD_STATUS:
	case CTL_CMD_METRICS: {
		mnv2c_server_status *s;
		if ((code = mnv2c_status(c, &s, &err)) == MNV2C_OK) {
			if (a->cmd == CTL_CMD_STATUS)
				print_status(stdout, a->json, s);
			else
				print_metrics(stdout, s);
		}
		mnv2c_server_status_free(s);
		break;
	}
	case CTL_CMD_MODELS: {
		mnv2c_model_list *m;
		if ((code = mnv2c_list_models(c, &m, &err)) == MNV2C_OK)
			print_models(stdout, a->json, m);
		mnv2c_model_list_free(m);
		break;
	}
	case CTL_CMD_RELOAD: {
		mnv2c_reload_result *r;
		if ((code = mnv2c_reload(c, &r, &err)) == MNV2C_OK)
			print_reload(stdout, a->json, r);
		mnv2c_reload_result_free(r);
		break;
	}
	default:
		break;
	}
	return code == MNV2C_OK ? CTL_EXIT_OK : report_error(a, NULL, &err);
}

int main(int argc, char **argv)
{
	ctl_args a;
	char msg[512];
	mnv2c_error err;

	if (ctl_parse_args(argc, argv, &a, msg, sizeof msg) != 0) {
		fprintf(stderr, "mnv2ctl: %s\nTry 'mnv2ctl --help'.\n", msg);
		ctl_args_free(&a);
		return CTL_EXIT_USAGE;
	}
	if (a.cmd == CTL_CMD_HELP || a.cmd == CTL_CMD_VERSION) {
		if (a.cmd == CTL_CMD_HELP)
			ctl_usage(stdout);
		else
			printf("mnv2ctl %s (protocol version %u)\n", MNV2CTL_VERSION,
			       MNV2C_PROTOCOL_VERSION);
		ctl_args_free(&a);
		return CTL_EXIT_OK;
	}
	int connect_ms = a.timeout_ms > 0 && a.timeout_ms < MNV2C_DEFAULT_CONNECT_TIMEOUT_MS
				 ? a.timeout_ms
				 : MNV2C_DEFAULT_CONNECT_TIMEOUT_MS;
	mnv2c_client *c = mnv2c_connect_timeout(a.socket, connect_ms, &err);
	if (!c) {
		fprintf(stderr, "mnv2ctl: %s\n", err.message);
		ctl_args_free(&a);
		return CTL_EXIT_CONNECT;
	}
	if (a.timeout_ms > 0)
		mnv2c_set_timeout_ms(c, a.timeout_ms);
	int rc = run_command(c, &a);
	mnv2c_close(c);
	ctl_args_free(&a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mnv2ctl: error writing output: %s\n", strerror(errno));
		return CTL_EXIT_FAILED;
	}
	return rc;
}
