/* sock — see sock.h. */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define BACKLOG 128

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int address(const char *path, struct sockaddr_un *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof a->sun_path)
		return fail(err, errlen, "socket path '%s' is empty or longer than %zu bytes",
			    path, sizeof a->sun_path - 1);
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

/* An existing file at path: a live daemon's socket is refused, a stale one removed. */
static int clear_path(mnv2d_sock *s, const struct sockaddr_un *a, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(s->path, &st)) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, "%s: %s", s->path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return fail(err, errlen, "%s exists and is not a socket; refusing to replace it",
			    s->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	int rc = connect(fd, (const struct sockaddr *)a, sizeof *a), e = errno;
	close(fd);
	if (rc == 0)
		return fail(err, errlen, "%s: another daemon is listening on this socket; "
			    "refusing to start", s->path);
	if (e == ENOENT)
		return 0;
	if (e != ECONNREFUSED)
		return fail(err, errlen, "%s: cannot tell whether a daemon is listening (connect: "
			    "%s); refusing to replace it", s->path, strerror(e));
	if (unlink(s->path) && errno != ENOENT)
		return fail(err, errlen, "cannot remove stale socket %s: %s", s->path,
			    strerror(errno));
	s->replaced_stale = 1;
	return 0;
}

static int set_group(const char *path, const char *group, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	gid_t gid;
	unsigned long n = strtoul(group, &end, 10);
	if (*group && !*end && n <= (gid_t)-1 - 1) {
		gid = (gid_t)n;
	} else {
		int rc = getgrnam_r(group, &gr, buf, sizeof buf, &res);
		if (rc || !res)
			return fail(err, errlen, "socket group '%s': %s", group,
				    rc ? strerror(rc) : "no such group");
		gid = res->gr_gid;
	}
	if (chown(path, (uid_t)-1, gid))
		return fail(err, errlen, "chown %s to group '%s': %s", path, group,
			    strerror(errno));
	return 0;
}

static int bind_listen(mnv2d_sock *s, const struct sockaddr_un *a, mode_t mode,
		       const char *group, char *err, size_t errlen)
{
	struct stat st;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	if (bind(s->fd, (const struct sockaddr *)a, sizeof *a)) {
		if (errno == ENOENT)
			return fail(err, errlen, "cannot bind %s: its directory does not exist "
				    "(create it, or let systemd's RuntimeDirectory= do so)", s->path);
		return fail(err, errlen, "cannot bind %s: %s", s->path, strerror(errno));
	}
	if (stat(s->path, &st))
		return fail(err, errlen, "%s: %s", s->path, strerror(errno));
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (chmod(s->path, mode))
		return fail(err, errlen, "chmod %s to %04o: %s", s->path, (unsigned)mode,
			    strerror(errno));
	if (group && *group && set_group(s->path, group, err, errlen))
		return -1;
	if (!stat(s->path, &st)) {
		s->gid = st.st_gid;
		s->gid_known = 1;
	}
	if (listen(s->fd, BACKLOG))
		return fail(err, errlen, "listen on %s: %s", s->path, strerror(errno));
	return 0;
}

int mnv2d_sock_listen(mnv2d_sock *s, const char *path, mode_t mode, const char *group,
		      char *err, size_t errlen)
{
	struct sockaddr_un a;
	*s = (mnv2d_sock){ .fd = -1 };
	if (address(path, &a, err, errlen))
		return -1;
	size_t n = strlen(path) + 1;
	if (!(s->path = malloc(n)))
		return fail(err, errlen, "out of memory");
	memcpy(s->path, path, n);
	if (clear_path(s, &a, err, errlen))
		goto fail;
	if (bind_listen(s, &a, mode, group, err, errlen)) {
		mnv2d_sock_remove(s);
		goto fail;
	}
	return 0;
fail:
	mnv2d_sock_close(s);
	return -1;
}

static int sockopt_int(int fd, int opt, int *v)
{
	socklen_t l = sizeof *v;
	return getsockopt(fd, SOL_SOCKET, opt, v, &l);
}

/* The bound address as text: a path, "@name" for an abstract one, "" when unnamed. */
static char *bound_name(int fd)
{
	struct sockaddr_un a;
	socklen_t l = sizeof a;
	memset(&a, 0, sizeof a);
	if (getsockname(fd, (struct sockaddr *)&a, &l) || l > sizeof a)
		l = 0;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n = l > off ? l - off : 0;
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	if (n && a.sun_path[0] == 0) {   /* abstract: the name's bytes, '@' for the NUL */
		out[0] = '@';
		memcpy(out + 1, a.sun_path + 1, n - 1);
		out[n] = 0;
		for (size_t i = 1; i < n; i++)
			if (out[i] == 0)
				out[i] = '@';
	} else {
		memcpy(out, a.sun_path, n);   /* a path's NUL, if counted, ends the text */
		out[n] = 0;
	}
	return out;
}

int mnv2d_sock_adopt(mnv2d_sock *s, int fd, char *err, size_t errlen)
{
	struct stat st;
	int domain = 0, type = 0, listening = 0;
	*s = (mnv2d_sock){ .fd = -1 };
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
		return fail(err, errlen, "socket activation: fd %d is not a socket", fd);
	if (sockopt_int(fd, SO_DOMAIN, &domain) || domain != AF_UNIX ||
	    sockopt_int(fd, SO_TYPE, &type) || type != SOCK_STREAM)
		return fail(err, errlen, "socket activation: fd %d is not an AF_UNIX stream socket "
			    "(ListenStream= must name a path)", fd);
	if (sockopt_int(fd, SO_ACCEPTCONN, &listening) || !listening)
		return fail(err, errlen, "socket activation: fd %d is not listening "
			    "(Accept=no is required)", fd);
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC))
		return fail(err, errlen, "socket activation: fd %d: %s", fd, strerror(errno));
	if (!(s->path = bound_name(fd)))
		return fail(err, errlen, "out of memory");
	s->fd = fd;
	s->activated = 1;
	if (s->path[0] == '/' && !stat(s->path, &st) && S_ISSOCK(st.st_mode)) {
		s->gid = st.st_gid;
		s->gid_known = 1;
	}
	return 0;
}

void mnv2d_sock_remove(mnv2d_sock *s)
{
	struct stat st;
	if (s->path && s->ino && !s->activated && !lstat(s->path, &st) && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	s->ino = 0;
}

void mnv2d_sock_close(mnv2d_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->path);
	s->path = NULL;
}
