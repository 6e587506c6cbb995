/* util — see soak.h. */
#include "soak.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PRINTED 50

static atomic_uint failures;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t soak_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void soak_sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void soak_fail(const char *fmt, ...)
{
	unsigned n = atomic_fetch_add(&failures, 1) + 1;
	if (n > MAX_PRINTED)
		return;
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&print_lock);
	fprintf(stderr, "soak: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, n == MAX_PRINTED ? "\nsoak: (further failures are counted, not "
					   "printed)\n" : "\n");
	pthread_mutex_unlock(&print_lock);
	va_end(ap);
}

unsigned soak_failures(void)
{
	return atomic_load(&failures);
}

void soak_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&print_lock);
	fprintf(stdout, "soak: ");
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
	va_end(ap);
}

static long status_field(int pid, const char *key)
{
	char p[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	snprintf(p, sizeof p, "/proc/%d/status", pid);
	FILE *f = fopen(p, "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl))
			v = strtol(line + kl, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

long soak_rss_kb(int pid)
{
	return status_field(pid, "VmRSS:");
}

int soak_vmsize_kb(int pid, long *kb)
{
	*kb = status_field(pid, "VmSize:");
	return *kb < 0 ? -1 : 0;
}

uint32_t soak_rand(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

int soak_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

uint8_t *soak_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = NULL;
	long size = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
	if (size >= 0 && size <= (64L << 20) && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)size + 1)) && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)size;
	return buf;
}

Mnv2__Response *soak_roundtrip(const char *sock, const Mnv2__Request *r, int timeout_ms)
{
	int fd = td_connect(sock, 2000);
	if (fd < 0)
		return NULL;
	Mnv2__Response *resp = td_send(fd, r) ? NULL : td_recv(fd, timeout_ms, NULL);
	close(fd);
	return resp;
}

long long soak_generation(const char *sock)
{
	Mnv2__Response *r = td_status(sock);
	long long g = r && r->status_result ? (long long)r->status_result->generation : -1;
	if (r)
		mnv2__response__free_unpacked(r, NULL);
	return g;
}

Mnv2__Response *soak_reload(const char *sock)
{
	Mnv2__Request r;
	Mnv2__ReloadRequest rl;
	mnv2__reload_request__init(&rl);
	td_request(&r, 4242);
	r.body_case = MNV2__REQUEST__BODY_RELOAD;
	r.reload = &rl;
	return soak_roundtrip(sock, &r, 60000);
}
