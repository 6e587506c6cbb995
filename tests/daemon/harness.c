/* harness — see harness.h. */
#include "harness.h"

#include "synth_models.h"
#include "test_models.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RESPONSE (64u << 20)
/* slow model: a few ms per request with SIMD kernels, ~30-60 ms with portable C, several
 * times that under ASan; the daemon's test hook makes each of its requests hold a worker
 * TD_SLOW_WEDGE_MS more (td_spawn), so that it is slow in every build */
#define SLOW_SIZE 48
#define SLOW_LAYERS 2

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) || rc ? -1 : 0;
}

static int write_bytes(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int rc = fwrite(d, 1, n, f) == n ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

static int in_dir(const td_env *e, const char *name, char *out, size_t len)
{
	return snprintf(out, len, "%s/%s", e->dir, name) >= (int)len ? -1 : 0;
}

int td_env_new(td_env *e)
{
	memset(e, 0, sizeof *e);
	e->pid = -1;
	snprintf(e->dir, sizeof e->dir, "/tmp/mnv2d-test-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	char p[256];
	uint8_t *buf = NULL;
	size_t n = 0;
	if (in_dir(e, "d.sock", e->sock, sizeof e->sock) ||
	    in_dir(e, "mnv2d.yaml", e->config, sizeof e->config) ||
	    in_dir(e, "mnv2d.log", e->log, sizeof e->log))
		return -1;
	if (synth_mnv2_uint8(7, &buf, &n))
		return -1;
	snprintf(p, sizeof p, "%s/" TD_CLS ".tflite", e->dir);
	int rc = write_bytes(p, buf, n);
	free(buf);
	snprintf(p, sizeof p, "%s/" TD_CLS ".txt", e->dir);
	rc |= write_text(p, "c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nc9\n");
	snprintf(p, sizeof p, "%s/" TD_DET ".tflite", e->dir);
	rc |= td_write_detector(p);
	snprintf(p, sizeof p, "%s/" TD_DET ".txt", e->dir);
	rc |= write_text(p, "red\ngreen\n");
	if (synth_ssdlite_head(5, &buf, &n))
		return -1;
	snprintf(p, sizeof p, "%s/" TD_RAW_SSD ".tflite", e->dir);
	rc |= write_bytes(p, buf, n);
	free(buf);
	snprintf(p, sizeof p, "%s/" TD_SLOW ".tflite", e->dir);
	rc |= td_write_slow(p, SLOW_SIZE, SLOW_LAYERS);
	return rc ? -1 : 0;
}

void td_env_free(td_env *e)
{
	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
		e->pid = -1;
	}
	DIR *d = opendir(e->dir);
	if (!d)
		return;
	struct dirent *de;
	char p[512];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", e->dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(e->dir);
}

static const char default_models[] =
	"models:\n"
	"  - name: " TD_CLS "\n    path: " TD_CLS ".tflite\n    labels: " TD_CLS ".txt\n"
	"  - name: " TD_DET "\n    path: " TD_DET ".tflite\n    labels: " TD_DET ".txt\n"
	"    kind: detector\n"
	"  - name: " TD_SLOW "\n    path: " TD_SLOW ".tflite\n    kind: classifier\n";

int td_write_config(td_env *e, const char *extra, const char *models)
{
	char cfg[8192];
	extra = extra ? extra : "";
	int n = snprintf(cfg, sizeof cfg, "socket: %s\n%s%s"
			 "%s%s%s%s", e->sock,
			 strstr(extra, "socket_mode:") ? "" : "socket_mode: \"0600\"\n",
			 strstr(extra, "log_level:") ? "" : "log_level: debug\n",
			 strstr(extra, "threads:") ? "" : "threads: 2\n",
			 strstr(extra, "queue_depth:") ? "" : "queue_depth: 16\n", extra,
			 models ? models : default_models);
	if (n < 0 || (size_t)n >= sizeof cfg)
		return -1;
	return write_text(e->config, cfg);
}

const char *td_build_dir(void)
{
	const char *b = getenv("MNV2_BUILD_DIR");
	return b && *b ? b : ".";
}

/* MNV2D_WRAP: a command line (words separated by spaces, no quoting) put in front of the
 * daemon's, e.g. "valgrind --error-exitcode=1 --log-file=/tmp/vg.%p.log". Returns the
 * number of words written to argv (at most max), words kept in buf. */
static int wrap_words(char *buf, size_t len, const char **argv, int max)
{
	const char *w = getenv("MNV2D_WRAP");
	int n = 0;
	if (!w || !*w || strlen(w) >= len)
		return 0;
	strcpy(buf, w);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < max;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	return n;
}

int td_spawn(td_env *e, const char *const *extra_args)
{
	char exe[512], wrap[1024];
	snprintf(exe, sizeof exe, "%s/daemon/mnv2d", td_build_dir());
	const char *argv[48];
	int argc = wrap_words(wrap, sizeof wrap, argv, 28);
	argv[argc++] = exe;
	argv[argc++] = "-c";
	argv[argc++] = e->config;
	for (int i = 0; extra_args && extra_args[i] && argc < 47; i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		if (!getenv("MNV2D_TEST_WEDGE_MS")) {   /* a test may set its own */
			char ms[16];
			snprintf(ms, sizeof ms, "%d", TD_SLOW_WEDGE_MS);
			setenv("MNV2D_TEST_HOOKS", "1", 1);
			setenv("MNV2D_TEST_WEDGE_MS", ms, 1);
			setenv("MNV2D_TEST_WEDGE_MODEL", TD_SLOW, 1);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	e->pid = pid;
	return 0;
}

static int connectable(const char *path)
{
	int fd = td_connect(path, 100);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int td_start(td_env *e, const char *extra, const char *models)
{
	if (td_write_config(e, extra, models) || td_spawn(e, NULL))
		return -1;
	int64_t end = now_ms() + 20000;
	while (now_ms() < end) {
		if (connectable(e->sock))
			return 0;
		if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
			e->pid = -1;
			return -1;
		}
		usleep(5000);
	}
	return -1;
}

int td_wait(td_env *e, int timeout_ms, int *status)
{
	int64_t end = now_ms() + timeout_ms;
	int st = 0;
	while (e->pid > 0) {
		pid_t r = waitpid(e->pid, &st, WNOHANG);
		if (r == e->pid) {
			e->pid = -1;
			if (status)
				*status = st;
			return 0;
		}
		if (now_ms() >= end) {
			kill(e->pid, SIGKILL);
			waitpid(e->pid, NULL, 0);
			e->pid = -1;
			return -1;
		}
		usleep(2000);
	}
	return -1;
}

int td_stop(td_env *e, int sig, int timeout_ms, int *status)
{
	if (e->pid <= 0 || kill(e->pid, sig))
		return -1;
	return td_wait(e, timeout_ms, status);
}

const char *td_log(const td_env *e)
{
	static char buf[3000];   /* Check cuts messages at 4 KiB */
	buf[0] = 0;
	FILE *f = fopen(e->log, "r");
	if (!f)
		return buf;
	/* the end of the log is what explains a failure */
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* ---- sockets ---- */

static int wait_fd(int fd, short events, int64_t end)
{
	for (;;) {
		int64_t left = end - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

int td_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path)
		return -1;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return fd;
	if (errno == EAGAIN || errno == EINPROGRESS) {
		/* backlog full: wait for it to become writable */
		if (wait_fd(fd, POLLOUT, now_ms() + timeout_ms)) {
			int err = 0;
			socklen_t l = sizeof err;
			if (!getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) && !err)
				return fd;
		}
	}
	close(fd);
	return -1;
}

int td_write_all(int fd, const void *data, size_t len, int timeout_ms)
{
	const uint8_t *p = data;
	int64_t end = now_ms() + timeout_ms;
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!wait_fd(fd, POLLOUT, end))
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

int td_send(int fd, const Mnv2__Request *r)
{
	size_t n = mnv2__request__get_packed_size(r);
	uint8_t *buf = malloc(n + 4);
	if (!buf)
		return -1;
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	mnv2__request__pack(r, buf + 4);
	int rc = td_write_all(fd, buf, n + 4, 10000);
	free(buf);
	return rc;
}

/* 1 read all, 0 timeout, -1 EOF/error */
static int read_all(int fd, uint8_t *p, size_t len, int64_t end)
{
	while (len) {
		ssize_t r = recv(fd, p, len, 0);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
		} else if (r == 0) {
			return -1;
		} else if (errno == EAGAIN || errno == EINTR) {
			if (!wait_fd(fd, POLLIN, end))
				return 0;
		} else {
			return -1;
		}
	}
	return 1;
}

Mnv2__Response *td_recv(int fd, int timeout_ms, int *eof)
{
	int64_t end = now_ms() + timeout_ms;
	uint8_t hdr[4];
	if (eof)
		*eof = 0;
	int r = read_all(fd, hdr, 4, end);
	if (r <= 0) {
		if (eof)
			*eof = r < 0;
		return NULL;
	}
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n > MAX_RESPONSE)
		return NULL;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return NULL;
	r = read_all(fd, buf, n, end);
	Mnv2__Response *resp = r > 0 ? mnv2__response__unpack(NULL, n, buf) : NULL;
	if (r < 0 && eof)
		*eof = 1;
	free(buf);
	return resp;
}

int td_wait_closed(int fd, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	uint8_t buf[65536];
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
		if (r < 0 && !wait_fd(fd, POLLIN, end))
			return 0;
	}
}

