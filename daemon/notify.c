/* notify — see notify.h. */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

int mnv2d_notify_address(const char *value, struct sockaddr_un *a, socklen_t *len)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	size_t n = value ? strlen(value) : 0;
	if (n < 2 || (value[0] != '/' && value[0] != '@') || n > sizeof a->sun_path - 1)
		return -1;
	memcpy(a->sun_path, value, n);
	if (value[0] == '@')
		a->sun_path[0] = 0;   /* abstract namespace: the name's length is the address */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
			   (value[0] == '/' ? 1 : 0));
	return 0;
}

/* A decimal integer with nothing else: 0, or -1. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

uint64_t mnv2d_watchdog_usec(const char *usec, const char *pid, pid_t self)
{
	uint64_t u, p;
	if (parse_u64(usec, &u) || u == 0)
		return 0;
	if (pid && (parse_u64(pid, &p) || p != (uint64_t)self))
		return 0;   /* meant for another process (e.g. our parent) */
	return u;
}

uint64_t mnv2d_stall_limit_us(uint32_t config_ms, uint64_t watchdog_usec)
{
	uint64_t c = (uint64_t)config_ms * 1000;
	if (!c || (watchdog_usec && watchdog_usec < c))
		return watchdog_usec;
	return c;
}

int mnv2d_notify_init(mnv2d_notify *n, char *err, size_t errlen)
{
	*n = (mnv2d_notify){ .fd = -1 };
	const char *sock = getenv("NOTIFY_SOCKET");
	char value[sizeof n->addr.sun_path + 1] = "";
	if (sock)
		snprintf(value, sizeof value, "%s", sock);
	n->watchdog_usec = mnv2d_watchdog_usec(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"),
					       getpid());
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (!sock)
		return 0;
	if (mnv2d_notify_address(value, &n->addr, &n->addrlen)) {
		snprintf(err, errlen, "NOTIFY_SOCKET='%.120s' is not an absolute path or an "
			 "'@' abstract name of at most %zu bytes; not notifying the service manager",
			 sock, sizeof n->addr.sun_path - 1);
		n->watchdog_usec = 0;
		return -1;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		snprintf(err, errlen, "NOTIFY_SOCKET: socket: %s", strerror(errno));
		n->watchdog_usec = 0;
		return -1;
	}
	/* a receiver that stops reading must not stall the event loop for long */
	struct timeval tv = { MNV2D_NOTIFY_SEND_TIMEOUT_MS / 1000,
			      (MNV2D_NOTIFY_SEND_TIMEOUT_MS % 1000) * 1000 };
	setsockopt(n->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return 0;
}

int mnv2d_notify_enabled(const mnv2d_notify *n)
{
	return n && n->fd >= 0;
}

int mnv2d_notify_send(const mnv2d_notify *n, const char *msg)
{
	if (!mnv2d_notify_enabled(n))
		return 0;
	size_t len = strlen(msg);
	if (len > MNV2D_NOTIFY_MAX) {
		len = MNV2D_NOTIFY_MAX;
		while (len && msg[len - 1] != '\n')
			len--;   /* keep whole assignments only */
		if (!len)
			len = MNV2D_NOTIFY_MAX;   /* one long line: cut it */
	}
	for (;;) {
		ssize_t w = sendto(n->fd, msg, len, MSG_NOSIGNAL,
				   (const struct sockaddr *)&n->addr, n->addrlen);
		if (w >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int mnv2d_notify_sendf(const mnv2d_notify *n, const char *fmt, ...)
{
	if (!mnv2d_notify_enabled(n))
		return 0;
	char msg[MNV2D_NOTIFY_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return mnv2d_notify_send(n, msg);
}

void mnv2d_notify_close(mnv2d_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
