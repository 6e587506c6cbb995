/* config — the public API of libmnv2config (mnv2/config.h): defaults, reading the file
 * with its size limit, and where relative paths are resolved from. */
#include "cfg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mnv2_config_defaults(mnv2_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->socket_path = strdup("/run/mnv2d/mnv2d.sock");
	cfg->socket_mode = 0660;
	cfg->threads = 2;
	cfg->intra_op_threads = 0;  /* auto */
	cfg->cpu_budget = 0;        /* auto */
	cfg->queue_depth = 64;
	cfg->max_inflight_per_connection = MNV2_CONFIG_INFLIGHT_AUTO;
	cfg->max_frame_bytes = (size_t)32 << 20;
	cfg->max_image_pixels = (uint64_t)8192 * 8192;
	cfg->max_output_bytes = (size_t)64 << 20;
	cfg->max_connections = 256;
	cfg->default_deadline_ms = 0;
	cfg->watchdog_ms = 30000;
	cfg->log_level = strdup("info");
}

void mnv2_config_free(mnv2_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->socket_path);
	free(cfg->socket_group);
	free(cfg->log_level);
	for (size_t i = 0; i < cfg->n_models && i < MNV2_CONFIG_MAX_MODELS; i++) {
		free(cfg->models[i].name);
		free(cfg->models[i].path);
		free(cfg->models[i].labels);
	}
	memset(cfg, 0, sizeof *cfg);
}

/* The directory part of name ("/" for "/x"), or NULL when name has no '/'. */
static char *dir_of(const char *name)
{
	const char *slash = name ? strrchr(name, '/') : NULL;
	if (!slash)
		return NULL;
	size_t n = slash == name ? 1 : (size_t)(slash - name);
	return strndup(name, n);
}

static int parse_into(const char *data, size_t len, const char *name, const char *dir,
		      mnv2_config *out, cfg_err *e)
{
	cfg_ctx c = { .err = *e, .dir = dir, .cfg = out };
	mnv2_config_defaults(out);
	if (!out->socket_path || !out->log_level || (name && !(out->path = strdup(name)))) {
		mnv2_config_free(out);
		return cfg_fail(e, 1, 1, "out of memory");
	}
	int rc = cfg_check_bytes(data, len, e);
	if (rc == 0 && (rc = cfg_reader_init(&c, data, len)) == 0) {
		rc = cfg_check_structure(&c);
		if (rc == 0)
			rc = cfg_parse_document(&c);
		cfg_reader_done(&c);
	}
	if (rc < 0)
		mnv2_config_free(out);
	return rc;
}

int mnv2_config_parse(const char *data, size_t len, const char *name, mnv2_config *out,
		      char *err, size_t errlen)
{
	cfg_err e = { name ? name : "<config>", err, errlen };
	if (err && errlen)
		err[0] = 0;
	memset(out, 0, sizeof *out);
	if (!data && len)
		return cfg_fail(&e, 1, 1, "no data");
	char *dir = dir_of(name);
	if (name && strchr(name, '/') && !dir)
		return cfg_fail(&e, 1, 1, "out of memory");
	int rc = parse_into(data ? data : "", len, name, dir, out, &e);
	free(dir);
	return rc;
}

/* An error before parsing, which has no position: "file: what: why". */
static int io_fail(const cfg_err *e, const char *what, int errnum)
{
	if (e->buf && e->len)
		snprintf(e->buf, e->len, "%s: %s%s%s", e->file, what, errnum ? ": " : "",
			 errnum ? strerror(errnum) : "");
	return -1;
}

/* Reads at most MNV2_CONFIG_MAX_BYTES + 1 bytes of fd into buf. */
static int read_all(int fd, char *buf, size_t *len)
{
	size_t n = 0;
	while (n <= MNV2_CONFIG_MAX_BYTES) {
		ssize_t r = read(fd, buf + n, MNV2_CONFIG_MAX_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return 0;
}

/* The whole file, a regular one of at most 1 MiB + 1 byte; malloc'd into *data. */
static int read_file(const cfg_err *e, char **data, size_t *len)
{
	struct stat st;
	int fd = open(e->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return io_fail(e, "cannot open", errno);
	if (fstat(fd, &st) < 0) {
		int errnum = errno;
		close(fd);
		return io_fail(e, "cannot stat", errnum);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return io_fail(e, "not a regular file", 0);
	}
	*data = malloc(MNV2_CONFIG_MAX_BYTES + 1);
	if (!*data || read_all(fd, *data, len) < 0) {
		int errnum = *data ? errno : ENOMEM;
		close(fd);
		free(*data);
		return io_fail(e, "cannot read", errnum);
	}
	close(fd);
	return 0;
}

/* The file's directory made absolute with the current directory (left relative if that
 * is unknown; NULL when path has no '/' and the current directory is unknown). */
static int absolute_dir(const char *path, char **out)
{
	char cwd[PATH_MAX];
	*out = dir_of(path);
	if (strchr(path, '/') && !*out)
		return -1;
	if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
		return 0;
	size_t n = strlen(cwd) + 2 + (*out ? strlen(*out) : 0);
	char *abs = malloc(n);
	if (abs)
		snprintf(abs, n, "%s%s%s", cwd, *out ? "/" : "", *out ? *out : "");
	free(*out);
	*out = abs;
	return abs ? 0 : -1;
}

int mnv2_config_load(const char *path, mnv2_config *out, char *err, size_t errlen)
{
	cfg_err e = { path ? path : "<config>", err, errlen };
	char *data = NULL, *dir;
	size_t len = 0;
	if (err && errlen)
		err[0] = 0;
	memset(out, 0, sizeof *out);
	if (!path)
		return io_fail(&e, "no file name", 0);
	if (read_file(&e, &data, &len) < 0)
		return -1;
	if (len > MNV2_CONFIG_MAX_BYTES) {
		free(data);
		return cfg_fail(&e, 1, 1, "the file is larger than the limit of %u bytes (1 MiB)",
				MNV2_CONFIG_MAX_BYTES);
	}
	if (absolute_dir(path, &dir) < 0) {
		free(data);
		return io_fail(&e, "out of memory", 0);
	}
	int rc = parse_into(data, len, path, dir, out, &e);
	free(dir);
	free(data);
	return rc;
}