int td_fd_count(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- requests ---- */

void td_request(Mnv2__Request *r, uint64_t id)
{
	mnv2__request__init(r);
	r->version = 1;
	r->request_id = id;
}

static void image_request(td_image_req *q, int detect, uint64_t id, const char *model)
{
	memset(q, 0, sizeof *q);
	td_request(&q->req, id);
	mnv2__image__init(&q->image);
	mnv2__options__init(&q->opts);
	if (detect) {
		mnv2__detect_request__init(&q->det);
		q->det.model = (char *)(model ? model : "");
		q->det.image = &q->image;
		q->det.options = &q->opts;
		q->req.body_case = MNV2__REQUEST__BODY_DETECT;
		q->req.detect = &q->det;
	} else {
		mnv2__classify_request__init(&q->cls);
		q->cls.model = (char *)(model ? model : "");
		q->cls.image = &q->image;
		q->cls.options = &q->opts;
		q->req.body_case = MNV2__REQUEST__BODY_CLASSIFY;
		q->req.classify = &q->cls;
	}
}

void td_raw_request(td_image_req *q, int detect, uint64_t id, const char *model,
		    Mnv2__PixelFormat fmt, uint32_t w, uint32_t h, const void *data, size_t len)
{
	image_request(q, detect, id, model);
	mnv2__raw_frame__init(&q->raw);
	q->raw.format = fmt;
	q->raw.width = w;
	q->raw.height = h;
	q->raw.data.data = (uint8_t *)data;
	q->raw.data.len = len;
	q->image.source_case = MNV2__IMAGE__SOURCE_RAW;
	q->image.raw = &q->raw;
}

void td_encoded_request(td_image_req *q, int detect, uint64_t id, const char *model,
			const void *data, size_t len)
{
	image_request(q, detect, id, model);
	q->image.source_case = MNV2__IMAGE__SOURCE_ENCODED;
	q->image.encoded.data = (uint8_t *)data;
	q->image.encoded.len = len;
}

uint8_t *td_solid_rgb(uint32_t w, uint32_t h, uint8_t r, uint8_t g, uint8_t b)
{
	uint8_t *p = malloc((size_t)w * h * 3);
	for (size_t i = 0; p && i < (size_t)w * h; i++) {
		p[3 * i] = r;
		p[3 * i + 1] = g;
		p[3 * i + 2] = b;
	}
	return p;
}

Mnv2__Response *td_status(const char *sock)
{
	int fd = td_connect(sock, 2000);
	if (fd < 0)
		return NULL;
	Mnv2__Request r;
	Mnv2__StatusRequest st = MNV2__STATUS_REQUEST__INIT;
	td_request(&r, 999);
	r.body_case = MNV2__REQUEST__BODY_STATUS;
	r.status = &st;
	Mnv2__Response *resp = td_send(fd, &r) ? NULL : td_recv(fd, 10000, NULL);
	close(fd);
	return resp;
}

const Mnv2__ModelStats *td_model_stats(const Mnv2__Response *status, const char *name)
{
	if (!status || status->result_case != MNV2__RESPONSE__RESULT_STATUS_RESULT)
		return NULL;
	for (size_t i = 0; i < status->status_result->n_stats; i++)
		if (!strcmp(status->status_result->stats[i]->name, name))
			return status->status_result->stats[i];
	return NULL;
}

uint64_t td_count(const Mnv2__ModelStats *s, Mnv2__StatusCode code)
{
	for (size_t i = 0; s && i < s->n_responses; i++)
		if (s->responses[i]->status == code)
			return s->responses[i]->count;
	return 0;
}
